package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/missionbot/missionbot/server"
)

// runHealthcheck runs `missionbot args…` in process, as the container's
// HEALTHCHECK runs the binary, and returns what it printed and its error
// (main prints that error on one line and exits 1).
func runHealthcheck(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := root(strings.NewReader(""), &out, &errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	if errOut.Len() > 0 {
		t.Errorf("healthcheck wrote to stderr: %q", errOut.String())
	}
	return out.String(), err
}

// readyServer runs the real readiness server with checks until the test
// ends and returns its address.
func readyServer(t *testing.T, checks ...server.Check) string {
	t.Helper()
	s := server.New("127.0.0.1:0", nil, nil, checks...)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return s.Addr()
}

func okPing(context.Context) error { return nil }

func TestHealthcheckReady(t *testing.T) {
	addr := readyServer(t, server.Check{Name: "database", Ping: okPing})
	out, err := runHealthcheck(t, "healthcheck", "--url", "http://"+addr+"/readyz")
	if err != nil || out != "ready\n" {
		t.Fatalf("healthcheck of a ready service = %q, %v; want \"ready\" and exit 0", out, err)
	}
}

func TestHealthcheckNamesTheFailingCheck(t *testing.T) {
	addr := readyServer(t,
		server.Check{Name: "database", Ping: func(context.Context) error { return errors.New("connection refused") }},
		server.Check{Name: "redis", Ping: okPing},
	)
	out, err := runHealthcheck(t, "healthcheck", "--url", "http://"+addr+"/readyz")
	if err == nil {
		t.Fatalf("healthcheck of a service whose database fails exited 0, printing %q", out)
	}
	msg := err.Error()
	if !strings.Contains(msg, "failing: database (HTTP 503)") || strings.Contains(msg, "redis") || strings.Contains(msg, "\n") {
		t.Errorf("healthcheck error = %q, want one line naming only the database check", msg)
	}
}

func TestHealthcheckDegradedIsHealthy(t *testing.T) {
	addr := readyServer(t,
		server.Check{Name: "database", Ping: okPing},
		server.Check{Name: "redis", Ping: okPing, Degraded: func() bool { return true }},
	)
	out, err := runHealthcheck(t, "healthcheck", "--url", "http://"+addr+"/readyz")
	if err != nil || out != "degraded: redis\n" {
		t.Fatalf("healthcheck with Redis on its fallback = %q, %v; want \"degraded: redis\" and exit 0", out, err)
	}
}

func TestHealthcheckAddressFromConfig(t *testing.T) {
	addr := readyServer(t, server.Check{Name: "database", Ping: okPing})
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("http:\n  addr: \""+addr+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runHealthcheck(t, "--config", cfg, "healthcheck")
	if err != nil || out != "ready\n" {
		t.Fatalf("healthcheck with http.addr %s from the config = %q, %v; want ready", addr, out, err)
	}
}

func TestHealthcheckNothingListening(t *testing.T) {
	// A port that was just released: nothing answers there.
	gone := httptest.NewServer(http.NotFoundHandler())
	url := gone.URL + "/readyz"
	gone.Close()
	_, err := runHealthcheck(t, "healthcheck", "--url", url)
	if err == nil || !strings.Contains(err.Error(), url) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("healthcheck with nothing listening = %v, want one line naming %s", err, url)
	}
}

func TestHealthcheckNotReadyzBody(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>\n<h1>502 Bad Gateway</h1>\n</html>", http.StatusBadGateway)
	}))
	t.Cleanup(proxy.Close)
	_, err := runHealthcheck(t, "healthcheck", "--url", proxy.URL+"/readyz")
	if err == nil || !strings.Contains(err.Error(), "HTTP 502") || !strings.Contains(err.Error(), "Bad Gateway") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("healthcheck of a non-readyz 502 = %v, want one line with the status and the body", err)
	}
}

