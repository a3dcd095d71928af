// Command missionbot runs the missionbot Slack and Discord bot, its console,
// and its database migrations.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/missionbot/missionbot/adapters/console"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/config"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root(os.Stdin, os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "missionbot:", err)
		os.Exit(1)
	}
}

func root(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:           "missionbot",
		Short:         "A Slack and Discord bot for mission-driven communities",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.PersistentFlags().StringVarP(&configPath, "config", "c", os.Getenv(config.PathEnv), "configuration file (YAML; see config.example.yaml); default: built-in defaults")
	load := func() (*config.Config, error) { return config.LoadEnviron(configPath, os.Environ()) }
	cmd.AddCommand(consoleCmd(load), discordCmd(load), healthcheckCmd(load), migrateCmd(load), serveCmd(load), slackCmd(), versionCmd())
	return cmd
}

func newLogger(w io.Writer, cfg *config.Config, text bool) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if text || cfg.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func storageOptions(cfg *config.Config) storage.Options {
	return storage.Options{
		Driver: cfg.Database.Driver, Path: cfg.Database.Path, DSN: cfg.Database.DSN, MaxOpenConns: cfg.Database.MaxOpenConns,
		Defaults: storage.Defaults{Timezone: cfg.Community.DefaultTimezone, KudosPerDay: cfg.Community.DefaultKudosPerDay, RetentionDays: cfg.Community.DefaultRetentionDays},
	}
}

func consoleCmd(load func() (*config.Config, error)) *cobra.Command {
	var (
		now    string
		dbPath string
	)
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Try missionbot in the terminal: act as members and organisers of one community",
		Long: `The console runs the same core as Slack and Discord on the embedded SQLite store.
Type commands as members would (/pledge 10 trees to plant-1000-trees) and directives
(!as alice, !organiser olive, !channel wins, !now, !advance 7d, !click Join, !help).
With stdin not a terminal it reads a script line by line and exits at its end.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			start := time.Now().UTC()
			if now != "" {
				if start, err = parseNow(now); err != nil {
					return err
				}
			}
			opts := storageOptions(cfg)
			if dbPath != "" {
				opts.Driver, opts.Path = "sqlite", dbPath
			}
			log := newLogger(cmd.ErrOrStderr(), cfg, true)
			store, err := storage.Open(cmd.Context(), opts)
			if err != nil {
				return err
			}
			defer store.Close()
			clock := bot.NewManualClock(start)
			engine := app.Engine(store, clock, log)
			sched := scheduler.New(store, scheduler.NewConsolePoster(), app.Producers(store), clock, log)
			c := console.New(engine, store, sched, clock, cmd.OutOrStdout())
			interactive := false
			if f, ok := cmd.InOrStdin().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				interactive = true
				fmt.Fprintf(cmd.OutOrStdout(), "missionbot console — you are %q, an organiser, in #general. Try /missionbot help or !help. Ctrl-D quits.\n", console.DefaultMember)
			}
			err = c.Run(cmd.Context(), cmd.InOrStdin(), interactive)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	cmd.Flags().StringVar(&now, "now", "", "start the console clock at this time (2026-12-01T09:00, UTC); default: the real time")
	cmd.Flags().StringVar(&dbPath, "db", "", "SQLite database file (default: database.path from the config, ./missionbot.db)")
	return cmd
}

func parseNow(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339, "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--now %q: use 2026-12-01T09:00 (UTC)", s)
}

func migrateCmd(load func() (*config.Config, error)) *cobra.Command {
	var status bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations (they also run on start)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			store, err := storage.Connect(storageOptions(cfg))
			if err != nil {
				return err
			}
			defer store.Close()
			out := cmd.OutOrStdout()
			if !status {
				applied, err := store.Migrate(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "applied %d migration(s)\n", len(applied))
			}
			list, err := store.Migrations(cmd.Context())
			if err != nil {
				return err
			}
			for _, m := range list {
				state := "pending"
				if !m.AppliedAt.IsZero() {
					state = "applied " + m.AppliedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(out, "%4d  %-30s %s\n", m.Version, m.Name, state)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&status, "status", false, "only show which migrations are applied")
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(cmd *cobra.Command, _ []string) {
			rev := ""
			if info, ok := debug.ReadBuildInfo(); ok {
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" && len(s.Value) >= 12 {
						rev = " (" + s.Value[:12] + ")"
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "missionbot %s%s\n", version, rev)
		},
	}
}
