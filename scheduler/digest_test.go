package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

var impactChannel = bot.ChannelRef{ID: "C-impact", Name: "impact"}

// community makes community name, created at, with ch applied.
func community(t *testing.T, s *storage.Store, name string, at time.Time, ch mission.Change) (bot.CommunityID, bot.MemberID) {
	t.Helper()
	ctx := context.Background()
	a, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: name},
		User: bot.UserRef{Platform: bot.Console, Space: name, ID: "you"}, UserName: "you", At: at})
	if err != nil {
		t.Fatal(err)
	}
	ch.Now = at
	if _, err := s.ChangeSettings(ctx, a.Community, ch); err != nil {
		t.Fatal(err)
	}
	return a.Community, a.Member.ID
}

func ptr[T any](v T) *T { return &v }

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// run calls every producer at each step from from to to (inclusive).
func run(t *testing.T, out bot.Outbox, from, to time.Time, step time.Duration, ps ...scheduler.Producer) {
	t.Helper()
	for now := from; !now.After(to); now = now.Add(step) {
		for _, p := range ps {
			if err := p.Produce(context.Background(), now, out); err != nil {
				t.Fatalf("produce at %s: %v", now, err)
			}
		}
	}
}

// mondays9 returns every Monday 09:00 in loc within [from, to].
func mondays9(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for d := from.In(loc).AddDate(0, 0, -1); !d.After(to.In(loc).AddDate(0, 0, 1)); d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Monday {
			continue
		}
		m := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, loc)
		if !m.Before(from) && !m.After(to) {
			out = append(out, m.UTC())
		}
	}
	return out
}

// checkDigests asserts that c's digests due at or after from are exactly one
// per Monday 09:00 local up to to, each posted normally, and that any due
// before from (the slot before the first run) was recorded as skipped.
func checkDigests(t *testing.T, out *recordingOutbox, c bot.CommunityID, loc *time.Location, from, to time.Time) {
	t.Helper()
	want := mondays9(loc, from, to)
	var got []bot.Post
	for _, p := range out.of(c, bot.PostDigest) {
		if p.DueAt.Before(from) {
			if !p.NotAfter.Before(from) {
				t.Errorf("%s: slot %s before the first run is not recorded as skipped", loc, p.SlotKey)
			}
			continue
		}
		got = append(got, p)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d digests, want %d (one per Monday)", loc, len(got), len(want))
	}
	for i, p := range got {
		local := p.DueAt.In(loc)
		switch {
		case !p.DueAt.Equal(want[i]):
			t.Errorf("%s: digest %d due %s (%s local), want %s", loc, i, p.DueAt, local, want[i].In(loc))
		case p.SlotKey != local.Format(scheduler.SlotKeyLayout):
			t.Errorf("%s: slot key %q for %s", loc, p.SlotKey, local)
		case !p.NotAfter.Equal(p.DueAt.Add(12 * time.Hour)):
			t.Errorf("%s: not after %s, want 12h after %s", loc, p.NotAfter, p.DueAt)
		case p.Message.Channel != impactChannel || p.Message.Visibility != bot.Public || p.Message.Kind != bot.PostDigest:
			t.Errorf("%s: message %+v, want a public digest in #impact", loc, p.Message)
		case !strings.HasPrefix(p.Message.Title, "Impact digest: "):
			t.Errorf("%s: title %q, want the built digest", loc, p.Message.Title)
		}
	}
}

// TestDigestDST runs the producer every 15 minutes over 60 days across the
// autumn 2026 and the spring 2027 transitions in London and New York.
func TestDigestDST(t *testing.T) {
	t.Parallel()
	windows := []time.Time{
		time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), // BST ends 25 Oct, EDT ends 1 Nov
		time.Date(2027, 2, 20, 0, 0, 0, 0, time.UTC), // EDT starts 14 Mar, BST starts 28 Mar
	}
	for _, from := range windows {
		t.Run(from.Format("2006-01"), func(t *testing.T) {
			t.Parallel()
			testdb.Each(t, func(t *testing.T, s *storage.Store) {
				to := from.AddDate(0, 0, 60)
				zones := []string{"Europe/London", "America/New_York"}
				ids := make([]bot.CommunityID, len(zones))
				for i, z := range zones {
					ids[i], _ = community(t, s, z, from.AddDate(0, -1, 0), mission.Change{Timezone: ptr(z), DigestChannel: &impactChannel})
				}
				out := newRecordingOutbox()
				run(t, out, from, to, 15*time.Minute, scheduler.NewDigests(s))
				for i, z := range zones {
					checkDigests(t, out, ids[i], mustZone(t, z), from, to)
				}
			})
		})
	}
}

