package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/coordtest"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/coordination/redis"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/logging/logtest"
)

var community = bot.CommunityRef{Platform: bot.Slack, ID: fakeslack.Team}

// newTestPoster returns a Poster on fake s with the fake's bot token, a
// fresh in-process coordinator on a manual clock that the Poster moves
// instead of waiting, and a logger that fails the test if the token is ever
// logged.
func newTestPoster(t *testing.T, s *fakeslack.Server) *Poster {
	t.Helper()
	clock := bot.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	p := newPosterWith(t, s, memory.New(memory.Options{Now: clock.Now}))
	p.Wait = advance(clock)
	return p
}

func newPosterWith(t *testing.T, s *fakeslack.Server, coord bot.Coordinator) *Poster {
	t.Helper()
	tokens := func(_ context.Context, team string) (string, error) {
		if team != fakeslack.Team {
			return "", fmt.Errorf("team %s is not installed: %w", team, bot.ErrPermanent)
		}
		return fakeslack.Token, nil
	}
	return NewPoster(APIOptions{URL: s.URL(), HTTPClient: s.Client()}, tokens, coord, bot.SystemClock{}, logtest.New(t, fakeslack.Token))
}

func public(channel, text string) bot.Message {
	return bot.Message{Visibility: bot.Public, Channel: bot.ChannelRef{ID: channel}, Title: "Win!", Text: text,
		Buttons: []bot.Button{{Label: "🎉", Action: "win.cheer:7", Style: bot.ButtonPrimary}}}
}

// noSecret fails t when err leaks the bot token.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), fakeslack.Token) {
		t.Fatalf("error leaks the token: %v", err)
	}
}

func TestPostLandsWithBlocksAndMetadata(t *testing.T) {
	s := fakeslack.New(t)
	p := newTestPoster(t, s)
	m := public("C0WINS", "<@U024BE7LH|alice> planted 200 trees & more")
	ref, err := p.Post(t.Context(), community, m, "mbo-42")
	if err != nil {
		t.Fatal(err)
	}
	got := s.Messages("C0WINS")
	if len(got) != 1 {
		t.Fatalf("%d messages in C0WINS, want 1", len(got))
	}
	msg := got[0]
	if ref != (bot.MessageRef{Channel: "C0WINS", ID: msg.TS}) {
		t.Errorf("ref = %+v, want C0WINS/%s", ref, msg.TS)
	}
	if msg.Metadata == nil || msg.Metadata.EventType != MetadataEventType || msg.Metadata.EventPayload["key"] != "mbo-42" {
		t.Errorf("metadata = %+v, want %s with key mbo-42", msg.Metadata, MetadataEventType)
	}
	want, _ := json.Marshal(Blocks(m))
	if !bytes.Equal(msg.Blocks, want) {
		t.Errorf("blocks = %s\nwant %s", msg.Blocks, want)
	}
	if msg.Text != "Win! — <@U024BE7LH> planted 200 trees &amp; more" {
		t.Errorf("text = %q", msg.Text)
	}
	calls := s.Calls("chat.postMessage")
	if len(calls) != 1 || calls[0].Token != fakeslack.Token || calls[0].Team != fakeslack.Team {
		t.Errorf("postMessage calls = %+v", calls)
	}
}

func TestPostWithoutKeyHasNoMetadata(t *testing.T) {
	s := fakeslack.New(t)
	if _, err := newTestPoster(t, s).Post(t.Context(), community, public("C1", "hi"), ""); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages("C1"); len(m) != 1 || m[0].Metadata != nil {
		t.Errorf("messages = %+v, want one without metadata", m)
	}
}

