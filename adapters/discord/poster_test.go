package discord

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/coordination/redis"
	"github.com/missionbot/missionbot/internal/testdb"
)

const secretToken = "Bot MTA5.SECRET-token-must-not-leak"

var guild = bot.CommunityRef{Platform: "discord", ID: "700000000000000007"}

type posterEnv struct {
	srv   *fakediscord.Server
	clock *bot.ManualClock
	coord bot.Coordinator
	logs  *bytes.Buffer
	p     *Poster
}

// lockedBuffer lets concurrent posters log into one buffer.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func newPosterEnv(t *testing.T) *posterEnv {
	t.Helper()
	e := &posterEnv{srv: fakediscord.New(t), clock: bot.NewManualClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)),
		coord: memory.New(memory.Options{}), logs: &bytes.Buffer{}}
	e.srv.Token = secretToken
	e.srv.Now = e.clock.Now
	e.p = e.poster(t)
	t.Cleanup(func() {
		if strings.Contains(e.logs.String(), "SECRET") {
			t.Errorf("the bot token appears in the logs:\n%s", e.logs)
		}
	})
	return e
}

// poster returns another poster (its own session, as on another replica)
// on the same fake and coordinator.
func (e *posterEnv) poster(t *testing.T) *Poster {
	log := slog.New(slog.NewTextHandler(&lockedBuffer{b: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return NewPoster(fakeSession(t, e.srv, secretToken), e.coord, e.clock, log)
}

func public(channel string) bot.Message {
	m := goalMessage()
	m.Channel = bot.ChannelRef{ID: channel, Name: "impact"}
	return m
}

func noLeak(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error carries the token: %v", err)
	}
}

func TestPostSendsEmbedsWithNonce(t *testing.T) {
	e := newPosterEnv(t)
	ref, err := e.p.Post(context.Background(), guild, public("100"), "mbo-1")
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.Messages("100")
	if len(msgs) != 1 || ref.ID != msgs[0].ID || ref.Channel != "100" {
		t.Fatalf("ref %+v, channel holds %+v", ref, msgs)
	}
	got := msgs[0].Msg
	if len(got.Embeds) != 1 || !strings.Contains(got.Embeds[0].Description, "▓▓▓▓░░░░░░ 40% — 400 of 1,000 trees") {
		t.Errorf("embeds = %+v", got.Embeds)
	}
	if len(got.Components) != 1 {
		t.Errorf("components = %+v, want the Pledge button row", got.Components)
	}
	var body map[string]any
	_ = json.Unmarshal(e.srv.Calls(fakediscord.RouteCreateMessage)[0].Body, &body)
	if body["nonce"] != "mbo-1" || body["enforce_nonce"] != true {
		t.Errorf("nonce %v, enforce_nonce %v; want mbo-1, true", body["nonce"], body["enforce_nonce"])
	}
	am, _ := body["allowed_mentions"].(map[string]any)
	if parse, _ := am["parse"].([]any); len(parse) != 1 || parse[0] != "users" {
		t.Errorf("allowed_mentions = %v, want users only (no @everyone)", body["allowed_mentions"])
	}
	if h := e.srv.Calls("")[0].Header.Get("Authorization"); h != secretToken {
		t.Errorf("Authorization = %q", h)
	}
}

func TestUncertainPostIsFoundByItsNonce(t *testing.T) {
	e := newPosterEnv(t)
	ctx := context.Background()
	// The message lands, but the answer is a 500: the outcome is unknown.
	e.srv.Inject(fakediscord.RouteCreateMessage, fakediscord.Fault{Status: 500, Code: 0, Message: "500: Internal Server Error", AfterEffect: true})
	_, err := e.p.Post(ctx, guild, public("100"), "mbo-7")
	if !errors.Is(err, bot.ErrUncertain) {
		t.Fatalf("Post = %v, want ErrUncertain", err)
	}
	noLeak(t, err)
	if n := len(e.srv.Messages("100")); n != 1 {
		t.Fatalf("channel holds %d messages, want the 1 that landed", n)
	}
	e.clock.Advance(20 * time.Second)
	ref, found, err := e.p.Find(ctx, guild, public("100"), "mbo-7")
	if err != nil || !found {
		t.Fatalf("Find = %v, %v", found, err)
	}
	msgs := e.srv.Messages("100")
	if len(msgs) != 1 || ref.ID != msgs[0].ID {
		t.Fatalf("Find returned %+v; channel holds %d messages (want 1, the same)", ref, len(msgs))
	}
}

func TestUncertainPostThatDidNotLandIsPostedOnceByFind(t *testing.T) {
	e := newPosterEnv(t)
	ctx := context.Background()
	e.srv.FailNext(fakediscord.RouteCreateMessage, http.StatusBadGateway, 0, "502: Bad Gateway")
	if _, err := e.p.Post(ctx, guild, public("100"), "mbo-8"); !errors.Is(err, bot.ErrUncertain) {
		t.Fatalf("Post = %v, want ErrUncertain for a 502", err)
	}
	if n := len(e.srv.Calls(fakediscord.RouteCreateMessage)); n != 1 {
		t.Fatalf("%d sends; the poster must not retry a 502 itself", n)
	}
	ref, found, err := e.p.Find(ctx, guild, public("100"), "mbo-8")
	if err != nil || !found || ref.ID == "" {
		t.Fatalf("Find = %+v, %v, %v", ref, found, err)
	}
	if n := len(e.srv.Messages("100")); n != 1 {
		t.Fatalf("channel holds %d messages, want 1", n)
	}
}

func TestFindOutsideTheNonceWindowSendsNothing(t *testing.T) {
	e := newPosterEnv(t)
	ctx := context.Background()
	e.srv.Inject(fakediscord.RouteCreateMessage, fakediscord.Fault{Status: 503, AfterEffect: true})
	if _, err := e.p.Post(ctx, guild, public("100"), "mbo-9"); !errors.Is(err, bot.ErrUncertain) {
		t.Fatalf("Post = %v", err)
	}
	e.clock.Advance(DefaultNonceWindow)
	calls := len(e.srv.Calls(""))
	if _, found, err := e.p.Find(ctx, guild, public("100"), "mbo-9"); err != nil || found {
		t.Fatalf("Find past the window = %v, %v; want not found", found, err)
	}
	if _, found, err := e.p.Find(ctx, guild, public("100"), "mbo-never-sent"); err != nil || found {
		t.Fatalf("Find of an unknown key = %v, %v; want not found", found, err)
	}
	if n := len(e.srv.Calls("")); n != calls {
		t.Fatalf("Find outside the window made %d calls; a resend could post twice", n-calls)
	}
	if n := len(e.srv.Messages("100")); n != 1 {
		t.Fatalf("channel holds %d messages, want 1", n)
	}
}

func TestRateLimitBecomesRetryAfter(t *testing.T) {
	e := newPosterEnv(t)
	e.srv.RateLimitNext(fakediscord.RouteCreateMessage, 1.5)
	_, err := e.p.Post(context.Background(), guild, public("100"), "mbo-2")
	var rl *bot.RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("Post = %v, want *bot.RateLimitedError", err)
	}
	if rl.RetryAfter != 1500*time.Millisecond {
		t.Errorf("RetryAfter = %v, want Discord's retry_after 1.5s", rl.RetryAfter)
	}
	if n := len(e.srv.Calls(fakediscord.RouteCreateMessage)); n != 1 || len(e.srv.Messages("100")) != 0 {
		t.Errorf("%d sends, %d messages; a 429 is not retried by the poster", n, len(e.srv.Messages("100")))
	}
}

func TestPermanentErrors(t *testing.T) {
	for _, tc := range []struct {
		status, code int
		msg          string
	}{
		{404, 10003, "Unknown Channel"},
		{403, 50001, "Missing Access"},
		{403, 50013, "Missing Permissions"},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			e := newPosterEnv(t)
			e.srv.SetChannelError("404", tc.status, tc.code, tc.msg)
			_, err := e.p.Post(context.Background(), guild, public("404"), "mbo-3")
			if !errors.Is(err, bot.ErrPermanent) || errors.Is(err, bot.ErrUncertain) {
				t.Fatalf("Post = %v, want ErrPermanent", err)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != tc.code {
				t.Errorf("Post = %v, want the Discord code %d", err, tc.code)
			}
			noLeak(t, err)
		})
	}
}