// TestDigestYear runs three producers (replicas) every 3 hours over 52 weeks on one
// outbox: exactly 52 digests per community, a week apart in local time.
func TestDigestYear(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) // a Monday, before 09:00 anywhere here
		to := from.AddDate(0, 0, 52*7).Add(-3 * time.Hour)
		ldn, _ := community(t, s, "london", from, mission.Change{Timezone: ptr("Europe/London"), DigestChannel: &impactChannel})
		nyc, _ := community(t, s, "nyc", from, mission.Change{Timezone: ptr("America/New_York"), DigestChannel: &impactChannel})
		out := newRecordingOutbox()
		run(t, out, from, to, 3*time.Hour, scheduler.NewDigests(s), scheduler.NewDigests(s), scheduler.NewDigests(s))
		for c, z := range map[bot.CommunityID]string{ldn: "Europe/London", nyc: "America/New_York"} {
			n := 0
			for _, p := range out.of(c, bot.PostDigest) {
				if !p.DueAt.Before(from) {
					n++
				}
			}
			if n != 52 {
				t.Fatalf("%s: %d digests, want 52", z, n)
			}
			checkDigests(t, out, c, mustZone(t, z), from, to)
		}
	})
}

func TestDigestIdempotent(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC) // Monday, 09:30 London
		c, _ := community(t, s, "c", now.AddDate(0, 0, -1), mission.Change{Timezone: ptr("Europe/London"), DigestChannel: &impactChannel})
		out := newRecordingOutbox()
		p := scheduler.NewDigests(s)
		if err := p.Produce(ctx, now, out); err != nil {
			t.Fatal(err)
		}
		posts, calls := out.stats()
		if posts != 1 || len(out.of(c, bot.PostDigest)) != 1 {
			t.Fatalf("%d posts, want 1 digest", posts)
		}
		if err := p.Produce(ctx, now, out); err != nil {
			t.Fatal(err)
		}
		if p2, c2 := out.stats(); p2 != posts || c2 != calls {
			t.Fatalf("second run: %d posts, %d enqueues; want %d, %d (nothing rebuilt)", p2, c2, posts, calls)
		}
		// Another replica (no memory) enqueues the same slot: the outbox keeps one.
		if err := scheduler.NewDigests(s).Produce(ctx, now, out); err != nil {
			t.Fatal(err)
		}
		if p3, _ := out.stats(); p3 != posts {
			t.Fatalf("another replica: %d posts, want %d", p3, posts)
		}
	})
}

func TestDigestOffOrNoChannel(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		community(t, s, "nochannel", from, mission.Change{})
		community(t, s, "off", from, mission.Change{DigestChannel: &impactChannel, DigestOn: ptr(false)})
		out := newRecordingOutbox()
		run(t, out, from, from.AddDate(0, 0, 21), time.Hour, scheduler.NewDigests(s))
		if n, calls := out.stats(); n != 0 || calls != 0 {
			t.Fatalf("%d posts (%d enqueues), want none", n, calls)
		}
	})
}

// TestDigestDowntime: the service is down from Sunday to Wednesday, so
// Monday's digest is recorded expired (skipped, with the reason) and the
// next Monday's is normal.
func TestDigestDowntime(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		loc := mustZone(t, "Europe/London")
		from := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC) // Tuesday
		c, _ := community(t, s, "c", from, mission.Change{Timezone: ptr("Europe/London"), DigestChannel: &impactChannel})
		out := newRecordingOutbox()
		p := scheduler.NewDigests(s)
		sunday := time.Date(2026, 11, 8, 12, 0, 0, 0, time.UTC)
		wednesday := sunday.Add(3 * 24 * time.Hour)
		run(t, out, from, sunday, 15*time.Minute, p)
		before := len(out.of(c, bot.PostDigest))
		run(t, out, wednesday, time.Date(2026, 11, 16, 12, 0, 0, 0, time.UTC), 15*time.Minute, p)
		posts := out.of(c, bot.PostDigest)[before:]
		if len(posts) != 2 {
			t.Fatalf("%d digests after the downtime, want 2: %+v", len(posts), posts)
		}
		missed, next := posts[0], posts[1]
		if want := time.Date(2026, 11, 9, 9, 0, 0, 0, loc); !missed.DueAt.Equal(want) || !missed.NotAfter.Before(wednesday) {
			t.Fatalf("missed slot due %s not after %s, want due %s and already expired at %s", missed.DueAt, missed.NotAfter, want, wednesday)
		}
		if !strings.Contains(missed.Message.Text, "skipped: service was down past the 12-hour window") {
			t.Fatalf("missed slot message %q does not say why", missed.Message.Text)
		}
		if want := time.Date(2026, 11, 16, 9, 0, 0, 0, loc); !next.DueAt.Equal(want) || !next.NotAfter.Equal(want.Add(12*time.Hour)) ||
			!strings.HasPrefix(next.Message.Title, "Impact digest: ") {
			t.Fatalf("next digest %+v, want a normal one due %s", next, want)
		}
	})
}
