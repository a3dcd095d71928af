package volunteer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/bot/volunteer"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

var areas = []missiontest.Register{
	func(e *bot.Engine, s *storage.Store) { volunteer.Register(e, s) },
	func(e *bot.Engine, s *storage.Store) { goal.Register(e, s) },
}

const cleanup = `/volunteer create "Park cleanup" 2026-12-05 10:00 for 2h slots 2 at "Riverside Park"`

// setup makes olive an organiser and creates #1 Park cleanup (2 slots).
func setup(t *testing.T, h *missiontest.H) {
	t.Helper()
	h.Organiser("olive")
	h.Run("olive", cleanup).MustPrivate(t, "Created #1 Park cleanup (Sat 5 Dec 2026 10:00) (park-cleanup)")
}

func TestCreatePostsWithJoinButtonAndLists(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		out := h.Run("olive", cleanup)
		out.MustPrivate(t, "Created #1 Park cleanup").
			MustPublic(t, "Volunteers wanted: Park cleanup", "When: Sat 5 Dec 2026 10:00", "For: 2h", "Where: Riverside Park", "Places: 0 of 2 taken", "[ Join ]")
		var join bot.Button
		for _, m := range out.Reply.Messages {
			if m.Visibility == bot.Public {
				if m.Kind != bot.PostOpportunity {
					t.Fatalf("post kind %q, want opportunity", m.Kind)
				}
				join = m.Buttons[0]
			}
		}
		if join.Action != "cmd:volunteer join #1" || join.Style != bot.ButtonPrimary {
			t.Fatalf("join button %+v", join)
		}
		h.Run("olive", `/volunteer create "Food bank shift" tomorrow 18:00`).MustPrivate(t, "Created #2 Food bank shift")

		list := h.Run("alice", "/volunteer").MustNoPublic(t)
		list.MustPrivate(t,
			"#2 Food bank shift · Wed 2 Dec 2026 18:00 · unlimited places",
			"#1 Park cleanup · Sat 5 Dec 2026 10:00 for 2h · at Riverside Park · 2 slots left")
		if strings.Index(list.Private, "#2") > strings.Index(list.Private, "#1 Park") {
			t.Fatalf("list not soonest first:\n%s", list.Private)
		}

		// The button runs the command as whoever presses it.
		h.Click("alice", join.Action).MustPrivate(t, "You're signed up for #1 Park cleanup", "1 of 2 places are taken")
		h.Run("bob", "/volunteer join park").MustPrivate(t, "signed up")
		h.Run("carol", "/volunteer list").MustPrivate(t, "Park cleanup", "full")
		h.Run("carol", "/volunteer join #1")
		h.Run("carol", "/volunteer").MustPrivate(t, "full · 1 waitlisted")

		// Started opportunities drop off the list.
		h.Advance(34 * time.Hour)
		if got := h.Run("alice", "/volunteer").Private; strings.Contains(got, "Food bank") || !strings.Contains(got, "Park cleanup") {
			t.Fatalf("list after the food bank shift started:\n%s", got)
		}
	})
}

func TestCreateInTimezoneAndDuplicateTitles(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		if err := h.Store.DB().Exec("UPDATE communities SET timezone = 'Europe/Paris'").Error; err != nil {
			t.Fatal(err)
		}
		h.Run("olive", `/volunteer create "Park cleanup" 2026-12-05 10:00`).MustPublic(t, "When: Sat 5 Dec 2026 10:00")
		var startsAt time.Time
		h.Store.DB().Raw("SELECT starts_at FROM opportunities WHERE no = 1").Scan(&startsAt)
		if want := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC); !startsAt.Equal(want) {
			t.Fatalf("stored %v, want %v (UTC)", startsAt, want)
		}
		h.Run("olive", `/volunteer create "Park cleanup" 2026-12-12 10:00`).MustPrivate(t, "#2 Park cleanup", "(park-cleanup-2)")
		h.Unchanged("alice", "/volunteer join park", `"park" could mean #1 Park cleanup (Sat 5 Dec 2026 10:00), #2 Park cleanup (Sat 12 Dec 2026 10:00)`)
		h.Run("alice", "/volunteer join park-cleanup-2").MustPrivate(t, "signed up for #2")
		h.Run("alice", "/volunteer join PARK-CLEANUP").MustPrivate(t, "signed up for #1")
	})
}

