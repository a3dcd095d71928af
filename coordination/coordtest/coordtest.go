// Package coordtest is the contract test suite every bot.Coordinator
// implementation passes: call Run from the implementation's tests.
package coordtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// Run runs the contract suite. newCoord returns a coordinator for the test
// t: two calls with the same t must return coordinators on the same backend
// and key prefix (two replicas sharing one Redis, or the same in-process
// coordinator), and calls with different t must use different key prefixes so
// that tests do not see each other's keys. PerTest builds such a factory.
// newCoord closes what it opens with t.Cleanup. The suite uses short real
// durations and polls; it asserts no timings.
func Run(t *testing.T, newCoord func(t *testing.T) bot.Coordinator) {
	t.Run("DedupExactlyOnceUnderConcurrency", func(t *testing.T) { dedupExactlyOnce(t, newCoord) })
	t.Run("DedupExpires", func(t *testing.T) { dedupExpires(t, newCoord) })
	t.Run("DedupForget", func(t *testing.T) { dedupForget(t, newCoord) })
	t.Run("LeaseExclusiveUnderConcurrency", func(t *testing.T) { leaseExclusive(t, newCoord) })
	t.Run("LeaseReleaseIsTokenChecked", func(t *testing.T) { leaseTokenChecked(t, newCoord) })
	t.Run("LeaseExtend", func(t *testing.T) { leaseExtend(t, newCoord) })
	t.Run("LimiterBurstThenRefuseThenAllow", func(t *testing.T) { limiterBurst(t, newCoord) })
	t.Run("LimiterSharedAcrossCoordinators", func(t *testing.T) { limiterShared(t, newCoord) })
	t.Run("CacheRoundTrip", func(t *testing.T) { cacheRoundTrip(t, newCoord) })
	t.Run("CacheExpires", func(t *testing.T) { cacheExpires(t, newCoord) })
	t.Run("KeyPrefixIsolation", func(t *testing.T) { prefixIsolation(t, newCoord) })
	t.Run("InvalidArguments", func(t *testing.T) { invalidArguments(t, newCoord) })
}

// PerTest turns a constructor taking a key prefix into a factory for Run: the
// first call for a test draws a random prefix (RandomPrefix), and later calls
// for the same test reuse it. Each call constructs a new coordinator.
func PerTest(newWithPrefix func(t *testing.T, prefix string) bot.Coordinator) func(t *testing.T) bot.Coordinator {
	var mu sync.Mutex
	prefixes := make(map[*testing.T]string)
	return func(t *testing.T) bot.Coordinator {
		mu.Lock()
		p, ok := prefixes[t]
		if !ok {
			p = RandomPrefix(t)
			prefixes[t] = p
		}
		mu.Unlock()
		return newWithPrefix(t, p)
	}
}

// RandomPrefix returns a fresh key prefix such as "missionbot-test:3fa4c1d2e5b6a798:".
func RandomPrefix(t testing.TB) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random prefix: %v", err)
	}
	return "missionbot-test:" + hex.EncodeToString(b[:]) + ":"
}

// Eventually polls cond every few milliseconds until it holds, and fails the
// test if it does not within timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const patience = 5 * time.Second

func dedupExactlyOnce(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c := newCoord(t)
	ctx := context.Background()
	key := c.Keys().Dedup(bot.Slack, "Ev0001")
	var firsts, calls atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			first, err := c.FirstSeen(ctx, key, time.Minute)
			if err != nil {
				t.Errorf("FirstSeen: %v", err)
				return
			}
			calls.Add(1)
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if calls.Load() != 100 || firsts.Load() != 1 {
		t.Fatalf("100 concurrent deliveries: %d answered, %d first; want 100 and exactly 1", calls.Load(), firsts.Load())
	}
	other, err := c.FirstSeen(ctx, c.Keys().Dedup(bot.Discord, "Ev0001"), time.Minute)
	if err != nil || !other {
		t.Fatalf("same event id on another platform: first=%v err=%v; want true", other, err)
	}
}

