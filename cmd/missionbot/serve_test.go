package main_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/missionbot/missionbot/internal/testdb"
)

// Bounds of the serve tests: how long the binary may take to start and to
// stop, and how long a load client may run.
const (
	serveStartTimeout = 15 * time.Second
	serveExitMargin   = 5 * time.Second
	loadTimeout       = 30 * time.Second
)

// serveEnv returns the environment for one serve run: the test's own
// environment without any MISSIONBOT_ variable, a fresh SQLite file, debug
// logging, then extra ("NAME=value") on top.
func serveEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MISSIONBOT_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"MISSIONBOT_DATABASE_PATH="+filepath.Join(t.TempDir(), "serve.db"),
		"MISSIONBOT_LOG_LEVEL=debug",
	)
	return append(env, extra...)
}

// runServe runs `missionbot serve args…` to its end (it must end by itself
// within serveStartTimeout) and returns its exit code and its stdout and
// stderr together.
func runServe(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	p := startServeProcess(t, env, args...)
	return p.wait(t, serveStartTimeout), p.output()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fake returns a made-up credential: prefix and random hex digits.
func fake(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// serveProcess is a running `missionbot serve`, its stdout and stderr
// collected into one log.
type serveProcess struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before exited is closed

	mu   sync.Mutex
	out  bytes.Buffer
	grew chan struct{} // closed and replaced on every write to out
}

func (p *serveProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.Write(b)
	close(p.grew)
	p.grew = make(chan struct{})
	return len(b), nil
}

func (p *serveProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startServeProcess starts the binary with `serve args…`. The process is
// killed when the test ends if it is still running.
func startServeProcess(t *testing.T, env []string, args ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{exited: make(chan struct{}), grew: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"serve"}, args...)...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// startServe starts `serve --allow-no-platform` on a free port with env and
// returns once /healthz answers 200.
func startServe(t *testing.T, env []string) *serveProcess {
	t.Helper()
	addr := freeAddr(t)
	p := startServeProcess(t, append(env, "MISSIONBOT_HTTP_ADDR="+addr), "--allow-no-platform")
	p.addr = addr
	if !p.waitLog(`"msg":"missionbot serving"`, serveStartTimeout) {
		t.Fatalf("serve did not start:\n%s", p.output())
	}
	// Poll until the listener answers; bounded in count and time.
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range 250 {
		if res, err := client.Get(p.url("/healthz")); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("serve exited while starting: %v\n%s", p.err, p.output())
		case <-tick.C:
		}
	}
	t.Fatalf("serve never answered /healthz on %s:\n%s", addr, p.output())
	return nil
}

func (p *serveProcess) url(path string) string { return "http://" + p.addr + path }

// waitLog reports whether the output comes to contain s within timeout. It
// returns false at once if the process exits without having printed it.
func (p *serveProcess) waitLog(s string, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		found, grew := strings.Contains(p.out.String(), s), p.grew
		p.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-grew:
		case <-p.exited:
			return strings.Contains(p.output(), s)
		case <-deadline.C:
			return false
		}
	}
}

// wait waits up to timeout for the process to exit and returns its exit code;
// it fails the test if the process is still running then.
func (p *serveProcess) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("serve still running after %s:\n%s", timeout, p.output())
	}
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit):
		return exit.ExitCode()
	default:
		t.Fatalf("serve: %v", p.err)
		return -1
	}
}

// stop sends SIGTERM and expects a clean exit within timeout.
func (p *serveProcess) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, timeout); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0:\n%s", code, p.output())
	}
	if !strings.Contains(p.output(), "missionbot shut down cleanly") {
		t.Errorf("the log does not say serve shut down cleanly:\n%s", p.output())
	}
}

// postSlack posts a form body to path with Slack's signature headers.
func (p *serveProcess) postSlack(t *testing.T, path, body, signature string, at time.Time) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.url(path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("X-Slack-Signature", signature)
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("POST %s: reading the body: %v", path, err)
	}
	return res.StatusCode, string(b)
}

