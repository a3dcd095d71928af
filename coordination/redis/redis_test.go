package redis_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/coordtest"
	"github.com/missionbot/missionbot/coordination/redis"
)

// localRedisURL is the shared development and CI Redis. Tests here only add
// keys under a random prefix; they never stop or flush it.
const localRedisURL = "redis://127.0.0.1:6379/0"

// newLocal returns a coordinator on the local Redis with prefix, closed when
// the test ends. It fails the test when Redis is not reachable and CI is set,
// and skips it otherwise.
func newLocal(tb testing.TB, prefix string) *redis.Coordinator {
	tb.Helper()
	c, err := redis.New(redis.Options{URL: localRedisURL, Prefix: prefix})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("Redis at %s is required in CI: %v", localRedisURL, err)
		}
		tb.Skipf("skipping: no Redis at %s (%v); CI fails here instead", localRedisURL, err)
	}
	return c
}

func TestCoordContract(t *testing.T) {
	coordtest.Run(t, coordtest.PerTest(func(t *testing.T, prefix string) bot.Coordinator {
		return newLocal(t, prefix)
	}))
}

func TestCoordDownIsUnavailable(t *testing.T) {
	// Port 1 on loopback refuses connections.
	c, err := redis.New(redis.Options{URL: "redis://:s3cret-pass@127.0.0.1:1/0", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	_, err = c.FirstSeen(ctx, c.Keys().Dedup(bot.Slack, "E1"), time.Minute)
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("FirstSeen with Redis down = %v; want ErrUnavailable", err)
	}
	if _, err := c.Allow(ctx, c.Keys().Limit("member", "x"), bot.Rate{Events: 1, Per: time.Second}); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("Allow with Redis down = %v; want ErrUnavailable", err)
	}
	if _, err := c.Allow(ctx, "k", bot.Rate{}); err == nil || errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("Allow with an invalid rate = %v; want an error that is not ErrUnavailable", err)
	}
	if err := c.Ping(ctx); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Ping error %v: want an error without the password", err)
	}
	if _, err := redis.New(redis.Options{URL: "http://:s3cret-pass@host"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("New with a bad URL: %v; want an error without the password", err)
	}
}

func BenchmarkDedup(b *testing.B) {
	coordtest.BenchDedup(b, newLocal(b, coordtest.RandomPrefix(b)))
}

func BenchmarkAllow(b *testing.B) {
	coordtest.BenchAllow(b, newLocal(b, coordtest.RandomPrefix(b)))
}

// BenchmarkPing is the floor under the two above: one round trip to the
// local Redis through the same client.
func BenchmarkPing(b *testing.B) {
	c := newLocal(b, coordtest.RandomPrefix(b))
	ctx := context.Background()
	coordtest.Latency(b, func() error { return c.Ping(ctx) })
}
