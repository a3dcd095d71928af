// Package goal is goals (campaigns): create, list, show, edit, close,
// reopen, and resolving a typed goal reference.
package goal

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// Goal is a campaign with a target in one unit.
type Goal struct {
	// ID is the store's row id; No is the per-community number people see (#3).
	ID       int64
	No       int64
	Slug     string
	Title    string
	Unit     string
	Target   bot.Amount
	Progress bot.Amount
	// Pledged is the amount pledged and still open.
	Pledged   bot.Amount
	DueAt     time.Time // zero when none; the instant the goal is due (end of its day)
	Closed    bool
	CreatedAt time.Time
}

// Label is how a goal is named in replies: "Plant 1000 trees (plant-1000-trees)".
func (g Goal) Label() string { return fmt.Sprintf("%s (%s)", g.Title, g.Slug) }

// Finder looks goals up by what people type.
type Finder interface {
	// FindGoals returns the community's goals (any status) that ref could
	// mean: the number for "#12", else the slug equal to ref or titles that
	// start with ref, case-insensitively; at most 10, slug matches first.
	FindGoals(ctx context.Context, c bot.CommunityID, ref string) ([]Goal, error)
	// ActiveGoals returns the community's active goals, oldest first.
	ActiveGoals(ctx context.Context, c bot.CommunityID) ([]Goal, error)
}

// Resolve returns the goal ref means in community c. An empty ref means the
// only active goal. Unknown, ambiguous or missing references are
// *bot.UserError listing what there is; ex is the example to show.
func Resolve(ctx context.Context, f Finder, c bot.CommunityID, ref, ex string) (Goal, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		active, err := f.ActiveGoals(ctx, c)
		if err != nil {
			return Goal{}, fmt.Errorf("active goals: %w", err)
		}
		switch len(active) {
		case 0:
			return Goal{}, bot.Userf("/goal create \"Plant 1000 trees\" 1000 trees", "There are no active goals yet; an organiser can create one.")
		case 1:
			return active[0], nil
		}
		return Goal{}, bot.Userf(ex, "Which goal? Name one of: %s.", labels(active))
	}
	if n, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64); err == nil && strings.HasPrefix(ref, "#") && n <= 0 {
		return Goal{}, bot.Userf(ex, "%q is not a goal id; ids look like #3.", ref)
	}
	found, err := f.FindGoals(ctx, c, ref)
	if err != nil {
		return Goal{}, fmt.Errorf("find goal %q: %w", ref, err)
	}
	for _, g := range found {
		if strings.EqualFold(g.Slug, ref) || "#"+strconv.FormatInt(g.No, 10) == ref {
			return g, nil
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		active, err := f.ActiveGoals(ctx, c)
		if err != nil {
			return Goal{}, fmt.Errorf("active goals: %w", err)
		}
		if len(active) == 0 {
			return Goal{}, bot.Userf("/goal create \"Plant 1000 trees\" 1000 trees", "No goal matches %q, and there are no active goals yet.", ref)
		}
		return Goal{}, bot.Userf(ex, "No goal matches %q. Active goals: %s.", ref, labels(active))
	}
	return Goal{}, bot.Userf(ex, "%q could mean %s. Use the slug or #id.", ref, labels(found))
}

func labels(gs []Goal) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = fmt.Sprintf("#%d %s", g.No, g.Label())
	}
	return strings.Join(parts, ", ")
}
