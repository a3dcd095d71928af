package storage

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/bot/mission"
	"gorm.io/gorm/clause"
)

func milestoneRows(t *testing.T, s *Store) []bot.Message {
	t.Helper()
	var rows []OutboxPost
	if err := s.db.Where("kind = ?", bot.PostMilestone).Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make([]bot.Message, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal([]byte(r.Payload), &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestMilestoneEnqueuesItsPostInTheSameTransaction: recording a milestone
// stores its celebration in the outbox, once, for the command's channel or
// the community's celebrations channel.
func TestMilestoneEnqueuesItsPostInTheSameTransaction(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: "a"},
			User: bot.UserRef{Platform: bot.Console, Space: "a", ID: "olive"}, UserName: "olive", At: outboxT0})
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.CreateGoal(ctx, a.Community, goal.New{Title: "Trees", Unit: "trees", Target: 10000, CreatedBy: a.Member.ID, At: outboxT0})
		if err != nil {
			t.Fatal(err)
		}
		here := bot.ChannelRef{ID: "C-here", Name: "here"}
		if _, err := s.AddLog(goal.WithPostChannel(ctx, here), a.Community, a.Member.ID, g.ID, 3000, "", outboxT0); err != nil {
			t.Fatal(err)
		}
		ms := milestoneRows(t, s)
		if len(ms) != 1 || ms[0].Channel != here || ms[0].Visibility != bot.Public || ms[0].Text != "🎉 Trees reached 25% — 30 / 100 trees!" {
			t.Fatalf("rows %+v; want the 25%% post for #here", ms)
		}
		wins := bot.ChannelRef{ID: "C-wins", Name: "wins"}
		if _, err := s.ChangeSettings(ctx, a.Community, mission.Change{CelebrationsChannel: &wins, Now: outboxT0}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddLog(goal.WithPostChannel(ctx, here), a.Community, a.Member.ID, g.ID, 3000, "", outboxT0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if ms := milestoneRows(t, s); len(ms) != 2 || ms[1].Channel != wins {
			t.Fatalf("rows %+v; want the 50%% post for #wins", ms)
		}
		// Recording a threshold again (a race lost on the unique key)
		// enqueues nothing.
		again := Milestone{CommunityID: int64(a.Community), GoalID: g.ID, Threshold: 25, ReachedAt: outboxT0}
		if err := s.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&again).Error; err != nil {
			t.Fatal(err)
		}
		if ms := milestoneRows(t, s); len(ms) != 2 {
			t.Fatalf("%d milestone rows after a duplicate, want 2", len(ms))
		}
		row := outboxRow(t, s, a.Community, goal.MilestoneSlot(g.ID, 25))
		if row.Status != OutboxPending || !row.DueAt.Equal(outboxT0) {
			t.Fatalf("row %+v; want pending, due when reached", row)
		}
	})
}

func TestEnqueued(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c := outboxCommunity(t, s, "a")
		if had, err := s.Enqueued(ctx, c, bot.PostDigest, "slot"); had || err != nil {
			t.Fatalf("Enqueued before = %v, %v", had, err)
		}
		if _, err := s.Enqueue(ctx, digestPost(c, "slot", outboxT0, "x")); err != nil {
			t.Fatal(err)
		}
		if had, err := s.Enqueued(ctx, c, bot.PostDigest, "slot"); !had || err != nil {
			t.Fatalf("Enqueued after = %v, %v", had, err)
		}
		if had, _ := s.Enqueued(ctx, c+1, bot.PostDigest, "slot"); had {
			t.Fatal("another community's slot counted")
		}
	})
}
