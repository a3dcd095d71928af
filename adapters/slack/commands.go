package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
)

// response is a message as Slack takes it in a slash command's HTTP
// response, a Socket Mode ack payload or a POST to a response_url.
type response struct {
	ResponseType    string        `json:"response_type,omitempty"`
	Text            string        `json:"text"`
	Blocks          []slack.Block `json:"blocks,omitempty"`
	ReplaceOriginal bool          `json:"replace_original"`
}

// render turns m into a response: in_channel when public, else ephemeral.
func render(m bot.Message) *response {
	r := &response{ResponseType: "ephemeral", Text: Fallback(m), Blocks: Blocks(m)}
	if m.Visibility == bot.Public {
		r.ResponseType = "in_channel"
	}
	return r
}

// unreadable is the answer to a signed command that could not be read.
var unreadable = &response{ResponseType: "ephemeral",
	Text: "I couldn't read that command. Try again, or type /missionbot help."}

// origin is where a request came from, which is where its replies go.
type origin struct {
	community   bot.CommunityRef
	user        bot.UserRef
	channel     string
	responseURL string
	// uses counts response_url posts (Slack allows 5).
	uses int
	// noEphemeral is set once chat.postEphemeral refused the channel for
	// good: private notes then go by DM.
	noEphemeral bool
}

// maxResponseURLUses is how many times Slack accepts one response_url.
const maxResponseURLUses = 5

// serveCommand answers POST /slack/commands (signature already verified):
// always 200, with the reply when it was ready within Config.AckWithin,
// else with an empty body and the reply through response_url.
func (a *Adapter) serveCommand(w http.ResponseWriter, r *http.Request, body []byte) {
	if bytes.Contains(body, []byte("ssl_check=1")) {
		w.WriteHeader(http.StatusOK)
		return
	}
	var resp *response
	sc, err := parseCommandForm(body)
	if err != nil {
		resp = unreadable
	} else {
		resp = a.command(r.Context(), sc)
	}
	writeJSON(w, resp)
}

