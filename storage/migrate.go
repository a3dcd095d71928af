package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/bot/impact"
)

// migration is one forward-only schema change. Applied versions are kept in
// schema_migrations; a migration never changes once released: add a new one.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
}

var migrations = []migration{
	{1, "initial schema", func(tx *gorm.DB) error {
		return tx.Migrator().CreateTable(
			&Community{}, &Member{}, &Counter{}, &Goal{}, &Pledge{}, &Contribution{}, &Milestone{},
			&Series{}, &Opportunity{}, &Signup{}, &Win{}, &Cheer{}, &Kudos{}, &Announcement{}, &Activity{},
		)
	}},
	{2, "one attendance credit per opportunity and member", func(tx *gorm.DB) error {
		return tx.Exec("CREATE UNIQUE INDEX ux_contrib_attended ON contributions (opportunity_id, member_id) WHERE kind = 'attended'").Error
	}},
	{3, "platform deliveries for deduplication", func(tx *gorm.DB) error {
		return tx.Migrator().CreateTable(&Delivery{})
	}},
	{4, "impact indexes and member weeks", func(tx *gorm.DB) error {
		for _, q := range []string{
			// Period sums read kinds and amounts from the indexes alone:
			// the whole community by time, or goal by goal.
			"CREATE INDEX ix_contrib_time_cover ON contributions (community_id, created_at, kind, goal_id, amount)",
			"CREATE INDEX ix_contrib_goal_cover ON contributions (community_id, goal_id, created_at, amount)",
			// A goal's distinct contributors, in index order.
			"CREATE INDEX ix_contrib_goal_member ON contributions (community_id, goal_id, member_id)",
			"CREATE INDEX ix_pledges_time ON pledges (community_id, created_at)",
			"CREATE INDEX ix_signups_time ON signups (community_id, created_at)",
			"CREATE INDEX ix_kudos_time ON kudos (community_id, created_at)",
		} {
			if err := tx.Exec(q).Error; err != nil {
				return err
			}
		}
		if err := tx.Migrator().CreateTable(&MemberWeek{}); err != nil {
			return err
		}
		return backfillMemberWeeks(tx)
	}},
	{5, "outbox of scheduled posts", func(tx *gorm.DB) error {
		return tx.Migrator().CreateTable(&OutboxPost{})
	}},
	{6, "welcomes, installations and shared app state", func(tx *gorm.DB) error {
		// Migration 1 creates members from today's row struct, so a new
		// database already has the column.
		if !tx.Migrator().HasColumn(&Member{}, "WelcomedAt") {
			if err := tx.Migrator().AddColumn(&Member{}, "WelcomedAt"); err != nil {
				return err
			}
		}
		return tx.Migrator().CreateTable(&Installation{}, &AppState{})
	}},
	{7, "member days for the digest's rolling windows, covering indexes", func(tx *gorm.DB) error {
		return migrateMemberDays(tx)
	}},
}

// backfillMemberWeeks fills member_weeks from every community's activities,
// each week in the community's current timezone, reading activities in id
// order a batch at a time.
func backfillMemberWeeks(tx *gorm.DB) error {
	var communities []Community
	if err := tx.Select("id", "timezone").Order("id").Find(&communities).Error; err != nil {
		return fmt.Errorf("backfill member weeks: %w", err)
	}
	const batch = 10000
	for _, c := range communities {
		loc := zone(c.Timezone)
		var after int64
		for {
			var rows []Activity
			if err := tx.Select("id", "member_id", "at").Where("community_id = ? AND id > ?", c.ID, after).
				Order("id").Limit(batch).Find(&rows).Error; err != nil {
				return fmt.Errorf("backfill member weeks of community %d: %w", c.ID, err)
			}
			if len(rows) == 0 {
				break
			}
			after = rows[len(rows)-1].ID
			type key struct{ member, week int64 }
			seen := map[key]bool{}
			var weeks []MemberWeek
			for _, a := range rows {
				w := utc(impact.WeekStart(a.At, loc))
				if k := (key{a.MemberID, w.UnixMicro()}); !seen[k] {
					seen[k] = true
					weeks = append(weeks, MemberWeek{CommunityID: c.ID, MemberID: a.MemberID, Week: w})
				}
			}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&weeks, 1000).Error; err != nil {
				return fmt.Errorf("backfill member weeks of community %d: %w", c.ID, err)
			}
		}
	}
	return nil
}

// MigrationStatus is one migration and when it was applied (zero if pending).
type MigrationStatus struct {
	Version   int
	Name      string
	AppliedAt time.Time
}

// Migrate applies pending migrations in order, each in its own transaction,
// under a database-wide lock so replicas starting together apply them once.
// It returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	db := s.db.WithContext(ctx)
	if err := db.Migrator().AutoMigrate(&SchemaMigration{}); err != nil && !db.Migrator().HasTable(&SchemaMigration{}) {
		return nil, fmt.Errorf("migrate: %w", unavailable(err))
	}
	var applied []int
	for _, m := range migrations {
		err := db.Transaction(func(tx *gorm.DB) error {
			if s.postgres {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(7413001)").Error; err != nil {
					return err
				}
			}
			var n int64
			if err := tx.Model(&SchemaMigration{}).Where("version = ?", m.version).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if err := m.up(tx); err != nil {
				return err
			}
			applied = append(applied, m.version)
			return tx.Create(&SchemaMigration{Version: m.version, Name: m.name, AppliedAt: utc(time.Now())}).Error
		})
		if err != nil {
			return applied, fmt.Errorf("migration %d (%s): %w", m.version, m.name, unavailable(err))
		}
	}
	return applied, nil
}

// Migrations lists every known migration with when it was applied.
func (s *Store) Migrations(ctx context.Context) ([]MigrationStatus, error) {
	var rows []SchemaMigration
	if s.db.Migrator().HasTable(&SchemaMigration{}) {
		if err := s.db.WithContext(ctx).Order("version").Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("migration status: %w", unavailable(err))
		}
	}
	at := map[int]time.Time{}
	for _, r := range rows {
		at[r.Version] = r.AppliedAt
	}
	out := make([]MigrationStatus, len(migrations))
	for i, m := range migrations {
		out[i] = MigrationStatus{Version: m.version, Name: m.name, AppliedAt: at[m.version]}
	}
	return out, nil
}