func TestRecurringSeries(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/volunteer create "Saturday litter pick" every sat 10:00 for 1h30m slots 5 at "Town hall"`).
			MustPrivate(t, "Created #1 Saturday litter pick (Sat 5 Dec 2026 10:00)", "repeats every sat 10:00").
			MustPublic(t, "Repeats: every sat 10:00", "For: 1h30m")
		var n int64
		h.Store.DB().Table("series").Where("rule = ? AND minutes = 90 AND slots = 5", "every sat 10:00").Count(&n)
		if n != 1 {
			t.Fatalf("series rows = %d, want 1", n)
		}
		// The scheduler adds later occurrences; one is inserted here as it would.
		if err := h.Store.DB().Exec(`INSERT INTO opportunities (community_id, no, series_id, slug, title, starts_at, minutes, slots, place, status, confirmed, waitlisted, channel_id, created_by, created_at)
			SELECT community_id, 2, series_id, slug, title, ?, minutes, slots, place, 'open', 0, 0, '', created_by, created_at FROM opportunities WHERE no = 1`,
			time.Date(2026, 12, 12, 10, 0, 0, 0, time.UTC)).Error; err != nil {
			t.Fatal(err)
		}
		h.Run("alice", "/volunteer join saturday-litter-pick").MustPrivate(t, "signed up for #1")
		h.Run("bob", "/volunteer join #2").MustPrivate(t, "signed up for #2")
		// Once #1 has started, the title means the next occurrence.
		h.Advance(4*24*time.Hour + time.Hour)
		h.Run("carol", `/volunteer join "Saturday litter"`).MustPrivate(t, "signed up for #2")
		// Hours and attendance mean the latest occurrence that has started.
		h.Run("alice", "/volunteer hours 1 for saturday-litter-pick").MustPrivate(t, "Logged 1 hour for #1 Saturday litter pick")
		h.Run("olive", "/volunteer attended saturday-litter-pick @alice").MustPrivate(t, "Credited @alice 1h30m each for #1", "replaces 1 hour")

		h.Unchanged("olive", "/volunteer cancel #3 series", `No opportunity matches "#3"`)
		out := h.Run("olive", "/volunteer cancel saturday-litter-pick series")
		out.MustPrivate(t, "Cancelled the series Saturday litter pick and 1 upcoming occurrence", "Told 2 signed-up members")
		if !strings.Contains(out.Direct["bob"], "recurring Saturday litter pick has been cancelled") || out.Direct["alice"] != "" {
			t.Fatalf("notes: %+v", out.Direct)
		}
		h.Unchanged("dan", "/volunteer join saturday-litter-pick", "was cancelled")
		h.Unchanged("olive", "/volunteer cancel saturday-litter-pick series", "already cancelled")
		var status string
		h.Store.DB().Raw("SELECT status FROM series").Scan(&status)
		if status != "cancelled" {
			t.Fatalf("series status %q", status)
		}
	})
}

func TestJoinWaitlistAndLeave(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/volunteer join park-cleanup").MustPrivate(t, "You're signed up for #1 Park cleanup (Sat 5 Dec 2026 10:00) at Riverside Park")
		h.Run("bob", "/volunteer join #1").MustPrivate(t, "2 of 2 places are taken")
		h.Run("carol", "/volunteer join park").MustPrivate(t, "is full, so you're on the waitlist at position 1")
		h.Run("dan", "/volunteer join Park").MustPrivate(t, "waitlist at position 2")

		h.Unchanged("alice", "/volunteer join #1", "already signed up (confirmed)")
		h.Unchanged("dan", "/volunteer join #1", "already on the waitlist", "position 2")
		h.Unchanged("erin", "/volunteer leave #1", "not signed up")

		out := h.Run("alice", "/volunteer leave #1")
		out.MustPrivate(t, "You've left #1 Park cleanup")
		if len(out.Direct) != 1 || !strings.Contains(out.Direct["carol"], "now confirmed for #1 Park cleanup") {
			t.Fatalf("promotion notes: %+v", out.Direct)
		}
		h.Run("olive", "/volunteer roster #1").MustPrivate(t, "✅ @bob", "✅ @carol", "⏳ waitlist 1: @dan", "2 confirmed, 1 waitlisted")

		// Leaving the waitlist renumbers it and promotes no one.
		h.Run("erin", "/volunteer join #1").MustPrivate(t, "position 2")
		out = h.Run("dan", "/volunteer leave #1").MustPrivate(t, "left the waitlist")
		if len(out.Direct) != 0 {
			t.Fatalf("unexpected notes: %+v", out.Direct)
		}
		h.Run("olive", "/volunteer roster #1").MustPrivate(t, "⏳ waitlist 1: @erin")

		// Rejoining after leaving goes to the back.
		h.Run("alice", "/volunteer join #1").MustPrivate(t, "waitlist at position 2")

		var c struct{ Confirmed, Waitlisted int }
		h.Store.DB().Raw("SELECT confirmed, waitlisted FROM opportunities WHERE no = 1").Scan(&c)
		if c.Confirmed != 2 || c.Waitlisted != 2 {
			t.Fatalf("counters %+v, want 2 confirmed 2 waitlisted", c)
		}
		var acts int64
		h.Store.DB().Table("activities").Where("kind = ?", storage.ActSignup).Count(&acts)
		if acts != 6 {
			t.Fatalf("signup activities = %d, want 6", acts)
		}

		h.Advance(5 * 24 * time.Hour)
		h.Unchanged("frank", "/volunteer join #1", "has already started")
		h.Unchanged("bob", "/volunteer leave #1", "has already started")
	})
}

func TestEdit(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		for _, u := range []string{"alice", "bob", "carol", "dan"} {
			h.Run(u, "/volunteer join #1")
		}
		out := h.Run("olive", `/volunteer edit park-cleanup when 2026-12-06 10:00 at "North Gate"`)
		out.MustPrivate(t, "Updated #1 Park cleanup: when Sat 5 Dec 2026 10:00 → Sun 6 Dec 2026 10:00; place Riverside Park → North Gate", "Told 4 signed-up members")
		for _, u := range []string{"alice", "bob", "carol", "dan"} {
			if !strings.Contains(out.Direct[u], "it now starts Sun 6 Dec 2026 10:00 and it's now at North Gate") {
				t.Fatalf("%s was not told: %+v", u, out.Direct)
			}
		}
		out = h.Run("olive", "/volunteer edit #1 slots 3 for 3h")
		out.MustPrivate(t, "length 2h → 3h", "slots 2 → 3", "1 moved up from the waitlist")
		if len(out.Direct) != 1 || !strings.Contains(out.Direct["carol"], "now confirmed") {
			t.Fatalf("promotion notes: %+v", out.Direct)
		}
		h.Run("olive", "/volunteer roster #1").MustPrivate(t, "✅ @carol", "⏳ waitlist 1: @dan")

		h.Unchanged("olive", "/volunteer edit #1 slots 2", "3 members are already confirmed", "at least 3 slots")
		h.Unchanged("olive", "/volunteer edit #1", "Say what to change")
		h.Unchanged("olive", "/volunteer edit #1 slots 0", "slots must be a whole number from 1 to 10000")
		h.Unchanged("olive", "/volunteer edit #1 when every sat 10:00", "Edit changes one occurrence")
		h.Unchanged("olive", "/volunteer edit #1 when 2026-11-30 10:00", "in the past")
		h.Unchanged("alice", "/volunteer edit #1 slots 5", "Only organisers")
	})
}

func TestCancel(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		for _, u := range []string{"alice", "bob", "carol"} {
			h.Run(u, "/volunteer join #1")
		}
		h.Unchanged("alice", "/volunteer cancel #1", "Only organisers")
		h.Unchanged("olive", "/volunteer cancel #1 series", "does not repeat")
		out := h.Run("olive", "/volunteer cancel park-cleanup")
		out.MustPrivate(t, "Cancelled #1 Park cleanup", "Told 3 signed-up members")
		for _, u := range []string{"alice", "bob", "carol"} {
			if !strings.Contains(out.Direct[u], "#1 Park cleanup (Sat 5 Dec 2026 10:00), which you signed up for, has been cancelled") {
				t.Fatalf("%s not told: %+v", u, out.Direct)
			}
		}
		h.Unchanged("dan", "/volunteer join #1", "#1 Park cleanup (Sat 5 Dec 2026 10:00) was cancelled")
		h.Unchanged("alice", "/volunteer leave #1", "was cancelled")
		h.Unchanged("olive", "/volunteer cancel #1", "already cancelled")
		h.Unchanged("olive", "/volunteer edit #1 slots 9", "was cancelled")
		if got := h.Run("dan", "/volunteer").Private; strings.Contains(got, "#1") {
			t.Fatalf("cancelled opportunity listed:\n%s", got)
		}
	})
}

func contributions(t *testing.T, h *missiontest.H, member, kind string) int64 {
	t.Helper()
	var sum int64
	if err := h.Store.DB().Raw(`SELECT COALESCE(SUM(c.amount), 0) FROM contributions c JOIN members m ON m.id = c.member_id
		WHERE m.external_id = ? AND c.kind = ?`, member, kind).Scan(&sum).Error; err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestHours(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("olive", `/goal create "Volunteer hours" 10 hours as hours`)
		h.Run("olive", `/goal create "Plant trees" 100 trees`)

		h.Run("alice", "/volunteer hours 2.5").MustPrivate(t, "Logged 2.5 hours.")
		h.Run("alice", "/volunteer hours 3h for hours").
			MustPrivate(t, "Logged 3 hours toward Volunteer hours (hours)", "3 / 10 hours", "unlocked the 25% milestone").MustNoPublic(t)
		mustMilestonePosts(t, h, "25")
		h.Run("bob", "/volunteer hours 1 for volunteer").MustPrivate(t, "Logged 1 hour toward", "4 / 10 hours").MustNoPublic(t)
		h.Run("bob", "/volunteer hours 6 for hours").MustPrivate(t, "unlocked the 50%, 75%, 100% milestones").MustNoPublic(t)
		mustMilestonePosts(t, h, "25", "50", "75", "100")
		var progress int64
		h.Store.DB().Raw("SELECT progress FROM goals WHERE slug = 'hours'").Scan(&progress)
		if progress != 1000 {
			t.Fatalf("goal progress %d, want 1000", progress)
		}

		h.Unchanged("alice", "/volunteer hours 2 for park-cleanup", "hasn't happened yet")
		h.Unchanged("alice", "/volunteer hours 2 for #1", `"#1" could mean opportunity #1 Park cleanup (Sat 5 Dec 2026 10:00), goal #1 Volunteer hours (hours)`)
		h.Unchanged("alice", "/volunteer hours 2 for plant-trees", "counts trees, not hours", "/log 2 trees to plant-trees")
		h.Unchanged("alice", "/volunteer hours 2 for nowhere", `No opportunity or goal matches "nowhere"`)
		h.Unchanged("alice", "/volunteer hours 0", "zero")
		h.Unchanged("alice", "/volunteer hours -1", "negative")
		h.Unchanged("alice", "/volunteer hours NaN", "not a number")
		h.Unchanged("alice", "/volunteer hours 1e999", "not a number")
		h.Unchanged("alice", "/volunteer hours 2,5", "2.5")
		h.Unchanged("alice", "/volunteer hours 2 trees", `"trees"`)
		h.Unchanged("alice", "/volunteer hours 2kg", `counted in hours, not "kg"`)
		h.Unchanged("alice", "/volunteer hours 5000", "at most 1,000")
		h.Unchanged("alice", "/volunteer hours", "Missing <n>")
		h.Run("olive", "/goal close hours")
		h.Unchanged("alice", "/volunteer hours 1 for hours", "is closed")

		h.Advance(5 * 24 * time.Hour)
		h.Run("alice", "/volunteer hours 1.5 for park-cleanup").MustPrivate(t, "Logged 1.5 hours for #1 Park cleanup")
		var n int64
		h.Store.DB().Table("contributions").Where("kind = 'hours' AND opportunity_id IS NOT NULL AND goal_id IS NULL AND amount = 150").Count(&n)
		if n != 1 {
			t.Fatalf("hours for the opportunity: %d rows", n)
		}
		var acts int64
		h.Store.DB().Table("activities").Where("kind = ?", storage.ActHours).Count(&acts)
		if acts != 5 {
			t.Fatalf("hours activities = %d, want 4", acts)
		}
	})
}

