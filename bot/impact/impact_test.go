package impact_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/missionbot/missionbot/internal/missiontest"
)

func TestDashboardNumbers(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		seed(t, h)
		h.Run("alice", "/impact").MustPrivate(t,
			"Impact: week of Mon 30 Nov",
			"22 / 1,000 trees  this week +15 trees (▲ from 7 trees)",
			"Actions this week: 7 ▲ from 2",
			"Contributions: 4 ▲ from 2",
			"Volunteer hours: 5 (▲ from 1.5)",
			"Pledges made: 1 ▲ from 0",
			"Wins: 1 ▲ from 0",
			"Kudos: 1 ▲ from 0",
			"Members: 2 active · 1 new · 1 returning · 2 lapsed",
			"America/New_York",
		).MustNoPublic(t)
	})
}

// In UTC the same rows fall into other weeks: bob's Sunday-night log is
// this week, gina is new, erin's activity is inside the lapsed window.
func TestDashboardWeeksFollowTimezone(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		f := seed(t, h)
		if err := h.Store.DB().Exec("UPDATE communities SET timezone = 'UTC' WHERE id = ?", f.Community).Error; err != nil {
			t.Fatal(err)
		}
		h.Run("alice", "/impact").MustPrivate(t,
			"this week +22 trees (▲ from 0 trees)",
			"Contributions: 6 ▲ from 0",
			"Members: 3 active · 2 new · 1 returning · 3 lapsed",
		)
	})
}

func TestGoalImpact(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		seed(t, h)
		h.Run("alice", "/impact plant-1000-trees").MustPrivate(t,
			"Impact: #1 Plant 1000 trees (plant-1000-trees)",
			"22 / 1,000 trees",
			"Pledged: 20 trees",
			"Fulfilled: 5 trees (25% of pledged)",
			"This week: +15 trees in 2 contributions (▲ from 7 trees)",
			"Contributors: 3",
			"Due: Thu 31 Dec 2026",
		)
		h.Run("alice", "/impact #1").MustPrivate(t, "Contributors: 3")
	})
}

func TestImpactBadInput(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		seed(t, h)
		h.Unchanged("alice", "/impact no-such-goal", "No goal matches \"no-such-goal\"", "plant-1000-trees")
		h.Unchanged("alice", "/impact plant", "could mean", "plant-bulbs")
		h.Unchanged("alice", "/impact #99", "No goal matches \"#99\"")
		h.Unchanged("alice", "/impact export", "Only organisers")
		// Another community's goal #1 answers exactly like a missing one.
		other := h.In("elsewhere")
		other.Run("zed", "/impact").MustPrivate(t, "No active goals yet", "Contributions: 0, same as before", "Members: 0 active · 1 new")
		other.Unchanged("zed", "/impact #1", "No goal matches \"#1\"")
		other.Unchanged("zed", "/impact plant-1000-trees", "No goal matches \"plant-1000-trees\"")
	})
}

func TestExportEscapesAndAnonymises(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		seed(t, h)
		out := h.Run("olive", "/impact export").MustPrivate(t, "impact-2026-12-01.csv").MustNoPublic(t)
		f := out.Reply.Messages[0].File
		if f == nil || f.ContentType != "text/csv" || f.Name != "impact-2026-12-01.csv" {
			t.Fatalf("file: %+v", f)
		}
		rows, err := csv.NewReader(bytes.NewReader(f.Data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rows[0], ","); got != "type,id,time_utc,kind,member,goal,amount,unit,status,opportunity,to,text" {
			t.Fatalf("header: %s", got)
		}
		count := map[string]int{}
		for _, r := range rows[1:] {
			count[r[0]]++
			switch {
			case r[0] == "win":
				if r[11] != `'=HYPERLINK("http://example.com/x","click me")` || r[4] != "alice" || r[1] != "#1" {
					t.Errorf("win row not escaped: %q", r)
				}
			case r[0] == "pledge":
				if r[4] != "" || r[6] != "20" || r[5] != "plant-1000-trees" {
					t.Errorf("anonymous pledge shows a name or wrong amount: %q", r)
				}
			case r[0] == "contribution" && r[3] == "pledge":
				if r[4] != "" {
					t.Errorf("anonymous contribution shows a name: %q", r)
				}
			case r[0] == "contribution" && r[3] == "log" && r[4] == "alice":
				if r[11] != "'-fixed the gate" || r[6] != "10" || r[7] != "trees" {
					t.Errorf("note not escaped: %q", r)
				}
			case r[0] == "contribution" && r[3] == "attended":
				if r[4] != "frank" || r[6] != "3" || r[7] != "hours" {
					t.Errorf("attended row: %q", r)
				}
			case r[0] == "kudos" && r[11] == "thanks":
				if r[4] != "" || r[10] != "alice" {
					t.Errorf("forgotten giver shows a name: %q", r)
				}
			case r[0] == "kudos":
				if r[11] != "'+1 for the rota" || r[4] != "alice" || r[10] != "frank" {
					t.Errorf("kudos row: %q", r)
				}
			}
		}
		want := map[string]int{"pledge": 1, "contribution": 6, "win": 1, "kudos": 2}
		for k, n := range want {
			if count[k] != n {
				t.Errorf("%d %s rows, want %d", count[k], k, n)
			}
		}
		if strings.Contains(string(f.Data), "erin") {
			t.Errorf("forgotten member's name in export:\n%s", f.Data)
		}
	})
}
