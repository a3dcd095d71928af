package volunteer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

// maxHours is the most hours one /volunteer hours entry takes.
const maxHours bot.Amount = 1000 * 100

const createExample = `/volunteer create "Park cleanup" 2026-12-05 10:00 for 2h slots 12 at "Riverside Park"`

func (h *handlers) list(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	open, err := h.s.UpcomingOpportunities(ctx, c.Actor.Community, c.Now, 25)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("list opportunities: %w", err)
	}
	if len(open) == 0 {
		return bot.Say("No open opportunities right now. Organisers can add one: " + createExample), nil
	}
	items := make([]string, len(open))
	for i, o := range open {
		items[i] = summary(o, c.Loc)
	}
	return bot.Reply{Messages: []bot.Message{{
		Title:  "Open opportunities",
		Items:  items,
		Footer: fmt.Sprintf("Sign up with /volunteer join #%d", open[0].No),
	}}}, nil
}

// summary is one line about o: title, when, where, places left, waitlist.
func summary(o Opportunity, loc *time.Location) string {
	parts := []string{fmt.Sprintf("#%d %s", o.No, o.Title), when(o.StartsAt, loc)}
	if d := duration(o.Duration); d != "" {
		parts[1] += " for " + d
	}
	if o.Place != "" {
		parts = append(parts, "at "+o.Place)
	}
	parts = append(parts, places(o))
	if o.Waitlisted > 0 {
		parts = append(parts, fmt.Sprintf("%d waitlisted", o.Waitlisted))
	}
	return strings.Join(parts, " · ")
}

func places(o Opportunity) string {
	switch left := o.Slots - o.Confirmed; {
	case o.Slots == 0:
		return "unlimited places"
	case left <= 0:
		return "full"
	case left == 1:
		return "1 slot left"
	default:
		return fmt.Sprintf("%d slots left", left)
	}
}

func (h *handlers) create(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	ex := c.Example()
	title := strings.TrimSpace(c.Text("title"))
	if title == "" {
		return bot.Reply{}, bot.Userf(ex, "Give the opportunity a title.")
	}
	if n := utf8.RuneCountInString(title); n > MaxTitleLen {
		return bot.Reply{}, bot.Userf(ex, "The title is %d characters long; the most is %d.", n, MaxTitleLen)
	}
	w := c.When("when")
	n := New{Title: title, Slug: bot.Slug(title, "opportunity"), StartsAt: w.At, By: c.Actor.Member.ID, At: c.Now}
	if w.IsRecurring() {
		n.Rule = w.Rule.String()
		n.StartsAt = w.Rule.Next(c.Now, c.Loc)
		if n.StartsAt.IsZero() {
			return bot.Reply{}, bot.Userf(ex, "%q never happens.", n.Rule)
		}
	}
	if c.Has("duration") {
		n.Duration = c.Duration("duration")
	}
	if c.Has("slots") {
		s, err := slots(c, ex)
		if err != nil {
			return bot.Reply{}, err
		}
		n.Slots = s
	}
	if c.Has("place") {
		p, err := place(c, ex)
		if err != nil {
			return bot.Reply{}, err
		}
		n.Place = p
	}
	o, err := h.s.CreateOpportunity(ctx, c.Actor.Community, n)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("create opportunity: %w", err)
	}
	post := bot.Message{
		Visibility: bot.Public,
		Kind:       bot.PostOpportunity,
		Title:      "🙌 Volunteers wanted: " + o.Title,
		Fields:     fields(o, c.Loc),
		Buttons:    []bot.Button{bot.CommandButton("Join", fmt.Sprintf("volunteer join #%d", o.No), bot.ButtonPrimary)},
		Footer:     fmt.Sprintf("Or type /volunteer join #%d", o.No),
	}
	text := fmt.Sprintf("Created %s (%s) and posted it with a Join button.", label(o, c.Loc), o.Slug)
	if o.Rule != "" {
		text += fmt.Sprintf(" It repeats %s; each occurrence gets its own sign-ups a week ahead.", o.Rule)
	}
	return bot.Reply{Messages: []bot.Message{{Text: text}, post}}, nil
}

