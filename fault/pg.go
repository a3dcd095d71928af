package fault

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver for counting effects.

	"github.com/missionbot/missionbot/internal/testredis"
)

// pgStartTimeout bounds initdb and each start or stop of the private server.
const pgStartTimeout = 60 * time.Second

// Postgres is a private PostgreSQL server: its own data directory in a
// temporary directory, its own port on 127.0.0.1, its unix socket in that
// directory, trust authentication, no durability (fsync off). It is never the
// shared server on 5432. Its methods are safe for concurrent use.
type Postgres struct {
	t    testing.TB
	bin  string // directory holding initdb and postgres
	dir  string // temporary directory: data/ and the socket
	port int
	cred *syscall.Credential // the postgres user when running as root

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	log  *os.File
}

// pgBinDir finds PostgreSQL's server binaries: $MISSIONBOT_FAULT_PG_BIN, the
// newest /usr/lib/postgresql/*/bin, or the directory of initdb on PATH.
func pgBinDir() (string, error) {
	if d := os.Getenv("MISSIONBOT_FAULT_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	p, err := exec.LookPath("initdb")
	if err != nil {
		return "", fmt.Errorf("no PostgreSQL server binaries (initdb) in /usr/lib/postgresql/*/bin or on PATH; set MISSIONBOT_FAULT_PG_BIN")
	}
	return filepath.Dir(p), nil
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// StartPostgres initialises a fresh cluster and starts it. When the test
// runs as root, the server runs as the postgres user (PostgreSQL refuses to
// run as root). The server is stopped and its directory removed when the
// test ends. Any failure fails t.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin, err := pgBinDir()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "missionbot-fault-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	p := &Postgres{t: t, bin: bin, dir: dir, port: FreePort(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), pgStartTimeout)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", p.dataDir(), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--no-sync", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Start()
	t.Cleanup(func() { p.stop(syscall.SIGQUIT) })
	return p
}

func (p *Postgres) dataDir() string { return filepath.Join(p.dir, "data") }

// Port is the TCP port the server listens on, on 127.0.0.1.
func (p *Postgres) Port() int { return p.port }

// Addr is the server's host:port.
func (p *Postgres) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// DSN returns a connection string for database db as the postgres user, on
// addr (host:port; empty means the server itself, not a gate in front).
func (p *Postgres) DSN(addr, db string) string {
	if addr == "" {
		addr = p.Addr()
	}
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable&connect_timeout=10", addr, db)
}

// CreateDatabase creates database name and returns a handle on it, closed
// when the test ends.
func (p *Postgres) CreateDatabase(name string) *sql.DB {
	p.t.Helper()
	admin := p.Open("postgres")
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		p.t.Fatalf("create database %s: %v", name, err)
	}
	return p.Open(name)
}

// Open returns a handle on database db, closed when the test ends.
func (p *Postgres) Open(db string) *sql.DB {
	p.t.Helper()
	h, err := sql.Open("pgx", p.DSN("", db))
	if err != nil {
		p.t.Fatal(err)
	}
	h.SetMaxOpenConns(4)
	p.t.Cleanup(func() { _ = h.Close() })
	return h
}

// Start starts the server on its port and returns once it accepts
// connections. It fails the test when the server is already running or does
// not come up within pgStartTimeout.
func (p *Postgres) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		p.t.Fatal("private PostgreSQL already running")
	}
	logf, err := os.OpenFile(filepath.Join(p.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(p.bin, "postgres"), "-D", p.dataDir(),
		"-p", strconv.Itoa(p.port), "-k", p.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB")
	// Pdeathsig: an immediate shutdown if the test binary dies (a timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.t.Fatalf("start postgres: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done, p.log = cmd, done, logf
	if err := testredis.WaitAccepting(p.Addr(), done, pgStartTimeout); err != nil {
		p.t.Fatalf("private PostgreSQL on %s: %v\n%s", p.Addr(), err, p.logTail())
	}
	// Accepting TCP is not yet accepting sessions (recovery after an
	// immediate stop): wait for a query to work.
	db, err := sql.Open("pgx", p.DSN("", "postgres"))
	if err != nil {
		p.t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(pgStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("private PostgreSQL never answered: %v\n%s", err, p.logTail())
		}
		select {
		case <-done:
			p.t.Fatalf("private PostgreSQL exited while starting\n%s", p.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the server down in fast mode (sessions are disconnected,
// transactions in flight roll back) and returns once it has exited.
func (p *Postgres) Stop() { p.stop(syscall.SIGINT) }

// Crash stops the server in immediate mode (like a crash: no checkpoint,
// recovery on the next start) and returns once it has exited.
func (p *Postgres) Crash() { p.stop(syscall.SIGQUIT) }

// Restart stops the server in fast mode and starts it again.
func (p *Postgres) Restart() {
	p.t.Helper()
	p.Stop()
	p.Start()
}

func (p *Postgres) stop(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(pgStartTimeout):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.log.Close()
	p.cmd = nil
}

// logTail returns the end of the server's log, for failure messages.
func (p *Postgres) logTail() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "postgres.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// FreePort returns a TCP port free on 127.0.0.1 right now.
func FreePort(t testing.TB) int { return testredis.FreePort(t) }
