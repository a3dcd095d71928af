package mission_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/console"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"
)

var areas = []missiontest.Register{func(e *bot.Engine, s *storage.Store) { mission.Register(e, s) }}

// enter returns the actor name would be in h's community.
func enter(t *testing.T, h *missiontest.H, name string) bot.Actor {
	t.Helper()
	a, err := h.Store.Enter(context.Background(), bot.Visit{Community: h.Community, CommunityName: h.Community.ID,
		User: h.User(name), UserName: name, At: h.Clock.Now()})
	if err != nil {
		t.Fatalf("enter %s: %v", name, err)
	}
	return a
}

// asAdmin runs line as user with workspace admin rights and returns the
// console text of the reply.
func asAdmin(h *missiontest.H, user, line string) string {
	req := h.Request(user, line)
	req.PlatformAdmin = true
	r := h.Engine.Do(context.Background(), req)
	var parts []string
	for _, m := range r.Messages {
		parts = append(parts, console.Render(m))
	}
	return strings.Join(parts, "\n")
}

func mustContain(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("lacks %q; got:\n%s", w, got)
		}
	}
}

func mustLack(t *testing.T, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Fatalf("unexpectedly has %q; got:\n%s", w, got)
		}
	}
}

func TestMissionShowSetValues(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("alice", "/mission").MustPrivate(t, "No mission statement yet", "Active goals: none yet", "Open opportunities: none right now", "/pledge", "/volunteer join", "/log", "/win")
		h.Run("olive", "/mission").MustPrivate(t, "/mission set")

		h.Run("olive", "/mission set Every street green by 2030").MustPrivate(t, "Mission updated", "Every street green by 2030").MustNoPublic(t)
		h.Run("olive", "/mission values Act locally; ; Include everyone ;Celebrate progress;").
			MustPrivate(t, "• Act locally", "• Include everyone", "• Celebrate progress")

		ctx := context.Background()
		a := enter(t, h, "olive")
		db := h.Store.DB()
		due := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, g := range []storage.Goal{
			{CommunityID: int64(a.Community), No: 1, Slug: "plant-1000-trees", Title: "Plant 1000 trees", Unit: "trees", Target: 100000, Progress: 25000, DueAt: &due, Status: "active", CreatedBy: int64(a.Member.ID), CreatedAt: h.Clock.Now()},
			{CommunityID: int64(a.Community), No: 2, Slug: "old-drive", Title: "Old drive", Unit: "£", Target: 1000, Status: "closed", CreatedBy: int64(a.Member.ID), CreatedAt: h.Clock.Now()},
		} {
			if err := db.WithContext(ctx).Create(&g).Error; err != nil {
				t.Fatal(err)
			}
		}
		opp := func(no int64, title string, starts time.Duration, slots, confirmed int, status string) {
			o := storage.Opportunity{CommunityID: int64(a.Community), No: no, Slug: strings.ToLower(strings.ReplaceAll(title, " ", "-")), Title: title,
				StartsAt: h.Clock.Now().Add(starts), Slots: slots, Confirmed: confirmed, Status: status, Place: "Riverside Park",
				CreatedBy: int64(a.Member.ID), CreatedAt: h.Clock.Now()}
			if err := db.Create(&o).Error; err != nil {
				t.Fatal(err)
			}
		}
		opp(1, "Park cleanup", 4*24*time.Hour+time.Hour, 12, 3, "open")
		opp(2, "Full shift", 24*time.Hour, 2, 2, "open")
		opp(3, "Past shift", -time.Hour, 0, 0, "open")
		opp(4, "Called off", 48*time.Hour, 0, 0, "cancelled")

		out := h.Run("alice", "/mission").MustPrivate(t,
			"Every street green by 2030", "Our values: Act locally · Include everyone · Celebrate progress",
			"Plant 1000 trees", "25%", "due 31 Dec 2026",
			"#1 Park cleanup: Sat 5 Dec 2026 10:00 at Riverside Park, 9 of 12 places left (/volunteer join #1)",
			"/pledge 10 trees to plant-1000-trees")
		mustLack(t, out.Private, "Old drive", "Full shift", "Past shift", "Called off", "/mission set")

		// Another community sees none of it.
		other := h.In("other")
		other.Run("bob", "/mission").MustPrivate(t, "No mission statement yet", "Active goals: none yet", "none right now")
	})
}

