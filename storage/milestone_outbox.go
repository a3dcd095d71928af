package storage

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

// AfterCreate enqueues the public celebration of milestone m in the outbox,
// inside the transaction that records m (gorm runs it after the insert, on
// the same transaction), so the post is committed exactly when the
// milestone is: a crash after the commit cannot lose it, and a milestone is
// recorded once per goal and threshold (a unique key), so it is never
// doubled. The row is kind bot.PostMilestone, slot goal.MilestoneSlot, due
// when the milestone was reached, for the community's celebrations channel
// or else the channel the command came from (goal.WithPostChannel on the
// transaction's context). With neither, the row is still stored and the
// dispatcher fails it and tells the organisers, rather than drop it.
//
// An insert that hit the unique key (a concurrent transaction recorded the
// milestone first, and enqueued its post) leaves m.ID zero and enqueues
// nothing; the outbox's own unique slot key would refuse a second row anyway.
func (m *Milestone) AfterCreate(tx *gorm.DB) error {
	if m.ID == 0 {
		return nil
	}
	var g Goal
	if err := tx.Where("community_id = ? AND id = ?", m.CommunityID, m.GoalID).Take(&g).Error; err != nil {
		return fmt.Errorf("milestone %d%% of goal %d: load goal: %w", m.Threshold, m.GoalID, err)
	}
	var com Community
	if err := tx.Select("id", "celebrations_channel_id", "celebrations_channel").Where("id = ?", m.CommunityID).Take(&com).Error; err != nil {
		return fmt.Errorf("milestone %d%% of goal %d: load community: %w", m.Threshold, m.GoalID, err)
	}
	ch := bot.ChannelRef{ID: com.CelebrationsChannelID, Name: com.CelebrationsChannel}
	if ch.ID == "" {
		ch, _ = goal.PostChannel(tx.Statement.Context)
	}
	msg := goal.MilestoneMessages(toGoal(g), []int{m.Threshold})[0]
	msg.Channel = ch
	p := bot.Post{Community: bot.CommunityID(m.CommunityID), Kind: bot.PostMilestone, SlotKey: goal.MilestoneSlot(m.GoalID, m.Threshold),
		DueAt: m.ReachedAt, Message: msg}
	if _, err := insertPostTx(tx, p, OutboxPending, time.Time{}); err != nil {
		return fmt.Errorf("enqueue milestone %d%% of goal %d: %w", m.Threshold, m.GoalID, err)
	}
	return nil
}