// fields describes o for posts and rosters.
func fields(o Opportunity, loc *time.Location) []bot.Field {
	fs := []bot.Field{{Label: "When", Value: when(o.StartsAt, loc)}}
	if o.Rule != "" {
		fs = append(fs, bot.Field{Label: "Repeats", Value: o.Rule})
	}
	if d := duration(o.Duration); d != "" {
		fs = append(fs, bot.Field{Label: "For", Value: d})
	}
	if o.Place != "" {
		fs = append(fs, bot.Field{Label: "Where", Value: o.Place})
	}
	if o.Slots == 0 {
		fs = append(fs, bot.Field{Label: "Places", Value: "unlimited"})
	} else {
		fs = append(fs, bot.Field{Label: "Places", Value: fmt.Sprintf("%d of %d taken", min(o.Confirmed, o.Slots), o.Slots)})
	}
	return fs
}

func slots(c *bot.Call, ex string) (int, error) {
	n := c.Int("slots")
	if n < 1 || n > MaxSlots {
		return 0, bot.Userf(ex, "slots must be a whole number from 1 to %d (leave it out for unlimited places); %d is not.", MaxSlots, n)
	}
	return n, nil
}

func place(c *bot.Call, ex string) (string, error) {
	p := strings.TrimSpace(c.Text("place"))
	if p == "" {
		return "", bot.Userf(ex, "Say where, after \"at\".")
	}
	if n := utf8.RuneCountInString(p); n > MaxPlaceLen {
		return "", bot.Userf(ex, "The place is %d characters long; the most is %d.", n, MaxPlaceLen)
	}
	return p, nil
}

// find resolves the opportunity option; past is for attendance (see resolve).
func (h *handlers) find(ctx context.Context, c *bot.Call, past bool) (Opportunity, error) {
	return resolve(ctx, h.s, c.Actor.Community, c.Text("opportunity"), c.Now, past, c.Loc, c.Example())
}

// userError turns a store outcome about o into what the person reads, or
// returns err wrapped with what was being done.
func userError(c *bot.Call, o Opportunity, doing string, err error) error {
	ex := c.Example()
	var already *AlreadyError
	switch {
	case errors.As(err, &already):
		if already.Status == Waitlisted {
			return bot.Userf("/volunteer leave #"+fmt.Sprint(o.No), "You're already on the waitlist for %s, at position %d.", label(o, c.Loc), already.Position)
		}
		return bot.Userf("/volunteer leave #"+fmt.Sprint(o.No), "You're already signed up (confirmed) for %s.", label(o, c.Loc))
	case errors.Is(err, ErrCancelled):
		return bot.Userf("/volunteer", "%s was cancelled. /volunteer lists the open ones.", label(o, c.Loc))
	case errors.Is(err, ErrStarted):
		return bot.Userf("/volunteer", "%s has already started. /volunteer lists the open ones.", label(o, c.Loc))
	case errors.Is(err, ErrNotFound):
		return bot.Userf(ex, "No opportunity matches #%d.", o.No)
	case errors.Is(err, ErrNotSignedUp):
		return bot.Userf(fmt.Sprintf("/volunteer join #%d", o.No), "You're not signed up for %s.", label(o, c.Loc))
	case errors.Is(err, ErrNoDuration):
		return bot.Userf(fmt.Sprintf("/volunteer edit #%d for 2h", o.No), "%s has no length, so there is nothing to credit; set one first.", label(o, c.Loc))
	}
	return fmt.Errorf("%s #%d: %w", doing, o.No, err)
}

func (h *handlers) join(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	o, err := h.find(ctx, c, false)
	if err != nil {
		return bot.Reply{}, err
	}
	r, err := h.s.Join(ctx, c.Actor.Community, o.ID, c.Actor.Member.ID, c.Now)
	if err != nil {
		return bot.Reply{}, userError(c, o, "join", err)
	}
	o = r.Opportunity
	if r.Status == Waitlisted {
		return bot.Say(fmt.Sprintf("%s is full, so you're on the waitlist at position %d. If a place opens up you'll be told privately.",
			label(o, c.Loc), r.Position)), nil
	}
	text := fmt.Sprintf("You're signed up for %s", label(o, c.Loc))
	if o.Place != "" {
		text += " at " + o.Place
	}
	text += ". Thank you!"
	if o.Slots > 0 {
		text += fmt.Sprintf(" %d of %d places are taken.", o.Confirmed, o.Slots)
	}
	return bot.Say(text + fmt.Sprintf(" Can't make it? /volunteer leave #%d", o.No)), nil
}