func dedupExpires(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c := newCoord(t)
	ctx := context.Background()
	key := c.Keys().Dedup(bot.Slack, "Ev-expiring")
	mustFirst(t, c, key, 50*time.Millisecond, true)
	mustFirst(t, c, key, 50*time.Millisecond, false)
	Eventually(t, patience, "dedup marker expires", func() bool {
		first, err := c.FirstSeen(ctx, key, time.Minute)
		if err != nil {
			t.Fatalf("FirstSeen: %v", err)
		}
		return first
	})
	mustFirst(t, c, key, time.Minute, false)
}

// dedupForget: a forgotten key is first again, once; forgetting a key never
// seen is no error and touches no other key.
func dedupForget(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c := newCoord(t)
	ctx := context.Background()
	key, other := c.Keys().Dedup(bot.Slack, "Ev-forgotten"), c.Keys().Dedup(bot.Slack, "Ev-kept")
	mustFirst(t, c, key, time.Minute, true)
	mustFirst(t, c, other, time.Minute, true)
	if err := c.Forget(ctx, key); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	mustFirst(t, c, key, time.Minute, true)
	mustFirst(t, c, key, time.Minute, false)
	mustFirst(t, c, other, time.Minute, false)
	if err := c.Forget(ctx, c.Keys().Dedup(bot.Slack, "Ev-never-seen")); err != nil {
		t.Fatalf("Forget of an unknown key: %v", err)
	}
}

func mustFirst(t *testing.T, c bot.Coordinator, key string, ttl time.Duration, want bool) {
	t.Helper()
	got, err := c.FirstSeen(context.Background(), key, ttl)
	if err != nil || got != want {
		t.Fatalf("FirstSeen(%s) = %v, %v; want %v", key, got, err, want)
	}
}

