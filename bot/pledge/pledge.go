// Package pledge is pledges (/pledge) and directly logged progress (/log):
// commitments to a goal, their fulfilment, and the milestones they reach.
package pledge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

// Typed outcomes the store reports; handlers turn them into private errors.
var (
	// ErrNotFound means the caller has no pledge with that id in the
	// community: missing, someone else's and another community's look alike.
	ErrNotFound = errors.New("pledge not found")
	// ErrNothingOpen means nothing of the pledge is left to fulfil or cancel.
	ErrNothingOpen = errors.New("nothing open on pledge")
	// ErrTooMuch means the amount is more than what is open on the pledge.
	ErrTooMuch = errors.New("more than is open on pledge")
	// ErrNoLog means the caller has no log in the last 24 hours to undo.
	ErrNoLog = errors.New("no recent log")
)

// UndoWindow is how far back /log undo reaches.
const UndoWindow = 24 * time.Hour

// Statuses of a pledge.
const (
	StatusOpen      = "open"
	StatusFulfilled = "fulfilled"
	StatusCancelled = "cancelled"
)

// Pledge is a member's commitment to a goal.
type Pledge struct {
	ID        int64
	No        int64
	Goal      goal.Goal
	Amount    bot.Amount
	Fulfilled bot.Amount
	Cancelled bot.Amount
	Status    string
	Anonymous bool
	CreatedAt time.Time
}

// Open is what is neither fulfilled nor cancelled.
func (p Pledge) Open() bot.Amount { return p.Amount - p.Fulfilled - p.Cancelled }

// Progress is the outcome of a change to a goal's progress: the goal after
// it and the milestone thresholds newly recorded.
type Progress struct {
	Goal       goal.Goal
	Milestones []int
}

// Log is one directly logged contribution.
type Log struct {
	ID     int64
	Amount bot.Amount
	Note   string
}

// Store is what /pledge and /log need from storage. Every method works in
// community c only, records the member's activity in the same transaction,
// and refuses a closed goal with goal.ErrClosed.
type Store interface {
	goal.Finder
	// AddPledge records a pledge of amount to the goal and adds it to the
	// goal's open pledged total.
	AddPledge(ctx context.Context, c bot.CommunityID, m bot.MemberID, goalID int64, amount bot.Amount, anonymous bool, at time.Time) (Pledge, error)
	// Pledges returns the member's pledges, newest first, at most limit.
	Pledges(ctx context.Context, c bot.CommunityID, m bot.MemberID, limit int) ([]Pledge, error)
	// Pledge returns the member's pledge numbered no, or ErrNotFound.
	Pledge(ctx context.Context, c bot.CommunityID, m bot.MemberID, no int64) (Pledge, error)
	// FulfilPledge fulfils amount of the member's pledge no (0: all that is
	// open), records it as a contribution and adds it to the goal's progress.
	FulfilPledge(ctx context.Context, c bot.CommunityID, m bot.MemberID, no int64, amount bot.Amount, at time.Time) (Pledge, Progress, error)
	// CancelPledge cancels what is open of the member's pledge no and takes
	// it off the goal's open pledged total. With nothing open it returns the
	// pledge and ErrNothingOpen.
	CancelPledge(ctx context.Context, c bot.CommunityID, m bot.MemberID, no int64, at time.Time) (Pledge, error)
	// AddLog records amount toward the goal and adds it to its progress.
	AddLog(ctx context.Context, c bot.CommunityID, m bot.MemberID, goalID int64, amount bot.Amount, note string, at time.Time) (Progress, error)
	// UndoLog removes the member's latest log made at or after since and
	// takes its amount off the goal's progress (milestones stay).
	UndoLog(ctx context.Context, c bot.CommunityID, m bot.MemberID, since time.Time) (Log, goal.Goal, error)
}

// Register wires /pledge and /log into e over s.
func Register(e *bot.Engine, s Store) {
	h := handlers{s: s}
	e.Handle("pledge", "add", h.add)
	e.Handle("pledge", "list", h.list)
	e.Handle("pledge", "done", h.done)
	e.Handle("pledge", "cancel", h.cancel)
	e.Handle("log", "add", h.log)
	e.Handle("log", "undo", h.undo)
}

