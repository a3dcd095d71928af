// Package memory is the in-process implementation of the coordination
// interfaces (bot.Coordinator). It is exact for a single replica, and the
// fallback of the Redis implementation when Redis is down.
package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/missionbot/missionbot/bot"
)

var _ bot.Coordinator = (*Coordinator)(nil)

// DefaultSweepInterval is how often expired entries are swept when
// Options.SweepInterval is zero.
const DefaultSweepInterval = time.Second

// Options configures a Coordinator. The zero value is ready to use.
type Options struct {
	// Prefix is the key prefix of Keys; empty means bot.DefaultKeyPrefix.
	Prefix string
	// Now tells the time; nil means time.Now. Tests inject a moving clock.
	Now func() time.Time
	// SweepInterval is the least time between two sweeps of expired
	// entries; zero means DefaultSweepInterval.
	SweepInterval time.Duration
}

// Coordinator keeps dedup markers, leases, limiter state and cache entries
// in maps guarded by one mutex. It is safe for concurrent use; no method
// blocks other than on that mutex. Memory is bounded by the live entries:
// expired entries are swept, during calls, at most every SweepInterval, so an
// entry outlives its expiry by at most SweepInterval plus the time until the
// next call. No background goroutine runs.
type Coordinator struct {
	keys          bot.Keys
	now           func() time.Time
	sweepInterval time.Duration

	mu        sync.Mutex
	lastSweep time.Time
	nextToken uint64
	seen      map[string]time.Time // dedup key → expiry
	leases    map[string]lease
	tats      map[string]time.Time // limiter key → theoretical arrival time (also its expiry)
	cache     map[string]cached
}

type lease struct {
	token   uint64
	expires time.Time
}

type cached struct {
	value   []byte
	expires time.Time
}

// New returns an empty in-process coordinator.
func New(opts Options) *Coordinator {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	sweep := opts.SweepInterval
	if sweep <= 0 {
		sweep = DefaultSweepInterval
	}
	c := &Coordinator{keys: bot.NewKeys(opts.Prefix), now: now, sweepInterval: sweep}
	c.reset()
	return c
}

func (c *Coordinator) reset() {
	c.seen = make(map[string]time.Time)
	c.leases = make(map[string]lease)
	c.tats = make(map[string]time.Time)
	c.cache = make(map[string]cached)
}

// lock takes the mutex, reads the clock and sweeps when a sweep is due. The
// caller unlocks c.mu.
func (c *Coordinator) lock() time.Time {
	c.mu.Lock()
	now := c.now()
	if now.Sub(c.lastSweep) >= c.sweepInterval {
		c.sweep(now)
		c.lastSweep = now
	}
	return now
}

func (c *Coordinator) sweep(now time.Time) {
	for k, exp := range c.seen {
		if !now.Before(exp) {
			delete(c.seen, k)
		}
	}
	for k, l := range c.leases {
		if !now.Before(l.expires) {
			delete(c.leases, k)
		}
	}
	for k, tat := range c.tats {
		if !now.Before(tat) {
			delete(c.tats, k)
		}
	}
	for k, e := range c.cache {
		if !now.Before(e.expires) {
			delete(c.cache, k)
		}
	}
}

// Len returns the number of entries held, expired or not. Tests use it to
// check that memory stays bounded.
func (c *Coordinator) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen) + len(c.leases) + len(c.tats) + len(c.cache)
}

func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("ttl %s: must be positive", ttl)
	}
	return nil
}

// FirstSeen reports true exactly once per key within ttl. Safe for concurrent use.
func (c *Coordinator) FirstSeen(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if err := checkTTL(ttl); err != nil {
		return false, fmt.Errorf("dedup %s: %w", key, err)
	}
	now := c.lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[key]; ok && now.Before(exp) {
		return false, nil
	}
	c.seen[key] = now.Add(ttl)
	return true, nil
}

