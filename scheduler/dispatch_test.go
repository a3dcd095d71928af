package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

var dispT0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func dispLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakePoster is a fake platform. post and find decide each call's outcome
// (nil: success / not found); it counts posts per key.
type fakePoster struct {
	mu    sync.Mutex
	post  func(key string, n int) error
	find  func(key string) bool
	posts map[string]int
	finds map[string]int
}

func newFakePoster() *fakePoster {
	return &fakePoster{posts: map[string]int{}, finds: map[string]int{}}
}

func (p *fakePoster) Post(_ context.Context, _ bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	if p.post != nil {
		err = p.post(key, p.posts[key]+p.failedCalls(key))
	}
	if err != nil {
		p.finds["post-failed:"+key]++
		return bot.MessageRef{}, err
	}
	p.posts[key]++
	return bot.MessageRef{Channel: m.Channel.ID, ID: key}, nil
}

func (p *fakePoster) failedCalls(key string) int { return p.finds["post-failed:"+key] }

func (p *fakePoster) Find(_ context.Context, _ bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finds[key]++
	if p.find != nil && p.find(key) {
		return bot.MessageRef{Channel: m.Channel.ID, ID: key}, true, nil
	}
	return bot.MessageRef{}, false, nil
}

func (p *fakePoster) count(key string) (posts, finds int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.posts[key], p.finds[key]
}

// dispCommunity makes community id with olive, a platform admin (so an
// organiser while admins count as organisers).
func dispCommunity(t *testing.T, s *storage.Store, id string) bot.CommunityID {
	t.Helper()
	a, err := s.Enter(context.Background(), bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: id},
		User: bot.UserRef{Platform: bot.Console, Space: id, ID: "olive"}, UserName: "olive", PlatformAdmin: true, At: dispT0})
	if err != nil {
		t.Fatal(err)
	}
	return a.Community
}

// mustNotices checks that ms are exactly one private notice to each of
// want (platform user ids, in order), each naming every one of says.
func mustNotices(t *testing.T, ms []bot.Message, space string, want []string, says ...string) {
	t.Helper()
	if len(ms) != len(want) {
		t.Fatalf("shown %d messages %+v; want notices to %v", len(ms), ms, want)
	}
	for i, m := range ms {
		ref := bot.UserRef{Platform: bot.Console, Space: space, ID: want[i]}
		if m.Visibility != bot.Direct || m.Kind != scheduler.PostNotice || m.To.Ref != ref {
			t.Fatalf("message %d = %+v; want a Direct notice to %v", i, m, ref)
		}
		for _, w := range says {
			if !strings.Contains(m.Text, w) {
				t.Fatalf("notice %q lacks %q", m.Text, w)
			}
		}
	}
}

// dispEnqueue adds a digest post for slot, due at due, and returns its row.
func dispEnqueue(t *testing.T, s *storage.Store, c bot.CommunityID, slot string, due, notAfter time.Time) storage.OutboxPost {
	t.Helper()
	_, err := s.Enqueue(context.Background(), bot.Post{Community: c, Kind: bot.PostDigest, SlotKey: slot, DueAt: due, NotAfter: notAfter,
		Message: bot.Message{Visibility: bot.Public, Kind: bot.PostDigest, Channel: bot.ChannelRef{ID: "C1", Name: "impact"}, Text: "digest " + slot}})
	if err != nil {
		t.Fatal(err)
	}
	return dispRow(t, s, c, slot)
}

func dispRow(t *testing.T, s *storage.Store, c bot.CommunityID, slot string) storage.OutboxPost {
	t.Helper()
	var r storage.OutboxPost
	if err := s.DB().Where("community_id = ? AND slot_key = ?", c, slot).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	return r
}

