package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	goslack "github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
)

var _ bot.Poster = (*Poster)(nil)

// TokenSource returns the bot token of a workspace (team id). It returns an
// error wrapping bot.ErrPermanent when the workspace has no token (the app
// was uninstalled), and any other error when the token cannot be read now.
// It must be safe for concurrent use.
type TokenSource func(ctx context.Context, team string) (string, error)

// APIOptions says where the Slack Web API is. The zero value is Slack itself
// with a client that gives up after DefaultHTTPTimeout.
type APIOptions struct {
	// URL is the API base URL with its trailing slash, as
	// slack.OptionAPIURL takes it; empty means https://slack.com/api/.
	URL string
	// HTTPClient makes the requests; nil means a client with
	// DefaultHTTPTimeout.
	HTTPClient *http.Client
}

// DefaultHTTPTimeout bounds one Web API request when APIOptions.HTTPClient is nil.
const DefaultHTTPTimeout = 30 * time.Second

// MetadataEventType is the event_type of the message metadata a Poster
// attaches to a keyed post; its event_payload is {"key": key}.
const MetadataEventType = "missionbot_post"

// historyLimit is how many recent messages Find reads.
const historyLimit = 50

// limitKind names the per-channel limiter keys: Keys().Limit(limitKind, channel).
const limitKind = "slack-chan"

// Poster posts to Slack through the Web API (slack-go): chat.postMessage for
// public posts and DMs, chat.postEphemeral, and file uploads. Every
// chat.postMessage first takes the shared per-channel limiter (Rate), waiting
// while it refuses, so replicas together stay near Slack's one message a
// second per channel; nothing is dropped while waiting. A Poster never
// retries a request on its own. It is safe for concurrent use.
type Poster struct {
	api    APIOptions
	tokens TokenSource
	coord  bot.Coordinator
	clock  bot.Clock
	log    *slog.Logger

	// Rate is the per-channel limit; NewPoster sets ChannelRate(), which
	// also stands in for an invalid Rate. Change it only before first use.
	Rate bot.Rate
	// Wait waits d or until ctx ends, between two tries of the limiter.
	// NewPoster sets a real timer; tests that drive the coordinator with
	// a manual clock set a function that moves it. Change it only before
	// first use.
	Wait func(ctx context.Context, d time.Duration) error
}

