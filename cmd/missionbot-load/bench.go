package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
)

// benchConfig is one `bench` run.
type benchConfig struct {
	Out         string
	PGAdmin     string // DSN of a database on the server where the bench creates its own
	RedisAddr   string
	Rates       []float64
	Duration    time.Duration
	Communities int
	Members     int
	Mix         []mixEntry
	GoBench     bool // run the digest and fan-out Go benchmarks
	Log         io.Writer
}

func benchCmd() *cobra.Command {
	var (
		cfg   benchConfig
		rates string
		mix   string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure everything BENCHMARKS.md reports and write it",
		Long: `bench builds missionbot from this tree and starts what it needs itself: fake
Slack and Discord APIs, serve on SQLite in a temporary directory, serve on a
fresh PostgreSQL database it creates (and drops) on the local server with Redis
under a unique key prefix, one and then two replicas. For each it measures
command throughput (stored effects) and acknowledgement latency at each offered
rate, beside its ceilings measured in the same run: a verify-only handler (the
signature check and nothing else) and the database's raw single-row insert
rate. It also counts statements per command through a counting PostgreSQL
proxy, runs the digest-build and fan-out Go benchmarks, and reads start-up time
and RSS of the serve processes. Progress goes to stderr; the report to --out.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Mix, err = parseMix(mix); err != nil {
				return err
			}
			for r := range strings.SplitSeq(rates, ",") {
				v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
				if err != nil || v <= 0 {
					return fmt.Errorf("--rates: %q is not a positive rate", r)
				}
				cfg.Rates = append(cfg.Rates, v)
			}
			cfg.Log = cmd.ErrOrStderr()
			return runBench(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Out, "out", "BENCHMARKS.md", "where to write the report")
	f.StringVar(&cfg.PGAdmin, "pg", firstSet(os.Getenv("MISSIONBOT_TEST_PG"), "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL DSN the bench connects to to create and drop its database")
	f.StringVar(&cfg.RedisAddr, "redis", "127.0.0.1:6379", "Redis address")
	f.StringVar(&rates, "rates", "200,500", "offered rates, commands a second")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long each rate is offered")
	f.IntVar(&cfg.Communities, "communities", 100, "simulated communities per run")
	f.IntVar(&cfg.Members, "members", 50, "simulated members per community")
	f.StringVar(&mix, "mix", "pledge=4,log=3,win=1,impact=2", "commands and their weights")
	f.BoolVar(&cfg.GoBench, "go-bench", true, "run the digest-build and fan-out Go benchmarks")
	return cmd
}

// scenario is one store configuration measured at every rate.
type scenario struct {
	Name     string
	Replicas int
	Startup  []time.Duration
	// Migrates says the first start created the schema (a fresh database).
	Migrates bool
	// Restart is the start-up of one more start on the same database after
	// the runs (schema in place), when measured.
	Restart   time.Duration
	IdleRSS   []int64
	PeakRSS   int64 // all replicas together, during the runs
	Insert    float64
	Results   []*result
	Err       string
	FakeCalls map[string]int
}

// report is everything BENCHMARKS.md shows.
type report struct {
	Started    time.Time
	Took       time.Duration
	Facts      [][2]string
	Cfg        benchConfig
	VerifyMax  float64
	VerifyRuns []*result
	Scenarios  []*scenario
	Stmts      []stmtRow
	StmtsErr   string
	GoBench    []goBenchRow
	GoBenchErr string
	Notes      []string
}

// stmtRow is what one command costs the database.
type stmtRow struct {
	Kind                                  string
	N                                     int
	Statements, Commits, Written, Fetched float64
}

// goBenchRow is one Go benchmark result.
type goBenchRow struct {
	Name string
	Op   time.Duration
	N    int
}

// benchSecrets are the credentials the bench invents for its serves.
type benchSecrets struct {
	slackSecret, botToken, discordToken string
	key                                 ed25519.PrivateKey
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func runBench(ctx context.Context, cfg benchConfig) error {
	rep := &report{Started: time.Now().UTC(), Cfg: cfg}
	logf := func(format string, args ...any) {
		fmt.Fprintf(cfg.Log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "missionbot-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	rep.Facts = machineFacts(ctx, root, cfg)
	startLoad := loadAvg()
	logf("building missionbot")
	binary := filepath.Join(tmp, "missionbot")
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "./cmd/missionbot")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}

	seed := make([]byte, ed25519.SeedSize)
	_, _ = rand.Read(seed)
	sec := benchSecrets{slackSecret: randomHex(16), botToken: "xoxb-load-" + randomHex(8), discordToken: "load." + randomHex(16),
		key: ed25519.NewKeyFromSeed(seed)}
	slackAPI, err := startFakeAPI(platformSlack, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer slackAPI.Close()
	discordAPI, err := startFakeAPI(platformDiscord, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer discordAPI.Close()

	load := func(urls []string) *loadConfig {
		return &loadConfig{URLs: urls, SlackPath: "/slack/commands", DiscordPath: "/discord/interactions",
			SlackSecret: sec.slackSecret, DiscordKey: sec.key, DiscordAppID: benchAppID,
			Platforms: []string{platformSlack, platformDiscord}, Communities: cfg.Communities, Members: cfg.Members,
			Duration: cfg.Duration, Mix: cfg.Mix, ResponseBase: slackAPI.URL(), RunID: newRunID(),
			Timeout: 10 * time.Second, MaxInFlight: 8192}
	}

	// Ceiling 1: the verify-only handler.
	logf("verify-only ceiling")
	vo, err := startVerifyOnly(sec.slackSecret, sec.key.Public().(ed25519.PublicKey), "/slack/commands", "/discord/interactions")
	if err != nil {
		return err
	}
	rep.VerifyMax = closedLoop(ctx, load([]string{vo.URL()}), 64, 3*time.Second)
	for _, rate := range cfg.Rates {
		lc := load([]string{vo.URL()})
		lc.Rate = rate
		rep.VerifyRuns = append(rep.VerifyRuns, runLoad(ctx, lc))
	}
	vo.Close()

	baseEnv := []string{
		"MISSIONBOT_LOG_LEVEL=warn",
		"MISSIONBOT_SLACK_ENABLED=true",
		"MISSIONBOT_SLACK_BOT_TOKEN=" + sec.botToken,
		"MISSIONBOT_SLACK_SIGNING_SECRET=" + sec.slackSecret,
		"MISSIONBOT_SLACK_API_URL=" + slackAPI.URL() + "/api/",
		"MISSIONBOT_DISCORD_ENABLED=true",
		"MISSIONBOT_DISCORD_MODE=http",
		"MISSIONBOT_DISCORD_BOT_TOKEN=" + sec.discordToken,
		"MISSIONBOT_DISCORD_APPLICATION_ID=" + benchAppID,
		"MISSIONBOT_DISCORD_PUBLIC_KEY=" + publicKeyHex(sec.key),
		"MISSIONBOT_DISCORD_API_URL=" + discordAPI.URL(),
	}

	// SQLite, one replica.
	sqlitePath := filepath.Join(tmp, "sqlite", "missionbot.db")
	if err := os.MkdirAll(filepath.Dir(sqlitePath), 0o700); err != nil {
		return err
	}
	logf("SQLite: raw insert ceiling")
	sq := &scenario{Name: "SQLite", Replicas: 1, Migrates: true}
	rep.Scenarios = append(rep.Scenarios, sq)
	if cdb, err := openDatabase("sqlite", filepath.Join(tmp, "sqlite", "ceiling.db")); err == nil {
		sq.Insert, err = cdb.insertCeiling(ctx, 8, 3*time.Second)
		if err != nil {
			rep.Notes = append(rep.Notes, "SQLite insert ceiling: "+err.Error())
		}
		cdb.Close()
	}
	runScenario(ctx, sq, binary, append(baseEnv, "MISSIONBOT_DATABASE_DRIVER=sqlite", "MISSIONBOT_DATABASE_PATH="+sqlitePath),
		"sqlite", sqlitePath, cfg, load, logf)

	// PostgreSQL + Redis: a fresh database on the local server.
	pg, dropPG, err := createBenchDB(ctx, cfg.PGAdmin)
	if err != nil {
		rep.Notes = append(rep.Notes, "PostgreSQL scenarios skipped: "+err.Error())
	} else {
		defer dropPG()
		prefix := "mbbench-" + randomHex(4) + ":"
		defer cleanRedis(cfg.RedisAddr, prefix)
		pgEnv := append(append([]string{}, baseEnv...), "MISSIONBOT_DATABASE_DRIVER=postgres", "MISSIONBOT_DATABASE_DSN="+pg,
			"MISSIONBOT_REDIS_URL=redis://"+cfg.RedisAddr+"/0", "MISSIONBOT_REDIS_PREFIX="+prefix)
		if db, err := openDatabase("postgres", pg); err == nil {
			logf("PostgreSQL: raw insert ceiling")
			ins, err := db.insertCeiling(ctx, 16, 3*time.Second)
			if err != nil {
				rep.Notes = append(rep.Notes, "PostgreSQL insert ceiling: "+err.Error())
			}
			db.Close()
			for _, n := range []int{1, 2} {
				s := &scenario{Name: "PostgreSQL + Redis", Replicas: n, Insert: ins, Migrates: n == 1}
				rep.Scenarios = append(rep.Scenarios, s)
				runScenario(ctx, s, binary, pgEnv, "postgres", pg, cfg, load, logf)
			}
			logf("PostgreSQL: statements per command")
			rep.Stmts, err = statementsPerCommand(ctx, binary, pgEnv, pg, load)
			if err != nil {
				rep.StmtsErr = err.Error()
			}
		}
	}

	if cfg.GoBench {
		logf("Go benchmarks: digest build at 10k/100k/1M contributions, fan-out to 10,000 communities")
		rep.GoBench, err = goBenchmarks(ctx, root)
		if err != nil {
			rep.GoBenchErr = err.Error()
		}
	}
	rep.Took = time.Since(rep.Started)
	rep.Facts = append(rep.Facts, [2]string{"Load average (1, 5, 15 min)", "at start " + startLoad + "; at end " + loadAvg() +
		" — other work on the machine competes for its cores"})
	text := renderReport(rep)
	if err := os.WriteFile(cfg.Out, []byte(text), 0o644); err != nil {
		return err
	}
	logf("wrote %s in %s", cfg.Out, rep.Took.Round(time.Second))
	return nil
}

// benchAppID is the Discord application id of the bench's serves.
const benchAppID = "100000000000000001"

// runScenario starts s.Replicas serves with env, measures start-up and idle
// RSS, then runs every rate against them round-robin, recording the result
// or what went wrong in s.
func runScenario(ctx context.Context, s *scenario, binary string, env []string, driver, dsn string, cfg benchConfig,
	load func([]string) *loadConfig, logf func(string, ...any)) {
	logf("%s × %d: starting", s.Name, s.Replicas)
	var procs []*serveProc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	var urls []string
	for range s.Replicas {
		p, err := startServe(ctx, binary, env, 30*time.Second)
		if err != nil {
			s.Err = err.Error()
			return
		}
		procs = append(procs, p)
		urls = append(urls, p.URL())
		s.Startup = append(s.Startup, p.Startup)
	}
	// Idle: ready, nothing asked yet beyond readiness, one second to settle.
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Second):
	}
	for _, p := range procs {
		if n, err := p.RSS(); err == nil {
			s.IdleRSS = append(s.IdleRSS, n)
		}
	}
	db, err := openDatabase(driver, dsn)
	if err != nil {
		s.Err = err.Error()
		return
	}
	defer db.Close()
	stop := make(chan struct{})
	peak := make(chan int64, 1)
	go func() { peak <- peakRSS(procs, stop) }()
	for _, rate := range cfg.Rates {
		lc := load(urls)
		lc.Rate = rate
		logf("%s × %d: %.0f/s for %s", s.Name, s.Replicas, rate, cfg.Duration)
		var (
			cpu0          time.Duration
			busy0, total0 int64
		)
		res, err := loadAndCount(ctx, lc, db, func() {
			cpu0 = serveCPU(procs)
			busy0, total0 = cpuTimes()
		})
		if err != nil {
			s.Err = err.Error()
			break
		}
		res.ServeCPU = serveCPU(procs) - cpu0
		if busy1, total1 := cpuTimes(); total1 > total0 {
			res.MachineBusy = float64(busy1-busy0) / float64(total1-total0)
		}
		s.Results = append(s.Results, res)
		logf("  p99 %.1f ms, %d/%d effects stored, %d errors", ms(res.Latency.P99), res.Stored(), res.Wanted(), res.errorCount())
	}
	close(stop)
	s.PeakRSS = <-peak
	for _, p := range procs {
		select {
		case <-p.exited:
			s.Err = "a serve process exited during the run:\n" + tail(p.Output(), 1500)
			return
		default:
		}
	}
	// Shut the replicas down (they drain what is in flight) and count
	// again: what is still missing then is lost, not late.
	for _, p := range procs {
		p.stop()
	}
	for _, res := range s.Results {
		if res.Stored() < res.Wanted() {
			if n, err := db.countEffects(ctx, res.RunID); err == nil {
				res.AfterStop = n
			}
		}
	}
	if s.Migrates {
		// Start once more on the same database, schema in place.
		p, err := startServe(ctx, binary, env, 30*time.Second)
		if err != nil {
			s.Err = "restart: " + err.Error()
			return
		}
		procs[0] = p
		s.Restart = p.Startup
	}
}

// serveCPU is the CPU time all of procs have used.
func serveCPU(procs []*serveProc) time.Duration {
	var d time.Duration
	for _, p := range procs {
		if c, err := p.CPU(); err == nil {
			d += c
		}
	}
	return d
}

// createBenchDB creates a fresh database on the server of adminDSN and
// returns its DSN and a function that drops it.
func createBenchDB(ctx context.Context, adminDSN string) (string, func(), error) {
	admin, err := openDatabase("postgres", adminDSN)
	if err != nil {
		return "", nil, err
	}
	if err := admin.db.PingContext(ctx); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("PostgreSQL at %s: %w", redactDSN(adminDSN), err)
	}
	name := "mbbench_" + randomHex(4)
	if _, err := admin.db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(adminDSN)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		_, _ = admin.db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

// redactDSN drops the password from a URL DSN.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return u.String()
}

// cleanRedis deletes the keys under prefix.
func cleanRedis(addr, prefix string) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}

// statementsPerCommand starts one more serve whose database connections
// go through a counting proxy and sends 200 commands of each kind,
// closed-loop 4 at a time; it divides the statements (and pg_stat_database
// commits and rows) seen by the commands sent.
// statsSettle is how long pg_stat_database takes to include what idle
// backends did (PGSTAT_IDLE_INTERVAL, 10 s, and a margin).
const statsSettle = 11 * time.Second

func statementsPerCommand(ctx context.Context, binary string, env []string, dsn string, load func([]string) *loadConfig) ([]stmtRow, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, err
	}
	proxy, err := startPGProxy(u.Host)
	if err != nil {
		return nil, err
	}
	defer proxy.Close()
	pdsn, err := proxyDSN(dsn, proxy.Addr())
	if err != nil {
		return nil, err
	}
	var penv []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "MISSIONBOT_DATABASE_DSN=") {
			penv = append(penv, kv)
		}
	}
	p, err := startServe(ctx, binary, append(penv, "MISSIONBOT_DATABASE_DSN="+pdsn), 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	db, err := openDatabase("postgres", dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	lc := load([]string{p.URL()})
	lc.Communities, lc.Members = 20, 50
	if _, err := setupCommunities(ctx, lc, db); err != nil {
		return nil, err
	}
	c := newClient(lc)
	defer c.close()
	const per = 200
	var rows []stmtRow
	settle := func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(statsSettle):
			return nil
		}
	}
	if err := settle(); err != nil { // the set-up's counts
		return nil, err
	}
	for _, kind := range []string{"pledge", "log", "win", "impact"} {
		before, err := db.pgStats(ctx)
		if err != nil {
			return nil, err
		}
		s0 := proxy.Statements()
		n := runClosed(ctx, c, lc, kind, per, 4)
		s1 := proxy.Statements()
		// PostgreSQL 15 backends report their counts when they go idle
		// for 10 s (or at a transaction end a second after the last
		// report): wait until serve's connections have reported this
		// batch, so it is not counted with the next.
		if err := settle(); err != nil {
			return nil, err
		}
		after, err := db.pgStats(ctx)
		if err != nil {
			return nil, err
		}
		f := float64(n)
		rows = append(rows, stmtRow{Kind: kind, N: n,
			Statements: float64(s1-s0) / f,
			Commits:    float64(after.XactCommit-before.XactCommit) / f,
			Written:    float64((after.TupInserted+after.TupUpdated+after.TupDeleted)-(before.TupInserted+before.TupUpdated+before.TupDeleted)) / f,
			Fetched:    float64(after.TupFetched-before.TupFetched) / f})
	}
	return rows, nil
}

// runClosed sends n commands of kind from distinct members, workers at a
// time, and returns how many were answered without error.
func runClosed(ctx context.Context, c *client, lc *loadConfig, kind string, n, workers int) int {
	jobs := make(chan int)
	oks := make(chan bool, n)
	done := make(chan struct{})
	for range workers {
		go func() {
			for i := range jobs {
				a := lc.actorFor(i%lc.Communities, 1+(i/lc.Communities)%lc.Members)
				cmd, _ := mixCommand(kind, int64(i))
				oks <- c.send(ctx, a, cmd).Err == ""
			}
			done <- struct{}{}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	for range workers {
		<-done
	}
	close(oks)
	ok := 0
	for v := range oks {
		if v {
			ok++
		}
	}
	return ok
}

// goBenchmarks runs this package's digest-build (3 runs each) and fan-out
// (1 run) benchmarks and parses their ns/op.
func goBenchmarks(ctx context.Context, root string) ([]goBenchRow, error) {
	var rows []goBenchRow
	for _, b := range []struct{ pattern, times string }{{"^BenchmarkDigestBuild$", "3x"}, {"^BenchmarkFanout$", "1x"}} {
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", b.pattern, "-benchtime", b.times, "-timeout", "20m", "./cmd/missionbot-load/")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			return rows, fmt.Errorf("go test -bench %s: %w\n%s", b.pattern, err, tail(string(out), 1500))
		}
		rows = append(rows, parseBench(string(out))...)
	}
	return rows, nil
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op`)

// parseBench reads `go test -bench` output lines.
func parseBench(out string) []goBenchRow {
	var rows []goBenchRow
	for line := range strings.SplitSeq(out, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		ns, _ := strconv.ParseFloat(m[3], 64)
		rows = append(rows, goBenchRow{Name: m[1], N: n, Op: time.Duration(ns)})
	}
	return rows
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// repoRoot is the directory of the main module's go.mod.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run bench inside the missionbot module")
	}
	return filepath.Dir(mod), nil
}

