// Package digest builds the weekly impact digest and serves /digest preview
// and /digest now. The scheduler posts the same message with Build, so a
// preview shows exactly what would be posted at that instant.
package digest

import (
	"context"
	"fmt"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/bot/impact"
)

// Contributor is one line of the top contributors: a member who is not
// hidden, has not left and was not forgotten, with their non-anonymous
// contributions in the period.
type Contributor struct {
	Name string
	// Actions counts their non-anonymous contributions (fulfilled pledges,
	// logs, self-logged hours, attended shifts).
	Actions int64
	// Hours sums their non-anonymous self-logged and attended hours.
	Hours bot.Amount
}

// Win is one of the period's wins. Author is empty when the member is
// hidden, has left or was forgotten.
type Win struct {
	No     int64
	Text   string
	Author string
}

// Opening is an upcoming opportunity with open slots; Slots 0 is unlimited.
type Opening struct {
	No        int64
	Title     string
	StartsAt  time.Time
	Slots     int
	Confirmed int
}

// Store is what the digest reads. Every method filters by community c.
type Store interface {
	impact.Numbers
	// DigestMembers counts active, new, returning and lapsed members for
	// each of ws, in order, with one read (see impact.MemberWindows).
	DigestMembers(ctx context.Context, c bot.CommunityID, ws ...impact.MemberWindows) ([]impact.Members, error)
	// DigestTopContributors ranks at most n members by non-anonymous
	// contributions in w (then hours, then name), leaving out hidden, left
	// and forgotten members.
	DigestTopContributors(ctx context.Context, c bot.CommunityID, w impact.Window, n int) ([]Contributor, error)
	// DigestWins returns at most n wins created in w, oldest first.
	DigestWins(ctx context.Context, c bot.CommunityID, w impact.Window, n int) ([]Win, error)
	// DigestOpenings returns at most n open opportunities starting after
	// now with a slot left (or unlimited slots), soonest first.
	DigestOpenings(ctx context.Context, c bot.CommunityID, now time.Time, n int) ([]Opening, error)
	// RecordSent records p in the outbox as already sent at at, unless its
	// slot exists, and reports whether it was new.
	RecordSent(ctx context.Context, p bot.Post, at time.Time) (bool, error)
	// LastPostFailure returns the community's latest scheduled post that
	// failed or whose outcome is unknown, if any.
	LastPostFailure(ctx context.Context, c bot.CommunityID) (Failure, bool, error)
}

// Failure is a scheduled post that could not be delivered.
type Failure struct {
	Kind   bot.PostKind
	Slot   string
	Status string // failed or unknown
	Reason string
	At     time.Time
}

// Limits on the lists in a digest.
const (
	maxWins         = 5
	maxContributors = 5
	maxOpenings     = 5
)

// Register wires /digest preview and /digest now.
func Register(e *bot.Engine, s Store) {
	h := handlers{s: s}
	e.Handle("digest", "preview", h.preview)
	e.Handle("digest", "now", h.now)
}

type handlers struct{ s Store }

