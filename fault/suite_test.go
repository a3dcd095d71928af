package fault_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/missionbot/missionbot/fault"
)

// enableVar turns the suite on; without it TestFaults skips, so a plain
// `go test ./...` stays fast. With it, anything missing is a failure.
const enableVar = "MISSIONBOT_FAULT"

// Bounds of the scenarios' waits on other processes.
const (
	settleLimit   = 2 * time.Minute  // outbox rows reaching a final status (a dead replica's produce lease lasts 15 s, then the next minute tick produces)
	responseLimit = 35 * time.Second // a deferred reply reaching response_url
)

// Reply texts the suite recognises (bot/pledge and bot/engine).
const (
	pledgedText  = "Pledged "
	tryAgainText = "try again"
)

func TestFaults(t *testing.T) {
	if os.Getenv(enableVar) != "1" {
		t.Skipf("the fault suite runs only with %s=1 (see fault/README.md)", enableVar)
	}
	s := newSuite(t)
	t.Run("infrastructure", s.infrastructure)
	t.Run("1-kill-replica-mid-digest-fanout", s.digestKill)
	t.Run("2-redis-restart-and-outage", s.redisOutage)
	t.Run("3-postgres-restart", s.postgresRestart)
	t.Run("4-slack-429-and-500-bursts", s.slackBursts)
	t.Run("5-same-delivery-100-times", s.sameDelivery)
	t.Run("6-database-stalled", s.databaseStalled)
}

// suite is what every scenario shares: the binary, the private PostgreSQL
// and Redis, and the figures each scenario reports.
type suite struct {
	bin   string
	pg    *fault.Postgres
	redis *fault.Redis

	mu      sync.Mutex
	redisDB int
	figures []figures
}

// figures are one scenario's counts, all of stored effects.
type figures struct {
	scenario                                  string
	sent, effects, duplicates, losses, unkown int
	note                                      string
}

func newSuite(t *testing.T) *suite {
	start := time.Now()
	s := &suite{pg: fault.StartPostgres(t)}
	pgReady := time.Now()
	s.redis = fault.StartRedis(t)
	s.bin = fault.BuildBinary(t)
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	t.Logf("suite ready in %s (PostgreSQL initdb and start %s, build %s): PostgreSQL on %s, Redis on %s",
		ms(time.Since(start)), ms(pgReady.Sub(start)), ms(time.Since(pgReady)), s.pg.Addr(), s.redis.Addr())
	t.Cleanup(func() { s.summary(t) })
	return s
}

// report records f and logs it.
func (s *suite) report(t *testing.T, f figures) {
	t.Helper()
	f.scenario = t.Name()
	s.mu.Lock()
	s.figures = append(s.figures, f)
	s.mu.Unlock()
	t.Logf("requests sent %d, effects recorded %d, duplicates %d, losses %d, unknowns %d; %s",
		f.sent, f.effects, f.duplicates, f.losses, f.unkown, f.note)
}

func (s *suite) summary(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "fault suite figures (stored effects):\n%-52s %6s %7s %5s %6s %7s\n", "scenario", "sent", "effects", "dups", "losses", "unknown")
	for _, f := range s.figures {
		fmt.Fprintf(&b, "%-52s %6d %7d %5d %6d %7d  %s\n", f.scenario, f.sent, f.effects, f.duplicates, f.losses, f.unkown, f.note)
	}
	t.Log(b.String())
}

func (s *suite) nextRedisDB() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redisDB++
	return s.redisDB
}

// cluster is one scenario's deployment: its own database on the private
// PostgreSQL (directly or through a gate), its own Redis database, a fake
// Slack, and two replicas of serve.
type cluster struct {
	t      *testing.T
	name   string
	db     *sql.DB
	fake   *fault.SlackFake
	client *fault.SlackClient
	a, b   *fault.Replica
	seq    atomic.Int64
}

type clusterOpts struct {
	dbAddr string   // where replicas reach PostgreSQL; empty: directly
	args   []string // serve flags
	env    []string // extra environment
}

