package storage

import (
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// TestPlanOccurrences: each planned time spans halfway to its neighbours,
// uneven cron intervals included, and a time in a spring-forward gap moves
// to the gap's end.
func TestPlanOccurrences(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	d := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		rule string
		now  time.Time
		want []plannedOccurrence
	}{
		{"every sat 10:00", d(20, 12, 0), []plannedOccurrence{
			{at: d(21, 10, 0), from: d(17, 22, 0), to: d(24, 22, 0)},
		}},
		{"every sun 01:30", d(23, 0, 0), []plannedOccurrence{
			{at: d(29, 1, 0), from: d(25, 13, 15), to: d(1+31, 12, 45)}, // 01:30 does not exist: 02:00 BST
		}},
		{"cron 0 9,17 * * 1", d(22, 12, 0), []plannedOccurrence{
			{at: d(23, 9, 0), from: d(20, 1, 0), to: d(23, 13, 0)},
			{at: d(23, 17, 0), from: d(23, 13, 0), to: d(27, 0, 30)}, // the next is 09:00 BST
		}},
	} {
		r, err := bot.ParseRecurrence(tc.rule)
		if err != nil {
			t.Fatal(err)
		}
		got := planOccurrences(r, london, tc.now, tc.now.Add(7*24*time.Hour))
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %+v, want %+v", tc.rule, got, tc.want)
		}
		for i := range got {
			if !got[i].at.Equal(tc.want[i].at) || !got[i].from.Equal(tc.want[i].from) || !got[i].to.Equal(tc.want[i].to) {
				t.Errorf("%s: occurrence %d: %+v, want %+v", tc.rule, i, got[i], tc.want[i])
			}
		}
	}
}

// TestPlanOccurrencesBounded: a rule firing every minute plans at most
// maxOccurrences, all after now.
func TestPlanOccurrencesBounded(t *testing.T) {
	r, err := bot.ParseRecurrence("cron * * * * *")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	got := planOccurrences(r, time.UTC, now, now.Add(7*24*time.Hour))
	if len(got) != maxOccurrences || !got[0].at.After(now) || got[0].from != got[0].at.Add(-30*time.Second) {
		t.Fatalf("%d planned, first %+v", len(got), got[0])
	}
}
