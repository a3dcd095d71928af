package fault

import (
	"testing"

	"github.com/missionbot/missionbot/internal/testredis"
)

// Redis is a private redis-server on its own port, without persistence: a
// restart loses every key, as a failover to an empty replica would.
type Redis = testredis.Server

// StartRedis starts a private redis-server; it is killed when the test ends.
// A missing redis-server fails t.
func StartRedis(t testing.TB) *Redis { return testredis.Start(t, true) }
