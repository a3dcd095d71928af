package storage

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/announce"
	"github.com/missionbot/missionbot/bot/mission"
)

// scheduleCommunity makes community name with its organiser, and applies ch.
func scheduleCommunity(t *testing.T, s *Store, name string, ch mission.Change) (bot.CommunityID, bot.MemberID) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: name},
		User: bot.UserRef{Platform: bot.Console, Space: name, ID: "you"}, UserName: "you", At: at})
	if err != nil {
		t.Fatal(err)
	}
	ch.Now = at
	if _, err := s.ChangeSettings(ctx, a.Community, ch); err != nil {
		t.Fatal(err)
	}
	return a.Community, a.Member.ID
}

func ptr[T any](v T) *T { return &v }

func TestDigestCommunities(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		impact := bot.ChannelRef{ID: "C1", Name: "impact"}
		on, _ := scheduleCommunity(t, s, "on", mission.Change{DigestChannel: &impact, Timezone: ptr("Europe/London"), DigestSchedule: ptr("every tue 08:30")})
		scheduleCommunity(t, s, "nochannel", mission.Change{})
		scheduleCommunity(t, s, "off", mission.Change{DigestChannel: &impact, DigestOn: ptr(false)})
		got, err := s.DigestCommunities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[bot.CommunityID]bot.Settings{on: {Timezone: "Europe/London", DigestChannel: impact, DigestSchedule: "every tue 08:30", DigestOn: true}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("digest communities %+v, want %+v", got, want)
		}
	})
}

func TestDueAndAdvanceAnnouncements(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c, m := scheduleCommunity(t, s, "a", mission.Change{Timezone: ptr("Europe/London")})
		other, om := scheduleCommunity(t, s, "b", mission.Change{})
		ch := bot.ChannelRef{ID: "C9", Name: "general"}
		add := func(c bot.CommunityID, m bot.MemberID, a announce.Announcement) announce.Announcement {
			t.Helper()
			a.Channel, a.CreatedBy, a.CreatedAt, a.Status = ch, m, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), announce.StatusActive
			got, err := s.AddAnnouncement(ctx, c, a)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		// Monday 23 March 2026 09:00 GMT; the clocks go forward on the 29th.
		mon := time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC)
		weekly := add(c, m, announce.Announcement{Rule: "every mon 09:00", NextAt: mon, Message: "weekly"})
		once := add(c, m, announce.Announcement{At: mon.Add(time.Hour), NextAt: mon.Add(time.Hour), Message: "once"})
		cancelled := add(c, m, announce.Announcement{At: mon, NextAt: mon, Message: "cancelled"})
		if _, err := s.CancelAnnouncement(ctx, c, cancelled.No); err != nil {
			t.Fatal(err)
		}
		add(other, om, announce.Announcement{At: mon.Add(48 * time.Hour), NextAt: mon.Add(48 * time.Hour), Message: "later"})

		comms, err := s.AnnouncementCommunities(ctx, mon.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(comms, []bot.CommunityID{c}) {
			t.Fatalf("communities %v, want [%d]", comms, c)
		}
		due, err := s.DueAnnouncements(ctx, c, mon.Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 2 || due[0].No != weekly.No || due[1].No != once.No {
			t.Fatalf("due %+v, want #%d then #%d", due, weekly.No, once.No)
		}
		if due, _ := s.DueAnnouncements(ctx, other, mon.Add(time.Hour), 10); len(due) != 0 {
			t.Fatalf("other community due %+v, want none", due)
		}

		// Recurring: the next Monday 09:00 London, which is 08:00 UTC (BST).
		a, ok, err := s.AdvanceAnnouncement(ctx, c, weekly.No, mon)
		if err != nil || !ok {
			t.Fatalf("advance weekly: %v %v", ok, err)
		}
		if want := time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC); !a.NextAt.Equal(want) || a.Status != announce.StatusActive {
			t.Fatalf("weekly after advance: next %s status %s, want %s active", a.NextAt, a.Status, want)
		}
		// Advancing from the old occurrence again changes nothing.
		if a, ok, err := s.AdvanceAnnouncement(ctx, c, weekly.No, mon); err != nil || ok || !a.NextAt.Equal(time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC)) {
			t.Fatalf("repeat advance: %+v %v %v, want unchanged", a, ok, err)
		}
		// The community's timezone as it is now applies to the next one.
		if _, err := s.ChangeSettings(ctx, c, mission.Change{Timezone: ptr("America/New_York"), Now: mon.Add(2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		// Re-timed from the change: Monday 23 March 09:00 New York (EDT).
		due, _ = s.DueAnnouncements(ctx, c, time.Date(2026, 3, 23, 13, 0, 0, 0, time.UTC), 10)
		if len(due) != 2 || due[0].No != once.No || due[1].No != weekly.No {
			t.Fatalf("due after timezone change %+v", due)
		}
		a, ok, err = s.AdvanceAnnouncement(ctx, c, weekly.No, due[1].NextAt)
		if err != nil || !ok {
			t.Fatalf("advance in New York: %v %v", ok, err)
		}
		if want := time.Date(2026, 3, 30, 13, 0, 0, 0, time.UTC); !a.NextAt.Equal(want) {
			t.Fatalf("next after timezone change %s, want %s (Monday 09:00 New York)", a.NextAt, want)
		}

		// One-off: done, no next time, no longer due.
		a, ok, err = s.AdvanceAnnouncement(ctx, c, once.No, once.NextAt)
		if err != nil || !ok || a.Status != announce.StatusDone || !a.NextAt.IsZero() {
			t.Fatalf("advance one-off: %+v %v %v, want done", a, ok, err)
		}
		if _, ok, _ := s.AdvanceAnnouncement(ctx, c, once.No, once.NextAt); ok {
			t.Fatal("a done announcement advanced again")
		}
		// Cancelled: never advanced.
		if a, ok, err := s.AdvanceAnnouncement(ctx, c, cancelled.No, mon); err != nil || ok || a.Status != announce.StatusCancelled {
			t.Fatalf("advance cancelled: %+v %v %v", a, ok, err)
		}
		// Another community's number is not found.
		if _, _, err := s.AdvanceAnnouncement(ctx, other, 99, mon); !errors.Is(err, announce.ErrNotFound) {
			t.Fatalf("advance unknown: %v, want ErrNotFound", err)
		}
	})
}
