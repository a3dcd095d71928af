package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

var _ goal.Finder = (*Store)(nil)

// FindGoals returns the goals ref could mean (see goal.Finder).
func (s *Store) FindGoals(ctx context.Context, c bot.CommunityID, ref string) ([]goal.Goal, error) {
	var rows []Goal
	q := s.db.WithContext(ctx).Where("community_id = ?", c)
	if n, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64); err == nil && strings.HasPrefix(ref, "#") {
		q = q.Where("no = ?", n).Order("no")
	} else {
		slug := strings.ToLower(ref)
		q = q.Where("slug = ? OR LOWER(title) LIKE ? ESCAPE '\\'", slug, likePrefix(ref)).
			Clauses(clause.OrderBy{Expression: clause.Expr{SQL: "CASE WHEN slug = ? THEN 0 WHEN status = 'active' THEN 1 ELSE 2 END, no", Vars: []any{slug}}})
	}
	if err := q.Limit(10).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find goals: %w", unavailable(err))
	}
	return toGoals(rows), nil
}

// ActiveGoals returns the community's active goals, oldest first.
func (s *Store) ActiveGoals(ctx context.Context, c bot.CommunityID) ([]goal.Goal, error) {
	var rows []Goal
	if err := s.db.WithContext(ctx).Where("community_id = ? AND status = ?", c, "active").Order("no").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("active goals: %w", unavailable(err))
	}
	return toGoals(rows), nil
}

// likePrefix returns a LIKE pattern matching strings that start with s,
// case-insensitively, with LIKE's wildcards escaped.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(strings.ToLower(s)) + "%"
}

func toGoal(r Goal) goal.Goal {
	g := goal.Goal{ID: r.ID, No: r.No, Slug: r.Slug, Title: r.Title, Unit: r.Unit, Target: bot.Amount(r.Target),
		Progress: bot.Amount(r.Progress), Pledged: bot.Amount(r.Pledged), Closed: r.Status == "closed", CreatedAt: r.CreatedAt.UTC()}
	if r.DueAt != nil {
		g.DueAt = r.DueAt.UTC()
	}
	return g
}

func toGoals(rows []Goal) []goal.Goal {
	out := make([]goal.Goal, len(rows))
	for i, r := range rows {
		out[i] = toGoal(r)
	}
	return out
}
