package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/announce"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

var general = bot.ChannelRef{ID: "C-general", Name: "general"}

// addAnnouncement schedules text in #general: at a one-off time, or by rule
// (first due after created, read in loc).
func addAnnouncement(t *testing.T, s *storage.Store, c bot.CommunityID, m bot.MemberID, created, at time.Time, rule string, loc *time.Location, text string) announce.Announcement {
	t.Helper()
	a := announce.Announcement{At: at, NextAt: at, Message: text, Channel: general, Status: announce.StatusActive, CreatedBy: m, CreatedAt: created}
	if rule != "" {
		r, err := bot.ParseRecurrence(rule)
		if err != nil {
			t.Fatal(err)
		}
		a.At, a.Rule, a.NextAt = time.Time{}, rule, r.Next(created, loc)
	}
	got, err := s.AddAnnouncement(context.Background(), c, a)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func status(t *testing.T, s *storage.Store, c bot.CommunityID) int64 {
	t.Helper()
	_, n, err := s.ActiveAnnouncements(context.Background(), c, 10)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAnnouncementOneOff(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		c, m := community(t, s, "c", created, mission.Change{})
		at := created.Add(26 * time.Hour)
		a := addAnnouncement(t, s, c, m, created, at, "", nil, "Cleanup starts at the gate")
		cancelled := addAnnouncement(t, s, c, m, created, at, "", nil, "never")
		if _, err := s.CancelAnnouncement(ctx, c, cancelled.No); err != nil {
			t.Fatal(err)
		}
		out := newRecordingOutbox()
		p := scheduler.NewAnnouncements(s, 0)
		run(t, out, created, at.Add(-time.Minute), 15*time.Minute, p)
		if n, _ := out.stats(); n != 0 {
			t.Fatalf("%d posts before the time, want none", n)
		}
		run(t, out, at.Add(5*time.Minute), at.Add(72*time.Hour), 15*time.Minute, p)
		posts := out.of(c, bot.PostAnnouncement)
		if len(posts) != 1 {
			t.Fatalf("%d posts, want 1", len(posts))
		}
		want := bot.Post{Community: c, Kind: bot.PostAnnouncement, SlotKey: scheduler.AnnouncementSlotKey(a.No, at), DueAt: at, NotAfter: at.Add(24 * time.Hour),
			Message: bot.Message{Visibility: bot.Public, Kind: bot.PostAnnouncement, Channel: general, Text: "Cleanup starts at the gate"}}
		if got := posts[0]; got.SlotKey != want.SlotKey || !got.DueAt.Equal(want.DueAt) || !got.NotAfter.Equal(want.NotAfter) ||
			got.Message.Text != want.Message.Text || got.Message.Channel != general || got.Message.Visibility != bot.Public || got.Message.Kind != bot.PostAnnouncement {
			t.Fatalf("post %+v, want %+v", got, want)
		}
		if want := "1:2026-12-02T11:00:00Z"; posts[0].SlotKey != want {
			t.Fatalf("slot key %q, want %q", posts[0].SlotKey, want)
		}
		if n := status(t, s, c); n != 0 {
			t.Fatalf("%d active announcements after posting, want 0 (done)", n)
		}
		if _, calls := out.stats(); calls != 1 {
			t.Fatalf("%d enqueues, want 1", calls)
		}
	})
}

// TestAnnouncementRecurringDST: "every mon 09:00" is due at 09:00 local each
// week across the spring 2026 transitions in London and New York.
func TestAnnouncementRecurringDST(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		from := time.Date(2026, 2, 25, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 0, 60)
		p := scheduler.NewAnnouncements(s, 0)
		out := newRecordingOutbox()
		type zc struct {
			loc *time.Location
			c   bot.CommunityID
		}
		var zs []zc
		for _, z := range []string{"Europe/London", "America/New_York"} {
			loc := mustZone(t, z)
			c, m := community(t, s, z, from, mission.Change{Timezone: ptr(z)})
			addAnnouncement(t, s, c, m, from, time.Time{}, "every mon 09:00", loc, "Weekly check-in")
			zs = append(zs, zc{loc, c})
		}
		run(t, out, from, to, 15*time.Minute, p)
		for _, z := range zs {
			want := mondays9(z.loc, from, to)
			got := out.of(z.c, bot.PostAnnouncement)
			if len(got) != len(want) {
				t.Fatalf("%s: %d posts, want %d", z.loc, len(got), len(want))
			}
			for i, p := range got {
				if !p.DueAt.Equal(want[i]) || !p.NotAfter.Equal(want[i].Add(24*time.Hour)) {
					t.Errorf("%s: post %d due %s (%s local), want %s", z.loc, i, p.DueAt, p.DueAt.In(z.loc), want[i].In(z.loc))
				}
			}
			if n := status(t, s, z.c); n != 1 {
				t.Fatalf("%s: %d active, want the recurring one still active", z.loc, n)
			}
		}
	})
}

