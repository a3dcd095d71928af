// Package fallback keeps members served when the shared coordination backend
// (Redis) is down: it wraps a primary bot.Coordinator and, while the primary
// is unavailable, answers deduplication, leases and rate limits from an
// in-process one.
//
// Correctness never depends on Redis alone. While degraded, each replica
// deduplicates and locks only within itself, so two replicas may both see a
// delivery as new or both take a lease; the database's unique keys (processed
// event ids, outbox rows claimed by conditional update) back every dedup and
// claim, and exact limits are counted in the database. Redis only saves work.
package fallback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/missionbot/missionbot/bot"
)

var _ bot.Coordinator = (*Coordinator)(nil)

// DefaultProbeInterval is how often a degraded Coordinator checks whether the
// primary is back, when Options.ProbeInterval is zero.
const DefaultProbeInterval = time.Second

// Options configures a Coordinator.
type Options struct {
	// Primary is the shared backend (Redis). Its errors that wrap
	// bot.ErrUnavailable switch the Coordinator to Fallback; other errors
	// (a canceled context, a bad argument) are returned as they are.
	Primary bot.Coordinator
	// Fallback is the in-process coordinator used while degraded.
	Fallback bot.Coordinator
	// Logger gets one line when the Coordinator goes degraded and one when it
	// recovers; nil discards them.
	Logger *slog.Logger
	// ProbeInterval is the least time between two pings of a primary found
	// down; zero means DefaultProbeInterval.
	ProbeInterval time.Duration
	// OnError, when set, is called for every primary failure that sends a
	// call to the fallback (for an error counter). It must not block.
	OnError func(error)
}

// Coordinator sends every call to the primary until the primary fails with
// bot.ErrUnavailable; from then on it is degraded: calls go straight to the
// fallback without waiting on the primary, and a background ping every
// ProbeInterval (started by incoming calls, one at a time) detects the
// primary's return. It is safe for concurrent use.
//
// While degraded: FirstSeen, Acquire and Allow answer from the fallback;
// Get misses and Set does nothing (a cache miss is always allowed); Delete
// still goes to the primary and returns its error, since a lost invalidation
// must be known. A lease keeps to the backend that granted it: a Redis lease
// whose Extend or Release fails returns that error, and expires on its own.
type Coordinator struct {
	primary, fallback bot.Coordinator
	log               *slog.Logger
	probeEvery        time.Duration
	onError           func(error)

	degraded  atomic.Bool
	probing   atomic.Bool
	lastProbe atomic.Int64 // unix nanoseconds
	since     atomic.Int64 // unix nanoseconds when degraded began

	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup
	stop   context.Context
	cancel context.CancelFunc
}

// New returns a Coordinator over opts.Primary and opts.Fallback, which it
// owns: Close closes both.
func New(opts Options) *Coordinator {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	every := opts.ProbeInterval
	if every <= 0 {
		every = DefaultProbeInterval
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Coordinator{
		primary:    opts.Primary,
		fallback:   opts.Fallback,
		log:        log,
		probeEvery: every,
		onError:    opts.OnError,
		stop:       stop,
		cancel:     cancel,
	}
}

// Degraded reports whether calls are being answered by the fallback because
// the primary is unavailable. Readiness checks report it.
func (c *Coordinator) Degraded() bool { return c.degraded.Load() }

// usePrimary reports whether a call should try the primary, starting a probe
// of the primary when degraded and one is due.
func (c *Coordinator) usePrimary() bool {
	if !c.degraded.Load() {
		return true
	}
	now := time.Now().UnixNano()
	if now-c.lastProbe.Load() < int64(c.probeEvery) || !c.probing.CompareAndSwap(false, true) {
		return false
	}
	c.lastProbe.Store(now)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.probing.Store(false)
		return false
	}
	c.wg.Go(func() {
		defer c.probing.Store(false)
		ctx, cancel := context.WithTimeout(c.stop, c.probeEvery)
		defer cancel()
		if c.primary.Ping(ctx) == nil {
			c.recovered()
		}
	})
	return false
}