func (h handlers) preview(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	m, err := Build(ctx, h.s, c.Actor.Community, c.Loc, c.Now)
	if err != nil {
		return bot.Reply{}, err
	}
	m.Visibility, m.Kind = bot.Private, bot.PostReply
	m.Footer = "Preview: only you see this. /digest now posts it to the digest channel."
	f, ok, err := h.s.LastPostFailure(ctx, c.Actor.Community)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("last post failure: %w", err)
	}
	if ok {
		m.Footer += fmt.Sprintf("\nLast delivery problem: the %s for %s is %s (%s), %s.", f.Kind, f.Slot, f.Status, f.Reason,
			f.At.In(c.Loc).Format("Mon 2 Jan 15:04"))
	}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func (h handlers) now(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	ch := c.Actor.Settings.DigestChannel
	if ch.ID == "" {
		return bot.Reply{}, bot.Userf("/settings digest-channel #impact", "No digest channel is set yet. Run /settings digest-channel #channel first.")
	}
	m, err := Build(ctx, h.s, c.Actor.Community, c.Loc, c.Now)
	if err != nil {
		return bot.Reply{}, err
	}
	name := ch.Name
	if name == "" {
		name = ch.ID
	}
	done := "Posted the digest to #" + name + "."
	// It takes the next scheduled slot, which is then not posted again.
	if rule, err := bot.ParseRecurrence(c.Actor.Settings.DigestSchedule); err == nil {
		next := rule.Next(c.Now, c.Loc)
		slot := next.In(c.Loc)
		fresh, err := h.s.RecordSent(ctx, bot.Post{Community: c.Actor.Community, Kind: bot.PostDigest,
			SlotKey: slot.Format(bot.DigestSlotLayout), DueAt: next, Message: m}, c.Now)
		if err != nil {
			return bot.Reply{}, fmt.Errorf("record digest slot: %w", err)
		}
		if !fresh {
			return bot.Reply{}, bot.Userf("", "The digest for %s was already posted with /digest now; the next one goes out as scheduled after that.",
				slot.Format("Mon 2 Jan 15:04"))
		}
		done += fmt.Sprintf(" It counts as the digest of %s, which will not be posted again.", slot.Format("Mon 2 Jan 15:04"))
	}
	return bot.Reply{Messages: []bot.Message{m, {Text: done}}}, nil
}

