package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/volunteer"
)

var (
	_ Producer = (*VolunteerReminders)(nil)
	_ Producer = (*Occurrences)(nil)
)

// Volunteer reminder slots: the day before and an hour before the start.
const (
	ReminderDay  = "day"
	ReminderHour = "hour"
)

// reminderSlots are the reminders each confirmed sign-up gets, and how long
// before the start each is due.
var reminderSlots = []struct {
	slot string
	lead time.Duration
}{
	{ReminderDay, 24 * time.Hour},
	{ReminderHour, time.Hour},
}

// reminderBatch bounds the reminders of one community and slot one Produce
// enqueues; the next call enqueues the rest.
const reminderBatch = 500

// VolunteerReminder is a confirmed sign-up a reminder is due for.
type VolunteerReminder struct {
	SignupID int64
	Member   bot.Member
	// Opportunity has at least ID, No, Title, StartsAt, Duration and Place.
	Opportunity volunteer.Opportunity
	// Timezone is the community's timezone setting, to show the start in.
	Timezone string
}

// ReminderStore is what the volunteer reminder producer reads.
type ReminderStore interface {
	// ReminderCommunities returns the communities with an open opportunity
	// starting in (now, now+lead] that has a confirmed sign-up.
	ReminderCommunities(ctx context.Context, now time.Time, lead time.Duration) ([]bot.CommunityID, error)
	// DueReminders returns up to limit reminders of community c for slot,
	// due lead before the start: confirmed sign-ups of open (not
	// cancelled) opportunities starting in (now, now+lead], confirmed at or
	// before the start minus lead, of members still in the community, and
	// not yet in the outbox under ReminderSlotKey(signup, slot).
	DueReminders(ctx context.Context, c bot.CommunityID, now time.Time, lead time.Duration, slot string, limit int) ([]VolunteerReminder, error)
}

// VolunteerReminders produces the private reminders of volunteer
// opportunities: each confirmed sign-up of an open opportunity gets one the
// day before (due 24 hours before the start, with a Leave button, so a
// freed place reaches the waitlist in time) and one an hour before, keyed
// ReminderSlotKey(signup, ReminderDay or ReminderHour), of kind
// bot.PostReminder, Direct to the member, with the start shown in the
// community's timezone and NotAfter the start: never posted once it began.
//
// A reminder is enqueued only once it is due, and only for members
// confirmed by its due time: whoever left before, or signed up (rejoined,
// or was promoted from the waitlist) after it, gets none; someone who signs
// up 3 hours before the start gets only the hour reminder. A member who
// leaves after a reminder was enqueued may still receive it.
//
// The store leaves out sign-ups already in the outbox, so repeated calls
// enqueue nothing twice and cost little; the outbox's unique slot keys make
// concurrent calls on several replicas harmless. VolunteerReminders is safe
// for concurrent use.
type VolunteerReminders struct {
	store ReminderStore
}

// NewVolunteerReminders returns the volunteer reminder producer over store.
func NewVolunteerReminders(store ReminderStore) *VolunteerReminders {
	return &VolunteerReminders{store: store}
}

// Produce enqueues into out every volunteer reminder due by now. It carries
// on past one community's failure and returns all failures joined.
func (p *VolunteerReminders) Produce(ctx context.Context, now time.Time, out bot.Outbox) error {
	comms, err := p.store.ReminderCommunities(ctx, now, reminderSlots[0].lead)
	if err != nil {
		return fmt.Errorf("volunteer reminders: %w", err)
	}
	var errs []error
	for _, c := range comms {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, s := range reminderSlots {
			if err := p.community(ctx, now, out, c, s.slot, s.lead); err != nil {
				errs = append(errs, fmt.Errorf("volunteer %s reminders of community %d: %w", s.slot, c, err))
			}
		}
	}
	return errors.Join(errs...)
}

// community enqueues community c's reminders of slot due by now.
func (p *VolunteerReminders) community(ctx context.Context, now time.Time, out bot.Outbox, c bot.CommunityID, slot string, lead time.Duration) error {
	rs, err := p.store.DueReminders(ctx, c, now, lead, slot, reminderBatch)
	if err != nil {
		return err
	}
	var loc *time.Location
	for _, r := range rs {
		if loc == nil {
			if loc, err = bot.LoadZone(r.Timezone); err != nil {
				loc = time.UTC
			}
		}
		start := r.Opportunity.StartsAt.UTC()
		post := bot.Post{Community: c, Kind: bot.PostReminder, SlotKey: ReminderSlotKey(r.SignupID, slot),
			DueAt: start.Add(-lead), NotAfter: start, Message: ReminderMessage(r, slot, loc)}
		if _, err := out.Enqueue(ctx, post); err != nil {
			return fmt.Errorf("enqueue %s: %w", post.SlotKey, err)
		}
	}
	return nil
}

