package goal_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"
)

var areas = []missiontest.Register{func(e *bot.Engine, s *storage.Store) { goal.Register(e, s) }}

func TestCreateListShow(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("alice", "/goal").MustPrivate(t, "no active goals")
		h.Run("olive", `/goal create "Plant 1000 trees" 1000 trees by 2026-12-31`).
			MustPrivate(t, "Goal created: Plant 1000 trees", "#1, slug plant-1000-trees").MustNoPublic(t)
		h.Run("olive", `/goal create "Plant 1000 trees" 500 trees`).MustPrivate(t, "slug plant-1000-trees-2")
		h.Run("olive", `/goal create "Volunteer hours" 500 hours as hours`).MustPrivate(t, "#3, slug hours")
		out := h.Run("alice", "/goal list").MustPrivate(t, "Active goals", "#1 Plant 1000 trees (plant-1000-trees)", "0 / 1,000 trees",
			"due Thu 31 Dec 2026", "#3 Volunteer hours (hours)")
		if strings.Index(out.Private, "#1") > strings.Index(out.Private, "#3") {
			t.Fatalf("goals out of order:\n%s", out.Private)
		}
		h.Run("alice", "/goal show plant-1000-trees").MustPrivate(t, "#1 Plant 1000 trees", "0 trees of 1,000 trees (0%)",
			"needs 32.26 trees a day (225.82 trees a week) to finish by Thu 31 Dec 2026", "no progress yet")
		h.Run("alice", "/goal show #3").MustPrivate(t, "Volunteer hours")
	})
}

func TestSlugs(t *testing.T) {
	if got := bot.Slug("  Plant 1,000 Trees! 🌳 ", "goal"); got != "plant-1-000-trees" {
		t.Fatalf("Slugify = %q", got)
	}
	if got := bot.Slug("🌳", "goal"); got != "goal" {
		t.Fatalf("Slugify emoji = %q", got)
	}
	if got := bot.Slug(strings.Repeat("ab ", 40), "goal"); len(got) > goal.MaxSlugLen || strings.HasSuffix(got, "-") {
		t.Fatalf("Slugify long = %q", got)
	}
	for s, ok := range map[string]bool{"trees": true, "a-1": true, "-a": false, "a-": false, "Trees": false, "a_b": false, "": false, strings.Repeat("a", 65): false} {
		if goal.ValidSlug(s) != ok {
			t.Errorf("ValidSlug(%q) != %v", s, ok)
		}
	}
}

