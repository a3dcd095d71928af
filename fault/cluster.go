package fault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds of the replica helpers.
const (
	buildTimeout      = 3 * time.Minute
	replicaReadyLimit = 20 * time.Second
	replicaStopLimit  = 30 * time.Second
)

// BuildBinary builds ./cmd/missionbot of the module the test runs in into a
// temporary directory and returns the binary's path.
func BuildBinary(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		t.Fatalf("go env GOMOD: %v (%q)", err, gomod)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(t.TempDir(), "missionbot")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/missionbot")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/missionbot: %v\n%s", err, out)
	}
	return bin
}

// Replica is one `missionbot serve` process on its own port, restartable on
// that port. Its stdout and stderr go to a log file in a temporary
// directory, kept across restarts. Its methods are safe for concurrent use.
type Replica struct {
	t    testing.TB
	Name string
	// Args follow "serve" on the command line; set before Start.
	Args []string
	bin  string
	env  []string
	addr string
	log  string // log file path

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
	err   error // Wait's result, set before done is closed
	start int   // how many times it was started
}

// ServeEnv returns the environment for a replica: the test's own without
// any MISSIONBOT_ variable, then extra ("NAME=value").
func ServeEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MISSIONBOT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// NewReplica returns a replica of bin named name with env (see ServeEnv;
// MISSIONBOT_HTTP_ADDR is added), not started. It is killed when the test
// ends.
func NewReplica(t testing.TB, bin, name string, env []string) *Replica {
	t.Helper()
	r := &Replica{t: t, Name: name, bin: bin, addr: fmt.Sprintf("127.0.0.1:%d", FreePort(t)),
		log: filepath.Join(t.TempDir(), name+".log")}
	r.env = append(append([]string(nil), env...), "MISSIONBOT_HTTP_ADDR="+r.addr)
	t.Cleanup(r.Kill)
	return r
}

// URL returns the replica's URL for path.
func (r *Replica) URL(path string) string { return "http://" + r.addr + path }

// Addr is the replica's listen address.
func (r *Replica) Addr() string { return r.addr }

// Start starts the process and returns at once; see WaitReady.
func (r *Replica) Start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		r.t.Fatalf("replica %s already running", r.Name)
	}
	logf, err := os.OpenFile(r.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		r.t.Fatal(err)
	}
	r.start++
	fmt.Fprintf(logf, "=== start %d of %s\n", r.start, r.Name)
	cmd := exec.Command(r.bin, append([]string{"serve"}, r.Args...)...)
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // gone with the test binary
	if err := cmd.Start(); err != nil {
		logf.Close()
		r.t.Fatalf("start replica %s: %v", r.Name, err)
	}
	done := make(chan struct{})
	r.cmd, r.done, r.err = cmd, done, nil
	go func() {
		err := cmd.Wait()
		logf.Close()
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
		close(done)
	}()
}

// StartReady starts the process and waits until /readyz answers 200.
func (r *Replica) StartReady() {
	r.t.Helper()
	r.Start()
	if err := r.WaitReady(replicaReadyLimit); err != nil {
		r.t.Fatalf("replica %s: %v\n%s", r.Name, err, r.LogTail(3000))
	}
}

// WaitReady polls /readyz until it answers 200 or timeout passes (the
// process is another one: polling with a deadline is the only way).
func (r *Replica) WaitReady(timeout time.Duration) error {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	if done == nil {
		return errors.New("not started")
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for {
		res, err := client.Get(r.URL("/readyz"))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			last = res.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/readyz not 200 after %s: %s", timeout, last)
		}
		select {
		case <-done:
			return fmt.Errorf("exited while starting: %v", r.exitErr())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func (r *Replica) exitErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Migrate runs `missionbot migrate` with the replica's environment and
// fails the test when it fails.
func (r *Replica) Migrate() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), replicaStopLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, "migrate")
	cmd.Env = r.env
	if out, err := cmd.CombinedOutput(); err != nil {
		r.t.Fatalf("missionbot migrate: %v\n%s", err, out)
	}
}

// Kill kills the process with SIGKILL (no shutdown at all) and waits for it.
// Killing a stopped replica does nothing.
func (r *Replica) Kill() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Term sends SIGTERM and waits for the process to exit, returning its exit
// code. It fails the test when it takes longer than replicaStopLimit.
func (r *Replica) Term() int {
	r.t.Helper()
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return -1
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(replicaStopLimit):
		_ = cmd.Process.Kill()
		<-done
		r.t.Errorf("replica %s still running %s after SIGTERM; killed", r.Name, replicaStopLimit)
	}
	return cmd.ProcessState.ExitCode()
}

// Running reports whether the process is running.
func (r *Replica) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// Log returns everything the replica has written, across restarts.
func (r *Replica) Log() string {
	b, _ := os.ReadFile(r.log)
	return string(b)
}

// LogTail returns the last n bytes of Log.
func (r *Replica) LogTail(n int) string {
	s := r.Log()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// CountLog counts the log lines containing s.
func (r *Replica) CountLog(s string) int {
	n := 0
	for _, line := range strings.Split(r.Log(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// Problems returns the replica's last n log lines at WARN or ERROR, each cut
// to 200 bytes.
func (r *Replica) Problems(n int) []string {
	var out []string
	for _, line := range strings.Split(r.Log(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) ||
			strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			if len(line) > 200 {
				line = line[:200]
			}
			out = append(out, line)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
