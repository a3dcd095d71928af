package mission

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/missionbot/missionbot/bot"
)

// How many goals and opportunities /mission shows.
const (
	showGoals     = 5
	showOpenings  = 3
	valueSep      = " · "
	dueDateLayout = "2 Jan 2006"
)

// show answers /mission: the statement, the values, active goals, open
// opportunities and how to get involved.
func (h *handlers) show(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	s := c.Actor.Settings
	goals, total, err := h.store.MissionGoals(ctx, c.Actor.Community, showGoals)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("mission goals: %w", err)
	}
	openings, err := h.store.MissionOpenings(ctx, c.Actor.Community, c.Now, showOpenings)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("mission openings: %w", err)
	}

	m := bot.Message{Title: "Our mission"}
	switch {
	case s.Mission != "":
		m.Text = s.Mission
	case c.Actor.Organiser:
		m.Text = "No mission statement yet. Set one with /mission set <text>, e.g. /mission set Every street green by 2030, and the values with /mission values Act locally; Include everyone."
	default:
		m.Text = "No mission statement yet; an organiser can set one with /mission set."
	}
	if len(s.Values) > 0 {
		m.Fields = append(m.Fields, bot.Field{Label: "Our values", Value: strings.Join(s.Values, valueSep)})
	}

	switch {
	case total == 0:
		m.Fields = append(m.Fields, bot.Field{Label: "Active goals", Value: "none yet"})
	case total > int64(len(goals)):
		m.Fields = append(m.Fields, bot.Field{Label: "Active goals", Value: fmt.Sprintf("%d (the first %d below; /goal lists them all)", total, len(goals))})
	default:
		m.Fields = append(m.Fields, bot.Field{Label: "Active goals", Value: fmt.Sprint(total)})
	}
	for _, g := range goals {
		p := bot.Progress{Label: g.Title, Done: g.Progress, Target: g.Target, Unit: g.Unit}
		if !g.DueAt.IsZero() {
			// DueAt is the instant the due day ends; show the day itself.
			p.Note = "due " + g.DueAt.In(c.Loc).Add(-1).Format(dueDateLayout)
		}
		m.Progress = append(m.Progress, p)
	}

	if len(openings) == 0 {
		m.Fields = append(m.Fields, bot.Field{Label: "Open opportunities", Value: "none right now"})
	} else {
		m.Fields = append(m.Fields, bot.Field{Label: "Open opportunities", Value: "the next ones below; /volunteer lists them all"})
	}
	for _, o := range openings {
		item := fmt.Sprintf("#%d %s: %s", o.No, o.Title, bot.When{At: o.StartsAt}.String(c.Loc))
		if o.Place != "" {
			item += " at " + o.Place
		}
		if o.Slots > 0 {
			item += fmt.Sprintf(", %d of %d places left", o.Slots-o.Confirmed, o.Slots)
		}
		item += fmt.Sprintf(" (/volunteer join #%d)", o.No)
		m.Items = append(m.Items, item)
	}

	m.Footer = getInvolved(goals, openings)
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

// getInvolved is the how-to-get-involved line, with examples that work here.
func getInvolved(goals []GoalSummary, openings []Opening) string {
	pledge, log := "/pledge <amount> to <goal>", "/log <amount> to <goal>"
	if len(goals) > 0 {
		g := goals[0]
		pledge = fmt.Sprintf("/pledge %s to %s", bot.Amount(1000).WithUnit(g.Unit), g.Slug)
		log = fmt.Sprintf("/log %s to %s", bot.Amount(500).WithUnit(g.Unit), g.Slug)
	}
	join := "/volunteer join <opportunity>"
	if len(openings) > 0 {
		join = fmt.Sprintf("/volunteer join #%d", openings[0].No)
	}
	return fmt.Sprintf("Get involved: pledge with %s · sign up with %s · record what you did with %s · share good news with /win <what happened>",
		pledge, join, log)
}

// set answers /mission set <text>.
func (h *handlers) set(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	text := strings.TrimSpace(c.Text("text"))
	if text == "" {
		return bot.Reply{}, bot.Userf(c.Example(), "Say what the mission is.")
	}
	if n := utf8.RuneCountInString(text); n > MaxMissionLen {
		return bot.Reply{}, bot.Userf(c.Example(), "The mission statement is %d characters; the most is %d.", n, MaxMissionLen)
	}
	if _, err := h.store.ChangeSettings(ctx, c.Actor.Community, Change{Mission: &text}); err != nil {
		return bot.Reply{}, fmt.Errorf("set mission: %w", err)
	}
	return bot.Reply{Messages: []bot.Message{{Title: "Mission updated", Text: text, Footer: "Members see it with /mission."}}}, nil
}

// values answers /mission values <v1; v2; …>.
func (h *handlers) values(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	values, err := SplitValues(c.Text("values"))
	if err != nil {
		if ue, ok := bot.AsUserError(err); ok {
			ue.Example = c.Example()
		}
		return bot.Reply{}, err
	}
	if _, err := h.store.ChangeSettings(ctx, c.Actor.Community, Change{Values: values}); err != nil {
		return bot.Reply{}, fmt.Errorf("set values: %w", err)
	}
	return bot.Reply{Messages: []bot.Message{{Title: "Values updated", Items: values, Footer: "Members see them with /mission."}}}, nil
}

// SplitValues reads "v1; v2; …": values split on ';', trimmed, line breaks
// made spaces, empty ones dropped. At least one is needed, each at most
// MaxValueLen characters; otherwise it returns a *bot.UserError.
func SplitValues(text string) ([]string, error) {
	var out []string
	for _, v := range strings.Split(text, ";") {
		v = strings.Join(strings.Fields(v), " ")
		if v == "" {
			continue
		}
		if n := utf8.RuneCountInString(v); n > MaxValueLen {
			return nil, bot.Userf("", "The value %q is %d characters; each value may have at most %d.", truncate(v, 40), n, MaxValueLen)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, bot.Userf("", "Give at least one value, separated by semicolons.")
	}
	return out, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