func TestPostDirectOpensDM(t *testing.T) {
	s := fakeslack.New(t)
	p := newTestPoster(t, s)
	m := bot.Message{Visibility: bot.Direct, To: bot.Member{Ref: bot.UserRef{Platform: bot.Slack, Space: fakeslack.Team, ID: "U0BOB"}, Name: "bob"},
		Text: "Reminder: beach clean-up tomorrow at 10:00"}
	ref, err := p.Post(t.Context(), community, m, "mbo-7")
	if err != nil {
		t.Fatal(err)
	}
	dm := fakeslack.DMChannel("U0BOB")
	if ref.Channel != dm || len(s.Messages(dm)) != 1 {
		t.Fatalf("ref %+v, messages in %s: %d; want the DM", ref, dm, len(s.Messages(dm)))
	}
	if open := s.Calls("conversations.open"); len(open) != 1 || open[0].Form.Get("users") != "U0BOB" {
		t.Errorf("conversations.open calls = %+v", open)
	}
	if _, found, err := p.Find(t.Context(), community, m, "mbo-7"); err != nil || !found {
		t.Errorf("Find of the DM = %v, %v; want found", found, err)
	}
}

func TestPostRateLimited(t *testing.T) {
	for _, c := range []struct {
		name string
		fail fakeslack.Failure
		want time.Duration
	}{
		{"429 with Retry-After", fakeslack.Failure{Status: http.StatusTooManyRequests, RetryAfter: 7}, 7 * time.Second},
		{"200 ratelimited", fakeslack.Failure{Error: "ratelimited"}, ratelimitedRetry},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := fakeslack.New(t)
			s.Fail("chat.postMessage", c.fail)
			_, err := newTestPoster(t, s).Post(t.Context(), community, public("C1", "hi"), "mbo-1")
			var rl *bot.RateLimitedError
			if !errors.As(err, &rl) || rl.RetryAfter != c.want {
				t.Fatalf("err = %v, want RateLimitedError after %s", err, c.want)
			}
			if errors.Is(err, bot.ErrUncertain) || errors.Is(err, bot.ErrPermanent) {
				t.Errorf("a rate limit is neither uncertain nor permanent: %v", err)
			}
			if n := len(s.Messages("C1")); n != 0 {
				t.Errorf("%d messages posted, want none", n)
			}
			if n := len(s.Calls("chat.postMessage")); n != 1 {
				t.Errorf("%d postMessage calls, want 1 (no retry)", n)
			}
		})
	}
}

func TestPostUncertain(t *testing.T) {
	for _, c := range []struct {
		name   string
		fail   fakeslack.Failure
		landed bool
	}{
		{"500", fakeslack.Failure{Status: http.StatusInternalServerError}, false},
		{"503 after posting", fakeslack.Failure{Status: http.StatusServiceUnavailable, Deliver: true}, true},
		{"connection reset after posting", fakeslack.Failure{Reset: true, Deliver: true}, true},
		{"connection reset", fakeslack.Failure{Reset: true}, false},
		{"internal_error", fakeslack.Failure{Error: "internal_error"}, false},
		{"timeout", fakeslack.Failure{Hang: true}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := fakeslack.New(t)
			s.Fail("chat.postMessage", c.fail)
			p := newTestPoster(t, s)
			m := public("C1", "hi")
			ctx := t.Context()
			if c.fail.Hang {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
			}
			_, err := p.Post(ctx, community, m, "mbo-9")
			noSecret(t, err)
			if !errors.Is(err, bot.ErrUncertain) {
				t.Fatalf("err = %v, want ErrUncertain", err)
			}
			if n := len(s.Calls("chat.postMessage")); n != 1 {
				t.Errorf("%d postMessage calls, want 1 (never resent)", n)
			}
			ref, found, err := p.Find(t.Context(), community, m, "mbo-9")
			if err != nil {
				t.Fatal(err)
			}
			if found != c.landed {
				t.Fatalf("Find = %v, want %v", found, c.landed)
			}
			if found && (ref.Channel != "C1" || ref.ID != s.Messages("C1")[0].TS) {
				t.Errorf("Find ref = %+v", ref)
			}
		})
	}
}