func (s *suite) newCluster(t *testing.T, name string, o clusterOpts) *cluster {
	t.Helper()
	token, secret := "xoxb-fault-"+randomHex(t, 8), randomHex(t, 16)
	c := &cluster{t: t, name: name, db: s.pg.CreateDatabase(name), fake: fault.StartSlackFake(t, token),
		client: fault.NewSlackClient(secret)}
	env := fault.ServeEnv(append([]string{
		"MISSIONBOT_DATABASE_DRIVER=postgres",
		"MISSIONBOT_DATABASE_DSN=" + s.pg.DSN(o.dbAddr, name),
		"MISSIONBOT_DATABASE_MAX_OPEN_CONNS=20",
		"MISSIONBOT_REDIS_URL=" + s.redis.URL(s.nextRedisDB()),
		"MISSIONBOT_REDIS_PREFIX=fault-" + name + ":",
		"MISSIONBOT_SLACK_ENABLED=true",
		"MISSIONBOT_SLACK_BOT_TOKEN=" + token,
		"MISSIONBOT_SLACK_SIGNING_SECRET=" + secret,
		"MISSIONBOT_SLACK_API_URL=" + c.fake.APIURL(),
		"MISSIONBOT_LOG_LEVEL=info",
		"MISSIONBOT_HTTP_DRAIN_TIMEOUT=5s",
	}, o.env...)...)
	c.a, c.b = fault.NewReplica(t, s.bin, name+"-a", env), fault.NewReplica(t, s.bin, name+"-b", env)
	c.a.Args, c.b.Args = o.args, o.args
	c.a.Migrate()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replica %s log (tail):\n%s", c.a.Name, c.a.LogTail(4000))
			t.Logf("replica %s log (tail):\n%s", c.b.Name, c.b.LogTail(4000))
			// The summary table ends the output, so a failure's cause
			// shows even where only the tail of a run is kept.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			why := []string{"FAILED; " + fault.Diagnose(ctx, c.db)}
			for _, r := range []*fault.Replica{c.a, c.b} {
				for _, line := range r.Problems(3) {
					why = append(why, r.Name+": "+line)
				}
			}
			s.mu.Lock()
			s.figures = append(s.figures, figures{scenario: t.Name(), note: strings.Join(why, "\n    ")})
			s.mu.Unlock()
		}
	})
	return c
}

// start starts both replicas and waits until both are ready.
func (c *cluster) start() {
	c.t.Helper()
	c.a.Start()
	c.b.Start()
	for _, r := range []*fault.Replica{c.a, c.b} {
		if err := r.WaitReady(20 * time.Second); err != nil {
			c.t.Fatalf("replica %s did not become ready (is the Slack adapter wired into serve?): %v\n%s", r.Name, err, r.LogTail(3000))
		}
	}
}

// replica returns a or b by i's parity, to spread requests over both.
func (c *cluster) replica(i int) *fault.Replica {
	if i%2 == 0 {
		return c.a
	}
	return c.b
}

// slash returns a new invocation of line ("/pledge 3 trees to trees") by
// user in team, with a trigger id of its own.
func (c *cluster) slash(team, user, line string) fault.Slash {
	cmd, text, _ := strings.Cut(line, " ")
	trigger := fmt.Sprintf("%s.%d.%s", c.name, c.seq.Add(1), user)
	return fault.Slash{Team: team, User: user, Channel: "CGENERAL", Command: cmd, Text: text,
		TriggerID: trigger, ResponseURL: c.fake.ResponseURL(trigger)}
}

