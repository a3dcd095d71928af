package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// markTimeout bounds recording an outcome; recording goes on when the
// caller's context was cancelled after a post, so a sent post is not left
// looking unsent.
const markTimeout = 10 * time.Second

// Key is the key a row's post carries on its platform (Slack message
// metadata, Discord nonce: at most 25 characters), unique per outbox row.
func Key(id int64) string { return "mbo-" + strconv.FormatInt(id, 10) }

// dispatch claims and sends every row due by now, batch by batch. Claims are
// taken at the later of now and the clock, so a long run does not hold
// claims that already look expired to other replicas. Within a batch, each
// community's rows are sent in due order by one worker, and up to Workers
// communities are sent to at once; the messages come back in due order.
func (s *Scheduler) dispatch(ctx context.Context, now time.Time) ([]bot.Message, error) {
	var out []bot.Message
	for {
		at := now
		if c := s.clock.Now(); c.After(at) {
			at = c
		}
		batch, err := s.store.Claim(ctx, at, s.Batch, s.ClaimFor, newToken())
		if err != nil {
			return out, fmt.Errorf("claim due posts: %w", err)
		}
		if len(batch) == 0 {
			return out, nil
		}
		out = append(out, s.sendBatch(ctx, at, batch)...)
	}
}

// sendBatch sends a claimed batch (in due order) and returns what was
// posted, in the same order.
func (s *Scheduler) sendBatch(ctx context.Context, at time.Time, batch []Claimed) []bot.Message {
	shown := make([]*bot.Message, len(batch))
	var groups [][]int // indexes into batch, one group per community, in due order
	byCommunity := map[bot.CommunityID]int{}
	for i, c := range batch {
		g, ok := byCommunity[c.Community]
		if !ok {
			g = len(groups)
			byCommunity[c.Community] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	sendGroup := func(g []int) {
		for _, i := range g {
			if m, ok := s.send(ctx, at, batch[i]); ok {
				shown[i] = &m
			}
		}
	}
	if workers := min(max(s.Workers, 1), len(groups)); workers == 1 {
		for _, g := range groups {
			sendGroup(g)
		}
	} else {
		next := make(chan []int)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for g := range next {
					sendGroup(g)
				}
			})
		}
		for _, g := range groups {
			next <- g
		}
		close(next)
		wg.Wait()
	}
	var out []bot.Message
	for _, m := range shown {
		if m != nil {
			out = append(out, *m)
		}
	}
	return out
}

// send handles one claimed row and returns the message when this call
// posted it. A failed or unknown row's organiser notices are enqueued as
// rows of their own when the outcome is recorded, and posted from there.
func (s *Scheduler) send(ctx context.Context, now time.Time, c Claimed) (bot.Message, bool) {
	if c.Invalid != "" {
		s.fail(ctx, now, c, c.Invalid)
		return bot.Message{}, false
	}
	if c.InFlight {
		return s.resolve(ctx, now, c, "a previous send was interrupted before its outcome was recorded")
	}
	if !c.NotAfter.IsZero() && now.After(c.NotAfter) {
		reason := fmt.Sprintf("not sent by %s (due %s), when it stopped being relevant",
			c.NotAfter.UTC().Format(time.RFC3339), c.DueAt.UTC().Format(time.RFC3339))
		s.mark(ctx, c, "skipped", func(ctx context.Context) error {
			return s.store.MarkSkipped(ctx, c.ID, c.Token, reason, now)
		})
		s.log.Info("scheduled post skipped", "community", c.Community, "kind", c.Kind, "slot", c.SlotKey, "reason", reason)
		return bot.Message{}, false
	}
	if err := s.store.Begin(ctx, c.ID, c.Token, now); err != nil {
		// Not posted: the row stays with whoever holds it, or is claimed again.
		s.log.Warn("scheduled post not started", "community", c.Community, "kind", c.Kind, "slot", c.SlotKey, "err", err)
		return bot.Message{}, false
	}
	pctx, cancel := context.WithTimeout(ctx, s.PostTimeout)
	ref, err := s.poster.Post(pctx, c.Ref, c.Message, Key(c.ID))
	cancel()

	var limited *bot.RateLimitedError
	switch {
	case err == nil:
		if s.mark(ctx, c, "sent", func(ctx context.Context) error {
			return s.store.MarkSent(ctx, c.ID, c.Token, ref, now)
		}) {
			return c.Message, true
		}
		return bot.Message{}, false
	case errors.As(err, &limited):
		wait := max(limited.RetryAfter, time.Second)
		s.mark(ctx, c, "deferred", func(ctx context.Context) error {
			return s.store.Defer(ctx, c.ID, c.Token, now, now.Add(wait), err.Error())
		})
		return bot.Message{}, false
	case errors.Is(err, bot.ErrPermanent):
		s.fail(ctx, now, c, err.Error())
		return bot.Message{}, false
	case errors.Is(err, bot.ErrUncertain):
		return s.resolve(ctx, now, c, err.Error())
	default:
		if c.Attempts+1 >= s.MaxAttempts {
			s.fail(ctx, now, c, fmt.Sprintf("gave up after %d attempts: %v", c.Attempts+1, err))
			return bot.Message{}, false
		}
		s.mark(ctx, c, "retry", func(ctx context.Context) error {
			return s.store.Retry(ctx, c.ID, c.Token, now, now.Add(backoff(c.Attempts+1)), err.Error())
		})
		return bot.Message{}, false
	}
}

