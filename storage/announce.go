package storage

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/announce"
)

var _ announce.Store = (*Store)(nil)

// AddAnnouncement stores a in community c with the next announcement number.
func (s *Store) AddAnnouncement(ctx context.Context, c bot.CommunityID, a announce.Announcement) (announce.Announcement, error) {
	row := Announcement{CommunityID: int64(c), At: utcPtr(a.At), Rule: a.Rule, NextAt: utcPtr(a.NextAt), Message: a.Message,
		ChannelID: a.Channel.ID, ChannelName: a.Channel.Name, Status: announce.StatusActive,
		CreatedBy: int64(a.CreatedBy), CreatedAt: utc(a.CreatedAt)}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		no, err := nextNo(tx, int64(c), "announcement")
		if err != nil {
			return err
		}
		row.No = no
		return tx.Create(&row).Error
	})
	if err != nil {
		return announce.Announcement{}, fmt.Errorf("add announcement: %w", err)
	}
	return toAnnouncement(row), nil
}

// ActiveAnnouncements returns up to limit of c's active announcements, the
// soonest due first, and how many there are.
func (s *Store) ActiveAnnouncements(ctx context.Context, c bot.CommunityID, limit int) ([]announce.Announcement, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Model(&Announcement{}).Where("community_id = ? AND status = ?", c, announce.StatusActive).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count announcements: %w", unavailable(err))
	}
	var rows []Announcement
	err := db.Where("community_id = ? AND status = ?", c, announce.StatusActive).
		Order("CASE WHEN next_at IS NULL THEN 1 ELSE 0 END, next_at, no").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list announcements: %w", unavailable(err))
	}
	out := make([]announce.Announcement, len(rows))
	for i, r := range rows {
		out[i] = toAnnouncement(r)
	}
	return out, total, nil
}

// CancelAnnouncement cancels c's announcement no if it is active and
// returns it as it was. The conditional update makes a repeat harmless.
func (s *Store) CancelAnnouncement(ctx context.Context, c bot.CommunityID, no int64) (announce.Announcement, error) {
	var row Announcement
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.forUpdate(tx).Where("community_id = ? AND no = ?", c, no).Take(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return announce.ErrNotFound
			}
			return fmt.Errorf("load announcement: %w", err)
		}
		if row.Status != announce.StatusActive {
			return nil
		}
		return tx.Model(&Announcement{}).Where("id = ? AND community_id = ? AND status = ?", row.ID, c, announce.StatusActive).
			Updates(map[string]any{"status": announce.StatusCancelled, "next_at": nil}).Error
	})
	if err != nil {
		return announce.Announcement{}, fmt.Errorf("cancel announcement #%d: %w", no, err)
	}
	return toAnnouncement(row), nil
}

func toAnnouncement(r Announcement) announce.Announcement {
	a := announce.Announcement{No: r.No, Rule: r.Rule, Message: r.Message, Status: r.Status,
		Channel: bot.ChannelRef{ID: r.ChannelID, Name: r.ChannelName}, CreatedBy: bot.MemberID(r.CreatedBy), CreatedAt: r.CreatedAt.UTC()}
	if r.At != nil {
		a.At = r.At.UTC()
	}
	if r.NextAt != nil {
		a.NextAt = r.NextAt.UTC()
	}
	return a
}
