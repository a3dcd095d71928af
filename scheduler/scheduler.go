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
	"strconv"
	"sync"
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
	// MarkFailed records the row as failed for good, with reason, and in
	// the same transaction enqueues notice for the organisers (see
	// NoticeSlot): one PostNotice row per organiser of the row's community
	// (added organisers, and platform admins when admins count as
	// organisers), Direct to that organiser, due at at. A zero notice, or a
	// row that is itself a notice, enqueues nothing.
	MarkFailed(ctx context.Context, id int64, token, reason string, at time.Time, notice bot.Message) error
	// MarkUnknown records that whether the row was posted is unknown, with
	// reason, and enqueues notice as MarkFailed does.
	MarkUnknown(ctx context.Context, id int64, token, reason string, at time.Time, notice bot.Message) error
	// MarkSkipped records the row as skipped (no longer relevant), with reason.
	MarkSkipped(ctx context.Context, id int64, token, reason string, at time.Time) error
	// Retry releases the row to be claimed again from at, counting one
	// transient failure with reason.
	Retry(ctx context.Context, id int64, token string, now, at time.Time, reason string) error
	// Defer releases the row to be claimed again from at without counting
	// a failure (rate limits).
	Defer(ctx context.Context, id int64, token string, now, at time.Time, reason string) error
}

// PostNotice is the kind of a private notice to one organiser about a
// scheduled post that failed or whose outcome is unknown. A notice that
// fails is recorded like any row, but never causes notices about itself.
const PostNotice bot.PostKind = "notice"

// NoticeSlot is the slot key of the notice about outbox row id to member:
// one notice per failed row and organiser, whoever records the failure.
func NoticeSlot(id int64, member bot.MemberID) string {
	return strconv.FormatInt(id, 10) + ":" + strconv.FormatInt(int64(member), 10)
}

// ProduceLease names the coordination lease a Scheduler with a Locker holds
// while its producers run.
const ProduceLease = "scheduler-produce"

// Defaults of a Scheduler's tunables.
const (
	DefaultClaimFor    = 5 * time.Minute
	DefaultPostTimeout = 30 * time.Second
	DefaultBatch       = 100
	DefaultMaxAttempts = 6
	DefaultWorkers     = 8
	// DefaultKickGap is the least time between two kicked dispatches.
	DefaultKickGap = 50 * time.Millisecond
	// DefaultLeaseFor is how long the produce lease lasts unless its holder
	// extends it (every third of it, while the producers run): a replica
	// that dies mid-production blocks the others' producers this long at
	// most, so the posts it did not enqueue are enqueued at the next tick
	// after that.
	DefaultLeaseFor = 15 * time.Second
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
	// Workers is how many communities' rows of a batch are sent at once;
	// one community's rows are always sent one after another, in due
	// order. 1 sends everything in due order.
	Workers int
	// MaxAttempts is how many transient failures a row may have before it
	// is marked failed.
	MaxAttempts int
	// Observe, when set, is told each recorded outcome ("sent", "skipped",
	// "deferred", "retry", "failed", "unknown") with the platform and how
	// late the row was (now minus its due time), for metrics. It must not
	// block, and must be safe for concurrent use (Workers call it at
	// once). Set before first use.
	Observe func(p bot.Platform, outcome string, lag time.Duration)
	// Locker, when set, makes RunDue run the producers only while holding
	// the lease Keys.Lease(ProduceLease), so that of several replicas
	// ticking together one runs them and the others go straight to
	// dispatching. It only saves work: when the lease is held elsewhere the
	// producers are skipped this tick, and when the locker fails they run
	// anyway, since the outbox's unique slot keys keep repeats harmless.
	// Dispatching never waits for it (claims carry correctness). Set Locker
	// and Keys before first use.
	Locker bot.Locker
	Keys   bot.Keys
	// LeaseFor is how long the produce lease lasts between extensions;
	// its holder extends it every LeaseFor/3 while its producers run. Set
	// before first use.
	LeaseFor time.Duration
	// KickGap is the least time between two dispatches caused by Kick:
	// kicks that arrive sooner merge into one dispatch at the end of the
	// gap, so a burst of commands costs a few dispatches, not one each.
	// Zero dispatches on every kick. Set before Run.
	KickGap time.Duration

	kick chan struct{}
}

