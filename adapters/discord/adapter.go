// Package discord is the Discord adapter: application commands, buttons and
// modals arriving over the gateway or the HTTP interactions endpoint become
// bot.Requests; replies become embeds and components; scheduled and public
// posts go out through a rate-limited Poster. discordgo stays inside this
// package.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// Connection modes (Config.Mode).
const (
	ModeGateway = "gateway"
	ModeHTTP    = "http"
)

// DefaultAckWithin is how long an interaction waits for the engine before it
// is deferred; Discord drops an interaction not answered within 3 seconds.
const DefaultAckWithin = 2 * time.Second

// guildCacheTTL is how long a guild's owner and name are cached; a failed
// look-up is cached for guildMissTTL so a broken guild fetch cannot turn
// every interaction into a REST call.
const (
	guildCacheTTL = time.Hour
	guildMissTTL  = time.Minute
	guildFetch    = time.Second
	// guildLocalTTL is how long a replica keeps a guild's owner and name
	// in process, in front of the shared cache: one round trip to Redis
	// fewer per interaction, at most this much staler than the shared entry.
	guildLocalTTL = time.Minute
)

// localGuild is a guild's info kept in process until a time.
type localGuild struct {
	info  guildInfo
	until time.Time
}

// Config is the Discord adapter's configuration.
type Config struct {
	// BotToken is the bot's token (secret; never logged).
	BotToken string
	// ApplicationID is the application's numeric id.
	ApplicationID string
	// PublicKey is the application's hex Ed25519 public key, which verifies
	// HTTP interactions. Required in ModeHTTP.
	PublicKey string
	// Mode is ModeGateway (default) or ModeHTTP: where interactions arrive.
	// Commands are registered, and replies sent, over REST in both.
	Mode string
	// ShardID and ShardCount shard the gateway (Discord requires sharding
	// from 2,500 guilds); ShardCount 0 means 1.
	ShardID    int
	ShardCount int
	// GuildID registers commands in that guild only (instant; development)
	// instead of globally.
	GuildID string
	// MembersIntent asks for the privileged server members intent: members
	// joining are welcomed and members leaving drop off boards.
	MembersIntent bool
	// AckWithin is how long to wait for the engine before deferring an
	// interaction; 0 means DefaultAckWithin. Keep it well under 3 s.
	AckWithin time.Duration
}

// Deps are the adapter's collaborators.
type Deps struct {
	Engine *bot.Engine
	Coord  bot.Coordinator
	Clock  bot.Clock
	Log    *slog.Logger
	// Rejected, when set, is told the reason (a Reject constant) of every
	// HTTP interaction refused before it was parsed.
	Rejected func(reason string)
	// State keeps the registered commands' hash (*storage.Store; see
	// StateStore in register.go).
	State StateStore
	// HTTPClient, when set, carries every REST call (tests point it at
	// fakediscord); nil uses discordgo's default client.
	HTTPClient *http.Client
}

// Adapter connects one Discord application to the engine. Build it with
// New; it is safe for concurrent use.
type Adapter struct {
	cfg       Config
	engine    *bot.Engine
	coord     bot.Coordinator
	clock     bot.Clock
	log       *slog.Logger
	rejected  func(string)
	session   *discordgo.Session
	poster    *Poster
	registrar *Registrar
	verify    verifier
	ackWithin time.Duration

	// inflight tracks work that outlives an interaction's initial
	// response (deferred completions, posts); Run waits for it on exit.
	inflight sync.WaitGroup
	// guilds keeps guild id → localGuild (see guildLocalTTL).
	guilds sync.Map
}

