// Package redis is the Redis implementation of the coordination interfaces
// (bot.Coordinator), on go-redis v9, for any number of replicas sharing one
// Redis. It is the only package that imports go-redis.
//
// Every failure to reach Redis is returned wrapped with bot.ErrUnavailable,
// so that a caller (coordination/fallback) can tell "Redis down" from a
// misuse such as a non-positive ttl. Commands are never retried by the
// client: a retried SET NX whose first reply was lost would report a first
// delivery as a duplicate. The outcome is an error instead, and the caller
// falls back to the database's unique keys.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/missionbot/missionbot/bot"
)

var _ bot.Coordinator = (*Coordinator)(nil)

// DefaultTimeout bounds dialing and each command when Options.Timeout is zero.
const DefaultTimeout = time.Second

// Options configures a Coordinator.
type Options struct {
	// URL is the Redis URL, redis://[user:password@]host:port[/db] (or
	// rediss:// for TLS). It may hold a password; it never appears in errors.
	URL string
	// Prefix is the key prefix of Keys; empty means bot.DefaultKeyPrefix.
	Prefix string
	// Timeout bounds dialing, and each command's read and write; zero means
	// DefaultTimeout. Keep it short: a slow Redis should fail over quickly.
	Timeout time.Duration
}

// Coordinator coordinates replicas through one Redis. It is safe for
// concurrent use. Each method makes one round trip (one command or one Lua
// script, atomic on the server) and blocks at most Options.Timeout.
type Coordinator struct {
	client  *goredis.Client
	keys    bot.Keys
	release *goredis.Script
	extend  *goredis.Script
	allow   *goredis.Script

	closeOnce sync.Once
	closeErr  error
}

// New returns a Coordinator for opts.URL. It does not connect: connections
// are opened on first use; call Ping to check that Redis answers.
func New(opts Options) (*Coordinator, error) {
	ro, err := goredis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ro.DialTimeout = timeout
	ro.ReadTimeout = timeout
	ro.WriteTimeout = timeout
	ro.PoolTimeout = timeout
	ro.MaxRetries = -1   // see the package comment
	ro.DialerRetries = 1 // a Redis that refuses fails fast; the fallback probes for its return
	ro.DisableIdentity = true
	// RESP2: nothing here uses RESP3's push messages, and with RESP3 the
	// client checks for them around every command (about 4% of serve's CPU
	// per command under load).
	ro.Protocol = 2
	return &Coordinator{
		client:  goredis.NewClient(ro),
		keys:    bot.NewKeys(opts.Prefix),
		release: goredis.NewScript(releaseScriptSrc),
		extend:  goredis.NewScript(extendScriptSrc),
		allow:   goredis.NewScript(allowScriptSrc),
	}, nil
}

// unavailable wraps an error from Redis once, marking it bot.ErrUnavailable
// unless the caller's context ended.
func unavailable(ctx context.Context, op, key string, err error) error {
	if key != "" {
		op += " " + key
	}
	if ctx.Err() != nil {
		return fmt.Errorf("redis %s: %w", op, err)
	}
	return fmt.Errorf("redis %s: %w: %w", op, bot.ErrUnavailable, err)
}

// ms returns d in whole milliseconds, at least 1, as Redis PX wants.
func ms(d time.Duration) int64 {
	return max(int64((d+time.Millisecond-1)/time.Millisecond), 1)
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("ttl %s: must be positive", ttl)
	}
	return nil
}

// FirstSeen sets key with SET NX PX and reports whether it was absent.
func (c *Coordinator) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkTTL(ttl); err != nil {
		return false, fmt.Errorf("dedup %s: %w", key, err)
	}
	ok, err := c.client.SetNX(ctx, key, "1", time.Duration(ms(ttl))*time.Millisecond).Result()
	if err != nil {
		return false, unavailable(ctx, "dedup", key, err)
	}
	return ok, nil
}

// Forget deletes key. A dedup key carries no holder's token: only the
// caller FirstSeen answered first forgets it, after its handling failed, and
// while the key exists no one else can set it.
func (c *Coordinator) Forget(ctx context.Context, key string) error {
	if err := c.client.Del(ctx, key).Err(); err != nil {
		return unavailable(ctx, "forget", key, err)
	}
	return nil
}

// Acquire sets key to a random 16-byte token with SET NX PX. It never waits.
func (c *Coordinator) Acquire(ctx context.Context, key string, ttl time.Duration) (bot.Lease, bool, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, false, fmt.Errorf("acquire %s: %w", key, err)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, false, fmt.Errorf("acquire %s: token: %w", key, err)
	}
	token := hex.EncodeToString(b[:])
	ok, err := c.client.SetNX(ctx, key, token, time.Duration(ms(ttl))*time.Millisecond).Result()
	if err != nil {
		return nil, false, unavailable(ctx, "acquire", key, err)
	}
	if !ok {
		return nil, false, nil
	}
	return &Lease{c: c, key: key, token: token}, true, nil
}

