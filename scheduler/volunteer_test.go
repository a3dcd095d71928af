package scheduler_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/bot/volunteer"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

var volunteerAreas = []missiontest.Register{
	func(e *bot.Engine, s *storage.Store) { volunteer.Register(e, s) },
}

// volCommunity makes olive an organiser of h's community, sets its timezone
// to tz and returns the community's id.
func volCommunity(t *testing.T, h *missiontest.H, tz string) bot.CommunityID {
	t.Helper()
	ctx := context.Background()
	h.Organiser("olive")
	a, err := h.Store.Enter(ctx, bot.Visit{Community: h.Community, CommunityName: h.Community.ID, User: h.User("olive"), UserName: "olive", At: h.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.ChangeSettings(ctx, a.Community, mission.Change{Timezone: ptr(tz), Now: h.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return a.Community
}

// countingOutbox counts Enqueue calls on the real outbox.
type countingOutbox struct {
	bot.Outbox
	mu         sync.Mutex
	calls, new int
}

func (o *countingOutbox) Enqueue(ctx context.Context, p bot.Post) (bool, error) {
	ok, err := o.Outbox.Enqueue(ctx, p)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	if ok {
		o.new++
	}
	return ok, err
}

// TestVolunteerReminders follows one opportunity from sign-up to start: the
// day-before reminders go to those confirmed 24 hours before (with a Leave
// button that works), the hour-before ones to those confirmed an hour
// before; none to people who left, to a late sign-up's day, to a cancelled
// opportunity, nor after the start.
func TestVolunteerReminders(t *testing.T) {
	t.Parallel()
	missiontest.Each(t, volunteerAreas, func(t *testing.T, h *missiontest.H) {
		c := volCommunity(t, h, "America/New_York")
		start := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC) // 10:00 in New York
		h.Run("olive", `/volunteer create "Park cleanup" 2026-12-05 10:00 for 2h slots 3 at "Riverside Park"`).MustPrivate(t, "Created #1 Park cleanup")
		h.Run("olive", `/volunteer create "Food bank shift" 2026-12-05 12:00`).MustPrivate(t, "Created #2 Food bank shift")
		for _, m := range []string{"alice", "bob", "dave"} {
			h.Run(m, "/volunteer join #1").MustPrivate(t, "signed up for #1")
		}
		h.Run("erin", "/volunteer join #1").MustPrivate(t, "waitlist at position 1")
		h.Run("alice", "/volunteer join #2").MustPrivate(t, "signed up for #2")
		h.Run("bob", "/volunteer join #2").MustPrivate(t, "signed up for #2")
		h.Run("olive", "/volunteer cancel #2")
		h.Advance(24 * time.Hour)
		h.Run("dave", "/volunteer leave #1").MustPrivate(t, "You've left #1") // erin is promoted

		p := scheduler.NewVolunteerReminders(h.Store)
		out := newRecordingOutbox()
		run(t, out, h.Clock.Now(), start.Add(-24*time.Hour-time.Minute), 15*time.Minute, p)
		if n, _ := out.stats(); n != 0 {
			t.Fatalf("%d reminders before the day-before one is due, want none", n)
		}
		run(t, out, start.Add(-24*time.Hour), start.Add(-20*time.Hour), 15*time.Minute, p)
		day := out.of(c, bot.PostReminder)
		if got := recipients(day); got != "alice,bob,erin" {
			t.Fatalf("day-before reminders to %s, want alice,bob,erin", got)
		}
		var leave bot.Button
		for _, r := range day {
			m := r.Message
			if !strings.HasSuffix(r.SlotKey, ":day") || !r.DueAt.Equal(start.Add(-24*time.Hour)) || !r.NotAfter.Equal(start) ||
				m.Visibility != bot.Direct || m.Kind != bot.PostReminder || len(m.Buttons) != 1 {
				t.Fatalf("day reminder %+v", r)
			}
			if !strings.Contains(m.Text, "#1 Park cleanup on Sat 5 Dec 2026 10:00") || !strings.Contains(m.Text, "waitlist") ||
				!hasField(m, "Where", "Riverside Park") || !hasField(m, "For", "2h") {
				t.Fatalf("day reminder text %q fields %+v", m.Text, m.Fields)
			}
			if m.To.Name == "alice" {
				leave = m.Buttons[0]
			}
		}
		if leave.Label != "Leave" || leave.Action != "cmd:volunteer leave #1" || leave.Style != bot.ButtonDanger {
			t.Fatalf("leave button %+v", leave)
		}

		h.Clock.Set(start.Add(-20 * time.Hour))
		h.Click("alice", leave.Action).MustPrivate(t, "You've left #1 Park cleanup")
		h.Clock.Set(start.Add(-3 * time.Hour))
		h.Run("carol", "/volunteer join #1").MustPrivate(t, "signed up for #1")

		run(t, out, start.Add(-20*time.Hour), start.Add(-time.Hour-time.Minute), 15*time.Minute, p)
		if n := len(out.of(c, bot.PostReminder)); n != 3 {
			t.Fatalf("%d reminders before the hour-before ones are due, want the 3 day-before ones", n)
		}
		run(t, out, start.Add(-time.Hour), start.Add(48*time.Hour), 15*time.Minute, p)
		hour := out.of(c, bot.PostReminder)[3:]
		if got := recipients(hour); got != "bob,carol,erin" {
			t.Fatalf("hour-before reminders to %s, want bob,carol,erin (not alice, who left)", got)
		}
		for _, r := range hour {
			m := r.Message
			if !strings.HasSuffix(r.SlotKey, ":hour") || !r.DueAt.Equal(start.Add(-time.Hour)) || !r.NotAfter.Equal(start) ||
				m.Visibility != bot.Direct || len(m.Buttons) != 0 || !strings.Contains(m.Text, "#1 Park cleanup starts at Sat 5 Dec 2026 10:00") {
				t.Fatalf("hour reminder %+v", r)
			}
		}
	})
}

// TestVolunteerRemindersRealOutbox: on the real outbox each reminder is
// enqueued once, and later calls (this replica's or another's) enqueue
// nothing; a day reminder caught up after downtime is still sent before
// the start.
func TestVolunteerRemindersRealOutbox(t *testing.T) {
	t.Parallel()
	missiontest.Each(t, volunteerAreas, func(t *testing.T, h *missiontest.H) {
		volCommunity(t, h, "Europe/London")
		start := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		h.Run("olive", `/volunteer create "Park cleanup" 2026-12-05 10:00`)
		h.Run("alice", "/volunteer join #1")
		h.Run("bob", "/volunteer join #1")
		h.In("other").Run("alice", "/volunteer join #1") // another community: nothing to join

		out := &countingOutbox{Outbox: h.Store}
		replicas := []scheduler.Producer{scheduler.NewVolunteerReminders(h.Store), scheduler.NewVolunteerReminders(h.Store)}
		now := start.Add(-30 * time.Minute)
		var wg sync.WaitGroup
		for _, p := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.Produce(context.Background(), now, out); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if out.new != 4 {
			t.Fatalf("%d reminders enqueued, want 4 (day and hour for alice and bob)", out.new)
		}
		calls := out.calls
		run(t, out, now, start.Add(time.Hour), time.Minute, replicas...)
		if out.calls != calls || out.new != 4 {
			t.Fatalf("later calls enqueued %d more (%d new), want none", out.calls-calls, out.new-4)
		}
	})
}

func recipients(posts []bot.Post) string {
	var names []string
	for _, p := range posts {
		names = append(names, p.Message.To.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

func hasField(m bot.Message, label, value string) bool {
	for _, f := range m.Fields {
		if f.Label == label && f.Value == value {
			return true
		}
	}
	return false
}

// occurrences returns the starts (UTC) and numbers of the occurrences of
// slug in c, soonest first, with the cancelled ones marked.
func occurrences(t *testing.T, s *storage.Store, c bot.CommunityID, slug string) []volunteer.Opportunity {
	t.Helper()
	os, err := s.FindOpportunities(context.Background(), c, slug)
	if err != nil {
		t.Fatal(err)
	}
	var out []volunteer.Opportunity
	for _, o := range os {
		if o.Slug == slug {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartsAt.Before(out[j].StartsAt) })
	return out
}

// TestOccurrencesWeekAheadDST: a weekly Saturday 10:00 series gets each
// occurrence exactly a week ahead, once, at 10:00 local across the spring
// DST changes of London and New York; an occurrence moved or cancelled by
// an organiser is not made again, and numbering continues per community.
func TestOccurrencesWeekAheadDST(t *testing.T) {
	t.Parallel()
	missiontest.Each(t, volunteerAreas, func(t *testing.T, h *missiontest.H) {
		h.Clock.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)) // a Monday
		ny := h.In("nyc")
		lc, nc := volCommunity(t, h, "Europe/London"), volCommunity(t, ny, "America/New_York")
		const create = `/volunteer create "Saturday cleanup" every sat 10:00 for 2h slots 5 at "Riverside Park"`
		h.Run("olive", create).MustPrivate(t, "Created #1 Saturday cleanup (Sat 7 Mar 2026 10:00)")
		ny.Run("olive", create).MustPrivate(t, "Created #1 Saturday cleanup (Sat 7 Mar 2026 10:00)")
		h.Run("olive", `/volunteer create "Food bank shift" 2026-03-10 18:00`).MustPrivate(t, "Created #2 Food bank shift")

		replicas := []scheduler.Producer{scheduler.NewOccurrences(h.Store), scheduler.NewOccurrences(h.Store)}
		out := newRecordingOutbox()
		run(t, out, h.Clock.Now(), time.Date(2026, 3, 7, 9, 59, 0, 0, time.UTC), time.Hour, replicas...)
		if n := len(occurrences(t, h.Store, lc, "saturday-cleanup")); n != 1 {
			t.Fatalf("%d London occurrences a minute before the next is a week ahead, want 1", n)
		}
		now := time.Date(2026, 3, 7, 10, 0, 0, 0, time.UTC)
		run(t, out, now, now, time.Minute, replicas...)
		os := occurrences(t, h.Store, lc, "saturday-cleanup")
		if len(os) != 2 || os[1].No != 3 || !os[1].StartsAt.Equal(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)) {
			t.Fatalf("a week ahead: %+v, want #3 on 14 March 10:00", os)
		}

		// Organisers move #3 an hour earlier and cancel the next one once it exists.
		h.Clock.Set(now)
		h.Run("olive", "/volunteer edit #3 when 2026-03-14 09:00").MustPrivate(t, "#3")
		run(t, out, now, time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC), time.Hour, replicas...)
		h.Clock.Set(time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC))
		h.Run("olive", "/volunteer cancel #4").MustPrivate(t, "Cancelled")
		run(t, out, h.Clock.Now(), time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC), 3*time.Hour, replicas...)

		for _, z := range []struct {
			c   bot.CommunityID
			loc string
			n   int64 // number of the second occurrence
		}{{lc, "Europe/London", 3}, {nc, "America/New_York", 2}} {
			loc := mustZone(t, z.loc)
			os := occurrences(t, h.Store, z.c, "saturday-cleanup")
			if len(os) != 6 {
				t.Fatalf("%s: %d occurrences, want 6 (7 March to 11 April)", z.loc, len(os))
			}
			for i, o := range os {
				want := time.Date(2026, 3, 7+7*i, 10, 0, 0, 0, loc)
				if z.c == lc && i == 1 {
					want = want.Add(-time.Hour) // moved by the organiser
				}
				if !o.StartsAt.Equal(want) || o.Slots != 5 || o.Place != "Riverside Park" || o.Duration != 2*time.Hour ||
					o.Title != "Saturday cleanup" || o.Rule != "every sat 10:00" || (i > 0 && o.No != z.n+int64(i-1)) {
					t.Errorf("%s: occurrence %d is #%d at %s (%s local), want %s local; %+v", z.loc, i, o.No, o.StartsAt, o.StartsAt.In(loc), want, o)
				}
				if o.Cancelled != (z.c == lc && i == 2) {
					t.Errorf("%s: occurrence %d cancelled = %v", z.loc, i, o.Cancelled)
				}
			}
		}
		if _, calls := out.stats(); calls != 0 {
			t.Fatalf("occurrences enqueued %d posts, want none", calls)
		}
	})
}

