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

// enterQuery reads a community and, when known, one of its members in one
// statement; the member's columns are NULL when it is not. The column lists
// are explicit (no *), so a column added by a later migration never changes
// the shape of a statement a connection already prepared.
const enterQuery = `SELECT c.id, c.platform, c.external_id, c.name, c.mission, c.values_text, c.timezone,
	c.digest_channel_id, c.digest_channel_name, c.digest_schedule, c.digest_on,
	c.celebrations_channel_id, c.celebrations_channel, c.welcome_channel_id, c.welcome_channel_name, c.welcome_on,
	c.retention_days, c.kudos_per_day, c.admins_are_organisers, c.created_at,
	m.id AS m_id, m.name AS m_name, m.organiser AS m_organiser, m.platform_admin AS m_platform_admin,
	m.hidden AS m_hidden, m."left" AS m_left, m.forgotten AS m_forgotten, m.last_seen_at AS m_last_seen_at
FROM communities c LEFT JOIN members m ON m.community_id = c.id AND m.external_id = ?
WHERE c.platform = ? AND c.external_id = ?`

// enterRow is one row of enterQuery.
type enterRow struct {
	Community    `gorm:"embedded"`
	MID          *int64     `gorm:"column:m_id"`
	MName        *string    `gorm:"column:m_name"`
	MOrganiser   *bool      `gorm:"column:m_organiser"`
	MPlatformAdm *bool      `gorm:"column:m_platform_admin"`
	MHidden      *bool      `gorm:"column:m_hidden"`
	MLeft        *bool      `gorm:"column:m_left"`
	MForgotten   *bool      `gorm:"column:m_forgotten"`
	MLastSeenAt  *time.Time `gorm:"column:m_last_seen_at"`
}

// member returns the row's member (of external id ext), and whether there
// is one.
func (r enterRow) member(ext string) (Member, bool) {
	if r.MID == nil {
		return Member{}, false
	}
	m := Member{ID: *r.MID, CommunityID: r.ID, ExternalID: ext}
	deref := func(b *bool) bool { return b != nil && *b }
	m.Organiser, m.PlatformAdmin, m.Hidden = deref(r.MOrganiser), deref(r.MPlatformAdm), deref(r.MHidden)
	m.Left, m.Forgotten = deref(r.MLeft), deref(r.MForgotten)
	if r.MName != nil {
		m.Name = *r.MName
	}
	if r.MLastSeenAt != nil {
		m.LastSeenAt = *r.MLastSeenAt
	}
	return m, true
}

// Enter records the visit (creating the community and member on first
// sight) and returns the actor with the community's settings. A known
// member whose name, admin flag and presence are unchanged costs one read
// (community and member joined) and no write.
func (s *Store) Enter(ctx context.Context, v bot.Visit) (bot.Actor, error) {
	var (
		c   Community
		m   Member
		row enterRow
	)
	res := s.db.WithContext(ctx).Raw(enterQuery, v.User.ID, string(v.Community.Platform), v.Community.ID).Scan(&row)
	if res.Error != nil {
		return bot.Actor{}, fmt.Errorf("enter %s: %w", v.Community, unavailable(res.Error))
	}
	if res.RowsAffected == 1 {
		// A known community: one statement at most.
		c = row.Community
		m, known := row.member(v.User.ID)
		var err error
		switch {
		case known && !visitChanges(m, v):
			return actor(c, m, v), nil
		case known:
			updates := visit(&m, v)
			err = s.write(ctx, func(db *gorm.DB) error {
				return db.Model(&Member{}).Where("id = ? AND community_id = ?", m.ID, c.ID).Updates(updates).Error
			})
		default:
			err = s.write(ctx, func(db *gorm.DB) error {
				var err error
				m, _, err = ensureMember(db, c.ID, v.User.ID, v.UserName, v.PlatformAdmin, v.At)
				return err
			})
		}
		if err != nil {
			return bot.Actor{}, fmt.Errorf("enter %s: %w", v.Community, err)
		}
		return actor(c, m, v), nil
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var (
			err     error
			created bool
		)
		if c, err = ensureCommunity(tx, v.Community, v.CommunityName, v.At, s.defaults); err != nil {
			return err
		}
		m, created, err = ensureMember(tx, c.ID, v.User.ID, v.UserName, v.PlatformAdmin, v.At)
		if err != nil || created {
			return err
		}
		return tx.Model(&Member{}).Where("id = ? AND community_id = ?", m.ID, c.ID).Updates(visit(&m, v)).Error
	})
	if err != nil {
		return bot.Actor{}, fmt.Errorf("enter %s: %w", v.Community, err)
	}
	return actor(c, m, v), nil
}

// visit applies what v tells about m to m and returns the column updates
// that record it.
func visit(m *Member, v bot.Visit) map[string]any {
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
	m.LastSeenAt = utc(v.At)
	return updates
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
		m, _, err = ensureMember(tx, int64(c), ref.ID, name, false, at)
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

// ensureMember returns the member of community with externalID, creating
// it (named name, with the platform admin flag, first and last seen at at)
// when there is none; created reports that it did. A member it created
// costs one INSERT, an existing one that INSERT (doing nothing) and a read.
func ensureMember(tx *gorm.DB, community int64, externalID, name string, platformAdmin bool, at time.Time) (m Member, created bool, err error) {
	m = Member{CommunityID: community, ExternalID: externalID, Name: name, PlatformAdmin: platformAdmin, FirstSeenAt: utc(at), LastSeenAt: utc(at)}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&m)
	if res.Error != nil {
		return m, false, fmt.Errorf("create member: %w", res.Error)
	}
	if res.RowsAffected == 1 && m.ID != 0 {
		// Every other column takes its default, the zero value.
		return m, true, nil
	}
	m = Member{}
	if err := tx.Where("community_id = ? AND external_id = ?", community, externalID).Take(&m).Error; err != nil {
		return m, false, fmt.Errorf("load member: %w", err)
	}
	return m, false, nil
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
