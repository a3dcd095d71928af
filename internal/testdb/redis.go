package testdb

import (
	"net"
	"os"
	"testing"
	"time"
)

// RedisAddr is the shared Redis the tests use.
const RedisAddr = "127.0.0.1:6379"

// RequireRedis skips the test when the shared Redis does not answer and CI
// is unset, and fails it when CI is set.
func RequireRedis(t testing.TB) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", RedisAddr, time.Second)
	if err == nil {
		conn.Close()
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("Redis on %s is required in CI: %v", RedisAddr, err)
	}
	t.Skipf("Redis on %s not reachable (%v); set CI=1 to make this a failure", RedisAddr, err)
}
