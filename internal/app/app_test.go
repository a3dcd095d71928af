package app_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

// TestEveryCommandHasAHandler fails when the schema names a subcommand that
// no area handles.
func TestEveryCommandHasAHandler(t *testing.T) {
	e := app.Engine(testdb.Open(t, "sqlite"), bot.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if missing := e.Missing(); len(missing) > 0 {
		t.Fatalf("subcommands without a handler: %v", missing)
	}
}

func appEngine(s *storage.Store, log *slog.Logger) *bot.Engine {
	return app.Engine(s, bot.SystemClock{}, log)
}

type kickCounter struct{ n int }

func (k *kickCounter) Kick() { k.n++ }

func TestKickAfterCommandsKicksOnSuccessOnly(t *testing.T) {
	var seen []string
	k := &kickCounter{}
	o := app.KickAfterCommands(func(o bot.Observation) { seen = append(seen, o.Outcome) }, k)
	for _, outcome := range []string{bot.OutcomeOK, bot.OutcomeRejected, bot.OutcomeDuplicate, bot.OutcomeOK} {
		o(bot.Observation{Command: "log", Outcome: outcome})
	}
	if k.n != 2 || len(seen) != 4 {
		t.Fatalf("kicks %d, observations passed on %d; want 2, 4", k.n, len(seen))
	}
	app.KickAfterCommands(nil, k)(bot.Observation{Outcome: bot.OutcomeOK})
	if k.n != 3 {
		t.Fatalf("kicks %d with no next observer, want 3", k.n)
	}
}
