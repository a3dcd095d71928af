package bot

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kinds of scheduled post, beyond those a command posts at once.
const (
	PostReminder    PostKind = "reminder"
	PostRecognition PostKind = "recognition"
)

// DigestSlotLayout formats a digest's slot key: its local slot time in the
// community's timezone.
const DigestSlotLayout = "2006-01-02T15:04"

// Post is one scheduled post waiting in the outbox. It is stored once per
// (Community, Kind, SlotKey): enqueueing the same slot again changes nothing.
type Post struct {
	Community CommunityID
	Kind      PostKind
	// SlotKey names the slot: the digest's local slot time, "goal:threshold"
	// for a milestone, "id:occurrence" for an announcement, and so on.
	SlotKey string
	// DueAt is when the post should go out (UTC).
	DueAt time.Time
	// NotAfter, when set, is the last moment the post is still relevant;
	// a post not sent by then is recorded as skipped, with the reason.
	NotAfter time.Time
	// Message is what to post: Public with Channel set, or Direct with To.
	Message Message
}

// Outbox records scheduled posts. Producers call Enqueue; the scheduler's
// dispatcher claims due posts and sends them through a Poster.
type Outbox interface {
	// Enqueue records p unless its slot already exists, and reports whether
	// it was new. Idempotent and safe for concurrent use across replicas.
	Enqueue(ctx context.Context, p Post) (bool, error)
}

// MessageRef names a message a platform accepted.
type MessageRef struct {
	Channel string
	ID      string
}

// Poster sends scheduled and public posts to a platform. Adapters implement
// it; the console prints.
type Poster interface {
	// Post sends m once to community's platform, carrying key (unique per
	// outbox row) where the platform can store it (Slack message metadata,
	// Discord nonce). It never retries; the outbox does. Errors are
	// *RateLimitedError, errors wrapping ErrPermanent or ErrUncertain, or
	// other (transient) errors.
	Post(ctx context.Context, community CommunityRef, m Message, key string) (MessageRef, error)
	// Find looks once for a message carrying key that an uncertain Post may
	// have delivered (Slack: recent history's metadata; Discord: resend with
	// the same nonce inside its window). found reports whether it is there.
	Find(ctx context.Context, community CommunityRef, m Message, key string) (ref MessageRef, found bool, err error)
}

// ErrPermanent marks a post that can never succeed as it is (channel gone,
// bot removed, missing permission): it is not retried, and the organisers
// are told once.
var ErrPermanent = errors.New("permanent post failure")

// ErrUncertain marks a post whose outcome is unknown (timeout, 5xx, crash
// after sending): it is checked once with Poster.Find, never blindly resent.
var ErrUncertain = errors.New("post outcome unknown")

// RateLimitedError says the platform asked to wait before posting again.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited: retry after %s", e.RetryAfter)
}