func TestAttended(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/volunteer join #1")
		h.Unchanged("olive", "/volunteer attended #1 @alice", "hasn't started yet")
		h.Advance(5 * 24 * time.Hour)
		h.Run("alice", "/volunteer hours 1.5 for #1")
		h.Run("alice", "/volunteer hours 1")

		out := h.Run("olive", "/volunteer attended park-cleanup @alice @bob @alice")
		out.MustPrivate(t, "Credited @alice, @bob 2h each for #1 Park cleanup", "replaces 1.5 hours they had logged themselves")
		if got := contributions(t, h, "alice", "attended"); got != 200 {
			t.Fatalf("alice attended %d, want 200", got)
		}
		if got := contributions(t, h, "alice", "hours"); got != 100 {
			t.Fatalf("alice self-logged %d, want 100 (the hours not for #1)", got)
		}
		if got := contributions(t, h, "bob", "attended"); got != 200 {
			t.Fatalf("bob attended %d, want 200", got)
		}
		h.Run("olive", "/volunteer roster #1").MustPrivate(t, "✅ @alice (attended)")

		before := h.Snapshot()
		h.Run("olive", "/volunteer attended #1 @bob").MustPrivate(t, "@bob was already marked as attended; nothing changed")
		if after := h.Snapshot(); after != before {
			t.Fatalf("marking again changed the database:\n%s\n%s", before, after)
		}
		h.Unchanged("alice", "/volunteer attended #1 @bob", "Only organisers")
		h.Unchanged("olive", "/volunteer attended #1", "Missing")

		h.Run("olive", `/volunteer create "Quiz night" tomorrow 18:00`)
		h.Advance(48 * time.Hour)
		h.Unchanged("olive", "/volunteer attended #2 @bob", "has no length")
	})
}