type handlers struct{ s Store }

// target resolves the goal and unit of "<amount> [unit] [to] <goal> [note]",
// refusing closed goals and units that are not the goal's. With exactly one
// active goal the goal may be left out, so a word the parser took for the
// goal is then the unit ("/pledge 10 trees") or, for /log, the start of the
// note ("/log 5 trees planted by the river"); note is nil for /pledge.
func (h handlers) target(ctx context.Context, c *bot.Call, verb string, note *string) (goal.Goal, bot.Amount, error) {
	amount, attached := c.Amount("amount")
	unit := strings.TrimSpace(c.Text("unit"))
	if unit != "" && attached != "" && !bot.UnitMatches(unit, attached) {
		return goal.Goal{}, 0, bot.Userf(c.Example(), "%s%s has two units; give one.", attached, unit)
	}
	if unit == "" {
		unit = attached
	}
	ref := strings.TrimSpace(c.Text("goal"))
	g, err := goal.Resolve(ctx, h.s, c.Actor.Community, ref, c.Example())
	_, isUser := bot.AsUserError(err)
	// A closed goal whose title starts with the word may still be beaten by
	// the only active goal's unit ("/pledge 10 trees" beside a closed
	// "Trees for schools"), unless the word came after "to".
	closedGuess := err == nil && g.Closed && unit == "" && !goalNamed(c, ref)
	if (isUser || closedGuess) && ref != "" {
		active, aerr := h.s.ActiveGoals(ctx, c.Actor.Community)
		if aerr != nil {
			return goal.Goal{}, 0, fmt.Errorf("active goals: %w", aerr)
		}
		if len(active) == 1 {
			only := active[0]
			switch {
			case unit == "" && bot.UnitMatches(ref, only.Unit):
				g, unit, err = only, ref, nil
			case closedGuess:
			case note != nil && unit != "" && bot.UnitMatches(unit, only.Unit) && !goalNamed(c, ref):
				g, err = only, nil
				*note = strings.TrimSpace(ref + " " + *note)
			case unit == "" && !strings.ContainsAny(ref, "-#") && len(strings.Fields(ref)) == 1:
				// Only when nothing matches: an ambiguous word keeps its
				// list of candidates.
				found, ferr := h.s.FindGoals(ctx, c.Actor.Community, ref)
				if ferr != nil {
					return goal.Goal{}, 0, fmt.Errorf("find goal %q: %w", ref, ferr)
				}
				if len(found) == 0 {
					ex := fmt.Sprintf("/%s %s to %s", verb, bot.Amount(1000).WithUnit(only.Unit), only.Slug)
					return goal.Goal{}, 0, bot.Userf(ex, "No goal matches %q, and it isn't the unit of %s either: that goal counts %s.", ref, only.Label(), only.Unit)
				}
			}
		}
	}
	if err != nil {
		return goal.Goal{}, 0, err
	}
	ex := fmt.Sprintf("/%s %s to %s", verb, bot.Amount(1000).WithUnit(g.Unit), g.Slug)
	if !bot.UnitMatches(unit, g.Unit) {
		return goal.Goal{}, 0, bot.Userf(ex, "%s is counted in %s, not %s.", g.Label(), g.Unit, unit)
	}
	if g.Closed {
		return goal.Goal{}, 0, closedErr(g)
	}
	return g, amount, nil
}

// goalNamed reports whether the goal reference was given as such: a
// platform's goal option, or typed right after the keyword "to"
// ("/log 5 trees to nosuch"), so it is never read as a unit or a note.
func goalNamed(c *bot.Call, ref string) bool {
	if c.Req.Options != nil {
		return true
	}
	toks := bot.Tokenize(c.Req.Text)
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].IsWord("to") && toks[i+1].Text == ref {
			return true
		}
	}
	return false
}

func closedErr(g goal.Goal) error {
	return bot.Userf("/goal", "%s is closed and takes no pledges or logs; /goal lists the open ones.", g.Label())
}