// resolve checks once whether an uncertain post is on the platform: found,
// the row is sent (and returned when this dispatcher posted it); otherwise
// it is unknown and the organisers' notices are enqueued with that outcome.
// It never posts again.
func (s *Scheduler) resolve(ctx context.Context, now time.Time, c Claimed, why string) (bot.Message, bool) {
	fctx, cancel := context.WithTimeout(ctx, s.PostTimeout)
	ref, found, err := s.poster.Find(fctx, c.Ref, c.Message, Key(c.ID))
	cancel()
	if err == nil && found {
		// Shown only when this dispatcher posted it; an interrupted
		// holder's post was shown (or not) by that holder.
		ok := s.mark(ctx, c, "sent", func(ctx context.Context) error {
			return s.store.MarkSent(ctx, c.ID, c.Token, ref, now)
		})
		return c.Message, ok && !c.InFlight
	}
	reason := why + "; not found on the platform"
	if err != nil {
		reason = fmt.Sprintf("%s; checking the platform failed: %v", why, err)
	}
	n := notice(c, "may not have been posted, and was not sent again so as not to post it twice", reason)
	if s.mark(ctx, c, "unknown", func(ctx context.Context) error {
		return s.store.MarkUnknown(ctx, c.ID, c.Token, reason, now, n)
	}) {
		s.log.Warn("scheduled post outcome unknown; organisers told", "community", c.Community, "kind", c.Kind, "slot", c.SlotKey, "reason", reason)
	}
	return bot.Message{}, false
}

// fail marks c failed for good, enqueueing the organisers' notices with it.
func (s *Scheduler) fail(ctx context.Context, now time.Time, c Claimed, reason string) {
	n := notice(c, "could not be posted and will not be retried", reason)
	if s.mark(ctx, c, "failed", func(ctx context.Context) error {
		return s.store.MarkFailed(ctx, c.ID, c.Token, reason, now, n)
	}) {
		s.log.Warn("scheduled post failed; organisers told", "community", c.Community, "kind", c.Kind, "slot", c.SlotKey, "reason", reason)
	}
}

// mark records an outcome with fn, even when ctx was cancelled meanwhile,
// and reports whether it was recorded. A refusal (the claim was lost) or a
// database error is logged: the row is then another dispatcher's, or is
// taken over when the claim expires and checked before any resend.
func (s *Scheduler) mark(ctx context.Context, c Claimed, outcome string, fn func(context.Context) error) bool {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	if err := fn(mctx); err != nil {
		s.log.Warn("recording a scheduled post's outcome failed", "community", c.Community, "kind", c.Kind, "slot", c.SlotKey,
			"outcome", outcome, "err", err)
		return false
	}
	if s.Observe != nil {
		s.Observe(c.Ref.Platform, outcome, s.clock.Now().Sub(c.DueAt))
	}
	return true
}

// notice is the private message telling an organiser of c's community what
// happened to it; the store addresses one copy to each organiser. A notice
// row gets none, so a failing notice never makes notices about itself.
func notice(c Claimed, what, reason string) bot.Message {
	if c.Kind == PostNotice {
		return bot.Message{}
	}
	kind := string(c.Kind)
	if kind == "" {
		kind = "scheduled"
	}
	return bot.Message{
		Visibility: bot.Direct,
		Kind:       PostNotice,
		Title:      "A scheduled post needs attention",
		Text:       fmt.Sprintf("The %s post for %s (due %s) %s: %s.", kind, c.SlotKey, c.DueAt.UTC().Format("2006-01-02 15:04 UTC"), what, reason),
	}
}

// backoff is the wait after the n-th transient failure: one minute,
// doubling, at most an hour.
func backoff(n int) time.Duration {
	d := firstBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}