func TestDirectMessage(t *testing.T) {
	e := newPosterEnv(t)
	m := bot.Message{Visibility: bot.Direct, To: bot.Member{Name: "sam", Ref: bot.UserRef{Platform: "discord", Space: guild.ID, ID: "555"}},
		Text: "Your pledge #3 to <#100|impact> is due tomorrow."}
	ref, err := e.p.Post(context.Background(), guild, m, "mbo-4")
	if err != nil {
		t.Fatal(err)
	}
	dm := e.srv.DMChannel("555")
	msgs := e.srv.Messages(dm)
	if len(msgs) != 1 || ref.Channel != dm || msgs[0].Msg.Content != "Your pledge #3 to <#100> is due tomorrow." {
		t.Fatalf("ref %+v, DM holds %+v", ref, msgs)
	}
	// The DM channel is remembered.
	if _, err := e.p.Post(context.Background(), guild, m, "mbo-5"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Calls(fakediscord.RouteCreateDM)); n != 1 {
		t.Errorf("DM channel opened %d times, want 1", n)
	}

	e.srv.SetChannelError(e.srv.DMChannel("666"), 403, 50007, "Cannot send messages to this user")
	m.To.Ref.ID = "666"
	if _, err := e.p.Post(context.Background(), guild, m, "mbo-6"); !errors.Is(err, bot.ErrPermanent) {
		t.Fatalf("DM to a member who closed DMs = %v, want ErrPermanent", err)
	}
}