// New returns a Scheduler enqueueing into and dispatching from store. With
// poster nil (no platform adapter) it only runs the producers and leaves
// rows pending for a replica that has one.
func New(store Store, poster bot.Poster, producers []Producer, clock bot.Clock, log *slog.Logger) *Scheduler {
	return &Scheduler{store: store, poster: poster, producers: producers, clock: clock, log: log,
		ClaimFor: DefaultClaimFor, PostTimeout: DefaultPostTimeout, Batch: DefaultBatch, MaxAttempts: DefaultMaxAttempts, Workers: DefaultWorkers,
		KickGap: DefaultKickGap, LeaseFor: DefaultLeaseFor, kick: make(chan struct{}, 1)}
}

// RunDue runs every producer for now (one's error does not stop the others;
// each is logged), then dispatches every row due by now (see Dispatch) and
// returns the messages it posted, in due order. It returns an error only
// when it could not claim rows; a failure on one row is recorded on that row
// (or logged) and the others go on.
func (s *Scheduler) RunDue(ctx context.Context, now time.Time) ([]bot.Message, error) {
	s.produce(ctx, now)
	return s.Dispatch(ctx, now)
}

// Dispatch sends every outbox row due by now, without running the
// producers: batches of the earliest due, each community's rows in due
// order (see Workers). It returns the messages it posted, in due order:
// public posts, reminders, and the private notices to organisers about
// posts that failed or whose outcome is unknown (each notice is a row of its
// own, enqueued when the failure is recorded, and is posted in the same
// call). With no poster it does nothing. It returns an error only when it
// could not claim rows. Safe for concurrent use, on any number of replicas.
func (s *Scheduler) Dispatch(ctx context.Context, now time.Time) ([]bot.Message, error) {
	if s.poster == nil {
		return nil, nil
	}
	return s.dispatch(ctx, now)
}

// produce runs the producers for now, under the produce lease when a
// Locker is set.
func (s *Scheduler) produce(ctx context.Context, now time.Time) {
	if len(s.producers) == 0 {
		return
	}
	if s.Locker != nil {
		lease, ok, err := s.Locker.Acquire(ctx, s.Keys.Lease(ProduceLease), s.LeaseFor)
		switch {
		case err != nil:
			s.log.Warn("scheduler produce lease unavailable; running the producers anyway", "err", err)
		case !ok:
			return // another replica runs them this tick
		default:
			stop := s.keepLease(ctx, lease)
			defer func() {
				stop()
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
				defer cancel()
				if err := lease.Release(rctx); err != nil && !errors.Is(err, bot.ErrLeaseLost) {
					s.log.Warn("releasing the scheduler produce lease failed; it expires by itself", "err", err)
				}
			}()
		}
	}
	for i, p := range s.producers {
		if err := p.Produce(ctx, now, s.store); err != nil {
			s.log.Error("scheduler producer failed; the others go on", "producer", i, "type", fmt.Sprintf("%T", p), "err", err)
		}
	}
}

// keepLease extends lease every LeaseFor/3 until the returned function is
// called (which waits for the extending goroutine to end). A lost lease is
// logged and no longer extended; the producers go on, since the outbox's
// unique slot keys keep a second producer harmless.
func (s *Scheduler) keepLease(ctx context.Context, lease bot.Lease) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(max(s.LeaseFor/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lease.Extend(ctx, s.LeaseFor); err != nil {
					s.log.Warn("extending the scheduler produce lease failed; producing on", "err", err)
					if errors.Is(err, bot.ErrLeaseLost) {
						return
					}
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// Kick asks a running Run to dispatch due rows now rather than at the next
// minute, e.g. after a command enqueued a milestone post. It never blocks;
// kicks that arrive while one is pending are merged into it. Without Run it
// does nothing useful. Safe for concurrent use.
func (s *Scheduler) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run calls RunDue at start and then at the start of every minute, and
// Dispatch whenever Kick is called (at most once per KickGap), until ctx
// ends; it returns nil then. A tick still running when the next is due
// makes that one skip; a panic in a tick or a kicked dispatch is recovered
// and logged.
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
	for {
		select {
		case <-ctx.Done():
			<-c.Stop().Done()
			return nil
		case <-s.kick:
			s.kicked(ctx)
			if s.KickGap > 0 {
				// Kicks meanwhile wait in the channel, merged into one.
				gap := time.NewTimer(s.KickGap)
				select {
				case <-ctx.Done():
				case <-gap.C:
				}
				gap.Stop()
			}
		}
	}
}

// kicked dispatches once for Kick, recovering a panic.
func (s *Scheduler) kicked(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("scheduler kicked dispatch panicked", "panic", fmt.Sprint(r))
		}
	}()
	if _, err := s.Dispatch(ctx, s.clock.Now()); err != nil && ctx.Err() == nil {
		s.log.Error("scheduler kicked dispatch failed; the next tick tries again", "err", err)
	}
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