func TestHealthcheckGivesUpOnAHungServer(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(release)
		hung.Close()
	})
	_, err := runHealthcheck(t, "healthcheck", "--url", hung.URL+"/readyz")
	if err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("healthcheck of a server that never answers = %v, want a timeout error", err)
	}
}

func TestHealthcheckBadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("http:\n  addr: \"8080\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := runHealthcheck(t, "--config", cfg, "healthcheck")
	if err == nil || !strings.Contains(err.Error(), "http.addr") {
		t.Fatalf("healthcheck with http.addr 8080 = %v, want an error naming http.addr", err)
	}
}

func TestReadyzURL(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{":8080", "http://127.0.0.1:8080/readyz"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/readyz"},
		{"[::]:9000", "http://127.0.0.1:9000/readyz"},
		{"127.0.0.1:8081", "http://127.0.0.1:8081/readyz"},
		{"localhost:8081", "http://localhost:8081/readyz"},
		{"[::1]:8081", "http://[::1]:8081/readyz"},
	} {
		if got, err := readyzURL(tt.addr); err != nil || got != tt.want {
			t.Errorf("readyzURL(%q) = %q, %v; want %q", tt.addr, got, err, tt.want)
		}
	}
	if got, err := readyzURL("8080"); err == nil {
		t.Errorf("readyzURL(\"8080\") = %q, want an error", got)
	}
}

func TestDescribeReadiness(t *testing.T) {
	for _, tt := range []struct {
		code   int
		body   string
		want   string
		wantOK bool
	}{
		{200, `{"status":"ok","checks":{"database":"ok"}}`, "ready", true},
		{200, `{"status":"degraded","checks":{"redis":"degraded","database":"ok"}}`, "degraded: redis", true},
		{200, "ok\n", "ready", true},
		{503, `{"status":"failing","failing":["database","redis"],"checks":{"database":"failing","redis":"failing"}}`, "failing: database, redis (HTTP 503)", false},
		{503, `{"status":"failing","checks":{"database":"failing"}}`, "failing: database (HTTP 503)", false},
		{503, `{"status":"starting"}`, `status "starting" (HTTP 503)`, false},
		{404, "404 page not found\n", `HTTP 404: "404 page not found"`, false},
		{500, "", "HTTP 500", false},
	} {
		got, ok := describeReadiness(tt.code, []byte(tt.body))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("describeReadiness(%d, %q) = %q, %v; want %q, %v", tt.code, tt.body, got, ok, tt.want, tt.wantOK)
		}
	}
}

// FuzzDescribeReadiness checks that any answer, however malformed, gives
// one short valid line, and that only 200 counts as ready.
func FuzzDescribeReadiness(f *testing.F) {
	f.Add(200, []byte(`{"status":"degraded","checks":{"redis":"degraded"}}`))
	f.Add(503, []byte(`{"status":"failing","failing":["database"],"checks":{"database":"failing"}}`))
	f.Add(503, []byte(`{"status":"failing","checks":{"data\nbase":"failing"}}`))
	f.Add(502, []byte("<html>\r\n<h1>502 Bad Gateway</h1>\n</html>"))
	f.Add(500, []byte("\xff\xfe"+strings.Repeat("é", 100)))
	f.Fuzz(func(t *testing.T, code int, body []byte) {
		msg, ok := describeReadiness(code, body)
		if ok != (code == http.StatusOK) {
			t.Errorf("describeReadiness(%d, %q) ready = %v", code, body, ok)
		}
		if msg == "" || strings.ContainsAny(msg, "\r\n") {
			t.Errorf("describeReadiness(%d, %q) = %q, want one non-empty line", code, body, msg)
		}
	})
}

// TestOneLineKeepsRunes checks that shortening never splits a character.
func TestOneLineKeepsRunes(t *testing.T) {
	got := oneLine(strings.Repeat("é", 200))
	if !utf8.ValidString(got) || len(got) > 130 {
		t.Errorf("oneLine of 200 é = %q (%d bytes), want valid UTF-8 of about 120 bytes", got, len(got))
	}
}
