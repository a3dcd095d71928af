package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/logging"
	"github.com/missionbot/missionbot/logging/logtest"
	"github.com/missionbot/missionbot/metrics"
)

// running is a Server serving on 127.0.0.1 for one test.
type running struct {
	*Server
	url    string
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned
	err    error         // what Run returned, once done is closed
	client *http.Client
}

// start runs s until the test ends (or stop is called).
func start(t *testing.T, s *Server) *running {
	t.Helper()
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{
		Server: s,
		url:    "http://" + s.Addr(),
		cancel: cancel,
		done:   make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
	go func() {
		r.err = s.Run(ctx)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func newServer(t *testing.T, m *metrics.Metrics, checks ...Check) *Server {
	return New("127.0.0.1:0", logtest.New(t), m, checks...)
}

// get returns the status and body of GET path.
func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := r.client.Get(r.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

func (r *running) ready(t *testing.T) (int, Readiness) {
	t.Helper()
	code, body := r.get(t, "/readyz")
	var res Readiness
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	return code, res
}

func okPing(context.Context) error { return nil }

func TestHealthz(t *testing.T) {
	s := newServer(t, nil, Check{Name: "database", Ping: func(context.Context) error { return errors.New("down") }})
	if got := s.Addr(); got != "127.0.0.1:0" {
		t.Errorf("Addr before Listen = %q", got)
	}
	r := start(t, s)
	if !strings.HasPrefix(r.Addr(), "127.0.0.1:") || strings.HasSuffix(r.Addr(), ":0") {
		t.Errorf("Addr after Listen = %q", r.Addr())
	}
	if code, body := r.get(t, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok (even with a failing check)", code, body)
	}
	if code, _ := r.get(t, "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics without Metrics = %d, want 404", code)
	}
}

func TestReadyz(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name       string
		checks     []Check
		wantCode   int
		wantStatus string
		wantFail   []string
		wantChecks map[string]string
	}{
		{"no checks", nil, 200, StatusOK, nil, map[string]string{}},
		{"healthy", []Check{{Name: "database", Ping: okPing}}, 200, StatusOK, nil,
			map[string]string{"database": StatusOK}},
		{"failing", []Check{
			{Name: "database", Ping: okPing},
			{Name: "redis", Ping: func(context.Context) error { return down }},
		}, 503, StatusFailing, []string{"redis"},
			map[string]string{"database": StatusOK, "redis": StatusFailing}},
		{"degraded", []Check{
			{Name: "database", Ping: okPing},
			{Name: "redis", Ping: okPing, Degraded: func() bool { return true }},
		}, 200, StatusDegraded, nil,
			map[string]string{"database": StatusOK, "redis": StatusDegraded}},
		{"degraded without ping", []Check{{Name: "redis", Degraded: func() bool { return true }}},
			200, StatusDegraded, nil, map[string]string{"redis": StatusDegraded}},
		{"failing beats degraded", []Check{
			{Name: "database", Ping: func(context.Context) error { return down }},
			{Name: "redis", Ping: okPing, Degraded: func() bool { return true }},
		}, 503, StatusFailing, []string{"database"},
			map[string]string{"database": StatusFailing, "redis": StatusDegraded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, newServer(t, nil, tt.checks...))
			code, res := r.ready(t)
			if code != tt.wantCode || res.Status != tt.wantStatus || !slices.Equal(res.Failing, tt.wantFail) || !maps.Equal(res.Checks, tt.wantChecks) {
				t.Errorf("/readyz = %d %+v, want %d %s failing %v checks %v",
					code, res, tt.wantCode, tt.wantStatus, tt.wantFail, tt.wantChecks)
			}
		})
	}
}

func TestReadyzPingTimeout(t *testing.T) {
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	s := newServer(t, nil, Check{Name: "database", Ping: func(context.Context) error {
		<-stuck // ignores its context
		return nil
	}})
	s.ReadyTimeout = 50 * time.Millisecond
	r := start(t, s)
	if code, res := r.ready(t); code != 503 || !slices.Equal(res.Failing, []string{"database"}) {
		t.Errorf("/readyz with a hung ping = %d %+v, want 503 naming database", code, res)
	}
}

func TestReadyzSQLiteClosed(t *testing.T) {
	store := testdb.Open(t, "sqlite")
	r := start(t, newServer(t, nil, Check{Name: "database", Ping: store.Ping}))
	if code, res := r.ready(t); code != 200 || res.Status != StatusOK {
		t.Fatalf("/readyz with the store open = %d %+v", code, res)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if code, res := r.ready(t); code != 503 || !slices.Equal(res.Failing, []string{"database"}) {
		t.Errorf("/readyz with the store closed = %d %+v, want 503 naming database", code, res)
	}
}

func TestReadyzLogsChangesOnce(t *testing.T) {
	rec := newRecorder()
	var down atomic.Bool
	s := New("127.0.0.1:0", slog.New(rec), nil, Check{Name: "redis", Ping: func(context.Context) error {
		if down.Load() {
			return errors.New("redis down")
		}
		return nil
	}})
	r := start(t, s)
	r.ready(t)
	down.Store(true)
	for range 3 {
		r.ready(t)
	}
	down.Store(false)
	r.ready(t)
	var got []string
	for _, m := range rec.messages() {
		if strings.HasPrefix(m, "readiness") {
			got = append(got, m)
		}
	}
	want := []string{"readiness check failing", "readiness check recovered"}
	if !slices.Equal(got, want) {
		t.Errorf("readiness log lines = %q, want %q", got, want)
	}
}

func TestMetricsRoute(t *testing.T) {
	m := metrics.New()
	r := start(t, newServer(t, m))
	m.Command("pledge", metrics.CommandOK, 20*time.Millisecond)
	m.Post("slack", metrics.PostRateLimited)
	m.DeliveryDeduplicated("discord")
	m.DBError()
	code, body := r.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{
		`missionbot_commands_total{command="pledge",outcome="ok"} 1`,
		`missionbot_command_duration_seconds_count{command="pledge"} 1`,
		`missionbot_posts_total{outcome="rate_limited",platform="slack"} 1`,
		`missionbot_deliveries_deduplicated_total{platform="discord"} 1`,
		`missionbot_db_errors_total 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestMountRequestID(t *testing.T) {
	rec := newRecorder()
	s := New("127.0.0.1:0", slog.New(logging.NewHandler(rec, nil)), nil)
	seen := make(chan string, 1)
	s.Mount("POST /slack/events", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- logging.RequestID(r.Context())
		w.WriteHeader(http.StatusAccepted)
	}))
	r := start(t, s)
	resp, err := r.client.Post(r.url+"/slack/events?token=abc", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get(RequestIDHeader)
	if got := <-seen; resp.StatusCode != http.StatusAccepted || id == "" || id != got {
		t.Fatalf("status %d, header id %q, handler saw %q", resp.StatusCode, id, got)
	}
	line := rec.wait(t, "http request")
	attrs := map[string]string{}
	line.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	if line.Level != slog.LevelDebug || attrs["request_id"] != id || attrs["method"] != "POST" ||
		attrs["path"] != "/slack/events" || attrs["status"] != "202" {
		t.Errorf("request log line: level %v attrs %v", line.Level, attrs)
	}
}

func TestListenError(t *testing.T) {
	r := start(t, newServer(t, nil))
	err := New(r.Addr(), nil, nil).Run(context.Background())
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Run on a used port = %v, want EADDRINUSE", err)
	}
}

func TestGracefulShutdown(t *testing.T) {
	const n = 20
	s := newServer(t, nil)
	entered := make(chan struct{}, n)
	release := make(chan struct{})
	s.Mount("GET /slow", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		entered <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "done")
	}))
	// Shutdown closes the listeners before it calls these hooks.
	closed := make(chan struct{})
	s.srv.RegisterOnShutdown(func() { close(closed) })
	r := start(t, s)

	type result struct {
		code int
		body string
		err  error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			resp, err := r.client.Get(r.url + "/slow")
			if err != nil {
				results <- result{err: err}
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			results <- result{resp.StatusCode, string(b), err}
		}()
	}
	for range n {
		<-entered
	}

	r.cancel()
	<-closed
	if c, err := net.Dial("tcp", r.Addr()); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Errorf("new connection while draining: err = %v, want connection refused", err)
	}
	if _, err := r.client.Get(r.url + "/healthz"); err == nil {
		t.Error("a new request was served while draining")
	}
	select {
	case <-r.done:
		t.Fatalf("Run returned with requests in flight: %v", r.err)
	default:
	}

	close(release)
	for range n {
		res := <-results
		if res.err != nil || res.code != http.StatusOK || res.body != "done" {
			t.Errorf("in-flight request: %d %q %v, want 200 done", res.code, res.body, res.err)
		}
	}
	<-r.done
	if r.err != nil {
		t.Errorf("Run = %v, want nil", r.err)
	}
}

func TestDrainTimeout(t *testing.T) {
	s := newServer(t, nil)
	s.DrainTimeout = 50 * time.Millisecond
	entered := make(chan struct{})
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	s.Mount("GET /stuck", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	}))
	r := start(t, s)
	clientErr := make(chan error, 1)
	go func() {
		resp, err := r.client.Get(r.url + "/stuck")
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	<-entered
	r.cancel()
	<-r.done
	if !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("Run after drain timeout = %v, want DeadlineExceeded", r.err)
	}
	if err := <-clientErr; err == nil {
		t.Error("the stuck request got an answer; want its connection closed")
	}
}

// recorder is a slog.Handler that keeps records and signals each one.
type recorder struct {
	ch chan slog.Record
}

func newRecorder() *recorder { return &recorder{ch: make(chan slog.Record, 100)} }

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.ch <- rec.Clone()
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// wait returns the next record with message msg.
func (r *recorder) wait(t *testing.T, msg string) slog.Record {
	t.Helper()
	timeout := time.After(10 * time.Second) // a failure bound, not synchronisation
	for {
		select {
		case rec := <-r.ch:
			if rec.Message == msg {
				return rec
			}
		case <-timeout:
			t.Fatalf("no %q record logged", msg)
		}
	}
}

// messages returns the messages of the records logged so far.
func (r *recorder) messages() []string {
	var out []string
	for {
		select {
		case rec := <-r.ch:
			out = append(out, rec.Message)
		default:
			return out
		}
	}
}
