package scheduler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// member enters name into community id (a platform admin when admin).
func member(t *testing.T, s *storage.Store, id, name string, admin bool) bot.MemberID {
	t.Helper()
	a, err := s.Enter(context.Background(), bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: id},
		User: bot.UserRef{Platform: bot.Console, Space: id, ID: name}, UserName: name, PlatformAdmin: admin, At: dispT0})
	if err != nil {
		t.Fatal(err)
	}
	return a.Member.ID
}

func countRows(t *testing.T, s *storage.Store, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.DB().Model(&storage.OutboxPost{}).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNoticesGoToEachOrganiserPrivatelyOnce: a failed post tells every
// organiser (added ones, and platform admins while admins count), each in
// a private message of their own, posted once; members, departed organisers
// and (once admins stop counting) admins are not told.
func TestNoticesGoToEachOrganiserPrivatelyOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		c := dispCommunity(t, s, "a") // olive: platform admin
		ada := member(t, s, "a", "ada", false)
		member(t, s, "a", "max", false) // a member, never told
		gone := member(t, s, "a", "gus", false)
		for _, m := range []bot.MemberID{ada, gone} {
			if err := s.SetOrganiser(ctx, c, m, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Depart(ctx, bot.CommunityRef{Platform: bot.Console, ID: "a"}, bot.UserRef{Platform: bot.Console, Space: "a", ID: "gus"}, dispT0); err != nil {
			t.Fatal(err)
		}
		r := dispEnqueue(t, s, c, "one", dispT0, time.Time{})
		p := newFakePoster()
		p.post = func(key string, _ int) error {
			if key == scheduler.Key(r.ID) {
				return fmt.Errorf("not_in_channel: %w", bot.ErrPermanent)
			}
			return nil
		}
		sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
		ms := dispRun(t, sc, dispT0)
		mustNotices(t, ms, "a", []string{"olive", "ada"}, "The digest post for one", "not_in_channel")
		if ms := dispRun(t, sc, dispT0.Add(time.Hour)); len(ms) != 0 {
			t.Fatalf("told again: %+v", ms)
		}
		if n := countRows(t, s, "kind = ? AND status = ?", scheduler.PostNotice, storage.OutboxSent); n != 2 {
			t.Fatalf("%d notices sent, want 2", n)
		}
		p.mu.Lock()
		for key, n := range p.posts {
			if n != 1 {
				t.Errorf("%s posted %d times", key, n)
			}
		}
		p.mu.Unlock()

		// Admins no longer count: only added organisers are told.
		if _, err := s.ChangeSettings(ctx, c, mission.Change{AdminsAreOrganisers: ptr(false), Now: dispT0}); err != nil {
			t.Fatal(err)
		}
		dispEnqueue(t, s, c, "two", dispT0.Add(2*time.Hour), time.Time{})
		p.post = func(key string, _ int) error {
			if key == scheduler.Key(dispRow(t, s, c, "two").ID) {
				return fmt.Errorf("channel_not_found: %w", bot.ErrPermanent)
			}
			return nil
		}
		mustNotices(t, dispRun(t, sc, dispT0.Add(2*time.Hour)), "a", []string{"ada"}, "The digest post for two", "channel_not_found")
	})
}

// TestFailingNoticeMakesNoNoticeAboutItself: when the platform refuses
// everything, the post fails, each organiser's notice fails, and nothing
// more is enqueued or tried.
func TestFailingNoticeMakesNoNoticeAboutItself(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		c := dispCommunity(t, s, "a")
		if err := s.SetOrganiser(ctx, c, member(t, s, "a", "ada", false), true); err != nil {
			t.Fatal(err)
		}
		dispEnqueue(t, s, c, "one", dispT0, time.Time{})
		p := newFakePoster()
		calls := 0
		p.post = func(string, int) error {
			calls++
			return fmt.Errorf("cannot_dm_bot: %w", bot.ErrPermanent)
		}
		sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
		for _, at := range []time.Time{dispT0, dispT0.Add(time.Hour), dispT0.Add(48 * time.Hour)} {
			if ms := dispRun(t, sc, at); len(ms) != 0 {
				t.Fatalf("shown %+v", ms)
			}
		}
		if calls != 3 {
			t.Fatalf("%d post calls, want 3 (the post, then one notice per organiser)", calls)
		}
		if n := countRows(t, s, "1 = 1"); n != 3 {
			t.Fatalf("%d outbox rows, want 3", n)
		}
		if n := countRows(t, s, "kind = ? AND status = ?", scheduler.PostNotice, storage.OutboxFailed); n != 2 {
			t.Fatalf("%d failed notices, want 2", n)
		}
	})
}

// TestRecordingAFailureTwiceNotifiesOnce: the notices' slot keys name the
// failed row and the organiser, so enqueueing them again changes nothing.
func TestRecordingAFailureTwiceNotifiesOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		c := dispCommunity(t, s, "a")
		r := dispEnqueue(t, s, c, "one", dispT0, time.Time{})
		if _, err := s.Claim(ctx, dispT0, 10, time.Minute, "tok"); err != nil {
			t.Fatal(err)
		}
		n := bot.Message{Visibility: bot.Direct, Kind: scheduler.PostNotice, Text: "it failed"}
		if err := s.MarkFailed(ctx, r.ID, "tok", "gone", dispT0, n); err != nil {
			t.Fatal(err)
		}
		// A second recording is refused (the row is no longer pending) and
		// a direct enqueue of the same slot is a no-op.
		if err := s.MarkFailed(ctx, r.ID, "tok", "gone", dispT0, n); err == nil {
			t.Fatal("a failed row was marked again")
		}
		added, err := s.Enqueue(ctx, bot.Post{Community: c, Kind: scheduler.PostNotice, SlotKey: scheduler.NoticeSlot(r.ID, 1), DueAt: dispT0, Message: n})
		if err != nil || added {
			t.Fatalf("re-enqueue of the notice = %v, %v; want an existing slot", added, err)
		}
		if got := countRows(t, s, "kind = ?", scheduler.PostNotice); got != 1 {
			t.Fatalf("%d notices, want 1", got)
		}
	})
}

// TestPostWithoutChannelFailsAndTellsOrganisers: a public post stored
// without a channel (a milestone in a community with no celebrations
// channel, reached outside a command) is not lost silently.
func TestPostWithoutChannelFailsAndTellsOrganisers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		c := dispCommunity(t, s, "a")
		if _, err := s.Enqueue(context.Background(), bot.Post{Community: c, Kind: bot.PostMilestone, SlotKey: "1:50", DueAt: dispT0,
			Message: bot.Message{Visibility: bot.Public, Kind: bot.PostMilestone, Text: "🎉"}}); err != nil {
			t.Fatal(err)
		}
		p := newFakePoster()
		sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
		mustNotices(t, dispRun(t, sc, dispT0), "a", []string{"olive"}, "The milestone post for 1:50", "no channel to post in")
		if got := dispRow(t, s, c, "1:50"); got.Status != storage.OutboxFailed {
			t.Fatalf("status %s, want failed", got.Status)
		}
	})
}