// machineFacts lists what the numbers depend on.
func machineFacts(ctx context.Context, root string, cfg benchConfig) [][2]string {
	run := func(name string, args ...string) string {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return "unknown"
		}
		return strings.TrimSpace(string(out))
	}
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	commit := run("git", "rev-parse", "--short", "HEAD")
	// The report being rewritten is no change to the code measured.
	if run("git", "status", "--porcelain", "--", ".", ":(exclude)"+cfg.Out) != "" {
		commit += " (with uncommitted changes)"
	}
	pgv := "unknown"
	if db, err := openDatabase("postgres", cfg.PGAdmin); err == nil {
		_ = db.db.QueryRowContext(ctx, "SHOW server_version").Scan(&pgv)
		db.Close()
	}
	redisv := "unknown"
	rc := redis.NewClient(&redis.Options{Addr: cfg.RedisAddr})
	if info, err := rc.Info(ctx, "server").Result(); err == nil {
		for line := range strings.SplitSeq(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				redisv = v
			}
		}
	}
	rc.Close()
	return [][2]string{
		{"Date", time.Now().UTC().Format("2006-01-02 15:04 UTC")},
		{"CPU", fmt.Sprintf("%d cores (%s)", runtime.NumCPU(), cpu)},
		{"Memory", mem},
		{"OS", runtime.GOOS + "/" + runtime.GOARCH + ", kernel " + run("uname", "-r")},
		{"Go", run("go", "version")},
		{"Commit", commit},
		{"PostgreSQL", pgv},
		{"Redis", redisv},
		{"SQLite", "pure Go (glebarez/sqlite on modernc), WAL, synchronous=NORMAL"},
	}
}
