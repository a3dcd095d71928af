package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/recognition"
)

var _ Producer = (*Retention)(nil)

// retentionBatch bounds how many members of one community one Produce
// erases; the rest are erased by the next call.
const retentionBatch = 100

// RetentionStore is what the retention job reads and erases.
type RetentionStore interface {
	// RetentionCommunities returns every community with a member who left
	// and is not yet erased, with its retention period in days.
	RetentionCommunities(ctx context.Context) (map[bot.CommunityID]int, error)
	// ErasableMembers returns up to limit of c's members due for erasure:
	// those who left before cutoff and are still departed and not
	// forgotten, and those whose erasure was claimed (ClaimErasure) but not
	// finished (forgotten and not yet hidden); lowest id first. It only
	// reads.
	ErasableMembers(ctx context.Context, c bot.CommunityID, cutoff time.Time, limit int) ([]bot.MemberID, error)
	// ClaimErasure marks member forgotten (and not hidden, until Forget
	// hides them: that is how an unfinished erasure is recognised), and so
	// committed to erasure, only if they are still departed since before
	// cutoff and not forgotten, or already claimed; it reports whether they
	// are to be erased. A member who came back in the meantime is not
	// claimed.
	ClaimErasure(ctx context.Context, c bot.CommunityID, member bot.MemberID, cutoff time.Time) (bool, error)
	// Forget erases member's personal data exactly as /myimpact forget
	// does, in one transaction, keeping their counts anonymously. It is
	// idempotent.
	Forget(ctx context.Context, c bot.CommunityID, member bot.MemberID) (recognition.Erased, error)
}

// Retention is a job, not a producer of posts: it erases the personal data
// of members who left the workspace or guild more than their community's
// retention period (settings: retention days) ago, exactly as /myimpact
// forget does: names and the texts they wrote go, counts stay, anonymous.
//
// Each member is first claimed (marked forgotten, conditionally on still
// being departed past the cutoff), then erased; a crash in between leaves a
// claimed member that the next call finishes. A member who rejoins before
// the claim keeps their data. Produce enqueues nothing, is idempotent and
// safe on several replicas (the claim and Forget are).
//
// Retention is measured in days, so Produce does its work at most once per
// RetentionInterval of now; calls in between return at once. It is safe for
// concurrent use.
type Retention struct {
	store RetentionStore

	mu   sync.Mutex
	last time.Time // now of the last call that did the work
}

// RetentionInterval is how often the retention job looks for members to
// erase.
const RetentionInterval = time.Hour

// NewRetention returns the retention job over store.
func NewRetention(store RetentionStore) *Retention {
	return &Retention{store: store}
}

// Produce erases every member whose retention ran out by now, unless it
// already did so less than RetentionInterval before now. out is not used.
// It carries on past one community's or member's failure and returns all
// failures joined; after a failure, or when a community had more members
// to erase than one call erases, the next call works again.
func (p *Retention) Produce(ctx context.Context, now time.Time, _ bot.Outbox) error {
	p.mu.Lock()
	if !p.last.IsZero() && now.Before(p.last.Add(RetentionInterval)) && !now.Before(p.last) {
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	more, err := p.run(ctx, now)
	if err == nil && !more {
		p.mu.Lock()
		p.last = now
		p.mu.Unlock()
	}
	return err
}

// run erases every member whose retention ran out by now, up to
// retentionBatch per community; more reports that a batch was full.
func (p *Retention) run(ctx context.Context, now time.Time) (more bool, err error) {
	comms, err := p.store.RetentionCommunities(ctx)
	if err != nil {
		return false, fmt.Errorf("retention: %w", err)
	}
	ids := make([]bot.CommunityID, 0, len(comms))
	for id := range comms {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var errs []error
	for _, c := range ids {
		days := comms[c]
		if err := ctx.Err(); err != nil {
			return more, errors.Join(append(errs, err)...)
		}
		if days <= 0 {
			continue // no retention period set: nothing is erased
		}
		cutoff := now.Add(-time.Duration(days) * 24 * time.Hour)
		ms, err := p.store.ErasableMembers(ctx, c, cutoff, retentionBatch)
		if err != nil {
			errs = append(errs, fmt.Errorf("retention of community %d: %w", c, err))
			continue
		}
		more = more || len(ms) == retentionBatch
		for _, m := range ms {
			if err := p.erase(ctx, c, m, cutoff); err != nil {
				errs = append(errs, fmt.Errorf("retention of member %d of community %d: %w", m, c, err))
			}
		}
	}
	return more, errors.Join(errs...)
}

// erase claims member and erases their data.
func (p *Retention) erase(ctx context.Context, c bot.CommunityID, member bot.MemberID, cutoff time.Time) error {
	ok, err := p.store.ClaimErasure(ctx, c, member, cutoff)
	if err != nil || !ok {
		return err
	}
	_, err = p.store.Forget(ctx, c, member)
	return err
}