// TestOccurrencesConcurrent: many replicas creating a daily series' week at
// once make each occurrence exactly once, with distinct numbers; after the
// series is cancelled, none are made.
func TestOccurrencesConcurrent(t *testing.T) {
	t.Parallel()
	missiontest.Each(t, volunteerAreas, func(t *testing.T, h *missiontest.H) {
		h.Clock.Set(time.Date(2026, 10, 26, 12, 0, 0, 0, time.UTC))
		c := volCommunity(t, h, "America/New_York") // clocks go back on 1 November
		h.Run("olive", `/volunteer create "Breakfast run" every day 07:30 slots 2`).MustPrivate(t, "Created #1 Breakfast run")
		now := h.Clock.Now()
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := scheduler.NewOccurrences(h.Store).Produce(context.Background(), now, nil); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		os := occurrences(t, h.Store, c, "breakfast-run")
		if len(os) != 6 {
			t.Fatalf("%d occurrences, want 6 (27 October to 1 November, after the clocks went back)", len(os))
		}
		loc := mustZone(t, "America/New_York")
		seen := map[int64]bool{}
		for i, o := range os {
			want := time.Date(2026, 10, 27+i, 7, 30, 0, 0, loc)
			if !o.StartsAt.Equal(want) || seen[o.No] || o.Slots != 2 {
				t.Errorf("occurrence %d: #%d at %s local, want %s", i, o.No, o.StartsAt.In(loc), want)
			}
			seen[o.No] = true
		}
		h.Run("olive", "/volunteer cancel #1 series").MustPrivate(t, "Cancelled the series")
		if err := scheduler.NewOccurrences(h.Store).Produce(context.Background(), now.Add(72*time.Hour), nil); err != nil {
			t.Fatal(err)
		}
		if n := len(occurrences(t, h.Store, c, "breakfast-run")); n != 6 {
			t.Fatalf("%d occurrences after the series was cancelled, want 6", n)
		}
	})
}