// failed reports whether err means the primary is unavailable, and if so
// marks the Coordinator degraded.
func (c *Coordinator) failed(err error) bool {
	if err == nil || !errors.Is(err, bot.ErrUnavailable) {
		return false
	}
	if c.onError != nil {
		c.onError(err)
	}
	now := time.Now()
	if c.degraded.CompareAndSwap(false, true) {
		c.lastProbe.Store(now.UnixNano())
		c.since.Store(now.UnixNano())
		c.log.Warn("coordination degraded: shared backend unavailable, using in-process fallback until it answers",
			"err", err, "probe_every", c.probeEvery)
	}
	return true
}

func (c *Coordinator) recovered() {
	if c.degraded.CompareAndSwap(true, false) {
		c.log.Info("coordination recovered: shared backend answers again",
			"degraded_for", time.Since(time.Unix(0, c.since.Load())).Round(time.Millisecond))
	}
}

// FirstSeen asks the primary, or the fallback while degraded.
func (c *Coordinator) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if c.usePrimary() {
		first, err := c.primary.FirstSeen(ctx, key, ttl)
		if !c.failed(err) {
			return first, err
		}
	}
	return c.fallback.FirstSeen(ctx, key, ttl)
}

// Forget removes key from the fallback and, unless degraded, the primary:
// a key may have been marked on either.
func (c *Coordinator) Forget(ctx context.Context, key string) error {
	err := c.fallback.Forget(ctx, key)
	if c.usePrimary() {
		perr := c.primary.Forget(ctx, key)
		if !c.failed(perr) {
			return perr
		}
	}
	return err
}

// Acquire takes the lease on the primary, or on the fallback while degraded.
func (c *Coordinator) Acquire(ctx context.Context, key string, ttl time.Duration) (bot.Lease, bool, error) {
	if c.usePrimary() {
		l, ok, err := c.primary.Acquire(ctx, key, ttl)
		if !c.failed(err) {
			if ok {
				l = primaryLease{c: c, lease: l}
			}
			return l, ok, err
		}
	}
	return c.fallback.Acquire(ctx, key, ttl)
}

// primaryLease notes the primary's unavailability on Extend and Release.
type primaryLease struct {
	c     *Coordinator
	lease bot.Lease
}

func (l primaryLease) Extend(ctx context.Context, ttl time.Duration) error {
	err := l.lease.Extend(ctx, ttl)
	l.c.failed(err)
	return err
}

func (l primaryLease) Release(ctx context.Context) error {
	err := l.lease.Release(ctx)
	l.c.failed(err)
	return err
}

// Allow asks the primary's shared limiter, or the fallback's while degraded
// (then each replica limits on its own).
func (c *Coordinator) Allow(ctx context.Context, key string, rate bot.Rate) (bot.Decision, error) {
	if c.usePrimary() {
		d, err := c.primary.Allow(ctx, key, rate)
		if !c.failed(err) {
			return d, err
		}
	}
	return c.fallback.Allow(ctx, key, rate)
}

// Get reads the primary's cache; while degraded it misses.
func (c *Coordinator) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if !c.usePrimary() {
		return nil, false, nil
	}
	v, ok, err := c.primary.Get(ctx, key)
	if c.failed(err) {
		return nil, false, nil
	}
	return v, ok, err
}

// Set writes the primary's cache; while degraded it does nothing.
func (c *Coordinator) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if !c.usePrimary() {
		return nil
	}
	err := c.primary.Set(ctx, key, value, ttl)
	if c.failed(err) {
		return nil
	}
	return err
}

// Delete always goes to the primary and returns its error, degraded or not.
func (c *Coordinator) Delete(ctx context.Context, key string) error {
	err := c.primary.Delete(ctx, key)
	if err == nil {
		c.recovered()
	}
	c.failed(err)
	return err
}

// Keys returns the primary's key builder.
func (c *Coordinator) Keys() bot.Keys { return c.primary.Keys() }

// Ping pings the primary and returns its error; success ends a degraded
// period and failure starts one. Readiness may report Degraded instead of
// failing, since members are still served.
func (c *Coordinator) Ping(ctx context.Context) error {
	err := c.primary.Ping(ctx)
	if err == nil {
		c.recovered()
		return nil
	}
	c.failed(err)
	return err
}

// Close stops probing, waits for a running probe, and closes the primary and
// the fallback. It is idempotent.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if err := errors.Join(c.primary.Close(), c.fallback.Close()); err != nil {
		return fmt.Errorf("close coordination: %w", err)
	}
	return nil
}
