package mission

import (
	"context"
	"fmt"

	"github.com/missionbot/missionbot/bot"
)

// greet greets a member who joined, privately and once: the mission, the
// values, goals and openings, and how to get involved. With a welcome
// channel set, only joins to that channel are welcomed; without one, joins
// to the workspace or server are.
func (h *handlers) greet(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	s := c.Actor.Settings
	joined := c.Req.Channel.ID
	// Discord has no channel joins, only server joins: there a welcome
	// channel cannot narrow who is welcomed.
	serverOnly := c.Req.User.Platform == bot.Discord && joined == ""
	if !s.WelcomeOn || (joined != s.WelcomeChannel.ID && !serverOnly) {
		return bot.Reply{}, nil
	}
	first, err := h.store.MarkWelcomed(ctx, c.Actor.Community, c.Actor.Member.ID, c.Now)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("welcome: %w", err)
	}
	if !first {
		return bot.Reply{}, nil
	}
	r, err := h.show(ctx, c)
	if err != nil {
		return bot.Reply{}, err
	}
	for i := range r.Messages {
		m := &r.Messages[i]
		m.Visibility, m.To = bot.Direct, c.Actor.Member
		if i == 0 {
			m.Title = "Welcome"
			if name := c.Req.CommunityName; name != "" {
				m.Title = "Welcome to " + name
			}
			m.Title += ", " + c.Actor.Member.Name + "!"
		}
	}
	return r, nil
}

// installed makes the person who installed the app the community's first
// organiser and tells them where to start.
func (h *handlers) installed(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	if _, err := h.store.AddOrganiser(ctx, c.Actor.Community, c.Actor.Member.ID); err != nil {
		return bot.Reply{}, fmt.Errorf("installer organiser: %w", err)
	}
	return bot.Reply{Messages: []bot.Message{{Visibility: bot.Direct, To: c.Actor.Member, Title: "missionbot is installed",
		Text: "Thanks for installing missionbot. You are this community's first organiser.",
		Items: []string{
			"Say what you are here for: /mission set Every street green by 2030",
			"Pick where the weekly digest goes: /settings digest-channel #impact",
			"Start a goal: /goal new \"Plant 1000 trees\" 1000 trees by 2026-12-31",
			"Add more organisers: /organisers add @sam",
		},
		Footer: "/missionbot help lists every command."}}}, nil
}