// releaseScriptSrc deletes KEYS[1] only if it still holds this holder's token.
const releaseScriptSrc = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`

// extendScriptSrc moves KEYS[1]'s expiry to ARGV[2] ms only if it still holds
// this holder's token.
const extendScriptSrc = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`

// Lease is a lease held in Redis under a random token. It is safe for
// concurrent use.
type Lease struct {
	c     *Coordinator
	key   string
	token string
}

// Extend moves the lease's expiry to ttl from now with a compare-and-pexpire
// script, or returns bot.ErrLeaseLost when another token (or none) is there.
func (l *Lease) Extend(ctx context.Context, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return fmt.Errorf("extend %s: %w", l.key, err)
	}
	n, err := l.c.extend.Run(ctx, l.c.client, []string{l.key}, l.token, ms(ttl)).Int()
	if err != nil {
		return unavailable(ctx, "extend", l.key, err)
	}
	if n == 0 {
		return bot.ErrLeaseLost
	}
	return nil
}

// Release deletes the lease with a compare-and-delete script, or returns
// bot.ErrLeaseLost when another token (or none) is there.
func (l *Lease) Release(ctx context.Context) error {
	n, err := l.c.release.Run(ctx, l.c.client, []string{l.key}, l.token).Int()
	if err != nil {
		return unavailable(ctx, "release", l.key, err)
	}
	if n == 0 {
		return bot.ErrLeaseLost
	}
	return nil
}

// allowScriptSrc is a GCRA on Redis's own clock, so replicas with skewed clocks
// share one limit. KEYS[1] holds the theoretical arrival time (TAT) in
// microseconds and expires when the bucket is full again. ARGV[1] is the
// emission interval in µs, ARGV[2] the burst. It returns {1, 0} when allowed
// and {0, retry-after µs} when not.
const allowScriptSrc = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call("GET", KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local allow_at = next_tat - burst * interval
if now < allow_at then
	return {0, allow_at - now}
end
redis.call("SET", KEYS[1], string.format("%.0f", next_tat), "PX", math.max(1, math.ceil((next_tat - now) / 1000)))
return {1, 0}`

// Allow spends one event under key if rate permits it now, atomically across
// replicas (one Lua script).
func (c *Coordinator) Allow(ctx context.Context, key string, rate bot.Rate) (bot.Decision, error) {
	if err := rate.Validate(); err != nil {
		return bot.Decision{}, fmt.Errorf("limit %s: %w", key, err)
	}
	interval := max(rate.Interval().Microseconds(), 1)
	res, err := c.allow.Run(ctx, c.client, []string{key}, interval, rate.BurstSize()).Int64Slice()
	if err != nil {
		return bot.Decision{}, unavailable(ctx, "limit", key, err)
	}
	if len(res) != 2 {
		return bot.Decision{}, fmt.Errorf("redis limit %s: script returned %d values: %w", key, len(res), bot.ErrUnavailable)
	}
	if res[0] == 1 {
		return bot.Decision{Allowed: true}, nil
	}
	return bot.Decision{RetryAfter: max(time.Duration(res[1])*time.Microsecond, time.Microsecond)}, nil
}

// Get returns the value under key with GET.
func (c *Coordinator) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := c.client.Get(ctx, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, unavailable(ctx, "cache get", key, err)
	}
	return v, true, nil
}

// Set stores value under key with SET PX.
func (c *Coordinator) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return fmt.Errorf("cache set %s: %w", key, err)
	}
	if err := c.client.Set(ctx, key, value, time.Duration(ms(ttl))*time.Millisecond).Err(); err != nil {
		return unavailable(ctx, "cache set", key, err)
	}
	return nil
}

// Delete removes key with DEL; it is idempotent.
func (c *Coordinator) Delete(ctx context.Context, key string) error {
	if err := c.client.Del(ctx, key).Err(); err != nil {
		return unavailable(ctx, "cache delete", key, err)
	}
	return nil
}

// Keys returns the key builder with this coordinator's prefix.
func (c *Coordinator) Keys() bot.Keys { return c.keys }

// Ping checks that Redis answers PING.
func (c *Coordinator) Ping(ctx context.Context) error {
	if err := c.client.Ping(ctx).Err(); err != nil {
		return unavailable(ctx, "ping", "", err)
	}
	return nil
}

// Close closes the connection pool. It is idempotent.
func (c *Coordinator) Close() error {
	c.closeOnce.Do(func() {
		if err := c.client.Close(); err != nil {
			c.closeErr = fmt.Errorf("redis close: %w", err)
		}
	})
	return c.closeErr
}

// SilenceClientLog turns off go-redis's own process-wide logger, which would
// write to stderr past the redacting logger. What it would say (a failed
// dial, a pool retry) reaches the log through the errors the coordinator
// returns. It affects every go-redis client in the process.
func SilenceClientLog() { goredis.SetLogger(discard{}) }

type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}
