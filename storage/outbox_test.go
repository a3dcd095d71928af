package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/scheduler"
)

var outboxT0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func outboxCommunity(t *testing.T, s *Store, id string) bot.CommunityID {
	t.Helper()
	a, err := s.Enter(context.Background(), bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: id},
		User: bot.UserRef{Platform: bot.Console, Space: id, ID: "olive"}, UserName: "olive", At: outboxT0})
	if err != nil {
		t.Fatal(err)
	}
	return a.Community
}

func digestPost(c bot.CommunityID, slot string, due time.Time, text string) bot.Post {
	return bot.Post{Community: c, Kind: bot.PostDigest, SlotKey: slot, DueAt: due,
		Message: bot.Message{Visibility: bot.Public, Kind: bot.PostDigest, Channel: bot.ChannelRef{ID: "C1", Name: "impact"}, Text: text}}
}

func outboxRow(t *testing.T, s *Store, c bot.CommunityID, slot string) OutboxPost {
	t.Helper()
	var row OutboxPost
	if err := s.db.Where("community_id = ? AND slot_key = ?", c, slot).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row
}

func TestEnqueueIsIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c := outboxCommunity(t, s, "a")
		other := outboxCommunity(t, s, "b")
		for i, want := range []bool{true, false, false} {
			isNew, err := s.Enqueue(ctx, digestPost(c, "2026-12-07T09:00", outboxT0, fmt.Sprintf("version %d", i)))
			if err != nil || isNew != want {
				t.Fatalf("enqueue %d = %v, %v; want %v", i, isNew, err, want)
			}
		}
		// The same slot in another community is its own row.
		if isNew, err := s.Enqueue(ctx, digestPost(other, "2026-12-07T09:00", outboxT0, "b")); err != nil || !isNew {
			t.Fatalf("other community: %v, %v", isNew, err)
		}
		var n int64
		s.db.Model(&OutboxPost{}).Where("community_id = ?", c).Count(&n)
		if n != 1 {
			t.Fatalf("%d rows, want 1", n)
		}
		claimed, err := s.Claim(ctx, outboxT0, 10, time.Minute, "tok")
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim = %v, %v", claimed, err)
		}
		got := claimed[0]
		if got.Community != c {
			got = claimed[1]
		}
		if got.Message.Text != "version 0" || got.Ref != (bot.CommunityRef{Platform: bot.Console, ID: "a"}) || got.Message.Channel.Name != "impact" {
			t.Fatalf("claimed %+v: the first enqueue's message and the community's ref were expected", got)
		}
		if _, err := s.Enqueue(ctx, bot.Post{Community: c, Kind: bot.PostDigest}); err == nil {
			t.Fatal("a post without slot key and due time was accepted")
		}
	})
}

func TestClaimTakeoverAndTokenChecks(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c := outboxCommunity(t, s, "a")
		p := digestPost(c, "slot", outboxT0, "hello")
		p.NotAfter = outboxT0.Add(12 * time.Hour)
		if _, err := s.Enqueue(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Claim(ctx, outboxT0.Add(-time.Second), 10, time.Minute, "early"); err != nil || len(got) != 0 {
			t.Fatalf("claim before due = %v, %v", got, err)
		}
		old, err := s.Claim(ctx, outboxT0, 10, time.Minute, "old")
		if err != nil || len(old) != 1 || old[0].InFlight || !old[0].NotAfter.Equal(p.NotAfter) || !old[0].ClaimedUntil.Equal(outboxT0.Add(time.Minute)) {
			t.Fatalf("claim = %+v, %v", old, err)
		}
		id := old[0].ID
		if got, _ := s.Claim(ctx, outboxT0.Add(30*time.Second), 10, time.Minute, "other"); len(got) != 0 {
			t.Fatalf("a held claim was taken: %+v", got)
		}
		if err := s.Begin(ctx, id, "old", outboxT0.Add(10*time.Second)); err != nil {
			t.Fatal(err)
		}
		// The old holder stalls past its claim: it can no longer begin, and
		// the taker sees that a send was in flight.
		if err := s.Begin(ctx, id, "old", outboxT0.Add(time.Minute)); !errors.Is(err, scheduler.ErrClaimLost) {
			t.Fatalf("begin after expiry = %v", err)
		}
		taken, err := s.Claim(ctx, outboxT0.Add(time.Minute), 10, time.Minute, "new")
		if err != nil || len(taken) != 1 || taken[0].ID != id || !taken[0].InFlight || taken[0].Token != "new" {
			t.Fatalf("takeover = %+v, %v", taken, err)
		}
		for _, mark := range []func() error{
			func() error { return s.MarkSent(ctx, id, "old", bot.MessageRef{Channel: "C1", ID: "1"}, outboxT0) },
			func() error { return s.MarkFailed(ctx, id, "old", "x", outboxT0, bot.Message{}) },
			func() error { return s.Retry(ctx, id, "old", outboxT0, outboxT0, "x") },
			func() error { return s.Defer(ctx, id, "old", outboxT0, outboxT0, "x") },
		} {
			if err := mark(); !errors.Is(err, scheduler.ErrClaimLost) {
				t.Fatalf("the old holder's mark = %v, want ErrClaimLost", err)
			}
		}
		at := outboxT0.Add(61 * time.Second)
		if err := s.MarkSent(ctx, id, "new", bot.MessageRef{Channel: "C1", ID: "m1"}, at); err != nil {
			t.Fatal(err)
		}
		row := outboxRow(t, s, c, "slot")
		if row.Status != OutboxSent || row.SentRef != "C1/m1" || row.SentAt == nil || !row.SentAt.Equal(at) || row.Sending {
			t.Fatalf("row after sent: %+v", row)
		}
		if err := s.MarkSkipped(ctx, id, "new", "again", at); !errors.Is(err, scheduler.ErrClaimLost) {
			t.Fatalf("a final row changed again: %v", err)
		}
	})
}

