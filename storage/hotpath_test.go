package storage

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
)

var hotT0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// TestClaimDeliveryFirstClaimWins: of concurrent claims of one delivery
// exactly one is first, on any number of connections; the same id on
// another platform is another delivery.
func TestClaimDeliveryFirstClaimWins(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			firsts int
		)
		for range 8 {
			wg.Go(func() {
				first, err := s.ClaimDelivery(ctx, bot.Slack, "Ev01", hotT0)
				if err != nil {
					t.Errorf("claim: %v", err)
				}
				if first {
					mu.Lock()
					firsts++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if firsts != 1 {
			t.Fatalf("%d first claims, want 1", firsts)
		}
		if first, err := s.ClaimDelivery(ctx, bot.Discord, "Ev01", hotT0); err != nil || !first {
			t.Fatalf("same id on Discord = %v, %v; want first", first, err)
		}
		if n, err := s.ForgetDeliveries(ctx, hotT0.Add(time.Second)); err != nil || n != 2 {
			t.Fatalf("forget = %d, %v; want 2", n, err)
		}
		if first, err := s.ClaimDelivery(ctx, bot.Slack, "Ev01", hotT0); err != nil || !first {
			t.Fatalf("after forgetting = %v, %v; want first", first, err)
		}
	})
}

// TestEnterKnowsMembersAndTheirChanges: a first visit creates community and
// member; later visits see the same member with their role, a new name,
// a return after leaving and a new member of a known community.
func TestEnterKnowsMembersAndTheirChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		community := bot.CommunityRef{Platform: bot.Slack, ID: "T1"}
		visit := func(user, name string, admin bool, at time.Time) bot.Actor {
			t.Helper()
			a, err := s.Enter(ctx, bot.Visit{Community: community, CommunityName: "Trees", User: bot.UserRef{Platform: bot.Slack, Space: "T1", ID: user},
				UserName: name, PlatformAdmin: admin, At: at})
			if err != nil {
				t.Fatalf("enter %s: %v", user, err)
			}
			return a
		}
		first := visit("U1", "alice", false, hotT0)
		if first.Member.Name != "alice" || first.Organiser || first.Settings.Timezone != "UTC" {
			t.Fatalf("first visit: %+v", first)
		}
		if again := visit("U1", "alice", false, hotT0.Add(time.Minute)); again.Member.ID != first.Member.ID || again.Community != first.Community {
			t.Fatalf("second visit is another member: %+v vs %+v", again, first)
		}
		if err := s.SetOrganiser(ctx, first.Community, first.Member.ID, true); err != nil {
			t.Fatal(err)
		}
		if a := visit("U1", "alice", false, hotT0.Add(2*time.Minute)); !a.Organiser {
			t.Fatalf("organiser not seen: %+v", a)
		}
		if a := visit("U1", "Alice B", false, hotT0.Add(3*time.Minute)); a.Member.Name != "Alice B" {
			t.Fatalf("new name not recorded: %+v", a)
		}
		if err := s.Depart(ctx, community, bot.UserRef{Platform: bot.Slack, Space: "T1", ID: "U1"}, hotT0.Add(4*time.Minute)); err != nil {
			t.Fatal(err)
		}
		visit("U1", "Alice B", false, hotT0.Add(5*time.Minute))
		var m Member
		if err := s.db.Where("id = ?", first.Member.ID).Take(&m).Error; err != nil {
			t.Fatal(err)
		}
		if m.Left || !m.LastSeenAt.Equal(hotT0.Add(5*time.Minute)) {
			t.Fatalf("return after leaving not recorded: left %v, last seen %s", m.Left, m.LastSeenAt)
		}
		bob := visit("U2", "bob", true, hotT0)
		if bob.Community != first.Community || bob.Member.ID == first.Member.ID || !bob.Organiser {
			t.Fatalf("bob, a platform admin: %+v", bob)
		}
	})
}

// TestWritersQueueForTheirTurn: on SQLite concurrent write transactions
// all succeed, one at a time; a writer whose context ends while another
// holds the turn is told the store is unavailable, and writes resume when
// the turn is released.
func TestWritersQueueForTheirTurn(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c := outboxCommunity(t, s, "a")
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				err := s.tx(ctx, func(tx *gorm.DB) error {
					_, err := nextNo(tx, int64(c), "turns")
					return err
				})
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		var n int64
		if err := s.db.Model(&Counter{}).Where("community_id = ? AND kind = ?", c, "turns").Pluck("value", &n).Error; err != nil || n != 16 {
			t.Fatalf("counter = %d, %v; want 16", n, err)
		}
		if s.postgres {
			return
		}
		holding, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- s.tx(ctx, func(*gorm.DB) error {
				close(holding)
				<-release
				return nil
			})
		}()
		<-holding
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.ClaimDelivery(cctx, bot.Slack, "Ev02", hotT0); !errors.Is(err, bot.ErrUnavailable) {
			t.Fatalf("claim while another writes, context ended: %v; want ErrUnavailable", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if first, err := s.ClaimDelivery(ctx, bot.Slack, "Ev02", hotT0); err != nil || !first {
			t.Fatalf("claim after the turn = %v, %v", first, err)
		}
	})
}
