// Package recognition is wins, kudos, the leaderboard and a member's own
// impact (/win, /kudos, /leaderboard, /myimpact).
//
// Privacy decisions:
//   - A member who chose /myimpact hide is left off leaderboards, and kudos
//     to them are stored and told to them privately, but the public post
//     does not name them ("someone who prefers not to be named"). Wins and
//     kudos are posted by their author or giver on purpose, so those posts
//     name them even when they are hidden.
//   - Leaderboards also leave out members who left the workspace or guild
//     and forgotten members; a member with nothing in the period is not
//     listed.
//   - A streak counts consecutive weeks (Monday to Monday in the
//     community's timezone) with any recorded activity, up to this week; a
//     week not over yet does not break it.
//   - Anonymous contributions count in totals but never in rankings.
//   - /myimpact forget blanks the member's name, erases the texts they wrote
//     (win texts, kudos reasons given, contribution notes) and makes their
//     contributions and pledges anonymous; counts stay.
package recognition

import (
	"context"
	"errors"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

// Errors the store returns for outcomes the member should read.
var (
	// ErrNoWin means the win does not exist in the community.
	ErrNoWin = errors.New("no such win")
	// ErrKudosLimit means the giver already gave the day's limit of kudos.
	ErrKudosLimit = errors.New("kudos limit reached")
	// ErrNoMember means a member does not exist in the community.
	ErrNoMember = errors.New("no such member")
	// ErrForgotten means a forgotten member asked to be back on public
	// boards: they stay off them, as their name is erased.
	ErrForgotten = errors.New("member was forgotten")
)

// Period is a half-open interval [From, To) of instants in UTC. The zero
// Period means all time.
type Period struct {
	From, To time.Time
}

// All reports whether p is all time.
func (p Period) All() bool { return p.From.IsZero() && p.To.IsZero() }

// Kudos is recognition from one member to another.
type Kudos struct {
	From, To bot.MemberID
	Reason   string
	At       time.Time
}

// Leader is one row of a leaderboard. Ref.ID and Name identify the member
// (the handler fills in the platform). Amount is set on a goal's board;
// Actions, Hours and Kudos on the impact board.
type Leader struct {
	Member  bot.Member
	Amount  bot.Amount
	Actions int64
	Hours   bot.Amount
	Kudos   int64
}

// PledgeLine is one of a member's pledges.
type PledgeLine struct {
	No        int64
	Goal      string
	Unit      string
	Amount    bot.Amount
	Fulfilled bot.Amount
	Cancelled bot.Amount
	Status    string
	Anonymous bool
}

// GoalTotal is what a member contributed to one goal.
type GoalTotal struct {
	Goal   string
	Unit   string
	Amount bot.Amount
	Count  int64
}

// Impact is a member's own summary.
type Impact struct {
	Pledges       []PledgeLine // open or (partly) fulfilled, newest first, at most 10
	Contributions []GoalTotal  // by goal, oldest goal first
	Hours         bot.Amount   // self-logged and attended hours
	KudosReceived int64
	KudosGiven    int64
	Wins          int64
	Cheers        int64 // cheers on the member's wins
}

// Erased says what /myimpact forget erased and what it kept.
type Erased struct {
	WinTexts      int64
	KudosReasons  int64
	Notes         int64
	Contributions int64 // kept, now anonymous
	Pledges       int64 // kept, now anonymous
}

// Export is a member's data, as written to their export file.
type Export struct {
	Member        ExportMember         `json:"member"`
	Pledges       []ExportPledge       `json:"pledges"`
	Contributions []ExportContribution `json:"contributions"`
	Wins          []ExportWin          `json:"wins"`
	KudosGiven    []ExportKudos        `json:"kudos_given"`
	KudosReceived []ExportKudos        `json:"kudos_received"`
	Signups       []ExportSignup       `json:"signups"`
}

// ExportMember is the member's own record.
type ExportMember struct {
	Name        string    `json:"name"`
	Organiser   bool      `json:"organiser"`
	Hidden      bool      `json:"hidden"`
	FirstSeenAt time.Time `json:"first_seen_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
}

// ExportPledge is one pledge; amounts are decimal strings in the goal's unit.
type ExportPledge struct {
	No        int64     `json:"no"`
	Goal      string    `json:"goal"`
	Unit      string    `json:"unit"`
	Amount    string    `json:"amount"`
	Fulfilled string    `json:"fulfilled"`
	Cancelled string    `json:"cancelled"`
	Status    string    `json:"status"`
	Anonymous bool      `json:"anonymous"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportContribution is one contribution.
type ExportContribution struct {
	Kind      string    `json:"kind"`
	Goal      string    `json:"goal,omitempty"`
	Unit      string    `json:"unit,omitempty"`
	Amount    string    `json:"amount"`
	Note      string    `json:"note,omitempty"`
	Anonymous bool      `json:"anonymous"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportWin is one win the member posted.
type ExportWin struct {
	No        int64     `json:"no"`
	Text      string    `json:"text"`
	Cheers    int       `json:"cheers"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportKudos is one kudos given or received; Member is the other person's
// display name.
type ExportKudos struct {
	Member    string    `json:"member"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportSignup is one volunteering sign-up.
type ExportSignup struct {
	Opportunity string    `json:"opportunity"`
	StartsAt    time.Time `json:"starts_at"`
	Status      string    `json:"status"`
	Attended    bool      `json:"attended"`
}

// Store is what recognition needs from storage. Every method acts within
// community c only; an id from another community behaves like a missing one.
type Store interface {
	goal.Finder
	// PostWin stores member's win and its activity in one transaction and
	// returns the win's per-community number.
	PostWin(ctx context.Context, c bot.CommunityID, member bot.MemberID, text string, at time.Time) (int64, error)
	// Cheer counts member's cheer on win number win once: it returns the
	// win's cheer count and whether this call added the cheer. A repeated
	// cheer changes nothing. ErrNoWin when there is no such win.
	Cheer(ctx context.Context, c bot.CommunityID, win int64, member bot.MemberID, at time.Time) (cheers int, added bool, err error)
	// GiveKudos stores k and the giver's activity unless the giver already
	// gave limit kudos within day; the count and the insert happen in one
	// transaction with the giver's row locked, so the limit is exact under
	// concurrency (ErrKudosLimit). It reports whether the receiver asked not
	// to be named publicly (hidden or forgotten).
	GiveKudos(ctx context.Context, c bot.CommunityID, k Kudos, day Period, limit int) (receiverHidden bool, err error)
	// Leaders returns the top limit members in p: by the amount they
	// contributed to goalID, or, when goalID is 0, by impact actions (then
	// hours, then kudos received). Hidden, departed and forgotten members,
	// anonymous contributions and members with nothing are left out.
	Leaders(ctx context.Context, c bot.CommunityID, goalID int64, p Period, limit int) ([]Leader, error)
	// Impact returns member's own summary.
	Impact(ctx context.Context, c bot.CommunityID, member bot.MemberID) (Impact, error)
	// ActiveIn reports whether member did anything recorded in p.
	ActiveIn(ctx context.Context, c bot.CommunityID, member bot.MemberID, p Period) (bool, error)
	// SetHidden takes member off public boards and shout-outs, or back.
	// Bringing back a forgotten member is refused with ErrForgotten.
	SetHidden(ctx context.Context, c bot.CommunityID, member bot.MemberID, hidden bool) error
	// Export returns everything stored about member.
	Export(ctx context.Context, c bot.CommunityID, member bot.MemberID) (Export, error)
	// Forget erases member's personal data in one transaction and keeps
	// their counts anonymously. It is idempotent.
	Forget(ctx context.Context, c bot.CommunityID, member bot.MemberID) (Erased, error)
}

// Register wires /win, /kudos, /leaderboard, /myimpact and the 🎉 button.
func Register(e *bot.Engine, s Store) {
	h := &handlers{s: s}
	e.Handle("win", "", h.win)
	e.HandleAction("win.cheer", h.cheer)
	e.Handle("kudos", "", h.kudos)
	e.Handle("leaderboard", "", h.leaderboard)
	e.Handle("myimpact", "show", h.show)
	e.Handle("myimpact", "hide", h.hide)
	e.Handle("myimpact", "unhide", h.unhide)
	e.Handle("myimpact", "export", h.export)
	e.Handle("myimpact", "forget", h.forget)
}

type handlers struct {
	s Store
}

// WeekOf returns the week holding t: Monday 00:00 to the next Monday 00:00
// in loc.
func WeekOf(t time.Time, loc *time.Location) Period {
	l := t.In(loc)
	back := (int(l.Weekday()) + 6) % 7
	from := time.Date(l.Year(), l.Month(), l.Day()-back, 0, 0, 0, 0, loc)
	to := time.Date(l.Year(), l.Month(), l.Day()-back+7, 0, 0, 0, 0, loc)
	return Period{From: from.UTC(), To: to.UTC()}
}

// MonthOf returns the calendar month holding t in loc.
func MonthOf(t time.Time, loc *time.Location) Period {
	l := t.In(loc)
	from := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	to := time.Date(l.Year(), l.Month()+1, 1, 0, 0, 0, 0, loc)
	return Period{From: from.UTC(), To: to.UTC()}
}

// DayOf returns the local day holding t in loc.
func DayOf(t time.Time, loc *time.Location) Period {
	l := t.In(loc)
	from := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	to := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, loc)
	return Period{From: from.UTC(), To: to.UTC()}
}

// withPlatform gives a member from the store the caller's platform and space.
func withPlatform(m bot.Member, c *bot.Call) bot.Member {
	m.Ref.Platform, m.Ref.Space = c.Req.User.Platform, c.Req.User.Space
	return m
}
