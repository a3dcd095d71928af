package platformtest_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/coordtest"
	"github.com/missionbot/missionbot/coordination/fallback"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/coordination/redis"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/internal/testredis"
	"github.com/missionbot/missionbot/logging/logtest"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// simZones are the communities' timezones, in turn: half-hour and
// quarter-hour offsets, southern-hemisphere and half-hour DST included.
var simZones = []string{"Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC",
	"America/St_Johns", "Asia/Kolkata", "Pacific/Chatham", "Europe/Berlin", "America/Los_Angeles"}

// countingProducer counts how often its producer ran.
type countingProducer struct {
	scheduler.Producer
	runs *atomic.Int64
}

func (p countingProducer) Produce(ctx context.Context, now time.Time, out bot.Outbox) error {
	p.runs.Add(1)
	return p.Producer.Produce(ctx, now, out)
}

// TestYearOfDigestsWithRedisStoppedForTwentyWeeks runs three schedulers,
// each on its own store handle to one PostgreSQL schema, with coordination
// over a private redis-server through the fallback coordinator, posting
// with the Slack Poster to a fake Slack API that enforces one message a
// second per channel. They tick together for 52 simulated weeks: every
// hour from Sunday noon to Tuesday 00:00 UTC, when the Monday 09:00 slots of
// all ten zones fall, and every six hours otherwise. The redis-server is killed at week 10 and started again (empty)
// at week 30. Every community (ten timezones) gets exactly 52 digests, one
// per Monday 09:00 local, posted at the first tick after, none twice and
// none lost: while Redis is down every replica runs the producers on every
// tick (each holds only its in-process lease) and the outbox's unique slot
// keys and claims alone keep the posts exactly once.
func TestYearOfDigestsWithRedisStoppedForTwentyWeeks(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a year; skipped with -short")
	}
	const (
		communities = 10
		weeks       = 52
		stopAt      = 10 // weeks
		restartAt   = 30
	)
	srv := testredis.Start(t, false)
	stores := testdb.Replicas(t, 3)
	ctx := context.Background()
	start := time.Date(2026, 1, 4, 12, 0, 0, 0, time.UTC) // a Sunday
	clock := bot.NewManualClock(start)
	fake := fakeslack.New(t)
	fake.SetNow(clock.Now)
	fake.LimitChannels(fakeslack.Rate{Events: 1, Per: time.Second, Burst: 3})

	zones := map[string]string{} // team → zone
	for i := range communities {
		team := fmt.Sprintf("T0C%02d", i)
		zones[team] = simZones[i%len(simZones)]
		community(t, stores[0], bot.CommunityRef{Platform: bot.Slack, ID: team}, []person{{id: "U0OLIVE", name: "olive", admin: true}},
			"C0"+team, zones[team], start)
	}

	prefix := fmt.Sprintf("mbtest-outage-%d:", time.Now().UnixNano())
	logs := &logtest.Records{}
	var (
		replicas []*scheduler.Scheduler
		coords   []*fallback.Coordinator
		runs     atomic.Int64
	)
	for _, s := range stores {
		primary, err := redis.New(redis.Options{URL: srv.URL(0), Prefix: prefix, Timeout: 250 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		coord := fallback.New(fallback.Options{Primary: primary, Fallback: memory.New(memory.Options{Prefix: prefix}),
			Logger: slog.New(slog.NewJSONHandler(logs, nil)), ProbeInterval: 20 * time.Millisecond})
		t.Cleanup(func() { _ = coord.Close() })
		coords = append(coords, coord)
		sc := scheduler.New(s, slackPoster(t, fake, nil, coord, clock),
			[]scheduler.Producer{countingProducer{scheduler.NewDigests(s), &runs}}, clock, quiet())
		sc.Locker, sc.Keys = coord, coord.Keys()
		replicas = append(replicas, sc)
	}

	var (
		phaseTicks [3]int64 // Redis up, down, up again
		phaseRuns  [3]int64
	)
	end := start.Add(weeks * 7 * 24 * time.Hour)
	began := time.Now()
	ticks := 0
	for now := start; now.Before(end); now = now.Add(weeklyStep(now)) {
		ticks++
		phase := 0
		switch now {
		case start.Add(stopAt * 7 * 24 * time.Hour):
			srv.Stop()
		case start.Add(restartAt * 7 * 24 * time.Hour):
			srv.Start()
		}
		switch {
		case !now.Before(start.Add(restartAt * 7 * 24 * time.Hour)):
			phase = 2
		case !now.Before(start.Add(stopAt * 7 * 24 * time.Hour)):
			phase = 1
		}
		clock.Set(now)
		before := runs.Load()
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
		phaseTicks[phase]++
		phaseRuns[phase] += runs.Load() - before
		if phase == 1 {
			for i, c := range coords {
				if !c.Degraded() {
					t.Fatalf("%s: replica %d is not degraded with Redis stopped", now, i)
				}
			}
		}
	}
	elapsed := time.Since(began).Round(time.Millisecond)

	// Each replica went degraded once and recovered once.
	for i, c := range coords {
		coordtest.Eventually(t, 10*time.Second, fmt.Sprintf("replica %d back on Redis", i), func() bool {
			return c.Ping(ctx) == nil && !c.Degraded()
		})
	}
	if d, u := logs.Count(t, "coordination degraded"), logs.Count(t, "coordination recovered"); d != 3 || u != 3 {
		t.Errorf("%d degraded and %d recovered log lines, want 3 and 3 (one each per replica)", d, u)
	}
	// While Redis was down nothing shared the produce lease: every replica
	// ran the producers on every tick.
	if phaseRuns[1] != 3*phaseTicks[1] {
		t.Errorf("producers ran %d times in %d ticks with Redis down, want %d", phaseRuns[1], phaseTicks[1], 3*phaseTicks[1])
	}

	seen := map[string]string{} // metadata key → channel
	for team, zone := range zones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		channel := "C0" + team
		msgs := fake.Messages(channel)
		want := mondays9(loc, start, end)
		if len(want) != weeks {
			t.Fatalf("%s: the calendar has %d Mondays, want %d", team, len(want), weeks)
		}
		if len(msgs) != len(want) {
			t.Errorf("%s (%s): %d digests, want %d", team, zone, len(msgs), len(want))
			continue
		}
		for i, m := range msgs {
			if m.Metadata == nil {
				t.Fatalf("%s: digest %d has no metadata key", team, i)
			}
			key, _ := m.Metadata.EventPayload["key"].(string)
			if prev, dup := seen[key]; dup {
				t.Errorf("%s posted twice (%s and %s)", key, prev, channel)
			}
			seen[key] = channel
			at := tsTime(t, m.TS)
			if slot := want[i]; at.Before(slot) || !at.Before(slot.Add(time.Hour)) {
				t.Errorf("%s (%s): digest %d posted %s, want at the first tick from %s", team, zone, i,
					at.In(loc).Format(time.RFC3339), slot.In(loc).Format(time.RFC3339))
			}
		}
	}
	if v := fake.Violations(); v != 0 {
		t.Errorf("%d posts broke Slack's channel rate", v)
	}
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
	t.Logf("%d communities × %d weeks: %d digests by 3 replicas over %d ticks in %v; producer runs per tick: %.2f with Redis up, %.2f down, %.2f after restart",
		communities, weeks, len(seen), ticks, elapsed,
		float64(phaseRuns[0])/float64(phaseTicks[0]), float64(phaseRuns[1])/float64(phaseTicks[1]), float64(phaseRuns[2])/float64(phaseTicks[2]))
}

// weeklyStep is the step from now to the next tick: an hour from Sunday
// 12:00 to Tuesday 00:00 UTC (Monday 09:00 from UTC+13:45 to UTC-8), six
// hours otherwise.
func weeklyStep(now time.Time) time.Duration {
	switch now.Weekday() {
	case time.Monday:
		return time.Hour
	case time.Sunday:
		if now.Hour() >= 12 {
			return time.Hour
		}
	}
	return 6 * time.Hour
}

// mondays9 returns every Monday 09:00 in loc within [from, to), in UTC.
func mondays9(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	d := from.In(loc)
	for day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc); day.Before(to); day = day.AddDate(0, 0, 1) {
		if day.Weekday() != time.Monday {
			continue
		}
		if at := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, loc); !at.Before(from) && at.Before(to) {
			out = append(out, at.UTC())
		}
	}
	return out
}

// tsTime reads a Slack message timestamp ("seconds.sequence").
func tsTime(t *testing.T, ts string) time.Time {
	t.Helper()
	sec, _, _ := strings.Cut(ts, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		t.Fatalf("timestamp %q: %v", ts, err)
	}
	return time.Unix(n, 0).UTC()
}
