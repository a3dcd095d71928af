package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/bot/pledge"
)

var _ pledge.Store = (*Store)(nil)

// AddPledge records a pledge to an active goal (see pledge.Store).
func (s *Store) AddPledge(ctx context.Context, c bot.CommunityID, m bot.MemberID, goalID int64, amount bot.Amount, anonymous bool, at time.Time) (pledge.Pledge, error) {
	var (
		row Pledge
		g   Goal
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// The status condition makes a concurrent close win cleanly.
		res := tx.Model(&g).Clauses(clause.Returning{}).Where("community_id = ? AND id = ? AND status = ?", c, goalID, goalActive).
			UpdateColumn("pledged", gorm.Expr("pledged + ?", int64(amount)))
		if res.Error != nil {
			return fmt.Errorf("goal pledged: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return goal.ErrClosed
		}
		now := utc(at)
		row = Pledge{CommunityID: int64(c), GoalID: goalID, MemberID: int64(m), Amount: int64(amount),
			Status: pledge.StatusOpen, Anonymous: anonymous, CreatedAt: now, UpdatedAt: now}
		if s.postgres {
			// The number and the row in one statement.
			var got struct{ ID, No int64 }
			if err := tx.Raw(`WITH n AS (`+nextNoSQL+`)
INSERT INTO pledges (community_id, no, goal_id, member_id, amount, fulfilled, cancelled, status, anonymous, created_at, updated_at)
SELECT ?::bigint, n.value, ?::bigint, ?::bigint, ?::bigint, 0, 0, ?::text, ?::boolean, ?::timestamptz, ?::timestamptz FROM n
RETURNING id, no`, row.CommunityID, "pledge", row.CommunityID, row.GoalID, row.MemberID, row.Amount, row.Status, row.Anonymous,
				row.CreatedAt, row.UpdatedAt).Scan(&got).Error; err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			if got.ID == 0 {
				return fmt.Errorf("insert: no row returned")
			}
			row.ID, row.No = got.ID, got.No
		} else {
			no, err := nextNo(tx, int64(c), "pledge")
			if err != nil {
				return err
			}
			row.No = no
			if err := tx.Create(&row).Error; err != nil {
				return fmt.Errorf("insert: %w", err)
			}
		}
		return s.recordActivity(tx, int64(c), int64(m), ActPledge, at)
	})
	if err != nil {
		return pledge.Pledge{}, fmt.Errorf("add pledge to goal %d: %w", goalID, err)
	}
	return toPledge(row, g), nil
}

// Pledges returns the member's pledges with their goals, newest first.
func (s *Store) Pledges(ctx context.Context, c bot.CommunityID, m bot.MemberID, limit int) ([]pledge.Pledge, error) {
	var rows []Pledge
	if err := s.db.WithContext(ctx).Preload("Goal").Where("community_id = ? AND member_id = ?", c, m).
		Order("no DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("pledges of member %d: %w", m, unavailable(err))
	}
	out := make([]pledge.Pledge, len(rows))
	for i, r := range rows {
		out[i] = toPledge(r, r.Goal)
	}
	return out, nil
}

// Pledge returns the member's pledge numbered no (see pledge.Store).
func (s *Store) Pledge(ctx context.Context, c bot.CommunityID, m bot.MemberID, no int64) (pledge.Pledge, error) {
	row, g, err := ownPledge(s.db.WithContext(ctx), c, m, no, false)
	if err != nil {
		return pledge.Pledge{}, fmt.Errorf("pledge #%d: %w", no, unavailable(err))
	}
	return toPledge(row, g), nil
}

// ownPledge loads the member's pledge no (locked when lock is set) and its
// goal; another member's or community's is pledge.ErrNotFound.
func ownPledge(tx *gorm.DB, c bot.CommunityID, m bot.MemberID, no int64, lock bool) (Pledge, Goal, error) {
	var (
		row Pledge
		g   Goal
	)
	if lock {
		// Writing first takes the row lock on PostgreSQL and SQLite's write
		// lock before any read, so concurrent writers queue instead of
		// failing on a lock upgrade.
		res := tx.Model(&Pledge{}).Where("community_id = ? AND no = ? AND member_id = ?", c, no, m).
			UpdateColumn("updated_at", gorm.Expr("updated_at"))
		if res.Error != nil {
			return row, g, res.Error
		}
		if res.RowsAffected == 0 {
			return row, g, pledge.ErrNotFound
		}
	}
	err := tx.Where("community_id = ? AND no = ? AND member_id = ?", c, no, m).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return row, g, pledge.ErrNotFound
	}
	if err != nil {
		return row, g, err
	}
	if err := tx.Where("community_id = ? AND id = ?", c, row.GoalID).Take(&g).Error; err != nil {
		return row, g, fmt.Errorf("goal of pledge: %w", err)
	}
	return row, g, nil
}

