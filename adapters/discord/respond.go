package discord

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// respondFunc sends an interaction's initial response (the HTTP response
// body in HTTP mode, the callback endpoint in gateway mode). It is called at
// most once per interaction, synchronously, before anything that uses the
// interaction token.
type respondFunc func(body any) error

// doTimeout bounds one engine call started for an interaction; the token
// lives 15 minutes, the database should answer in well under this.
const doTimeout = time.Minute

// postBackoff is the first wait before a post an interaction produced is
// sent again after an unknown outcome or a transient error; it doubles.
const postBackoff = 250 * time.Millisecond

// answer runs work (the engine) for interaction i and answers within
// a.ackWithin: with the reply itself (type 4) when work is done by then,
// else with a deferred response (type 5) completed by editing @original when
// work ends. Deferred responses are always ephemeral: most replies are the
// actor's own (confirmations, lists, errors), and a public reply for the
// channel is then posted as an ordinary message, so the channel never shows
// a "thinking…" that has to be taken back. answer returns once the initial
// response is sent; follow-up work is tracked by a.inflight.
func (a *Adapter) answer(ctx context.Context, i *discordgo.Interaction, respond respondFunc, viaHTTP bool, work func(context.Context) (bot.Request, bot.Reply)) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), doTimeout)
	type result struct {
		req   bot.Request
		reply bot.Reply
	}
	done := make(chan result, 1)
	a.inflight.Add(1)
	go func() {
		defer a.inflight.Done()
		req, reply := work(wctx)
		done <- result{req, reply}
	}()
	timer := time.NewTimer(a.ackWithin)
	defer timer.Stop()
	select {
	case r := <-done:
		p := a.plan(i, r.reply)
		if r.reply.Duplicate {
			cancel()
			a.duplicate(i, respond, viaHTTP)
			return
		}
		if len(p.files) == 0 {
			err := respond(p.initial())
			a.logRespond(i, err)
			a.background(wctx, cancel, func(ctx context.Context) {
				// After the answer, to keep the 3 s: a press takes a
				// person longer than this write.
				rememberInputs(ctx, a.coord, a.log, r.reply.Messages)
				a.deliver(ctx, i, r.req, p, 1)
			})
			return
		}
		// Files go with an @original edit: defer first.
		if err := respond(deferred()); err != nil {
			a.logRespond(i, err)
			cancel()
			return
		}
		a.background(wctx, cancel, func(ctx context.Context) {
			rememberInputs(ctx, a.coord, a.log, r.reply.Messages)
			a.complete(ctx, i, r.req, p)
		})
	case <-timer.C:
		if err := respond(deferred()); err != nil {
			a.logRespond(i, err)
		}
		a.background(wctx, cancel, func(ctx context.Context) {
			r := <-done
			if r.reply.Duplicate {
				return
			}
			rememberInputs(ctx, a.coord, a.log, r.reply.Messages)
			a.complete(ctx, i, r.req, a.plan(i, r.reply))
		})
	}
}

// background runs f under a.inflight, then cancels ctx.
func (a *Adapter) background(ctx context.Context, cancel context.CancelFunc, f func(context.Context)) {
	a.inflight.Add(1)
	go func() {
		defer a.inflight.Done()
		defer cancel()
		f(ctx)
	}()
}

func (a *Adapter) logRespond(i *discordgo.Interaction, err error) {
	if err != nil {
		a.log.Warn("discord interaction response failed", "interaction", i.ID, "type", int(i.Type), "err", err)
	}
}

// duplicate acknowledges a repeated delivery of an interaction already
// answered. Over the gateway nothing is sent (the callback would be refused
// as already acknowledged); over HTTP a silent acknowledgement is returned.
func (a *Adapter) duplicate(i *discordgo.Interaction, respond respondFunc, viaHTTP bool) {
	if !viaHTTP {
		return
	}
	if i.Type == discordgo.InteractionMessageComponent {
		a.logRespond(i, respond(&discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}))
		return
	}
	a.logRespond(i, respond(deferred()))
}

func deferred() *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}}
}

