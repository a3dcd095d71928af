package scheduler_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/scheduler"
)

// countingProducer counts its runs; while block is set, each run waits
// for it to close (or for its wait function) before returning.
type countingProducer struct {
	runs  atomic.Int64
	block chan struct{}
	wait  func()
}

func (p *countingProducer) Produce(ctx context.Context, _ time.Time, _ bot.Outbox) error {
	p.runs.Add(1)
	if p.wait != nil {
		p.wait()
	}
	if p.block != nil {
		select {
		case <-p.block:
		case <-ctx.Done():
		}
	}
	return nil
}

// extendingLocker passes leases through, telling extended about every
// successful Extend.
type extendingLocker struct {
	bot.Locker
	extended chan struct{}
}

func (l extendingLocker) Acquire(ctx context.Context, key string, ttl time.Duration) (bot.Lease, bool, error) {
	lease, ok, err := l.Locker.Acquire(ctx, key, ttl)
	if ok {
		lease = extendingLease{Lease: lease, extended: l.extended}
	}
	return lease, ok, err
}

type extendingLease struct {
	bot.Lease
	extended chan struct{}
}

func (l extendingLease) Extend(ctx context.Context, ttl time.Duration) error {
	err := l.Lease.Extend(ctx, ttl)
	if err == nil {
		select {
		case l.extended <- struct{}{}:
		default:
		}
	}
	return err
}

// TestProduceLeaseKeptWhileProducing: producers running longer than the
// lease keep it, extended, so another replica ticking meanwhile does not
// run its producers.
func TestProduceLeaseKeptWhileProducing(t *testing.T) {
	coord := memory.New(memory.Options{})
	extended := make(chan struct{}, 1)
	clock := bot.SystemClock{}
	slow := &countingProducer{block: make(chan struct{})}
	a := scheduler.New(nil, nil, []scheduler.Producer{slow}, clock, dispLog())
	a.Locker, a.Keys, a.LeaseFor = extendingLocker{Locker: coord, extended: extended}, coord.Keys(), 300*time.Millisecond
	other := &countingProducer{}
	b := scheduler.New(nil, nil, []scheduler.Producer{other}, clock, dispLog())
	b.Locker, b.Keys, b.LeaseFor = coord, coord.Keys(), 300*time.Millisecond

	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := a.RunDue(context.Background(), clock.Now()); err != nil {
			t.Errorf("a: %v", err)
		}
	})
	// Past the lease's first term: two extensions.
	for range 2 {
		select {
		case <-extended:
		case <-time.After(10 * time.Second):
			t.Fatal("the produce lease was never extended")
		}
	}
	if _, err := b.RunDue(context.Background(), clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := other.runs.Load(); n != 0 {
		t.Fatalf("b ran its producers %d times while a held the lease", n)
	}
	close(slow.block)
	wg.Wait()
	if _, err := b.RunDue(context.Background(), clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := other.runs.Load(); n != 1 {
		t.Fatalf("b ran its producers %d times after a released the lease, want 1", n)
	}
}

// TestProduceLeaseOfAStalledHolderExpires: a holder that stops extending
// the lease (a replica killed mid-production) blocks the others' producers
// for LeaseFor only, not for the outbox claim time.
func TestProduceLeaseOfAStalledHolderExpires(t *testing.T) {
	clock := bot.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	coord := memory.New(memory.Options{Now: clock.Now})
	stalled := &countingProducer{block: make(chan struct{})}
	a := scheduler.New(nil, nil, []scheduler.Producer{stalled}, clock, dispLog())
	// Its extensions would come every 20 real minutes: never, in this test.
	a.Locker, a.Keys, a.LeaseFor = coord, coord.Keys(), time.Hour
	started := make(chan struct{})
	stalled.wait = func() { close(started) }
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = a.RunDue(context.Background(), clock.Now()) })
	<-started

	other := &countingProducer{}
	b := scheduler.New(nil, nil, []scheduler.Producer{other}, clock, dispLog())
	b.Locker, b.Keys, b.LeaseFor = coord, coord.Keys(), time.Hour
	if _, err := b.RunDue(context.Background(), clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := other.runs.Load(); n != 0 {
		t.Fatalf("b ran its producers %d times while a's lease lived", n)
	}
	clock.Advance(time.Hour + time.Second)
	if _, err := b.RunDue(context.Background(), clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := other.runs.Load(); n != 1 {
		t.Fatalf("b ran its producers %d times after a's lease expired, want 1", n)
	}
	if scheduler.DefaultLeaseFor >= scheduler.DefaultClaimFor {
		t.Errorf("DefaultLeaseFor %s is not shorter than DefaultClaimFor %s", scheduler.DefaultLeaseFor, scheduler.DefaultClaimFor)
	}
	close(stalled.block)
	wg.Wait()
}
