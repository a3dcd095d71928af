package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/announce"
	"github.com/missionbot/missionbot/bot/mission"
)

var _ mission.Store = (*Store)(nil)

// ChangeSettings applies ch to community c in one transaction, with the
// community row locked so concurrent changes and organiser removals are
// checked against each other (see mission.Store).
func (s *Store) ChangeSettings(ctx context.Context, c bot.CommunityID, ch mission.Change) (bot.Settings, error) {
	var row Community
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := s.forUpdate(tx).Where("id = ?", c).Take(&row).Error; err != nil {
			return fmt.Errorf("load community: %w", err)
		}
		updates := map[string]any{}
		if ch.Mission != nil {
			row.Mission = *ch.Mission
			updates["mission"] = row.Mission
		}
		if ch.Values != nil {
			row.ValuesText = strings.Join(ch.Values, "\n")
			updates["values_text"] = row.ValuesText
		}
		if ch.Timezone != nil {
			if *ch.Timezone != row.Timezone {
				if err := retimeAnnouncements(tx, int64(c), zone(*ch.Timezone), ch.Now); err != nil {
					return err
				}
			}
			row.Timezone = *ch.Timezone
			updates["timezone"] = row.Timezone
			// Other replicas notice the change at their next activity here.
			s.communityZones.Delete(int64(c))
		}
		if ch.DigestChannel != nil {
			row.DigestChannelID, row.DigestChannelName = ch.DigestChannel.ID, ch.DigestChannel.Name
			updates["digest_channel_id"], updates["digest_channel_name"] = row.DigestChannelID, row.DigestChannelName
		}
		if ch.DigestSchedule != nil {
			row.DigestSchedule = *ch.DigestSchedule
			updates["digest_schedule"] = row.DigestSchedule
		}
		if ch.DigestOn != nil {
			if *ch.DigestOn && row.DigestChannelID == "" {
				return mission.ErrNoDigestChannel
			}
			row.DigestOn = *ch.DigestOn
			updates["digest_on"] = row.DigestOn
		}
		if ch.CelebrationsChannel != nil {
			row.CelebrationsChannelID, row.CelebrationsChannel = ch.CelebrationsChannel.ID, ch.CelebrationsChannel.Name
			updates["celebrations_channel_id"], updates["celebrations_channel"] = row.CelebrationsChannelID, row.CelebrationsChannel
		}
		if ch.WelcomeChannel != nil {
			row.WelcomeChannelID, row.WelcomeChannelName = ch.WelcomeChannel.ID, ch.WelcomeChannel.Name
			updates["welcome_channel_id"], updates["welcome_channel_name"] = row.WelcomeChannelID, row.WelcomeChannelName
		}
		if ch.WelcomeOn != nil {
			row.WelcomeOn = *ch.WelcomeOn
			updates["welcome_on"] = row.WelcomeOn
		}
		if ch.RetentionDays != nil {
			row.RetentionDays = *ch.RetentionDays
			updates["retention_days"] = row.RetentionDays
		}
		if ch.KudosPerDay != nil {
			row.KudosPerDay = *ch.KudosPerDay
			updates["kudos_per_day"] = row.KudosPerDay
		}
		if ch.AdminsAreOrganisers != nil {
			if !*ch.AdminsAreOrganisers {
				n, err := addedOrganiserCount(tx, int64(c))
				if err != nil {
					return err
				}
				if n == 0 {
					return mission.ErrNoAddedOrganiser
				}
			}
			row.AdminsAreOrganisers = *ch.AdminsAreOrganisers
			updates["admins_are_organisers"] = row.AdminsAreOrganisers
		}
		if len(updates) == 0 {
			return nil
		}
		return tx.Model(&Community{}).Where("id = ?", c).Updates(updates).Error
	})
	if err != nil {
		return bot.Settings{}, fmt.Errorf("change settings: %w", err)
	}
	return toSettings(row), nil
}

// retimeAnnouncements recomputes, inside tx, the next run of community's
// active recurring announcements in loc, the community's new timezone: the
// first occurrence after now (or, for one already overdue, after its old
// next run), so "every mon 09:00" stays 09:00 local. One-off announcements
// are instants and stay as they are.
func retimeAnnouncements(tx *gorm.DB, community int64, loc *time.Location, now time.Time) error {
	var rows []Announcement
	if err := tx.Where("community_id = ? AND status = ? AND rule <> '' AND next_at IS NOT NULL", community, announce.StatusActive).
		Find(&rows).Error; err != nil {
		return fmt.Errorf("load announcements: %w", err)
	}
	for _, a := range rows {
		r, err := bot.ParseRecurrence(a.Rule)
		if err != nil {
			continue
		}
		from := a.NextAt.Add(-time.Nanosecond)
		if !now.IsZero() && now.Before(from) {
			from = now
		}
		next := r.Next(from, loc)
		if next.IsZero() {
			continue
		}
		if err := tx.Model(&Announcement{}).Where("id = ? AND community_id = ? AND status = ?", a.ID, community, announce.StatusActive).
			Update("next_at", utc(next)).Error; err != nil {
			return fmt.Errorf("retime announcement #%d: %w", a.No, err)
		}
	}
	return nil
}

