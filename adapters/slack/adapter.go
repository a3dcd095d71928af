// Package slack is missionbot's Slack adapter: it verifies and converts
// slash commands, Events API deliveries and interactions (over HTTP or
// Socket Mode) into bot.Requests, runs them through the engine within
// Slack's three seconds, renders the replies as Block Kit, posts through a
// rate-limited Poster, and installs into workspaces with OAuth v2.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
)

// DefaultAPIURL is Slack's Web API base URL (with the trailing slash
// slack.OptionAPIURL needs).
const DefaultAPIURL = "https://slack.com/api/"

// DefaultAuthorizeURL is where /slack/install sends the installer.
const DefaultAuthorizeURL = "https://slack.com/oauth/v2/authorize"

// Defaults of Config's durations.
const (
	DefaultAckWithin    = 2 * time.Second
	DefaultWorkTimeout  = 30 * time.Second
	DefaultUserCacheTTL = 5 * time.Minute
)

// Config is the Slack adapter's settings. Secrets (tokens, the signing
// secret, the client secret, the encryption key) are never logged.
type Config struct {
	// SigningSecret verifies HTTP requests; without it the signed
	// endpoints are not mounted.
	SigningSecret string
	// BotToken (xoxb-…) is the one workspace's token; with OAuth it is
	// the fallback for workspaces that have no stored installation.
	BotToken string
	// SocketMode receives everything over Socket Mode with AppToken
	// (xapp-…) instead of signed HTTP requests.
	SocketMode bool
	AppToken   string
	// ClientID and ClientSecret enable the OAuth v2 install flow;
	// PublicURL is the https base URL Slack redirects back to, and
	// EncryptionKey (32 bytes as base64 or hex; any other text is
	// stretched with SHA-256) seals stored tokens with AES-GCM.
	ClientID      string
	ClientSecret  string
	PublicURL     string
	EncryptionKey string
	// Scopes are the bot scopes /slack/install asks for (default
	// DefaultScopes()).
	Scopes []string

	// APIURL is the Web API base (default DefaultAPIURL; tests point it at
	// a fake, with the trailing slash). AuthorizeURL is Slack's OAuth
	// authorize page (default DefaultAuthorizeURL).
	APIURL       string
	AuthorizeURL string
	// HTTPClient makes every call to Slack (default: a client with a 10 s
	// timeout).
	HTTPClient *http.Client

	// AckWithin is how long a slash command may run before it is
	// acknowledged and completed through response_url (default 2 s; Slack
	// allows 3).
	AckWithin time.Duration
	// WorkTimeout bounds the background work of one delivery (default 30 s).
	WorkTimeout time.Duration
	// MaxBody is the largest signed body read (default DefaultMaxBody).
	MaxBody int64
	// UserCacheTTL is how long a member's users.info answer (admin flag,
	// name) is kept (default 5 min); TokenCacheTTL the same for a
	// workspace's opened token (default 1 min).
	UserCacheTTL  time.Duration
	TokenCacheTTL time.Duration
}

// DefaultScopes returns the bot scopes an OAuth install asks for: exactly
// those the manifest (Manifest) declares, so that an install never asks
// for a scope the app lacks nor misses one the adapter uses (im:history for
// Poster.Find on a DM, for one).
func DefaultScopes() []string { return slices.Clone(botScopes) }

// Deps are the services the adapter runs on.
type Deps struct {
	Engine *bot.Engine
	Coord  bot.Coordinator
	Clock  bot.Clock
	Log    *slog.Logger
	// Rejected, when set, is told the reason ("signature", "stale",
	// "too_large") of every request refused before parsing.
	Rejected func(reason string)
	// Installs stores OAuth installations; required with Config.ClientID.
	Installs Installs
}

// Adapter serves one Slack app. Its handlers and Poster are safe for
// concurrent use.
type Adapter struct {
	cfg      Config
	engine   *bot.Engine
	coord    bot.Coordinator
	clock    bot.Clock
	log      *slog.Logger
	rejected func(string)
	installs Installs

	http   *http.Client
	verify verifier
	tokens *tokenCache
	sealer *sealer
	poster *Poster
	users  *userCache

	// wg tracks background work (late replies, events, extra posts), which
	// Run waits for before it returns; once stopping is set, new work is
	// no longer tracked (a WaitGroup may not grow while it is waited on).
	wg       sync.WaitGroup
	bgMu     sync.Mutex
	stopping bool
}

