// Command missionbot-load drives running `missionbot serve` replicas with
// signed Slack slash commands and signed Discord interactions from many
// simulated members across many communities, open-loop at a fixed rate, and
// reports acknowledgement latency, errors and throughput counted on the
// effects stored in the serve's database. `missionbot-load bench` builds the
// binary, starts everything it needs and writes BENCHMARKS.md.
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Environment variables holding the signing secrets, so they stay out of
// process listings.
const (
	envSlackSecret = "MISSIONBOT_LOAD_SLACK_SECRET"
	envDiscordSeed = "MISSIONBOT_LOAD_DISCORD_SEED"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root().ExecuteContext(ctx)
	stop()
	if err != nil {
		os.Exit(1)
	}
}

func root() *cobra.Command {
	r := &cobra.Command{
		Use:           "missionbot-load",
		Short:         "Load and benchmark tool for missionbot serve",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	r.AddCommand(runCmd(), fakesCmd(), benchCmd())
	return r
}

func runCmd() *cobra.Command {
	var (
		urls                             []string
		slackSecret, discordSeed, appID  string
		platforms, mix                   string
		dbDriver, dsn, sqlitePath        string
		fakeSlackAddr, fakeDiscordAddr   string
		communities, members, maxInFlght int
		rate                             float64
		duration, timeout                time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Send signed commands open-loop to running serve replicas and report",
		Long: `run creates a goal in each simulated community (as its organiser), then sends
--rate commands a second for --duration from random members, round-robin over
the --url replicas, without waiting for answers (open loop). It reports the
acknowledgement latency of HTTP 200s (p50/p99/p99.9), errors (non-200s,
transport failures, replies that report a failure) and, with --sqlite or
--db-driver/--dsn, the effects stored for the run's communities.

The Slack signing secret comes from --slack-secret or ` + envSlackSecret + `; the
Discord Ed25519 key seed (64 hex digits) from --discord-key-seed or ` + envDiscordSeed + `.
With --fake-slack/--fake-discord it also serves minimal fake Slack and
Discord APIs on those addresses for the serve's api_url settings.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg := &loadConfig{URLs: urls, SlackPath: "/slack/commands", DiscordPath: "/discord/interactions",
				SlackSecret: firstSet(slackSecret, os.Getenv(envSlackSecret)), DiscordAppID: appID,
				Communities: communities, Members: members, Rate: rate, Duration: duration, RunID: newRunID(),
				Timeout: timeout, MaxInFlight: maxInFlght, ResponseBase: "http://127.0.0.1:9"}
			var err error
			if cfg.Mix, err = parseMix(mix); err != nil {
				return err
			}
			for p := range strings.SplitSeq(platforms, ",") {
				switch p = strings.TrimSpace(p); p {
				case platformSlack, platformDiscord:
					cfg.Platforms = append(cfg.Platforms, p)
				default:
					return fmt.Errorf("--platforms: unknown platform %q (want slack, discord)", p)
				}
			}
			if err := checkRun(cfg); err != nil {
				return err
			}
			if seed := firstSet(discordSeed, os.Getenv(envDiscordSeed)); seed != "" {
				if cfg.DiscordKey, err = discordKey(seed); err != nil {
					return err
				}
			}
			for _, p := range cfg.Platforms {
				if p == platformSlack && cfg.SlackSecret == "" {
					return fmt.Errorf("slack needs the signing secret: --slack-secret or %s", envSlackSecret)
				}
				if p == platformDiscord && cfg.DiscordKey == nil {
					return fmt.Errorf("discord needs the key seed: --discord-key-seed or %s", envDiscordSeed)
				}
			}
			for _, f := range []struct{ platform, addr string }{{platformSlack, fakeSlackAddr}, {platformDiscord, fakeDiscordAddr}} {
				if f.addr == "" {
					continue
				}
				fake, err := startFakeAPI(f.platform, f.addr)
				if err != nil {
					return fmt.Errorf("fake %s API: %w", f.platform, err)
				}
				defer fake.Close()
				if f.platform == platformSlack {
					cfg.ResponseBase = fake.URL()
				}
			}
			var db *database
			switch {
			case sqlitePath != "":
				db, err = openDatabase("sqlite", sqlitePath)
			case dbDriver != "":
				db, err = openDatabase(dbDriver, dsn)
			}
			if err != nil {
				return err
			}
			if db != nil {
				defer db.Close()
			}
			res, err := loadAndCount(ctx, cfg, db, nil)
			if err != nil {
				return err
			}
			printResult(cmd.OutOrStdout(), res)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&urls, "url", []string{"http://127.0.0.1:8080"}, "base URL of a serve replica (repeat or comma-separate for several; used round-robin)")
	f.StringVar(&slackSecret, "slack-secret", "", "Slack signing secret (prefer "+envSlackSecret+")")
	f.StringVar(&discordSeed, "discord-key-seed", "", "Discord Ed25519 private key seed, 64 hex digits (prefer "+envDiscordSeed+"); serve needs its public key")
	f.StringVar(&appID, "discord-app-id", "100000000000000001", "Discord application id in the interactions")
	f.StringVar(&platforms, "platforms", "slack,discord", "platforms the communities alternate between")
	f.StringVar(&mix, "mix", "pledge=4,log=3,win=1,impact=2", "commands and their weights")
	f.IntVar(&communities, "communities", 100, "simulated communities")
	f.IntVar(&members, "members", 50, "simulated members per community (besides its organiser)")
	f.Float64Var(&rate, "rate", 200, "offered rate, requests a second (open loop)")
	f.DurationVar(&duration, "duration", 10*time.Second, "how long to send")
	f.DurationVar(&timeout, "timeout", 10*time.Second, "per-request timeout")
	f.IntVar(&maxInFlght, "max-in-flight", 4096, "concurrent requests at most; more due are counted as skipped")
	f.StringVar(&sqlitePath, "sqlite", "", "the serve's SQLite file, to count stored effects")
	f.StringVar(&dbDriver, "db-driver", "", "sqlite or postgres, with --dsn, to count stored effects")
	f.StringVar(&dsn, "dsn", "", "the serve's database (a postgres:// URL, or a SQLite path)")
	f.StringVar(&fakeSlackAddr, "fake-slack", "", "serve a fake Slack API on this address during the run (e.g. 127.0.0.1:9101)")
	f.StringVar(&fakeDiscordAddr, "fake-discord", "", "serve a fake Discord API on this address during the run")
	return cmd
}

// checkRun validates the sizes of a run.
func checkRun(cfg *loadConfig) error {
	switch {
	case len(cfg.URLs) == 0:
		return errors.New("--url: at least one replica")
	case cfg.Communities < 1 || cfg.Members < 1:
		return errors.New("--communities and --members must be at least 1")
	case cfg.Rate <= 0 || cfg.Duration <= 0:
		return errors.New("--rate and --duration must be positive")
	case cfg.MaxInFlight < 1:
		return errors.New("--max-in-flight must be at least 1")
	}
	for i, u := range cfg.URLs {
		cfg.URLs[i] = strings.TrimRight(u, "/")
	}
	return nil
}

// loadAndCount sets the communities up, calls started (when not nil), runs
// the load and, with db, counts the stored effects once they settle.
func loadAndCount(ctx context.Context, cfg *loadConfig, db *database, started func()) (*result, error) {
	setup, err := setupCommunities(ctx, cfg, db)
	if err != nil {
		return nil, err
	}
	if started != nil {
		started()
	}
	res := runLoad(ctx, cfg)
	res.Setup = setup
	if db != nil {
		var at time.Time
		if res.GotEffects, at, err = settle(ctx, db, cfg.RunID, res.Wanted(), 3*time.Second, time.Minute); err != nil {
			return nil, err
		}
		res.Settled = at.Sub(res.Start)
	}
	return res, nil
}

func fakesCmd() *cobra.Command {
	var slackAddr, discordAddr string
	cmd := &cobra.Command{
		Use:   "fakes",
		Short: "Serve minimal fake Slack and Discord APIs until interrupted",
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := startFakeAPI(platformSlack, slackAddr)
			if err != nil {
				return err
			}
			defer s.Close()
			d, err := startFakeAPI(platformDiscord, discordAddr)
			if err != nil {
				return err
			}
			defer d.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "MISSIONBOT_SLACK_API_URL=%s/api/\nMISSIONBOT_DISCORD_API_URL=%s\n", s.URL(), d.URL())
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&slackAddr, "slack", "127.0.0.1:9101", "address of the fake Slack API")
	cmd.Flags().StringVar(&discordAddr, "discord", "127.0.0.1:9102", "address of the fake Discord API")
	return cmd
}

func firstSet(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// publicKeyHex is the hex public key serve verifies Discord requests with.
func publicKeyHex(k ed25519.PrivateKey) string {
	return fmt.Sprintf("%x", []byte(k.Public().(ed25519.PublicKey)))
}