// Forget removes key. Safe for concurrent use.
func (c *Coordinator) Forget(_ context.Context, key string) error {
	c.lock()
	defer c.mu.Unlock()
	delete(c.seen, key)
	return nil
}

// Acquire takes the lease named key for ttl unless a live lease holds it. It
// never waits. Safe for concurrent use.
func (c *Coordinator) Acquire(_ context.Context, key string, ttl time.Duration) (bot.Lease, bool, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, false, fmt.Errorf("acquire %s: %w", key, err)
	}
	now := c.lock()
	defer c.mu.Unlock()
	if l, ok := c.leases[key]; ok && now.Before(l.expires) {
		return nil, false, nil
	}
	c.nextToken++
	c.leases[key] = lease{token: c.nextToken, expires: now.Add(ttl)}
	return &Lease{c: c, key: key, token: c.nextToken}, true, nil
}

// Lease is a lease held on a Coordinator. It is safe for concurrent use.
type Lease struct {
	c     *Coordinator
	key   string
	token uint64
}

// Extend sets the lease to expire ttl from now if this holder still holds
// it, and returns bot.ErrLeaseLost otherwise.
func (l *Lease) Extend(_ context.Context, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return fmt.Errorf("extend %s: %w", l.key, err)
	}
	now := l.c.lock()
	defer l.c.mu.Unlock()
	cur, ok := l.c.leases[l.key]
	if !ok || cur.token != l.token || !now.Before(cur.expires) {
		return bot.ErrLeaseLost
	}
	l.c.leases[l.key] = lease{token: l.token, expires: now.Add(ttl)}
	return nil
}

// Release gives the lease up if this holder still holds it, and returns
// bot.ErrLeaseLost otherwise.
func (l *Lease) Release(_ context.Context) error {
	now := l.c.lock()
	defer l.c.mu.Unlock()
	cur, ok := l.c.leases[l.key]
	if !ok || cur.token != l.token || !now.Before(cur.expires) {
		return bot.ErrLeaseLost
	}
	delete(l.c.leases, l.key)
	return nil
}

// Allow spends one event under key if rate permits it now (GCRA). Safe for
// concurrent use.
func (c *Coordinator) Allow(_ context.Context, key string, rate bot.Rate) (bot.Decision, error) {
	if err := rate.Validate(); err != nil {
		return bot.Decision{}, fmt.Errorf("limit %s: %w", key, err)
	}
	interval := rate.Interval()
	burst := time.Duration(rate.BurstSize())
	now := c.lock()
	defer c.mu.Unlock()
	tat := c.tats[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if allowAt := next.Add(-burst * interval); now.Before(allowAt) {
		return bot.Decision{RetryAfter: allowAt.Sub(now)}, nil
	}
	c.tats[key] = next
	return bot.Decision{Allowed: true}, nil
}

// Get returns a copy of the live value under key.
func (c *Coordinator) Get(_ context.Context, key string) ([]byte, bool, error) {
	now := c.lock()
	defer c.mu.Unlock()
	e, ok := c.cache[key]
	if !ok || !now.Before(e.expires) {
		return nil, false, nil
	}
	return append([]byte(nil), e.value...), true, nil
}

// Set stores a copy of value under key for ttl.
func (c *Coordinator) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return fmt.Errorf("cache set %s: %w", key, err)
	}
	now := c.lock()
	defer c.mu.Unlock()
	c.cache[key] = cached{value: append([]byte{}, value...), expires: now.Add(ttl)}
	return nil
}

// Delete removes key; it is idempotent.
func (c *Coordinator) Delete(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, key)
	return nil
}

// Keys returns the key builder with this coordinator's prefix.
func (c *Coordinator) Keys() bot.Keys { return c.keys }

// Ping always succeeds: the backend is this process.
func (c *Coordinator) Ping(context.Context) error { return nil }

// Close drops every entry. It is idempotent, and the coordinator stays usable.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
	return nil
}
