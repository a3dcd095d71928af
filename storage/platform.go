package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/bot"
)

// Depart marks user departed from community at at, which takes them off
// boards; their personal data is erased once the retention period passes,
// and acting again brings them back. Unknown communities and members are
// ignored. Idempotent: a second departure keeps the first date.
func (s *Store) Depart(ctx context.Context, community bot.CommunityRef, user bot.UserRef, at time.Time) error {
	db := s.db.WithContext(ctx)
	var c Community
	err := db.Select("id").Where("platform = ? AND external_id = ?", string(community.Platform), community.ID).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("depart %s: %w", user, unavailable(err))
	}
	err = db.Model(&Member{}).Where("community_id = ? AND external_id = ? AND \"left\" = ?", c.ID, user.ID, false).
		Updates(map[string]any{"left": true, "left_at": utc(at)}).Error
	if err != nil {
		return fmt.Errorf("depart %s: %w", user, unavailable(err))
	}
	return nil
}

// MarkWelcomed records that member m of community c was welcomed at at, and
// reports whether this call did it (false: welcomed before). Safe for
// concurrent use: exactly one caller sees true.
func (s *Store) MarkWelcomed(ctx context.Context, c bot.CommunityID, m bot.MemberID, at time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&Member{}).
		Where("id = ? AND community_id = ? AND welcomed_at IS NULL", m, c).
		Update("welcomed_at", utc(at))
	if res.Error != nil {
		return false, fmt.Errorf("mark welcomed %d: %w", m, unavailable(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// ErrNotInstalled says a workspace has no stored installation.
var ErrNotInstalled = errors.New("not installed")

// Install is a workspace's installation as an adapter keeps it; the token
// is sealed by the adapter, never stored in clear.
type Install struct {
	Platform    bot.Platform
	Team        string
	BotUserID   string
	SealedToken []byte
	Scopes      string
	InstalledBy string
	At          time.Time
}

// SaveInstall stores in, replacing an earlier install of the same team.
func (s *Store) SaveInstall(ctx context.Context, in Install) error {
	row := Installation{Platform: string(in.Platform), ExternalID: in.Team, BotUserID: in.BotUserID,
		SealedToken: in.SealedToken, Scopes: in.Scopes, InstalledBy: in.InstalledBy, CreatedAt: utc(in.At), UpdatedAt: utc(in.At)}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "platform"}, {Name: "external_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"bot_user_id", "sealed_token", "scopes", "installed_by", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save install %s:%s: %w", in.Platform, in.Team, unavailable(err))
	}
	return nil
}

// LoadInstall returns team's installation, or ErrNotInstalled.
func (s *Store) LoadInstall(ctx context.Context, p bot.Platform, team string) (Install, error) {
	var row Installation
	err := s.db.WithContext(ctx).Where("platform = ? AND external_id = ?", string(p), team).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Install{}, ErrNotInstalled
	}
	if err != nil {
		return Install{}, fmt.Errorf("load install %s:%s: %w", p, team, unavailable(err))
	}
	return Install{Platform: p, Team: team, BotUserID: row.BotUserID, SealedToken: row.SealedToken,
		Scopes: row.Scopes, InstalledBy: row.InstalledBy, At: row.UpdatedAt}, nil
}

// DeleteInstall forgets team's installation (uninstalled, tokens revoked).
// Idempotent.
func (s *Store) DeleteInstall(ctx context.Context, p bot.Platform, team string) error {
	err := s.db.WithContext(ctx).Where("platform = ? AND external_id = ?", string(p), team).Delete(&Installation{}).Error
	if err != nil {
		return fmt.Errorf("delete install %s:%s: %w", p, team, unavailable(err))
	}
	return nil
}

// State returns the shared value named key, and whether it is set.
func (s *Store) State(ctx context.Context, key string) (string, bool, error) {
	var row AppState
	err := s.db.WithContext(ctx).Where("key = ?", key).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("state %s: %w", key, unavailable(err))
	}
	return row.Value, true, nil
}

// SetState sets the shared value named key.
func (s *Store) SetState(ctx context.Context, key, value string, at time.Time) error {
	row := AppState{Key: key, Value: value, UpdatedAt: utc(at)}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("set state %s: %w", key, unavailable(err))
	}
	return nil
}
