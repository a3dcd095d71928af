package deploy

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bounds of the binary test: building, starting and stopping serve.
const (
	buildTimeout = 10 * time.Minute // a cold cache on two busy cores
	serveTimeout = 15 * time.Second
)

// buildStatic builds cmd/missionbot as the Dockerfile does (CGO_ENABLED=0,
// -trimpath, stripped) into dir and returns its path.
func buildStatic(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "missionbot")
	// A cold build of the whole tree with cgo off can take minutes: stop
	// before go test's own timeout, to fail with a message instead of a panic.
	timeout := buildTimeout
	if d, ok := t.Deadline(); ok && time.Until(d)-30*time.Second < timeout {
		timeout = time.Until(d) - 30*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=static-test", "-o", bin, "github.com/missionbot/missionbot/cmd/missionbot")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("CGO_ENABLED=0 go build did not finish within %s (a cold build cache on a busy machine; go test -timeout 20m gives it longer)", timeout.Round(time.Second))
	}
	if err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	t.Logf("CGO_ENABLED=0 go build: %s", time.Since(start).Round(100*time.Millisecond))
	return bin
}

// TestBinary builds the binary once as the image does, then checks it is
// static and runs as nobody from an empty directory.
func TestBinary(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is Linux; these checks run only there")
	}
	bin := buildStatic(t, mkdir(t, "missionbot-bin-", nil))
	t.Run("static", func(t *testing.T) { testStatic(t, bin) })
	t.Run("runs as nobody from an empty directory", func(t *testing.T) { testRunsAsNobody(t, bin) })
}

// testStatic checks that bin needs no shared library, so it runs on
// distroless/static (no libc).
func testStatic(t *testing.T, bin string) {
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a program interpreter (dynamic loader): it is not static")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
	}
	if ldd, err := exec.LookPath("ldd"); err == nil {
		out, _ := exec.Command(ldd, bin).CombinedOutput() // exits 1 for a static binary
		if !strings.Contains(string(out), "not a dynamic executable") && !strings.Contains(string(out), "statically linked") {
			t.Errorf("ldd %s: %s, want \"not a dynamic executable\"", bin, out)
		}
	}
	if fi, err := os.Stat(bin); err == nil {
		t.Logf("static binary: %.1f MiB", float64(fi.Size())/(1<<20))
	}
}

// nobody is the unprivileged account the binary is run as.
type nobody struct{ uid, gid uint32 }

func lookupNobody(t *testing.T) nobody {
	t.Helper()
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	return nobody{uint32(uid), uint32(gid)}
}

// command returns bin args… to run as n in dir with exactly env (nothing of
// the test's environment), as a container would run it.
func (n nobody) command(bin, dir string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: n.uid, Gid: n.gid, Groups: []uint32{}}}
	return cmd
}

// mkdir makes a directory that nobody can enter: mode 0755, or owned by
// owner with mode 0700 when owner is given.
func mkdir(t *testing.T, pattern string, owner *nobody) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	mode := os.FileMode(0o755)
	if owner != nil {
		mode = 0o700
		if err := os.Chown(dir, int(owner.uid), int(owner.gid)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testRunsAsNobody runs the static binary bin as the image does: alone in a directory, as an unprivileged user who cannot write
// there, with only its data directory writable and no MISSIONBOT_ variable
// but the database path and the address. version answers; serve starts,
// answers /readyz and the healthcheck subcommand, and stops cleanly on
// SIGTERM, after which the healthcheck fails naming the connection error.
func testRunsAsNobody(t *testing.T, bin string) {
	if os.Geteuid() != 0 {
		t.Skip("switching to user nobody needs root (CI runs as root)")
	}
	who := lookupNobody(t)
	work := mkdir(t, "missionbot-empty-", nil) // the working directory: empty, not writable by nobody
	data := mkdir(t, "missionbot-data-", &who)
	addr := freeAddr(t)
	env := []string{
		"PATH=/nonexistent", // nothing to find: the binary needs no tool
		"HOME=/nonexistent",
		"MISSIONBOT_DATABASE_PATH=" + filepath.Join(data, "missionbot.db"),
		"MISSIONBOT_HTTP_ADDR=" + addr,
	}

	out, err := who.command(bin, work, env, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "missionbot static-test") {
		t.Fatalf("version as nobody: %v %q", err, out)
	}

	var log lockedBuffer
	serve := who.command(bin, work, env, "serve", "--allow-no-platform")
	serve.Stdout, serve.Stderr = &log, &log
	started := time.Now()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = serve.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = serve.Process.Kill()
			<-exited
		}
	})

	ready := waitReady(t, "http://"+addr+"/readyz", exited, &log)
	t.Logf("serve as nobody: ready in %s (SQLite, migrations included), RSS %s", time.Since(started).Round(time.Millisecond), rss(serve.Process.Pid))
	if ready.Checks["database"] != "ok" {
		t.Errorf("/readyz = %+v, want the database ok", ready)
	}
	if uid := procUID(t, serve.Process.Pid); uid != strconv.Itoa(int(who.uid)) {
		t.Errorf("serve runs as uid %s, want nobody (%d)", uid, who.uid)
	}
	if fi, err := os.Stat(filepath.Join(data, "missionbot.db")); err != nil {
		t.Errorf("no database in the data directory: %v", err)
	} else if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != who.uid {
		t.Errorf("the database is owned by uid %d, want nobody", st.Uid)
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("serve wrote into its working directory: %v", entries)
	}

	hc, err := who.command(bin, work, env, "healthcheck").CombinedOutput()
	if err != nil || strings.TrimSpace(string(hc)) != "ready" {
		t.Errorf("healthcheck as nobody while serving: %v %q, want exit 0 and \"ready\"", err, hc)
	}

	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(serveTimeout):
		t.Fatalf("serve did not stop on SIGTERM:\n%s", log.String())
	}
	if waitErr != nil || !strings.Contains(log.String(), "missionbot shut down cleanly") {
		t.Errorf("serve after SIGTERM: %v, want exit 0 and a clean shutdown:\n%s", waitErr, log.String())
	}

	hc, err = who.command(bin, work, env, "healthcheck").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || strings.Count(strings.TrimSpace(string(hc)), "\n") != 0 || !strings.Contains(string(hc), addr) {
		t.Errorf("healthcheck with serve stopped: %v %q, want exit 1 and one line naming %s", err, hc, addr)
	}
}

// readiness is the part of a /readyz answer the test reads.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// waitReady polls url until it answers 200 and returns the answer, failing
// if the process exits first or serveTimeout passes (a cross-process wait,
// bounded in time).
func waitReady(t *testing.T, url string, exited <-chan struct{}, log fmt.Stringer) readiness {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(serveTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if res, err := client.Get(url); err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				var r readiness
				if err := json.Unmarshal(body, &r); err != nil {
					t.Fatalf("/readyz body %q: %v", body, err)
				}
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %s:\n%s", url, serveTimeout, log)
		}
		select {
		case <-exited:
			t.Fatalf("serve exited before it was ready:\n%s", log)
		case <-tick.C:
		}
	}
}

// procStatus returns the value of one line of /proc/<pid>/status.
func procStatus(pid int, key string) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// procUID returns the real uid of a process.
func procUID(t *testing.T, pid int) string {
	t.Helper()
	fields := strings.Fields(procStatus(pid, "Uid"))
	if len(fields) == 0 {
		t.Fatalf("no Uid in /proc/%d/status", pid)
	}
	return fields[0]
}

// rss returns a process's resident set size as /proc reports it.
func rss(pid int) string { return procStatus(pid, "VmRSS") }
