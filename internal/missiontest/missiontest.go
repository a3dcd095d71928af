// Package missiontest is the harness for handler tests: a real store (SQLite
// or PostgreSQL), the engine with the areas under test, a manual clock, and
// output rendered as console text, so a test reads like the spec:
//
//	h.Organiser("olive")
//	out := h.Run("alice", "/pledge 10 trees to plant-1000-trees")
//	out.MustPrivate(t, "Pledged 10 trees")
package missiontest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/console"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

// Register wires one area's handlers into the engine over the store.
type Register func(e *bot.Engine, s *storage.Store)

// Start is the harness clock's default start: Tuesday 1 December 2026, 09:00 UTC.
var Start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// H is one community on a real store.
type H struct {
	T       testing.TB
	Store   *storage.Store
	Engine  *bot.Engine
	Clock   *bot.ManualClock
	Channel string
	// Community is the console community the harness acts in.
	Community bot.CommunityRef
	n         int
}

// New returns a harness on driver ("sqlite" or "postgres") with the given areas.
func New(t testing.TB, driver string, areas ...Register) *H {
	t.Helper()
	s := testdb.Open(t, driver)
	clock := bot.NewManualClock(Start)
	e := bot.NewEngine(bot.Commands, s, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, r := range areas {
		r(e, s)
	}
	return &H{T: t, Store: s, Engine: e, Clock: clock, Channel: "general", Community: bot.CommunityRef{Platform: bot.Console, ID: "local"}}
}

// Each runs fn on a fresh harness per driver.
func Each(t *testing.T, areas []Register, fn func(t *testing.T, h *H)) {
	t.Helper()
	for _, d := range testdb.Drivers() {
		t.Run(d, func(t *testing.T) { fn(t, New(t, d, areas...)) })
	}
}

// In returns a copy of h acting in another community (tenancy tests).
func (h *H) In(community string) *H {
	c := *h
	c.Community = bot.CommunityRef{Platform: bot.Console, ID: community}
	return &c
}

// User returns the console ref of name in h's community.
func (h *H) User(name string) bot.UserRef {
	return bot.UserRef{Platform: bot.Console, Space: h.Community.ID, ID: name}
}

// Request builds the request the console sends for line typed by user.
func (h *H) Request(user, line string) bot.Request {
	h.n++
	name, text, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "/"), " ")
	return bot.Request{
		EventID: fmt.Sprintf("t-%d", h.n), Community: h.Community, CommunityName: h.Community.ID,
		User: h.User(user), UserName: user, Channel: bot.ChannelRef{ID: h.Channel, Name: h.Channel},
		Command: name, Text: console.Normalize(text), Time: h.Clock.Now(),
	}
}

// Run types line ("/pledge 10 trees to x") as user and returns what people see.
func (h *H) Run(user, line string) Out {
	h.T.Helper()
	return h.out(user, h.Engine.Do(context.Background(), h.Request(user, line)))
}

// Click presses a button with action id as user.
func (h *H) Click(user, action string) Out {
	h.T.Helper()
	h.n++
	req := bot.Request{EventID: fmt.Sprintf("t-%d", h.n), Community: h.Community, CommunityName: h.Community.ID,
		User: h.User(user), UserName: user, Channel: bot.ChannelRef{ID: h.Channel, Name: h.Channel}, Action: action, Time: h.Clock.Now()}
	return h.out(user, h.Engine.Do(context.Background(), req))
}

// Event reports a membership event (bot.EventJoined, EventLeft,
// EventInstalled) about user, joining channel when it is not empty, with
// eventID as the platform's delivery id ("" for a fresh one).
func (h *H) Event(user, event, channel, eventID string) Out {
	h.T.Helper()
	h.n++
	if eventID == "" {
		eventID = fmt.Sprintf("t-%d", h.n)
	}
	req := bot.Request{EventID: eventID, Community: h.Community, CommunityName: h.Community.ID,
		User: h.User(user), UserName: user, Channel: bot.ChannelRef{ID: channel, Name: channel}, Event: event, Time: h.Clock.Now()}
	return h.out(user, h.Engine.Do(context.Background(), req))
}

