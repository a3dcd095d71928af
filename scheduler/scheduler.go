// Package scheduler sends scheduled posts at most once and never loses one
// silently. Producers decide what is due and enqueue it in the outbox (one
// row per community, kind and slot); the dispatcher claims due rows with an
// expiring claim, posts them through a bot.Poster and records each outcome
// under that claim, so any number of replicas can run it on one database.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/missionbot/missionbot/bot"
)

// Producer finds what fell due up to now and enqueues it in out. It must be
// idempotent: every tick calls it again, and the outbox's unique slot keys
// make a repeat harmless. It must be safe to run on several replicas at once.
type Producer interface {
	Produce(ctx context.Context, now time.Time, out bot.Outbox) error
}

// ErrClaimLost reports that a row's claim is no longer this dispatcher's:
// it expired and another dispatcher took the row, or the row is no longer
// pending. Nothing was changed.
var ErrClaimLost = errors.New("outbox claim lost")

// Claimed is an outbox row claimed for sending, valid until ClaimedUntil
// under Token.
type Claimed struct {
	ID        int64
	Community bot.CommunityID
	// Ref is the community as its platform knows it, for the Poster.
	Ref          bot.CommunityRef
	Kind         bot.PostKind
	SlotKey      string
	DueAt        time.Time
	NotAfter     time.Time // zero: always relevant
	Message      bot.Message
	Token        string
	ClaimedUntil time.Time
	// Attempts counts transient failures so far.
	Attempts int
	// InFlight says a previous holder began sending the row and never
	// recorded the outcome: it may have been posted.
	InFlight bool
	// Invalid, when set, says why the row cannot be sent as stored; the
	// dispatcher marks it failed with that reason and tells the organisers.
	Invalid string
}

// Failure is a community's scheduled post that failed or whose outcome is
// unknown, for /digest to show.
type Failure struct {
	Kind    bot.PostKind
	SlotKey string
	// Status is "failed" or "unknown".
	Status string
	Reason string
	At     time.Time
}

// Store is the outbox the dispatcher works on. Every method after Claim is
// conditional on the claim's token (and the row still pending) and returns
// an error wrapping ErrClaimLost when it is not this dispatcher's any more.
// All methods are safe for concurrent use across replicas.
type Store interface {
	bot.Outbox
	// Claim claims up to limit pending rows due at now (and rows whose
	// claim expired), the earliest due first, until now+claimFor under
	// token. Two concurrent claims never get the same row.
	Claim(ctx context.Context, now time.Time, limit int, claimFor time.Duration, token string) ([]Claimed, error)
	// Begin records that the holder is about to post the row; it refuses
	// when the claim expired by now.
	Begin(ctx context.Context, id int64, token string, now time.Time) error
	// MarkSent records the row as sent at at, with ref.
	MarkSent(ctx context.Context, id int64, token string, ref bot.MessageRef, at time.Time) error
	// MarkFailed records the row as failed for good, with reason.
	MarkFailed(ctx context.Context, id int64, token, reason string, at time.Time) error
	// MarkUnknown records that whether the row was posted is unknown.
	MarkUnknown(ctx context.Context, id int64, token, reason string, at time.Time) error
	// MarkSkipped records the row as skipped (no longer relevant), with reason.
	MarkSkipped(ctx context.Context, id int64, token, reason string, at time.Time) error
	// Retry releases the row to be claimed again from at, counting one
	// transient failure with reason.
	Retry(ctx context.Context, id int64, token string, now, at time.Time, reason string) error
	// Defer releases the row to be claimed again from at without counting
	// a failure (rate limits).
	Defer(ctx context.Context, id int64, token string, now, at time.Time, reason string) error
}

// Defaults of a Scheduler's tunables.
const (
	DefaultClaimFor    = 5 * time.Minute
	DefaultPostTimeout = 30 * time.Second
	DefaultBatch       = 100
	DefaultMaxAttempts = 6
	// firstBackoff doubles after each transient failure, up to maxBackoff.
	firstBackoff = time.Minute
	maxBackoff   = time.Hour
)