func dispRun(t *testing.T, sc *scheduler.Scheduler, now time.Time) []bot.Message {
	t.Helper()
	ms, err := sc.RunDue(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestTwoSchedulersPostEachRowOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		c := dispCommunity(t, s, "a")
		const rows = 200
		for i := range rows {
			dispEnqueue(t, s, c, fmt.Sprintf("%03d", i), dispT0.Add(time.Duration(i)*time.Second), time.Time{})
		}
		p := newFakePoster()
		clock := bot.NewManualClock(dispT0.Add(time.Hour))
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			shown []bot.Message
		)
		for range 2 {
			sc := scheduler.New(s, p, nil, clock, dispLog())
			sc.Batch = 7
			wg.Go(func() {
				ms, err := sc.RunDue(context.Background(), clock.Now())
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				shown = append(shown, ms...)
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(shown) != rows {
			t.Errorf("%d posts returned, want %d", len(shown), rows)
		}
		var sent int64
		s.DB().Model(&storage.OutboxPost{}).Where("status = ?", storage.OutboxSent).Count(&sent)
		if sent != rows {
			t.Errorf("%d rows sent, want %d", sent, rows)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.posts) != rows {
			t.Errorf("%d distinct posts, want %d", len(p.posts), rows)
		}
		for key, n := range p.posts {
			if n != 1 {
				t.Errorf("%s posted %d times", key, n)
			}
		}
	})
}

func TestRunDuePostsInDueOrderOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		c := dispCommunity(t, s, "a")
		dispEnqueue(t, s, c, "b", dispT0.Add(2*time.Hour), time.Time{})
		dispEnqueue(t, s, c, "a", dispT0.Add(time.Hour), time.Time{})
		dispEnqueue(t, s, c, "later", dispT0.Add(48*time.Hour), time.Time{})
		p := scheduler.NewConsolePoster()
		sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
		ms := dispRun(t, sc, dispT0.Add(3*time.Hour))
		if len(ms) != 2 || ms[0].Text != "digest a" || ms[1].Text != "digest b" {
			t.Fatalf("posted %+v, want a then b", ms)
		}
		if got := p.Take(); len(got) != 2 {
			t.Fatalf("console poster recorded %d posts", len(got))
		}
		if ms := dispRun(t, sc, dispT0.Add(3*time.Hour)); len(ms) != 0 {
			t.Fatalf("posted again: %+v", ms)
		}
	})
}

func TestExpiredClaimIsTakenOver(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		c := dispCommunity(t, s, "a")
		r := dispEnqueue(t, s, c, "slot", dispT0, time.Time{})
		// A replica claims the row and dies before sending.
		if got, err := s.Claim(ctx, dispT0, 10, time.Minute, "dead"); err != nil || len(got) != 1 {
			t.Fatalf("claim = %v, %v", got, err)
		}
		p := newFakePoster()
		sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
		if ms := dispRun(t, sc, dispT0.Add(30*time.Second)); len(ms) != 0 {
			t.Fatalf("a held row was sent: %+v", ms)
		}
		if ms := dispRun(t, sc, dispT0.Add(time.Minute)); len(ms) != 1 {
			t.Fatalf("the expired claim was not taken over: %+v", ms)
		}
		if posts, finds := p.count(scheduler.Key(r.ID)); posts != 1 || finds != 0 {
			t.Fatalf("posts %d, finds %d; want 1, 0 (the dead holder never began sending)", posts, finds)
		}
		err := s.MarkSent(ctx, r.ID, "dead", bot.MessageRef{}, dispT0)
		if !errors.Is(err, scheduler.ErrClaimLost) {
			t.Fatalf("the old holder's mark = %v, want ErrClaimLost", err)
		}
		if got := dispRow(t, s, c, "slot"); got.Status != storage.OutboxSent {
			t.Fatalf("status %s", got.Status)
		}
	})
}

func TestInterruptedSendIsCheckedNeverResent(t *testing.T) {
	for _, found := range []bool{true, false} {
		t.Run(fmt.Sprint("found=", found), func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, s *storage.Store) {
				ctx := context.Background()
				c := dispCommunity(t, s, "a")
				r := dispEnqueue(t, s, c, "slot", dispT0, time.Time{})
				// A replica claims, begins sending, and dies before recording.
				if _, err := s.Claim(ctx, dispT0, 10, time.Minute, "dead"); err != nil {
					t.Fatal(err)
				}
				if err := s.Begin(ctx, r.ID, "dead", dispT0); err != nil {
					t.Fatal(err)
				}
				p := newFakePoster()
				p.find = func(string) bool { return found }
				sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
				ms := dispRun(t, sc, dispT0.Add(2*time.Minute))
				posts, finds := p.count(scheduler.Key(r.ID))
				if posts != 0 || finds != 1 {
					t.Fatalf("posts %d, finds %d; want 0, 1", posts, finds)
				}
				got := dispRow(t, s, c, "slot")
				if found {
					if got.Status != storage.OutboxSent || len(ms) != 0 {
						t.Fatalf("status %s, shown %+v; want sent, nothing shown", got.Status, ms)
					}
					return
				}
				if got.Status != storage.OutboxUnknown {
					t.Fatalf("status %s; want unknown", got.Status)
				}
				mustNotices(t, ms, "a", []string{"olive"}, "may not have been posted")
				if ms := dispRun(t, sc, dispT0.Add(time.Hour)); len(ms) != 0 {
					t.Fatalf("told again: %+v", ms)
				}
			})
		})
	}
}

