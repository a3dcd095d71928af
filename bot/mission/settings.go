package mission

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// showSettings answers /settings: every setting at a glance.
func (h *handlers) showSettings(_ context.Context, c *bot.Call) (bot.Reply, error) {
	s := c.Actor.Settings
	m := bot.Message{Title: "Settings", Fields: []bot.Field{
		{Label: "Timezone", Value: s.Timezone + " (now " + bot.When{At: c.Now}.String(c.Loc) + ")"},
		{Label: "Digest", Value: digestState(s, c.Now, c.Loc)},
		{Label: "Digest channel", Value: channelMention(s.DigestChannel)},
		{Label: "Digest schedule", Value: s.DigestSchedule},
		{Label: "Celebrations channel", Value: orHere(s.CelebrationsChannel)},
		{Label: "Welcome", Value: welcomeState(s)},
		{Label: "Retention", Value: fmt.Sprintf("%d days", s.RetentionDays)},
		{Label: "Kudos per day", Value: fmt.Sprint(s.KudosPerDay)},
		{Label: "Admins are organisers", Value: onOffText(s.AdminsAreOrganisers)},
	}, Footer: "Change one with /settings <name> <value>, e.g. /settings timezone Europe/London; /settings help lists them."}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

// digestState says whether and when the digest goes out.
func digestState(s bot.Settings, now time.Time, loc *time.Location) string {
	switch {
	case !s.DigestOn:
		return "off"
	case s.DigestChannel.ID == "":
		return "off until a digest channel is set (/settings digest-channel #channel)"
	}
	r, err := bot.ParseRecurrence(s.DigestSchedule)
	if err != nil {
		return "on, " + s.DigestSchedule
	}
	next := r.Next(now, loc)
	if next.IsZero() {
		return "on, " + s.DigestSchedule
	}
	return fmt.Sprintf("on, %s in %s; next %s", r, channelMention(s.DigestChannel), localTime(next, loc))
}

func welcomeState(s bot.Settings) string {
	if !s.WelcomeOn {
		return "off"
	}
	if s.WelcomeChannel.ID == "" {
		return "on, for joins to the workspace/server"
	}
	return "on, for joins to " + channelMention(s.WelcomeChannel)
}

// orHere renders a channel, or where posts go when it is unset.
func orHere(ch bot.ChannelRef) string {
	if ch.ID == "" {
		return "not set (posts go to the channel the command came from)"
	}
	return channelMention(ch)
}

// change applies ch and maps the store's refusals to messages.
func (h *handlers) change(ctx context.Context, c *bot.Call, ch Change) (bot.Settings, error) {
	s, err := h.store.ChangeSettings(ctx, c.Actor.Community, ch)
	switch {
	case errors.Is(err, ErrNoDigestChannel):
		return s, bot.Userf("/settings digest-channel #impact", "The digest has no channel yet, so it stays off. Set the channel first; the digest then goes out on its schedule.")
	case errors.Is(err, ErrNoAddedOrganiser):
		return s, bot.Userf("/organisers add @sam", "No one has been added as an organiser yet, so turning admins off would lock everyone out. Add an organiser first.")
	case err != nil:
		return s, fmt.Errorf("change settings: %w", err)
	}
	return s, nil
}

func (h *handlers) timezone(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	zone := c.Text("zone")
	loc, err := bot.LoadZone(zone)
	if err != nil {
		return bot.Reply{}, err
	}
	zone = loc.String()
	if _, err := h.change(ctx, c, Change{Timezone: &zone, Now: c.Now}); err != nil {
		return bot.Reply{}, err
	}
	return bot.Say(fmt.Sprintf("Timezone is now %s; it is %s there. Times people type and scheduled posts follow it.", zone, bot.When{At: c.Now}.String(loc))), nil
}

func (h *handlers) digestChannel(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	ch := c.Channel("channel")
	// The platform adapter checks that the bot can post in ch before the
	// request reaches the core; the core only stores the choice.
	s, err := h.change(ctx, c, Change{DigestChannel: &ch})
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Say(fmt.Sprintf("Digest channel is now %s. Digest: %s.", channelMention(ch), digestState(s, c.Now, c.Loc))), nil
}

func (h *handlers) digestSchedule(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	w := c.When("schedule")
	if !w.IsRecurring() {
		return bot.Reply{}, bot.Userf(c.Example(), "The digest schedule must repeat.")
	}
	rule := w.Rule.String()
	s, err := h.change(ctx, c, Change{DigestSchedule: &rule})
	if err != nil {
		return bot.Reply{}, err
	}
	text := fmt.Sprintf("Digest schedule is now %s; the next one is due %s.", rule, localTime(w.Rule.Next(c.Now, c.Loc), c.Loc))
	if !s.DigestOn || s.DigestChannel.ID == "" {
		text += " Digest: " + digestState(s, c.Now, c.Loc) + "."
	}
	return bot.Say(text), nil
}

func (h *handlers) digest(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	on := c.Bool("value")
	s, err := h.change(ctx, c, Change{DigestOn: &on})
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Say("Digest: " + digestState(s, c.Now, c.Loc) + "."), nil
}

func (h *handlers) celebrationsChannel(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	ch := c.Channel("channel")
	if _, err := h.change(ctx, c, Change{CelebrationsChannel: &ch}); err != nil {
		return bot.Reply{}, err
	}
	return bot.Say(fmt.Sprintf("Celebrations channel is now %s: wins, kudos and milestones go there.", channelMention(ch))), nil
}

func (h *handlers) welcomeChannel(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	ch := c.Channel("channel")
	s, err := h.change(ctx, c, Change{WelcomeChannel: &ch})
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Say(fmt.Sprintf("Welcome channel is now %s: newcomers who join it are welcomed there. Welcome: %s.", channelMention(ch), welcomeState(s))), nil
}

func (h *handlers) welcome(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	on := c.Bool("value")
	s, err := h.change(ctx, c, Change{WelcomeOn: &on})
	if err != nil {
		return bot.Reply{}, err
	}
	return bot.Say("Welcome: " + welcomeState(s) + "."), nil
}

func (h *handlers) retention(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	days := c.Int("days")
	if days < MinRetentionDays || days > MaxRetentionDays {
		return bot.Reply{}, bot.Userf(c.Example(), "Retention must be %d to %d days, not %d.", MinRetentionDays, MaxRetentionDays, days)
	}
	if _, err := h.change(ctx, c, Change{RetentionDays: &days}); err != nil {
		return bot.Reply{}, err
	}
	return bot.Say(fmt.Sprintf("Retention is now %d days: a departed member's personal data is erased %d days after they leave; counts stay, anonymous.", days, days)), nil
}

func (h *handlers) kudosPerDay(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	n := c.Int("n")
	if n < MinKudosPerDay || n > MaxKudosPerDay {
		return bot.Reply{}, bot.Userf(c.Example(), "Kudos per day must be %d to %d, not %d.", MinKudosPerDay, MaxKudosPerDay, n)
	}
	if _, err := h.change(ctx, c, Change{KudosPerDay: &n}); err != nil {
		return bot.Reply{}, err
	}
	return bot.Say(fmt.Sprintf("Kudos per day is now %d per member.", n)), nil
}

func (h *handlers) adminsAreOrganisers(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	on := c.Bool("value")
	if _, err := h.change(ctx, c, Change{AdminsAreOrganisers: &on}); err != nil {
		return bot.Reply{}, err
	}
	if on {
		return bot.Say("Admins are organisers: on. Workspace/server admins count as organisers, beside the members added with /organisers add."), nil
	}
	text := "Admins are organisers: off. Only members added with /organisers add are organisers now."
	all, err := h.store.ListOrganisers(ctx, c.Actor.Community)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("list organisers: %w", err)
	}
	added := false
	for _, o := range all {
		if o.Added && o.Member.ID == c.Actor.Member.ID {
			added = true
		}
	}
	if !added {
		text += " You were an organiser only as an admin, so you are not one any more; an organiser can add you with /organisers add."
	}
	return bot.Say(text), nil
}