// ReminderSlotKey is the outbox slot key of sign-up signup's reminder slot
// (ReminderDay or ReminderHour): "<signup id>:<slot>".
func ReminderSlotKey(signup int64, slot string) string {
	return fmt.Sprintf("%d:%s", signup, slot)
}

// ReminderMessage is r's reminder for slot, a Direct message to r.Member
// with the start shown in loc. The day-before one carries a Leave button
// that runs "/volunteer leave #<no>".
func ReminderMessage(r VolunteerReminder, slot string, loc *time.Location) bot.Message {
	o := r.Opportunity
	at := bot.When{At: o.StartsAt}.String(loc)
	fields := []bot.Field{{Label: "When", Value: at}}
	if d := hoursMinutes(o.Duration); d != "" {
		fields = append(fields, bot.Field{Label: "For", Value: d})
	}
	if o.Place != "" {
		fields = append(fields, bot.Field{Label: "Where", Value: o.Place})
	}
	m := bot.Message{Visibility: bot.Direct, Kind: bot.PostReminder, To: r.Member, Fields: fields}
	if slot == ReminderDay {
		m.Title = "Reminder: " + o.Title
		m.Text = fmt.Sprintf("You're signed up for #%d %s on %s. Can't make it? Leave now so someone on the waitlist can take your place.",
			o.No, o.Title, at)
		m.Buttons = []bot.Button{bot.CommandButton("Leave", fmt.Sprintf("volunteer leave #%d", o.No), bot.ButtonDanger)}
		return m
	}
	m.Title = "Starting soon: " + o.Title
	m.Text = fmt.Sprintf("#%d %s starts at %s. See you there!", o.No, o.Title, at)
	return m
}

// hoursMinutes renders d as people write it: 2h, 1h30m, 45m; "" when zero.
func hoursMinutes(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	m := int(d.Round(time.Minute) / time.Minute)
	var b strings.Builder
	if m >= 60 {
		fmt.Fprintf(&b, "%dh", m/60)
	}
	if m%60 != 0 {
		if m >= 60 {
			fmt.Fprintf(&b, "%02dm", m%60)
		} else {
			fmt.Fprintf(&b, "%dm", m)
		}
	}
	return b.String()
}

// OccurrencesAhead is how far ahead a recurring opportunity's occurrences
// are created.
const OccurrencesAhead = 7 * 24 * time.Hour

// OccurrenceStore is what the occurrence producer reads and creates.
type OccurrenceStore interface {
	// SeriesCommunities returns the communities with an active series.
	SeriesCommunities(ctx context.Context) ([]bot.CommunityID, error)
	// ActiveSeries returns the ids of community c's active series.
	ActiveSeries(ctx context.Context, c bot.CommunityID) ([]int64, error)
	// CreateOccurrences creates, once however many replicas call it at
	// once, the occurrences of c's series seriesID whose rule times (in the
	// community's timezone) fall in (now, until] and do not exist yet, each
	// a numbered opportunity with its own slots, and returns those it made.
	CreateOccurrences(ctx context.Context, c bot.CommunityID, seriesID int64, now, until time.Time) ([]volunteer.Opportunity, error)
}

// Occurrences creates the occurrences of recurring volunteer opportunities
// OccurrencesAhead in advance: on every call, each active series gets the
// occurrences starting within the next week that it lacks, at its rule's
// local time (bot.Recurrence.Next: the same wall-clock time across DST
// changes, a time in a spring-forward gap at the gap's end). Occurrences
// already past (the service was down) are not created. It enqueues
// nothing. The store makes each occurrence once under concurrent calls, so
// Occurrences is idempotent and safe for concurrent use on any number of
// replicas.
type Occurrences struct {
	store OccurrenceStore
}

// NewOccurrences returns the occurrence producer over store.
func NewOccurrences(store OccurrenceStore) *Occurrences {
	return &Occurrences{store: store}
}

// Produce creates every missing occurrence starting in (now,
// now+OccurrencesAhead]. out is unused. It carries on past one series' or
// community's failure and returns all failures joined.
func (p *Occurrences) Produce(ctx context.Context, now time.Time, _ bot.Outbox) error {
	comms, err := p.store.SeriesCommunities(ctx)
	if err != nil {
		return fmt.Errorf("occurrences: %w", err)
	}
	var errs []error
	for _, c := range comms {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		ids, err := p.store.ActiveSeries(ctx, c)
		if err != nil {
			errs = append(errs, fmt.Errorf("occurrences of community %d: %w", c, err))
			continue
		}
		for _, id := range ids {
			if _, err := p.store.CreateOccurrences(ctx, c, id, now, now.Add(OccurrencesAhead)); err != nil {
				errs = append(errs, fmt.Errorf("occurrences of community %d: %w", c, err))
			}
		}
	}
	return errors.Join(errs...)
}
