package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/logging/logtest"
	"github.com/missionbot/missionbot/storage"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// harness is a real engine over a test store behind the adapter's real
// HTTP handlers, with slack-go pointed at a fake Slack API.
type harness struct {
	t      testing.TB
	fake   *fakeslack.Server
	store  *storage.Store
	engine *bot.Engine
	a      *Adapter
	srv    *httptest.Server
	clock  *bot.ManualClock

	mu       sync.Mutex
	rejected []string
	n        int
}

// newHarness builds the adapter on s; edit changes the config first.
func newHarness(t testing.TB, s *storage.Store, edit func(*Config)) *harness {
	t.Helper()
	return newHarnessLog(t, s, edit, logtest.New(t, testSecret, fakeslack.Token))
}

// newHarnessLog is newHarness logging to log.
func newHarnessLog(t testing.TB, s *storage.Store, edit func(*Config), log *slog.Logger) *harness {
	t.Helper()
	coord := memory.New(memory.Options{})
	t.Cleanup(func() { _ = coord.Close() })
	return newReplica(t, s, edit, log, coord, fakeslack.New(t))
}

// newReplica is one replica of the service: its own engine and adapter
// over a shared store, coordinator and fake Slack.
func newReplica(t testing.TB, s *storage.Store, edit func(*Config), log *slog.Logger, coord bot.Coordinator, fake *fakeslack.Server) *harness {
	t.Helper()
	h := &harness{t: t, fake: fake, store: s, clock: bot.NewManualClock(time.Now())}
	h.engine = app.Engine(s, h.clock, log)
	h.engine.UseCoordination(coord, s, bot.Rate{})
	// Answers are inline however loaded the machine running the tests is;
	// tests of late answers set a short AckWithin themselves.
	cfg := Config{SigningSecret: testSecret, BotToken: fakeslack.Token, APIURL: h.fake.URL(), HTTPClient: h.fake.Client(),
		AckWithin: time.Minute}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg, Deps{Engine: h.engine, Coord: coord, Clock: h.clock, Log: log, Installs: s,
		Rejected: func(reason string) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.rejected = append(h.rejected, reason)
		}})
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	mux := http.NewServeMux()
	a.Routes(mux.Handle)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	t.Cleanup(a.wg.Wait) // background work ends before the store closes
	return h
}

// post sends body to path signed now, with extra headers, and returns the
// status and body.
func (h *harness) post(path, contentType string, body []byte, header http.Header) (int, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	ts := strconv.FormatInt(h.clock.Now().Unix(), 10)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(headerTimestamp, ts)
	req.Header.Set(headerSignature, Sign(testSecret, ts, body))
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// commandForm is the form Slack posts for user typing /command text.
func (h *harness) commandForm(user, command, text string) []byte {
	h.mu.Lock()
	h.n++
	n := h.n
	h.mu.Unlock()
	f := url.Values{"token": {"verification-token-unused"}, "team_id": {fakeslack.Team}, "team_domain": {"greens"},
		"channel_id": {"C0GENERAL"}, "channel_name": {"general"}, "user_id": {user}, "user_name": {strings.ToLower(user)},
		"command": {"/" + command}, "text": {text}, "api_app_id": {fakeslack.AppID},
		"response_url": {h.fake.ResponseURL("cmd" + strconv.Itoa(n))}, "trigger_id": {"trig." + strconv.Itoa(n) + ".x"}}
	return []byte(f.Encode())
}

// command runs /command text as user over HTTP and returns the immediate
// answer (nil for an empty acknowledgement).
func (h *harness) command(user, command, text string) *answer {
	h.t.Helper()
	status, body := h.post("/slack/commands", "application/x-www-form-urlencoded", h.commandForm(user, command, text), nil)
	if status != http.StatusOK {
		h.t.Fatalf("/%s %s: status %d %s", command, text, status, body)
	}
	if len(body) == 0 {
		return nil
	}
	var r answer
	if err := json.Unmarshal(body, &r); err != nil {
		h.t.Fatalf("/%s answer %s: %v", command, body, err)
	}
	return &r
}

// idle waits for the adapter's background work (late replies, events).
func (h *harness) idle() { h.a.wg.Wait() }

// answer is a message as Slack receives it from the adapter (HTTP answer,
// response_url post or Socket Mode ack payload).
type answer struct {
	ResponseType string          `json:"response_type"`
	Text         string          `json:"text"`
	Blocks       json.RawMessage `json:"blocks"`
}

// decode reads an answer from JSON.
func decode(t testing.TB, raw []byte) *answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer %s: %v", raw, err)
	}
	return &a
}

// shows reports whether r's text or blocks contain s.
func shows(r *answer, s string) bool {
	if r == nil {
		return false
	}
	return strings.Contains(r.Text, s) || strings.Contains(string(r.Blocks), s)
}

// count counts rows of table matching where.
func (h *harness) count(table, where string, args ...any) int64 {
	h.t.Helper()
	var n int64
	q := h.store.DB().Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}

// interact posts an interactivity payload.
func (h *harness) interact(payload any) (int, []byte) {
	h.t.Helper()
	p, err := json.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.post("/slack/interactivity", "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(p)}}.Encode()), nil)
}

// withDeadline is a context for cross-goroutine waits in tests.
func withDeadline(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
