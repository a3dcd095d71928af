package deploy

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// nginxStartTimeout bounds how long nginx may take to listen.
const nginxStartTimeout = 10 * time.Second

// nginxBinary returns the nginx executable. Without one the test is skipped,
// unless CI is set: then it fails, since .ci/run installs Debian's nginx.
func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("nginx is not installed: CI must install Debian's nginx package to check deploy/nginx.conf")
	}
	t.Skip("nginx is not installed (apt-get install nginx); CI fails instead of skipping")
	return ""
}

// upstreamServer matches a server line of deploy/nginx.conf's upstream.
var upstreamServer = regexp.MustCompile(`(?m)^\s*server\s+([a-z0-9-]+):(\d+)\b`)

// TestNginxUpstreamsAreTheReplicas checks that nginx balances across
// exactly the compose replicas, on the port they listen on.
func TestNginxUpstreamsAreTheReplicas(t *testing.T) {
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range upstreamServer.FindAllStringSubmatch(string(conf), -1) {
		got = append(got, m[1]+":"+m[2])
	}
	if want := []string{"bot1:8080", "bot2:8080"}; !slices.Equal(got, want) {
		t.Errorf("nginx.conf upstream servers = %v, want %v (the compose replicas)", got, want)
	}
	if !regexp.MustCompile(`(?m)^\s*listen\s+8080;`).Match(conf) {
		t.Error("nginx.conf does not listen on 8080, the proxy's published target port")
	}
}