func TestRetryDeferAndLastFailure(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c := outboxCommunity(t, s, "a")
		if _, ok, err := s.LastFailure(ctx, c); ok || err != nil {
			t.Fatalf("last failure of a new community: %v, %v", ok, err)
		}
		for _, slot := range []string{"one", "two"} {
			if _, err := s.Enqueue(ctx, digestPost(c, slot, outboxT0, slot)); err != nil {
				t.Fatal(err)
			}
		}
		claimed, err := s.Claim(ctx, outboxT0, 1, time.Minute, "t1")
		if err != nil || len(claimed) != 1 || claimed[0].SlotKey != "one" {
			t.Fatalf("claim = %+v, %v", claimed, err)
		}
		one := claimed[0].ID
		if err := s.Retry(ctx, one, "t1", outboxT0, outboxT0.Add(time.Minute), "timeout"); err != nil {
			t.Fatal(err)
		}
		if row := outboxRow(t, s, c, "one"); row.Attempts != 1 || row.LastError != "timeout" || !row.DueAt.Equal(outboxT0.Add(time.Minute)) || row.ClaimToken != "" {
			t.Fatalf("after retry: %+v", row)
		}
		claimed, _ = s.Claim(ctx, outboxT0.Add(time.Minute), 10, time.Minute, "t2")
		if len(claimed) != 2 || claimed[0].SlotKey != "two" || claimed[1].Attempts != 1 {
			t.Fatalf("claim in due order = %+v", claimed)
		}
		if err := s.Defer(ctx, one, "t2", outboxT0, outboxT0.Add(2*time.Minute), "rate limited"); err != nil {
			t.Fatal(err)
		}
		if row := outboxRow(t, s, c, "one"); row.Attempts != 1 || row.Status != OutboxPending {
			t.Fatalf("after defer: %+v", row)
		}
		if err := s.MarkFailed(ctx, claimed[0].ID, "t2", "channel gone", outboxT0.Add(time.Hour), bot.Message{}); err != nil {
			t.Fatal(err)
		}
		f, ok, err := s.LastFailure(ctx, c)
		if err != nil || !ok || f.SlotKey != "two" || f.Status != OutboxFailed || f.Reason != "channel gone" || !f.At.Equal(outboxT0.Add(time.Hour)) {
			t.Fatalf("last failure = %+v, %v, %v", f, ok, err)
		}
	})
}

func TestConcurrentClaimsAreDisjoint(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c := outboxCommunity(t, s, "a")
		const rows = 200
		for i := range rows {
			if _, err := s.Enqueue(ctx, digestPost(c, fmt.Sprint(i), outboxT0.Add(time.Duration(i)*time.Second), "m")); err != nil {
				t.Fatal(err)
			}
		}
		var (
			mu   sync.Mutex
			seen = map[int64]int{}
			wg   sync.WaitGroup
			errs = make(chan error, 8)
		)
		for w := range 8 {
			wg.Go(func() {
				for {
					got, err := s.Claim(ctx, outboxT0.Add(time.Hour), 7, time.Hour, fmt.Sprint("w", w))
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, g := range got {
						seen[g.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != rows {
			t.Fatalf("%d rows claimed, want %d", len(seen), rows)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("row %d claimed %d times", id, n)
			}
		}
	})
}