// Organiser makes name an organiser (as the console's !organiser does).
func (h *H) Organiser(name string) {
	h.T.Helper()
	ctx := context.Background()
	a, err := h.Store.Enter(ctx, bot.Visit{Community: h.Community, CommunityName: h.Community.ID, User: h.User(name), UserName: name, At: h.Clock.Now()})
	if err == nil {
		err = h.Store.SetOrganiser(ctx, a.Community, a.Member.ID, true)
	}
	if err != nil {
		h.T.Fatalf("organiser %s: %v", name, err)
	}
}

// Advance moves the clock.
func (h *H) Advance(d time.Duration) { h.Clock.Advance(d) }

// Out is what one request showed: every message as console text.
type Out struct {
	Reply bot.Reply
	// Private is the text of messages only the actor sees.
	Private string
	// Public is the text of public posts, each headed [#channel].
	Public string
	// Direct is the text of private messages to others, by recipient name.
	Direct map[string]string
	// All is everything, as the console prints it.
	All string
}

func (h *H) out(user string, r bot.Reply) Out {
	o := Out{Reply: r, Direct: map[string]string{}}
	var all, priv, pub []string
	for _, m := range r.Messages {
		text := console.Render(m)
		head := console.Header(m, user, h.Channel)
		all = append(all, head+"\n"+text)
		switch m.Visibility {
		case bot.Private:
			priv = append(priv, text)
		case bot.Public:
			pub = append(pub, head+"\n"+text)
		case bot.Direct:
			o.Direct[m.To.Name] += text + "\n"
		}
	}
	o.All, o.Private, o.Public = strings.Join(all, "\n"), strings.Join(priv, "\n"), strings.Join(pub, "\n")
	return o
}

// MustPrivate fails t unless the private text contains every want.
func (o Out) MustPrivate(t testing.TB, want ...string) Out {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(o.Private, w) {
			t.Fatalf("private reply lacks %q; got:\n%s", w, o.All)
		}
	}
	return o
}

// MustPublic fails t unless the public text contains every want.
func (o Out) MustPublic(t testing.TB, want ...string) Out {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(o.Public, w) {
			t.Fatalf("public posts lack %q; got:\n%s", w, o.All)
		}
	}
	return o
}

// MustNoPublic fails t if anything was posted publicly.
func (o Out) MustNoPublic(t testing.TB) Out {
	t.Helper()
	if o.Public != "" {
		t.Fatalf("unexpected public post:\n%s", o.All)
	}
	return o
}

// MustError fails t unless the reply is exactly one private line that
// contains every want and shows an example.
func (o Out) MustError(t testing.TB, want ...string) Out {
	t.Helper()
	if len(o.Reply.Messages) != 1 || o.Reply.Messages[0].Visibility != bot.Private {
		t.Fatalf("want one private error, got:\n%s", o.All)
	}
	for _, w := range want {
		if !strings.Contains(o.Private, w) {
			t.Fatalf("error lacks %q; got:\n%s", w, o.All)
		}
	}
	return o
}

// Snapshot returns a digest of every row of the domain tables and the
// community settings, to assert that a failed command stored nothing.
// Members are left out: a mention names a member on first sight.
func (h *H) Snapshot() string {
	h.T.Helper()
	tables := []string{"communities", "goals", "pledges", "contributions", "milestones", "series", "opportunities", "signups",
		"wins", "cheers", "kudos", "announcements", "activities", "member_weeks", "counters"}
	var b strings.Builder
	for _, tb := range tables {
		var rows []map[string]any
		if err := h.Store.DB().Table(tb).Find(&rows).Error; err != nil {
			h.T.Fatalf("read %s: %v", tb, err)
		}
		fmt.Fprintf(&b, "%s=%d:%x ", tb, len(rows), sha256.Sum256([]byte(fmt.Sprint(rows))))
	}
	var roles int64
	h.Store.DB().Table("members").Where("organiser OR hidden OR forgotten").Count(&roles)
	fmt.Fprintf(&b, "roles=%d", roles)
	return b.String()
}

// Unchanged runs line as user, expects a private error containing want, and
// checks that the database did not change.
func (h *H) Unchanged(user, line string, want ...string) {
	h.T.Helper()
	before := h.Snapshot()
	h.Run(user, line).MustError(h.T, want...)
	if after := h.Snapshot(); after != before {
		h.T.Fatalf("%s changed the database:\nbefore %s\nafter  %s", line, before, after)
	}
}
