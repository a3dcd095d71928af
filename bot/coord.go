package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The coordination interfaces below let any number of replicas share
// deduplication, leases, rate limits and a small cache. Two implementations
// pass one contract suite (coordination/coordtest): in-process
// (coordination/memory, one replica) and Redis (coordination/redis, many
// replicas). Redis is the accelerator, the database the truth: every dedup and
// every claim also has a database unique key behind it, and exact business
// limits are counted in the database, so no correctness depends on these
// interfaces alone.
//
// Keys are opaque strings built with Keys; implementations use them verbatim.

// ErrLeaseLost is returned by Lease.Extend and Lease.Release when the lease
// expired and is no longer held by this holder (it may be held by another).
var ErrLeaseLost = errors.New("lease lost")

// Deduper recognises the first delivery of an event among retries and replicas.
type Deduper interface {
	// FirstSeen reports true exactly once per key within ttl, across every
	// replica sharing the backend, and false for every other call until the
	// key expires. It does not block beyond one round trip and is safe for
	// concurrent use. On error the caller does not know; it should fall back to
	// the database's unique key rather than drop the event.
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Forget removes key, so that its next FirstSeen is first again: a
	// delivery whose handling failed before it changed anything is handled
	// when the platform retries it. Forgetting an absent key is no error.
	// Safe for concurrent use.
	Forget(ctx context.Context, key string) error
}

// Locker hands out expiring, exclusive leases.
type Locker interface {
	// Acquire tries once to take the lease named key for ttl; it never waits
	// for a holder. It returns (lease, true, nil) when taken and (nil, false,
	// nil) when someone else holds it. At most one holder has a live lease on
	// a key at any time, across replicas. Release the lease with defer right
	// after taking it. Safe for concurrent use.
	Acquire(ctx context.Context, key string, ttl time.Duration) (Lease, bool, error)
}

// Lease is one holder's claim on a key. Its methods check the holder's random
// token, so a holder whose lease expired and was taken by another never
// extends or releases the new holder's lease. A Lease is safe for concurrent use.
type Lease interface {
	// Extend sets the lease to expire ttl from now if it is still held by
	// this holder, and returns ErrLeaseLost otherwise.
	Extend(ctx context.Context, ttl time.Duration) error
	// Release gives the lease up if it is still held by this holder, and
	// returns ErrLeaseLost otherwise (including after an earlier Release).
	Release(ctx context.Context) error
}

// Rate is a rate limit: Events per Per on average, with up to Burst events
// allowed at once. Burst below 1 counts as 1. Events and Per must be positive.
type Rate struct {
	Events int
	Per    time.Duration
	Burst  int
}

// Interval returns the average time between two allowed events, Per/Events,
// and at least one nanosecond. It is meaningful only for a valid Rate.
func (r Rate) Interval() time.Duration {
	if r.Events <= 0 {
		return r.Per
	}
	return max(r.Per/time.Duration(r.Events), 1)
}

// BurstSize returns Burst, at least 1.
func (r Rate) BurstSize() int {
	return max(r.Burst, 1)
}

// Decision is the answer of a Limiter. When Allowed is false, RetryAfter is
// how long until one more event will be allowed (always positive).
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration
}

// Limiter is a rate limiter shared by all replicas (a GCRA, i.e. a token
// bucket that refills continuously). It limits floods per member and posts
// per outbound channel; it is not the place for exact business limits such as
// kudos per day, which the database counts.
type Limiter interface {
	// Allow spends one event under key if rate permits it now, and otherwise
	// spends nothing and says how long to wait. It never blocks beyond one
	// round trip and is safe for concurrent use. A refused caller waits
	// RetryAfter and tries again; nothing is dropped.
	Allow(ctx context.Context, key string, rate Rate) (Decision, error)
}

// Cache is a small best-effort byte cache with expiry. A miss is always
// allowed: callers read through to the database. Safe for concurrent use.
type Cache interface {
	// Get returns the value stored under key and true, or nil and false
	// when it is missing or expired.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value under key for ttl, replacing any earlier value.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes key. Deleting a missing key is not an error; Delete is idempotent.
	Delete(ctx context.Context, key string) error
}

// Coordinator bundles the coordination services one process uses.
type Coordinator interface {
	Deduper
	Locker
	Limiter
	Cache
	// Keys returns the key builder that callers use with this coordinator,
	// carrying its configured prefix.
	Keys() Keys
	// Ping checks that the backend answers.
	Ping(ctx context.Context) error
	// Close releases the coordinator's resources. It is idempotent; no other
	// method may be called after it.
	Close() error
}

// DefaultKeyPrefix is the prefix of every key when none is configured.
const DefaultKeyPrefix = "missionbot:"

// Keys builds every coordination key name, in one place, under a prefix so
// that several deployments (or test runs) can share one Redis. The zero
// value uses DefaultKeyPrefix. Kinds are constants chosen by the code and
// must not contain ':'.
type Keys struct {
	prefix string
}

// NewKeys returns a key builder with the given prefix, or DefaultKeyPrefix
// when prefix is empty.
func NewKeys(prefix string) Keys { return Keys{prefix: prefix} }

// Prefix returns the prefix every key starts with.
func (k Keys) Prefix() string {
	if k.prefix == "" {
		return DefaultKeyPrefix
	}
	return k.prefix
}

// Dedup names the first-seen marker of one platform delivery (event id,
// interaction id).
func (k Keys) Dedup(platform Platform, eventID string) string {
	return k.Prefix() + "dedup:" + string(platform) + ":" + eventID
}

// Lease names a lease, such as a scheduler job or a gateway shard.
func (k Keys) Lease(name string) string {
	return k.Prefix() + "lease:" + name
}

// Limit names a rate limiter of one kind ("member", "channel") for one id.
func (k Keys) Limit(kind, id string) string {
	return k.Prefix() + "limit:" + kind + ":" + id
}

// Cache names a cached value of one kind for one id.
func (k Keys) Cache(kind, id string) string {
	return k.Prefix() + "cache:" + kind + ":" + id
}

// Validate reports an error when r cannot limit anything: Events and Per must
// be positive.
func (r Rate) Validate() error {
	if r.Events <= 0 || r.Per <= 0 {
		return fmt.Errorf("invalid rate %d per %s: events and period must be positive", r.Events, r.Per)
	}
	return nil
}
