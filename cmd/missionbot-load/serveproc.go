package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serveProc is a `missionbot serve` process the bench started.
type serveProc struct {
	cmd     *exec.Cmd
	addr    string
	exited  chan struct{}
	err     error
	mu      sync.Mutex
	out     bytes.Buffer
	Startup time.Duration // exec to the first /readyz 200
}

func (p *serveProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out.Len() < 1<<20 {
		p.out.Write(b)
	}
	return len(b), nil
}

// Output is what the process printed (the first MiB).
func (p *serveProc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// URL is the process's base URL.
func (p *serveProc) URL() string { return "http://" + p.addr }

// freePort returns a loopback address that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServe runs `binary serve` with env (on top of this process's
// environment without MISSIONBOT_ variables) on a free port and returns once
// /readyz answers 200, recording how long that took. It fails if the
// process exits or is not ready within timeout.
func startServe(ctx context.Context, binary string, env []string, timeout time.Duration) (*serveProc, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MISSIONBOT_") {
			base = append(base, kv)
		}
	}
	p := &serveProc{addr: addr, exited: make(chan struct{})}
	p.cmd = exec.Command(binary, "serve")
	p.cmd.Env = append(append(base, env...), "MISSIONBOT_HTTP_ADDR="+addr)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start serve: %w", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if res, err := client.Get(p.URL() + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				p.Startup = time.Since(start)
				return p, nil
			}
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("serve exited while starting (%v):\n%s", p.err, tail(p.Output(), 2000))
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	p.kill()
	return nil, fmt.Errorf("serve not ready within %s:\n%s", timeout, tail(p.Output(), 2000))
}

// RSS is the process's resident set size (VmRSS) in bytes.
func (p *serveProc) RSS() (int64, error) {
	return vmRSS(p.cmd.Process.Pid)
}

// vmRSS reads VmRSS of pid from /proc.
func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// stop sends SIGTERM and waits up to 30 s, then kills.
func (p *serveProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.kill()
	}
}

func (p *serveProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// peakRSS samples the RSS of procs every 100 ms until stop is closed and
// returns the highest sum seen.
func peakRSS(procs []*serveProc, stop <-chan struct{}) int64 {
	var peak int64
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		var total int64
		for _, p := range procs {
			if n, err := p.RSS(); err == nil {
				total += n
			}
		}
		peak = max(peak, total)
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// clockTick is the kernel's USER_HZ, the unit of /proc CPU times (100 on
// Linux everywhere in practice).
const clockTick = 10 * time.Millisecond

// CPU is the CPU time (user + system) the process has used.
func (p *serveProc) CPU() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat")
	}
	return time.Duration(u+st) * clockTick, nil
}

// cpuTimes returns the machine's busy and total CPU time from /proc/stat.
func cpuTimes() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}
