package mission

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/missionbot/missionbot/bot"
)

// listOrganisers answers /organisers: added organisers by name, then how
// workspace/server admins count.
func (h *handlers) listOrganisers(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	all, err := h.store.ListOrganisers(ctx, c.Actor.Community)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("list organisers: %w", err)
	}
	adminsCount := c.Actor.Settings.AdminsAreOrganisers
	m := bot.Message{Title: "Organisers"}
	var admins []string
	for _, o := range all {
		if o.Added {
			m.Items = append(m.Items, bot.UserMention(o.Member))
		} else if o.PlatformAdmin && adminsCount {
			admins = append(admins, bot.UserMention(o.Member))
		}
	}
	if len(m.Items) == 0 {
		m.Text = "No one has been added as an organiser yet; an organiser can add someone with /organisers add @member."
	}
	if adminsCount {
		m.Footer = "Workspace/server admins are organisers too, unless an organiser turns that off with /settings admins-are-organisers off."
		if len(admins) > 0 {
			m.Fields = append(m.Fields, bot.Field{Label: "Admins seen so far", Value: strings.Join(admins, ", ")})
		}
	} else {
		m.Footer = "Only the members above are organisers: workspace/server admins do not count (/settings admins-are-organisers is off)."
	}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

// addOrganiser answers /organisers add @m.
func (h *handlers) addOrganiser(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	m := c.Member("member")
	added, err := h.store.AddOrganiser(ctx, c.Actor.Community, m.ID)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("add organiser: %w", err)
	}
	if !added {
		return bot.Say(fmt.Sprintf("%s is already an organiser; nothing changed.", bot.UserMention(m))), nil
	}
	r := bot.Say(fmt.Sprintf("%s is now an organiser.", bot.UserMention(m)))
	if m.ID != c.Actor.Member.ID {
		r = r.Add(bot.Message{Visibility: bot.Direct, To: m,
			Text: fmt.Sprintf("%s made you an organiser. /missionbot help shows what organisers can do.", bot.UserMention(c.Actor.Member))})
	}
	return r, nil
}

// removeOrganiser answers /organisers remove @m.
func (h *handlers) removeOrganiser(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	m := c.Member("member")
	err := h.store.RemoveOrganiser(ctx, c.Actor.Community, m.ID)
	switch {
	case errors.Is(err, ErrNotOrganiser):
		admin, aerr := h.isPlatformAdmin(ctx, c.Actor.Community, m.ID)
		if aerr != nil {
			return bot.Reply{}, aerr
		}
		if admin && c.Actor.Settings.AdminsAreOrganisers {
			return bot.Reply{}, bot.Userf("/settings admins-are-organisers off",
				"%s is an organiser through their workspace/server admin rights, not because they were added, so there is nothing to remove. To count only added organisers, turn admins off.", bot.UserMention(m))
		}
		return bot.Reply{}, bot.Userf("/organisers", "%s is not an organiser; /organisers lists who is.", bot.UserMention(m))
	case errors.Is(err, ErrLastOrganiser):
		return bot.Reply{}, bot.Userf("/organisers add @sam",
			"%s is the last organiser and admins do not count (/settings admins-are-organisers is off), so removing them would lock everyone out. Add another organiser first.", bot.UserMention(m))
	case err != nil:
		return bot.Reply{}, fmt.Errorf("remove organiser: %w", err)
	}
	text := fmt.Sprintf("%s is no longer an organiser.", bot.UserMention(m))
	if admin, aerr := h.isPlatformAdmin(ctx, c.Actor.Community, m.ID); aerr == nil && admin && c.Actor.Settings.AdminsAreOrganisers {
		text += " They still count as one through their workspace/server admin rights while /settings admins-are-organisers is on."
	}
	return bot.Say(text), nil
}

// isPlatformAdmin reports whether member is a workspace/server admin as last seen.
func (h *handlers) isPlatformAdmin(ctx context.Context, c bot.CommunityID, member bot.MemberID) (bool, error) {
	all, err := h.store.ListOrganisers(ctx, c)
	if err != nil {
		return false, fmt.Errorf("list organisers: %w", err)
	}
	for _, o := range all {
		if o.Member.ID == member {
			return o.PlatformAdmin, nil
		}
	}
	return false, nil
}