// get fetches path and returns the status and the whole body.
func (p *serveProcess) get(t *testing.T, path string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(p.url(path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return res.StatusCode, string(body)
}

// readiness fetches /readyz and decodes its answer.
func (p *serveProcess) readiness(t *testing.T) (int, readyAnswer) {
	t.Helper()
	code, body := p.get(t, "/readyz")
	var r readyAnswer
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz body %q: %v", body, err)
	}
	return code, r
}

// readyAnswer is the JSON of /readyz.
type readyAnswer struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func TestServeWithoutPlatformSaysWhatToSet(t *testing.T) {
	code, out := runServe(t, serveEnv(t))
	if code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	for _, want := range []string{"no platform is enabled", "MISSIONBOT_SLACK_BOT_TOKEN", "MISSIONBOT_SLACK_SIGNING_SECRET",
		"MISSIONBOT_DISCORD_BOT_TOKEN", "missionbot console", "--allow-no-platform"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// TestServeNeverPrintsSecrets runs the real binary with every secret set, in
// runs that refuse to start, fail validation, or serve, and looks for each
// secret's value in everything it printed.
func TestServeNeverPrintsSecrets(t *testing.T) {
	botToken := fake(t, "xoxb-")
	signing := fake(t, "")
	appToken := fake(t, "xapp-")
	discordToken := fake(t, "")
	encryption := fake(t, "")
	redisPassword := fake(t, "pw")
	secrets := []string{botToken, signing, appToken, discordToken, encryption, redisPassword}
	withSecrets := []string{
		"MISSIONBOT_SLACK_BOT_TOKEN=" + botToken,
		"MISSIONBOT_SLACK_SIGNING_SECRET=" + signing,
		"MISSIONBOT_SLACK_APP_TOKEN=" + appToken,
		"MISSIONBOT_DISCORD_BOT_TOKEN=" + discordToken,
		"MISSIONBOT_SECURITY_ENCRYPTION_KEY=" + encryption,
	}
	check := func(t *testing.T, out string) {
		t.Helper()
		for i, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("secret %d (%s…) appears in the output", i, s[:6])
			}
		}
	}

	t.Run("slack enabled", func(t *testing.T) {
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":false,"error":"not_authed"}`)
		}))
		defer api.Close()
		p := startServe(t, serveEnv(t, append(withSecrets, "MISSIONBOT_SLACK_ENABLED=true", "MISSIONBOT_SLACK_API_URL="+api.URL+"/")...))
		form := url.Values{"team_id": {"T1"}, "team_domain": {"greens"}, "user_id": {"U1"}, "user_name": {"alice"},
			"channel_id": {"C1"}, "channel_name": {"general"}, "command": {"/mission"}, "text": {""},
			"trigger_id": {"1.2.abc"}, "response_url": {api.URL + "/respond"}}.Encode()
		if code, _ := p.postSlack(t, "/slack/commands", form, "v0=00", time.Now()); code != http.StatusUnauthorized {
			t.Errorf("a badly signed slash command got %d, want 401", code)
		}
		now := time.Now()
		mac := hmac.New(sha256.New, []byte(signing))
		fmt.Fprintf(mac, "v0:%d:%s", now.Unix(), form)
		code, body := p.postSlack(t, "/slack/commands", form, "v0="+hex.EncodeToString(mac.Sum(nil)), now)
		if code != http.StatusOK || !strings.Contains(body, "mission") {
			t.Errorf("a signed /mission got %d %q, want 200 with the mission reply", code, body)
		}
		if _, m := p.get(t, "/metrics"); !strings.Contains(m, `missionbot_requests_rejected_total{platform="slack",reason="signature"} 1`) {
			t.Errorf("/metrics does not count the refused request")
		}
		p.stop(t, 20*time.Second+serveExitMargin)
		check(t, p.output())
	})
	t.Run("invalid config", func(t *testing.T) {
		code, out := runServe(t, serveEnv(t, append(withSecrets, "MISSIONBOT_SLACK_ENABLED=true",
			"MISSIONBOT_DATABASE_DRIVER=oracle", "MISSIONBOT_HTTP_DRAIN_TIMEOUT=soon",
			"MISSIONBOT_REDIS_URL=http://:"+redisPassword+"@127.0.0.1:6379")...))
		if code != 1 || !strings.Contains(out, "database.driver") || !strings.Contains(out, "http.drain_timeout") || !strings.Contains(out, "redis.url") {
			t.Errorf("exit status %d, want 1 naming database.driver, http.drain_timeout and redis.url:\n%s", code, out)
		}
		check(t, out)
	})
	t.Run("secret written in the file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte("slack:\n  enabled: true\n  bot_token: "+botToken+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out := runServe(t, serveEnv(t), "--config", path)
		if code != 1 || !strings.Contains(out, "slack.bot_token") {
			t.Errorf("exit status %d, want 1 naming slack.bot_token:\n%s", code, out)
		}
		check(t, out)
	})
	t.Run("serving with Redis down", func(t *testing.T) {
		// Nothing listens on the Redis port: coordination runs degraded and
		// readiness says so, logging the Redis errors without the password.
		p := startServe(t, serveEnv(t, append(withSecrets, "MISSIONBOT_REDIS_URL=redis://:"+redisPassword+"@"+freeAddr(t)+"/0")...))
		code, r := p.readiness(t)
		if code != http.StatusOK || r.Checks["redis"] != "degraded" {
			t.Errorf("/readyz %d %+v, want 200 with redis degraded", code, r)
		}
		p.get(t, "/metrics")
		p.stop(t, 20*time.Second+serveExitMargin)
		check(t, p.output())
	})
}