// plan sorts a reply's messages by where they go.
type plan struct {
	// private are for the actor only (ephemeral).
	private []bot.Message
	// here are public in the interaction's channel; the first may be the
	// interaction's own (public) response.
	here []bot.Message
	// elsewhere are public in other channels, and direct messages: they go
	// through the Poster.
	elsewhere []bot.Message
	files     []*bot.File
	// first says whether the initial response showed here[0].
	first bool
}

func (a *Adapter) plan(i *discordgo.Interaction, r bot.Reply) *plan {
	p := &plan{}
	for _, m := range r.Messages {
		if m.File != nil {
			p.files = append(p.files, m.File)
		}
		switch m.Visibility {
		case bot.Public:
			if m.Channel.ID == "" || m.Channel.ID == i.ChannelID {
				m.Channel.ID = i.ChannelID
				p.here = append(p.here, m)
			} else {
				p.elsewhere = append(p.elsewhere, m)
			}
		case bot.Direct:
			p.elsewhere = append(p.elsewhere, m)
		default:
			if m.File != nil && m.Text == "" && m.Title == "" && len(m.Fields) == 0 && len(m.Items) == 0 {
				continue
			}
			p.private = append(p.private, m)
		}
	}
	for _, m := range append(append(append([]bot.Message(nil), p.private...), p.here...), p.elsewhere...) {
		if err := CheckButtons(m); err != nil {
			a.log.Error("discord buttons dropped", "interaction", i.ID, "err", err)
		}
	}
	return p
}

// initial is the type 4 response when the reply is ready in time: the
// private messages (ephemeral), else the first public one for this channel,
// else a short note.
func (p *plan) initial() *discordgo.InteractionResponse {
	var data *discordgo.InteractionResponseData
	switch {
	case len(p.private) > 0:
		data = messageData(p.private)
		data.Flags = discordgo.MessageFlagsEphemeral
		p.private = p.private[fitted(p.private):]
	case len(p.here) > 0:
		data = messageData(p.here[:1])
		p.here, p.first = p.here[1:], true
	default:
		data = &discordgo.InteractionResponseData{Content: p.note(), Flags: discordgo.MessageFlagsEphemeral}
	}
	data.AllowedMentions = AllowedMentions()
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data}
}

// note is the text of an ephemeral answer to a reply with no private message.
func (p *plan) note() string {
	if len(p.here)+len(p.elsewhere) > 0 {
		return "Posted."
	}
	return "Done."
}

// fitted returns how many of ms (at least one) fit together in one Discord
// message: at most 10 embeds, 6,000 embed characters and 5 rows of
// buttons, no custom_id twice, and content from the first only.
func fitted(ms []bot.Message) int {
	embeds, chars, rows := 0, 0, 0
	ids := map[string]bool{}
	for n, m := range ms {
		es := Embeds(m)
		cs := Components(m)
		c := 0
		for _, e := range es {
			c += embedLen(e)
		}
		mine := buttonIDs(cs)
		repeats := false
		for _, id := range mine {
			repeats = repeats || ids[id]
		}
		if n > 0 && (Content(m) != "" || repeats || embeds+len(es) > maxEmbeds || chars+c > maxEmbedTotal || rows+len(cs) > maxRows) {
			return n
		}
		embeds, chars, rows = embeds+len(es), chars+c, rows+len(cs)
		for _, id := range mine {
			ids[id] = true
		}
	}
	return len(ms)
}

// buttonIDs lists the custom_ids of the buttons in rows made by Components.
func buttonIDs(rows []discordgo.MessageComponent) []string {
	var out []string
	for _, r := range rows {
		if row, ok := r.(discordgo.ActionsRow); ok {
			for _, c := range row.Components {
				if b, ok := c.(discordgo.Button); ok {
					out = append(out, b.CustomID)
				}
			}
		}
	}
	return out
}

func embedLen(e *discordgo.MessageEmbed) int {
	n := textLen(e.Title) + textLen(e.Description)
	for _, f := range e.Fields {
		n += textLen(f.Name) + textLen(f.Value)
	}
	if e.Footer != nil {
		n += textLen(e.Footer.Text)
	}
	return n
}

