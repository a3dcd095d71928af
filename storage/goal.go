package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

var _ goal.Store = (*Store)(nil)

// Goal statuses.
const (
	goalActive = "active"
	goalClosed = "closed"
)

// CreateGoal creates an active goal (see goal.Store). An explicit slug that
// is taken is goal.ErrSlugTaken; a derived one gets -2, -3 … appended.
func (s *Store) CreateGoal(ctx context.Context, c bot.CommunityID, n goal.New) (goal.Goal, error) {
	var row Goal
	for attempt := 0; ; attempt++ {
		err := s.tx(ctx, func(tx *gorm.DB) error {
			// Numbering writes first, so SQLite takes its write lock before the slug read.
			no, err := nextNo(tx, int64(c), "goal")
			if err != nil {
				return err
			}
			slug := n.Slug
			if slug == "" {
				if slug, err = freeSlug(tx, int64(c), bot.Slug(n.Title, "goal")); err != nil {
					return err
				}
			}
			row = Goal{CommunityID: int64(c), No: no, Slug: slug, Title: n.Title, Unit: n.Unit, Target: int64(n.Target),
				DueAt: utcPtr(n.DueAt), Status: goalActive, CreatedBy: int64(n.CreatedBy), CreatedAt: utc(n.At)}
			return tx.Create(&row).Error
		})
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			if n.Slug != "" {
				return goal.Goal{}, goal.ErrSlugTaken
			}
			if attempt < 5 {
				continue // a concurrent create took the derived slug
			}
		}
		if err != nil {
			return goal.Goal{}, fmt.Errorf("create goal: %w", err)
		}
		return toGoal(row), nil
	}
}

// freeSlug returns base, or base-2, base-3 … whichever is first unused in community.
func freeSlug(tx *gorm.DB, community int64, base string) (string, error) {
	var taken []string
	// Every candidate starts with base cut to leave room for the longest
	// suffix tried here ("-999999"), so one prefix query sees them all.
	if err := tx.Model(&Goal{}).Where("community_id = ? AND slug LIKE ? ESCAPE '\\'", community, likePrefix(trimSlug(base, 7))).
		Pluck("slug", &taken).Error; err != nil {
		return "", fmt.Errorf("slugs: %w", err)
	}
	used := make(map[string]bool, len(taken))
	for _, t := range taken {
		used[t] = true
	}
	if !used[base] {
		return base, nil
	}
	for i := 2; ; i++ {
		suffix := "-" + strconv.Itoa(i)
		cand := trimSlug(base, len(suffix)) + suffix
		if !used[cand] {
			return cand, nil
		}
	}
}

// trimSlug shortens base so that room more characters fit in a slug.
func trimSlug(base string, room int) string {
	if n := goal.MaxSlugLen - room; len(base) > n {
		base = strings.TrimRight(base[:n], "-")
	}
	return base
}

// GoalStats sums the goal's pledges and contributions and ranks its top
// named contributors, all in SQL (see goal.Store).
func (s *Store) GoalStats(ctx context.Context, c bot.CommunityID, goalID int64, top int) (goal.Stats, error) {
	db := s.db.WithContext(ctx)
	var p struct{ Pledged, Fulfilled int64 }
	if err := db.Model(&Pledge{}).Select("COALESCE(SUM(amount - cancelled), 0) AS pledged, COALESCE(SUM(fulfilled), 0) AS fulfilled").
		Where("community_id = ? AND goal_id = ?", c, goalID).Scan(&p).Error; err != nil {
		return goal.Stats{}, fmt.Errorf("pledge totals of goal %d: %w", goalID, unavailable(err))
	}
	var logged int64
	if err := db.Model(&Contribution{}).Select("COALESCE(SUM(amount), 0)").
		Where("community_id = ? AND goal_id = ? AND kind <> ?", c, goalID, ContribPledge).Scan(&logged).Error; err != nil {
		return goal.Stats{}, fmt.Errorf("logged total of goal %d: %w", goalID, unavailable(err))
	}
	var rows []struct {
		Name   string
		Amount int64
	}
	if err := db.Table("contributions AS c").Select("m.name AS name, SUM(c.amount) AS amount").
		Joins("JOIN members AS m ON m.id = c.member_id AND m.community_id = c.community_id").
		Where(`c.community_id = ? AND c.goal_id = ? AND NOT c.anonymous AND NOT m.hidden AND NOT m."left" AND NOT m.forgotten AND m.name <> ''`, c, goalID).
		Group("m.id, m.name").Having("SUM(c.amount) > 0").Order("amount DESC, m.id").Limit(top).Scan(&rows).Error; err != nil {
		return goal.Stats{}, fmt.Errorf("top contributors of goal %d: %w", goalID, unavailable(err))
	}
	st := goal.Stats{Pledged: bot.Amount(p.Pledged), Fulfilled: bot.Amount(p.Fulfilled), Logged: bot.Amount(logged)}
	for _, r := range rows {
		st.Top = append(st.Top, goal.Contributor{Name: r.Name, Amount: bot.Amount(r.Amount)})
	}
	return st, nil
}

