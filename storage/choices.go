package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// likeContains returns a LIKE pattern matching strings that contain s,
// case-insensitively, with LIKE's wildcards escaped.
func likeContains(s string) string { return "%" + likePrefix(s) }

// GoalChoices suggests community c's active goals whose title or slug
// contains prefix, newest first, at most limit: shown by title, chosen by
// slug.
func (s *Store) GoalChoices(ctx context.Context, c bot.CommunityID, prefix string, limit int) ([]bot.Choice, error) {
	var rows []Goal
	q := s.db.WithContext(ctx).Select("no", "slug", "title").Where("community_id = ? AND status = ?", c, "active")
	if p := strings.TrimPrefix(strings.TrimSpace(prefix), "#"); p != "" {
		q = q.Where("(LOWER(title) LIKE ? ESCAPE '\\' OR slug LIKE ? ESCAPE '\\')", likeContains(p), likeContains(p))
	}
	if err := q.Order("no DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("goal choices: %w", unavailable(err))
	}
	out := make([]bot.Choice, len(rows))
	for i, g := range rows {
		out[i] = bot.Choice{Name: clip(fmt.Sprintf("%s (#%d)", g.Title, g.No), 100), Value: g.Slug}
	}
	return out, nil
}

// OpportunityChoices suggests community c's open opportunities that have
// not started by now and whose title contains prefix, soonest first, at
// most limit: shown with their start, chosen by #number.
func (s *Store) OpportunityChoices(ctx context.Context, c bot.CommunityID, prefix string, now time.Time, limit int) ([]bot.Choice, error) {
	var rows []Opportunity
	q := s.db.WithContext(ctx).Select("no", "title", "starts_at").
		Where("community_id = ? AND status = ? AND starts_at > ?", c, "open", utc(now))
	if p := strings.TrimPrefix(strings.TrimSpace(prefix), "#"); p != "" {
		q = q.Where("(LOWER(title) LIKE ? ESCAPE '\\' OR CAST(no AS TEXT) LIKE ? ESCAPE '\\')", likeContains(p), likePrefix(p))
	}
	if err := q.Order("starts_at, no").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("opportunity choices: %w", unavailable(err))
	}
	out := make([]bot.Choice, len(rows))
	for i, o := range rows {
		out[i] = bot.Choice{Name: clip(fmt.Sprintf("#%d %s, %s", o.No, o.Title, o.StartsAt.UTC().Format("Mon 2 Jan 15:04 UTC")), 100), Value: fmt.Sprintf("#%d", o.No)}
	}
	return out, nil
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