func TestMissionBadInput(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/mission values Act locally").MustPrivate(t, "Act locally")
		h.Unchanged("alice", "/mission set Take over", "Only organisers")
		h.Unchanged("alice", "/mission values A; B", "Only organisers")
		h.Unchanged("olive", "/mission values ; ;  ;", "at least one value", "Example: /mission values")
		h.Unchanged("olive", "/mission values", "Missing")
		h.Unchanged("olive", "/mission set", "Missing")
		h.Unchanged("olive", "/mission values ok; "+strings.Repeat("x", 201), "201 characters", "at most 200")
		// A bare @name that the platform did not turn into a mention.
		req := h.Request("olive", "/mission set Led by")
		req.Text += " @bob"
		before := h.Snapshot()
		r := h.Engine.Do(context.Background(), req)
		if len(r.Messages) != 1 || !strings.Contains(r.Messages[0].Text, "@bob is not a mention") || h.Snapshot() != before {
			t.Fatalf("bare @bob: %+v", r.Messages)
		}
	})
}

func TestOrganisers(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("alice", "/organisers").MustPrivate(t, "• @olive", "admins are organisers too", "admins-are-organisers off")

		out := h.Run("olive", "/organisers add @sam").MustPrivate(t, "@sam is now an organiser")
		mustContain(t, out.Direct["sam"], "@olive made you an organiser")
		h.Unchanged("olive", "/organisers add @sam", "@sam is already an organiser; nothing changed")
		h.Run("alice", "/organisers list").MustPrivate(t, "• @olive", "• @sam")

		h.Unchanged("alice", "/organisers add @alice", "Only organisers")
		h.Unchanged("alice", "/organisers remove @olive", "Only organisers")
		h.Unchanged("olive", "/organisers add sam", "not a valid @member", "Example: /organisers add @sam")
		h.Unchanged("olive", "/organisers add @sam @alice", "")
		h.Unchanged("olive", "/organisers remove @alice", "@alice is not an organiser")

		// A workspace admin who was never added: nothing to remove.
		asAdmin(h, "adam", "/organisers")
		h.Unchanged("olive", "/organisers remove @adam", "through their workspace/server admin rights", "admins-are-organisers off")
		h.Run("alice", "/organisers").MustPrivate(t, "Admins seen so far: @adam")

		h.Run("sam", "/organisers remove @sam").MustPrivate(t, "@sam is no longer an organiser")
		h.Unchanged("sam", "/organisers add @sam", "Only organisers")

		// With admins off, the last added organiser cannot be removed.
		h.Run("olive", "/settings admins-are-organisers off").MustPrivate(t, "Admins are organisers: off")
		h.Run("alice", "/organisers").MustPrivate(t, "• @olive", "admins do not count").MustNoPublic(t)
		h.Unchanged("olive", "/organisers remove @olive", "last organiser", "/organisers add")
		h.Run("olive", "/organisers add @sam").MustPrivate(t, "now an organiser")
		h.Run("olive", "/organisers remove @olive").MustPrivate(t, "@olive is no longer an organiser")
		h.Unchanged("olive", "/organisers add @olive", "Only organisers")
		h.Unchanged("sam", "/organisers remove @sam", "last organiser")
	})
}

func TestSettingsShowAndChanges(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/settings").MustPrivate(t, "Timezone: UTC", "Digest: off until a digest channel is set",
			"Digest schedule: every mon 09:00", "Retention: 90 days", "Kudos per day: 10", "Admins are organisers: on", "Welcome: on")

		h.Run("olive", "/settings timezone europe/london").MustPrivate(t, "Timezone is now Europe/London")
		h.Run("olive", "/settings digest-channel #impact").MustPrivate(t, "Digest channel is now #impact",
			"on, every mon 09:00 in #impact; next Mon 7 Dec 2026 09:00 (Europe/London)")
		h.Run("olive", "/settings digest-schedule every fri 17:30").MustPrivate(t, "every fri 17:30", "Fri 4 Dec 2026 17:30 (Europe/London)")
		h.Run("olive", "/settings digest off").MustPrivate(t, "Digest: off.")
		h.Run("olive", "/settings digest on").MustPrivate(t, "Digest: on, every fri 17:30 in #impact")
		h.Run("olive", "/settings celebrations-channel #wins").MustPrivate(t, "Celebrations channel is now #wins")
		h.Run("olive", "/settings welcome-channel #introductions").MustPrivate(t, "Welcome channel is now #introductions")
		h.Run("olive", "/settings welcome off").MustPrivate(t, "Welcome: off.")
		h.Run("olive", "/settings retention 30").MustPrivate(t, "Retention is now 30 days")
		h.Run("olive", "/settings kudos-per-day 3").MustPrivate(t, "Kudos per day is now 3")
		h.Run("olive", "/settings admins-are-organisers on").MustPrivate(t, "Admins are organisers: on")

		h.Run("olive", "/settings show").MustPrivate(t, "Timezone: Europe/London", "Digest channel: #impact",
			"Digest schedule: every fri 17:30", "Celebrations channel: #wins", "Welcome: off", "Retention: 30 days",
			"Kudos per day: 3", "Admins are organisers: on")
		h.In("other").Run("olive", "/settings timezone UTC") // not an organiser there
		h.In("other").Organiser("otto")
		h.In("other").Run("otto", "/settings").MustPrivate(t, "Timezone: UTC", "Kudos per day: 10")
	})
}