// FulfilPledge fulfils all or part of the member's pledge (see pledge.Store).
func (s *Store) FulfilPledge(ctx context.Context, c bot.CommunityID, m bot.MemberID, no int64, amount bot.Amount, at time.Time) (pledge.Pledge, pledge.Progress, error) {
	var (
		row     Pledge
		g       Goal
		reached []int
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if row, g, err = ownPledge(tx, c, m, no, true); err != nil {
			return err
		}
		open := row.Amount - row.Fulfilled - row.Cancelled
		a := int64(amount)
		switch {
		case open <= 0:
			return pledge.ErrNothingOpen
		case a == 0:
			a = open
		case a > open:
			return pledge.ErrTooMuch
		}
		if g.Status != goalActive {
			return goal.ErrClosed
		}
		row.Fulfilled += a
		row.UpdatedAt = utc(at)
		if row.Fulfilled+row.Cancelled == row.Amount {
			row.Status = pledge.StatusFulfilled
		}
		if err := tx.Model(&Pledge{}).Where("community_id = ? AND id = ?", c, row.ID).
			Updates(map[string]any{"fulfilled": row.Fulfilled, "status": row.Status, "updated_at": row.UpdatedAt}).Error; err != nil {
			return fmt.Errorf("update pledge: %w", err)
		}
		goalID, pledgeID := g.ID, row.ID
		if err := tx.Create(&Contribution{CommunityID: int64(c), Kind: ContribPledge, GoalID: &goalID, MemberID: int64(m),
			PledgeID: &pledgeID, Amount: a, Anonymous: row.Anonymous, CreatedAt: utc(at)}).Error; err != nil {
			return fmt.Errorf("insert contribution: %w", err)
		}
		if err := tx.Model(&Goal{}).Where("community_id = ? AND id = ?", c, g.ID).
			UpdateColumn("pledged", gorm.Expr("pledged - ?", a)).Error; err != nil {
			return fmt.Errorf("goal pledged: %w", err)
		}
		if reached, err = addProgress(tx, int64(c), g.ID, a, at); err != nil {
			return err
		}
		if err := tx.Where("community_id = ? AND id = ?", c, g.ID).Take(&g).Error; err != nil {
			return fmt.Errorf("reload goal: %w", err)
		}
		return s.recordActivity(tx, int64(c), int64(m), ActFulfil, at)
	})
	if err != nil {
		return pledge.Pledge{}, pledge.Progress{}, fmt.Errorf("fulfil pledge #%d: %w", no, err)
	}
	return toPledge(row, g), pledge.Progress{Goal: toGoal(g), Milestones: reached}, nil
}

// CancelPledge cancels what is open of the member's pledge (see pledge.Store).
func (s *Store) CancelPledge(ctx context.Context, c bot.CommunityID, m bot.MemberID, no int64, at time.Time) (pledge.Pledge, error) {
	var (
		row Pledge
		g   Goal
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if row, g, err = ownPledge(tx, c, m, no, true); err != nil {
			return err
		}
		open := row.Amount - row.Fulfilled - row.Cancelled
		if open <= 0 {
			return pledge.ErrNothingOpen
		}
		row.Cancelled += open
		row.UpdatedAt = utc(at)
		row.Status = pledge.StatusCancelled
		if err := tx.Model(&Pledge{}).Where("community_id = ? AND id = ?", c, row.ID).
			Updates(map[string]any{"cancelled": row.Cancelled, "status": row.Status, "updated_at": row.UpdatedAt}).Error; err != nil {
			return fmt.Errorf("update pledge: %w", err)
		}
		if err := tx.Model(&Goal{}).Where("community_id = ? AND id = ?", c, g.ID).
			UpdateColumn("pledged", gorm.Expr("pledged - ?", open)).Error; err != nil {
			return fmt.Errorf("goal pledged: %w", err)
		}
		g.Pledged -= open
		return nil
	})
	if errors.Is(err, pledge.ErrNothingOpen) {
		return toPledge(row, g), fmt.Errorf("cancel pledge #%d: %w", no, err)
	}
	if err != nil {
		return pledge.Pledge{}, fmt.Errorf("cancel pledge #%d: %w", no, err)
	}
	return toPledge(row, g), nil
}

