package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

var _ Producer = (*PledgeReminders)(nil)

// PledgeReminderLead is how long before a goal's due date its open pledges
// are reminded.
const PledgeReminderLead = 7 * 24 * time.Hour

// PledgeReminderGrace is how old a pledge must be before it is reminded: a
// pledge made inside the last week before the due date is reminded a day
// after it was made, not the moment it was made.
const PledgeReminderGrace = 24 * time.Hour

// PledgeSlotPrefix starts the outbox slot key of a pledge reminder, which is
// "pledge:<pledge no>" (the per-community number members see as #no).
const PledgeSlotPrefix = "pledge:"

// pledgeBatch bounds how many reminders of one community one Produce
// enqueues; the rest are enqueued by the next call.
const pledgeBatch = 100

// PledgeReminder is an open pledge whose reminder has fallen due.
type PledgeReminder struct {
	// No is the pledge's per-community number.
	No int64
	// Member is who made it, with the platform reference to reach them.
	Member bot.Member
	// Goal is the pledge's goal (Title, Slug, Unit and DueAt are set).
	Goal goal.Goal
	// Open is what is neither fulfilled nor cancelled (positive).
	Open bot.Amount
	// CreatedAt is when the pledge was made.
	CreatedAt time.Time
	// Timezone is the community's timezone setting, to show the due date.
	Timezone string
}

// PledgeStore is what the pledge reminder producer reads.
type PledgeStore interface {
	// PledgeReminderCommunities returns, in id order, the communities that
	// have a pledge reminder due at now (see DuePledgeReminders) not yet in
	// the outbox.
	PledgeReminderCommunities(ctx context.Context, now time.Time) ([]bot.CommunityID, error)
	// DuePledgeReminders returns up to limit of community c's pledges whose
	// reminder is due at now and not yet in the outbox, lowest number first:
	// something is still open, the goal is active and due after now but
	// within PledgeReminderLead of it, the pledge was made at least
	// PledgeReminderGrace before now, and the member has not left. It only
	// reads.
	DuePledgeReminders(ctx context.Context, c bot.CommunityID, now time.Time, limit int) ([]PledgeReminder, error)
}

// PledgeReminders produces one friendly private reminder per open pledge, a
// week before its goal's due date: a Direct reminder to the member, keyed
// PledgeSlotKey(no), saying what is open and how to fulfil it.
//
// A reminder is due at the later of the goal's due date less
// PledgeReminderLead and the pledge's creation plus PledgeReminderGrace: a
// pledge made in the goal's last week is reminded a day after it was made,
// and one made in the goal's last day is not reminded at all (its member
// has just committed). It stays relevant until the goal's due date
// (NotAfter).
//
// A reminder is enqueued only once it is due, with the pledge as it is
// then, so a pledge fulfilled or cancelled, or a goal closed, before then
// gets none. The slot key makes it once per pledge: a due date moved later
// after the reminder went out does not remind again. Produce is idempotent
// and safe on several replicas (the outbox's unique slot decides); it holds
// no state.
type PledgeReminders struct {
	store PledgeStore
}

// NewPledgeReminders returns the pledge reminder producer over store.
func NewPledgeReminders(store PledgeStore) *PledgeReminders {
	return &PledgeReminders{store: store}
}

// Produce enqueues into out the reminder of every pledge whose reminder is
// due at now. It carries on past one community's failure and returns all
// failures joined.
func (p *PledgeReminders) Produce(ctx context.Context, now time.Time, out bot.Outbox) error {
	comms, err := p.store.PledgeReminderCommunities(ctx, now)
	if err != nil {
		return fmt.Errorf("pledge reminders: %w", err)
	}
	var errs []error
	for _, c := range comms {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		rs, err := p.store.DuePledgeReminders(ctx, c, now, pledgeBatch)
		if err != nil {
			errs = append(errs, fmt.Errorf("pledge reminders of community %d: %w", c, err))
			continue
		}
		for _, r := range rs {
			if _, err := out.Enqueue(ctx, pledgePost(c, r)); err != nil {
				errs = append(errs, fmt.Errorf("pledge reminder #%d of community %d: %w", r.No, c, err))
			}
		}
	}
	return errors.Join(errs...)
}

// PledgeSlotKey is the outbox slot key of pledge no's reminder.
func PledgeSlotKey(no int64) string { return fmt.Sprintf("%s%d", PledgeSlotPrefix, no) }

// pledgePost is r's reminder as an outbox post.
func pledgePost(c bot.CommunityID, r PledgeReminder) bot.Post {
	due := r.Goal.DueAt.Add(-PledgeReminderLead)
	if grace := r.CreatedAt.Add(PledgeReminderGrace); grace.After(due) {
		due = grace
	}
	loc, err := bot.LoadZone(r.Timezone)
	if err != nil {
		loc = time.UTC
	}
	u := r.Goal.Unit
	text := fmt.Sprintf("Friendly reminder: %s of your pledge #%d to %s is still open, and the goal is due %s. "+
		"When it's done: /pledge done #%d (or /pledge done #%d <amount> for part of it). Can't make it? /pledge cancel #%d",
		r.Open.WithUnit(u), r.No, r.Goal.Label(), goal.DueDay(r.Goal.DueAt, loc), r.No, r.No, r.No)
	return bot.Post{Community: c, Kind: bot.PostReminder, SlotKey: PledgeSlotKey(r.No), DueAt: due.UTC(), NotAfter: r.Goal.DueAt.UTC(),
		Message: bot.Message{Visibility: bot.Direct, Kind: bot.PostReminder, To: r.Member, Text: text}}
}