func TestSettingsRefusals(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		for _, line := range []string{
			"/settings", "/settings timezone Europe/London", "/settings digest-channel #impact",
			"/settings digest-schedule every mon 09:00", "/settings digest off", "/settings celebrations-channel #wins",
			"/settings welcome-channel #hello", "/settings welcome off", "/settings retention 30",
			"/settings kudos-per-day 5", "/settings admins-are-organisers off",
		} {
			h.Unchanged("alice", line, "Only organisers")
		}
		h.Unchanged("olive", "/settings timezone London", "Did you mean Europe/London?")
		h.Unchanged("olive", "/settings timezone Mars/Base", "not a timezone I know", "Europe/London")
		h.Unchanged("olive", "/settings retention 0", "1 to 3650", "Example: /settings retention 90")
		h.Unchanged("olive", "/settings retention 99999", "1 to 3650")
		h.Unchanged("olive", "/settings retention abc", "not a valid <days>", "Example: /settings retention 90")
		h.Unchanged("olive", "/settings kudos-per-day 0", "1 to 100", "Example: /settings kudos-per-day 10")
		h.Unchanged("olive", "/settings kudos-per-day 101", "1 to 100")
		h.Unchanged("olive", "/settings digest on", "no channel yet", "/settings digest-channel #impact")
		h.Run("olive", "/settings").MustPrivate(t, "Digest: off until a digest channel is set")
		h.Unchanged("olive", "/settings digest maybe", "neither on nor off")
		h.Unchanged("olive", "/settings digest-schedule tomorrow 09:00", "happens once", "every mon 09:00")
		h.Unchanged("olive", "/settings digest-schedule every funday 09:00", "")
		h.Unchanged("olive", "/settings digest-channel impact", "")
		h.Run("olive", "/settings").MustPrivate(t, "Digest schedule: every mon 09:00", "Digest channel: not set")
	})
}

func TestAdminsAreOrganisers(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		// Only a workspace admin runs things: turning admins off would lock everyone out.
		mustContain(t, asAdmin(h, "adam", "/settings admins-are-organisers off"), "No one has been added as an organiser yet", "/organisers add")
		mustContain(t, asAdmin(h, "adam", "/settings"), "Admins are organisers: on")

		// Once someone else is added, the admin may turn it off and loses their rights.
		mustContain(t, asAdmin(h, "adam", "/organisers add @olive"), "@olive is now an organiser")
		mustContain(t, asAdmin(h, "adam", "/settings admins-are-organisers off"), "Admins are organisers: off", "you are not one any more")
		mustContain(t, asAdmin(h, "adam", "/settings"), "Only organisers")
		mustContain(t, asAdmin(h, "adam", "/organisers add @adam"), "Only organisers")
		h.Run("olive", "/settings").MustPrivate(t, "Admins are organisers: off")

		// Turned back on, the admin counts again.
		h.Run("olive", "/settings admins-are-organisers on").MustPrivate(t, "Admins are organisers: on")
		mustContain(t, asAdmin(h, "adam", "/settings"), "Admins are organisers: on")
	})
}

// An added organiser who left the workspace (or asked to be forgotten) no
// longer counts toward the lock-out rule, so removing them is not "removing
// the last organiser"; the present one still cannot remove themselves.
func TestRemoveDepartedOrganiser(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/organisers add @sam").MustPrivate(t, "@sam is now an organiser")
		h.Run("olive", "/organisers add @fay").MustPrivate(t, "@fay is now an organiser")
		h.Run("olive", "/settings admins-are-organisers off").MustPrivate(t, "Admins are organisers: off")
		a := enter(t, h, "olive")
		db := h.Store.DB()
		if err := db.Model(&storage.Member{}).Where("community_id = ? AND external_id = ?", int64(a.Community), "sam").Update("left", true).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&storage.Member{}).Where("community_id = ? AND external_id = ?", int64(a.Community), "fay").Update("forgotten", true).Error; err != nil {
			t.Fatal(err)
		}
		h.Run("olive", "/organisers remove @sam").MustPrivate(t, "@sam is no longer an organiser")
		h.Run("olive", "/organisers remove @fay").MustPrivate(t, "is no longer an organiser")
		h.Unchanged("olive", "/organisers remove @olive", "last organiser")
	})
}
