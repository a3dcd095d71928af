package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/missionbot/missionbot/adapters/discord"
	"github.com/missionbot/missionbot/adapters/slack"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/config"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/logging"
	"github.com/missionbot/missionbot/metrics"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/server"
	"github.com/missionbot/missionbot/storage"
)

// Exit statuses of serve besides 0 (clean shutdown) and 1 (an error).
const (
	// exitNotServing means serve refused to start: no platform is enabled,
	// or one is enabled whose adapter this version lacks.
	exitNotServing = 2
	// exitForced means a second SIGINT or SIGTERM ended the process before
	// the graceful shutdown finished.
	exitForced = 130
)

// floodRate is how many requests one member may make: 20 a minute on
// average, 10 at once.
func floodRate() bot.Rate { return bot.Rate{Events: 20, Per: time.Minute, Burst: 10} }

// Delivery records (the database's dedup keys) are kept for deliveryRetention
// and pruned every pruneEvery; platforms stop retrying within minutes.
const (
	deliveryRetention = 2 * bot.DedupTTL
	pruneEvery        = time.Hour
)

// readyPingTimeout bounds the Redis ping made at start.
const readyPingTimeout = 2 * time.Second

func serveCmd(load func() (*config.Config, error)) *cobra.Command {
	var allowNoPlatform bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the bot: platform adapters, /healthz, /readyz and /metrics on one HTTP port",
		Long: `serve runs every enabled platform adapter on the configured store, with
coordination in process (one replica) or on Redis (redis.url; any number of
replicas), and serves /healthz, /readyz and /metrics on http.addr.

SIGINT or SIGTERM shuts it down gracefully: the listener closes, requests in
flight finish (up to http.drain_timeout), then coordination and the store are
closed and it exits 0. A second signal during that forces exit with status 130.

With no platform enabled it says what to set and exits with status 2, unless
--allow-no-platform is given.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			if msg, refuse := platformCheck(cfg, allowNoPlatform); refuse {
				fmt.Fprint(cmd.ErrOrStderr(), msg)
				os.Exit(exitNotServing) // nothing is open yet
			}
			return serve(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&allowNoPlatform, "allow-no-platform", false,
		"serve only /healthz, /readyz and /metrics when no platform is enabled (for infrastructure checks and tests)")
	return cmd
}

// noPlatformHelp is what serve prints when no platform is enabled.
const noPlatformHelp = `missionbot serve: no platform is enabled, so there is nothing to serve.

To serve Slack, set in the config file or the environment:
  slack.enabled: true                 or MISSIONBOT_SLACK_ENABLED=true
  MISSIONBOT_SLACK_BOT_TOKEN          the bot token (xoxb-...)
  MISSIONBOT_SLACK_SIGNING_SECRET     the signing secret, to receive events over HTTP
  or, for Socket Mode (no public URL):
  slack.socket_mode: true             with MISSIONBOT_SLACK_APP_TOKEN (xapp-...)

To serve Discord:
  discord.enabled: true               or MISSIONBOT_DISCORD_ENABLED=true
  MISSIONBOT_DISCORD_BOT_TOKEN        the bot token
  discord.application_id              the numeric application id
  discord.public_key                  only with discord.mode: http

Secrets come only from the environment (see config.example.yaml).

To try missionbot without any token, run:  missionbot console
To serve only /healthz, /readyz and /metrics (infrastructure checks, tests):
  missionbot serve --allow-no-platform
`

// platformCheck says whether serve must refuse to start, and with what
// message: when no platform is enabled and allowNoPlatform is false.
func platformCheck(cfg *config.Config, allowNoPlatform bool) (string, bool) {
	if !cfg.Slack.Enabled && !cfg.Discord.Enabled && !allowNoPlatform {
		return noPlatformHelp, true
	}
	return "", false
}

// serve runs the service until ctx ends or SIGINT or SIGTERM arrives, then
// shuts it down gracefully. A second signal exits the process at once.
func serve(parent context.Context, cfg *config.Config, stderr io.Writer) error {
	log := logging.New(stderr, cfg.Log.Format, cfg.Log.Level, cfg.Secrets())
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan struct{})
	defer close(done) // runs before stop: see forceExit
	go forceExit(ctx, done, log)

	svc, err := newService(ctx, cfg, log)
	if err != nil {
		return err
	}
	err = svc.run(ctx)
	if cerr := svc.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	log.Info("missionbot shut down cleanly")
	return nil
}

// forceExit waits for ctx to end (the first signal), then exits the process
// with exitForced on a second SIGINT or SIGTERM, until done is closed.
func forceExit(ctx context.Context, done <-chan struct{}, log *slog.Logger) {
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	select {
	case <-done: // serve returned first and ended ctx itself
		return
	default:
	}
	force := make(chan os.Signal, 1)
	signal.Notify(force, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(force)
	log.Info("shutting down; a second signal forces exit")
	select {
	case <-done:
	case sig := <-force:
		log.Warn("second signal: exiting before shutdown finished", "signal", sig.String())
		os.Exit(exitForced)
	}
}

// service is everything serve runs, built by newService.
type service struct {
	log     *slog.Logger
	store   *storage.Store
	coord   bot.Coordinator
	engine  *bot.Engine // the core; platform adapters are built on it
	metrics *metrics.Metrics
	server  *server.Server
	// adapters are the enabled platform adapters; each runs until ctx ends.
	adapters []runner
	// sched ticks every minute and posts through the enabled adapters;
	// with none it only enqueues, and rows wait for a replica that can post.
	sched *scheduler.Scheduler
}

// runner is a part of the service that runs until its context ends.
type runner interface {
	Run(ctx context.Context) error
}

// newService opens the store (applying migrations), builds coordination,
// the engine and the HTTP server, and binds the listener. On error it closes
// whatever it opened.
func newService(ctx context.Context, cfg *config.Config, log *slog.Logger) (_ *service, err error) {
	drain := server.DefaultDrainTimeout
	if cfg.HTTP.DrainTimeout != "" {
		if drain, err = time.ParseDuration(cfg.HTTP.DrainTimeout); err != nil {
			return nil, fmt.Errorf("config: http.drain_timeout: %w", err)
		}
	}
	store, err := storage.Open(ctx, storageOptions(cfg))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = store.Close()
		}
	}()
	m := metrics.New()
	coord, degraded, err := app.Coordination(cfg.Redis, log, func(error) { m.RedisError() })
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = coord.Close()
		}
	}()

	mode := "in-process"
	checks := []server.Check{{Name: "database", Ping: store.Ping}}
	if cfg.Redis.URL != "" {
		mode = "redis"
		checks = append(checks, server.Check{Name: "redis", Ping: redisPing(coord), Degraded: degraded})
		// A Redis down at start makes the fallback log it once; serving goes on.
		pctx, cancel := context.WithTimeout(ctx, readyPingTimeout)
		_ = coord.Ping(pctx)
		cancel()
	}

	engine := app.Engine(store, bot.SystemClock{}, log)
	engine.UseCoordination(coord, store, floodRate())

	srv := server.New(cfg.HTTP.Addr, log, m, checks...)
	srv.DrainTimeout = drain
	adapters, posters, err := platformAdapters(cfg, engine, store, coord, m, log)
	if err != nil {
		return nil, err
	}
	for _, a := range adapters {
		a.Routes(srv.Mount)
	}
	if err := srv.Listen(); err != nil {
		return nil, err
	}
	platforms := make([]string, 0, len(posters))
	for p := range posters {
		platforms = append(platforms, string(p))
	}
	slices.Sort(platforms)
	if len(platforms) == 0 {
		platforms = []string{"none"}
	}
	log.Info("missionbot serving", "version", version, "addr", srv.Addr(), "store", cfg.Database.Driver,
		"coordination", mode, "degraded", degraded(), "platforms", strings.Join(platforms, ","),
		"drain_timeout", drain.String())
	var poster bot.Poster
	if len(posters) > 0 {
		poster = posters
	}
	sched := scheduler.New(store, poster, app.Producers(store), bot.SystemClock{}, log)
	sched.Observe = observePosts(m)
	// One replica at a time runs the producers; every replica dispatches.
	sched.Locker, sched.Keys = coord, coord.Keys()
	// What a command enqueued (a milestone celebration) goes out at once.
	engine.Observe(app.KickAfterCommands(observe(m), sched))
	svc := &service{log: log, store: store, coord: coord, engine: engine, metrics: m, server: srv, sched: sched}
	for _, a := range adapters {
		svc.adapters = append(svc.adapters, a)
	}
	return svc, nil
}

// adapter is an enabled platform adapter.
type adapter interface {
	runner
	Routes(mount func(pattern string, h http.Handler))
	Poster() bot.Poster
}

// platformAdapters builds the adapters the configuration enables, and the
// posters the scheduler sends through.
func platformAdapters(cfg *config.Config, engine *bot.Engine, store *storage.Store, coord bot.Coordinator,
	m *metrics.Metrics, log *slog.Logger) ([]adapter, app.Posters, error) {
	var out []adapter
	posters := app.Posters{}
	if s := cfg.Slack; s.Enabled {
		a, err := slack.New(slack.Config{
			SigningSecret: s.SigningSecret, BotToken: s.BotToken, SocketMode: s.SocketMode, AppToken: s.AppToken,
			ClientID: s.ClientID, ClientSecret: s.ClientSecret, PublicURL: s.PublicURL,
			EncryptionKey: cfg.Security.EncryptionKey, APIURL: s.APIURL,
		}, slack.Deps{Engine: engine, Coord: coord, Clock: bot.SystemClock{}, Log: log.With("platform", "slack"),
			Rejected: func(reason string) { m.RequestRejected("slack", reason) }, Installs: store})
		if err != nil {
			return nil, nil, fmt.Errorf("slack: %w", err)
		}
		out = append(out, a)
		posters[bot.Slack] = a.Poster()
	}
	if d := cfg.Discord; d.Enabled {
		deps := discord.Deps{Engine: engine, Coord: coord, Clock: bot.SystemClock{}, Log: log.With("platform", "discord"),
			Rejected: func(reason string) { m.RequestRejected("discord", reason) }, State: store}
		if d.APIURL != "" {
			client, err := rebasedClient(d.APIURL)
			if err != nil {
				return nil, nil, fmt.Errorf("config: discord.api_url: %w", err)
			}
			deps.HTTPClient = client
		}
		a, err := discord.New(discord.Config{
			BotToken: d.BotToken, ApplicationID: d.ApplicationID, PublicKey: d.PublicKey, Mode: d.Mode,
			ShardID: d.ShardID, ShardCount: d.ShardCount, GuildID: d.GuildID, MembersIntent: d.MembersIntent,
		}, deps)
		if err != nil {
			return nil, nil, fmt.Errorf("discord: %w", err)
		}
		out = append(out, a)
		posters[bot.Discord] = a.Poster()
	}
	return out, posters, nil
}

// rebasedClient returns an HTTP client that sends every request to base's
// scheme and host instead (a local fake of a platform's API).
func rebasedClient(base string) (*http.Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("want an http(s) base URL, got %q", base)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: rebase{scheme: u.Scheme, host: u.Host}}, nil
}

// rebase is a transport that rewrites each request's scheme and host.
type rebase struct{ scheme, host string }

func (r rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.scheme, r.host, r.host
	return http.DefaultTransport.RoundTrip(req)
}

// redisPing is the readiness ping of the Redis check. Redis being down is
// not a failure, since members are still served from the in-process
// fallback: the ping marks the coordinator degraded and the check's Degraded
// reports it. Any other error fails the check.
func redisPing(coord bot.Coordinator) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := coord.Ping(ctx); err != nil && !errors.Is(err, bot.ErrUnavailable) {
			return err
		}
		return nil
	}
}

// run serves until ctx ends and every part has stopped, or until one part
// fails, which stops the others.
func (s *service) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.server.Run(gctx) })
	g.Go(func() error { return pruneDeliveries(gctx, s.store, s.log) })
	g.Go(func() error { return s.sched.Run(gctx) })
	for _, a := range s.adapters {
		g.Go(func() error { return a.Run(gctx) })
	}
	return g.Wait()
}

// close closes coordination, then the store. Call it after run returned.
func (s *service) close() error {
	return errors.Join(s.coord.Close(), s.store.Close())
}

// pruneDeliveries forgets old delivery records at start and every
// pruneEvery until ctx ends. A failed prune is logged and tried again at the
// next tick; it returns nil when ctx ends.
func pruneDeliveries(ctx context.Context, store *storage.Store, log *slog.Logger) error {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		n, err := store.ForgetDeliveries(ctx, time.Now().Add(-deliveryRetention))
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn("pruning delivery records failed; trying again later", "err", err)
		case n > 0:
			log.Debug("pruned delivery records", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// observe turns the engine's observations into metrics: every command by
// outcome and latency, deduplicated deliveries, and database failures.
func observe(m *metrics.Metrics) bot.Observer {
	return func(o bot.Observation) {
		m.Command(o.Command, o.Outcome, o.Duration)
		if o.Outcome == bot.OutcomeDuplicate {
			m.DeliveryDeduplicated(string(o.Platform))
		}
		if errors.Is(o.Err, bot.ErrUnavailable) {
			m.DBError()
		}
	}
}

// observePosts turns the scheduler's recorded outcomes into metrics: posts
// by platform and outcome, and how late sent posts went out.
func observePosts(m *metrics.Metrics) func(bot.Platform, string, time.Duration) {
	return func(p bot.Platform, outcome string, lag time.Duration) {
		switch outcome {
		case "sent":
			m.Post(string(p), metrics.PostSent)
			m.SchedulerLag(lag)
		case "deferred":
			m.Post(string(p), metrics.PostRateLimited)
		case "failed", "unknown":
			m.Post(string(p), metrics.PostFailed)
		}
	}
}
