package goal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/missionbot/missionbot/bot"
)

// Typed outcomes the store reports; handlers turn them into private errors.
var (
	// ErrClosed means the goal is closed and takes no pledges or logs.
	ErrClosed = errors.New("goal is closed")
	// ErrSlugTaken means an explicit slug is already used in the community.
	ErrSlugTaken = errors.New("slug is taken")
	// ErrNotFound means no goal with that id exists in the community.
	ErrNotFound = errors.New("goal not found")
)

// Limits on what people type.
const (
	MaxTitle   = 200
	MaxUnit    = 64
	MaxSlugLen = 64
)

// New is a goal to create.
type New struct {
	Title  string
	Unit   string
	Target bot.Amount
	DueAt  time.Time // zero: no due date
	// Slug is the explicit slug (taken → ErrSlugTaken), or "" to derive
	// one from the title (taken → -2, -3 … appended).
	Slug      string
	CreatedBy bot.MemberID
	At        time.Time
}

// Edit is a correction to a goal; zero fields are left as they are.
type Edit struct {
	Title  string
	Target bot.Amount
	DueAt  time.Time
}

// Contributor is one member's total toward a goal.
type Contributor struct {
	Name   string
	Amount bot.Amount
}

// Stats is what /goal show reports beside the goal itself.
type Stats struct {
	// Pledged is everything pledged and not cancelled; Fulfilled the part done.
	Pledged   bot.Amount
	Fulfilled bot.Amount
	// Logged is progress recorded without a pledge (logs and hours).
	Logged bot.Amount
	// Top are the leading named contributors, largest first.
	Top []Contributor
}

// Store is what the goal commands need from storage. Every method works in
// community c only; a goal id from another community is ErrNotFound.
type Store interface {
	Finder
	// CreateGoal creates an active goal numbered #n in c and returns it.
	CreateGoal(ctx context.Context, c bot.CommunityID, g New) (Goal, error)
	// GoalStats sums the goal's pledges and contributions in SQL and ranks
	// at most top named contributors (anonymous amounts and hidden, departed
	// or forgotten members left out).
	GoalStats(ctx context.Context, c bot.CommunityID, goalID int64, top int) (Stats, error)
	// EditGoal applies e, recomputes progress from the contributions and
	// records milestones the goal now reaches (recorded ones stay), returning
	// the goal and the thresholds newly recorded.
	EditGoal(ctx context.Context, c bot.CommunityID, goalID int64, e Edit, at time.Time) (Goal, []int, error)
	// SetClosed closes or reopens the goal and returns it.
	SetClosed(ctx context.Context, c bot.CommunityID, goalID int64, closed bool) (Goal, error)
	// GoalChoices suggests active goals whose title or slug contains
	// prefix (autocomplete), at most limit.
	GoalChoices(ctx context.Context, c bot.CommunityID, prefix string, limit int) ([]bot.Choice, error)
}

// Register wires the /goal subcommands into e over s.
func Register(e *bot.Engine, s Store) {
	h := handlers{s: s}
	e.HandleComplete(bot.KindGoal, s.GoalChoices)
	e.Handle("goal", "list", h.list)
	e.Handle("goal", "create", h.create)
	e.Handle("goal", "show", h.show)
	e.Handle("goal", "edit", h.edit)
	e.Handle("goal", "close", func(ctx context.Context, c *bot.Call) (bot.Reply, error) { return h.setClosed(ctx, c, true) })
	e.Handle("goal", "reopen", func(ctx context.Context, c *bot.Call) (bot.Reply, error) { return h.setClosed(ctx, c, false) })
}

type handlers struct{ s Store }

const createExample = `/goal create "Plant 1000 trees" 1000 trees by 2026-12-31`

