// Package volunteer is volunteering: opportunities (one-off or recurring),
// sign-ups with a first-come-first-served waitlist, rosters, attendance and
// volunteer hours.
package volunteer

import (
	"context"
	"errors"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

// Signup statuses.
const (
	Confirmed  = "confirmed"
	Waitlisted = "waitlisted"
)

// Limits on what an organiser may type.
const (
	MaxSlots    = 10000
	MaxTitleLen = 200
	MaxPlaceLen = 200
)

// Opportunity is one volunteering occasion. A recurring series has one
// Opportunity per occurrence, each with its own slots.
type Opportunity struct {
	// ID is the store's row id; No is the per-community number people see (#4).
	ID       int64
	No       int64
	SeriesID int64 // 0 for a one-off
	// Rule is the series' recurrence text ("every sat 10:00"), "" for a one-off.
	Rule     string
	Slug     string
	Title    string
	StartsAt time.Time // UTC
	Duration time.Duration
	// Slots is the number of places; 0 means unlimited.
	Slots      int
	Place      string
	Cancelled  bool
	Confirmed  int
	Waitlisted int
}

// Full reports whether every place is taken.
func (o Opportunity) Full() bool { return o.Slots > 0 && o.Confirmed >= o.Slots }

// Started reports whether o has begun at now.
func (o Opportunity) Started(now time.Time) bool { return !o.StartsAt.After(now) }

// Signup is a member's place on an opportunity.
type Signup struct {
	Member   bot.Member
	Status   string // Confirmed or Waitlisted
	Position int    // waitlist position, 1 = next to be promoted; 0 when confirmed
	Attended bool
}

// New is what an organiser creates. With Rule set, the store also records
// the series and StartsAt is its first occurrence.
type New struct {
	Title    string
	Slug     string
	Rule     string
	StartsAt time.Time
	Duration time.Duration
	Slots    int
	Place    string
	By       bot.MemberID
	At       time.Time
}

// Edit holds the corrections to an opportunity; nil fields stay as they are.
type Edit struct {
	StartsAt *time.Time
	Duration *time.Duration
	Slots    *int
	Place    *string
}

// JoinResult is where a join put the member.
type JoinResult struct {
	Opportunity Opportunity
	Status      string
	Position    int
}

// LeaveResult is what a withdrawal changed.
type LeaveResult struct {
	Opportunity Opportunity
	// Was is the status the member left from.
	Was string
	// Promoted are the waitlisted members now confirmed, in order.
	Promoted []bot.Member
}

// EditResult is an opportunity before and after an edit.
type EditResult struct {
	Before, After Opportunity
	// SignedUp are the confirmed and waitlisted members (after promotion).
	SignedUp []bot.Member
	// Promoted are the waitlisted members confirmed by raised slots.
	Promoted []bot.Member
}

// Cancelled is what a cancel changed: the occurrences now cancelled and who
// was signed up to each.
type Cancelled struct {
	Opportunities []Opportunity
	// SignedUp maps an opportunity's ID to its confirmed and waitlisted members.
	SignedUp map[int64][]bot.Member
}

// Hours is a member's self-logged volunteer hours.
type Hours struct {
	Member bot.MemberID
	// Amount is in hundredths of hours.
	Amount        bot.Amount
	OpportunityID int64 // 0 when not for an opportunity
	GoalID        int64 // 0 when not toward a goal
	At            time.Time
}

// HoursResult is what logging hours changed.
type HoursResult struct {
	// Thresholds are the goal's milestones (25, 50, 75, 100) newly crossed.
	Thresholds []int
	// Progress is the goal's progress afterwards (when GoalID was set).
	Progress bot.Amount
}

// Attendance is what marking attendance changed.
type Attendance struct {
	// Credited are the members newly credited the opportunity's duration.
	Credited []bot.MemberID
	// Already were credited before; nothing changed for them.
	Already []bot.MemberID
	// Replaced is the self-logged hours removed, in hundredths of hours.
	Replaced bot.Amount
}

// Outcomes a person should read; the store returns them (wrapped) and the
// handlers turn them into private messages.
var (
	ErrNotFound      = errors.New("opportunity not found")
	ErrCancelled     = errors.New("opportunity cancelled")
	ErrStarted       = errors.New("opportunity already started")
	ErrNotSignedUp   = errors.New("not signed up")
	ErrNoSeries      = errors.New("opportunity is not part of a series")
	ErrNoDuration    = errors.New("opportunity has no duration")
	ErrGoalClosed    = errors.New("goal closed")
	ErrSlotsTooFew   = errors.New("fewer slots than confirmed members")
	ErrNothingToDo   = errors.New("nothing to change")
	ErrAlreadyJoined = errors.New("already signed up")
	// ErrAttended is self-logged hours for an opportunity the member was
	// already credited for by attendance.
	ErrAttended = errors.New("already credited by attendance")
)

// AlreadyError says a member is already signed up, and how.
type AlreadyError struct {
	Status   string
	Position int
}

func (e *AlreadyError) Error() string { return "already " + e.Status }

// Is makes errors.Is(err, ErrAlreadyJoined) true.
func (e *AlreadyError) Is(target error) bool { return target == ErrAlreadyJoined }

// Store is what volunteering needs from storage. Every method takes the
// community and touches only its rows; writes are transactional, and joins,
// leaves and edits lock the opportunity so capacity is never exceeded.
type Store interface {
	goal.Finder
	// OpportunityChoices suggests open opportunities not started by now
	// whose title contains prefix (autocomplete), at most limit.
	OpportunityChoices(ctx context.Context, c bot.CommunityID, prefix string, now time.Time, limit int) ([]bot.Choice, error)
	// CreateOpportunity stores n (and its series when n.Rule is set), giving
	// it the next number and a slug unique among other opportunities.
	CreateOpportunity(ctx context.Context, c bot.CommunityID, n New) (Opportunity, error)
	// FindOpportunities returns the opportunities ref could mean: the number
	// for "#12", else those whose slug equals ref or whose title starts with
	// it, case-insensitively; at most 100, by start time.
	FindOpportunities(ctx context.Context, c bot.CommunityID, ref string) ([]Opportunity, error)
	// UpcomingOpportunities returns open opportunities starting after after,
	// soonest first, at most limit.
	UpcomingOpportunities(ctx context.Context, c bot.CommunityID, after time.Time, limit int) ([]Opportunity, error)
	// Join signs member up to opportunity id: confirmed while places are
	// left, else waitlisted at the end. It fails with ErrNotFound,
	// ErrCancelled, ErrStarted (at at) or *AlreadyError. It records an
	// ActSignup activity.
	Join(ctx context.Context, c bot.CommunityID, id int64, member bot.MemberID, at time.Time) (JoinResult, error)
	// Leave withdraws member from opportunity id, promoting the first
	// waitlisted into a freed place and renumbering the waitlist. It fails
	// with ErrNotFound, ErrCancelled, ErrStarted or ErrNotSignedUp.
	Leave(ctx context.Context, c bot.CommunityID, id int64, member bot.MemberID, at time.Time) (LeaveResult, error)
	// Roster returns confirmed members (in sign-up order) then waitlisted
	// ones (by position).
	Roster(ctx context.Context, c bot.CommunityID, id int64) ([]Signup, error)
	// EditOpportunity applies e. Raised slots promote from the waitlist;
	// slots below the confirmed count fail with ErrSlotsTooFew.
	EditOpportunity(ctx context.Context, c bot.CommunityID, id int64, e Edit, at time.Time) (EditResult, error)
	// CancelOpportunity cancels opportunity id or, with series, its series
	// and every occurrence of it starting after at. It fails with
	// ErrCancelled, ErrNoSeries or (one occurrence that has begun at at)
	// ErrStarted. A series' occurrences that have begun are left as they are.
	CancelOpportunity(ctx context.Context, c bot.CommunityID, id int64, series bool, at time.Time) (Cancelled, error)
	// LogHours records h as a contribution of kind hours, adding to the
	// goal's progress when h.GoalID is set, and an ActHours activity. Hours
	// for an opportunity the member was marked as attending fail with
	// ErrAttended, since attendance already credited them.
	LogHours(ctx context.Context, c bot.CommunityID, h Hours) (HoursResult, error)
	// MarkAttended credits each member the opportunity's duration once,
	// replacing the hours they self-logged for it. Marking again changes
	// nothing. It fails with ErrNoDuration.
	MarkAttended(ctx context.Context, c bot.CommunityID, id int64, members []bot.MemberID, at time.Time) (Attendance, error)
}

// Register wires the /volunteer subcommands into e over s.
func Register(e *bot.Engine, s Store) {
	h := &handlers{s: s}
	e.HandleComplete(bot.KindOpp, func(ctx context.Context, c bot.CommunityID, prefix string, limit int) ([]bot.Choice, error) {
		return s.OpportunityChoices(ctx, c, prefix, e.Clock().Now(), limit)
	})
	e.Handle("volunteer", "list", h.list)
	e.Handle("volunteer", "create", h.create)
	e.Handle("volunteer", "edit", h.edit)
	e.Handle("volunteer", "join", h.join)
	e.Handle("volunteer", "leave", h.leave)
	e.Handle("volunteer", "roster", h.roster)
	e.Handle("volunteer", "hours", h.hours)
	e.Handle("volunteer", "attended", h.attended)
	e.Handle("volunteer", "cancel", h.cancel)
}

type handlers struct {
	s Store
}