// addedOrganiserCount counts the community's present added organisers inside tx.
func addedOrganiserCount(tx *gorm.DB, community int64) (int64, error) {
	var n int64
	if err := tx.Model(&Member{}).Where(`community_id = ? AND organiser AND NOT forgotten AND NOT "left"`, community).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count organisers: %w", err)
	}
	return n, nil
}

// MissionGoals returns up to limit active goals of c, oldest first, and
// how many there are.
func (s *Store) MissionGoals(ctx context.Context, c bot.CommunityID, limit int) ([]mission.GoalSummary, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Model(&Goal{}).Where("community_id = ? AND status = ?", c, "active").Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count goals: %w", unavailable(err))
	}
	var rows []Goal
	if err := db.Where("community_id = ? AND status = ?", c, "active").Order("no").Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("mission goals: %w", unavailable(err))
	}
	out := make([]mission.GoalSummary, len(rows))
	for i, r := range rows {
		out[i] = mission.GoalSummary{No: r.No, Slug: r.Slug, Title: r.Title, Unit: r.Unit,
			Target: bot.Amount(r.Target), Progress: bot.Amount(r.Progress)}
		if r.DueAt != nil {
			out[i].DueAt = r.DueAt.UTC()
		}
	}
	return out, total, nil
}

// MissionOpenings returns up to limit open opportunities of c that start
// after now and have places left, soonest first.
func (s *Store) MissionOpenings(ctx context.Context, c bot.CommunityID, now time.Time, limit int) ([]mission.Opening, error) {
	var rows []Opportunity
	err := s.db.WithContext(ctx).
		Where("community_id = ? AND status = ? AND starts_at > ? AND (slots = 0 OR confirmed < slots)", c, "open", utc(now)).
		Order("starts_at, no").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("mission openings: %w", unavailable(err))
	}
	out := make([]mission.Opening, len(rows))
	for i, r := range rows {
		out[i] = mission.Opening{No: r.No, Slug: r.Slug, Title: r.Title, Place: r.Place,
			StartsAt: r.StartsAt.UTC(), Slots: r.Slots, Confirmed: r.Confirmed}
	}
	return out, nil
}

// ListOrganisers returns c's present added organisers and platform admins, by name.
func (s *Store) ListOrganisers(ctx context.Context, c bot.CommunityID) ([]mission.Organiser, error) {
	db := s.db.WithContext(ctx)
	var com Community
	if err := db.Where("id = ?", c).Take(&com).Error; err != nil {
		return nil, fmt.Errorf("load community: %w", unavailable(err))
	}
	var rows []Member
	err := db.Where(`community_id = ? AND (organiser OR platform_admin) AND NOT forgotten AND NOT "left"`, c).
		Order("name, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list organisers: %w", unavailable(err))
	}
	out := make([]mission.Organiser, len(rows))
	for i, r := range rows {
		out[i] = mission.Organiser{Member: toMember(r, bot.Platform(com.Platform), com.ExternalID), Added: r.Organiser, PlatformAdmin: r.PlatformAdmin}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return strings.ToLower(out[i].Member.Name) < strings.ToLower(out[j].Member.Name)
	})
	return out, nil
}

// AddOrganiser makes member an added organiser of c; false when it already was.
func (s *Store) AddOrganiser(ctx context.Context, c bot.CommunityID, member bot.MemberID) (bool, error) {
	var added bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Member{}).Where("id = ? AND community_id = ? AND NOT organiser", member, c).Update("organiser", true)
		added = res.RowsAffected > 0
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("add organiser: %w", err)
	}
	return added, nil
}

// RemoveOrganiser stops member being an added organiser of c, refusing to
// remove the last one while admins do not count. The community row is
// locked so two concurrent removals cannot both pass the check.
func (s *Store) RemoveOrganiser(ctx context.Context, c bot.CommunityID, member bot.MemberID) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var com Community
		if err := s.forUpdate(tx).Where("id = ?", c).Take(&com).Error; err != nil {
			return fmt.Errorf("load community: %w", err)
		}
		var m Member
		err := tx.Where("id = ? AND community_id = ?", member, c).Take(&m).Error
		if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !m.Organiser) {
			return mission.ErrNotOrganiser
		}
		if err != nil {
			return fmt.Errorf("load member: %w", err)
		}
		// A departed or forgotten organiser does not count toward the
		// lock-out rule (addedOrganiserCount), so removing one never
		// leaves the community with fewer present organisers.
		if !com.AdminsAreOrganisers && !m.Left && !m.Forgotten {
			n, err := addedOrganiserCount(tx, int64(c))
			if err != nil {
				return err
			}
			if n <= 1 {
				return mission.ErrLastOrganiser
			}
		}
		return tx.Model(&Member{}).Where("id = ? AND community_id = ?", member, c).Update("organiser", false).Error
	})
	if err != nil {
		return fmt.Errorf("remove organiser: %w", err)
	}
	return nil
}