// NewPoster returns a Poster calling the API at api with the token tokens
// gives for each workspace, limited per channel through coord. clock is
// used to report how long a post waited for the limiter.
func NewPoster(api APIOptions, tokens TokenSource, coord bot.Coordinator, clock bot.Clock, log *slog.Logger) *Poster {
	if api.HTTPClient == nil {
		api.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if clock == nil {
		clock = bot.SystemClock{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poster{api: api, tokens: tokens, coord: coord, clock: clock, log: log, Rate: ChannelRate(), Wait: sleep}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// client returns a Web API client for team's token.
func (p *Poster) client(ctx context.Context, team string) (*goslack.Client, error) {
	if p.tokens == nil {
		return nil, fmt.Errorf("slack team %s: no token source: %w", team, bot.ErrPermanent)
	}
	token, err := p.tokens(ctx, team)
	if err != nil {
		return nil, fmt.Errorf("slack token for team %s: %w", team, err)
	}
	opts := []goslack.Option{goslack.OptionHTTPClient(p.api.HTTPClient)}
	if p.api.URL != "" {
		opts = append(opts, goslack.OptionAPIURL(p.api.URL))
	}
	return goslack.New(token, opts...), nil
}

// Post sends m once to community's Slack workspace and returns its channel
// and timestamp: a Public message to m.Channel.ID, a Direct one to the DM
// channel of m.To.Ref.ID (opened with conversations.open). A non-empty key
// is attached as message metadata (MetadataEventType, {"key": key}) so that
// Find can tell later whether an uncertain post landed. Post waits for the
// per-channel limiter, respecting ctx, and never retries: errors are a
// *bot.RateLimitedError (Slack's 429 or "ratelimited"), wrap bot.ErrPermanent
// (channel_not_found, not_in_channel, is_archived, invalid_auth, …, named in
// the message), wrap bot.ErrUncertain (5xx, timeout, connection lost after
// the request was sent), or are transient. A wait for the limiter that
// would outlast ctx's deadline is not started: Post returns a
// *bot.RateLimitedError at once instead.
func (p *Poster) Post(ctx context.Context, community bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, error) {
	api, err := p.client(ctx, community.ID)
	if err != nil {
		return bot.MessageRef{}, fmt.Errorf("slack post: %w", err)
	}
	channel, cachedDM, err := p.target(ctx, api, community.ID, m)
	if err != nil {
		return bot.MessageRef{}, fmt.Errorf("slack post: %w", err)
	}
	if err := p.take(ctx, channel); err != nil {
		return bot.MessageRef{}, fmt.Errorf("slack post to %s: %w", channel, err)
	}
	opts := []goslack.MsgOption{
		goslack.MsgOptionText(Fallback(m), false),
		goslack.MsgOptionBlocks(Blocks(m)...),
	}
	if key != "" {
		opts = append(opts, goslack.MsgOptionMetadata(goslack.SlackMetadata{
			EventType: MetadataEventType, EventPayload: map[string]any{"key": key},
		}))
	}
	if err := ctx.Err(); err != nil {
		return bot.MessageRef{}, fmt.Errorf("slack post to %s: %w", channel, err)
	}
	ch, ts, err := api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		var se goslack.SlackErrorResponse
		if cachedDM != "" && errors.As(err, &se) && se.Err == "channel_not_found" {
			// The DM channel remembered for this member is gone: forget
			// it, and let the retry open the DM afresh.
			_ = p.coord.Delete(ctx, cachedDM)
			return bot.MessageRef{}, fmt.Errorf("slack chat.postMessage to %s: remembered DM channel not found", channel)
		}
		return bot.MessageRef{}, classify("slack chat.postMessage to "+channel, err, true)
	}
	if ch == "" {
		ch = channel
	}
	return bot.MessageRef{Channel: ch, ID: ts}, nil
}

// Find looks once in the recent history (the last 50 messages) of m's
// channel, or of the DM channel for a Direct message, for a message whose
// metadata carries key. It needs channels:history / groups:history / im:history.
func (p *Poster) Find(ctx context.Context, community bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, bool, error) {
	if key == "" {
		return bot.MessageRef{}, false, nil
	}
	api, err := p.client(ctx, community.ID)
	if err != nil {
		return bot.MessageRef{}, false, fmt.Errorf("slack find: %w", err)
	}
	channel, _, err := p.target(ctx, api, community.ID, m)
	if err != nil {
		return bot.MessageRef{}, false, fmt.Errorf("slack find: %w", err)
	}
	h, err := api.GetConversationHistoryContext(ctx, &goslack.GetConversationHistoryParameters{
		ChannelID: channel, Limit: historyLimit, IncludeAllMetadata: true,
	})
	if err != nil {
		return bot.MessageRef{}, false, classify("slack conversations.history of "+channel, err, false)
	}
	for _, msg := range h.Messages {
		if msg.Metadata.EventType != MetadataEventType {
			continue
		}
		if k, _ := msg.Metadata.EventPayload["key"].(string); k == key {
			return bot.MessageRef{Channel: channel, ID: msg.Timestamp}, true, nil
		}
	}
	return bot.MessageRef{}, false, nil
}

// Ephemeral shows m to user only, in channel (chat.postEphemeral). It does
// not take the channel limiter (ephemeral messages are not posts) and never
// retries; errors are classified as Post's.
func (p *Poster) Ephemeral(ctx context.Context, team, channel, user string, m bot.Message) error {
	api, err := p.client(ctx, team)
	if err != nil {
		return fmt.Errorf("slack ephemeral: %w", err)
	}
	_, err = api.PostEphemeralContext(ctx, channel, user,
		goslack.MsgOptionText(Fallback(m), false), goslack.MsgOptionBlocks(Blocks(m)...))
	if err != nil {
		return classify("slack chat.postEphemeral to "+channel, err, false)
	}
	return nil
}

// target returns the channel m goes to: its channel, or the DM channel of
// its recipient in team. cachedDM is the cache key the DM channel was
// remembered under, when it came from there.
func (p *Poster) target(ctx context.Context, api *goslack.Client, team string, m bot.Message) (channel, cachedDM string, err error) {
	if m.Visibility == bot.Direct {
		return p.openDM(ctx, api, team, m.To.Ref.ID)
	}
	if m.Channel.ID == "" {
		return "", "", fmt.Errorf("message has no channel: %w", bot.ErrPermanent)
	}
	return m.Channel.ID, "", nil
}

// dmCacheKind names the shared cache of members' DM channel ids, and dmTTL
// is how long one is kept: a DM channel between the bot and a member does
// not change, and conversations.open is a Tier 3 method.
const (
	dmCacheKind = "slack-dm"
	dmTTL       = 7 * 24 * time.Hour
)

// openDM returns the DM channel with user of team, from the coordinator's
// cache (then cachedDM is its key) or else from conversations.open, whose
// answer it remembers for dmTTL. The cache is best effort: its failures only
// cost a conversations.open.
func (p *Poster) openDM(ctx context.Context, api *goslack.Client, team, user string) (channel, cachedDM string, err error) {
	if user == "" {
		return "", "", fmt.Errorf("direct message has no recipient: %w", bot.ErrPermanent)
	}
	key := p.coord.Keys().Cache(dmCacheKind, team+"-"+user)
	if b, ok, err := p.coord.Get(ctx, key); err == nil && ok && len(b) > 0 {
		return string(b), key, nil
	}
	ch, _, _, err := api.OpenConversationContext(ctx, &goslack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return "", "", classify("slack conversations.open with "+user, err, false)
	}
	if ch == nil || ch.ID == "" {
		return "", "", fmt.Errorf("slack conversations.open with %s: no channel in the answer", user)
	}
	if err := p.coord.Set(ctx, key, []byte(ch.ID), dmTTL); err != nil {
		p.log.Debug("slack DM channel not cached", "user", user, "err", err)
	}
	return ch.ID, "", nil
}

// sendReserve is the time a post keeps for chat.postMessage itself: the
// limiter is not waited for when its wait would leave less than this
// before the caller's deadline.
const sendReserve = 5 * time.Second

// take waits until the shared per-channel limiter lets one more post
// through. When the wait would run past ctx's deadline (less sendReserve),
// it does not wait but returns a *bot.RateLimitedError, so that the caller
// (the outbox) defers the post rather than spending an attempt on it or
// posting with no time left to hear the answer. When the coordinator fails,
// the post goes ahead (Slack's own 429 is the backstop) rather than being
// held back.
func (p *Poster) take(ctx context.Context, channel string) error {
	key := p.coord.Keys().Limit(limitKind, channel)
	rate := p.Rate
	if rate.Validate() != nil {
		rate = ChannelRate()
	}
	start := p.clock.Now()
	waited := false
	for {
		d, err := p.coord.Allow(ctx, key, rate)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Warn("slack channel limiter unavailable; posting unlimited", "channel", channel, "err", err)
			return nil
		}
		if d.Allowed {
			if waited {
				p.log.Debug("slack post waited for the channel limit", "channel", channel, "waited", p.clock.Now().Sub(start))
			}
			return nil
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d.RetryAfter+sendReserve {
			return &bot.RateLimitedError{RetryAfter: d.RetryAfter}
		}
		waited = true
		if err := p.Wait(ctx, d.RetryAfter); err != nil {
			return fmt.Errorf("waiting for the channel limit: %w", err)
		}
	}
}

// permanentErrors are Slack error codes that no retry can fix: the post
// cannot succeed as it is, and the organisers are told.
var permanentErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true,
	"token_revoked": true, "token_expired": true, "no_permission": true,
	"missing_scope": true, "not_allowed_token_type": true, "ekm_access_denied": true,
	"team_access_not_granted": true, "org_login_required": true, "team_not_found": true,
	"user_not_found": true, "user_not_visible": true, "user_disabled": true,
	"users_not_found": true, "cannot_dm_bot": true, "messages_tab_disabled": true,
	"restricted_action": true, "restricted_action_read_only_channel": true,
	"restricted_action_thread_only_channel": true, "restricted_action_non_threadable_channel": true,
	"invalid_blocks": true, "invalid_blocks_format": true, "msg_too_long": true,
	"no_text": true, "too_many_attachments": true, "invalid_metadata_format": true,
	"invalid_metadata_schema": true, "metadata_too_large": true, "metadata_must_be_sent_from_app": true,
	"channel_is_archived": true, "invalid_arguments": true, "method_deprecated": true,
	"not_allowed": true, "is_bot": true, "file_not_found": true, "invalid_channel": true,
}

// uncertainErrors are Slack error codes that say the operation may have
// partly succeeded ("likely a transient issue on our end"): for the call
// that posts, the outcome is unknown. Not request_timeout: it says the POST
// data arrived missing or truncated, so nothing was posted and the error is
// transient.
var uncertainErrors = map[string]bool{
	"internal_error": true, "fatal_error": true, "service_unavailable": true,
}

// classify turns a slack-go error into the Poster contract's error kinds.
// sent says whether the failed call was the one that posts (its lost
// answer leaves the outcome unknown); other calls failed before anything
// was posted. The message names op; tokens never appear in slack-go's errors.
func classify(op string, err error, sent bool) error {
	var rl *goslack.RateLimitedError
	if errors.As(err, &rl) {
		return fmt.Errorf("%s: %w", op, &bot.RateLimitedError{RetryAfter: rl.RetryAfter})
	}
	var se goslack.SlackErrorResponse
	if errors.As(err, &se) {
		switch {
		case se.Err == "ratelimited":
			return fmt.Errorf("%s: %w", op, &bot.RateLimitedError{RetryAfter: ratelimitedRetry})
		case permanentErrors[se.Err]:
			return fmt.Errorf("%s: slack error %s: %w", op, se.Err, bot.ErrPermanent)
		case sent && uncertainErrors[se.Err]:
			return fmt.Errorf("%s: slack error %s: %w", op, se.Err, bot.ErrUncertain)
		}
		return fmt.Errorf("%s: slack error %s", op, se.Err)
	}
	if !sent {
		return fmt.Errorf("%s: %w", op, err)
	}
	var sc goslack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code >= 500 {
			return fmt.Errorf("%s: %w: %w", op, err, bot.ErrUncertain)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if notSent(err) {
		return fmt.Errorf("%s: %w", op, err)
	}
	// A timeout, a connection lost after the request went out, or an
	// answer that could not be read: Slack may have posted it.
	return fmt.Errorf("%s: %w: %w", op, err, bot.ErrUncertain)
}

// notSent reports whether err says the request never reached Slack: the
// connection could not be made.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	// EOF and resets after the request was written are uncertain, and so
	// is a 200 whose body could not be read.
	return false
}