// localNginxConf writes deploy/nginx.conf into dir as it must be to run on
// this machine, and returns its path: compose's service names become the
// given loopback addresses (replica name → host:port), the listen port
// becomes listen, and the /tmp paths move into dir. Nothing else changes.
func localNginxConf(t *testing.T, dir, listen string, upstreams map[string]string) string {
	t.Helper()
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	text := upstreamServer.ReplaceAllStringFunc(string(conf), func(s string) string {
		m := upstreamServer.FindStringSubmatch(s)
		addr, ok := upstreams[m[1]]
		if !ok {
			t.Fatalf("nginx.conf upstream %s: no address given for it", m[1])
		}
		return strings.Replace(s, m[1]+":"+m[2], addr, 1)
	})
	text = regexp.MustCompile(`(?m)^(\s*listen\s+)8080;`).ReplaceAllString(text, "${1}"+listen+";")
	text = strings.ReplaceAll(text, " /tmp/", " "+dir+"/")
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// nginxDir returns a fresh directory that nginx's workers (nobody) can
// enter, removed when the test ends.
func nginxDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "missionbot-nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestNginxConfigIsValid runs nginx's own check on deploy/nginx.conf.
func TestNginxConfigIsValid(t *testing.T) {
	nginx := nginxBinary(t)
	dir := nginxDir(t)
	conf := localNginxConf(t, dir, "127.0.0.1:8080", map[string]string{"bot1": "127.0.0.1:18081", "bot2": "127.0.0.1:18082"})
	out, err := exec.Command(nginx, "-t", "-e", "stderr", "-p", dir+"/", "-c", conf).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

// hit is one request a replica received.
type hit struct {
	replica, method, path, query, body, signature string
}

// replica is a stand-in for one missionbot replica that records what it
// receives and answers with its name.
type replica struct {
	name string
	srv  *httptest.Server
}

func newReplica(t *testing.T, name string, mu *sync.Mutex, hits *[]hit) *replica {
	t.Helper()
	r := &replica{name: name}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mu.Lock()
		*hits = append(*hits, hit{name, req.Method, req.URL.Path, req.URL.RawQuery, string(body), req.Header.Get("X-Slack-Signature")})
		mu.Unlock()
		fmt.Fprintf(w, "%s %s", name, body)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNginxProxiesToTheReplicas runs deploy/nginx.conf in nginx in front of
// two stand-in replicas and checks what a platform and an operator see:
// webhooks reach a replica unchanged, requests spread over both, /metrics
// and unknown paths stay private, OAuth codes stay out of the access log, and
// with one replica gone every request is still answered by the other.
func TestNginxProxiesToTheReplicas(t *testing.T) {
	nginx := nginxBinary(t)
	var (
		mu   sync.Mutex
		hits []hit
	)
	bot1, bot2 := newReplica(t, "bot1", &mu, &hits), newReplica(t, "bot2", &mu, &hits)
	dir := nginxDir(t)
	listen := freeAddr(t)
	conf := localNginxConf(t, dir, listen, map[string]string{"bot1": bot1.srv.Listener.Addr().String(), "bot2": bot2.srv.Listener.Addr().String()})

	var log lockedBuffer
	cmd := exec.Command(nginx, "-e", "stderr", "-p", dir+"/", "-c", conf, "-g", "daemon off; master_process off;")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when nginx has exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(os.Interrupt) // fast shutdown
		select {
		case <-exited:
		case <-time.After(nginxStartTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(stop)
	waitListening(t, listen, exited, &log)

	client := &http.Client{Timeout: 5 * time.Second}
	base := "http://" + listen
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Signature", "v0=abc")
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s through nginx: %v\nnginx:\n%s", method, path, err, log.String())
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	seen := func() []hit {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(hits)
	}

	// A Slack slash command arrives at a replica byte for byte, with its
	// signature header, and its answer comes back.
	form := "command=%2Fpledge&text=10+trees&team_id=T1&user_id=U1"
	if code, body := do("POST", "/slack/commands", form); code != 200 || !strings.HasSuffix(body, " "+form) {
		t.Fatalf("POST /slack/commands through nginx = %d %q", code, body)
	}
	if h := seen()[0]; h.path != "/slack/commands" || h.body != form || h.signature != "v0=abc" {
		t.Errorf("the replica received %+v, want the body and signature unchanged", h)
	}

	for _, path := range []string{"/slack/events", "/slack/interactivity", "/discord/interactions"} {
		if code, _ := do("POST", path, "{}"); code != 200 {
			t.Errorf("POST %s through nginx = %d, want 200 from a replica", path, code)
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/readyz", "/healthz"} {
		if code, _ := do("GET", path, ""); code != 200 {
			t.Errorf("GET %s through nginx = %d, want 200 from a replica", path, code)
		}
	}
	replicasSeen := map[string]int{}
	for _, h := range seen() {
		replicasSeen[h.replica]++
	}
	if replicasSeen["bot1"] == 0 || replicasSeen["bot2"] == 0 {
		t.Errorf("requests per replica %v, want both to get some", replicasSeen)
	}

	// Private and unknown paths never reach a replica.
	before := len(seen())
	for _, path := range []string{"/metrics", "/", "/debug/pprof/", "/slackx"} {
		if code, _ := do("GET", path, ""); code != http.StatusNotFound {
			t.Errorf("GET %s through nginx = %d, want 404", path, code)
		}
	}
	if n := len(seen()); n != before {
		t.Errorf("private paths reached a replica: %+v", seen()[before:])
	}

	// The OAuth callback reaches a replica with its query; the log has the
	// path only.
	code := "oauth-code-" + secret(t)
	if status, _ := do("GET", "/slack/oauth/callback?code="+code+"&state=s1", ""); status != 200 {
		t.Errorf("GET /slack/oauth/callback through nginx = %d", status)
	}
	if h := seen()[len(seen())-1]; h.query != "code="+code+"&state=s1" {
		t.Errorf("the replica got query %q, want the code and state", h.query)
	}

	// One replica gone: every request is still answered, by the other.
	bot2.srv.Close()
	for i := range 6 {
		status, body := do("POST", "/slack/events", fmt.Sprintf(`{"n":%d}`, i))
		if status != 200 || !strings.HasPrefix(body, "bot1 ") {
			t.Errorf("POST /slack/events %d with bot2 down = %d %q, want 200 from bot1", i, status, body)
		}
	}

	stop()
	out := log.String()
	if strings.Contains(out, code) {
		t.Errorf("nginx logged the OAuth code:\n%s", out)
	}
	if !strings.Contains(out, `"GET /slack/oauth/callback HTTP/1.1" 200`) {
		t.Errorf("nginx's access log lacks the callback's path and status:\n%s", out)
	}
}

// freeAddr returns a loopback address whose port was free a moment ago.
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

// waitListening polls addr until it accepts a connection, failing the test
// if the process exits first or nginxStartTimeout passes (a cross-process
// wait: bounded in time).
func waitListening(t *testing.T, addr string, exited <-chan struct{}, log fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(nginxStartTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after %s:\n%s", addr, nginxStartTimeout, log)
		}
		select {
		case <-exited:
			t.Fatalf("the process exited before listening:\n%s", log)
		case <-tick.C:
		}
	}
}
