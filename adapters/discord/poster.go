package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// DefaultChannelRate is the per-channel posting rate shared by every
// replica: Discord allows 5 messages per 5 seconds in a channel.
var DefaultChannelRate = bot.Rate{Events: 5, Per: 5 * time.Second, Burst: 5}

// DefaultNonceWindow is how long after a send Find still resends with the
// same nonce. Discord deduplicates an enforced nonce for "the past few
// minutes" without saying how many; one minute stays well inside that.
const DefaultNonceWindow = time.Minute

// DefaultSendTimeout bounds one request of the Poster to Discord.
const DefaultSendTimeout = 15 * time.Second

// dmCacheTTL is how long a member's DM channel id is cached.
const dmCacheTTL = 24 * time.Hour

// Discord JSON error codes that can never succeed as posted.
const (
	codeUnknownChannel = 10003
	codeUnknownGuild   = 10004
	codeUnknownUser    = 10013
	codeMissingAccess  = 50001
	codeCannotDM       = 50007
	codeMissingPerms   = 50013
	codeInvalidForm    = 50035
	codeEmptyMessage   = 50006
)

// Poster sends public posts and direct messages to Discord for the
// scheduler and the adapter. It is safe for concurrent use.
//
// Every send first takes the per-channel limiter shared by replicas
// (ChannelRate), waiting (within ctx) when refused; discordgo's per-route
// buckets pace it further. It never retries: a 429 becomes
// *bot.RateLimitedError, Discord's "cannot ever work" codes (unknown
// channel/user, missing access or permissions, cannot DM, invalid body)
// become errors wrapping bot.ErrPermanent, and an unknown outcome (5xx,
// timeout or a reset after the request was written) wraps bot.ErrUncertain.
type Poster struct {
	s     *discordgo.Session
	coord bot.Coordinator
	clock bot.Clock
	log   *slog.Logger

	// ChannelRate limits posts per channel; NewPoster sets DefaultChannelRate.
	ChannelRate bot.Rate
	// NonceWindow bounds how long after a send Find may resend with the
	// same nonce; NewPoster sets DefaultNonceWindow.
	NonceWindow time.Duration
	// SendTimeout bounds each request to Discord (not the wait for the
	// channel limiter); NewPoster sets DefaultSendTimeout. A send that
	// times out is uncertain.
	SendTimeout time.Duration
}

var _ bot.Poster = (*Poster)(nil)

// NewPoster returns a poster sending through s (its token, HTTP client
// and rate-limit buckets) and limiting channels through coord. It changes
// nothing on s: each request disables discordgo's own retries.
func NewPoster(s *discordgo.Session, coord bot.Coordinator, clock bot.Clock, log *slog.Logger) *Poster {
	return &Poster{s: s, coord: coord, clock: clock, log: log, ChannelRate: DefaultChannelRate, NonceWindow: DefaultNonceWindow, SendTimeout: DefaultSendTimeout}
}

// createMessage is Discord's create-message body; discordgo's MessageSend
// (v0.29.0) has no nonce or enforce_nonce.
type createMessage struct {
	Content         string                            `json:"content,omitempty"`
	Embeds          []*discordgo.MessageEmbed         `json:"embeds,omitempty"`
	Components      []discordgo.MessageComponent      `json:"components,omitempty"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions,omitempty"`
	Nonce           string                            `json:"nonce,omitempty"`
	EnforceNonce    bool                              `json:"enforce_nonce,omitempty"`
}

// Post sends m once: to m.Channel for a public message, or as a DM to
// m.To.Ref.ID for a Direct one. A non-empty key (≤ 25 characters) goes out
// as the message nonce with enforce_nonce, so a resend inside Discord's
// window returns the first message instead of posting twice. Post never
// retries; see Poster for its errors.
func (p *Poster) Post(ctx context.Context, community bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, error) {
	if len(key) > 25 {
		return bot.MessageRef{}, fmt.Errorf("discord post: key %q is over 25 characters: %w", key, bot.ErrPermanent)
	}
	channel, err := p.target(ctx, m)
	if err != nil {
		return bot.MessageRef{}, err
	}
	if err := CheckButtons(m); err != nil {
		p.log.Error("discord post: message has buttons Discord cannot take", "community", community.String(), "err", err)
	}
	rememberInputs(ctx, p.coord, p.log, []bot.Message{m})
	if key != "" {
		// The time of the latest send: a message it created is inside the
		// nonce window until NonceWindow after it.
		val := strconv.FormatInt(p.clock.Now().UnixNano(), 10) + "|" + channel
		if err := p.coord.Set(ctx, p.nonceKey(key), []byte(val), p.NonceWindow); err != nil {
			p.log.Warn("discord post: nonce time not recorded; an uncertain outcome will be reported, not checked", "key", key, "err", err)
		}
	}
	return p.send(ctx, channel, m, key)
}

