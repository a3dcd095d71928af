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