// New checks cfg and builds the adapter. It does not connect anywhere.
func New(cfg Config, d Deps) (*Adapter, error) {
	if d.Engine == nil || d.Coord == nil || d.Log == nil {
		return nil, errors.New("slack adapter: engine, coordinator and logger are required")
	}
	if d.Clock == nil {
		d.Clock = bot.SystemClock{}
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	if cfg.AuthorizeURL == "" {
		cfg.AuthorizeURL = DefaultAuthorizeURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.AckWithin <= 0 {
		cfg.AckWithin = DefaultAckWithin
	}
	if cfg.WorkTimeout <= 0 {
		cfg.WorkTimeout = DefaultWorkTimeout
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.UserCacheTTL <= 0 {
		cfg.UserCacheTTL = DefaultUserCacheTTL
	}
	if cfg.TokenCacheTTL <= 0 {
		cfg.TokenCacheTTL = DefaultTokenCacheTTL
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes()
	}
	if cfg.SocketMode && cfg.AppToken == "" {
		return nil, errors.New("slack adapter: socket mode needs an app token")
	}
	a := &Adapter{cfg: cfg, engine: d.Engine, coord: d.Coord, clock: d.Clock, log: d.Log,
		rejected: d.Rejected, installs: d.Installs, http: cfg.HTTPClient}
	a.verify = verifier{secret: cfg.SigningSecret, now: d.Clock.Now, maxBody: cfg.MaxBody}
	a.tokens = &tokenCache{static: cfg.BotToken, ttl: cfg.TokenCacheTTL, now: d.Clock.Now, entries: map[string]cachedToken{}}
	if cfg.ClientID != "" {
		if cfg.ClientSecret == "" || cfg.PublicURL == "" || d.Installs == nil {
			return nil, errors.New("slack adapter: OAuth needs a client secret, a public URL and an install store")
		}
		s, err := newSealer(cfg.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("slack adapter: %w", err)
		}
		a.sealer = s
		a.tokens.installs, a.tokens.sealer = d.Installs, s
	} else if cfg.BotToken == "" {
		return nil, errors.New("slack adapter: a bot token or OAuth (client id) is required")
	}
	a.poster = NewPoster(APIOptions{URL: cfg.APIURL, HTTPClient: cfg.HTTPClient}, a.tokens.token, d.Coord, d.Clock, d.Log)
	a.users = &userCache{ttl: cfg.UserCacheTTL, now: d.Clock.Now, entries: map[string]userEntry{}, limited: map[string]time.Time{}}
	return a, nil
}

// Routes mounts the adapter's HTTP endpoints: POST /slack/commands,
// /slack/events and /slack/interactivity when a signing secret is set, and
// GET /slack/install and /slack/oauth/callback when OAuth is configured.
func (a *Adapter) Routes(mount func(pattern string, h http.Handler)) {
	if a.cfg.SigningSecret != "" {
		mount("POST /slack/commands", a.verified(a.serveCommand))
		mount("POST /slack/events", a.verified(a.serveEvent))
		mount("POST /slack/interactivity", a.verified(a.serveInteraction))
	}
	if a.cfg.ClientID != "" {
		mount("GET /slack/install", http.HandlerFunc(a.serveInstall))
		mount("GET /slack/oauth/callback", http.HandlerFunc(a.serveCallback))
	}
}

// Run runs Socket Mode when configured (reconnecting until ctx ends) and
// otherwise waits for ctx; either way it then waits for background work
// still running (each bounded by Config.WorkTimeout, and the delivery of
// its reply by deliverWithin) and returns nil.
func (a *Adapter) Run(ctx context.Context) error {
	if a.cfg.SocketMode {
		a.runSocket(ctx)
	} else {
		<-ctx.Done()
	}
	a.bgMu.Lock()
	a.stopping = true
	a.bgMu.Unlock()
	a.wg.Wait()
	return nil
}

// Poster returns the adapter's outbound Poster, for the scheduler.
func (a *Adapter) Poster() bot.Poster { return a.poster }

// api returns a Web API client for team's bot token.
func (a *Adapter) api(ctx context.Context, team string) (*slack.Client, error) {
	tok, err := a.tokens.token(ctx, team)
	if err != nil {
		return nil, err
	}
	return slack.New(tok, slack.OptionAPIURL(a.cfg.APIURL), slack.OptionHTTPClient(a.cfg.HTTPClient)), nil
}

// background runs f in a goroutine Run waits for, with a context that is
// not cancelled with the request but ends after Config.WorkTimeout.
func (a *Adapter) background(ctx context.Context, f func(ctx context.Context)) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.WorkTimeout)
	a.track(func() {
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				a.log.ErrorContext(ctx, "slack background work panicked", "panic", fmt.Sprint(p))
			}
		}()
		f(ctx)
	})
}