// promotedNote is the private note to a member moved off the waitlist;
// changed, when not empty, says what an edit changed at the same time.
func promotedNote(m bot.Member, o Opportunity, loc *time.Location, changed string) bot.Message {
	text := fmt.Sprintf("Good news: a place opened up and you're now confirmed for %s", label(o, loc))
	if o.Place != "" {
		text += " at " + o.Place
	}
	text += "."
	if changed != "" {
		text += " Note the change: " + changed + "."
	}
	return bot.Message{Visibility: bot.Direct, To: m, Text: text + fmt.Sprintf(" Can't make it? /volunteer leave #%d", o.No)}
}

func (h *handlers) leave(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	o, err := h.find(ctx, c, false)
	if err != nil {
		return bot.Reply{}, err
	}
	r, err := h.s.Leave(ctx, c.Actor.Community, o.ID, c.Actor.Member.ID, c.Now)
	if err != nil {
		return bot.Reply{}, userError(c, o, "leave", err)
	}
	text := fmt.Sprintf("You've left %s.", label(r.Opportunity, c.Loc))
	if r.Was == Waitlisted {
		text = fmt.Sprintf("You've left the waitlist for %s.", label(r.Opportunity, c.Loc))
	}
	if len(r.Promoted) > 0 {
		text += " Your place went to the first person on the waitlist."
	}
	reply := bot.Say(text)
	for _, m := range r.Promoted {
		reply = reply.Add(promotedNote(m, r.Opportunity, c.Loc, ""))
	}
	return reply, nil
}