// Find resends m with the same nonce and enforce_nonce when the last send
// with key was inside the nonce window: Discord then returns the message
// the uncertain send created (found, with its id) — or posts it now, once.
// Past the window, or with no record of the send, it sends nothing and
// returns found=false, since a resend could then post twice.
func (p *Poster) Find(ctx context.Context, community bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, bool, error) {
	if key == "" {
		return bot.MessageRef{}, false, nil
	}
	raw, ok, err := p.coord.Get(ctx, p.nonceKey(key))
	if err != nil {
		return bot.MessageRef{}, false, fmt.Errorf("discord find %s: %w", key, err)
	}
	if !ok {
		return bot.MessageRef{}, false, nil
	}
	at, channel, _ := strings.Cut(string(raw), "|")
	ns, err := strconv.ParseInt(at, 10, 64)
	if err != nil || channel == "" || p.clock.Now().Sub(time.Unix(0, ns)) >= p.NonceWindow {
		return bot.MessageRef{}, false, nil
	}
	ref, err := p.send(ctx, channel, m, key)
	if err != nil {
		return bot.MessageRef{}, false, fmt.Errorf("discord find %s: %w", key, err)
	}
	p.log.Info("discord find: uncertain post resolved by its nonce", "community", community.String(), "key", key, "message", ref.ID)
	return ref, true, nil
}

func (p *Poster) nonceKey(key string) string { return p.coord.Keys().Cache("discord-nonce", key) }

// target returns the channel m goes to, opening the DM channel for a
// Direct message.
func (p *Poster) target(ctx context.Context, m bot.Message) (string, error) {
	if m.Visibility != bot.Direct {
		if m.Channel.ID == "" {
			return "", fmt.Errorf("discord post: public message without a channel: %w", bot.ErrPermanent)
		}
		return m.Channel.ID, nil
	}
	user := m.To.Ref.ID
	if user == "" {
		return "", fmt.Errorf("discord post: direct message without a recipient: %w", bot.ErrPermanent)
	}
	ck := p.coord.Keys().Cache("discord-dm", user)
	if v, ok, err := p.coord.Get(ctx, ck); err == nil && ok && len(v) > 0 {
		return string(v), nil
	}
	dctx := ctx
	if p.SendTimeout > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, p.SendTimeout)
		defer cancel()
	}
	ch, err := p.s.UserChannelCreate(user, discordgo.WithContext(dctx), discordgo.WithRetryOnRatelimit(false), discordgo.WithRestRetries(0))
	if err != nil {
		err = classify(err, false)
		return "", fmt.Errorf("discord post: open DM with %s: %w", user, err)
	}
	_ = p.coord.Set(ctx, ck, []byte(ch.ID), dmCacheTTL)
	return ch.ID, nil
}