// deliverWithin bounds the delivery of a reply once the work that produced
// it is done, however much of Config.WorkTimeout that work used: a command
// that ran out of time still gets its apology.
const deliverWithin = 15 * time.Second

// deliverLater delivers ms for a request from o with its own deadline
// (deliverWithin), not the one of the work that produced them.
func (a *Adapter) deliverLater(ctx context.Context, o *origin, ms []bot.Message) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliverWithin)
	defer cancel()
	a.deliver(ctx, o, ms)
}

// track runs f in a goroutine that Run waits for, unless Run is already
// waiting.
func (a *Adapter) track(f func()) {
	a.bgMu.Lock()
	defer a.bgMu.Unlock()
	if a.stopping {
		go f()
		return
	}
	a.wg.Go(f)
}

// userEntry is what users.info said about one member.
type userEntry struct {
	name  string
	admin bool
	bot   bool
	until time.Time
}

// userCache keeps users.info answers for a while, and when Slack rate
// limited users.info for a workspace, until when. Safe for concurrent use.
type userCache struct {
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]userEntry
	limited map[string]time.Time // team → no users.info before
}

const maxCachedUsers = 50000

// userLookup bounds one users.info call, so a slow Slack never holds a
// command past its acknowledgement budget.
const userLookup = 1500 * time.Millisecond

// user returns what Slack says about user of team: display name, whether
// they are a workspace admin or owner, and whether they are a bot. After a
// 429 it does not ask Slack about team again before its Retry-After. When
// users.info fails (rate limited, slow, down) it answers what it last knew,
// however old, so that a hiccup does not demote an admin; knowing nothing,
// it answers name "" and false flags, not cached.
func (a *Adapter) user(ctx context.Context, team, user string) userEntry {
	key := team + ":" + user
	now := a.users.now()
	a.users.mu.Lock()
	e, ok := a.users.entries[key]
	a.users.mu.Unlock()
	if ok && now.Before(e.until) {
		return e
	}
	stale := e // the zero entry when !ok
	a.users.mu.Lock()
	until, limited := a.users.limited[team]
	a.users.mu.Unlock()
	if limited && now.Before(until) {
		return stale
	}
	ctx, cancel := context.WithTimeout(ctx, userLookup)
	defer cancel()
	api, err := a.api(ctx, team)
	if err != nil {
		a.log.WarnContext(ctx, "slack users.info skipped", "team", team, "err", err, "known", ok)
		return stale
	}
	u, err := api.GetUserInfoContext(ctx, user)
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		// Asking again before Slack's Retry-After only earns more 429s
		// and slows every command down.
		a.users.mu.Lock()
		if len(a.users.limited) >= maxCachedTokens {
			clear(a.users.limited)
		}
		a.users.limited[team] = now.Add(max(rl.RetryAfter, time.Second))
		a.users.mu.Unlock()
	}
	if err != nil {
		a.log.WarnContext(ctx, "slack users.info failed", "team", team, "user", user, "err", err, "known", ok)
		return stale
	}
	name := u.Profile.DisplayName
	if name == "" {
		name = u.RealName
	}
	if name == "" {
		name = u.Name
	}
	e = userEntry{name: name, admin: u.IsAdmin || u.IsOwner || u.IsPrimaryOwner, bot: u.IsBot, until: now.Add(a.users.ttl)}
	a.users.mu.Lock()
	defer a.users.mu.Unlock()
	if len(a.users.entries) >= maxCachedUsers {
		for k, v := range a.users.entries {
			if !now.Before(v.until) {
				delete(a.users.entries, k)
			}
		}
		if len(a.users.entries) >= maxCachedUsers {
			a.users.entries = map[string]userEntry{}
		}
	}
	a.users.entries[key] = e
	return e
}

// enrich sets req's admin flag and user name (the display name members
// see, else the handle Slack sent) from users.info.
func (a *Adapter) enrich(ctx context.Context, req *bot.Request) userEntry {
	u := a.user(ctx, req.Community.ID, req.User.ID)
	req.PlatformAdmin = u.admin
	if u.name != "" {
		req.UserName = u.name
	}
	return u
}
