package app

import (
	"fmt"
	"log/slog"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/config"
	"github.com/missionbot/missionbot/coordination/fallback"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/coordination/redis"
)

// Coordination returns the coordinator cfg asks for and a function that
// reports whether it is degraded.
//
// With cfg.URL empty it is in-process (coordination/memory): exact for one
// replica, never degraded. Otherwise it is Redis under cfg.Prefix, wrapped by
// coordination/fallback so that members are still served from an in-process
// coordinator while Redis is down; degraded then reports that state, and log
// gets one line when it begins and one when it ends. Coordination does not
// connect: the first call (or Ping) does.
//
// Choosing Redis also silences go-redis's own process-wide logger, which
// would write to stderr past the redacting logger.
//
// The caller owns the coordinator and closes it after everything using it
// has stopped. The error, about a malformed URL, never holds the URL.
func Coordination(cfg config.Redis, log *slog.Logger, onRedisError func(error)) (bot.Coordinator, func() bool, error) {
	if cfg.URL == "" {
		return memory.New(memory.Options{Prefix: cfg.Prefix}), func() bool { return false }, nil
	}
	redis.SilenceClientLog()
	primary, err := redis.New(redis.Options{URL: cfg.URL, Prefix: cfg.Prefix})
	if err != nil {
		return nil, nil, fmt.Errorf("coordination: %w", err)
	}
	c := fallback.New(fallback.Options{
		Primary:  primary,
		Fallback: memory.New(memory.Options{Prefix: cfg.Prefix}),
		Logger:   log,
		OnError:  onRedisError,
	})
	return c, c.Degraded, nil
}