func TestRateLimitedIsRetriedNotDropped(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		c := dispCommunity(t, s, "a")
		r := dispEnqueue(t, s, c, "slot", dispT0, time.Time{})
		p := newFakePoster()
		p.post = func(_ string, n int) error {
			if n < 2 {
				return &bot.RateLimitedError{RetryAfter: 30 * time.Second}
			}
			return nil
		}
		sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
		sc.MaxAttempts = 1 // rate limits are not failures
		for i, at := range []time.Time{dispT0, dispT0.Add(10 * time.Second), dispT0.Add(30 * time.Second)} {
			if ms := dispRun(t, sc, at); len(ms) != 0 {
				t.Fatalf("run %d showed %+v", i, ms)
			}
		}
		if got := dispRow(t, s, c, "slot"); got.Status != storage.OutboxPending || got.Attempts != 0 || !got.DueAt.Equal(dispT0.Add(time.Minute)) {
			t.Fatalf("after two rate limits: %+v", got)
		}
		if ms := dispRun(t, sc, dispT0.Add(time.Minute)); len(ms) != 1 {
			t.Fatalf("not posted after waiting: %+v", ms)
		}
		if posts, _ := p.count(scheduler.Key(r.ID)); posts != 1 {
			t.Fatalf("posted %d times", posts)
		}
	})
}

func TestPermanentFailureFailsOnceAndTellsOrganisers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		c := dispCommunity(t, s, "a")
		r := dispEnqueue(t, s, c, "slot", dispT0, time.Time{})
		p := newFakePoster()
		calls := 0
		p.post = func(key string, _ int) error {
			if key != scheduler.Key(r.ID) {
				return nil // the notices go through
			}
			calls++
			return fmt.Errorf("channel_not_found: %w", bot.ErrPermanent)
		}
		sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
		ms := dispRun(t, sc, dispT0)
		mustNotices(t, ms, "a", []string{"olive"}, "channel_not_found", "will not be retried")
		for _, at := range []time.Time{dispT0.Add(time.Hour), dispT0.Add(48 * time.Hour)} {
			if ms := dispRun(t, sc, at); len(ms) != 0 {
				t.Fatalf("shown again: %+v", ms)
			}
		}
		if calls != 1 {
			t.Fatalf("%d post calls, want 1", calls)
		}
		got := dispRow(t, s, c, "slot")
		if got.Status != storage.OutboxFailed || !strings.Contains(got.LastError, "channel_not_found") || got.ID != r.ID {
			t.Fatalf("row %+v", got)
		}
		f, ok, err := s.LastFailure(context.Background(), c)
		if err != nil || !ok || f.SlotKey != "slot" || f.Status != storage.OutboxFailed {
			t.Fatalf("last failure = %+v, %v, %v", f, ok, err)
		}
	})
}

func TestUncertainPostIsCheckedOnce(t *testing.T) {
	for _, found := range []bool{true, false} {
		t.Run(fmt.Sprint("found=", found), func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, s *storage.Store) {
				c := dispCommunity(t, s, "a")
				r := dispEnqueue(t, s, c, "slot", dispT0, time.Time{})
				p := newFakePoster()
				calls := 0
				p.post = func(key string, _ int) error {
					if key != scheduler.Key(r.ID) {
						return nil
					}
					calls++
					return fmt.Errorf("502 from the platform: %w", bot.ErrUncertain)
				}
				p.find = func(string) bool { return found }
				sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
				ms := dispRun(t, sc, dispT0)
				dispRun(t, sc, dispT0.Add(time.Hour))
				_, finds := p.count(scheduler.Key(r.ID))
				if calls != 1 || finds != 1 {
					t.Fatalf("post calls %d, finds %d; want 1, 1", calls, finds)
				}
				got := dispRow(t, s, c, "slot")
				if found {
					if got.Status != storage.OutboxSent || len(ms) != 1 || ms[0].Text != "digest slot" {
						t.Fatalf("status %s, shown %+v; want sent and the post", got.Status, ms)
					}
					return
				}
				if got.Status != storage.OutboxUnknown {
					t.Fatalf("status %s; want unknown", got.Status)
				}
				mustNotices(t, ms, "a", []string{"olive"}, "502 from the platform")
			})
		})
	}
}

