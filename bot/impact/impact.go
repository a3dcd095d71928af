// Package impact is the community's impact dashboard (/impact) and its CSV
// export (/impact export). Every number comes from the store's SQL
// aggregates; this package only picks the windows and lays them out.
package impact

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

// ImpactActivity counts what a community did in one window.
type Activity struct {
	// Contributions counts recorded contributions of every kind: fulfilled
	// pledges, logs, self-logged hours and attended shifts.
	Contributions int64
	// Fulfilments counts contributions that fulfilled (part of) a pledge.
	Fulfilments int64
	// Hours sums self-logged and attended volunteer hours.
	Hours       bot.Amount
	PledgesMade int64
	Signups     int64
	Wins        int64
	Kudos       int64
}

// Actions is everything members did: contributions, pledges made,
// sign-ups, wins and kudos given.
func (a Activity) Actions() int64 {
	return a.Contributions + a.PledgesMade + a.Signups + a.Wins + a.Kudos
}

// GoalChange is what one goal gained in the current and the previous window.
type GoalChange struct {
	GoalID    int64
	Cur, Prev bot.Amount
	// CurN and PrevN count the contributions behind Cur and Prev.
	CurN, PrevN int64
}

// ImpactMembers counts people as the spec's Periods define them (see MemberWindows).
type Members struct {
	Active, New, Returning, Lapsed int64
}

// GoalDetail is one goal's pledge and contributor figures.
type GoalDetail struct {
	// Pledged is the amount pledged and not cancelled; Fulfilled the part
	// of it done.
	Pledged, Fulfilled bot.Amount
	// Contributors counts distinct members with a contribution to the goal,
	// anonymous ones included (a count names no one).
	Contributors int64
}

// Numbers are the aggregates the dashboard and the digest share. Every
// method filters by community c and computes its numbers in SQL.
type Numbers interface {
	goal.Finder
	// ImpactActivity counts what community c did in w.
	ImpactActivity(ctx context.Context, c bot.CommunityID, w Window) (Activity, error)
	// ImpactGoalChanges sums contributions per goal in cur and prev, keyed by the
	// goal's row id; goalID 0 means every goal. Goals with nothing in
	// either window are absent.
	ImpactGoalChanges(ctx context.Context, c bot.CommunityID, goalID int64, cur, prev Window) (map[int64]GoalChange, error)
	// ImpactMembers counts active, new, returning and lapsed members for w.
	ImpactMembers(ctx context.Context, c bot.CommunityID, w MemberWindows) (Members, error)
}

// Store is what /impact needs.
type Store interface {
	Numbers
	// ImpactGoalDetail returns goal goalID's pledge and contributor figures.
	ImpactGoalDetail(ctx context.Context, c bot.CommunityID, goalID int64) (GoalDetail, error)
	// ImpactRecords returns every pledge, contribution, signup, win and kudos of
	// community c, oldest first within each type.
	ImpactRecords(ctx context.Context, c bot.CommunityID) ([]Record, error)
}

// Register wires /impact show and /impact export.
func Register(e *bot.Engine, s Store) {
	h := handlers{s: s}
	e.Handle("impact", "show", h.show)
	e.Handle("impact", "export", h.export)
}

type handlers struct{ s Store }

func (h handlers) show(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	if ref := c.Text("goal"); ref != "" {
		g, err := goal.Resolve(ctx, h.s, c.Actor.Community, ref, c.Example())
		if err != nil {
			return bot.Reply{}, err
		}
		return h.goal(ctx, c, g)
	}
	return h.dashboard(ctx, c)
}