func TestBadInputs(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		for _, c := range []struct{ user, line, want string }{
			{"olive", "/volunteer create", "Missing <title>"},
			{"olive", `/volunteer create "Park cleanup"`, "Missing <when>"},
			{"alice", cleanup, "Only organisers can use /volunteer create"},
			{"olive", `/volunteer create "Late" 2026-11-30 10:00`, "in the past"},
			{"olive", `/volunteer create "Late" 2026-12-01 08:00`, "in the past"},
			{"olive", `/volunteer create "Bad day" 2026-02-30 10:00`, "2026-02-30"},
			{"olive", `/volunteer create "Shift" tomorrow 10:00 slots 0`, "slots must be a whole number from 1 to 10000"},
			{"olive", `/volunteer create "Shift" tomorrow 10:00 slots -1`, "slots must be a whole number from 1 to 10000"},
			{"olive", `/volunteer create "Shift" tomorrow 10:00 slots 10001`, "from 1 to 10000"},
			{"olive", `/volunteer create "Shift" tomorrow 10:00 slots abc`, `"slots abc"`},
			{"olive", `/volunteer create "Shift" tomorrow 10:00 for 0h`, "zero"},
			{"olive", `/volunteer create "` + strings.Repeat("x", 201) + `" tomorrow 10:00`, "the most is 200"},
			{"olive", `/volunteer create "Shift" tomorrow 10:00 at "` + strings.Repeat("x", 1990) + `"`, "the most a command takes is 2000"},
			{"alice", "/volunteer join", "Missing <opportunity>"},
			{"alice", "/volunteer join beach", `No opportunity matches "beach". Open ones: #1 Park cleanup (Sat 5 Dec 2026 10:00)`},
			{"alice", "/volunteer join #7", `No opportunity matches "#7"`},
			{"alice", "/volunteer leave", "Missing <opportunity>"},
			{"alice", "/volunteer roster #1", "Only organisers"},
			{"olive", "/volunteer roster nothing", "No opportunity matches"},
		} {
			h.Unchanged(c.user, c.line, c.want)
		}
		// The console turns @name into a mention; a platform may send a bare one.
		before := h.Snapshot()
		for _, text := range []string{`create "Shift" tomorrow 10:00 at @bob`, "attended #1 @bob"} {
			req := h.Request("olive", "/volunteer")
			req.Text = text
			if got := h.Engine.Do(context.Background(), req); len(got.Messages) != 1 || !strings.Contains(got.Messages[0].Text, "@bob is not a mention") {
				t.Fatalf("%s: %+v", text, got)
			}
		}
		if after := h.Snapshot(); after != before {
			t.Fatalf("a bare @name changed the database:\n%s\n%s", before, after)
		}
	})
}

