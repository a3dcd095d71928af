package recognition

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/missionbot/missionbot/bot"
)

// maxStreak bounds how many weeks back a streak is counted (ten years).
const maxStreak = 520

// show is the caller's own impact.
func (h *handlers) show(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	im, err := h.s.Impact(ctx, c.Actor.Community, c.Actor.Member.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("my impact: %w", err)
	}
	streak, err := h.streak(ctx, c)
	if err != nil {
		return bot.Reply{}, err
	}
	m := bot.Message{Title: "Your impact"}
	for _, g := range im.Contributions {
		m.Items = append(m.Items, fmt.Sprintf("%s: %s (%s)", g.Goal, g.Amount.WithUnit(g.Unit), plural(g.Count, "contribution")))
	}
	for _, p := range im.Pledges {
		open := p.Amount - p.Fulfilled - p.Cancelled
		state := "fulfilled"
		if open > 0 {
			state = fmt.Sprintf("%s open", open.WithUnit(p.Unit))
			if p.Fulfilled > 0 {
				state = fmt.Sprintf("%s done, %s", p.Fulfilled.WithUnit(p.Unit), state)
			}
		}
		anon := ""
		if p.Anonymous {
			anon = ", anonymous"
		}
		m.Items = append(m.Items, fmt.Sprintf("Pledge #%d: %s to %s (%s%s)", p.No, p.Amount.WithUnit(p.Unit), p.Goal, state, anon))
	}
	if len(m.Items) == 0 {
		m.Text = "Nothing recorded yet. Pledge (/pledge 10 trees to plant-1000-trees), /log progress or /volunteer to get started."
	}
	m.Fields = []bot.Field{
		{Label: "Hours", Value: hours(im.Hours)},
		{Label: "Kudos", Value: fmt.Sprintf("%d received, %d given", im.KudosReceived, im.KudosGiven)},
		{Label: "Wins", Value: fmt.Sprintf("%d (%s)", im.Wins, cheers(int(im.Cheers)))},
		{Label: "Streak", Value: plural(int64(streak), "week")},
	}
	if c.Actor.Hidden {
		m.Footer = "You are off public boards and shout-outs (/myimpact unhide to rejoin)."
	} else {
		m.Footer = "/myimpact hide takes you off public boards; /myimpact export sends your data."
	}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

// streak counts consecutive weeks, up to this one, in which the caller was
// active. A week not over yet does not break a streak: with nothing yet this
// week, the streak counts up to last week.
func (h *handlers) streak(ctx context.Context, c *bot.Call) (int, error) {
	n := 0
	w := WeekOf(c.Now, c.Loc)
	for i := 0; i < maxStreak; i++ {
		active, err := h.s.ActiveIn(ctx, c.Actor.Community, c.Actor.Member.ID, w)
		if err != nil {
			return 0, fmt.Errorf("streak: %w", err)
		}
		if !active && i > 0 {
			break
		}
		if active {
			n++
		}
		w = WeekOf(w.From.Add(-1), c.Loc)
	}
	return n, nil
}

// hide takes the caller off public boards and shout-outs.
func (h *handlers) hide(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	if err := h.s.SetHidden(ctx, c.Actor.Community, c.Actor.Member.ID, true); err != nil {
		return bot.Reply{}, fmt.Errorf("hide: %w", err)
	}
	return bot.Say("You're off public leaderboards and shout-outs now. Your contributions still count toward goals, and kudos to you reach you privately. /myimpact unhide brings you back."), nil
}

// unhide brings the caller back onto public boards and shout-outs.
func (h *handlers) unhide(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	err := h.s.SetHidden(ctx, c.Actor.Community, c.Actor.Member.ID, false)
	if errors.Is(err, ErrForgotten) {
		return bot.Reply{}, bot.Userf("/myimpact", "You asked to be forgotten, so your name is erased and you stay off public boards and shout-outs; your contributions still count toward goals, anonymously.")
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("unhide: %w", err)
	}
	return bot.Say("Welcome back: you're on public leaderboards and shout-outs again. /myimpact hide takes you off."), nil
}

// export sends the caller's data as a JSON file, privately.
func (h *handlers) export(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	ex, err := h.s.Export(ctx, c.Actor.Community, c.Actor.Member.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("export: %w", err)
	}
	data, err := json.MarshalIndent(ex, "", "  ")
	if err != nil {
		return bot.Reply{}, fmt.Errorf("export: %w", err)
	}
	return bot.Reply{Messages: []bot.Message{{
		Text: "Here is everything missionbot keeps about you in this community.",
		File: &bot.File{Name: "missionbot-my-data.json", ContentType: "application/json", Data: data},
	}}}, nil
}

// forget asks for confirmation, then erases the caller's personal data.
func (h *handlers) forget(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	if !c.Bool("confirm") {
		return bot.Reply{Messages: []bot.Message{{
			Title: "Erase your personal data?",
			Text: "This blanks your name, erases the texts you wrote (win texts, kudos reasons you gave, contribution notes) and takes you off public boards. " +
				"Your contributions and pledges keep counting toward goals, anonymously. It can't be undone.\n" +
				"Press the button, or type /myimpact forget confirm.",
			Buttons: []bot.Button{bot.CommandButton("Forget me", "myimpact forget confirm", bot.ButtonDanger)},
		}}}, nil
	}
	e, err := h.s.Forget(ctx, c.Actor.Community, c.Actor.Member.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("forget: %w", err)
	}
	return bot.Reply{Messages: []bot.Message{{
		Title: "Your personal data is erased",
		Fields: []bot.Field{
			{Label: "Erased", Value: fmt.Sprintf("your name, %s, %s, %s", plural(e.WinTexts, "win text"), plural(e.KudosReasons, "kudos reason"), plural(e.Notes, "contribution note"))},
			{Label: "Kept, anonymously", Value: fmt.Sprintf("%s and %s still count toward goals; totals are unchanged", plural(e.Contributions, "contribution"), plural(e.Pledges, "pledge"))},
		},
		Footer: "You're off public boards and shout-outs. If you use missionbot again, you'll appear as a former member.",
	}}}, nil
}