func (h handlers) add(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	g, amount, err := h.target(ctx, c, "pledge", nil)
	if err != nil {
		return bot.Reply{}, err
	}
	p, err := h.s.AddPledge(ctx, c.Actor.Community, c.Actor.Member.ID, g.ID, amount, c.Bool("anonymously"), c.Now)
	if errors.Is(err, goal.ErrClosed) {
		return bot.Reply{}, closedErr(g)
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("add pledge: %w", err)
	}
	text := fmt.Sprintf("Pledged %s to %s — pledge #%d. When it's done: /pledge done #%d", amount.WithUnit(g.Unit), g.Label(), p.No, p.No)
	if p.Anonymous {
		text += "\nIt is anonymous: it counts in totals but your name is never shown with it."
	}
	return bot.Say(text), nil
}

func (h handlers) list(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	const limit = 25
	ps, err := h.s.Pledges(ctx, c.Actor.Community, c.Actor.Member.ID, limit+1)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("list pledges: %w", err)
	}
	if len(ps) == 0 {
		return bot.Say("You have no pledges yet. Make one: /pledge 10 trees to plant-1000-trees"), nil
	}
	m := bot.Message{Title: "Your pledges"}
	for i, p := range ps {
		if i == limit {
			m.Footer = fmt.Sprintf("Showing your %d newest pledges.", limit)
			break
		}
		m.Items = append(m.Items, describe(p))
	}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func describe(p Pledge) string {
	u := p.Goal.Unit
	s := fmt.Sprintf("#%d %s to %s — %s fulfilled", p.No, p.Amount.WithUnit(u), p.Goal.Label(), p.Fulfilled.WithUnit(u))
	switch {
	case p.Open() > 0:
		s += fmt.Sprintf(", %s open", p.Open().WithUnit(u))
	case p.Cancelled > 0:
		s += fmt.Sprintf(", %s cancelled", p.Cancelled.WithUnit(u))
	}
	s += " · " + p.Status
	if p.Anonymous {
		s += " · anonymous"
	}
	return s
}

func notYours(no int64) error {
	return bot.Userf("/pledge list", "#%d is not one of your pledges; /pledge list shows yours.", no)
}

func (h handlers) done(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	no := c.ID("id")
	p, err := h.s.Pledge(ctx, c.Actor.Community, c.Actor.Member.ID, no)
	if errors.Is(err, ErrNotFound) {
		return bot.Reply{}, notYours(no)
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("pledge #%d: %w", no, err)
	}
	u := p.Goal.Unit
	var amount bot.Amount
	if c.Has("amount") {
		var unit string
		amount, unit = c.Amount("amount")
		if !bot.UnitMatches(unit, u) {
			return bot.Reply{}, bot.Userf(fmt.Sprintf("/pledge done #%d %s", no, p.Open()), "%s is counted in %s, not %s.", p.Goal.Label(), u, unit)
		}
	}
	switch {
	case p.Open() <= 0:
		return bot.Reply{}, bot.Userf("/pledge list", "Nothing is open on pledge #%d (%s).", no, p.Status)
	case amount > p.Open():
		return bot.Reply{}, bot.Userf(fmt.Sprintf("/pledge done #%d %s", no, p.Open()), "%s is more than what is open on pledge #%d (%s).", amount.WithUnit(u), no, p.Open().WithUnit(u))
	case p.Goal.Closed:
		return bot.Reply{}, closedErr(p.Goal)
	}
	done, pr, err := h.s.FulfilPledge(goal.WithPostChannel(ctx, c.Req.Channel), c.Actor.Community, c.Actor.Member.ID, no, amount, c.Now)
	switch {
	case errors.Is(err, ErrNotFound):
		return bot.Reply{}, notYours(no)
	case errors.Is(err, ErrNothingOpen):
		return bot.Reply{}, bot.Userf("/pledge list", "Nothing is open on pledge #%d any more.", no)
	case errors.Is(err, ErrTooMuch):
		return bot.Reply{}, bot.Userf("/pledge list", "%s is more than what is open on pledge #%d.", amount.WithUnit(u), no)
	case errors.Is(err, goal.ErrClosed):
		return bot.Reply{}, closedErr(p.Goal)
	case err != nil:
		return bot.Reply{}, fmt.Errorf("fulfil pledge #%d: %w", no, err)
	}
	text := fmt.Sprintf("Thank you! Pledge #%d: %s of %s fulfilled", no, done.Fulfilled.WithUnit(u), done.Amount.WithUnit(u))
	if done.Open() > 0 {
		text += fmt.Sprintf(", %s still open", done.Open().WithUnit(u))
	}
	text += "."
	return progressReply(text, pr, c.Actor.Settings.CelebrationsChannel), nil
}