// EditGoal corrects the goal, recomputes its progress from its
// contributions and records newly reached milestones (see goal.Store).
func (s *Store) EditGoal(ctx context.Context, c bot.CommunityID, goalID int64, e goal.Edit, at time.Time) (goal.Goal, []int, error) {
	var (
		row     Goal
		reached []int
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// A no-op write locks the row first (and takes SQLite's write lock).
		// Only then is progress recomputed from the ledger, in a statement
		// of its own: on PostgreSQL an UPDATE that waited for the lock would
		// still sum with the snapshot from before the wait and lose the
		// amount a concurrent log had just added.
		res := tx.Model(&Goal{}).Where("community_id = ? AND id = ?", c, goalID).UpdateColumn("pledged", gorm.Expr("pledged"))
		if res.Error != nil {
			return fmt.Errorf("lock: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return goal.ErrNotFound
		}
		updates := map[string]any{"progress": tx.Model(&Contribution{}).Select("COALESCE(SUM(amount), 0)").
			Where("community_id = ? AND goal_id = ?", c, goalID)}
		if e.Title != "" {
			updates["title"] = e.Title
		}
		if e.Target > 0 {
			updates["target"] = int64(e.Target)
		}
		if !e.DueAt.IsZero() {
			updates["due_at"] = utcPtr(e.DueAt)
		}
		res = tx.Model(&Goal{}).Where("community_id = ? AND id = ?", c, goalID).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("update: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return goal.ErrNotFound
		}
		if err := tx.Where("community_id = ? AND id = ?", c, goalID).Take(&row).Error; err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		var err error
		reached, err = recordMilestones(tx, int64(c), goalID, row.Progress, row.Target, at)
		return err
	})
	if err != nil {
		return goal.Goal{}, nil, fmt.Errorf("edit goal %d: %w", goalID, err)
	}
	return toGoal(row), reached, nil
}

// SetClosed closes or reopens the goal (see goal.Store).
func (s *Store) SetClosed(ctx context.Context, c bot.CommunityID, goalID int64, closed bool) (goal.Goal, error) {
	status := goalActive
	if closed {
		status = goalClosed
	}
	var row Goal
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Goal{}).Where("community_id = ? AND id = ?", c, goalID).Update("status", status)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return goal.ErrNotFound
		}
		return tx.Where("community_id = ? AND id = ?", c, goalID).Take(&row).Error
	})
	if err != nil {
		return goal.Goal{}, fmt.Errorf("set goal %d %s: %w", goalID, status, err)
	}
	return toGoal(row), nil
}

// addProgress adds delta (hundredths, may be negative) to the goal's progress
// inside tx and records a Milestone for each threshold of 25/50/75/100 % that
// progress now reaches and that was not recorded before. It returns the
// thresholds newly recorded, ascending. Milestones already recorded stay
// recorded when progress goes down. The goal must belong to community.
func addProgress(tx *gorm.DB, community, goalID, delta int64, at time.Time) ([]int, error) {
	var g Goal
	res := tx.Model(&g).Clauses(clause.Returning{Columns: []clause.Column{{Name: "progress"}, {Name: "target"}}}).
		Where("community_id = ? AND id = ?", community, goalID).
		UpdateColumn("progress", gorm.Expr("progress + ?", delta))
	if res.Error != nil {
		return nil, fmt.Errorf("add progress to goal %d: %w", goalID, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("add progress to goal %d: %w", goalID, gorm.ErrRecordNotFound)
	}
	return recordMilestones(tx, community, goalID, g.Progress, g.Target, at)
}

// recordMilestones records the thresholds progress reaches of target that
// are not yet recorded for the goal, returning those newly recorded.
func recordMilestones(tx *gorm.DB, community, goalID, progress, target int64, at time.Time) ([]int, error) {
	if target <= 0 || progress <= 0 {
		return nil, nil
	}
	var reached []int
	for _, t := range [...]int{25, 50, 75, 100} {
		// progress/target >= t/100, in integers (amounts are bounded well below overflow).
		if progress*100 >= int64(t)*target {
			reached = append(reached, t)
		}
	}
	if len(reached) == 0 {
		return nil, nil
	}
	var have []int
	if err := tx.Model(&Milestone{}).Where("community_id = ? AND goal_id = ?", community, goalID).
		Pluck("threshold", &have).Error; err != nil {
		return nil, fmt.Errorf("milestones of goal %d: %w", goalID, err)
	}
	recorded := make(map[int]bool, len(have))
	for _, t := range have {
		recorded[t] = true
	}
	var added []int
	for _, t := range reached {
		if recorded[t] {
			continue
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Milestone{CommunityID: community, GoalID: goalID, Threshold: t, ReachedAt: utc(at)})
		if res.Error != nil {
			return nil, fmt.Errorf("record milestone %d%% of goal %d: %w", t, goalID, res.Error)
		}
		if res.RowsAffected > 0 {
			added = append(added, t)
		}
	}
	return added, nil
}