func leaseExclusive(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c1, c2 := newCoord(t), newCoord(t)
	ctx := context.Background()
	key := c1.Keys().Lease("digest:community-7")
	var mu sync.Mutex
	var held []bot.Lease
	var wg sync.WaitGroup
	for i := range 50 {
		c := c1
		if i%2 == 1 {
			c = c2
		}
		wg.Go(func() {
			l, ok, err := c.Acquire(ctx, key, time.Minute)
			if err != nil {
				t.Errorf("Acquire: %v", err)
				return
			}
			if ok {
				mu.Lock()
				held = append(held, l)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(held) != 1 {
		t.Fatalf("50 concurrent Acquire: %d holders, want exactly 1", len(held))
	}
	if _, ok, err := c2.Acquire(ctx, key, time.Minute); ok || err != nil {
		t.Fatalf("Acquire while held = %v, %v; want false, nil", ok, err)
	}
	if err := held[0].Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := held[0].Release(ctx); !errors.Is(err, bot.ErrLeaseLost) {
		t.Fatalf("second Release = %v; want ErrLeaseLost", err)
	}
	l, ok, err := c2.Acquire(ctx, key, time.Minute)
	if !ok || err != nil {
		t.Fatalf("Acquire after Release = %v, %v; want true, nil", ok, err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

func leaseTokenChecked(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c1, c2 := newCoord(t), newCoord(t)
	ctx := context.Background()
	key := c1.Keys().Lease("shard-3")
	old, ok, err := c1.Acquire(ctx, key, 50*time.Millisecond)
	if !ok || err != nil {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	var cur bot.Lease
	Eventually(t, patience, "expired lease taken by another holder", func() bool {
		l, ok, err := c2.Acquire(ctx, key, time.Minute)
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		cur = l
		return ok
	})
	if err := old.Release(ctx); !errors.Is(err, bot.ErrLeaseLost) {
		t.Fatalf("old holder's Release = %v; want ErrLeaseLost", err)
	}
	if err := old.Extend(ctx, time.Minute); !errors.Is(err, bot.ErrLeaseLost) {
		t.Fatalf("old holder's Extend = %v; want ErrLeaseLost", err)
	}
	if _, ok, err := c1.Acquire(ctx, key, time.Minute); ok || err != nil {
		t.Fatalf("new holder's lease gone after old holder's Release/Extend: Acquire = %v, %v", ok, err)
	}
	if err := cur.Release(ctx); err != nil {
		t.Fatalf("new holder's Release: %v", err)
	}
}

func leaseExtend(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c := newCoord(t)
	ctx := context.Background()
	key := c.Keys().Lease("announce:42")
	l, ok, err := c.Acquire(ctx, key, 40*time.Millisecond)
	if !ok || err != nil {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	if err := l.Extend(ctx, time.Minute); err != nil {
		t.Fatalf("Extend: %v", err)
	}
	time.Sleep(80 * time.Millisecond) // past the first ttl
	if _, ok, err := c.Acquire(ctx, key, time.Minute); ok || err != nil {
		t.Fatalf("Acquire after Extend, past the first ttl = %v, %v; want still held", ok, err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("Release after Extend: %v", err)
	}
	if err := l.Extend(ctx, time.Minute); !errors.Is(err, bot.ErrLeaseLost) {
		t.Fatalf("Extend after Release = %v; want ErrLeaseLost", err)
	}
}

func limiterBurst(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c := newCoord(t)
	ctx := context.Background()
	key := c.Keys().Limit("channel", "C0123")
	rate := bot.Rate{Events: 5, Per: time.Second, Burst: 3} // one per 200ms
	for i := range 3 {
		d, err := c.Allow(ctx, key, rate)
		if err != nil || !d.Allowed {
			t.Fatalf("event %d of the burst: %+v, %v; want allowed", i+1, d, err)
		}
	}
	d, err := c.Allow(ctx, key, rate)
	if err != nil || d.Allowed {
		t.Fatalf("event past the burst: %+v, %v; want refused", d, err)
	}
	if d.RetryAfter <= 0 || d.RetryAfter > rate.Interval() {
		t.Fatalf("RetryAfter = %s; want in (0, %s]", d.RetryAfter, rate.Interval())
	}
	if other, err := c.Allow(ctx, c.Keys().Limit("channel", "C0456"), rate); err != nil || !other.Allowed {
		t.Fatalf("another key: %+v, %v; want allowed", other, err)
	}
	time.Sleep(d.RetryAfter)
	Eventually(t, patience, "limiter allows again after RetryAfter", func() bool {
		d, err := c.Allow(ctx, key, rate)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		return d.Allowed
	})
}

func limiterShared(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c1, c2 := newCoord(t), newCoord(t)
	ctx := context.Background()
	key := c1.Keys().Limit("member", "slack:T1:U1")
	rate := bot.Rate{Events: 1, Per: time.Hour, Burst: 2}
	for i, c := range []bot.Coordinator{c1, c2, c1, c2} {
		d, err := c.Allow(ctx, key, rate)
		if err != nil {
			t.Fatalf("Allow: %v", err)
		}
		if want := i < 2; d.Allowed != want {
			t.Fatalf("call %d alternating between two coordinators: allowed=%v, want %v (burst 2 shared)", i+1, d.Allowed, want)
		}
		if !d.Allowed && d.RetryAfter <= 0 {
			t.Fatalf("refused with RetryAfter %s; want positive", d.RetryAfter)
		}
	}
}

func cacheRoundTrip(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c := newCoord(t)
	ctx := context.Background()
	key := c.Keys().Cache("community", "slack:T1")
	if v, ok, err := c.Get(ctx, key); ok || v != nil || err != nil {
		t.Fatalf("Get missing = %q, %v, %v; want nil, false, nil", v, ok, err)
	}
	val := []byte("tz=Europe/London\x00name=Food Bank")
	if err := c.Set(ctx, key, val, time.Minute); err != nil {
		t.Fatalf("Set: %v", err)
	}
	val[0] = 'X' // the cache keeps its own copy
	v, ok, err := c.Get(ctx, key)
	if !ok || err != nil || !bytes.Equal(v, []byte("tz=Europe/London\x00name=Food Bank")) {
		t.Fatalf("Get = %q, %v, %v", v, ok, err)
	}
	if err := c.Set(ctx, key, []byte{}, time.Minute); err != nil {
		t.Fatalf("Set empty: %v", err)
	}
	if v, ok, err := c.Get(ctx, key); !ok || err != nil || len(v) != 0 {
		t.Fatalf("Get empty value = %q, %v, %v; want empty, true", v, ok, err)
	}
	if err := c.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, ok, err := c.Get(ctx, key); ok || err != nil {
		t.Fatalf("Get after Delete = %v, %v; want miss", ok, err)
	}
	if err := c.Delete(ctx, key); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
}

func cacheExpires(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c := newCoord(t)
	ctx := context.Background()
	key := c.Keys().Cache("member", "discord:G1:U9")
	if err := c.Set(ctx, key, []byte("alice"), 50*time.Millisecond); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if _, ok, err := c.Get(ctx, key); !ok || err != nil {
		t.Fatalf("Get before expiry = %v, %v; want hit", ok, err)
	}
	Eventually(t, patience, "cache entry expires", func() bool {
		_, ok, err := c.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return !ok
	})
}

func prefixIsolation(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	ctx := context.Background()
	a := newCoord(t)
	ka := a.Keys()
	for _, k := range []string{ka.Dedup(bot.Slack, "E1"), ka.Lease("x"), ka.Limit("member", "x"), ka.Cache("member", "x")} {
		if len(k) <= len(ka.Prefix()) || k[:len(ka.Prefix())] != ka.Prefix() {
			t.Fatalf("key %q does not start with the prefix %q", k, ka.Prefix())
		}
	}
	mustFirst(t, a, ka.Dedup(bot.Slack, "E1"), time.Minute, true)
	if _, ok, err := a.Acquire(ctx, ka.Lease("x"), time.Minute); !ok || err != nil {
		t.Fatalf("Acquire under prefix a = %v, %v", ok, err)
	}
	if err := a.Set(ctx, ka.Cache("member", "x"), []byte("a"), time.Minute); err != nil {
		t.Fatalf("Set: %v", err)
	}
	rate := bot.Rate{Events: 1, Per: time.Hour, Burst: 1}
	if d, err := a.Allow(ctx, ka.Limit("member", "x"), rate); !d.Allowed || err != nil {
		t.Fatalf("Allow under prefix a = %+v, %v", d, err)
	}
	t.Run("OtherPrefix", func(t *testing.T) {
		b := newCoord(t)
		kb := b.Keys()
		if ka.Prefix() == kb.Prefix() {
			t.Fatalf("two tests share the key prefix %q", ka.Prefix())
		}
		mustFirst(t, b, kb.Dedup(bot.Slack, "E1"), time.Minute, true)
		if _, ok, err := b.Acquire(ctx, kb.Lease("x"), time.Minute); !ok || err != nil {
			t.Fatalf("Acquire of the same name under prefix b = %v, %v; want true", ok, err)
		}
		if _, ok, err := b.Get(ctx, kb.Cache("member", "x")); ok || err != nil {
			t.Fatalf("Get under prefix b sees prefix a's value: %v, %v", ok, err)
		}
		if d, err := b.Allow(ctx, kb.Limit("member", "x"), rate); !d.Allowed || err != nil {
			t.Fatalf("Allow under prefix b = %+v, %v; want allowed", d, err)
		}
	})
}

func invalidArguments(t *testing.T, newCoord func(*testing.T) bot.Coordinator) {
	c := newCoord(t)
	ctx := context.Background()
	if _, err := c.FirstSeen(ctx, c.Keys().Dedup(bot.Slack, "E"), 0); err == nil {
		t.Error("FirstSeen with ttl 0: no error")
	}
	if _, _, err := c.Acquire(ctx, c.Keys().Lease("x"), -time.Second); err == nil {
		t.Error("Acquire with negative ttl: no error")
	}
	if _, err := c.Allow(ctx, c.Keys().Limit("member", "x"), bot.Rate{Events: 0, Per: time.Second}); err == nil {
		t.Error("Allow with 0 events: no error")
	}
	if err := c.Set(ctx, c.Keys().Cache("member", "x"), nil, 0); err == nil {
		t.Error("Set with ttl 0: no error")
	}
}