// final says whether text is a final answer, not a placeholder.
func final(text string) bool {
	for _, s := range []string{pledgedText, tryAgainText, "went wrong", "going a little fast", "Created", "created", "Goal", "goal"} {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// outcome is what the member finally saw for sl, delivered once or more
// (acks): a final answer in an acknowledgement, else the first
// response_url message. Every delivery must have been acknowledged.
func (c *cluster) outcome(sl fault.Slash, acks ...fault.Ack) string {
	for _, ack := range acks {
		if ack.Err != nil || ack.Status != http.StatusOK {
			return fmt.Sprintf("no acknowledgement: status %d, %v", ack.Status, ack.Err)
		}
	}
	for _, ack := range acks {
		if final(ack.Text) {
			return ack.Text
		}
	}
	if text, ok := c.fake.WaitResponse(sl.TriggerID, responseLimit); ok {
		return text
	}
	return fmt.Sprintf("acknowledged (%q) but never completed", acks[0].Text)
}

// run sends line as user to replica r and returns the final outcome.
func (c *cluster) run(r *fault.Replica, team, user, line string) string {
	sl := c.slash(team, user, line)
	return c.outcome(sl, c.client.Command(context.Background(), r.URL(""), sl))
}

// setupGoal creates the goal "trees" in team as an admin and checks it is stored.
func (c *cluster) setupGoal(team string) {
	c.t.Helper()
	out := c.run(c.a, team, fault.AdminPrefix+"1", `/goal create "Fault trees" 10000000 trees as trees`)
	n, err := fault.Count(context.Background(), c.db, `SELECT COUNT(*) FROM goals g JOIN communities c ON c.id = g.community_id
		WHERE c.external_id = $1 AND g.slug = 'trees'`, team)
	if err != nil || n != 1 {
		c.t.Fatalf("goal trees in %s: %d stored (%v); the reply was %q", team, n, err, out)
	}
}

// result is one pledge request and what its member saw.
type result struct {
	user    string
	outcome string
	at      time.Time     // when it was sent
	ack     time.Duration // until the first delivery was acknowledged
	took    time.Duration // until the outcome was seen
}

// driver sends pledges from new members (one each, so the per-member flood
// limit never applies) at a steady pace over both replicas, every
// redeliverEvery-th one delivered a second time to the other replica.
type driver struct {
	c              *cluster
	team           string
	every          time.Duration
	redeliverEvery int

	mu      sync.Mutex
	results []result
	grew    chan struct{}
	redone  int
	stop    chan struct{}
	wg      sync.WaitGroup
}

func (c *cluster) drive(team string, every time.Duration, workers, redeliverEvery int) *driver {
	d := &driver{c: c, team: team, every: every, redeliverEvery: redeliverEvery, grew: make(chan struct{}), stop: make(chan struct{})}
	jobs := make(chan int)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(jobs)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-d.stop:
				return
			case <-tick.C:
			}
			select {
			case <-d.stop:
				return
			case jobs <- i:
			}
		}
	}()
	for range workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for i := range jobs {
				d.one(i)
			}
		}()
	}
	return d
}

func (d *driver) one(i int) {
	user := fmt.Sprintf("U%s%05d", strings.ToUpper(d.c.name), i)
	amount := i%9 + 1
	sl := d.c.slash(d.team, user, fmt.Sprintf("/pledge %d trees to trees", amount))
	deliveries := 1
	if d.redeliverEvery > 0 && i%d.redeliverEvery == 0 {
		deliveries = 2 // Slack's retry of the same payload, to the other replica
	}
	start := time.Now()
	acks := make([]fault.Ack, deliveries)
	var wg sync.WaitGroup
	for k := range acks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acks[k] = d.c.client.Command(context.Background(), d.c.replica(i+k).URL(""), sl)
		}()
	}
	wg.Wait()
	out := d.c.outcome(sl, acks...)
	took := time.Since(start)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.results = append(d.results, result{user: user, outcome: out, ack: acks[0].Took, took: took, at: start})
	d.redone += deliveries - 1
	close(d.grew)
	d.grew = make(chan struct{})
}

// waitFor blocks until ok(results) holds or timeout passes, and reports which.
func (d *driver) waitFor(timeout time.Duration, ok func([]result) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		done, grew := ok(d.results), d.grew
		d.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-grew:
		case <-deadline.C:
			return false
		}
	}
}

// waitCount blocks until n more results than now arrived (or timeout).
func (d *driver) waitMore(n int, timeout time.Duration) bool {
	d.mu.Lock()
	target := len(d.results) + n
	d.mu.Unlock()
	return d.waitFor(timeout, func(r []result) bool { return len(r) >= target })
}

// finish stops sending, waits for requests in flight, and returns every result.
func (d *driver) finish() ([]result, int) {
	close(d.stop)
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]result(nil), d.results...), d.redone
}

// tally compares what members saw with the pledges stored per member.
type tally struct {
	sent, pledged, tryAgain, other int
	effects, duplicates, losses    int
	changedDespiteTryAgain         int
	others                         []string
}

func (c *cluster) tally(team string, results []result) tally {
	c.t.Helper()
	stored, err := fault.PledgesByMember(context.Background(), c.db, team)
	if err != nil {
		c.t.Fatal(err)
	}
	var tl tally
	for _, r := range results {
		tl.sent++
		n := stored[r.user]
		tl.effects += n
		if n > 1 {
			tl.duplicates += n - 1
		}
		switch {
		case strings.Contains(r.outcome, pledgedText):
			tl.pledged++
			if n == 0 {
				tl.losses++
			}
		case strings.Contains(r.outcome, tryAgainText):
			tl.tryAgain++
			if n > 0 {
				tl.changedDespiteTryAgain++
			}
		default:
			tl.other++
			if len(tl.others) < 5 {
				tl.others = append(tl.others, r.user+": "+r.outcome)
			}
		}
	}
	return tl
}