func (h handlers) list(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	active, err := h.s.ActiveGoals(ctx, c.Actor.Community)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("list goals: %w", err)
	}
	if len(active) == 0 {
		return bot.Say("There are no active goals yet. An organiser can create one: " + createExample), nil
	}
	m := bot.Message{Title: "Active goals"}
	for _, g := range active {
		m.Progress = append(m.Progress, progressOf(g, c.Now, c.Loc))
	}
	m.Footer = "/goal show <goal> for details · /pledge <amount> to <goal> to commit"
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func progressOf(g Goal, now time.Time, loc *time.Location) bot.Progress {
	p := bot.Progress{Label: fmt.Sprintf("#%d %s", g.No, g.Label()), Done: g.Progress, Target: g.Target, Unit: g.Unit}
	var notes []string
	if g.Closed {
		notes = append(notes, "closed")
	}
	if !g.DueAt.IsZero() {
		if now.Before(g.DueAt) {
			notes = append(notes, "due "+DueDay(g.DueAt, loc))
		} else {
			notes = append(notes, "was due "+DueDay(g.DueAt, loc))
		}
	}
	p.Note = strings.Join(notes, " · ")
	return p
}

// DueDay formats a due instant (the end of its day) as the day it names.
func DueDay(due time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return due.In(loc).Add(-time.Nanosecond).Format("Mon 2 Jan 2006")
}