// writeJSON answers 200 with v as JSON, or with no body when v is nil.
func writeJSON[T any](w http.ResponseWriter, v *T) {
	if v == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// command runs one slash command and returns what to answer at once: the
// command's own reply when the engine finished within Config.AckWithin, or
// nil (an empty acknowledgement) when it did not, the reply then going
// through response_url. Further messages (posts to other channels, DMs,
// files, more private notes) are delivered in the background.
func (a *Adapter) command(ctx context.Context, sc slack.SlashCommand) *response {
	req, err := commandRequest(sc, a.clock.Now())
	if err != nil {
		return unreadable
	}
	o := &origin{community: req.Community, user: req.User, channel: req.Channel.ID, responseURL: sc.ResponseURL}
	done := make(chan bot.Reply)
	late := make(chan struct{})
	a.background(ctx, func(ctx context.Context) {
		a.enrich(ctx, &req)
		reply := a.do(ctx, req)
		select {
		case done <- reply:
		case <-late:
			if !reply.Duplicate {
				a.deliverLater(ctx, o, reply.Messages)
			}
		}
	})
	t := time.NewTimer(a.cfg.AckWithin)
	defer t.Stop()
	select {
	case reply := <-done:
		if reply.Duplicate {
			return nil
		}
		resp, rest := a.inline(reply.Messages, req.Channel.ID)
		if len(rest) > 0 {
			a.background(ctx, func(ctx context.Context) { a.deliver(ctx, o, rest) })
		}
		return resp
	case <-t.C:
	case <-ctx.Done():
	}
	close(late)
	return nil
}

// do runs req through the engine, turning a panic into the engine's kind of
// private apology so that a command is always answered.
func (a *Adapter) do(ctx context.Context, req bot.Request) (reply bot.Reply) {
	defer func() {
		if p := recover(); p != nil {
			a.log.ErrorContext(ctx, "slack request panicked", "command", req.Command, "action", req.Action, "panic", fmt.Sprint(p))
			reply = bot.Say("Something went wrong. Nothing was changed; please try again.")
		}
	}()
	return a.engine.Do(ctx, req)
}

// inline picks the command's own answer among ms (the first private
// message, or public one for the command's channel, without a file) and
// returns it rendered with the messages left to deliver.
func (a *Adapter) inline(ms []bot.Message, channel string) (*response, []bot.Message) {
	for i, m := range ms {
		if m.File != nil || !ownChannel(m, channel) {
			continue
		}
		rest := append(append([]bot.Message{}, ms[:i]...), ms[i+1:]...)
		return render(m), rest
	}
	return nil, ms
}

// ownChannel reports whether m is shown in the channel the request came
// from: private to the actor, or public without another channel.
func ownChannel(m bot.Message, channel string) bool {
	switch m.Visibility {
	case bot.Private:
		return true
	case bot.Public:
		return m.Channel.ID == "" || m.Channel.ID == channel
	}
	return false
}

// hasContent reports whether m shows anything besides a file.
func hasContent(m bot.Message) bool {
	return m.Title != "" || m.Text != "" || len(m.Fields) > 0 || len(m.Progress) > 0 ||
		len(m.Items) > 0 || len(m.Buttons) > 0 || m.Footer != ""
}

// deliver sends ms for a request from o, in order: files are uploaded
// privately to the actor; direct messages and posts to other channels go
// through the Poster; private notes and posts to the request's channel go
// through response_url while it lasts, else chat.postEphemeral /
// chat.postMessage, else (no channel: an event; or a channel that refuses
// ephemeral messages for good) a DM to the actor.
// Failures are logged; nothing here is retried beyond one wait on a rate
// limit.
func (a *Adapter) deliver(ctx context.Context, o *origin, ms []bot.Message) {
	for _, m := range ms {
		if m.File != nil {
			if err := a.poster.Upload(ctx, o.community.ID, o.channel, o.user.ID, *m.File); err != nil {
				a.log.WarnContext(ctx, "slack upload failed", "team", o.community.ID, "err", err)
				m.Text = "I couldn't send you the file just now; please try again in a moment."
				m.Visibility = bot.Private
			}
			m.File = nil
			if !hasContent(m) {
				continue
			}
		}
		if err := a.send(ctx, o, m); err != nil {
			a.log.WarnContext(ctx, "slack reply not delivered", "team", o.community.ID, "visibility", int(m.Visibility), "err", err)
		}
	}
}

// send delivers one message without a file for a request from o.
func (a *Adapter) send(ctx context.Context, o *origin, m bot.Message) error {
	if ownChannel(m, o.channel) && o.responseURL != "" && o.uses < maxResponseURLUses {
		o.uses++
		if err := a.respond(ctx, o.responseURL, render(m)); err == nil {
			return nil
		} else {
			a.log.DebugContext(ctx, "slack response_url failed", "err", err)
		}
	}
	if m.Visibility == bot.Private && o.channel != "" && !o.noEphemeral {
		err := a.poster.Ephemeral(ctx, o.community.ID, o.channel, o.user.ID, m)
		if !errors.Is(err, bot.ErrPermanent) {
			return err
		}
		// The bot cannot show it there (not in the channel, archived…):
		// the actor gets it, and the request's later private notes, by DM.
		a.log.DebugContext(ctx, "slack ephemeral refused; sending a DM", "team", o.community.ID, "err", err)
		o.noEphemeral = true
	}
	switch {
	case m.Visibility == bot.Private:
		m.Visibility, m.To = bot.Direct, bot.Member{Ref: o.user}
	case m.Visibility == bot.Public && m.Channel.ID == "":
		if o.channel == "" {
			return errors.New("public reply without a channel")
		}
		m.Channel = bot.ChannelRef{ID: o.channel}
	}
	return a.post(ctx, o.community, m)
}

// post sends m through the Poster, waiting once when Slack asks to.
func (a *Adapter) post(ctx context.Context, c bot.CommunityRef, m bot.Message) error {
	_, err := a.poster.Post(ctx, c, m, "")
	var rl *bot.RateLimitedError
	if errors.As(err, &rl) {
		t := time.NewTimer(rl.RetryAfter)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return fmt.Errorf("post: %w", ctx.Err())
		case <-t.C:
		}
		_, err = a.poster.Post(ctx, c, m, "")
	}
	return err
}

// respond posts r to a response_url.
// The URL is a short-lived credential: errors never carry it.
func (a *Adapter) respond(ctx context.Context, target string, r *response) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("response_url: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return errors.New("response_url: invalid url")
	}
	hreq.Header.Set("Content-Type", "application/json")
	res, err := a.http.Do(hreq)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("response_url: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("response_url: status %d", res.StatusCode)
	}
	return nil
}