func (c *cluster) checkCounters() {
	c.t.Helper()
	bad, err := fault.CounterMismatches(context.Background(), c.db)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, line := range bad {
		c.t.Errorf("half-applied: %s", line)
	}
}

// waitSettled polls (another process is working) until there are want
// rows of kind and none is pending, or settleLimit passes.
func (c *cluster) waitSettled(kind string, want int) map[string]int {
	c.t.Helper()
	deadline := time.Now().Add(settleLimit)
	for {
		st, err := fault.OutboxStatuses(context.Background(), c.db, kind)
		if err != nil {
			c.t.Fatal(err)
		}
		if sum(st) >= want && st["pending"] == 0 {
			return st
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s rows still pending after %s: %v", kind, settleLimit, st)
		}
		time.Sleep(100 * time.Millisecond) // polling another process, with a deadline
	}
}

// posts compares every outbox row of kind with the messages on the fake
// Slack carrying its key.
type postTally struct {
	rows, sent, unknown, failed, posted int
	duplicates, losses                  int
	problems                            []string
}

func (c *cluster) postTally(kind string) postTally {
	c.t.Helper()
	rows, err := fault.OutboxRows(context.Background(), c.db, kind)
	if err != nil {
		c.t.Fatal(err)
	}
	onSlack := c.fake.KeyCounts()
	var pt postTally
	for _, r := range rows {
		pt.rows++
		n := onSlack[fmt.Sprintf("mbo-%d", r.ID)]
		pt.posted += n
		if n > 1 {
			pt.duplicates += n - 1
			pt.problems = append(pt.problems, fmt.Sprintf("row %d (%s) posted %d times", r.ID, r.Team, n))
		}
		switch r.Status {
		case "sent":
			pt.sent++
			if n == 0 {
				pt.losses++
				pt.problems = append(pt.problems, fmt.Sprintf("row %d (%s) marked sent but not on Slack", r.ID, r.Team))
			}
		case "unknown":
			pt.unknown++
		default:
			pt.failed++
			pt.losses++
			pt.problems = append(pt.problems, fmt.Sprintf("row %d (%s) ended %s: %s", r.ID, r.Team, r.Status, r.LastError))
		}
	}
	return pt
}

// quiet polls until every pending row of kind is held under a live claim
// and the fake Slack received nothing for a second: the dispatchers still
// running have nothing left they can take.
func (c *cluster) quiet(kind string) int {
	c.t.Helper()
	deadline := time.Now().Add(settleLimit)
	last, stable := -1, 0
	for {
		held, err := fault.Count(context.Background(), c.db, `SELECT COUNT(*) FROM outbox_posts WHERE kind = $1 AND status = 'pending'
			AND claimed_until IS NOT NULL AND claimed_until > now()`, kind)
		if err != nil {
			c.t.Fatal(err)
		}
		pending, err := fault.Count(context.Background(), c.db, `SELECT COUNT(*) FROM outbox_posts WHERE kind = $1 AND status = 'pending'`, kind)
		if err != nil {
			c.t.Fatal(err)
		}
		calls := len(c.fake.Calls(""))
		if pending == held && calls == last {
			stable++
		} else {
			stable = 0
		}
		last = calls
		if stable >= 10 {
			return held
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("dispatch never went quiet: %d pending, %d held", pending, held)
		}
		time.Sleep(100 * time.Millisecond) // polling another process, with a deadline
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sqlOpen opens a handle with the pgx driver the fault package registers.
func sqlOpen(dsn string) (*sql.DB, error) { return sql.Open("pgx", dsn) }

// phase summarises the results sent in [from, to): how many, and the median
// and slowest time to acknowledgement and to the outcome (measured, never
// asserted).
func phase(results []result, from, to time.Time) string {
	var acks, outs []time.Duration
	for _, r := range results {
		if !r.at.Before(from) && r.at.Before(to) {
			acks = append(acks, r.ack)
			outs = append(outs, r.took)
		}
	}
	if len(acks) == 0 {
		return "0 sent"
	}
	sort.Slice(acks, func(i, j int) bool { return acks[i] < acks[j] })
	sort.Slice(outs, func(i, j int) bool { return outs[i] < outs[j] })
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return fmt.Sprintf("%d sent, ack p50 %s max %s, outcome p50 %s max %s", len(acks),
		ms(acks[len(acks)/2]), ms(acks[len(acks)-1]), ms(outs[len(outs)/2]), ms(outs[len(outs)-1]))
}