func TestServeHealthReadinessMetrics(t *testing.T) {
	t.Run("in-process", func(t *testing.T) {
		p := startServe(t, serveEnv(t))
		if code, body := p.get(t, "/healthz"); code != http.StatusOK || body != "ok\n" {
			t.Errorf("/healthz = %d %q, want 200 ok", code, body)
		}
		code, r := p.readiness(t)
		if code != http.StatusOK || r.Status != "ok" || r.Checks["database"] != "ok" {
			t.Errorf("/readyz = %d %+v, want 200 with database ok", code, r)
		}
		if _, ok := r.Checks["redis"]; ok {
			t.Errorf("/readyz checks redis without Redis configured: %+v", r)
		}
		if code, body := p.get(t, "/metrics"); code != http.StatusOK || !strings.Contains(body, "missionbot_") {
			t.Errorf("/metrics = %d without missionbot_ metrics:\n%s", code, body)
		}
		if !strings.Contains(p.output(), `"coordination":"in-process"`) {
			t.Errorf("the start line does not name the coordination mode:\n%s", p.output())
		}
		p.stop(t, 20*time.Second+serveExitMargin)
	})
	t.Run("redis", func(t *testing.T) {
		testdb.RequireRedis(t)
		p := startServe(t, serveEnv(t, "MISSIONBOT_REDIS_URL=redis://127.0.0.1:6379/0", "MISSIONBOT_REDIS_PREFIX="+fake(t, "mb-serve-test-")+":"))
		code, r := p.readiness(t)
		if code != http.StatusOK || r.Status != "ok" || r.Checks["database"] != "ok" || r.Checks["redis"] != "ok" {
			t.Errorf("/readyz = %d %+v, want 200 with database and redis ok", code, r)
		}
		if !strings.Contains(p.output(), `"coordination":"redis"`) {
			t.Errorf("the start line does not name the coordination mode:\n%s", p.output())
		}
		p.stop(t, 20*time.Second+serveExitMargin)
	})
}

// connectionError reports whether err, from a request that got no response,
// means the server was not there (refused, reset, closed) rather than
// anything else.
func connectionError(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) ||
		strings.Contains(err.Error(), "server closed idle connection")
}

