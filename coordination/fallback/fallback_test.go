package fallback_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/coordtest"
	"github.com/missionbot/missionbot/coordination/fallback"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/coordination/redis"
	"github.com/missionbot/missionbot/internal/testredis"
	"github.com/missionbot/missionbot/logging/logtest"
)

// needOrSkip fails the test in CI and skips it elsewhere.
func needOrSkip(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("required in CI: "+format, args...)
	}
	tb.Skipf("skipping: "+format, args...)
}

func TestCoordFallbackWhenRedisStops(t *testing.T) {
	srv := testredis.Start(t, false)
	prefix := coordtest.RandomPrefix(t)
	primary, err := redis.New(redis.Options{URL: srv.URL(0), Prefix: prefix, Timeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Records{}
	c := fallback.New(fallback.Options{
		Primary:       primary,
		Fallback:      memory.New(memory.Options{Prefix: prefix}),
		Logger:        slog.New(slog.NewJSONHandler(logs, nil)),
		ProbeInterval: 20 * time.Millisecond,
	})
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	keys := c.Keys()
	rate := bot.Rate{Events: 1000, Per: time.Second, Burst: 1000}

	// exercise makes the calls a delivery makes, and fails on any error.
	exercise := func(id string) {
		t.Helper()
		first, err := c.FirstSeen(ctx, keys.Dedup(bot.Slack, id), time.Minute)
		if err != nil || !first {
			t.Fatalf("FirstSeen(%s) = %v, %v; want true, nil", id, first, err)
		}
		if d, err := c.Allow(ctx, keys.Limit("member", id), rate); err != nil || !d.Allowed {
			t.Fatalf("Allow = %+v, %v; want allowed", d, err)
		}
		l, ok, err := c.Acquire(ctx, keys.Lease(id), time.Minute)
		if err != nil || !ok {
			t.Fatalf("Acquire = %v, %v; want true, nil", ok, err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatalf("Release: %v", err)
		}
	}

	exercise("before")
	if c.Degraded() {
		t.Fatal("degraded with Redis up")
	}
	if first, err := primary.FirstSeen(ctx, keys.Dedup(bot.Slack, "before"), time.Minute); first || err != nil {
		t.Fatalf("marker not in Redis: %v, %v", first, err)
	}

	srv.Stop()
	for i := range 300 {
		exercise("down-" + strconv.Itoa(i))
	}
	if !c.Degraded() {
		t.Fatal("Degraded() = false with Redis stopped")
	}
	if first, err := c.FirstSeen(ctx, keys.Dedup(bot.Slack, "down-7"), time.Minute); first || err != nil {
		t.Fatalf("retry while degraded: FirstSeen = %v, %v; want false (deduplicated in process)", first, err)
	}
	if err := c.Ping(ctx); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("Ping with Redis stopped = %v; want ErrUnavailable", err)
	}
	if v, ok, err := c.Get(ctx, keys.Cache("member", "x")); ok || v != nil || err != nil {
		t.Fatalf("cache Get while degraded = %q, %v, %v; want a plain miss", v, ok, err)
	}
	if n := logs.Count(t, "coordination degraded"); n != 1 {
		t.Fatalf("%d degraded log lines for 900 calls, want exactly 1:\n%s", n, logs.String())
	}

	srv.Start()
	i := 0
	coordtest.Eventually(t, 10*time.Second, "recovery after Redis restarts", func() bool {
		i++
		exercise("back-" + strconv.Itoa(i))
		return !c.Degraded()
	})
	exercise("after")
	if first, err := primary.FirstSeen(ctx, keys.Dedup(bot.Slack, "after"), time.Minute); first || err != nil {
		t.Fatalf("after recovery the marker is not in Redis: %v, %v", first, err)
	}
	if d, u := logs.Count(t, "coordination degraded"), logs.Count(t, "coordination recovered"); d != 1 || u != 1 {
		t.Fatalf("log lines: %d degraded, %d recovered; want 1 and 1:\n%s", d, u, logs.String())
	}
}

func TestCoordContractOverRedis(t *testing.T) {
	coordtest.Run(t, coordtest.PerTest(func(t *testing.T, prefix string) bot.Coordinator {
		primary, err := redis.New(redis.Options{URL: "redis://127.0.0.1:6379/0", Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		if err := primary.Ping(context.Background()); err != nil {
			primary.Close()
			needOrSkip(t, "no Redis at 127.0.0.1:6379: %v", err)
		}
		c := fallback.New(fallback.Options{Primary: primary, Fallback: memory.New(memory.Options{Prefix: prefix})})
		t.Cleanup(func() { _ = c.Close() })
		if c.Degraded() {
			t.Fatal("degraded at start")
		}
		return c
	}))
}