func TestAnotherCommunitysIDIsMissing(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		other := h.In("other")
		other.Organiser("oscar")
		for _, line := range []string{"/volunteer join #1", "/volunteer leave #1", "/volunteer hours 1 for #1"} {
			got := other.Run("alice", line).Private
			want := other.Run("alice", strings.Replace(line, "#1", "#2", 1)).Private
			if got != strings.Replace(want, "#2", "#1", -1) {
				t.Fatalf("%s in another community:\n%s\nwhile a missing id says:\n%s", line, got, want)
			}
			other.Unchanged("alice", line, "#1")
		}
		for _, line := range []string{"/volunteer roster #1", "/volunteer cancel #1", "/volunteer edit #1 slots 5", "/volunteer attended #1 @alice"} {
			other.Unchanged("oscar", line, `No opportunity matches "#1"`)
		}
		h.Run("olive", "/volunteer roster #1").MustPrivate(t, "Nobody has signed up yet")
	})
}

// After attendance credits a member the opportunity's length, hours they
// self-log for it would count twice; they are refused.
func TestHoursForAttendedOpportunityRefused(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/volunteer join #1")
		h.Advance(5 * 24 * time.Hour)
		h.Run("alice", "/volunteer hours 1 for #1").MustPrivate(t, "Logged 1 hour for #1")
		h.Run("olive", "/volunteer attended #1 @alice").MustPrivate(t, "replaces 1 hour")
		h.Unchanged("alice", "/volunteer hours 2 for park-cleanup", "already credited", "2h", "/volunteer hours 2")
		if got := contributions(t, h, "alice", "hours") + contributions(t, h, "alice", "attended"); got != 200 {
			t.Fatalf("alice has %d hundredths of hours, want 200 (the 2h credited once)", got)
		}
		// Hours not for that opportunity are still welcome.
		h.Run("alice", "/volunteer hours 1").MustPrivate(t, "Logged 1 hour.")
	})
}

