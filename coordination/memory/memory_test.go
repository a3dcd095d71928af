package memory_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/coordtest"
	"github.com/missionbot/missionbot/coordination/memory"
)

func TestCoordContract(t *testing.T) {
	var mu sync.Mutex
	byTest := make(map[*testing.T]*memory.Coordinator)
	coordtest.Run(t, func(t *testing.T) bot.Coordinator {
		// Two calls within one test stand for two replicas on one backend:
		// in process, that is the same coordinator.
		mu.Lock()
		defer mu.Unlock()
		if c, ok := byTest[t]; ok {
			return c
		}
		c := memory.New(memory.Options{Prefix: coordtest.RandomPrefix(t)})
		t.Cleanup(func() { _ = c.Close() })
		byTest[t] = c
		return c
	})
}

func TestCoordSweepBoundsMemory(t *testing.T) {
	clock := bot.NewManualClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	c := memory.New(memory.Options{Now: clock.Now, SweepInterval: time.Second})
	ctx := context.Background()
	k := c.Keys()
	rate := bot.Rate{Events: 1, Per: time.Second, Burst: 5}
	for i := range 1000 {
		id := strconv.Itoa(i)
		if _, err := c.FirstSeen(ctx, k.Dedup(bot.Slack, id), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Acquire(ctx, k.Lease(id), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Allow(ctx, k.Limit("member", id), rate); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, k.Cache("member", id), []byte(id), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Len(); got != 4000 {
		t.Fatalf("Len = %d, want 4000 live entries", got)
	}
	clock.Advance(time.Minute)
	if _, err := c.FirstSeen(ctx, k.Dedup(bot.Slack, "after"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.Len(); got != 1 {
		t.Fatalf("Len after every entry expired and one call = %d, want 1", got)
	}
}

func TestCoordManualClock(t *testing.T) {
	clock := bot.NewManualClock(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	c := memory.New(memory.Options{Now: clock.Now})
	ctx := context.Background()
	key := c.Keys().Limit("channel", "C1")
	rate := bot.Rate{Events: 1, Per: time.Second, Burst: 2}
	for _, want := range []bool{true, true, false} {
		d, err := c.Allow(ctx, key, rate)
		if err != nil || d.Allowed != want {
			t.Fatalf("Allow = %+v, %v; want allowed=%v", d, err, want)
		}
		if !want && d.RetryAfter != time.Second {
			t.Fatalf("RetryAfter = %s, want exactly 1s on a stopped clock", d.RetryAfter)
		}
	}
	clock.Advance(999 * time.Millisecond)
	if d, _ := c.Allow(ctx, key, rate); d.Allowed || d.RetryAfter != time.Millisecond {
		t.Fatalf("1ms early: %+v; want refused with RetryAfter 1ms", d)
	}
	clock.Advance(time.Millisecond)
	if d, _ := c.Allow(ctx, key, rate); !d.Allowed {
		t.Fatalf("on time: %+v; want allowed", d)
	}

	l, ok, err := c.Acquire(ctx, c.Keys().Lease("job"), time.Minute)
	if !ok || err != nil {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	clock.Advance(time.Minute)
	if err := l.Extend(ctx, time.Minute); err == nil {
		t.Fatal("Extend of an expired lease succeeded; want ErrLeaseLost")
	}
}

func TestCoordKeys(t *testing.T) {
	var zero bot.Keys
	for _, tc := range []struct{ got, want string }{
		{zero.Dedup(bot.Slack, "Ev1"), "missionbot:dedup:slack:Ev1"},
		{zero.Lease("digest:7"), "missionbot:lease:digest:7"},
		{zero.Limit("channel", "C1"), "missionbot:limit:channel:C1"},
		{zero.Cache("community", "slack:T1"), "missionbot:cache:community:slack:T1"},
		{bot.NewKeys("").Lease("x"), "missionbot:lease:x"},
		{bot.NewKeys("staging:").Dedup(bot.Discord, "123"), "staging:dedup:discord:123"},
	} {
		if tc.got != tc.want {
			t.Errorf("key %q, want %q", tc.got, tc.want)
		}
	}
}
