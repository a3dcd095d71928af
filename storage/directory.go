package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/bot"
)

var _ bot.Directory = (*Store)(nil)

// lastSeenPrecision is how stale members.last_seen_at may get before a
// visit writes it again; visits in between only read.
const lastSeenPrecision = time.Hour

// Enter records the visit (creating the community and member on first
// sight) and returns the actor with the community's settings. A known
// member whose name, admin flag and presence are unchanged costs two reads
// and no write.
func (s *Store) Enter(ctx context.Context, v bot.Visit) (bot.Actor, error) {
	var (
		c Community
		m Member
	)
	db := s.db.WithContext(ctx)
	err := db.Where("platform = ? AND external_id = ?", string(v.Community.Platform), v.Community.ID).Take(&c).Error
	if err == nil {
		err = db.Where("community_id = ? AND external_id = ?", c.ID, v.User.ID).Take(&m).Error
	}
	switch {
	case err == nil && !visitChanges(m, v):
		return actor(c, m, v), nil
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
		return bot.Actor{}, fmt.Errorf("enter %s: %w", v.Community, unavailable(err))
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if c, err = ensureCommunity(tx, v.Community, v.CommunityName, v.At, s.defaults); err != nil {
			return err
		}
		m, err = ensureMember(tx, c.ID, v.User.ID, v.UserName, v.At)
		if err != nil {
			return err
		}
		updates := map[string]any{"last_seen_at": utc(v.At), "platform_admin": v.PlatformAdmin}
		if v.UserName != "" && v.UserName != m.Name && !m.Forgotten {
			updates["name"] = v.UserName
			m.Name = v.UserName
		}
		if m.Left {
			updates["left"], updates["left_at"] = false, nil
			m.Left = false
		}
		m.PlatformAdmin = v.PlatformAdmin
		return tx.Model(&Member{}).Where("id = ? AND community_id = ?", m.ID, c.ID).Updates(updates).Error
	})
	if err != nil {
		return bot.Actor{}, fmt.Errorf("enter %s: %w", v.Community, err)
	}
	return actor(c, m, v), nil
}

// visitChanges reports whether v tells the store something new about m.
func visitChanges(m Member, v bot.Visit) bool {
	return m.Left || m.PlatformAdmin != v.PlatformAdmin ||
		(v.UserName != "" && v.UserName != m.Name && !m.Forgotten) ||
		v.At.Sub(m.LastSeenAt) >= lastSeenPrecision
}

func actor(c Community, m Member, v bot.Visit) bot.Actor {
	return bot.Actor{
		Community: bot.CommunityID(c.ID),
		Member:    toMember(m, v.Community.Platform, v.Community.ID),
		Organiser: m.Organiser || (m.PlatformAdmin && c.AdminsAreOrganisers),
		Hidden:    m.Hidden,
		Settings:  toSettings(c),
	}
}

// Member returns the member ref names in community c, creating it.
func (s *Store) Member(ctx context.Context, c bot.CommunityID, ref bot.UserRef, name string, at time.Time) (bot.Member, error) {
	var m Member
	err := s.db.WithContext(ctx).Where("community_id = ? AND external_id = ?", c, ref.ID).Take(&m).Error
	if err == nil {
		return toMember(m, ref.Platform, ref.Space), nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return bot.Member{}, fmt.Errorf("member %s: %w", ref, unavailable(err))
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		m, err = ensureMember(tx, int64(c), ref.ID, name, at)
		return err
	})
	if err != nil {
		return bot.Member{}, fmt.Errorf("member %s: %w", ref, err)
	}
	return toMember(m, ref.Platform, ref.Space), nil
}

func ensureCommunity(tx *gorm.DB, ref bot.CommunityRef, name string, at time.Time, d Defaults) (Community, error) {
	c := Community{Platform: string(ref.Platform), ExternalID: ref.ID, Name: name, Timezone: d.Timezone,
		DigestSchedule: "every mon 09:00", DigestOn: true, WelcomeOn: true, RetentionDays: d.RetentionDays, KudosPerDay: d.KudosPerDay,
		AdminsAreOrganisers: true, CreatedAt: utc(at)}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c).Error; err != nil {
		return c, fmt.Errorf("create community: %w", err)
	}
	if err := tx.Where("platform = ? AND external_id = ?", c.Platform, c.ExternalID).Take(&c).Error; err != nil {
		return c, fmt.Errorf("load community: %w", err)
	}
	return c, nil
}

func ensureMember(tx *gorm.DB, community int64, externalID, name string, at time.Time) (Member, error) {
	m := Member{CommunityID: community, ExternalID: externalID, Name: name, FirstSeenAt: utc(at), LastSeenAt: utc(at)}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error; err != nil {
		return m, fmt.Errorf("create member: %w", err)
	}
	if err := tx.Where("community_id = ? AND external_id = ?", community, externalID).Take(&m).Error; err != nil {
		return m, fmt.Errorf("load member: %w", err)
	}
	return m, nil
}

func toMember(m Member, p bot.Platform, space string) bot.Member {
	return bot.Member{ID: bot.MemberID(m.ID), Ref: bot.UserRef{Platform: p, Space: space, ID: m.ExternalID}, Name: displayName(m)}
}

// displayName is how a member is shown: their name, or a neutral label once
// they asked to be forgotten.
func displayName(m Member) string {
	if m.Forgotten || m.Name == "" {
		return "a former member"
	}
	return m.Name
}

func toSettings(c Community) bot.Settings {
	var values []string
	for _, v := range strings.Split(c.ValuesText, "\n") {
		if v = strings.TrimSpace(v); v != "" {
			values = append(values, v)
		}
	}
	return bot.Settings{
		Mission:             c.Mission,
		Values:              values,
		Timezone:            c.Timezone,
		DigestChannel:       bot.ChannelRef{ID: c.DigestChannelID, Name: c.DigestChannelName},
		DigestSchedule:      c.DigestSchedule,
		DigestOn:            c.DigestOn,
		CelebrationsChannel: bot.ChannelRef{ID: c.CelebrationsChannelID, Name: c.CelebrationsChannel},
		WelcomeChannel:      bot.ChannelRef{ID: c.WelcomeChannelID, Name: c.WelcomeChannelName},
		WelcomeOn:           c.WelcomeOn,
		RetentionDays:       c.RetentionDays,
		KudosPerDay:         c.KudosPerDay,
		AdminsAreOrganisers: c.AdminsAreOrganisers,
	}
}

// SetOrganiser makes member an organiser of community c, or not.
func (s *Store) SetOrganiser(ctx context.Context, c bot.CommunityID, member bot.MemberID, on bool) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		return tx.Model(&Member{}).Where("id = ? AND community_id = ?", member, c).Update("organiser", on).Error
	})
	if err != nil {
		return fmt.Errorf("set organiser: %w", err)
	}
	return nil
}