// Scheduler runs the producers and dispatches due outbox rows. It keeps no
// state between calls besides its configuration: the database is the truth,
// so it is safe for concurrent use, and any number of Schedulers (replicas)
// may share one database.
type Scheduler struct {
	store     Store
	poster    bot.Poster
	producers []Producer
	clock     bot.Clock
	log       *slog.Logger

	// ClaimFor is how long a claim lasts; a row whose holder died is taken
	// over after it. It must exceed PostTimeout. Set before first use.
	ClaimFor time.Duration
	// PostTimeout bounds one Post or Find call.
	PostTimeout time.Duration
	// Batch is how many rows one claim takes.
	Batch int
	// MaxAttempts is how many transient failures a row may have before it
	// is marked failed.
	MaxAttempts int
	// Observe, when set, is told each recorded outcome ("sent", "skipped",
	// "deferred", "retry", "failed", "unknown") with the platform and how
	// late the row was (now minus its due time), for metrics. It must not
	// block. Set before first use.
	Observe func(p bot.Platform, outcome string, lag time.Duration)
}

// New returns a Scheduler enqueueing into and dispatching from store. With
// poster nil (no platform adapter) it only runs the producers and leaves
// rows pending for a replica that has one.
func New(store Store, poster bot.Poster, producers []Producer, clock bot.Clock, log *slog.Logger) *Scheduler {
	return &Scheduler{store: store, poster: poster, producers: producers, clock: clock, log: log,
		ClaimFor: DefaultClaimFor, PostTimeout: DefaultPostTimeout, Batch: DefaultBatch, MaxAttempts: DefaultMaxAttempts}
}

// RunDue runs every producer for now (one's error does not stop the others;
// each is logged), then dispatches every row due by now, the earliest first,
// and returns the messages it posted together with the notices for
// organisers about posts that failed or whose outcome is unknown, in due
// order. It returns an error only when it could not claim rows; a failure on
// one row is recorded on that row (or logged) and the others go on.
//
// Organiser notices are returned, not posted: the console prints them, and
// the platform adapters deliver them privately to the organisers.
func (s *Scheduler) RunDue(ctx context.Context, now time.Time) ([]bot.Message, error) {
	for i, p := range s.producers {
		if err := p.Produce(ctx, now, s.store); err != nil {
			s.log.Error("scheduler producer failed; the others go on", "producer", i, "type", fmt.Sprintf("%T", p), "err", err)
		}
	}
	if s.poster == nil {
		return nil, nil
	}
	return s.dispatch(ctx, now)
}

// Run calls RunDue at start and then at the start of every minute, until
// ctx ends; it returns nil then. A tick still running when the next is due
// makes that one skip; a panic in a tick is recovered and logged.
func (s *Scheduler) Run(ctx context.Context) error {
	logger := cronLogger{s.log}
	c := cron.New(cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)), cron.WithLogger(logger))
	tick := func() {
		if _, err := s.RunDue(ctx, s.clock.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("scheduler tick failed; trying again next minute", "err", err)
		}
	}
	id, err := c.AddFunc("* * * * *", tick)
	if err != nil {
		return fmt.Errorf("schedule tick: %w", err)
	}
	c.Start()
	c.Entry(id).WrappedJob.Run() // catch up at start, through the same chain
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}

// newToken returns a random claim token.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}

// eachCommunity runs fn for every community in comms, in id order, going on
// past one community's failure; it returns every failure joined, each
// naming what and the community.
func eachCommunity(ctx context.Context, comms map[bot.CommunityID]bot.Settings, what string, fn func(bot.CommunityID, bot.Settings) error) error {
	ids := make([]bot.CommunityID, 0, len(comms))
	for id := range comms {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := fn(id, comms[id]); err != nil {
			errs = append(errs, fmt.Errorf("%s for community %d: %w", what, id, err))
		}
	}
	return errors.Join(errs...)
}
