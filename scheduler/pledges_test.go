package scheduler_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/bot/pledge"
	"github.com/missionbot/missionbot/bot/recognition"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

var peopleAreas = []missiontest.Register{
	func(e *bot.Engine, s *storage.Store) { mission.Register(e, s) },
	func(e *bot.Engine, s *storage.Store) { goal.Register(e, s) },
	func(e *bot.Engine, s *storage.Store) { pledge.Register(e, s) },
	func(e *bot.Engine, s *storage.Store) { recognition.Register(e, s) },
}

// communityOf returns the id of h's community and of member name in it.
func communityOf(t *testing.T, h *missiontest.H, name string) (bot.CommunityID, bot.MemberID) {
	t.Helper()
	a, err := h.Store.Enter(context.Background(), bot.Visit{Community: h.Community, CommunityName: h.Community.ID, User: h.User(name), UserName: name, At: h.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return a.Community, a.Member.ID
}

// TestPledgeReminders: the harness starts Tue 1 Dec 2026 09:00 UTC; the
// goals are due by Sun 20 Dec, so at Mon 21 Dec 00:00 UTC, and reminders
// fall due at Mon 14 Dec 00:00 UTC.
func TestPledgeReminders(t *testing.T) {
	t.Parallel()
	missiontest.Each(t, peopleAreas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/goal create "Plant trees" 100 trees by 2026-12-20`).MustPrivate(t, "Goal created")
		h.Run("olive", `/goal create "Clean river" 50 kg by 2026-12-20`).MustPrivate(t, "Goal created")
		h.Run("olive", `/goal create "Someday" 10 trees`).MustPrivate(t, "Goal created")
		h.Run("alice", "/pledge 10 trees to plant-trees").MustPrivate(t, "pledge #1")
		h.Run("alice", "/pledge done #1 4").MustPrivate(t, "6 trees still open")
		h.Run("bob", "/pledge 5 trees to plant-trees").MustPrivate(t, "pledge #2")
		h.Run("bob", "/pledge done #2").MustPrivate(t, "Thank you")
		h.Run("carol", "/pledge 5 trees to plant-trees").MustPrivate(t, "pledge #3")
		h.Run("carol", "/pledge cancel #3")
		h.Run("dave", "/pledge 10 kg to clean-river").MustPrivate(t, "pledge #4")
		h.Run("olive", "/goal close clean-river").MustPrivate(t, "Closed")
		h.Run("erin", "/pledge 3 trees to someday").MustPrivate(t, "pledge #5")
		c, _ := communityOf(t, h, "olive")

		out := newRecordingOutbox()
		p, replica := scheduler.NewPledgeReminders(h.Store), scheduler.NewPledgeReminders(h.Store)
		due := time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC)
		run(t, out, h.Clock.Now(), due.Add(-time.Minute), time.Hour, p, replica)
		if got := out.of(c, bot.PostReminder); len(got) != 0 {
			t.Fatalf("%d reminders before a week ahead of the due date, want none: %+v", len(got), got)
		}
		// Frank pledges inside the last week: reminded a day later.
		h.Clock.Set(time.Date(2026, 12, 17, 10, 0, 0, 0, time.UTC))
		h.Run("frank", "/pledge 2 trees to plant-trees").MustPrivate(t, "pledge #6")
		// Gina pledges in the last day: not reminded.
		h.Clock.Set(time.Date(2026, 12, 20, 12, 0, 0, 0, time.UTC))
		h.Run("gina", "/pledge 2 trees to plant-trees").MustPrivate(t, "pledge #7")
		run(t, out, due, time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), 30*time.Minute, p, replica)

		got := out.of(c, bot.PostReminder)
		if len(got) != 2 {
			t.Fatalf("%d reminders, want alice's and frank's: %+v", len(got), got)
		}
		goalDue := time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)
		for i, w := range []struct {
			key, to string
			due     time.Time
			text    []string
		}{
			{"pledge:1", "alice", due, []string{"6 trees of your pledge #1 to Plant trees (plant-trees) is still open", "due Sun 20 Dec 2026", "/pledge done #1", "/pledge cancel #1"}},
			{"pledge:6", "frank", time.Date(2026, 12, 18, 10, 0, 0, 0, time.UTC), []string{"2 trees of your pledge #6", "/pledge done #6"}},
		} {
			r := got[i]
			if r.SlotKey != w.key || !r.DueAt.Equal(w.due) || !r.NotAfter.Equal(goalDue) {
				t.Errorf("reminder %d: key %q due %s not after %s; want %q due %s not after %s", i, r.SlotKey, r.DueAt, r.NotAfter, w.key, w.due, goalDue)
			}
			m := r.Message
			if m.Visibility != bot.Direct || m.Kind != bot.PostReminder || m.To.Name != w.to || m.To.Ref != h.User(w.to) {
				t.Errorf("reminder %d: %+v, want a direct reminder to %s", i, m, w.to)
			}
			for _, s := range w.text {
				if !strings.Contains(m.Text, s) {
					t.Errorf("reminder %d: text %q lacks %q", i, m.Text, s)
				}
			}
		}
	})
}