// TestServeShutdownUnderLoad sends SIGTERM while 20 keep-alive clients loop
// on /readyz and /healthz: every request answered is a complete 200, the
// others fail only to connect, and the process exits 0 within the drain
// timeout, saying it shut down cleanly.
func TestServeShutdownUnderLoad(t *testing.T) {
	const (
		clients  = 20
		maxLoops = 100_000
		drain    = 10 * time.Second
		warmup   = clients * 10 // answered requests before the signal
	)
	p := startServe(t, serveEnv(t, "MISSIONBOT_HTTP_DRAIN_TIMEOUT="+drain.String()))

	var (
		signaled atomic.Bool
		answered atomic.Int64
		refused  atomic.Int64
		mu       sync.Mutex
		problems []string
	)
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	stopped := make([]bool, clients) // the client ended on connection errors
	deadline := time.Now().Add(loadTimeout)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			tr := &http.Transport{MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			failures := 0
			for i := 0; i < maxLoops && time.Now().Before(deadline); i++ {
				path := "/healthz"
				if i%2 == 0 {
					path = "/readyz"
				}
				res, err := client.Get(p.url(path))
				if err != nil {
					switch {
					case !connectionError(err):
						problem("client %d: GET %s: %v", c, path, err)
						return
					case !signaled.Load():
						problem("client %d: GET %s before the signal: %v", c, path, err)
						return
					}
					refused.Add(1)
					if failures++; failures == 3 {
						stopped[c] = true
						return
					}
					continue
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				switch {
				case err != nil:
					problem("client %d: GET %s: %d with a truncated body: %v", c, path, res.StatusCode, err)
				case res.StatusCode != http.StatusOK:
					problem("client %d: GET %s: %d %q", c, path, res.StatusCode, body)
				case path == "/healthz" && string(body) != "ok\n":
					problem("client %d: GET /healthz: body %q", c, body)
				case path == "/readyz" && !bytes.Contains(body, []byte(`"status":"ok"`)):
					problem("client %d: GET /readyz: body %q", c, body)
				default:
					answered.Add(1)
				}
			}
		})
	}

	// Poll until the load is under way; bounded in count and time.
	tick := time.NewTicker(10 * time.Millisecond)
	for i := 0; answered.Load() < warmup; i++ {
		if i == 1000 {
			t.Fatalf("only %d requests answered before the signal", answered.Load())
		}
		<-tick.C
	}
	tick.Stop()
	before := answered.Load()
	signaled.Store(true)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, drain+serveExitMargin)
	wg.Wait()

	for _, pr := range problems {
		t.Error(pr)
	}
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if !strings.Contains(p.output(), "missionbot shut down cleanly") {
		t.Errorf("the log does not say serve shut down cleanly")
	}
	for c, ok := range stopped {
		if !ok {
			t.Errorf("client %d never saw the server go away", c)
		}
	}
	t.Logf("%d requests answered (%d before the signal), %d refused after it", answered.Load(), before, refused.Load())
	if t.Failed() {
		t.Logf("serve output:\n%s", p.output())
	}
}

// TestServeSecondSignalForcesExit holds a drain open with a request whose
// body never arrives, then sends a second SIGTERM: the process exits at once
// with a non-zero status instead of waiting for the drain.
func TestServeSecondSignalForcesExit(t *testing.T) {
	p := startServe(t, serveEnv(t, "MISSIONBOT_HTTP_DRAIN_TIMEOUT=2m"))
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server answers only after reading the promised body, so this
	// request stays in flight.
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !p.waitLog("a second signal forces exit", 10*time.Second) {
		t.Fatalf("serve did not start shutting down:\n%s", p.output())
	}
	select {
	case <-p.exited:
		t.Fatalf("serve exited before the drain finished, with a request in flight:\n%s", p.output())
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, serveExitMargin); code == 0 {
		t.Errorf("exit status 0 after a forced exit, want non-zero")
	}
	out := p.output()
	if !strings.Contains(out, "second signal") || strings.Contains(out, "shut down cleanly") {
		t.Errorf("the log does not show a forced exit:\n%s", out)
	}
}