// send waits for the channel's limiter and creates the message once.
func (p *Poster) send(ctx context.Context, channel string, m bot.Message, key string) (bot.MessageRef, error) {
	if err := p.wait(ctx, channel); err != nil {
		return bot.MessageRef{}, fmt.Errorf("discord post to %s: waiting for the channel limit: %w", channel, err)
	}
	body := createMessage{Content: Content(m), Embeds: Embeds(m), Components: Components(m), AllowedMentions: AllowedMentions()}
	if key != "" {
		body.Nonce, body.EnforceNonce = key, true
	}
	if body.Content == "" && body.Embeds == nil && body.Components == nil && m.File == nil {
		return bot.MessageRef{}, fmt.Errorf("discord post to %s: empty message: %w", channel, bot.ErrPermanent)
	}
	endpoint := discordgo.EndpointChannelMessages(channel)
	if p.SendTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.SendTimeout)
		defer cancel()
	}
	opts := []discordgo.RequestOption{discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false), discordgo.WithRestRetries(0)}
	var (
		resp []byte
		err  error
	)
	if m.File != nil {
		ctype, payload, merr := discordgo.MultipartBodyWithJSON(body, []*discordgo.File{{
			Name: m.File.Name, ContentType: m.File.ContentType, Reader: bytes.NewReader(m.File.Data)}})
		if merr != nil {
			return bot.MessageRef{}, fmt.Errorf("discord post to %s: encode file: %w", channel, merr)
		}
		resp, err = p.s.RequestRaw(http.MethodPost, endpoint, ctype, payload, endpoint, 0, opts...)
	} else {
		resp, err = p.s.RequestWithBucketID(http.MethodPost, endpoint, body, endpoint, opts...)
	}
	if err != nil {
		return bot.MessageRef{}, fmt.Errorf("discord post to %s: %w", channel, classify(err, true))
	}
	var msg discordgo.Message
	if err := json.Unmarshal(resp, &msg); err != nil || msg.ID == "" {
		// Discord said 2xx: it is posted, but we cannot name it.
		return bot.MessageRef{}, fmt.Errorf("discord post to %s: unreadable answer: %w", channel, bot.ErrUncertain)
	}
	return bot.MessageRef{Channel: channel, ID: msg.ID}, nil
}

// wait takes one event from the channel's shared limiter, waiting as long
// as it says (within ctx). A limiter that fails does not block posting:
// Discord's own buckets still pace the poster.
func (p *Poster) wait(ctx context.Context, channel string) error {
	key := p.coord.Keys().Limit("discord-chan", channel)
	for {
		d, err := p.coord.Allow(ctx, key, p.ChannelRate)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Warn("discord post: channel limiter unavailable; relying on Discord's buckets", "channel", channel, "err", err)
			return nil
		}
		if d.Allowed {
			return nil
		}
		t := time.NewTimer(max(d.RetryAfter, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// APIError is an error answer from Discord, without the request (which
// carries the bot token).
type APIError struct {
	Status  int
	Code    int
	Message string
}

func (e *APIError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("discord: HTTP %d, code %d: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("discord: HTTP %d: %s", e.Status, e.Message)
}

// classify turns a discordgo error into the poster's: *bot.RateLimitedError
// for a 429, ErrPermanent for answers that can never succeed, ErrUncertain
// for an unknown outcome of a request that may have created something
// (posting is true), and the error itself (transient) otherwise. Discord's
// RESTError is replaced by an *APIError so the request and its token never
// travel further.
func classify(err error, posting bool) error {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return &bot.RateLimitedError{RetryAfter: max(rl.RetryAfter, time.Millisecond)}
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) {
		ae := &APIError{}
		if re.Response != nil {
			ae.Status = re.Response.StatusCode
		}
		if re.Message != nil {
			ae.Code, ae.Message = re.Message.Code, re.Message.Message
		}
		if ae.Message == "" {
			ae.Message = http.StatusText(ae.Status)
		}
		switch {
		case permanentCode(ae.Code), ae.Status == http.StatusUnauthorized, ae.Status == http.StatusForbidden,
			ae.Status == http.StatusNotFound, ae.Status == http.StatusBadRequest, ae.Status == http.StatusRequestEntityTooLarge:
			return fmt.Errorf("%w (%w)", ae, bot.ErrPermanent)
		case ae.Status >= 500 && posting:
			return fmt.Errorf("%w (%w)", ae, bot.ErrUncertain)
		}
		return ae
	}
	if errors.Is(err, discordgo.ErrUnauthorized) {
		return fmt.Errorf("discord: unauthorized (%w)", bot.ErrPermanent)
	}
	// discordgo reports a 502 it did not retry (WithRestRetries(0)) only
	// as text.
	if strings.HasPrefix(err.Error(), "Exceeded Max retries HTTP") {
		if posting {
			return fmt.Errorf("discord: bad gateway (%w)", bot.ErrUncertain)
		}
		return errors.New("discord: bad gateway")
	}
	if !posting {
		return err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return err // never connected: nothing was sent
	}
	var ue *url.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &ue) {
		return fmt.Errorf("%w (%w)", err, bot.ErrUncertain)
	}
	return err
}

func permanentCode(code int) bool {
	switch code {
	case codeUnknownChannel, codeUnknownGuild, codeUnknownUser, codeMissingAccess, codeCannotDM, codeMissingPerms,
		codeInvalidForm, codeEmptyMessage:
		return true
	}
	return false
}
