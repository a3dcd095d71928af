package impact_test

import (
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/digest"
	"github.com/missionbot/missionbot/bot/impact"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"
)

var areas = []missiontest.Register{func(e *bot.Engine, s *storage.Store) {
	impact.Register(e, s)
	digest.Register(e, s)
}}

// at is a UTC instant in November/December 2026.
func at(month time.Month, day, hour, min int) time.Time { return missiontest.At(month, day, hour, min) }

type fixture = missiontest.ImpactFixture

func seed(t testing.TB, h *missiontest.H) fixture { return missiontest.SeedImpact(t, h) }
