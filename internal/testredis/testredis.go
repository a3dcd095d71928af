// Package testredis starts private redis-server instances for tests that
// stop, restart or pause Redis: each on its own port, never the shared one.
package testredis

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds each start of the private Redis.
const startTimeout = 15 * time.Second

// Server is a private redis-server on its own port, without persistence
// (--save "" --appendonly no): a restart loses every key, as a real failover
// to an empty replica would. It is never the shared one on 6379. Its methods
// are safe for concurrent use.
type Server struct {
	t    testing.TB
	bin  string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	paused bool
}

// Start starts a private redis-server; it is killed when the test ends. A
// missing redis-server fails t in CI (CI set) and skips it elsewhere, unless
// required is set, which always fails.
func Start(t testing.TB, required bool) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if required || os.Getenv("CI") != "" {
			t.Fatalf("redis-server is needed: %v", err)
		}
		t.Skipf("skipping: redis-server is not installed: %v", err)
	}
	r := &Server{t: t, bin: bin, port: FreePort(t)}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Addr is the server's host:port.
func (r *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// URL returns a redis:// URL for logical database db.
func (r *Server) URL(db int) string { return fmt.Sprintf("redis://%s/%d", r.Addr(), db) }

// Start starts the server and returns once it accepts connections.
func (r *Server) Start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		r.t.Fatal("private Redis already running")
	}
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--databases", "64")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} // gone with the test binary
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.cmd, r.done = cmd, done
	if err := WaitAccepting(r.Addr(), done, startTimeout); err != nil {
		r.t.Fatalf("private Redis on %s: %v", r.Addr(), err)
	}
}

// Stop kills the server (nothing to save) and returns once it has exited.
// Stopping a stopped server does nothing.
func (r *Server) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	if r.paused {
		_ = r.cmd.Process.Signal(syscall.SIGCONT)
		r.paused = false
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// Restart kills the server and starts an empty one on the same port.
func (r *Server) Restart() {
	r.t.Helper()
	r.Stop()
	r.Start()
}

// Pause freezes the server (SIGSTOP): connections stay open and every
// command hangs until Resume, like a server stalled on a slow disk.
func (r *Server) Pause() { r.signal(syscall.SIGSTOP, true) }

// Resume unfreezes a paused server.
func (r *Server) Resume() { r.signal(syscall.SIGCONT, false) }

func (r *Server) signal(sig syscall.Signal, paused bool) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		r.t.Fatal("private Redis is not running")
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatalf("signal redis-server: %v", err)
	}
	r.paused = paused
}

// FreePort returns a TCP port free on 127.0.0.1 right now, for a private
// server a test starts.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitAccepting polls addr until a TCP connection succeeds, the process
// exits (exited closed) or timeout passes. It waits on another process, so
// polling with a deadline is the only option.
func WaitAccepting(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections after %s: %w", timeout, err)
		}
		select {
		case <-exited:
			return errors.New("process exited")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
