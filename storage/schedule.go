package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/announce"
)

// The scheduler's producers read these. They are the only queries that span
// communities: each returns community ids, and what follows filters by one.

// DigestCommunities returns every community whose digest is on and has a
// digest channel, with the Timezone, DigestChannel, DigestSchedule and
// DigestOn of its settings filled in (the other settings are zero). It only
// reads.
func (s *Store) DigestCommunities(ctx context.Context) (map[bot.CommunityID]bot.Settings, error) {
	var rows []Community
	err := s.db.WithContext(ctx).Select("id", "timezone", "digest_channel_id", "digest_channel_name", "digest_schedule", "digest_on").
		Where("digest_on = ? AND digest_channel_id <> ''", true).Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("digest communities: %w", unavailable(err))
	}
	out := make(map[bot.CommunityID]bot.Settings, len(rows))
	for _, r := range rows {
		out[bot.CommunityID(r.ID)] = bot.Settings{Timezone: r.Timezone, DigestSchedule: r.DigestSchedule, DigestOn: r.DigestOn,
			DigestChannel: bot.ChannelRef{ID: r.DigestChannelID, Name: r.DigestChannelName}}
	}
	return out, nil
}

// AnnouncementCommunities returns, in id order, the communities that have an
// active announcement due at or before now. It only reads.
func (s *Store) AnnouncementCommunities(ctx context.Context, now time.Time) ([]bot.CommunityID, error) {
	return communityIDs(s.db.WithContext(ctx).Model(&Announcement{}).Distinct("community_id").
		Where("status = ? AND next_at IS NOT NULL AND next_at <= ?", announce.StatusActive, utc(now)).
		Order("community_id"), "announcement communities")
}

// DueAnnouncements returns up to limit of community c's active
// announcements due at or before now, the earliest due first. It only reads.
func (s *Store) DueAnnouncements(ctx context.Context, c bot.CommunityID, now time.Time, limit int) ([]announce.Announcement, error) {
	var rows []Announcement
	err := s.db.WithContext(ctx).
		Where("community_id = ? AND status = ? AND next_at IS NOT NULL AND next_at <= ?", c, announce.StatusActive, utc(now)).
		Order("next_at, no").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("due announcements: %w", unavailable(err))
	}
	out := make([]announce.Announcement, len(rows))
	for i, r := range rows {
		out[i] = toAnnouncement(r)
	}
	return out, nil
}

// AdvanceAnnouncement moves community c's announcement no past its
// occurrence at from, in one transaction with the row locked: a recurring
// one gets its next occurrence after from, read in the community's timezone
// as it is now; a one-off one (or a cron rule with no occurrence left) is
// marked done with no next time. It is conditional, so idempotent: when the
// announcement is not active or is no longer due at from (another replica
// advanced it, an organiser cancelled it, a timezone change re-timed it),
// nothing changes and advanced is false. It returns the announcement as it
// is afterwards.
func (s *Store) AdvanceAnnouncement(ctx context.Context, c bot.CommunityID, no int64, from time.Time) (a announce.Announcement, advanced bool, err error) {
	var row Announcement
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.forUpdate(tx).Where("community_id = ? AND no = ?", c, no).Take(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return announce.ErrNotFound
			}
			return err
		}
		if row.Status != announce.StatusActive || row.NextAt == nil || !row.NextAt.Equal(utc(from)) {
			return nil
		}
		var next time.Time
		if row.Rule != "" {
			r, err := bot.ParseRecurrence(row.Rule)
			if err != nil {
				return fmt.Errorf("rule %q: %w", row.Rule, err)
			}
			var tz string
			if err := tx.Model(&Community{}).Where("id = ?", c).Pluck("timezone", &tz).Error; err != nil {
				return err
			}
			next = r.Next(from, zone(tz))
		}
		updates := map[string]any{"next_at": nil, "status": announce.StatusDone}
		if !next.IsZero() {
			updates = map[string]any{"next_at": utc(next)}
		}
		res := tx.Model(&Announcement{}).Where("id = ? AND community_id = ? AND status = ?", row.ID, c, announce.StatusActive).Updates(updates)
		if res.Error != nil {
			return res.Error
		}
		advanced = res.RowsAffected == 1
		if advanced {
			row.NextAt = utcPtr(next)
			if next.IsZero() {
				row.Status = announce.StatusDone
			}
		}
		return nil
	})
	if err != nil {
		return announce.Announcement{}, false, fmt.Errorf("advance announcement #%d: %w", no, err)
	}
	return toAnnouncement(row), advanced, nil
}

// communityIDs runs q, a query selecting distinct community_id values, and
// returns them as community ids; what names the query in errors.
func communityIDs(q *gorm.DB, what string) ([]bot.CommunityID, error) {
	var ids []int64
	if err := q.Pluck("community_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("%s: %w", what, unavailable(err))
	}
	out := make([]bot.CommunityID, len(ids))
	for i, id := range ids {
		out[i] = bot.CommunityID(id)
	}
	return out, nil
}
