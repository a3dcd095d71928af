package scheduler_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/coordination/redis"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// recordingPoster is a platform shared by every replica: it records each
// post with the clock's time, and counts posts per key.
type recordingPoster struct {
	clock bot.Clock
	mu    sync.Mutex
	posts []recorded
	keys  map[string]int
}

type recorded struct {
	community string
	key       string
	at        time.Time
	msg       bot.Message
}

func newRecordingPoster(clock bot.Clock) *recordingPoster {
	return &recordingPoster{clock: clock, keys: map[string]int{}}
}

func (p *recordingPoster) Post(_ context.Context, c bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, recorded{community: c.ID, key: key, at: p.clock.Now(), msg: m})
	p.keys[key]++
	return bot.MessageRef{Channel: m.Channel.ID, ID: key}, nil
}

func (p *recordingPoster) Find(context.Context, bot.CommunityRef, bot.Message, string) (bot.MessageRef, bool, error) {
	return bot.MessageRef{}, false, nil
}

// redisLocker returns a coordinator on the shared Redis under a prefix of
// this test's own.
func redisLocker(t *testing.T, prefix string) *redis.Coordinator {
	t.Helper()
	testdb.RequireRedis(t)
	c, err := redis.New(redis.Options{URL: "redis://" + testdb.RedisAddr + "/0", Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func randomPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "mbtest-" + hex.EncodeToString(b) + ":"
}

// simZones are the communities' timezones, in turn: half-hour and
// quarter-hour offsets, southern-hemisphere and half-hour DST included.
var simZones = []string{"Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC",
	"America/St_Johns", "Asia/Kolkata", "Pacific/Chatham", "Europe/Berlin", "America/Los_Angeles"}

// TestThreeReplicasPostEveryWeeklyDigestOnce runs three schedulers, each on
// its own store handle to one PostgreSQL schema and its own Redis client,
// all ticking together every simulated hour for 52 weeks, over communities
// in varied timezones with the default Monday 09:00 digest: every
// community gets exactly one digest per week, each due at 09:00 local
// (across DST changes) and posted at the first tick after, none twice and
// none lost.
func TestThreeReplicasPostEveryWeeklyDigestOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a year; skipped with -short")
	}
	const (
		communities = 10 // one per zone; 50 took 130 s on this 2-core machine under load
		weeks       = 52
	)
	stores := testdb.Replicas(t, 3)
	ctx := context.Background()
	start := time.Date(2026, 1, 4, 12, 0, 0, 0, time.UTC) // a Sunday
	clock := bot.NewManualClock(start)
	zones := map[string]string{}
	for i := range communities {
		id := fmt.Sprintf("c%02d", i)
		zones[id] = simZones[i%len(simZones)]
		a, err := stores[0].Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: id},
			User: bot.UserRef{Platform: bot.Console, Space: id, ID: "olive"}, UserName: "olive", PlatformAdmin: true, At: start})
		if err != nil {
			t.Fatal(err)
		}
		zone := zones[id]
		if _, err := stores[0].ChangeSettings(ctx, a.Community, mission.Change{Timezone: &zone,
			DigestChannel: &bot.ChannelRef{ID: "C-" + id, Name: "impact"}, Now: start}); err != nil {
			t.Fatal(err)
		}
	}
	poster := newRecordingPoster(clock)
	prefix := randomPrefix()
	var replicas []*scheduler.Scheduler
	for _, s := range stores {
		sc := scheduler.New(s, poster, []scheduler.Producer{scheduler.NewDigests(s)}, clock, dispLog())
		coord := redisLocker(t, prefix)
		sc.Locker, sc.Keys = coord, coord.Keys()
		replicas = append(replicas, sc)
	}

	end := start.Add(weeks * 7 * 24 * time.Hour)
	began := time.Now()
	for now := start; now.Before(end); now = now.Add(time.Hour) {
		clock.Set(now)
		var wg sync.WaitGroup
		for _, sc := range replicas {
			wg.Go(func() {
				if _, err := sc.RunDue(ctx, now); err != nil {
					t.Errorf("tick %s: %v", now, err)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}

	elapsed := time.Since(began).Round(time.Millisecond)
	for key, n := range poster.keys {
		if n != 1 {
			t.Errorf("%s posted %d times", key, n)
		}
	}
	perCommunity := map[string][]recorded{}
	for _, p := range poster.posts {
		perCommunity[p.community] = append(perCommunity[p.community], p)
	}
	if len(perCommunity) != communities {
		t.Fatalf("%d communities got digests, want %d", len(perCommunity), communities)
	}
	for id, posts := range perCommunity {
		loc := mustZone(t, zones[id])
		// Every Monday 09:00 local in [start, end): exactly those, in order.
		want := mondays9(loc, start, end)
		for len(want) > 0 && want[0].Before(start) {
			want = want[1:]
		}
		for len(want) > 0 && !want[len(want)-1].Before(end) {
			want = want[:len(want)-1]
		}
		if len(want) != weeks {
			t.Fatalf("%s: the calendar has %d Mondays, want %d", id, len(want), weeks)
		}
		if len(posts) != len(want) {
			t.Errorf("%s (%s): %d digests, want %d", id, zones[id], len(posts), len(want))
			continue
		}
		for i, p := range posts {
			slot := want[i]
			// Posted at the first hourly tick at or after 09:00 local.
			if p.at.Before(slot) || !p.at.Before(slot.Add(time.Hour)) {
				t.Errorf("%s (%s): digest %d posted %s, want at the first tick from %s", id, zones[id], i,
					p.at.In(loc).Format(time.RFC3339), slot.In(loc).Format(time.RFC3339))
			}
		}
	}
	// Every slot row in the window is sent; older ones (before the
	// communities existed) are skipped with a reason; nothing else.
	var rows []storage.OutboxPost
	if err := stores[0].DB().Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch {
		case r.Status == storage.OutboxSent && !r.DueAt.Before(start):
		case r.Status == storage.OutboxSkipped && r.DueAt.Before(start) && r.LastError != "":
		default:
			t.Errorf("row %s %s due %s: %s %q", r.Kind, r.SlotKey, r.DueAt, r.Status, r.LastError)
		}
	}
	t.Logf("%d communities × %d weeks: %d digests posted by 3 replicas over %d hourly ticks in %v",
		communities, weeks, len(poster.posts), weeks*7*24, elapsed)
}