func (h handlers) dashboard(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	cid := c.Actor.Community
	wk := DashboardWeeks(c.Now, c.Loc)
	goals, err := h.s.ActiveGoals(ctx, cid)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("impact goals: %w", err)
	}
	changes, err := h.s.ImpactGoalChanges(ctx, cid, 0, wk.This, wk.Last)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("impact goal changes: %w", err)
	}
	this, err := h.s.ImpactActivity(ctx, cid, wk.This)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("impact this week: %w", err)
	}
	last, err := h.s.ImpactActivity(ctx, cid, wk.Last)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("impact last week: %w", err)
	}
	mem, err := h.s.ImpactMembers(ctx, cid, wk.Members)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("impact members: %w", err)
	}
	m := bot.Message{Title: "Impact: week of " + wk.This.From.In(c.Loc).Format("Mon 2 Jan")}
	if len(goals) == 0 {
		m.Text = "No active goals yet; an organiser can create one with /goal create."
	}
	for _, g := range goals {
		ch := changes[g.ID]
		m.Progress = append(m.Progress, bot.Progress{Label: g.Title, Done: g.Progress, Target: g.Target, Unit: g.Unit,
			Note: fmt.Sprintf("this week +%s %s", ch.Cur.WithUnit(g.Unit), AmountTrend(ch.Cur, ch.Prev, g.Unit))})
	}
	m.Fields = []bot.Field{
		{Label: "Actions this week", Value: CountTrend(this.Actions(), last.Actions())},
		{Label: "Contributions", Value: CountTrend(this.Contributions, last.Contributions)},
		{Label: "Volunteer hours", Value: fmt.Sprintf("%s %s", this.Hours, AmountTrend(this.Hours, last.Hours, ""))},
		{Label: "Pledges made", Value: CountTrend(this.PledgesMade, last.PledgesMade)},
		{Label: "Wins", Value: CountTrend(this.Wins, last.Wins)},
		{Label: "Kudos", Value: CountTrend(this.Kudos, last.Kudos)},
		{Label: "Members", Value: MembersLine(mem)},
	}
	m.Footer = fmt.Sprintf("This week so far (since Monday 00:00, %s) against all of last week. Lapsed: active two or three weeks ago, nothing since last Monday.", c.Loc)
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func (h handlers) goal(ctx context.Context, c *bot.Call, g goal.Goal) (bot.Reply, error) {
	cid := c.Actor.Community
	wk := DashboardWeeks(c.Now, c.Loc)
	changes, err := h.s.ImpactGoalChanges(ctx, cid, g.ID, wk.This, wk.Last)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("impact goal %d changes: %w", g.No, err)
	}
	d, err := h.s.ImpactGoalDetail(ctx, cid, g.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("impact goal %d: %w", g.No, err)
	}
	ch := changes[g.ID]
	status := ""
	if g.Closed {
		status = " (closed)"
	}
	m := bot.Message{
		Title:    fmt.Sprintf("Impact: #%d %s%s", g.No, g.Label(), status),
		Progress: []bot.Progress{{Label: g.Title, Done: g.Progress, Target: g.Target, Unit: g.Unit}},
		Fields: []bot.Field{
			{Label: "Pledged", Value: d.Pledged.WithUnit(g.Unit)},
			{Label: "Fulfilled", Value: fmt.Sprintf("%s (%d%% of pledged)", d.Fulfilled.WithUnit(g.Unit), bot.Percent(d.Fulfilled, d.Pledged))},
			{Label: "This week", Value: fmt.Sprintf("+%s in %d contributions %s", ch.Cur.WithUnit(g.Unit), ch.CurN, AmountTrend(ch.Cur, ch.Prev, g.Unit))},
			{Label: "Contributors", Value: fmt.Sprintf("%d", d.Contributors)},
		},
	}
	if !g.DueAt.IsZero() {
		m.Fields = append(m.Fields, bot.Field{Label: "Due", Value: g.DueAt.Add(-time.Second).In(c.Loc).Format("Mon 2 Jan 2006")})
	}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

// CountTrend formats a count against the previous period's: "5 ▲ from 3".
func CountTrend(cur, prev int64) string {
	switch {
	case cur > prev:
		return fmt.Sprintf("%d ▲ from %d", cur, prev)
	case cur < prev:
		return fmt.Sprintf("%d ▼ from %d", cur, prev)
	}
	return fmt.Sprintf("%d, same as before", cur)
}

// AmountTrend formats the previous amount beside the arrow: "(▲ from 3 trees)".
func AmountTrend(cur, prev bot.Amount, unit string) string {
	switch {
	case cur > prev:
		return "(▲ from " + prev.WithUnit(unit) + ")"
	case cur < prev:
		return "(▼ from " + prev.WithUnit(unit) + ")"
	}
	return "(same as before)"
}

// MembersLine formats member counts on one line.
func MembersLine(m Members) string {
	return fmt.Sprintf("%d active · %d new · %d returning · %d lapsed", m.Active, m.New, m.Returning, m.Lapsed)
}

// MembersTrend formats member counts against the previous period's.
func MembersTrend(cur, prev Members) string {
	parts := []string{
		"active " + CountTrend(cur.Active, prev.Active),
		"new " + CountTrend(cur.New, prev.New),
		"returning " + CountTrend(cur.Returning, prev.Returning),
		"lapsed " + CountTrend(cur.Lapsed, prev.Lapsed),
	}
	return strings.Join(parts, " · ")
}