// TestAnnouncementTimezoneChange: after the community moves from UTC to New
// York, its weekly announcement is due at 09:00 New York time.
func TestAnnouncementTimezoneChange(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) // a Monday
		c, m := community(t, s, "c", from, mission.Change{})
		addAnnouncement(t, s, c, m, from, time.Time{}, "every mon 09:00", time.UTC, "Weekly check-in")
		out := newRecordingOutbox()
		p := scheduler.NewAnnouncements(s, 0)
		change := time.Date(2026, 6, 3, 12, 0, 0, 0, time.UTC)
		run(t, out, from, change, 15*time.Minute, p)
		if _, err := s.ChangeSettings(ctx, c, mission.Change{Timezone: ptr("America/New_York"), Now: change}); err != nil {
			t.Fatal(err)
		}
		run(t, out, change, change.AddDate(0, 0, 21), 15*time.Minute, p)
		nyc := mustZone(t, "America/New_York")
		want := []time.Time{time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
		want = append(want, mondays9(nyc, change, change.AddDate(0, 0, 21))...)
		got := out.of(c, bot.PostAnnouncement)
		if len(got) != len(want) {
			t.Fatalf("%d posts, want %d", len(got), len(want))
		}
		for i := range got {
			if !got[i].DueAt.Equal(want[i]) {
				t.Errorf("post %d due %s, want %s", i, got[i].DueAt, want[i])
			}
		}
	})
}

// TestAnnouncementDowntime: a daily announcement missed for three days while
// the service was down: every occurrence is enqueued, those past the grace
// already expired (the dispatcher records them skipped), the latest live.
func TestAnnouncementDowntime(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		c, m := community(t, s, "c", from, mission.Change{})
		addAnnouncement(t, s, c, m, from, time.Time{}, "every day 09:00", time.UTC, "Daily")
		out := newRecordingOutbox()
		p := scheduler.NewAnnouncements(s, 2*time.Hour)
		run(t, out, from, from.Add(10*time.Hour), 15*time.Minute, p) // 1 June 09:00 posted
		back := time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)
		if err := p.Produce(ctx, back, out); err != nil {
			t.Fatal(err)
		}
		got := out.of(c, bot.PostAnnouncement)
		if len(got) != 4 {
			t.Fatalf("%d posts, want 4 (1 June, then 2, 3, 4 June caught up)", len(got))
		}
		for i, p := range got[1:] {
			due := time.Date(2026, 6, 2+i, 9, 0, 0, 0, time.UTC)
			expired := i < 2
			if !p.DueAt.Equal(due) || !p.NotAfter.Equal(due.Add(2*time.Hour)) || p.NotAfter.Before(back) != expired {
				t.Errorf("caught-up post %d: due %s not after %s; want due %s, expired %v", i, p.DueAt, p.NotAfter, due, expired)
			}
		}
		// Advanced past now: nothing more until 5 June 09:00.
		if err := p.Produce(ctx, back, out); err != nil {
			t.Fatal(err)
		}
		if n := len(out.of(c, bot.PostAnnouncement)); n != 4 {
			t.Fatalf("%d posts after a repeat, want 4", n)
		}
	})
}

// TestAnnouncementCrashBeforeAdvance: an occurrence enqueued but not
// advanced (a crash in between) is enqueued again harmlessly, then advanced.
func TestAnnouncementCrashBeforeAdvance(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		c, m := community(t, s, "c", from, mission.Change{})
		a := addAnnouncement(t, s, c, m, from, from.Add(time.Hour), "", nil, "Once")
		out := newRecordingOutbox()
		// What the producer did before crashing: the enqueue only.
		if _, err := out.Enqueue(ctx, bot.Post{Community: c, Kind: bot.PostAnnouncement, SlotKey: scheduler.AnnouncementSlotKey(a.No, a.NextAt), DueAt: a.NextAt}); err != nil {
			t.Fatal(err)
		}
		if err := scheduler.NewAnnouncements(s, 0).Produce(ctx, from.Add(2*time.Hour), out); err != nil {
			t.Fatal(err)
		}
		if n := len(out.of(c, bot.PostAnnouncement)); n != 1 {
			t.Fatalf("%d posts, want 1", n)
		}
		if n := status(t, s, c); n != 0 {
			t.Fatalf("%d active, want 0 (done)", n)
		}
	})
}
