// Package announce is organisers' scheduled announcements: /announce add,
// list and cancel. Posting them when due is the scheduler's job.
package announce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/missionbot/missionbot/bot"
)

// MaxMessageLen is the longest announcement, in characters.
const MaxMessageLen = 2000

// Statuses of an announcement.
const (
	StatusActive    = "active"
	StatusCancelled = "cancelled"
	// StatusDone is a one-off announcement that was posted.
	StatusDone = "done"
)

// ErrNotFound: no announcement with that number in the community.
var ErrNotFound = errors.New("announcement not found")

// Announcement is an organiser's scheduled message: one-off (At) or
// recurring (Rule, in the community's timezone).
type Announcement struct {
	// No is the per-community number people see (#2).
	No int64
	// At is the one-off time in UTC; zero when recurring.
	At time.Time
	// Rule is the recurrence's canonical text (bot.Recurrence.String); "" when one-off.
	Rule string
	// NextAt is the next time it is due, in UTC; zero when none.
	NextAt    time.Time
	Message   string
	Channel   bot.ChannelRef
	Status    string
	CreatedBy bot.MemberID
	CreatedAt time.Time
}

// Store is what this package needs from storage. Every method is scoped to
// community c and safe for concurrent use.
type Store interface {
	// AddAnnouncement stores a (with a new per-community number) and returns it.
	AddAnnouncement(ctx context.Context, c bot.CommunityID, a Announcement) (Announcement, error)
	// ActiveAnnouncements returns up to limit active announcements, the
	// soonest due first, and how many there are.
	ActiveAnnouncements(ctx context.Context, c bot.CommunityID, limit int) ([]Announcement, int64, error)
	// CancelAnnouncement cancels announcement no and returns it as it was
	// before. It returns ErrNotFound when c has no such number; an
	// announcement that is not active is returned unchanged.
	CancelAnnouncement(ctx context.Context, c bot.CommunityID, no int64) (Announcement, error)
}

// Register wires /announce into e over s.
func Register(e *bot.Engine, s Store) {
	h := &handlers{store: s}
	e.Handle("announce", "add", h.add)
	e.Handle("announce", "list", h.list)
	e.Handle("announce", "cancel", h.cancel)
}

type handlers struct {
	store Store
}

// listLimit is how many announcements /announce list shows.
const listLimit = 25

// previewLen is how much of a message /announce list shows.
const previewLen = 80

func (h *handlers) add(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	w := c.When("when")
	msg := strings.TrimSpace(c.Text("message"))
	if msg == "" {
		return bot.Reply{}, bot.Userf(c.Example(), "Say what to announce after the time.")
	}
	if n := utf8.RuneCountInString(msg); n > MaxMessageLen {
		return bot.Reply{}, bot.Userf(c.Example(), "The announcement is %d characters; the most is %d.", n, MaxMessageLen)
	}
	ch := c.Req.Channel
	if c.Has("channel") {
		ch = c.Channel("channel")
	}
	if ch.ID == "" {
		return bot.Reply{}, bot.Userf("/announce tomorrow 18:00 Cleanup starts at the gate in #general", "Say which channel it goes to with in #channel.")
	}
	a := Announcement{Message: msg, Channel: ch, Status: StatusActive, CreatedBy: c.Actor.Member.ID, CreatedAt: c.Now}
	if w.IsRecurring() {
		a.Rule = w.Rule.String()
		a.NextAt = w.Rule.Next(c.Now, c.Loc)
		if a.NextAt.IsZero() {
			return bot.Reply{}, bot.Userf(c.Example(), "%q never happens.", a.Rule)
		}
	} else {
		if w.At.IsZero() || !w.At.After(c.Now) {
			return bot.Reply{}, bot.Userf(c.Example(), "That time is in the past.")
		}
		a.At, a.NextAt = w.At, w.At
	}
	a, err := h.store.AddAnnouncement(ctx, c.Actor.Community, a)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("add announcement: %w", err)
	}
	m := bot.Message{Title: fmt.Sprintf("Announcement #%d scheduled", a.No), Text: a.Message, Fields: []bot.Field{
		{Label: "Channel", Value: channelMention(a.Channel)},
	}, Footer: fmt.Sprintf("/announce list shows what is scheduled; /announce cancel #%d stops this one.", a.No)}
	if a.Rule != "" {
		m.Fields = append(m.Fields, bot.Field{Label: "Repeats", Value: a.Rule + " (" + c.Loc.String() + ")"})
	}
	m.Fields = append(m.Fields, bot.Field{Label: "Next", Value: localTime(a.NextAt, c.Loc)})
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func (h *handlers) list(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	as, total, err := h.store.ActiveAnnouncements(ctx, c.Actor.Community, listLimit)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("list announcements: %w", err)
	}
	if total == 0 {
		return bot.Say("No announcements are scheduled. Schedule one with /announce every mon 09:00 Weekly check-in 🌱 or /announce tomorrow 18:00 <message>."), nil
	}
	m := bot.Message{Title: "Scheduled announcements"}
	for _, a := range as {
		item := fmt.Sprintf("#%d next %s", a.No, bot.When{At: a.NextAt}.String(c.Loc))
		if a.Rule != "" {
			item += ", " + a.Rule
		}
		item += " in " + channelMention(a.Channel) + ": " + preview(a.Message)
		m.Items = append(m.Items, item)
	}
	m.Footer = "Times in " + c.Loc.String() + ". /announce cancel #id stops one."
	if total > int64(len(as)) {
		m.Footer = fmt.Sprintf("Showing the next %d of %d. ", len(as), total) + m.Footer
	}
	return bot.Reply{Messages: []bot.Message{m}}, nil
}

func (h *handlers) cancel(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	no := c.ID("id")
	a, err := h.store.CancelAnnouncement(ctx, c.Actor.Community, no)
	if errors.Is(err, ErrNotFound) {
		return bot.Reply{}, bot.Userf("/announce list", "There is no announcement #%d; /announce list shows the scheduled ones.", no)
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("cancel announcement #%d: %w", no, err)
	}
	switch a.Status {
	case StatusCancelled:
		return bot.Say(fmt.Sprintf("Announcement #%d was already cancelled; nothing changed.", no)), nil
	case StatusDone:
		return bot.Say(fmt.Sprintf("Announcement #%d was already posted; there is nothing left to cancel.", no)), nil
	}
	return bot.Say(fmt.Sprintf("Cancelled announcement #%d (%s): %s", no, schedule(a, c.Loc), preview(a.Message))), nil
}

// schedule describes when a runs: its rule, or its one-off time.
func schedule(a Announcement, loc *time.Location) string {
	if a.Rule != "" {
		return a.Rule
	}
	return localTime(a.At, loc)
}

// preview shortens a message to one line of previewLen characters.
func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= previewLen {
		return s
	}
	return string([]rune(s)[:previewLen-1]) + "…"
}

func channelMention(ch bot.ChannelRef) string {
	if ch.Name == "" {
		return "<#" + ch.ID + ">"
	}
	return "<#" + ch.ID + "|" + ch.Name + ">"
}

func localTime(t time.Time, loc *time.Location) string {
	return bot.When{At: t}.String(loc) + " (" + loc.String() + ")"
}