// progressReply is the private answer with the goal's new progress, naming
// the milestones reached. Their public celebrations are not in the reply:
// storage enqueued them in the outbox in the change's own transaction (see
// goal.WithPostChannel), so a crash after the commit cannot lose them and a
// retry cannot double them; the scheduler posts them.
func progressReply(text string, pr Progress, celebrations bot.ChannelRef) bot.Reply {
	g := pr.Goal
	if u := goal.Unlocked(g, pr.Milestones, celebrations); u != "" {
		text += "\n" + u
	}
	m := bot.Message{Text: text, Progress: []bot.Progress{{Label: g.Label(), Done: g.Progress, Target: g.Target, Unit: g.Unit}}}
	return bot.Reply{Messages: []bot.Message{m}}
}

func (h handlers) cancel(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	no := c.ID("id")
	p, err := h.s.CancelPledge(ctx, c.Actor.Community, c.Actor.Member.ID, no, c.Now)
	switch {
	case errors.Is(err, ErrNotFound):
		return bot.Reply{}, notYours(no)
	case errors.Is(err, ErrNothingOpen):
		return bot.Reply{}, bot.Userf("/pledge list", "Nothing is open on pledge #%d (%s).", no, p.Status)
	case err != nil:
		return bot.Reply{}, fmt.Errorf("cancel pledge #%d: %w", no, err)
	}
	u := p.Goal.Unit
	text := fmt.Sprintf("Cancelled %s of pledge #%d to %s.", p.Cancelled.WithUnit(u), no, p.Goal.Label())
	if p.Fulfilled > 0 {
		text += fmt.Sprintf(" The %s you fulfilled still counts.", p.Fulfilled.WithUnit(u))
	}
	return bot.Say(text), nil
}

func (h handlers) log(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	note := strings.TrimSpace(c.Text("note"))
	if n := utf8.RuneCountInString(note); n > bot.MaxTextLen {
		return bot.Reply{}, bot.Userf(c.Example(), "The note is too long (%d characters); the most is %d.", n, bot.MaxTextLen)
	}
	g, amount, err := h.target(ctx, c, "log", &note)
	if err != nil {
		return bot.Reply{}, err
	}
	pr, err := h.s.AddLog(goal.WithPostChannel(ctx, c.Req.Channel), c.Actor.Community, c.Actor.Member.ID, g.ID, amount, note, c.Now)
	if errors.Is(err, goal.ErrClosed) {
		return bot.Reply{}, closedErr(g)
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("log: %w", err)
	}
	return progressReply(fmt.Sprintf("Logged %s to %s. /log undo takes it back.", amount.WithUnit(g.Unit), g.Label()), pr, c.Actor.Settings.CelebrationsChannel), nil
}

func (h handlers) undo(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	l, g, err := h.s.UndoLog(ctx, c.Actor.Community, c.Actor.Member.ID, c.Now.Add(-UndoWindow))
	if errors.Is(err, ErrNoLog) {
		return bot.Reply{}, bot.Userf("/log 5 trees to plant-1000-trees", "You have no log from the last 24 hours to undo.")
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("undo log: %w", err)
	}
	text := fmt.Sprintf("Removed your log of %s", l.Amount.WithUnit(g.Unit))
	if g.ID == 0 {
		return bot.Say(text + "."), nil
	}
	return progressReply(fmt.Sprintf("%s to %s.", text, g.Label()), Progress{Goal: g}, bot.ChannelRef{}), nil
}
