package discord

import (
	"context"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// onReady registers the commands when they changed. Ready comes on every
// new gateway session (not on resumes); an unchanged schema costs one
// state read.
func (a *Adapter) onReady(ctx context.Context, e *discordgo.Ready) {
	a.log.Info("discord gateway ready", "guilds", len(e.Guilds))
	a.ensureCommands(ctx)
}

// onInteraction answers an interaction received over the gateway through
// the REST callback endpoint.
func (a *Adapter) onInteraction(ctx context.Context, e *discordgo.InteractionCreate) {
	if e == nil || e.Interaction == nil || !known(e.Interaction) || e.Type == discordgo.InteractionPing {
		return
	}
	i := e.Interaction
	respond := func(v any) error { return a.callback(ctx, i, v) }
	a.interaction(ctx, i, respond, false)
}

// onMemberAdd reports a member joining (EventJoined): the core records them
// and welcomes them once, by DM. A gateway resume can redeliver the event;
// its id (guild, user, join time) lets the engine drop the repeat.
func (a *Adapter) onMemberAdd(ctx context.Context, e *discordgo.GuildMemberAdd) {
	if e == nil || e.Member == nil || e.User == nil || e.User.Bot || e.GuildID == "" {
		return
	}
	req := a.memberRequest(ctx, e.Member, bot.EventJoined)
	if !e.JoinedAt.IsZero() {
		req.EventID = "join:" + e.GuildID + ":" + e.User.ID + ":" + strconv.FormatInt(e.JoinedAt.UnixMilli(), 36)
	}
	a.event(ctx, req)
}

// onMemberRemove reports a member leaving (EventLeft): they drop off the
// boards. Departure is idempotent, so a redelivery needs no id.
func (a *Adapter) onMemberRemove(ctx context.Context, e *discordgo.GuildMemberRemove) {
	if e == nil || e.Member == nil || e.User == nil || e.User.Bot || e.GuildID == "" {
		return
	}
	a.event(ctx, a.memberRequest(ctx, e.Member, bot.EventLeft))
}

func (a *Adapter) memberRequest(ctx context.Context, m *discordgo.Member, event string) bot.Request {
	g := a.guildInfo(ctx, m.GuildID)
	return bot.Request{
		Community:     bot.CommunityRef{Platform: bot.Discord, ID: m.GuildID},
		CommunityName: g.Name,
		User:          bot.UserRef{Platform: bot.Discord, Space: m.GuildID, ID: m.User.ID},
		UserName:      displayName(m, m.User),
		PlatformAdmin: g.OwnerID != "" && g.OwnerID == m.User.ID,
		Event:         event,
		Time:          a.clock.Now(),
	}
}

// event runs a membership event and posts what it produced (welcome DMs,
// public posts with a channel) through the Poster. It counts as work in
// flight, so Run waits for it, and a shutdown does not cut it short (it is
// bounded by doTimeout instead).
func (a *Adapter) event(ctx context.Context, req bot.Request) {
	a.inflight.Add(1)
	defer a.inflight.Done()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), doTimeout)
	defer cancel()
	reply := a.engine.Do(ctx, req)
	if reply.Duplicate {
		return
	}
	for n, m := range reply.Messages {
		if m.Visibility == bot.Public && m.Channel.ID == "" {
			a.log.Warn("discord event post without a channel dropped", "event", req.Event, "community", req.Community.ID)
			continue
		}
		if m.Visibility == bot.Private {
			m.Visibility, m.To = bot.Direct, bot.Member{Ref: req.User, Name: req.UserName}
		}
		a.post(ctx, req.Community, m, eventKey(req, n))
	}
}

// eventKey is the Poster key of the n-th message of a membership event:
// derived from the event id when there is one, so a redelivery that slipped
// past deduplication still cannot post twice inside the nonce window.
func eventKey(req bot.Request, n int) string {
	if req.EventID == "" {
		return ""
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(req.EventID); i++ {
		h ^= uint64(req.EventID[i])
		h *= 1099511628211
	}
	return "me" + strconv.FormatUint(h, 36) + "-" + strconv.Itoa(n)
}