func TestPostPermanent(t *testing.T) {
	for _, code := range []string{"channel_not_found", "not_in_channel", "is_archived", "account_inactive", "missing_scope"} {
		t.Run(code, func(t *testing.T) {
			s := fakeslack.New(t)
			s.SetChannelError("C1", code)
			_, err := newTestPoster(t, s).Post(t.Context(), community, public("C1", "hi"), "mbo-1")
			if !errors.Is(err, bot.ErrPermanent) || errors.Is(err, bot.ErrUncertain) {
				t.Fatalf("err = %v, want ErrPermanent only", err)
			}
			if !strings.Contains(err.Error(), code) {
				t.Errorf("err %q does not name %s", err, code)
			}
		})
	}
	t.Run("invalid_auth", func(t *testing.T) {
		s := fakeslack.New(t)
		s.RevokeToken(fakeslack.Token)
		_, err := newTestPoster(t, s).Post(t.Context(), community, public("C1", "hi"), "mbo-1")
		noSecret(t, err)
		if !errors.Is(err, bot.ErrPermanent) || !strings.Contains(err.Error(), "invalid_auth") {
			t.Fatalf("err = %v, want ErrPermanent naming invalid_auth", err)
		}
	})
	t.Run("uninstalled workspace", func(t *testing.T) {
		s := fakeslack.New(t)
		_, err := newTestPoster(t, s).Post(t.Context(), bot.CommunityRef{Platform: bot.Slack, ID: "T0GONE"}, public("C1", "hi"), "")
		if !errors.Is(err, bot.ErrPermanent) {
			t.Fatalf("err = %v, want ErrPermanent", err)
		}
		if n := len(s.Calls("")); n != 0 {
			t.Errorf("%d calls to Slack, want none", n)
		}
	})
	t.Run("deactivated member", func(t *testing.T) {
		s := fakeslack.New(t)
		s.AddUser(fakeslack.User{ID: "U0GONE", Deleted: true})
		m := bot.Message{Visibility: bot.Direct, To: bot.Member{Ref: bot.UserRef{ID: "U0GONE"}}, Text: "hi"}
		_, err := newTestPoster(t, s).Post(t.Context(), community, m, "")
		if !errors.Is(err, bot.ErrPermanent) || !strings.Contains(err.Error(), "user_disabled") {
			t.Fatalf("err = %v, want ErrPermanent naming user_disabled", err)
		}
	})
}

func TestPostOtherErrorsAreTransient(t *testing.T) {
	s := fakeslack.New(t)
	// request_timeout: Slack got the POST without its data, so nothing was
	// posted and a resend is safe.
	s.Fail("chat.postMessage", fakeslack.Failure{Error: "team_added_to_org"}, fakeslack.Failure{Status: http.StatusBadRequest},
		fakeslack.Failure{Error: "request_timeout"})
	p := newTestPoster(t, s)
	for range 3 {
		_, err := p.Post(t.Context(), community, public("C1", "hi"), "")
		var rl *bot.RateLimitedError
		if err == nil || errors.Is(err, bot.ErrPermanent) || errors.Is(err, bot.ErrUncertain) || errors.As(err, &rl) {
			t.Fatalf("err = %v, want a transient error", err)
		}
	}
	// A failure before chat.postMessage is certain: nothing was posted.
	s.Fail("conversations.open", fakeslack.Failure{Status: http.StatusInternalServerError})
	_, err := p.Post(t.Context(), community, bot.Message{Visibility: bot.Direct, To: bot.Member{Ref: bot.UserRef{ID: "U1"}}, Text: "hi"}, "")
	if err == nil || errors.Is(err, bot.ErrUncertain) {
		t.Fatalf("err = %v, want a transient error", err)
	}
}