func TestPastNotAfterIsSkippedWithReason(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		c := dispCommunity(t, s, "a")
		dispEnqueue(t, s, c, "stale", dispT0, dispT0.Add(12*time.Hour))
		dispEnqueue(t, s, c, "fresh", dispT0.Add(6*time.Hour), dispT0.Add(18*time.Hour))
		p := newFakePoster()
		sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
		ms := dispRun(t, sc, dispT0.Add(13*time.Hour))
		if len(ms) != 1 || ms[0].Text != "digest fresh" {
			t.Fatalf("shown %+v; want only the fresh post", ms)
		}
		got := dispRow(t, s, c, "stale")
		if got.Status != storage.OutboxSkipped || !strings.Contains(got.LastError, "stopped being relevant") {
			t.Fatalf("stale row %+v", got)
		}
		if posts, _ := p.count(scheduler.Key(got.ID)); posts != 0 {
			t.Fatal("the stale post was sent")
		}
	})
}

func TestTransientErrorsBackOffThenFail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		c := dispCommunity(t, s, "a")
		r := dispEnqueue(t, s, c, "slot", dispT0, time.Time{})
		p := newFakePoster()
		p.post = func(key string, _ int) error {
			if key != scheduler.Key(r.ID) {
				return nil
			}
			return errors.New("connection reset")
		}
		sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
		sc.MaxAttempts = 3
		var notices []bot.Message
		for _, at := range []time.Time{dispT0, dispT0.Add(time.Minute), dispT0.Add(3 * time.Minute), dispT0.Add(time.Hour)} {
			notices = append(notices, dispRun(t, sc, at)...)
		}
		got := dispRow(t, s, c, "slot")
		if got.Status != storage.OutboxFailed || got.Attempts != 2 || !strings.Contains(got.LastError, "gave up after 3 attempts") {
			t.Fatalf("row %+v", got)
		}
		mustNotices(t, notices, "a", []string{"olive"}, "gave up after 3 attempts")
	})
}

type producerFunc func(ctx context.Context, now time.Time, out bot.Outbox) error

func (f producerFunc) Produce(ctx context.Context, now time.Time, out bot.Outbox) error {
	return f(ctx, now, out)
}

func TestProducersRunAndNilPosterLeavesRowsPending(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		c := dispCommunity(t, s, "a")
		failing := producerFunc(func(context.Context, time.Time, bot.Outbox) error { return errors.New("boom") })
		good := producerFunc(func(ctx context.Context, now time.Time, out bot.Outbox) error {
			_, err := out.Enqueue(ctx, bot.Post{Community: c, Kind: bot.PostDigest, SlotKey: now.Format(time.RFC3339), DueAt: now,
				Message: bot.Message{Visibility: bot.Public, Channel: bot.ChannelRef{ID: "C1"}, Text: "hi"}})
			return err
		})
		sc := scheduler.New(s, nil, []scheduler.Producer{failing, good}, bot.NewManualClock(dispT0), dispLog())
		if ms := dispRun(t, sc, dispT0); len(ms) != 0 {
			t.Fatalf("shown %+v without a poster", ms)
		}
		if got := dispRow(t, s, c, dispT0.Format(time.RFC3339)); got.Status != storage.OutboxPending || got.ClaimToken != "" {
			t.Fatalf("row %+v; want pending and unclaimed", got)
		}
		// A replica with a poster sends it.
		sc = scheduler.New(s, scheduler.NewConsolePoster(), nil, bot.NewManualClock(dispT0), dispLog())
		if ms := dispRun(t, sc, dispT0); len(ms) != 1 || ms[0].Text != "hi" {
			t.Fatalf("shown %+v", ms)
		}
	})
}

func TestRunTicksAtStartAndStopsWithContext(t *testing.T) {
	s := testdb.Open(t, "sqlite")
	ctx, cancel := context.WithCancel(context.Background())
	ticked := make(chan time.Time, 1)
	p := producerFunc(func(_ context.Context, now time.Time, _ bot.Outbox) error {
		select {
		case ticked <- now:
		default:
		}
		return nil
	})
	sc := scheduler.New(s, nil, []scheduler.Producer{p}, bot.NewManualClock(dispT0), dispLog())
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	if now := <-ticked; !now.Equal(dispT0) {
		t.Fatalf("first tick at %s, want the clock's %s", now, dispT0)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
}