func (h handlers) create(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	title := strings.TrimSpace(c.Text("title"))
	target, attached := c.Amount("target")
	unit := strings.TrimSpace(c.Text("unit"))
	if unit == "" {
		unit = attached
	}
	switch {
	case title == "":
		return bot.Reply{}, bot.Userf(createExample, "Give the goal a title.")
	case utf8.RuneCountInString(title) > MaxTitle:
		return bot.Reply{}, bot.Userf(createExample, "The title is too long (%d characters); the most is %d.", utf8.RuneCountInString(title), MaxTitle)
	case unit == "":
		return bot.Reply{}, bot.Userf(createExample, "Say what the target counts: trees, hours, £ …")
	case utf8.RuneCountInString(unit) > MaxUnit:
		return bot.Reply{}, bot.Userf(createExample, "The unit is too long; the most is %d characters.", MaxUnit)
	case strings.Contains(title, "<@") || strings.Contains(unit, "<@"):
		return bot.Reply{}, bot.Userf(createExample, "A goal's title and unit can't mention people.")
	case attached != "" && !bot.UnitMatches(attached, unit):
		return bot.Reply{}, bot.Userf(createExample, "The target says %s but the unit is %q; give one unit.", attached, unit)
	}
	n := New{Title: title, Unit: unit, Target: target, DueAt: c.Date("by"), CreatedBy: c.Actor.Member.ID, At: c.Now}
	if c.Has("slug") {
		n.Slug = strings.ToLower(strings.TrimSpace(c.Text("slug")))
		if !ValidSlug(n.Slug) {
			return bot.Reply{}, bot.Userf(`/goal create "Volunteer hours" 500 hours as hours`,
				"%q is not a usable slug: use lower-case letters, digits and hyphens, at most %d characters.", c.Text("slug"), MaxSlugLen)
		}
	}
	g, err := h.s.CreateGoal(ctx, c.Actor.Community, n)
	if errors.Is(err, ErrSlugTaken) {
		return bot.Reply{}, bot.Userf(fmt.Sprintf(`/goal create "%s" %s %s as %s-2`, title, target, unit, n.Slug),
			"The slug %q is already used by another goal; pick another.", n.Slug)
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("create goal: %w", err)
	}
	m := bot.Message{Title: "Goal created: " + g.Title, Progress: []bot.Progress{progressOf(g, c.Now, c.Loc)},
		Text:    fmt.Sprintf("#%d, slug %s. Members can pledge with /pledge %s to %s", g.No, g.Slug, bot.Amount(1000).WithUnit(g.Unit), g.Slug),
		Buttons: []bot.Button{PledgeButton(g)}}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func (h handlers) show(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	g, err := Resolve(ctx, h.s, c.Actor.Community, c.Text("goal"), c.Example())
	if err != nil {
		return bot.Reply{}, err
	}
	st, err := h.s.GoalStats(ctx, c.Actor.Community, g.ID, 5)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("goal stats %d: %w", g.ID, err)
	}
	m := bot.Message{Title: fmt.Sprintf("#%d %s", g.No, g.Title), Progress: []bot.Progress{progressOf(g, c.Now, c.Loc)}}
	m.Fields = []bot.Field{
		{Label: "Progress", Value: fmt.Sprintf("%s of %s (%d%%)", g.Progress.WithUnit(g.Unit), g.Target.WithUnit(g.Unit), bot.Percent(g.Progress, g.Target))},
		{Label: "Pledged", Value: fmt.Sprintf("%s, %s fulfilled, %s still open", st.Pledged.WithUnit(g.Unit), st.Fulfilled.WithUnit(g.Unit), g.Pledged.WithUnit(g.Unit))},
		{Label: "Logged directly", Value: st.Logged.WithUnit(g.Unit)},
		{Label: "Pace", Value: Pace(g, c.Now, c.Loc)},
	}
	if g.Closed {
		m.Fields = append(m.Fields, bot.Field{Label: "Status", Value: "closed"})
	} else {
		m.Buttons = []bot.Button{PledgeButton(g)}
	}
	top := make([]string, len(st.Top))
	for i, t := range st.Top {
		top[i] = fmt.Sprintf("%d. %s — %s", i+1, t.Name, t.Amount.WithUnit(g.Unit))
	}
	if len(top) == 0 {
		top = []string{"none named yet"}
	}
	m.Fields = append(m.Fields, bot.Field{Label: "Top contributors", Value: strings.Join(top, ", ")})
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

// Pace says what is needed per day and week to reach the target by the due
// date, and when the pace since the goal was created would reach it.
func Pace(g Goal, now time.Time, loc *time.Location) string {
	remaining := g.Target - g.Progress
	if remaining <= 0 {
		return "target reached 🎉"
	}
	var parts []string
	if !g.DueAt.IsZero() {
		if !now.Before(g.DueAt) {
			parts = append(parts, fmt.Sprintf("was due %s, %s still to go", DueDay(g.DueAt, loc), remaining.WithUnit(g.Unit)))
		} else {
			days := int64((g.DueAt.Sub(now) + 24*time.Hour - 1) / (24 * time.Hour))
			perDay := ceilDiv(int64(remaining), days)
			parts = append(parts, fmt.Sprintf("needs %s a day (%s a week) to finish by %s",
				bot.Amount(perDay).WithUnit(g.Unit), bot.Amount(min(perDay*7, int64(remaining))).WithUnit(g.Unit), DueDay(g.DueAt, loc)))
		}
	}
	elapsed := now.Sub(g.CreatedAt)
	switch {
	case g.Progress <= 0:
		parts = append(parts, "no progress yet to measure a pace")
	case elapsed < time.Hour:
		parts = append(parts, "too early to measure a pace")
	default:
		// A time estimate, not an amount: float is fine here.
		eta := time.Duration(float64(elapsed) * float64(remaining) / float64(g.Progress))
		if eta > 100*365*24*time.Hour {
			parts = append(parts, "at the pace so far it would take over a century")
			break
		}
		finish := now.Add(eta)
		s := "at the pace so far it finishes around " + finish.In(locOr(loc)).Format("Mon 2 Jan 2006")
		if !g.DueAt.IsZero() && now.Before(g.DueAt) {
			if finish.After(g.DueAt) {
				s += " — behind schedule"
			} else {
				s += " — on track"
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func locOr(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func ceilDiv(a, b int64) int64 {
	if b <= 0 {
		return a
	}
	return (a + b - 1) / b
}

func (h handlers) edit(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	if !c.Has("title") && !c.Has("target") && !c.Has("by") {
		return bot.Reply{}, bot.Userf(c.Example(), "Say what to change: title, target or by <date>.")
	}
	var e Edit
	if c.Has("title") {
		e.Title = strings.TrimSpace(c.Text("title"))
		if e.Title == "" || utf8.RuneCountInString(e.Title) > MaxTitle {
			return bot.Reply{}, bot.Userf(c.Example(), "A title needs 1 to %d characters.", MaxTitle)
		}
		if strings.Contains(e.Title, "<@") {
			return bot.Reply{}, bot.Userf(c.Example(), "A goal's title can't mention people.")
		}
	}
	g, err := Resolve(ctx, h.s, c.Actor.Community, c.Text("goal"), c.Example())
	if err != nil {
		return bot.Reply{}, err
	}
	if c.Has("target") {
		var unit string
		e.Target, unit = c.Amount("target")
		if unit != "" && !bot.UnitMatches(unit, g.Unit) {
			return bot.Reply{}, bot.Userf(fmt.Sprintf("/goal edit %s target %s", g.Slug, e.Target), "%s counts %s, not %s.", g.Title, g.Unit, unit)
		}
	}
	e.DueAt = c.Date("by")
	// Milestones the edit reaches are celebrated through the outbox, in the
	// edit's transaction; the reply only says so.
	g, reached, err := h.s.EditGoal(WithPostChannel(ctx, c.Req.Channel), c.Actor.Community, g.ID, e, c.Now)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("edit goal: %w", err)
	}
	m := bot.Message{Title: "Goal updated: " + g.Title, Progress: []bot.Progress{progressOf(g, c.Now, c.Loc)},
		Text: Unlocked(g, reached, c.Actor.Settings.CelebrationsChannel)}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func (h handlers) setClosed(ctx context.Context, c *bot.Call, closed bool) (bot.Reply, error) {
	g, err := Resolve(ctx, h.s, c.Actor.Community, c.Text("goal"), c.Example())
	if err != nil {
		return bot.Reply{}, err
	}
	if g.Closed == closed {
		word := "open"
		if closed {
			word = "closed"
		}
		return bot.Reply{}, bot.Userf(c.Example(), "%s is already %s.", g.Label(), word)
	}
	g, err = h.s.SetClosed(ctx, c.Actor.Community, g.ID, closed)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("set goal %d closed=%v: %w", g.ID, closed, err)
	}
	if closed {
		return bot.Say(fmt.Sprintf("Closed %s at %s. It takes no more pledges or logs; /goal reopen %s opens it again.",
			g.Label(), g.Progress.WithUnit(g.Unit), g.Slug)), nil
	}
	return bot.Say(fmt.Sprintf("Reopened %s; it takes pledges and logs again.", g.Label())), nil
}

// MilestoneMessages returns one public milestone post per threshold reached,
// without a channel. Storage enqueues each in the outbox when it records the
// milestone (see WithPostChannel).
func MilestoneMessages(g Goal, thresholds []int) []bot.Message {
	var out []bot.Message
	for _, t := range thresholds {
		done := g.Progress.String()
		if isCurrency(g.Unit) {
			done = g.Progress.WithUnit(g.Unit)
		}
		text := fmt.Sprintf("🎉 %s reached %d%% — %s / %s!", g.Title, t, done, g.Target.WithUnit(g.Unit))
		out = append(out, bot.Message{Visibility: bot.Public, Kind: bot.PostMilestone, Text: text})
	}
	return out
}

func isCurrency(unit string) bool { return unit == "£" || unit == "$" || unit == "€" }

// ValidSlug reports whether s is a usable explicit slug: 1 to MaxSlugLen
// lower-case ASCII letters, digits and inner hyphens.
func ValidSlug(s string) bool {
	if s == "" || len(s) > MaxSlugLen || strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// PledgeButton is a Pledge button for g that asks for the amount first.
func PledgeButton(g Goal) bot.Button {
	b := bot.CommandButton("Pledge", fmt.Sprintf("pledge %s to #%d", bot.InputMarker, g.No), bot.ButtonPrimary)
	b.Input = &bot.Input{Label: "How much will you pledge?", Placeholder: "e.g. " + bot.Amount(1000).WithUnit(g.Unit)}
	return b
}