func TestEditCloseReopen(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/goal create "Plant 1000 trees" 1000 trees`)
		h.Run("olive", "/goal edit plant-1000-trees title \"Plant 1200 trees\" target 1200 by 2027-01-31").
			MustPrivate(t, "Goal updated: Plant 1200 trees", "0 / 1,200 trees", "due Sun 31 Jan 2027")
		h.Run("olive", "/goal close").MustPrivate(t, "Closed Plant 1200 trees")
		h.Run("alice", "/goal").MustPrivate(t, "no active goals")
		h.Unchanged("olive", "/goal close plant-1000-trees", "already closed")
		h.Run("olive", "/goal reopen plant-1000-trees").MustPrivate(t, "Reopened")
		h.Run("alice", "/goal").MustPrivate(t, "Plant 1200 trees")
	})
}

func TestPace(t *testing.T) {
	created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	g := goal.Goal{Title: "T", Unit: "trees", Target: 100000, Progress: 25000, CreatedAt: created,
		DueAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	now := created.Add(10 * 24 * time.Hour)
	got := goal.Pace(g, now, time.UTC)
	for _, want := range []string{"needs 35.72 trees a day (250.04 trees a week)", "finishes around Sun 10 Jan 2027", "behind schedule"} {
		if !strings.Contains(got, want) {
			t.Errorf("Pace = %q, lacks %q", got, want)
		}
	}
	g.Progress = 50000
	if got := goal.Pace(g, now, time.UTC); !strings.Contains(got, "on track") {
		t.Errorf("Pace at half = %q", got)
	}
	g.Progress = g.Target
	if got := goal.Pace(g, now, time.UTC); !strings.Contains(got, "reached") {
		t.Errorf("Pace at target = %q", got)
	}
}

func TestBadInput(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/goal create "Plant 1000 trees" 1000 trees as trees`)
		h.Run("olive", `/goal create "Plant more trees" 10 trees`)
		h.Unchanged("alice", `/goal create "Litter" 100 kg`, "Only organisers")
		h.Unchanged("olive", `/goal create`, "Example")
		h.Unchanged("olive", `/goal create "Litter"`, "Example")
		h.Unchanged("olive", `/goal create "Litter" 0 kg`, "zero")
		h.Unchanged("olive", `/goal create "Litter" -5 kg`, "negative")
		h.Unchanged("olive", `/goal create "Litter" NaN kg`, "not a number")
		h.Unchanged("olive", `/goal create "Litter" 1e999 kg`, "not a number")
		h.Unchanged("olive", `/goal create "Litter" 2,5 kg`, "2.5")
		h.Unchanged("olive", `/goal create "Litter" 10000000000000 kg`, "too large")
		h.Unchanged("olive", `/goal create "Litter" 100 kg by 2026-02-30`, "2026-02-30")
		h.Unchanged("olive", `/goal create "Litter" 100 kg by 2026-11-30`, "in the past")
		h.Unchanged("olive", `/goal create "Litter" 100 kg as trees`, "already used")
		h.Unchanged("olive", `/goal create "Litter" 100 kg as Bad_Slug`, "not a usable slug")
		h.Unchanged("olive", `/goal create "`+strings.Repeat("x", 201)+`" 100 kg`, "too long")
		h.Unchanged("olive", "/goal create Litter 100 kg @bob", "can't mention")
		h.Unchanged("alice", "/goal edit trees target 5", "Only organisers")
		h.Unchanged("alice", "/goal close trees", "Only organisers")
		h.Unchanged("olive", "/goal edit trees", "Say what to change")
		h.Unchanged("olive", "/goal edit nosuch target 5", "No goal matches")
		h.Unchanged("olive", "/goal edit plant target 5", "could mean")
		h.Unchanged("olive", "/goal edit trees target 0", "zero")
		h.Unchanged("olive", "/goal edit trees by 2026-02-30", "2026-02-30")
		h.Unchanged("alice", "/goal show nosuch", "No goal matches")
		h.Unchanged("alice", "/goal show plant", "could mean")
		h.Unchanged("alice", "/goal show", "Which goal?")
		h.Unchanged("olive", "/goal reopen trees", "already open")
		// Another community's goal looks exactly like a missing one.
		other := h.In("other")
		other.Organiser("oscar")
		other.Run("oscar", `/goal create "Clean the beach" 50 bags`)
		missing := h.Run("alice", "/goal show #9").Private
		foreign := h.Run("alice", "/goal show #3").Private
		if strings.ReplaceAll(missing, "#9", "#3") != foreign {
			t.Fatalf("foreign id differs from missing one:\n%s\n%s", missing, foreign)
		}
		h.Unchanged("olive", "/goal close #3", "No goal matches")
	})
}

// A long title's automatic slug is cut to fit its -2, -3 … suffix; every
// further goal with that title still gets a free slug.
func TestLongTitleSlugs(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		title := strings.Repeat("a", 70)
		h.Run("olive", `/goal create "`+title+`" 10 trees`).MustPrivate(t, "slug "+strings.Repeat("a", 60)+".")
		h.Run("olive", `/goal create "`+title+`" 10 trees`).MustPrivate(t, "slug "+strings.Repeat("a", 60)+"-2.")
		h.Run("olive", `/goal create "`+title+`" 10 trees`).MustPrivate(t, "slug "+strings.Repeat("a", 60)+"-3.")
	})
}

// An exact slug wins over title prefixes, however many goals share them.
func TestSlugBeatsManyTitlePrefixes(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		for i := 1; i <= 11; i++ {
			h.Run("olive", fmt.Sprintf(`/goal create "Trees round %d" 10 trees`, i)).MustPrivate(t, "Goal created")
		}
		h.Run("olive", `/goal create "Urban forest" 10 trees as trees`).MustPrivate(t, "slug trees")
		h.Run("alice", "/goal show trees").MustPrivate(t, "#12 Urban forest")
	})
}

func TestEditTitleRefusesMentions(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/goal create "Food drive" 100 £ as food`).MustPrivate(t, "Goal created")
		h.Unchanged("olive", `/goal edit food title "Food for <@bob|bob>"`, "can't mention", "Example")
	})
}

// The hint after creating a money goal is a pledge people can type as shown.
func TestCreateHintUsesUnit(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/goal create "Food drive" 100 £ as food`).MustPrivate(t, "/pledge £10 to food")
		h.Run("olive", `/goal create "Plant trees" 100 trees as trees`).MustPrivate(t, "/pledge 10 trees to trees")
	})
}
