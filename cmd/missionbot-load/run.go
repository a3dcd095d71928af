package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// setupCommunities creates the load goal in every community of cfg, as
// each community's organiser (a Discord member with Manage Server; a Slack
// user the fake Slack API calls an admin). When db is set, a community whose
// goal is still missing has its organiser promoted in the database and
// tries once more.
func setupCommunities(ctx context.Context, cfg *loadConfig, db *database) (setupReport, error) {
	c := newClient(cfg)
	defer c.close()
	rep := setupReport{Communities: cfg.Communities}
	failed := make([]bool, cfg.Communities)
	each := func(do func(i int)) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i := range cfg.Communities {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				do(i)
			})
		}
		wg.Wait()
	}
	each(func(i int) {
		o := c.send(ctx, cfg.actorFor(i, 0), setupCommand())
		failed[i] = o.Err != ""
	})
	if db != nil {
		n, err := db.countGoals(ctx, cfg.RunID)
		if err != nil {
			return rep, err
		}
		if n < cfg.Communities {
			rep.Promoted = cfg.Communities - n
			for i := range cfg.Communities {
				a := cfg.actorFor(i, 0)
				if err := db.promote(ctx, a.Platform, a.Community, a.User); err != nil {
					return rep, err
				}
			}
			// Communities that have the goal refuse the second create.
			each(func(i int) { c.send(ctx, cfg.actorFor(i, 0), setupCommand()) })
			if n, err = db.countGoals(ctx, cfg.RunID); err != nil {
				return rep, err
			}
		}
		rep.Failed = cfg.Communities - n
		return rep, nil
	}
	for _, f := range failed {
		if f {
			rep.Failed++
		}
	}
	return rep, nil
}

// settle counts the run's effects until they reach want, or have not
// changed for quiet (deferred commands finish after their
// acknowledgement), for at most wait. It returns the counts and when they
// were first seen at that value.
func settle(ctx context.Context, db *database, run string, want int64, quiet, wait time.Duration) (map[string]int64, time.Time, error) {
	deadline := time.Now().Add(wait)
	prev, err := db.countEffects(ctx, run)
	if err != nil {
		return nil, time.Time{}, err
	}
	since := time.Now()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for sum(prev) < want && time.Since(since) < quiet && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return prev, since, nil
		case <-t.C:
		}
		cur, err := db.countEffects(ctx, run)
		if err != nil {
			return nil, time.Time{}, err
		}
		if !maps.Equal(cur, prev) {
			prev, since = cur, time.Now()
		}
	}
	return prev, since, nil
}

// printResult writes a human-readable report of r.
func printResult(w io.Writer, r *result) {
	fmt.Fprintf(w, "offered %.0f/s for %s: %d sent, %d skipped (client saturated), %d answered OK, %d deferred acks\n",
		r.Offered, r.Window.Round(time.Millisecond), r.Sent, r.Skipped, r.OK(), r.Deferred)
	fmt.Fprintf(w, "ack latency (HTTP 200s, n=%d): p50 %.1f ms  p99 %.1f ms  p99.9 %.1f ms  max %.1f ms\n",
		r.Latency.N, ms(r.Latency.P50), ms(r.Latency.P99), ms(r.Latency.P999), ms(r.Latency.Max))
	for _, p := range slices.Sorted(maps.Keys(r.PerPlatform)) {
		l := r.PerPlatform[p]
		fmt.Fprintf(w, "  %-8s n=%d p50 %.1f ms  p99 %.1f ms  p99.9 %.1f ms\n", p, l.N, ms(l.P50), ms(l.P99), ms(l.P999))
	}
	if len(r.GotEffects) > 0 {
		fmt.Fprintf(w, "stored effects: %d of %d acknowledged (%.1f/s, from the first send until the count stopped growing):", r.Stored(), r.Wanted(), r.StoredPerSecond())
		for _, t := range slices.Sorted(maps.Keys(r.GotEffects)) {
			fmt.Fprintf(w, " %s %d/%d", t, r.GotEffects[t], r.WantEffects[t])
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "effects acknowledged: %d (no database given: stored effects not counted)\n", r.Wanted())
	}
	fmt.Fprintf(w, "errors: %d", r.errorCount())
	for _, e := range slices.Sorted(maps.Keys(r.Errors)) {
		fmt.Fprintf(w, "; %s × %d", e, r.Errors[e])
	}
	fmt.Fprintln(w)
	if r.Setup.Communities > 0 {
		fmt.Fprintf(w, "setup: %d communities, %d organisers promoted in the database, %d without the goal\n",
			r.Setup.Communities, r.Setup.Promoted, r.Setup.Failed)
	}
}

// newRunID returns a random six-digit id for the community ids of one run.
func newRunID() string {
	return fmt.Sprintf("%06d", rand.IntN(1_000_000))
}
