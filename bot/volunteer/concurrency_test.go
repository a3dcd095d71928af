package volunteer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/missiontest"
)

type signupRow struct {
	Name     string
	Status   string
	Position int
	ID       int64
}

// signups returns opportunity #1's sign-ups in commit order (row id order:
// rows are inserted while the opportunity row is locked).
func signups(t *testing.T, h *missiontest.H) []signupRow {
	t.Helper()
	var rows []signupRow
	if err := h.Store.DB().Raw(`SELECT m.external_id AS name, s.status, s.position, s.id FROM signups s
		JOIN members m ON m.id = s.member_id JOIN opportunities o ON o.id = s.opportunity_id
		WHERE o.no = 1 ORDER BY s.id`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

func counters(t *testing.T, h *missiontest.H) (confirmed, waitlisted int) {
	t.Helper()
	var c struct{ Confirmed, Waitlisted int }
	if err := h.Store.DB().Raw("SELECT confirmed, waitlisted FROM opportunities WHERE no = 1").Scan(&c).Error; err != nil {
		t.Fatal(err)
	}
	return c.Confirmed, c.Waitlisted
}

// runAll runs every request at once and returns the replies in the same order.
func runAll(h *missiontest.H, reqs []bot.Request) []bot.Reply {
	replies := make([]bot.Reply, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			replies[i] = h.Engine.Do(context.Background(), reqs[i])
		}()
	}
	close(start)
	wg.Wait()
	return replies
}

func TestConcurrentJoinsNeverExceedCapacity(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/volunteer create "Beach clean" 2026-12-05 10:00 for 2h slots 10`).MustPrivate(t, "Created #1")

		names := make([]string, 50)
		reqs := make([]bot.Request, 50)
		for i := range names {
			names[i] = fmt.Sprintf("m%02d", i)
			reqs[i] = h.Request(names[i], "/volunteer join #1")
		}
		replies := runAll(h, reqs)
		replyOf := map[string]string{}
		for i, r := range replies {
			if len(r.Messages) != 1 {
				t.Fatalf("%s got %d messages: %+v", names[i], len(r.Messages), r)
			}
			replyOf[names[i]] = r.Messages[0].Text
			if !strings.Contains(r.Messages[0].Text, "#1 Beach clean") {
				t.Errorf("%s was told: %s", names[i], r.Messages[0].Text)
			}
		}

		rows := signups(t, h)
		var confirmed, waiting []signupRow
		for _, r := range rows {
			switch r.Status {
			case "confirmed":
				confirmed = append(confirmed, r)
				if !strings.Contains(replyOf[r.Name], "You're signed up for #1 Beach clean") {
					t.Errorf("confirmed %s was told: %s", r.Name, replyOf[r.Name])
				}
			case "waitlisted":
				waiting = append(waiting, r)
			default:
				t.Errorf("%s has status %q", r.Name, r.Status)
			}
		}
		if len(confirmed) != 10 || len(waiting) != 40 {
			t.Fatalf("%d confirmed and %d waitlisted, want 10 and 40", len(confirmed), len(waiting))
		}
		for i, r := range waiting {
			if r.Position != i+1 {
				t.Fatalf("waitlisted #%d in commit order (%s) has position %d, want %d", i+1, r.Name, r.Position, i+1)
			}
			if want := fmt.Sprintf("on the waitlist at position %d.", r.Position); !strings.Contains(replyOf[r.Name], want) {
				t.Errorf("%s at position %d was told: %s", r.Name, r.Position, replyOf[r.Name])
			}
		}
		if c, w := counters(t, h); c != 10 || w != 40 {
			t.Fatalf("counters %d confirmed, %d waitlisted; want 10, 40", c, w)
		}

		// Five confirmed members leave at once: waitlist 1–5 are promoted,
		// each told exactly once, and the rest renumbered 1–35.
		leaves := make([]bot.Request, 5)
		for i := range leaves {
			leaves[i] = h.Request(confirmed[i].Name, "/volunteer leave #1")
		}
		told := map[string]int{}
		for i, r := range runAll(h, leaves) {
			for _, m := range r.Messages {
				switch m.Visibility {
				case bot.Direct:
					told[m.To.Name]++
					if !strings.Contains(m.Text, "now confirmed for #1 Beach clean") {
						t.Errorf("note to %s: %s", m.To.Name, m.Text)
					}
				case bot.Private:
					if !strings.Contains(m.Text, "You've left #1 Beach clean") {
						t.Errorf("%s was told: %s", confirmed[i].Name, m.Text)
					}
				}
			}
		}
		if len(told) != 5 {
			t.Fatalf("told %v, want the first 5 waitlisted once each", told)
		}
		for _, r := range waiting[:5] {
			if told[r.Name] != 1 {
				t.Fatalf("%s (waitlist %d) told %d times; all notes %v", r.Name, r.Position, told[r.Name], told)
			}
		}

		status := map[string]signupRow{}
		for _, r := range signups(t, h) {
			status[r.Name] = r
		}
		for _, r := range confirmed[:5] {
			if status[r.Name].Status != "left" {
				t.Fatalf("%s is %s after leaving", r.Name, status[r.Name].Status)
			}
		}
		for _, r := range waiting[:5] {
			if status[r.Name].Status != "confirmed" {
				t.Fatalf("%s is %s after promotion", r.Name, status[r.Name].Status)
			}
		}
		for i, r := range waiting[5:] {
			if got := status[r.Name]; got.Status != "waitlisted" || got.Position != i+1 {
				t.Fatalf("%s is %s at %d, want waitlisted at %d", r.Name, got.Status, got.Position, i+1)
			}
		}
		if c, w := counters(t, h); c != 10 || w != 35 {
			t.Fatalf("counters %d confirmed, %d waitlisted; want 10, 35", c, w)
		}
	})
}
