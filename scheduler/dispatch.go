package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
// claims that already look expired to other replicas.
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
		for _, c := range batch {
			if m, ok := s.send(ctx, at, c); ok {
				out = append(out, m)
			}
		}
	}
}

// send handles one claimed row and returns the message to show for it: the
// post when it was sent, or the organisers' notice when it failed or its
// outcome is unknown.
func (s *Scheduler) send(ctx context.Context, now time.Time, c Claimed) (bot.Message, bool) {
	if c.Invalid != "" {
		return s.fail(ctx, now, c, c.Invalid)
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
		return s.fail(ctx, now, c, err.Error())
	case errors.Is(err, bot.ErrUncertain):
		return s.resolve(ctx, now, c, err.Error())
	default:
		if c.Attempts+1 >= s.MaxAttempts {
			return s.fail(ctx, now, c, fmt.Sprintf("gave up after %d attempts: %v", c.Attempts+1, err))
		}
		s.mark(ctx, c, "retry", func(ctx context.Context) error {
			return s.store.Retry(ctx, c.ID, c.Token, now, now.Add(backoff(c.Attempts+1)), err.Error())
		})
		return bot.Message{}, false
	}
}

// resolve checks once whether an uncertain post is on the platform: found,
// the row is sent; otherwise it is unknown and the organisers are told. It
// never posts again.
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
	if !s.mark(ctx, c, "unknown", func(ctx context.Context) error {
		return s.store.MarkUnknown(ctx, c.ID, c.Token, reason, now)
	}) {
		return bot.Message{}, false
	}
	s.log.Warn("scheduled post outcome unknown; organisers told", "community", c.Community, "kind", c.Kind, "slot", c.SlotKey, "reason", reason)
	return notice(c, "may not have been posted, and was not sent again so as not to post it twice", reason), true
}

// fail marks c failed for good and returns the organisers' notice.
func (s *Scheduler) fail(ctx context.Context, now time.Time, c Claimed, reason string) (bot.Message, bool) {
	if !s.mark(ctx, c, "failed", func(ctx context.Context) error {
		return s.store.MarkFailed(ctx, c.ID, c.Token, reason, now)
	}) {
		return bot.Message{}, false
	}
	s.log.Warn("scheduled post failed; organisers told", "community", c.Community, "kind", c.Kind, "slot", c.SlotKey, "reason", reason)
	return notice(c, "could not be posted and will not be retried", reason), true
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

// notice is the private message telling the organisers of c's community
// what happened to it.
func notice(c Claimed, what, reason string) bot.Message {
	kind := string(c.Kind)
	if kind == "" {
		kind = "scheduled"
	}
	return bot.Message{
		Visibility: bot.Direct,
		To:         bot.Member{Name: "organisers"},
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