func TestFind(t *testing.T) {
	s := fakeslack.New(t)
	p := newTestPoster(t, s)
	for i := range 5 {
		if _, err := p.Post(t.Context(), community, public("C1", fmt.Sprint(i)), fmt.Sprintf("mbo-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	ref, found, err := p.Find(t.Context(), community, public("C1", ""), "mbo-3")
	if err != nil || !found {
		t.Fatalf("Find(mbo-3) = %v, %v; want found", found, err)
	}
	if want := s.Messages("C1")[3].TS; ref != (bot.MessageRef{Channel: "C1", ID: want}) {
		t.Errorf("ref = %+v, want C1/%s", ref, want)
	}
	if _, found, err := p.Find(t.Context(), community, public("C1", ""), "mbo-99"); err != nil || found {
		t.Errorf("Find(mbo-99) = %v, %v; want not found", found, err)
	}
	h := s.Calls("conversations.history")
	if len(h) == 0 || h[0].Form.Get("include_all_metadata") != "1" || h[0].Form.Get("limit") != "50" {
		t.Errorf("history calls = %+v", h)
	}
	s.SetChannelError("C1", "not_in_channel")
	if _, _, err := p.Find(t.Context(), community, public("C1", ""), "mbo-3"); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("Find in a channel the bot left = %v, want ErrPermanent", err)
	}
}

// advance returns a Wait that moves clock instead of sleeping.
func advance(clock *bot.ManualClock) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		clock.Advance(d)
		return ctx.Err()
	}
}