// insertOccurrence adds occurrence no of the series of opportunity #from at
// start, as the scheduler would.
func insertOccurrence(t *testing.T, h *missiontest.H, from, no int, start time.Time) {
	t.Helper()
	if err := h.Store.DB().Exec(`INSERT INTO opportunities (community_id, no, series_id, slug, title, starts_at, minutes, slots, place, status, confirmed, waitlisted, channel_id, created_by, created_at)
		SELECT community_id, ?, series_id, slug, title, ?, minutes, slots, place, 'open', 0, 0, '', created_by, created_at FROM opportunities WHERE no = ?`,
		no, start, from).Error; err != nil {
		t.Fatal(err)
	}
	if err := h.Store.DB().Exec("UPDATE counters SET value = ? WHERE kind = 'opportunity'", no).Error; err != nil {
		t.Fatal(err)
	}
}

// "#1" names that occurrence, even when a later one of its series has
// started too.
func TestHoursForEarlierOccurrenceByID(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/volunteer create "Saturday litter pick" every sat 10:00 for 1h slots 5`).MustPrivate(t, "Created #1")
		insertOccurrence(t, h, 1, 2, time.Date(2026, 12, 12, 10, 0, 0, 0, time.UTC))
		h.Advance(12*24*time.Hour + 2*time.Hour) // Sun 13 Dec: both have happened
		h.Run("alice", "/volunteer hours 1 for #1").MustPrivate(t, "Logged 1 hour for #1 Saturday litter pick (Sat 5 Dec 2026 10:00)")
		h.Run("alice", "/volunteer hours 1 for #2").MustPrivate(t, "Logged 1 hour for #2 Saturday litter pick (Sat 12 Dec 2026 10:00)")
		h.Run("alice", "/volunteer hours 1 for saturday-litter-pick").MustPrivate(t, "for #2")
		var n int64
		h.Store.DB().Raw(`SELECT COUNT(*) FROM contributions c JOIN opportunities o ON o.id = c.opportunity_id WHERE o.no = 1`).Scan(&n)
		if n != 1 {
			t.Fatalf("hours for #1: %d rows, want 1", n)
		}
		h.Run("olive", `/goal create "Volunteer hours" 10 hours as hours`)
		h.Unchanged("alice", "/volunteer hours 1 for #1", `"#1" could mean opportunity #1 Saturday litter pick (Sat 5 Dec 2026 10:00), goal #1`)
	})
}

