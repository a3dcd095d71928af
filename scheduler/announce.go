package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/announce"
)

var _ Producer = (*Announcements)(nil)

// DefaultAnnouncementGrace is how long after its time an announcement is
// still worth posting, unless the producer is given another grace.
const DefaultAnnouncementGrace = 24 * time.Hour

// announcementBatch bounds how many due announcements of one community, and
// how many occurrences of one announcement, one Produce handles; the rest
// are handled by the next call.
const announcementBatch = 100

// AnnouncementStore is what the announcement producer reads and advances.
type AnnouncementStore interface {
	// AnnouncementCommunities returns the communities with an active
	// announcement due at or before now.
	AnnouncementCommunities(ctx context.Context, now time.Time) ([]bot.CommunityID, error)
	// DueAnnouncements returns up to limit of c's active announcements due
	// at or before now, the earliest due first.
	DueAnnouncements(ctx context.Context, c bot.CommunityID, now time.Time, limit int) ([]announce.Announcement, error)
	// AdvanceAnnouncement moves c's announcement no past its occurrence at
	// from (recurring: the next occurrence after from in the community's
	// current timezone; one-off: done) and returns it as it is afterwards.
	// It is conditional: when no is no longer active and due at from,
	// nothing changes and advanced is false.
	AdvanceAnnouncement(ctx context.Context, c bot.CommunityID, no int64, from time.Time) (a announce.Announcement, advanced bool, err error)
}

// Announcements produces organisers' scheduled announcements: each
// occurrence of an active announcement becomes one outbox post, keyed
// "<no>:<occurrence in UTC, RFC 3339>", due at the occurrence and relevant
// for the grace after it.
//
// Each occurrence is enqueued first and the announcement advanced right
// after, conditionally on it still being due at that occurrence. A crash
// between the two enqueues the same slot again on the next call, which the
// outbox ignores, and then advances: never lost, never doubled.
//
// Occurrences missed while the service was down are each enqueued, oldest
// first, with their own NotAfter: those past their grace are recorded as
// skipped by the dispatcher, and the rest are posted. A recurring
// announcement therefore catches up with at most the occurrences inside its
// grace, and every skipped one leaves a row saying so.
//
// An organiser cancelling an announcement at the instant it falls due can
// race with Produce; the occurrence then may still be posted once.
// Announcements is safe for concurrent use.
type Announcements struct {
	store AnnouncementStore
	grace time.Duration
}

// NewAnnouncements returns the announcement producer over store. grace is
// how long after its time an occurrence is still posted; zero or less means
// DefaultAnnouncementGrace.
func NewAnnouncements(store AnnouncementStore, grace time.Duration) *Announcements {
	if grace <= 0 {
		grace = DefaultAnnouncementGrace
	}
	return &Announcements{store: store, grace: grace}
}

// Produce enqueues into out every occurrence of an active announcement due
// at or before now and advances each announcement past it. It carries on
// past one community's failure and returns all failures joined.
func (p *Announcements) Produce(ctx context.Context, now time.Time, out bot.Outbox) error {
	comms, err := p.store.AnnouncementCommunities(ctx, now)
	if err != nil {
		return fmt.Errorf("announcements: %w", err)
	}
	var errs []error
	for _, c := range comms {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		as, err := p.store.DueAnnouncements(ctx, c, now, announcementBatch)
		if err != nil {
			errs = append(errs, fmt.Errorf("announcements of community %d: %w", c, err))
			continue
		}
		for _, a := range as {
			if err := p.announcement(ctx, now, out, c, a); err != nil {
				errs = append(errs, fmt.Errorf("announcement #%d of community %d: %w", a.No, c, err))
			}
		}
	}
	return errors.Join(errs...)
}

// announcement enqueues a's occurrences at or before now, advancing it past
// each.
func (p *Announcements) announcement(ctx context.Context, now time.Time, out bot.Outbox, c bot.CommunityID, a announce.Announcement) error {
	for i := 0; i < announcementBatch && a.Status == announce.StatusActive && !a.NextAt.IsZero() && !a.NextAt.After(now); i++ {
		at := a.NextAt.UTC()
		post := bot.Post{Community: c, Kind: bot.PostAnnouncement, SlotKey: AnnouncementSlotKey(a.No, at), DueAt: at, NotAfter: at.Add(p.grace),
			Message: bot.Message{Visibility: bot.Public, Kind: bot.PostAnnouncement, Channel: a.Channel, Text: a.Message}}
		if _, err := out.Enqueue(ctx, post); err != nil {
			return fmt.Errorf("enqueue %s: %w", post.SlotKey, err)
		}
		next, advanced, err := p.store.AdvanceAnnouncement(ctx, c, a.No, at)
		if err != nil {
			return err
		}
		if !advanced {
			// Another replica advanced it, or it was cancelled or re-timed:
			// the next call sees it as it is now.
			return nil
		}
		a = next
	}
	return nil
}

// AnnouncementSlotKey is the outbox slot key of announcement no's
// occurrence at at.
func AnnouncementSlotKey(no int64, at time.Time) string {
	return fmt.Sprintf("%d:%s", no, at.UTC().Format(time.RFC3339))
}