func TestBurstStaysUnderSlackChannelLimit(t *testing.T) {
	clock := bot.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	s := fakeslack.New(t)
	s.SetNow(clock.Now)
	s.LimitChannels(fakeslack.Rate{Events: 1, Per: time.Second, Burst: 3})
	p := newPosterWith(t, s, memory.New(memory.Options{Now: clock.Now}))
	p.Wait = advance(clock)
	for i := range 10 {
		if _, err := p.Post(t.Context(), community, public("C0BUSY", fmt.Sprint(i)), fmt.Sprintf("mbo-%d", i)); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if n := len(s.Messages("C0BUSY")); n != 10 {
		t.Errorf("%d messages, want 10: nothing is dropped", n)
	}
	if v := s.Violations(); v != 0 {
		t.Errorf("%d rate violations, want 0", v)
	}

	// Control: the same burst without the limiter breaks Slack's limit.
	q := newPosterWith(t, s, memory.New(memory.Options{Now: clock.Now}))
	q.Rate = bot.Rate{Events: 1000, Per: time.Second, Burst: 1000}
	var limited int
	for i := range 10 {
		_, err := q.Post(t.Context(), community, public("C0OTHER", fmt.Sprint(i)), "")
		var rl *bot.RateLimitedError
		if errors.As(err, &rl) {
			limited++
		}
	}
	if s.Violations() == 0 || limited == 0 {
		t.Errorf("an unlimited burst made %d violations and %d 429s; the fake should catch it", s.Violations(), limited)
	}
}

func TestLimiterSharedByTwoPosters(t *testing.T) {
	backends := map[string]func(t *testing.T) bot.Coordinator{
		"memory": func(*testing.T) bot.Coordinator { return memory.New(memory.Options{}) },
		"redis": func(t *testing.T) bot.Coordinator {
			testdb.RequireRedis(t)
			redis.SilenceClientLog()
			c, err := redis.New(redis.Options{URL: "redis://" + testdb.RedisAddr, Prefix: coordtest.RandomPrefix(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		},
	}
	for name, newCoord := range backends {
		t.Run(name, func(t *testing.T) {
			// Real time, at 10 posts a second so the test stays short. The
			// fake tolerates 250 ms of delay between the limiter's yes and
			// the post's arrival (a loaded machine running -race shows
			// more than 40 ms); two unshared limiters would still post
			// 20 in about 0.7 s, several over that.
			rate := bot.Rate{Events: 10, Per: time.Second, Burst: 3}
			s := fakeslack.New(t)
			s.LimitChannels(fakeslack.Rate{Events: 10, Per: time.Second, Burst: 3, Tolerance: 250 * time.Millisecond})
			coord := newCoord(t)
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for r := range 2 {
				p := newPosterWith(t, s, coord) // one Poster per replica
				p.Rate = rate
				wg.Go(func() {
					for i := range 10 {
						if _, err := p.Post(t.Context(), community, public("C0SHARED", fmt.Sprintf("%d-%d", r, i)), ""); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n := len(s.Messages("C0SHARED")); n != 20 {
				t.Errorf("%d messages, want 20", n)
			}
			if v := s.Violations(); v != 0 {
				t.Errorf("%d rate violations with a shared limiter, want 0", v)
			}
		})
	}
}

func TestPostGivesUpWaitingWhenContextEnds(t *testing.T) {
	s := fakeslack.New(t)
	p := newTestPoster(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	p.Wait = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	for i := range 4 { // the burst of 3 passes, the 4th waits
		_, err := p.Post(ctx, community, public("C1", fmt.Sprint(i)), "")
		if i < 3 && err != nil {
			t.Fatal(err)
		}
		if i == 3 && (!errors.Is(err, context.Canceled) || errors.Is(err, bot.ErrUncertain)) {
			t.Fatalf("err = %v, want context.Canceled, not uncertain", err)
		}
	}
	if n := len(s.Messages("C1")); n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
}

// failingCoord is a coordinator whose limiter is down.
type failingCoord struct{ bot.Coordinator }

func (failingCoord) Allow(context.Context, string, bot.Rate) (bot.Decision, error) {
	return bot.Decision{}, fmt.Errorf("redis down: %w", bot.ErrUnavailable)
}

func TestPostWhenLimiterIsDown(t *testing.T) {
	s := fakeslack.New(t)
	p := newPosterWith(t, s, failingCoord{memory.New(memory.Options{})})
	if _, err := p.Post(t.Context(), community, public("C1", "hi"), ""); err != nil {
		t.Fatalf("post with the limiter down = %v, want it sent", err)
	}
	if n := len(s.Messages("C1")); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestEphemeral(t *testing.T) {
	s := fakeslack.New(t)
	p := newTestPoster(t, s)
	if err := p.Ephemeral(t.Context(), fakeslack.Team, "C1", "U0ALICE", bot.Message{Text: "Only you can see this"}); err != nil {
		t.Fatal(err)
	}
	e := s.Ephemerals()
	if len(e) != 1 || e[0].Channel != "C1" || e[0].User != "U0ALICE" || e[0].Text != "Only you can see this" {
		t.Fatalf("ephemerals = %+v", e)
	}
	if len(s.Messages("C1")) != 0 {
		t.Error("an ephemeral message was posted publicly")
	}
	s.SetChannelError("C2", "channel_not_found")
	if err := p.Ephemeral(t.Context(), fakeslack.Team, "C2", "U0ALICE", bot.Message{Text: "x"}); !errors.Is(err, bot.ErrPermanent) {
		t.Errorf("err = %v, want ErrPermanent", err)
	}
}

func BenchmarkPost(b *testing.B) {
	s := fakeslack.New(b)
	tokens := func(context.Context, string) (string, error) { return fakeslack.Token, nil }
	p := NewPoster(APIOptions{URL: s.URL(), HTTPClient: s.Client()}, tokens, memory.New(memory.Options{}), bot.SystemClock{}, nil)
	p.Rate = bot.Rate{Events: 1 << 30, Per: time.Second, Burst: 1 << 30} // measure the call, not the wait
	m := public("C0BENCH", "<@U024BE7LH|alice> planted 200 trees")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Post(b.Context(), community, m, "mbo-1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareRoundTrip posts the same form to the same fake with a bare
// HTTP client: the floor for BenchmarkPost.
func BenchmarkBareRoundTrip(b *testing.B) {
	s := fakeslack.New(b)
	blocks, _ := json.Marshal(Blocks(public("C0BENCH", "<@U024BE7LH|alice> planted 200 trees")))
	form := url.Values{"token": {fakeslack.Token}, "channel": {"C0BENCH"}, "text": {"Win!"}, "blocks": {string(blocks)},
		"metadata": {`{"event_type":"missionbot_post","event_payload":{"key":"mbo-1"}}`}}.Encode()
	c := s.Client()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Post(s.URL()+"chat.postMessage", "application/x-www-form-urlencoded", strings.NewReader(form))
		if err != nil {
			b.Fatal(err)
		}
		var out struct{ OK bool }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || !out.OK {
			b.Fatal(err)
		}
	}
}

func TestPostDefersWhenTheLimitOutlastsItsDeadline(t *testing.T) {
	s := fakeslack.New(t)
	p := newTestPoster(t, s)
	p.Rate = bot.Rate{Events: 1, Per: time.Minute, Burst: 1}
	if _, err := p.Post(t.Context(), community, public("C1", "first"), "mb1"); err != nil {
		t.Fatal(err)
	}
	// The next slot is a minute away, past the caller's deadline: waiting
	// would only end in a failed attempt, so the outbox is asked to defer.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p.Wait = func(context.Context, time.Duration) error {
		t.Error("waited past the deadline")
		return context.DeadlineExceeded
	}
	_, err := p.Post(ctx, community, public("C1", "second"), "mb2")
	var rl *bot.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Fatalf("err = %v, want a *bot.RateLimitedError within a minute", err)
	}
	if n := len(s.Messages("C1")); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestDirectMessagesOpenEachDMOnce(t *testing.T) {
	s := fakeslack.New(t)
	coord := memory.New(memory.Options{})
	t.Cleanup(func() { _ = coord.Close() })
	// Two replicas sharing a coordinator: conversations.open is a Tier 3
	// method, so a reminder round to many members must not call it per post.
	replicas := []*Poster{newPosterWith(t, s, coord), newPosterWith(t, s, coord)}
	dm := func(user, text string) bot.Message {
		return bot.Message{Visibility: bot.Direct, To: bot.Member{Ref: bot.UserRef{Platform: bot.Slack, Space: fakeslack.Team, ID: user}}, Text: text}
	}
	for i, user := range []string{"U0BOB", "U0BOB", "U0ALICE", "U0BOB"} {
		if _, err := replicas[i%2].Post(t.Context(), community, dm(user, fmt.Sprint(i)), fmt.Sprintf("mbo-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, err := replicas[1].Find(t.Context(), community, dm("U0ALICE", "2"), "mbo-2"); err != nil || !found {
		t.Fatalf("Find = %v, %v", found, err)
	}
	if n := len(s.Messages(fakeslack.DMChannel("U0BOB"))); n != 3 {
		t.Errorf("%d DMs to bob, want 3", n)
	}
	if open := s.Calls("conversations.open"); len(open) != 2 {
		t.Errorf("%d conversations.open calls for two members, want 2", len(open))
	}
	// A remembered DM channel that is gone is forgotten, not a permanent
	// failure: the retry opens the DM afresh.
	key := coord.Keys().Cache(dmCacheKind, fakeslack.Team+"-U0CARL")
	if err := coord.Set(t.Context(), key, []byte("D0GONE"), time.Hour); err != nil {
		t.Fatal(err)
	}
	s.SetChannelError("D0GONE", "channel_not_found")
	_, err := replicas[0].Post(t.Context(), community, dm("U0CARL", "hi"), "mbo-8")
	if err == nil || errors.Is(err, bot.ErrPermanent) || errors.Is(err, bot.ErrUncertain) {
		t.Fatalf("post to a vanished DM channel: err = %v, want transient", err)
	}
	if _, err := replicas[1].Post(t.Context(), community, dm("U0CARL", "hi"), "mbo-8"); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := len(s.Messages(fakeslack.DMChannel("U0CARL"))); n != 1 {
		t.Errorf("%d DMs to carl after the retry, want 1", n)
	}
}
