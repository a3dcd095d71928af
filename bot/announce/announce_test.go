package announce_test

import (
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/announce"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"
)

var areas = []missiontest.Register{
	func(e *bot.Engine, s *storage.Store) { announce.Register(e, s) },
	func(e *bot.Engine, s *storage.Store) { mission.Register(e, s) },
}

func TestAnnounceAddListCancel(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/announce list").MustPrivate(t, "No announcements are scheduled")

		h.Run("olive", "/announce tomorrow 18:00 Cleanup starts at the gate in #events").
			MustPrivate(t, "Announcement #1 scheduled", "Cleanup starts at the gate", "Channel: #events", "Next: Wed 2 Dec 2026 18:00 (UTC)").
			MustNoPublic(t)

		h.Run("olive", "/settings timezone Europe/Berlin").MustPrivate(t, "Europe/Berlin")
		h.Run("olive", "/announce every mon 09:00 Weekly check-in 🌱").
			MustPrivate(t, "Announcement #2 scheduled", "Weekly check-in 🌱", "Channel: #general",
				"Repeats: every mon 09:00 (Europe/Berlin)", "Next: Mon 7 Dec 2026 09:00 (Europe/Berlin)")

		var next time.Time
		if err := h.Store.DB().Raw("SELECT next_at FROM announcements WHERE no = 2").Scan(&next).Error; err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC); !next.Equal(want) {
			t.Fatalf("next_at = %v, want %v (stored in UTC)", next, want)
		}

		long := strings.Repeat("word ", 40)
		h.Run("olive", "/announce in 2h "+long).MustPrivate(t, "Announcement #3 scheduled")

		out := h.Run("olive", "/announce list").MustPrivate(t,
			"#3 next Tue 1 Dec 2026 12:00 in #general: word word",
			"#1 next Wed 2 Dec 2026 19:00 in #events: Cleanup starts at the gate",
			"#2 next Mon 7 Dec 2026 09:00, every mon 09:00 in #general: Weekly check-in 🌱", "…")
		if i3, i1, i2 := strings.Index(out.Private, "#3 next"), strings.Index(out.Private, "#1 next"), strings.Index(out.Private, "#2 next"); !(i3 < i1 && i1 < i2) {
			t.Fatalf("list not in order of next run:\n%s", out.Private)
		}

		h.Run("olive", "/announce cancel #1").MustPrivate(t, "Cancelled announcement #1", "Cleanup starts at the gate")
		h.Unchanged("olive", "/announce cancel #1", "#1 was already cancelled")
		h.Unchanged("olive", "/announce cancel 99", "There is no announcement #99")
		out = h.Run("olive", "/announce list")
		mustLack(t, out.Private, "#1 next")
		out.MustPrivate(t, "#2 next", "#3 next")
	})
}

func TestAnnounceRefusals(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/announce tomorrow 18:00 Hello").MustPrivate(t, "#1 scheduled")

		h.Unchanged("alice", "/announce tomorrow 18:00 Hello", "Only organisers")
		h.Unchanged("alice", "/announce list", "Only organisers")
		h.Unchanged("alice", "/announce cancel #1", "Only organisers")

		h.Unchanged("olive", "/announce 2026-11-30 10:00 Too late", "in the past")
		h.Unchanged("olive", "/announce today 08:00 Too late", "in the past")
		h.Unchanged("olive", "/announce 2026-02-30 10:00 Never", "not a real date")
		h.Unchanged("olive", "/announce tomorrow 25:00 Never", "not a real time")
		h.Unchanged("olive", "/announce tomorrow 18:00", "Missing")
		h.Unchanged("olive", "/announce", "Missing")
		h.Unchanged("olive", "/announce Hello there", "")
		h.Unchanged("olive", "/announce cancel abc", "")
		h.Unchanged("olive", "/announce cancel #0", "")

		// Tenancy: another community's #1 answers exactly like a missing id.
		other := h.In("other")
		other.Organiser("otto")
		missing := other.Run("otto", "/announce cancel #2").MustError(t, "There is no announcement #2")
		foreign := other.Run("otto", "/announce cancel #1").MustError(t, "There is no announcement #1")
		if strings.ReplaceAll(foreign.Private, "#1", "#2") != missing.Private {
			t.Fatalf("another community's id answers differently:\n%s\nvs\n%s", foreign.Private, missing.Private)
		}
		other.Run("otto", "/announce list").MustPrivate(t, "No announcements are scheduled")
		h.Run("olive", "/announce list").MustPrivate(t, "#1 next")
	})
}

func mustLack(t *testing.T, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Fatalf("unexpectedly has %q; got:\n%s", w, got)
		}
	}
}

// A recurring announcement keeps its local wall-clock time when the
// community's timezone changes: "every mon 09:00" means 09:00 in the new
// zone, both in /announce list and in the stored next run.
func TestAnnounceFollowsTimezoneChange(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/announce every mon 09:00 Weekly check-in").MustPrivate(t, "Next: Mon 7 Dec 2026 09:00 (UTC)")
		h.Run("olive", "/announce 2026-12-03 18:00 One-off").MustPrivate(t, "Next: Thu 3 Dec 2026 18:00 (UTC)")
		h.Run("olive", "/settings timezone America/New_York").MustPrivate(t, "America/New_York")
		h.Run("olive", "/announce list").MustPrivate(t,
			"#2 next Thu 3 Dec 2026 13:00 in #general: One-off",
			"#1 next Mon 7 Dec 2026 09:00, every mon 09:00 in #general: Weekly check-in")
		next := func(no int) time.Time {
			var at time.Time
			if err := h.Store.DB().Raw("SELECT next_at FROM announcements WHERE no = ?", no).Scan(&at).Error; err != nil {
				t.Fatal(err)
			}
			return at.UTC()
		}
		if got, want := next(1), time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Fatalf("recurring next_at = %v, want %v", got, want)
		}
		if got, want := next(2), time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Fatalf("one-off next_at = %v, want %v (an instant stays put)", got, want)
		}
		// Eastward, the next Monday 09:00 there may come before the old
		// next run: it is not skipped.
		h.Run("olive", "/settings timezone Pacific/Auckland").MustPrivate(t, "Pacific/Auckland")
		if got, want := next(1), time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Fatalf("recurring next_at after Auckland = %v, want %v", got, want)
		}
		// A cancelled one stays cancelled, without a next run.
		h.Run("olive", "/announce cancel #1").MustPrivate(t, "Cancelled")
		h.Run("olive", "/settings timezone Europe/London").MustPrivate(t, "Europe/London")
		var n int64
		h.Store.DB().Table("announcements").Where("no = 1 AND next_at IS NULL AND status = ?", announce.StatusCancelled).Count(&n)
		if n != 1 {
			t.Fatalf("cancelled announcement was re-timed")
		}
		// Another community's announcements are untouched.
		other := h.In("other")
		other.Organiser("otto")
		other.Run("otto", "/announce every mon 09:00 Theirs").MustPrivate(t, "Next: Mon 7 Dec 2026 09:00 (UTC)")
		h.Run("olive", "/settings timezone America/New_York")
		other.Run("otto", "/announce list").MustPrivate(t, "#1 next Mon 7 Dec 2026 09:00, every mon 09:00")
	})
}