func (h *handlers) roster(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	o, err := h.find(ctx, c, false)
	if err != nil {
		return bot.Reply{}, err
	}
	ss, err := h.s.Roster(ctx, c.Actor.Community, o.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("roster #%d: %w", o.No, err)
	}
	m := bot.Message{Title: "Roster: " + label(o, c.Loc), Fields: fields(o, c.Loc)}
	if o.Cancelled {
		m.Text = "This opportunity was cancelled."
	}
	var confirmed, waiting int
	for _, s := range ss {
		mark := ""
		if s.Attended {
			mark = " (attended)"
		}
		if s.Status == Waitlisted {
			waiting++
			m.Items = append(m.Items, fmt.Sprintf("⏳ waitlist %d: %s%s", s.Position, bot.UserMention(s.Member), mark))
			continue
		}
		confirmed++
		m.Items = append(m.Items, fmt.Sprintf("✅ %s%s", bot.UserMention(s.Member), mark))
	}
	if len(ss) == 0 {
		m.Footer = "Nobody has signed up yet."
	} else {
		m.Footer = fmt.Sprintf("%d confirmed, %d waitlisted", confirmed, waiting)
	}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func (h *handlers) edit(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	ex := c.Example()
	o, err := h.find(ctx, c, false)
	if err != nil {
		return bot.Reply{}, err
	}
	if o.Cancelled {
		return bot.Reply{}, userError(c, o, "edit", ErrCancelled)
	}
	var e Edit
	if c.Has("when") {
		w := c.When("when")
		if w.IsRecurring() {
			return bot.Reply{}, bot.Userf(ex, "Edit changes one occurrence: give one date and time, not %q.", w.Rule.String())
		}
		e.StartsAt = &w.At
	}
	if c.Has("duration") {
		d := c.Duration("duration")
		e.Duration = &d
	}
	if c.Has("slots") {
		n, err := slots(c, ex)
		if err != nil {
			return bot.Reply{}, err
		}
		e.Slots = &n
	}
	if c.Has("place") {
		p, err := place(c, ex)
		if err != nil {
			return bot.Reply{}, err
		}
		e.Place = &p
	}
	if e == (Edit{}) {
		return bot.Reply{}, bot.Userf(ex, "Say what to change: when, for, slots or at.")
	}
	r, err := h.s.EditOpportunity(ctx, c.Actor.Community, o.ID, e, c.Now)
	switch {
	case errors.Is(err, ErrSlotsTooFew):
		return bot.Reply{}, bot.Userf(fmt.Sprintf("/volunteer edit #%d slots %d", o.No, max(r.Before.Confirmed, 1)),
			"%d members are already confirmed for %s, so it needs at least %d slots.", r.Before.Confirmed, label(r.Before, c.Loc), r.Before.Confirmed)
	case err != nil:
		return bot.Reply{}, userError(c, o, "edit", err)
	}
	b, a := r.Before, r.After
	var changes []string
	timeChanged := !a.StartsAt.Equal(b.StartsAt)
	placeChanged := a.Place != b.Place
	if timeChanged {
		changes = append(changes, fmt.Sprintf("when %s → %s", when(b.StartsAt, c.Loc), when(a.StartsAt, c.Loc)))
	}
	if a.Duration != b.Duration {
		changes = append(changes, fmt.Sprintf("length %s → %s", orNone(duration(b.Duration)), duration(a.Duration)))
	}
	if a.Slots != b.Slots {
		changes = append(changes, fmt.Sprintf("slots %s → %d", slotsText(b.Slots), a.Slots))
	}
	if placeChanged {
		changes = append(changes, fmt.Sprintf("place %s → %s", orNone(b.Place), a.Place))
	}
	if len(changes) == 0 {
		return bot.Say(fmt.Sprintf("%s already had those details; nothing changed.", label(a, c.Loc))), nil
	}
	text := fmt.Sprintf("Updated #%d %s: %s.", a.No, a.Title, strings.Join(changes, "; "))
	if len(r.Promoted) > 0 {
		text += fmt.Sprintf(" %d moved up from the waitlist and %s told.", len(r.Promoted), plural(len(r.Promoted), "was", "were"))
	}
	var what []string
	if timeChanged {
		what = append(what, "it now starts "+when(a.StartsAt, c.Loc))
	}
	if placeChanged {
		what = append(what, "it's now at "+a.Place)
	}
	// One note per member: a promoted member's note also carries the change.
	reply := bot.Reply{}
	promoted := map[bot.MemberID]bool{}
	for _, m := range r.Promoted {
		promoted[m.ID] = true
		reply = reply.Add(promotedNote(m, a, c.Loc, strings.Join(what, " and ")))
	}
	if len(what) > 0 {
		told := 0
		for _, m := range r.SignedUp {
			if m.ID == c.Actor.Member.ID {
				continue
			}
			told++
			if promoted[m.ID] {
				continue
			}
			note := fmt.Sprintf("Change to #%d %s, which you signed up for: %s.", a.No, a.Title, strings.Join(what, " and "))
			reply = reply.Add(bot.Message{Visibility: bot.Direct, To: m, Text: note + fmt.Sprintf(" Can't make it now? /volunteer leave #%d", a.No)})
		}
		text += fmt.Sprintf(" Told %d signed-up %s.", told, plural(told, "member", "members"))
	}
	return bot.Reply{Messages: append([]bot.Message{{Text: text}}, reply.Messages...)}, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func slotsText(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (h *handlers) cancel(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	o, err := h.find(ctx, c, false)
	if err != nil {
		return bot.Reply{}, err
	}
	series := c.Bool("series")
	if series && o.SeriesID == 0 {
		return bot.Reply{}, bot.Userf(fmt.Sprintf("/volunteer cancel #%d", o.No), "%s does not repeat; cancel it without \"series\".", label(o, c.Loc))
	}
	if !series && o.Cancelled {
		return bot.Reply{}, bot.Userf("/volunteer", "%s is already cancelled.", label(o, c.Loc))
	}
	if !series && o.Started(c.Now) {
		return bot.Reply{}, bot.Userf("/volunteer", "%s has already started, so it can't be cancelled any more. /volunteer lists the open ones.", label(o, c.Loc))
	}
	r, err := h.s.CancelOpportunity(ctx, c.Actor.Community, o.ID, series, c.Now)
	if errors.Is(err, ErrCancelled) {
		return bot.Reply{}, bot.Userf("/volunteer", "The series %q is already cancelled, with no occurrences left ahead.", o.Title)
	}
	if err != nil {
		return bot.Reply{}, userError(c, o, "cancel", err)
	}
	// One note per member, naming every cancelled occurrence they were signed up to.
	byMember := map[bot.MemberID][]string{}
	members := map[bot.MemberID]bot.Member{}
	var order []bot.MemberID
	for _, x := range r.Opportunities {
		for _, m := range r.SignedUp[x.ID] {
			if _, ok := members[m.ID]; !ok {
				order = append(order, m.ID)
				members[m.ID] = m
			}
			byMember[m.ID] = append(byMember[m.ID], label(x, c.Loc))
		}
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	var notes []bot.Message
	for _, id := range order {
		if id == c.Actor.Member.ID {
			continue
		}
		text := fmt.Sprintf("Sorry: %s, which you signed up for, has been cancelled by the organisers.", strings.Join(byMember[id], ", "))
		if series {
			text = fmt.Sprintf("Sorry: the recurring %s has been cancelled by the organisers. You were signed up for %s.", o.Title, strings.Join(byMember[id], ", "))
		}
		notes = append(notes, bot.Message{Visibility: bot.Direct, To: members[id], Text: text})
	}
	var text string
	if series {
		text = fmt.Sprintf("Cancelled the series %s and %d upcoming %s.", o.Title, len(r.Opportunities), plural(len(r.Opportunities), "occurrence", "occurrences"))
	} else {
		text = fmt.Sprintf("Cancelled %s.", label(o, c.Loc))
	}
	text += fmt.Sprintf(" Told %d signed-up %s.", len(notes), plural(len(notes), "member", "members"))
	return bot.Reply{Messages: append([]bot.Message{{Text: text}}, notes...)}, nil
}

// target is what /volunteer hours ... for <x> named: an opportunity or a goal.
type target struct {
	opp  *Opportunity
	goal *goal.Goal
}

func (h *handlers) hours(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	ex := c.Example()
	amt, unit := c.Amount("hours")
	if unit != "" && !bot.IsHoursUnit(unit) {
		return bot.Reply{}, bot.Userf(ex, "Volunteer hours are counted in hours, not %q.", unit)
	}
	if amt > maxHours {
		return bot.Reply{}, bot.Userf(ex, "%s hours is more than one entry takes (at most %s); log them in parts.", amt, maxHours)
	}
	entry := Hours{Member: c.Actor.Member.ID, Amount: amt, At: c.Now}
	var t target
	if c.Has("for") {
		var err error
		if t, err = h.target(ctx, c, c.Text("for")); err != nil {
			return bot.Reply{}, err
		}
	}
	switch {
	case t.opp != nil:
		o := *t.opp
		if o.Cancelled {
			return bot.Reply{}, userError(c, o, "hours", ErrCancelled)
		}
		if !o.Started(c.Now) {
			return bot.Reply{}, bot.Userf(ex, "%s hasn't happened yet; log the hours once you've done them.", label(o, c.Loc))
		}
		entry.OpportunityID = o.ID
	case t.goal != nil:
		g := *t.goal
		// "hours", "h" or a unit starting with hours ("hours of service").
		if !bot.UnitMatches("hours", g.Unit) {
			return bot.Reply{}, bot.Userf(fmt.Sprintf("/log %s %s to %s", amt, g.Unit, g.Slug),
				"%s counts %s, not hours, so hours can't go toward it. Log %s with /log instead.", g.Label(), g.Unit, g.Unit)
		}
		if g.Closed {
			return bot.Reply{}, bot.Userf(ex, "%s is closed; /goal lists open goals.", g.Label())
		}
		entry.GoalID = g.ID
	}
	r, err := h.s.LogHours(goal.WithPostChannel(ctx, c.Req.Channel), c.Actor.Community, entry)
	if errors.Is(err, ErrGoalClosed) {
		return bot.Reply{}, bot.Userf(ex, "%s is closed; /goal lists open goals.", t.goal.Label())
	}
	if errors.Is(err, ErrAttended) {
		o := *t.opp
		return bot.Reply{}, bot.Userf(fmt.Sprintf("/volunteer hours %s", amt),
			"You were already credited %s for %s when the organisers marked attendance, so these hours would count twice. Hours for something else go without \"for\".",
			duration(o.Duration), label(o, c.Loc))
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("log hours: %w", err)
	}
	msg := bot.Message{Text: fmt.Sprintf("Logged %s. Thank you!", amt.WithUnit(hoursUnit(amt)))}
	switch {
	case t.opp != nil:
		msg.Text = fmt.Sprintf("Logged %s for %s. Thank you!", amt.WithUnit(hoursUnit(amt)), label(*t.opp, c.Loc))
	case t.goal != nil:
		g := *t.goal
		msg.Text = fmt.Sprintf("Logged %s toward %s. Thank you!", amt.WithUnit(hoursUnit(amt)), g.Label())
		msg.Progress = []bot.Progress{{Label: g.Title, Done: r.Progress, Target: g.Target, Unit: g.Unit}}
		// The celebrations themselves are in the outbox, enqueued with the
		// hours in one transaction; the scheduler posts them.
		if u := goal.Unlocked(g, r.Thresholds, c.Actor.Settings.CelebrationsChannel); u != "" {
			msg.Text += "\n" + u
		}
	}
	return bot.Reply{Messages: []bot.Message{msg}}, nil
}

func hoursUnit(a bot.Amount) string {
	if a == 100 {
		return "hour"
	}
	return "hours"
}

// target resolves what "for <x>" names: an opportunity or a goal. An exact
// #id or slug wins over title prefixes; a reference that fits both an
// opportunity and a goal equally is ambiguous.
func (h *handlers) target(ctx context.Context, c *bot.Call, ref string) (target, error) {
	ex := c.Example()
	ref = strings.TrimSpace(ref)
	opps, err := h.s.FindOpportunities(ctx, c.Actor.Community, ref)
	if err != nil {
		return target{}, fmt.Errorf("find opportunity %q: %w", ref, err)
	}
	goals, err := h.s.FindGoals(ctx, c.Actor.Community, ref)
	if err != nil {
		return target{}, fmt.Errorf("find goal %q: %w", ref, err)
	}
	hash := strings.HasPrefix(ref, "#")
	og := group(opps, c.Now, true)
	var oExact []Opportunity
	for _, o := range og {
		if (hash && ref == fmt.Sprintf("#%d", o.No)) || strings.EqualFold(o.Slug, ref) {
			oExact = append(oExact, o)
		}
	}
	var gExact []goal.Goal
	for _, g := range goals {
		if (hash && ref == fmt.Sprintf("#%d", g.No)) || strings.EqualFold(g.Slug, ref) {
			gExact = append(gExact, g)
		}
	}
	if hash {
		og, goals = oExact, gExact
	}
	pick := func(os []Opportunity, gs []goal.Goal) (target, bool, error) {
		switch {
		case len(os)+len(gs) == 0:
			return target{}, false, nil
		case len(os) == 1 && len(gs) == 0:
			return target{opp: &os[0]}, true, nil
		case len(os) == 0 && len(gs) == 1:
			return target{goal: &gs[0]}, true, nil
		}
		var names []string
		for _, o := range os {
			names = append(names, "opportunity "+label(o, c.Loc))
		}
		for _, g := range gs {
			names = append(names, fmt.Sprintf("goal #%d %s", g.No, g.Label()))
		}
		return target{}, true, bot.Userf(ex, "%q could mean %s. Use the slug.", ref, strings.Join(names, ", "))
	}
	if t, ok, err := pick(oExact, gExact); ok {
		return t, err
	}
	if t, ok, err := pick(og, goals); ok {
		return t, err
	}
	return target{}, bot.Userf(ex, "No opportunity or goal matches %q. /volunteer lists opportunities and /goal lists goals.", ref)
}

func (h *handlers) attended(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	o, err := h.find(ctx, c, true)
	if err != nil {
		return bot.Reply{}, err
	}
	if o.Cancelled {
		return bot.Reply{}, userError(c, o, "attended", ErrCancelled)
	}
	if !o.Started(c.Now) {
		return bot.Reply{}, bot.Userf(c.Example(), "%s hasn't started yet; mark attendance once it has.", label(o, c.Loc))
	}
	if o.Duration <= 0 {
		return bot.Reply{}, userError(c, o, "attended", ErrNoDuration)
	}
	byID := map[bot.MemberID]bot.Member{}
	var ids []bot.MemberID
	for _, m := range c.Members("members") {
		if _, ok := byID[m.ID]; !ok {
			byID[m.ID] = m
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return bot.Reply{}, bot.Userf(c.Example(), "Mention who attended.")
	}
	r, err := h.s.MarkAttended(ctx, c.Actor.Community, o.ID, ids, c.Now)
	if err != nil {
		return bot.Reply{}, userError(c, o, "attended", err)
	}
	mentions := func(ids []bot.MemberID) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = bot.UserMention(byID[id])
		}
		return strings.Join(out, ", ")
	}
	var parts []string
	if len(r.Credited) > 0 {
		parts = append(parts, fmt.Sprintf("Credited %s %s each for %s.", mentions(r.Credited), duration(o.Duration), label(o, c.Loc)))
	}
	if r.Replaced > 0 {
		parts = append(parts, fmt.Sprintf("That replaces %s they had logged themselves for it.", r.Replaced.WithUnit(hoursUnit(r.Replaced))))
	}
	if len(r.Already) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s already marked as attended; nothing changed for them.", mentions(r.Already), plural(len(r.Already), "was", "were")))
	}
	return bot.Say(strings.Join(parts, " ")), nil
}
