package recognition

import (
	"context"
	"fmt"
	"strings"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

// boardSize is how many members a leaderboard shows.
const boardSize = 10

// leaderboard ranks members for a period: by amount for a goal, or by impact
// actions with hours and kudos received beside.
func (h *handlers) leaderboard(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	period := c.Text("period")
	if period == "" {
		period = "week"
	}
	var (
		p    Period
		span string
	)
	switch period {
	case "week":
		p = WeekOf(c.Now, c.Loc)
		span = fmt.Sprintf("this week (%s – %s)", p.From.In(c.Loc).Format("Mon 2 Jan"), p.To.In(c.Loc).AddDate(0, 0, -1).Format("Sun 2 Jan"))
	case "month":
		p = MonthOf(c.Now, c.Loc)
		span = p.From.In(c.Loc).Format("January 2006")
	case "all":
		span = "all time"
	default:
		return bot.Reply{}, bot.Userf(c.Example(), "%q is not a period; use week, month or all.", period)
	}
	var (
		g     goal.Goal
		title = "🏆 Leaderboard: " + span
	)
	if ref := c.Text("goal"); ref == "week" || ref == "month" || ref == "all" {
		return bot.Reply{}, bot.Userf(c.Example(), "Give one period: week, month or all (not %s and %s).", ref, period)
	}
	if ref := c.Text("goal"); ref != "" {
		var err error
		if g, err = goal.Resolve(ctx, h.s, c.Actor.Community, ref, c.Example()); err != nil {
			if ue, ok := bot.AsUserError(err); ok && !c.Has("period") && !strings.ContainsAny(ref, " #") {
				ue.Msg += " Periods are week, month or all."
			}
			return bot.Reply{}, err
		}
		title = fmt.Sprintf("🏆 %s: %s", g.Title, span)
	}
	rows, err := h.s.Leaders(ctx, c.Actor.Community, g.ID, p, boardSize)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("leaderboard: %w", err)
	}
	if len(rows) == 0 {
		how := "Fulfil a pledge, /log progress or volunteer (/volunteer) to get on it."
		if g.ID != 0 {
			how = fmt.Sprintf("Log progress to get on it, e.g. /log 5 %s to %s.", g.Unit, g.Slug)
		}
		return bot.Say(fmt.Sprintf("%s\nNo one is on this board yet. %s", title, how)), nil
	}
	items := make([]string, len(rows))
	for i, r := range rows {
		who := bot.UserMention(withPlatform(r.Member, c))
		if g.ID != 0 {
			items[i] = fmt.Sprintf("%d. %s: %s", i+1, who, r.Amount.WithUnit(g.Unit))
			continue
		}
		items[i] = fmt.Sprintf("%d. %s: %s · %s · %s", i+1, who, plural(r.Actions, "action"), hours(r.Hours), plural(r.Kudos, "kudos"))
	}
	m := bot.Message{Title: title, Items: items}
	if g.ID == 0 {
		m.Footer = "Impact actions are fulfilled pledges, logs and attended shifts. Opt out with /myimpact hide."
	} else {
		m.Footer = "Anonymous contributions count toward the goal but not here. Opt out with /myimpact hide."
	}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func plural(n int64, word string) string {
	if n == 1 || strings.HasSuffix(word, "s") {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func hours(a bot.Amount) string {
	if a == 100 {
		return "1 hour"
	}
	return a.WithUnit("hours")
}