// New checks cfg and builds the adapter and its REST session; it connects
// nothing until Run.
func New(cfg Config, d Deps) (*Adapter, error) {
	switch {
	case d.Engine == nil || d.Coord == nil || d.Clock == nil || d.Log == nil || d.State == nil:
		return nil, errors.New("discord: Engine, Coord, Clock, Log and State are required")
	case cfg.BotToken == "":
		return nil, errors.New("discord: bot token is required")
	case cfg.ApplicationID == "" || !isSnowflake(cfg.ApplicationID):
		return nil, errors.New("discord: application id must be the numeric application id")
	case cfg.ShardCount < 0 || cfg.ShardID < 0 || (cfg.ShardCount > 0 && cfg.ShardID >= cfg.ShardCount):
		return nil, fmt.Errorf("discord: shard %d of %d is not valid", cfg.ShardID, cfg.ShardCount)
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeGateway
	}
	if cfg.Mode != ModeGateway && cfg.Mode != ModeHTTP {
		return nil, fmt.Errorf("discord: mode must be %q or %q, got %q", ModeGateway, ModeHTTP, cfg.Mode)
	}
	if cfg.ShardCount == 0 {
		cfg.ShardCount = 1
	}
	if cfg.AckWithin <= 0 {
		cfg.AckWithin = DefaultAckWithin
	}
	a := &Adapter{cfg: cfg, engine: d.Engine, coord: d.Coord, clock: d.Clock, log: d.Log, rejected: d.Rejected, ackWithin: cfg.AckWithin}
	if cfg.PublicKey != "" {
		key, err := parsePublicKey(cfg.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("discord: %w", err)
		}
		a.verify = verifier{key: key, now: d.Clock.Now}
	} else if cfg.Mode == ModeHTTP {
		return nil, errors.New("discord: public key is required in http mode")
	}
	s, err := discordgo.New("Bot " + cfg.BotToken)
	if err != nil {
		return nil, fmt.Errorf("discord: session: %w", err)
	}
	if d.HTTPClient != nil {
		s.Client = d.HTTPClient
	}
	s.ShardID, s.ShardCount = cfg.ShardID, cfg.ShardCount
	s.Identify.Intents = discordgo.IntentsGuilds
	if cfg.MembersIntent {
		s.Identify.Intents |= discordgo.IntentsGuildMembers
	}
	a.session = s
	a.poster = NewPoster(s, d.Coord, d.Clock, d.Log)
	a.registrar = NewRegistrar(s, cfg.ApplicationID, cfg.GuildID, d.State, d.Coord, d.Clock, d.Log)
	return a, nil
}

// Poster returns the adapter's outbound Poster for the scheduler.
func (a *Adapter) Poster() bot.Poster { return a.poster }

// Routes mounts POST /discord/interactions when a public key is
// configured (required in ModeHTTP; harmless in ModeGateway, where Discord
// sends nothing there).
func (a *Adapter) Routes(mount func(pattern string, h http.Handler)) {
	if a.verify.key == nil {
		return
	}
	mount("POST /discord/interactions", http.HandlerFunc(a.serveInteractions))
}

// Run registers the commands when they changed and, in ModeGateway, holds
// the gateway connection (discordgo reconnects and resumes by itself). It
// returns nil when ctx ends, after the work of interactions already
// answered is done, or an error when the gateway cannot be opened.
func (a *Adapter) Run(ctx context.Context) error {
	defer a.inflight.Wait()
	if a.cfg.Mode == ModeHTTP {
		a.ensureCommands(ctx)
		<-ctx.Done()
		return nil
	}
	for _, remove := range []func(){
		a.session.AddHandler(func(_ *discordgo.Session, e *discordgo.Ready) { a.onReady(ctx, e) }),
		a.session.AddHandler(func(_ *discordgo.Session, e *discordgo.InteractionCreate) { a.onInteraction(ctx, e) }),
		a.session.AddHandler(func(_ *discordgo.Session, e *discordgo.GuildMemberAdd) { a.onMemberAdd(ctx, e) }),
		a.session.AddHandler(func(_ *discordgo.Session, e *discordgo.GuildMemberRemove) { a.onMemberRemove(ctx, e) }),
	} {
		defer remove()
	}
	if err := a.session.Open(); err != nil {
		return fmt.Errorf("discord gateway: %w", scrub(err, a.cfg.BotToken))
	}
	a.log.Info("discord gateway open", "shard", a.cfg.ShardID, "shards", a.cfg.ShardCount, "members_intent", a.cfg.MembersIntent)
	<-ctx.Done()
	if err := a.session.Close(); err != nil {
		a.log.Warn("discord gateway close", "err", scrub(err, a.cfg.BotToken))
	}
	return nil
}