func oppStatus(t *testing.T, h *missiontest.H, no int) string {
	t.Helper()
	var s string
	if err := h.Store.DB().Raw("SELECT status FROM opportunities WHERE no = ?", no).Scan(&s).Error; err != nil {
		t.Fatal(err)
	}
	return s
}

// An opportunity that has started (or happened, with attendance credited)
// is not cancelled after the fact; cancelling its series leaves it alone.
func TestCancelStartedRefused(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/volunteer join #1")
		h.Advance(5*24*time.Hour + time.Hour)
		h.Run("olive", "/volunteer attended #1 @alice")
		h.Unchanged("olive", "/volunteer cancel #1", "#1 Park cleanup (Sat 5 Dec 2026 10:00) has already started")
		if s := oppStatus(t, h, 1); s != "open" {
			t.Fatalf("#1 status %q after a refused cancel", s)
		}

		h.Run("olive", `/volunteer create "Saturday litter pick" every sat 10:00 for 1h slots 5`).MustPrivate(t, "Created #2 Saturday litter pick (Sat 12 Dec 2026 10:00)")
		h.Run("alice", "/volunteer join #2")
		h.Advance(7 * 24 * time.Hour) // Sun 13 Dec: #2 has happened
		// the scheduler's next occurrence
		if err := h.Store.DB().Exec(`INSERT INTO opportunities (community_id, no, series_id, slug, title, starts_at, minutes, slots, place, status, confirmed, waitlisted, channel_id, created_by, created_at)
			SELECT community_id, 3, series_id, slug, title, ?, minutes, slots, place, 'open', 0, 0, '', created_by, created_at FROM opportunities WHERE no = 2`,
			time.Date(2026, 12, 19, 10, 0, 0, 0, time.UTC)).Error; err != nil {
			t.Fatal(err)
		}
		h.Run("bob", "/volunteer join #3")
		h.Unchanged("olive", "/volunteer cancel #2", "has already started")
		out := h.Run("olive", "/volunteer cancel #2 series").MustPrivate(t, "Cancelled the series Saturday litter pick and 1 upcoming occurrence", "Told 1 signed-up member.")
		if out.Direct["alice"] != "" || !strings.Contains(out.Direct["bob"], "Sat 19 Dec 2026") {
			t.Fatalf("notes: %+v", out.Direct)
		}
		if s2, s3 := oppStatus(t, h, 2), oppStatus(t, h, 3); s2 != "open" || s3 != "cancelled" {
			t.Fatalf("statuses #2 %q #3 %q, want open and cancelled", s2, s3)
		}
	})
}

// A member promoted by an edit that also moves the opportunity gets one
// note with both, not two.
func TestEditPromotesAndMovesWithOneNote(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		for _, u := range []string{"alice", "bob", "carol"} {
			h.Run(u, "/volunteer join #1")
		}
		out := h.Run("olive", `/volunteer edit #1 when 2026-12-06 11:00 slots 3`)
		out.MustPrivate(t, "1 moved up from the waitlist and was told.", "Told 3 signed-up members.")
		var notes int
		for _, m := range out.Reply.Messages {
			if m.Visibility == bot.Direct && m.To.Name == "carol" {
				notes++
			}
		}
		if notes != 1 || !strings.Contains(out.Direct["carol"], "now confirmed for #1 Park cleanup (Sun 6 Dec 2026 11:00)") ||
			!strings.Contains(out.Direct["carol"], "it now starts Sun 6 Dec 2026 11:00") {
			t.Fatalf("carol got %d notes:\n%s", notes, out.Direct["carol"])
		}
	})
}