// messageData renders the first fitted(ms) messages as one message.
func messageData(ms []bot.Message) *discordgo.InteractionResponseData {
	n := fitted(ms)
	d := &discordgo.InteractionResponseData{Content: Content(ms[0])}
	for _, m := range ms[:n] {
		d.Embeds = append(d.Embeds, Embeds(m)...)
		d.Components = append(d.Components, Components(m)...)
	}
	if d.Content == "" && len(d.Embeds) == 0 {
		d.Content = "Done."
	}
	return d
}

// complete finishes a deferred (ephemeral) response: @original becomes the
// private messages (with any files), or a short note; the rest is
// delivered like after an immediate answer.
func (a *Adapter) complete(ctx context.Context, i *discordgo.Interaction, req bot.Request, p *plan) {
	var data *discordgo.InteractionResponseData
	if len(p.private) > 0 {
		data = messageData(p.private)
		p.private = p.private[fitted(p.private):]
	} else {
		data = &discordgo.InteractionResponseData{Content: p.note()}
	}
	content := data.Content
	edit := &discordgo.WebhookEdit{Content: &content, Embeds: &data.Embeds, Components: &data.Components, AllowedMentions: AllowedMentions()}
	if data.Embeds == nil {
		edit.Embeds = &[]*discordgo.MessageEmbed{}
	}
	if data.Components == nil {
		edit.Components = &[]discordgo.MessageComponent{}
	}
	if err := a.editOriginal(ctx, i, edit, p.files); err != nil {
		a.log.Warn("discord deferred response edit failed", "interaction", i.ID, "err", err)
	}
	a.deliver(ctx, i, req, p, 1)
}

// deliver sends what the initial response or @original did not show:
// further private messages as ephemeral follow-ups, public messages for this
// channel and every other channel or DM through the Poster.
func (a *Adapter) deliver(ctx context.Context, i *discordgo.Interaction, req bot.Request, p *plan, seq int) {
	for len(p.private) > 0 {
		data := messageData(p.private)
		p.private = p.private[fitted(p.private):]
		err := a.followup(ctx, i, &discordgo.WebhookParams{Content: data.Content, Embeds: data.Embeds,
			Components: data.Components, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: AllowedMentions()})
		if err != nil {
			a.log.Warn("discord follow-up failed", "interaction", i.ID, "err", err)
		}
	}
	community := bot.CommunityRef{Platform: bot.Discord, ID: i.GuildID}
	for _, m := range append(p.here, p.elsewhere...) {
		a.post(ctx, community, m, interactionKey(i.ID, seq))
		seq++
	}
}

// post offers m to the Poster until it lands or cannot, within ctx. A 429
// is waited out (nothing was posted). An unknown outcome (5xx, timeout) or
// a transient error is sent again with the same key, while inside the
// Poster's nonce window: Discord then returns the message the first send
// created instead of posting twice. Without a key only 429s are retried.
// What cannot be sent is logged; the actor was already answered.
func (a *Adapter) post(ctx context.Context, community bot.CommunityRef, m bot.Message, key string) {
	window := time.Now().Add(a.poster.NonceWindow)
	backoff := postBackoff
	for {
		_, err := a.poster.Post(ctx, community, m, key)
		if err == nil {
			return
		}
		var wait time.Duration
		var rl *bot.RateLimitedError
		switch {
		case errors.As(err, &rl):
			wait = rl.RetryAfter
		case errors.Is(err, bot.ErrPermanent) || key == "" || ctx.Err() != nil || !time.Now().Add(backoff).Before(window):
			a.log.Warn("discord post failed", "community", community.ID, "channel", m.Channel.ID, "to", m.To.Ref.ID, "err", err)
			return
		default:
			wait, backoff = backoff, backoff*2
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			a.log.Warn("discord post abandoned", "community", community.ID, "channel", m.Channel.ID, "to", m.To.Ref.ID, "err", err)
			return
		case <-t.C:
		}
	}
}

// interactionKey is the Poster key of the seq-th message an interaction
// posts: "mi" + the interaction id and seq in base 36 (at most 25 characters,
// Discord's nonce limit).
func interactionKey(id string, seq int) string {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return ""
	}
	return "mi" + strconv.FormatUint(n, 36) + "-" + strconv.FormatInt(int64(seq), 36)
}