func TestTimeoutIsUncertainAndUnreachableIsTransient(t *testing.T) {
	e := newPosterEnv(t)
	e.srv.Inject(fakediscord.RouteCreateMessage, fakediscord.Fault{Hang: true, AfterEffect: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := e.p.Post(ctx, guild, public("100"), "mbo-10"); !errors.Is(err, bot.ErrUncertain) {
		t.Fatalf("Post that timed out = %v, want ErrUncertain", err)
	}

	s := fakeSession(t, e.srv, secretToken)
	s.Client = &http.Client{Transport: unreachable{}}
	p := NewPoster(s, e.coord, e.clock, quietLog())
	_, err := p.Post(context.Background(), guild, public("100"), "mbo-11")
	if err == nil || errors.Is(err, bot.ErrUncertain) || errors.Is(err, bot.ErrPermanent) {
		t.Fatalf("Post to an unreachable Discord = %v, want a transient error (nothing was sent)", err)
	}
}

func TestChannelLimiterIsShared(t *testing.T) {
	run := func(t *testing.T, coord bot.Coordinator) {
		e := newPosterEnv(t)
		e.coord = coord
		a, b := e.poster(t), e.poster(t)
		rate := bot.Rate{Events: 1, Per: time.Hour, Burst: 3}
		a.ChannelRate, b.ChannelRate = rate, rate
		for i := range 3 {
			if _, err := a.Post(context.Background(), guild, public("100"), "mbo-a"+string(rune('0'+i))); err != nil {
				t.Fatal(err)
			}
		}
		// Replica b waits for the channel a used up; nothing goes out.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := b.Post(ctx, guild, public("100"), "mbo-b")
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, bot.ErrUncertain) {
			t.Fatalf("Post over the shared limit = %v, want it still waiting when ctx ended (not uncertain)", err)
		}
		if n := len(e.srv.Messages("100")); n != 3 {
			t.Fatalf("channel holds %d messages, want 3", n)
		}
		// Another channel is not held up.
		if _, err := b.Post(context.Background(), guild, public("200"), "mbo-c"); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("memory", func(t *testing.T) { run(t, memory.New(memory.Options{})) })
	t.Run("redis", func(t *testing.T) { run(t, redisCoord(t)) })
}

func TestLimitedPostsWaitAndAllLand(t *testing.T) {
	run := func(t *testing.T, coord bot.Coordinator) {
		e := newPosterEnv(t)
		e.coord = coord
		e.srv.SetLimit(fakediscord.RouteCreateMessage, fakediscord.Limit{Requests: 100, Per: time.Second})
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for r := range 2 {
			p := e.poster(t)
			p.ChannelRate = bot.Rate{Events: 1, Per: 20 * time.Millisecond, Burst: 1}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 4 {
					_, err := p.Post(context.Background(), guild, public("100"), "mbo-"+string(rune('a'+r))+string(rune('0'+i)))
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		if n := len(e.srv.Messages("100")); n != 8 {
			t.Fatalf("channel holds %d messages, want all 8: a limited post waits, it is not dropped", n)
		}
	}
	t.Run("memory", func(t *testing.T) { run(t, memory.New(memory.Options{})) })
	t.Run("redis", func(t *testing.T) { run(t, redisCoord(t)) })
}

func redisCoord(t *testing.T) bot.Coordinator {
	t.Helper()
	testdb.RequireRedis(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	c, err := redis.New(redis.Options{URL: "redis://" + testdb.RedisAddr + "/0", Prefix: "mbtest:discord:" + hex.EncodeToString(b) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestKeyTooLongIsPermanent(t *testing.T) {
	e := newPosterEnv(t)
	if _, err := e.p.Post(context.Background(), guild, public("100"), strings.Repeat("k", 26)); !errors.Is(err, bot.ErrPermanent) {
		t.Fatalf("Post = %v", err)
	}
	if len(e.srv.Calls("")) != 0 {
		t.Fatal("nothing should be sent")
	}
}

// unreachable is a transport whose every request fails to connect.
type unreachable struct{}

func (unreachable) RoundTrip(r *http.Request) (*http.Response, error) {
	c, err := (&net.Dialer{}).DialContext(r.Context(), "tcp", "127.0.0.1:1")
	if err == nil {
		c.Close()
		return nil, errors.New("127.0.0.1:1 answered")
	}
	return nil, &url.Error{Op: r.Method, URL: r.URL.String(), Err: err}
}

// BenchmarkPost measures one post end to end against the fake over
// loopback HTTP, with the shared channel limiter (in-process) unlimited.
func BenchmarkPost(b *testing.B) {
	srv := fakediscord.New(b)
	srv.SetLimit(fakediscord.RouteCreateMessage, fakediscord.Limit{})
	p := NewPoster(fakeSession(b, srv, "Bot bench"), memory.New(memory.Options{}), bot.SystemClock{}, quietLog())
	p.ChannelRate = bot.Rate{Events: 1 << 30, Per: time.Second, Burst: 1 << 30}
	m := digestMessage()
	m.Channel.ID = "100"
	i := 0
	for b.Loop() {
		i++
		if _, err := p.Post(context.Background(), guild, m, "mbo-"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