// failOnce makes the n-th insert into table (counting from 1), or with
// query the n-th select from it, fail once with a PostgreSQL deadlock, which
// the store retries.
func failOnce(t *testing.T, h *missiontest.H, query bool, table string, n int) {
	t.Helper()
	seen := 0
	name := "test:deadlock-" + table
	fail := func(db *gorm.DB) {
		if db.Statement.Table != table {
			return
		}
		if seen++; seen == n {
			db.AddError(&pgconn.PgError{Code: "40P01", Message: "deadlock detected (test)"})
		}
	}
	var err error
	if query {
		err = h.Store.DB().Callback().Query().Before("gorm:query").Register(name, fail)
	} else {
		err = h.Store.DB().Callback().Create().Before("gorm:create").Register(name, fail)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.Store.DB().Callback().Query().Remove(name)
		_ = h.Store.DB().Callback().Create().Remove(name)
	})
}

// A retried transaction reports what it did once, not once per attempt.
func TestRetriedAttendanceAndCancelReportOnce(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("olive", `/volunteer create "Quiz night" tomorrow 18:00 for 2h`)
		h.Run("alice", "/volunteer join #2")
		h.Advance(34 * time.Hour) // the quiz has started
		h.Run("alice", "/volunteer hours 1 for #2")
		h.Run("bob", "/volunteer hours 0.5 for #2")
		// bob's credit fails after alice's succeeded; the whole mark is retried.
		failOnce(t, h, false, "contributions", 2)
		out := h.Run("olive", "/volunteer attended #2 @alice @bob")
		if got := out.Private; !strings.Contains(got, "Credited @alice, @bob 2h each") || strings.Contains(got, "@alice, @alice") ||
			!strings.Contains(got, "replaces 1.5 hours") {
			t.Fatalf("after a retry:\n%s", out.All)
		}
		if got := contributions(t, h, "alice", "attended") + contributions(t, h, "bob", "attended"); got != 400 {
			t.Fatalf("attended total %d, want 400", got)
		}

		h.Run("olive", `/volunteer create "Saturday litter pick" every sat 10:00 for 1h`).MustPrivate(t, "Created #3")
		insertOccurrence(t, h, 3, 4, time.Date(2026, 12, 12, 10, 0, 0, 0, time.UTC))
		h.Run("carol", "/volunteer join #3")
		h.Run("carol", "/volunteer join #4")
		// Loading who was signed up to the second occurrence fails once.
		failOnce(t, h, true, "members", 2)
		out = h.Run("olive", "/volunteer cancel #3 series")
		out.MustPrivate(t, "Cancelled the series Saturday litter pick and 2 upcoming occurrences", "Told 1 signed-up member.")
		if got := out.Direct["carol"]; strings.Count(got, "Sorry") != 1 || strings.Count(got, "#3 Saturday litter pick") != 1 {
			t.Fatalf("carol was told:\n%s", got)
		}
	})
}

// A multi-word unit whose first word is hours ("hours of service") is an
// hours goal, as "h" matches it when logging.
func TestHoursTowardMultiWordHoursGoal(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/goal create "Service" 8 "hours of service"`).MustPrivate(t, "Service")
		h.Run("alice", "/volunteer hours 2 for service").MustPrivate(t, "Logged 2 hours toward Service", "2 / 8 hours of service",
			"unlocked the 25% milestone").MustNoPublic(t)
		mustMilestonePosts(t, h, "25")
	})
}

// mustMilestonePosts checks that the outbox holds exactly one milestone
// post per threshold given (a slot key ends in ":<threshold>"), in order.
func mustMilestonePosts(t *testing.T, h *missiontest.H, thresholds ...string) {
	t.Helper()
	var slots []string
	if err := h.Store.DB().Raw("SELECT slot_key FROM outbox_posts WHERE kind = 'milestone' ORDER BY id").Scan(&slots).Error; err != nil {
		t.Fatal(err)
	}
	if len(slots) != len(thresholds) {
		t.Fatalf("milestone posts in the outbox: %v, want thresholds %v", slots, thresholds)
	}
	for i, th := range thresholds {
		if !strings.HasSuffix(slots[i], ":"+th) {
			t.Fatalf("milestone posts in the outbox: %v, want thresholds %v", slots, thresholds)
		}
	}
}