// AddLog records a contribution toward an active goal (see pledge.Store).
func (s *Store) AddLog(ctx context.Context, c bot.CommunityID, m bot.MemberID, goalID int64, amount bot.Amount, note string, at time.Time) (pledge.Progress, error) {
	var (
		g       Goal
		reached []int
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// One UPDATE … RETURNING first: it adds the progress and reads the
		// goal back, locks the goal row on PostgreSQL (a no-key update, which
		// the contribution's foreign key check does not conflict with) and
		// takes SQLite's write lock before any read; its status condition
		// makes a concurrent close win cleanly.
		res := tx.Model(&g).Clauses(clause.Returning{}).Where("community_id = ? AND id = ? AND status = ?", c, goalID, goalActive).
			UpdateColumn("progress", gorm.Expr("progress + ?", int64(amount)))
		if res.Error != nil {
			return fmt.Errorf("goal progress: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return goal.ErrClosed
		}
		if err := tx.Create(&Contribution{CommunityID: int64(c), Kind: ContribLog, GoalID: &goalID, MemberID: int64(m),
			Amount: int64(amount), Note: note, CreatedAt: utc(at)}).Error; err != nil {
			return fmt.Errorf("insert contribution: %w", err)
		}
		var err error
		if reached, err = recordMilestones(tx, int64(c), goalID, g.Progress, g.Target, at); err != nil {
			return err
		}
		return s.recordActivity(tx, int64(c), int64(m), ActLog, at)
	})
	if err != nil {
		return pledge.Progress{}, fmt.Errorf("log to goal %d: %w", goalID, err)
	}
	return pledge.Progress{Goal: toGoal(g), Milestones: reached}, nil
}

// UndoLog removes the member's latest recent log (see pledge.Store).
func (s *Store) UndoLog(ctx context.Context, c bot.CommunityID, m bot.MemberID, since time.Time) (pledge.Log, goal.Goal, error) {
	var (
		row Contribution
		g   Goal
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// One DELETE … RETURNING picks and removes the latest log, writing
		// before reading (see ownPledge).
		latest := tx.Model(&Contribution{}).Select("id").
			Where("community_id = ? AND member_id = ? AND kind = ? AND created_at >= ?", c, m, ContribLog, utc(since)).
			Order("created_at DESC, id DESC").Limit(1)
		var rows []Contribution
		res := tx.Clauses(clause.Returning{}).Where("community_id = ? AND id IN (?)", c, latest).Delete(&rows)
		if res.Error != nil {
			return fmt.Errorf("delete latest log: %w", res.Error)
		}
		if len(rows) == 0 {
			return pledge.ErrNoLog
		}
		row = rows[0]
		if err := s.forgetActivity(tx, int64(c), int64(m), ActLog, row.CreatedAt); err != nil {
			return err
		}
		if row.GoalID == nil {
			return nil
		}
		if _, err := addProgress(tx, int64(c), *row.GoalID, -row.Amount, row.CreatedAt); err != nil {
			return err
		}
		if err := tx.Where("community_id = ? AND id = ?", c, *row.GoalID).Take(&g).Error; err != nil {
			return fmt.Errorf("reload goal: %w", err)
		}
		return nil
	})
	if err != nil {
		return pledge.Log{}, goal.Goal{}, fmt.Errorf("undo log: %w", err)
	}
	var gg goal.Goal
	if g.ID != 0 {
		gg = toGoal(g)
	}
	return pledge.Log{ID: row.ID, Amount: bot.Amount(row.Amount), Note: row.Note}, gg, nil
}

func toPledge(r Pledge, g Goal) pledge.Pledge {
	return pledge.Pledge{ID: r.ID, No: r.No, Goal: toGoal(g), Amount: bot.Amount(r.Amount), Fulfilled: bot.Amount(r.Fulfilled),
		Cancelled: bot.Amount(r.Cancelled), Status: r.Status, Anonymous: r.Anonymous, CreatedAt: r.CreatedAt.UTC()}
}
