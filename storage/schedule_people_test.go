package storage

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/scheduler"
)

// TestPledgeRemindersSkipEnqueued: a reminder in the real outbox is not
// returned again, and each community sees only its own pledges.
func TestPledgeRemindersSkipEnqueued(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		due := at.AddDate(0, 0, 10)
		var comms []bot.CommunityID
		for _, name := range []string{"a", "b"} {
			c, m := scheduleCommunity(t, s, name, mission.Change{})
			g, err := s.CreateGoal(ctx, c, goal.New{Title: "Trees", Unit: "trees", Target: 10000, DueAt: due, CreatedBy: m, At: at})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.AddPledge(ctx, c, m, g.ID, 500, false, at); err != nil {
				t.Fatal(err)
			}
			comms = append(comms, c)
		}
		now := due.Add(-scheduler.PledgeReminderLead)
		if got, err := s.PledgeReminderCommunities(ctx, now.Add(-time.Second)); err != nil || len(got) != 0 {
			t.Fatalf("communities a second early: %v, %v; want none", got, err)
		}
		got, err := s.PledgeReminderCommunities(ctx, now)
		if err != nil || !reflect.DeepEqual(got, comms) {
			t.Fatalf("communities %v, %v; want %v", got, err, comms)
		}
		rs, err := s.DuePledgeReminders(ctx, comms[0], now, 10)
		if err != nil || len(rs) != 1 || rs[0].No != 1 || rs[0].Open != 500 || rs[0].Member.Ref.Space != "a" || !rs[0].Goal.DueAt.Equal(due) {
			t.Fatalf("reminders %+v, %v; want a's pledge #1 with 5 open", rs, err)
		}
		if err := scheduler.NewPledgeReminders(s).Produce(ctx, now, s); err != nil {
			t.Fatal(err)
		}
		if got, err := s.PledgeReminderCommunities(ctx, now); err != nil || len(got) != 0 {
			t.Fatalf("communities after enqueueing: %v, %v; want none", got, err)
		}
		var n int64
		if err := s.db.Model(&OutboxPost{}).Where("kind = ? AND slot_key = ?", bot.PostReminder, "pledge:1").Count(&n).Error; err != nil || n != 2 {
			t.Fatalf("%d reminder rows (%v), want one per community", n, err)
		}
	})
}

// TestUnfinishedErasureIsFinished: a member claimed for erasure (a crash
// before Forget) is erased by the next run, even after coming back.
func TestUnfinishedErasureIsFinished(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c, _ := scheduleCommunity(t, s, "a", mission.Change{})
		at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		a, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: "a"}, User: bot.UserRef{Platform: bot.Console, Space: "a", ID: "lee"}, UserName: "lee", At: at})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PostWin(ctx, c, a.Member.ID, "hedge", at); err != nil {
			t.Fatal(err)
		}
		if err := s.db.Model(&Member{}).Where("id = ?", a.Member.ID).Updates(map[string]any{"left": true, "left_at": utc(at)}).Error; err != nil {
			t.Fatal(err)
		}
		now := at.AddDate(0, 0, 91)
		ok, err := s.ClaimErasure(ctx, c, a.Member.ID, now.AddDate(0, 0, -90))
		if err != nil || !ok {
			t.Fatalf("claim: %v, %v", ok, err)
		}
		// Lee comes back before the erasure finished: it still finishes.
		if _, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: "a"}, User: bot.UserRef{Platform: bot.Console, Space: "a", ID: "lee"}, UserName: "lee", At: now}); err != nil {
			t.Fatal(err)
		}
		if err := scheduler.NewRetention(s).Produce(ctx, now, nil); err != nil {
			t.Fatal(err)
		}
		var m Member
		if err := s.db.Where("id = ? AND community_id = ?", a.Member.ID, c).Take(&m).Error; err != nil {
			t.Fatal(err)
		}
		var w Win
		if err := s.db.Where("community_id = ? AND member_id = ?", c, a.Member.ID).Take(&w).Error; err != nil {
			t.Fatal(err)
		}
		if !m.Forgotten || !m.Hidden || m.Name != "" || w.Text != erasedText {
			t.Fatalf("member %+v, win %q; want the erasure finished", m, w.Text)
		}
		if got, err := s.RetentionCommunities(ctx); err != nil || len(got) != 0 {
			t.Fatalf("retention communities after: %v, %v; want none", got, err)
		}
	})
}