// Build returns community c's digest at now, as a public post of kind
// bot.PostDigest (the engine or scheduler sets its channel).
//
// The period is the 7 days ending at now (calendar days in loc), compared
// with the 7 days before it: posted on the default schedule, Monday 09:00,
// it covers the week since the previous Monday 09:00. Members are counted
// as in impact.RollingWeeks. Build only reads, so calling it twice at the
// same now gives the same message. What happened at now itself counts (the
// period ends just after it), so a digest built right after an action shows it.
func Build(ctx context.Context, s Store, c bot.CommunityID, loc *time.Location, now time.Time) (bot.Message, error) {
	if loc == nil {
		loc = time.UTC
	}
	curM, prevM := impact.RollingWeeks(now.Add(time.Microsecond), loc)
	cur, prev := curM.Period, prevM.Period
	goals, err := s.ActiveGoals(ctx, c)
	if err != nil {
		return bot.Message{}, fmt.Errorf("digest goals: %w", err)
	}
	changes, err := s.ImpactGoalChanges(ctx, c, 0, cur, prev)
	if err != nil {
		return bot.Message{}, fmt.Errorf("digest goal changes: %w", err)
	}
	act, err := s.ImpactActivity(ctx, c, cur)
	if err != nil {
		return bot.Message{}, fmt.Errorf("digest activity: %w", err)
	}
	actPrev, err := s.ImpactActivity(ctx, c, prev)
	if err != nil {
		return bot.Message{}, fmt.Errorf("digest previous activity: %w", err)
	}
	mems, err := s.DigestMembers(ctx, c, curM, prevM)
	if err != nil {
		return bot.Message{}, fmt.Errorf("digest members: %w", err)
	}
	mem, memPrev := mems[0], mems[1]
	top, err := s.DigestTopContributors(ctx, c, cur, maxContributors)
	if err != nil {
		return bot.Message{}, fmt.Errorf("digest top contributors: %w", err)
	}
	wins, err := s.DigestWins(ctx, c, cur, maxWins)
	if err != nil {
		return bot.Message{}, fmt.Errorf("digest wins: %w", err)
	}
	opens, err := s.DigestOpenings(ctx, c, now, maxOpenings)
	if err != nil {
		return bot.Message{}, fmt.Errorf("digest opportunities: %w", err)
	}

	m := bot.Message{
		Visibility: bot.Public,
		Kind:       bot.PostDigest,
		Title:      fmt.Sprintf("Impact digest: %s – %s", cur.From.In(loc).Format("Mon 2 Jan"), cur.To.In(loc).Format("Mon 2 Jan")),
	}
	if len(goals) == 0 {
		m.Text = "No active goals right now."
	}
	for _, g := range goals {
		ch := changes[g.ID]
		note := fmt.Sprintf("+%s %s · %s", ch.Cur.WithUnit(g.Unit), impact.AmountTrend(ch.Cur, ch.Prev, g.Unit), Pace(g, ch.Cur, now, loc))
		m.Progress = append(m.Progress, bot.Progress{Label: g.Title, Done: g.Progress, Target: g.Target, Unit: g.Unit, Note: note})
	}
	m.Fields = []bot.Field{
		{Label: "Pledges made", Value: impact.CountTrend(act.PledgesMade, actPrev.PledgesMade)},
		{Label: "Pledges fulfilled", Value: impact.CountTrend(act.Fulfilments, actPrev.Fulfilments)},
		{Label: "Contributions", Value: impact.CountTrend(act.Contributions, actPrev.Contributions)},
		{Label: "Volunteer hours", Value: act.Hours.String() + " " + impact.AmountTrend(act.Hours, actPrev.Hours, "")},
		{Label: "Members", Value: impact.MembersTrend(mem, memPrev)},
		{Label: "Wins", Value: impact.CountTrend(act.Wins, actPrev.Wins)},
		{Label: "Kudos", Value: impact.CountTrend(act.Kudos, actPrev.Kudos)},
	}
	for _, w := range wins {
		line := "🎉 " + w.Text
		if w.Author != "" {
			line += " (" + w.Author + ")"
		}
		m.Items = append(m.Items, line)
	}
	if n := act.Wins - int64(len(wins)); n > 0 {
		m.Items = append(m.Items, fmt.Sprintf("🎉 …and %s more", plural(n, "win")))
	}
	for i, t := range top {
		line := fmt.Sprintf("🏅 %d. %s: %s", i+1, t.Name, plural(t.Actions, "contribution"))
		if t.Hours > 0 {
			line += ", " + t.Hours.WithUnit("hours")
		}
		m.Items = append(m.Items, line)
	}
	for _, o := range opens {
		slots := "open to all"
		if o.Slots > 0 {
			slots = fmt.Sprintf("%d of %d slots left", o.Slots-o.Confirmed, o.Slots)
		}
		m.Items = append(m.Items, fmt.Sprintf("📅 #%d %s, %s: %s (/volunteer join #%d)", o.No, o.Title, o.StartsAt.In(loc).Format("Mon 2 Jan 15:04"), slots, o.No))
	}
	return m, nil
}

// Pace says how goal g is doing toward its due date, given what it gained
// in the last 7 days: reached, overdue, no due date, on pace, or what it
// needs a week to finish in time.
func Pace(g goal.Goal, gained bot.Amount, now time.Time, loc *time.Location) string {
	remaining := g.Target - g.Progress
	switch {
	case remaining <= 0:
		return "target reached"
	case g.DueAt.IsZero():
		return fmt.Sprintf("%s to go, no due date", remaining.WithUnit(g.Unit))
	case !now.Before(g.DueAt):
		return fmt.Sprintf("overdue, %s to go", remaining.WithUnit(g.Unit))
	}
	hoursLeft := int64(g.DueAt.Sub(now) / time.Hour)
	if hoursLeft < 1 {
		hoursLeft = 1
	}
	perWeek := bot.Amount((int64(remaining)*168 + hoursLeft - 1) / hoursLeft)
	due := g.DueAt.Add(-time.Second).In(loc).Format("2 Jan")
	if gained >= perWeek {
		return fmt.Sprintf("on pace for %s", due)
	}
	return fmt.Sprintf("needs %s a week to finish by %s", perWeek.WithUnit(g.Unit), due)
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