// ensureCommands registers the commands when the schema changed.
func (a *Adapter) ensureCommands(ctx context.Context) {
	registered, err := a.registrar.Ensure(ctx)
	if err != nil {
		a.log.Error("discord command registration failed", "err", scrub(err, a.cfg.BotToken))
		return
	}
	if registered {
		a.log.Info("discord commands registered", "guild", a.cfg.GuildID)
	}
}

// interaction dispatches one interaction by type. It returns after the
// initial response was sent (at most about a.ackWithin later).
func (a *Adapter) interaction(ctx context.Context, i *discordgo.Interaction, respond respondFunc, viaHTTP bool) {
	switch i.Type {
	case discordgo.InteractionPing:
		a.logRespond(i, respond(&discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong}))
	case discordgo.InteractionApplicationCommand:
		a.command(ctx, i, respond, viaHTTP)
	case discordgo.InteractionApplicationCommandAutocomplete:
		a.autocomplete(ctx, i, respond)
	case discordgo.InteractionMessageComponent:
		a.component(ctx, i, respond, viaHTTP)
	case discordgo.InteractionModalSubmit:
		a.modal(ctx, i, respond, viaHTTP)
	default:
		a.log.Warn("discord interaction of unknown type", "interaction", i.ID, "type", int(i.Type))
	}
}

// guildInfo returns the guild's owner and name: from the gateway state,
// else the coordination cache, else a guild fetch (cached). Failures yield
// an empty guildInfo: the member is then an organiser only through their
// permissions.
func (a *Adapter) guildInfo(ctx context.Context, guildID string) guildInfo {
	if guildID == "" {
		return guildInfo{}
	}
	if g, err := a.session.State.Guild(guildID); err == nil && g.OwnerID != "" {
		return guildInfo{OwnerID: g.OwnerID, Name: g.Name}
	}
	now := a.clock.Now()
	if v, ok := a.guilds.Load(guildID); ok && now.Before(v.(localGuild).until) {
		return v.(localGuild).info
	}
	key := a.coord.Keys().Cache("discord-guild", guildID)
	if b, ok, err := a.coord.Get(ctx, key); err == nil && ok {
		owner, name, _ := strings.Cut(string(b), "\n")
		info := guildInfo{OwnerID: owner, Name: name}
		a.guilds.Store(guildID, localGuild{info: info, until: now.Add(guildLocalTTL)})
		return info
	}
	fctx, cancel := context.WithTimeout(ctx, guildFetch)
	defer cancel()
	info, ttl := guildInfo{}, guildCacheTTL
	// No retries: discordgo would sleep out a 429's retry_after (or a 502)
	// ignoring fctx, holding the interaction past its 3 seconds.
	if g, err := a.session.Guild(guildID, discordgo.WithContext(fctx), discordgo.WithRetryOnRatelimit(false), discordgo.WithRestRetries(0)); err != nil {
		a.log.Debug("discord guild fetch failed", "guild", guildID, "err", scrub(err, a.cfg.BotToken))
		ttl = guildMissTTL
	} else {
		info = guildInfo{OwnerID: g.OwnerID, Name: g.Name}
	}
	if err := a.coord.Set(ctx, key, []byte(info.OwnerID+"\n"+info.Name), ttl); err != nil {
		a.log.Debug("discord guild cache", "guild", guildID, "err", err)
	}
	a.guilds.Store(guildID, localGuild{info: info, until: now.Add(min(ttl, guildLocalTTL))})
	return info
}

func (a *Adapter) reject(reason string) {
	if a.rejected != nil {
		a.rejected(reason)
	}
}

// scrub hides the bot token in an error's text, should a library ever put
// it there; the error chain is kept for errors.Is/As.
func scrub(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(err.Error(), token, "[redacted]"), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
