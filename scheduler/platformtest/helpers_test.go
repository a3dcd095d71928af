package platformtest_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/adapters/discord"
	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/adapters/slack"
	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/logging/logtest"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// t0 is a Monday 09:00 UTC, when the digests these tests enqueue are due.
var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// needOrSkip fails the test in CI and skips it elsewhere.
func needOrSkip(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("required in CI: "+format, args...)
	}
	tb.Skipf("skipping: "+format, args...)
}

// person is a member of a test community: a platform user id and a name.
type person struct {
	id, name string
	admin    bool // a platform admin (an organiser while admins count)
	added    bool // added with /organisers add
}

// organisersAndMember are olive (a platform admin), ada (an added
// organiser) and max (a member, never told anything).
func organisersAndMember(p bot.Platform) []person {
	if p == bot.Discord {
		return []person{{id: "300000000000000001", name: "olive", admin: true}, {id: "300000000000000002", name: "ada", added: true},
			{id: "300000000000000003", name: "max"}}
	}
	return []person{{id: "U0OLIVE", name: "olive", admin: true}, {id: "U0ADA", name: "ada", added: true}, {id: "U0MAX", name: "max"}}
}

// community makes community ref with people, its digest channel set to
// channel (when not empty), in zone, and returns its id.
func community(t *testing.T, s *storage.Store, ref bot.CommunityRef, people []person, channel, zone string, at time.Time) bot.CommunityID {
	t.Helper()
	ctx := context.Background()
	var id bot.CommunityID
	for _, p := range people {
		a, err := s.Enter(ctx, bot.Visit{Community: ref, User: bot.UserRef{Platform: ref.Platform, Space: ref.ID, ID: p.id},
			UserName: p.name, PlatformAdmin: p.admin, At: at})
		if err != nil {
			t.Fatal(err)
		}
		id = a.Community
		if p.added {
			if err := s.SetOrganiser(ctx, id, a.Member.ID, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	ch := mission.Change{Timezone: &zone, Now: at}
	if channel != "" {
		ch.DigestChannel = &bot.ChannelRef{ID: channel, Name: "impact"}
	}
	if _, err := s.ChangeSettings(ctx, id, ch); err != nil {
		t.Fatal(err)
	}
	return id
}

// enqueueDigest adds community c's digest for slot, due at due, posted to
// channel, and returns the row.
func enqueueDigest(t *testing.T, s *storage.Store, c bot.CommunityID, channel, slot string, due time.Time) storage.OutboxPost {
	t.Helper()
	_, err := s.Enqueue(context.Background(), bot.Post{Community: c, Kind: bot.PostDigest, SlotKey: slot, DueAt: due,
		Message: bot.Message{Visibility: bot.Public, Kind: bot.PostDigest, Channel: bot.ChannelRef{ID: channel, Name: "impact"},
			Title: "Impact digest", Text: "Digest for " + slot}})
	if err != nil {
		t.Fatal(err)
	}
	return row(t, s, c, bot.PostDigest, slot)
}

func row(t *testing.T, s *storage.Store, c bot.CommunityID, kind bot.PostKind, slot string) storage.OutboxPost {
	t.Helper()
	var r storage.OutboxPost
	if err := s.DB().Where("community_id = ? AND kind = ? AND slot_key = ?", c, string(kind), slot).Take(&r).Error; err != nil {
		t.Fatal(err)
	}
	return r
}

// run runs sc once at now and fails the test on an error.
func run(t *testing.T, sc *scheduler.Scheduler, now time.Time) []bot.Message {
	t.Helper()
	ms, err := sc.RunDue(context.Background(), now)
	if err != nil {
		t.Fatalf("RunDue(%s): %v", now, err)
	}
	return ms
}

// slackTokens is a token source that knows every workspace as
// "xoxb-test-"+team, registering each token with the fake on first use.
func slackTokens(fake *fakeslack.Server) slack.TokenSource {
	return func(_ context.Context, team string) (string, error) {
		if team == fakeslack.Team {
			return fakeslack.Token, nil
		}
		tok := "xoxb-test-" + team
		fake.AddToken(tok, team)
		return tok, nil
	}
}

// slackPoster returns a Slack Poster on fake through client (the fake's
// own client when nil), limited per channel by coord, logging to t (and
// failing t if the bot token is ever logged).
func slackPoster(t *testing.T, fake *fakeslack.Server, client *http.Client, coord bot.Coordinator, clock bot.Clock) *slack.Poster {
	t.Helper()
	if client == nil {
		client = fake.Client()
	}
	return slack.NewPoster(slack.APIOptions{URL: fake.URL(), HTTPClient: client}, slackTokens(fake), coord, clock, logtest.New(t, fakeslack.Token))
}

// discordToken is the bot token the Discord tests use; it must never be logged.
const discordToken = "Bot MTA5.SECRET-token-must-not-leak"

// discordPoster returns a Discord Poster on its own session (as on its own
// replica) talking to the fake through client (the fake's when nil).
func discordPoster(t *testing.T, fake *fakediscord.Server, client *http.Client, coord bot.Coordinator, clock bot.Clock) *discord.Poster {
	t.Helper()
	sess, err := discordgo.New(discordToken)
	if err != nil {
		t.Fatal(err)
	}
	if client == nil {
		client = fake.Client()
	}
	sess.Client = client
	return discord.NewPoster(sess, coord, clock, logtest.New(t, discordToken, "SECRET"))
}

// crashingTransport plays a replica that hangs, then dies, while posting:
// the first request match accepts is forwarded to the platform when landed
// (so the post is there) or dropped otherwise; either way the transport
// then closes entered and holds the call until release is closed, as a
// stalled process would, and fails it as a lost connection. Every other
// request passes through to next.
type crashingTransport struct {
	next    http.RoundTripper
	match   func(*http.Request) bool
	landed  bool
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newCrashingTransport(next http.RoundTripper, landed bool, match func(*http.Request) bool) *crashingTransport {
	return &crashingTransport{next: next, match: match, landed: landed, entered: make(chan struct{}), release: make(chan struct{})}
}

func (c *crashingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	crash := false
	if c.match(r) {
		c.once.Do(func() { crash = true })
	}
	if !crash {
		return c.next.RoundTrip(r)
	}
	if c.landed {
		resp, err := c.next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	close(c.entered)
	<-c.release
	return nil, errors.New("connection lost: the replica stalled and was killed")
}

// isSlackPost matches chat.postMessage.
func isSlackPost(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/chat.postMessage") }

// isDiscordPost matches creating a message in a channel.
func isDiscordPost(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/channels/") && strings.HasSuffix(r.URL.Path, "/messages")
}

// mustNotices checks that ms are exactly one Direct notice to each of
// people (in order), each saying every one of says.
func mustNotices(t *testing.T, ms []bot.Message, people []person, says ...string) {
	t.Helper()
	if len(ms) != len(people) {
		t.Fatalf("shown %d messages %+v; want one notice to each of %v", len(ms), ms, people)
	}
	for i, m := range ms {
		if m.Visibility != bot.Direct || m.Kind != scheduler.PostNotice || m.To.Ref.ID != people[i].id {
			t.Fatalf("message %d = %+v; want a Direct notice to %s", i, m, people[i].name)
		}
		for _, w := range says {
			if !strings.Contains(m.Text, w) {
				t.Fatalf("notice %q lacks %q", m.Text, w)
			}
		}
	}
}
