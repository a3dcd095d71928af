package fault_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/fault"
)

// infrastructure checks the suite's own tools on replicas serving no
// platform, so it runs before the platform adapters exist: PostgreSQL
// restarted under running replicas, Redis restarted and paused, the gate,
// a kill -9 and restart, and 1,000 digests enqueued once by two replicas.
func (s *suite) infrastructure(t *testing.T) {
	ctx := context.Background()
	c := s.newCluster(t, "infra", clusterOpts{args: []string{"--allow-no-platform"}, env: []string{"MISSIONBOT_SLACK_ENABLED=false"}})
	slot := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	if err := fault.SeedDigestCommunities(ctx, c.db, "TI", 1000, fault.WeeklyAt(slot)); err != nil {
		t.Fatal(err)
	}
	c.start()
	// No Poster: both replicas only enqueue. Every community's due slot
	// is enqueued once, however many replicas produce it.
	deadline := time.Now().Add(settleLimit)
	for {
		n, err := fault.Count(ctx, c.db, `SELECT COUNT(*) FROM outbox_posts WHERE kind = 'digest'`)
		if err != nil {
			t.Fatal(err)
		}
		if n >= 1000 || time.Now().After(deadline) {
			d, err := fault.Count(ctx, c.db, `SELECT COUNT(DISTINCT community_id) FROM outbox_posts WHERE kind = 'digest'`)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1000 || d != 1000 {
				t.Fatalf("digest rows = %d over %d communities, want 1000 over 1000", n, d)
			}
			break
		}
		time.Sleep(100 * time.Millisecond) // polling another process, with a deadline
	}

	s.pg.Restart()
	for _, r := range []*fault.Replica{c.a, c.b} {
		if err := r.WaitReady(30 * time.Second); err != nil {
			t.Fatalf("%s after a PostgreSQL restart: %v", r.Name, err)
		}
	}
	s.redis.Pause()
	s.redis.Resume()
	s.redis.Restart()
	for _, r := range []*fault.Replica{c.a, c.b} {
		if err := r.WaitReady(30 * time.Second); err != nil {
			t.Fatalf("%s after a Redis restart: %v", r.Name, err)
		}
	}

	gate := fault.StartGate(t, s.pg.Addr())
	through, err := sqlOpen(s.pg.DSN(gate.Addr(), "infra"))
	if err != nil {
		t.Fatal(err)
	}
	defer through.Close()
	if err := through.PingContext(ctx); err != nil {
		t.Fatalf("query through the open gate: %v", err)
	}
	gate.Hold()
	held, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = through.ExecContext(held, "SELECT 1")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("query through the held gate: %v, want it stalled until the deadline", err)
	}
	gate.Open()
	if _, err := through.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatalf("query after the gate opened: %v", err)
	}

	c.a.Kill()
	c.a.StartReady()
	if code := c.b.Term(); code != 0 {
		t.Fatalf("SIGTERM: exit %d, want 0", code)
	}
}

// digestKill: a digest due in 1,000 communities, two replicas fanning it
// out, one killed with SIGKILL a third of the way through and restarted.
// Every digest must end on Slack exactly once, or be recorded unknown with
// the organisers told.
func (s *suite) digestKill(t *testing.T) {
	ctx := context.Background()
	const n = 1000
	c := s.newCluster(t, "fanout", clusterOpts{})
	slot := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	if err := fault.SeedDigestCommunities(ctx, c.db, "TF", n, fault.WeeklyAt(slot)); err != nil {
		t.Fatal(err)
	}
	c.fake.Delay(4 * time.Millisecond) // a platform that takes a little time
	c.start()
	if !c.fake.WaitPosts(n/3, settleLimit) {
		t.Fatalf("fan-out never reached %d posts: %d", n/3, c.fake.PostCount())
	}
	// Hold the next post of each replica at Slack's door, kill a while its
	// post is in flight (it never reaches Slack), then let b's through.
	c.fake.HoldPosts()
	inFlight := c.fake.WaitHeld(2, 10*time.Second)
	c.a.Kill()
	gone := c.fake.WaitGone(1, 5*time.Second)
	c.fake.ReleasePosts()
	atKill := c.fake.PostCount()
	// Replica b finishes what it can; what is left is held by a's claims.
	held := c.quiet("digest")
	sending, err := fault.Count(ctx, c.db, `SELECT COUNT(*) FROM outbox_posts WHERE kind = 'digest' AND status = 'pending' AND sending`)
	if err != nil {
		t.Fatal(err)
	}
	released, err := fault.ExpireClaims(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	c.a.StartReady() // its start-up tick takes the released rows over
	st := c.waitSettled("digest", n)
	pt := c.postTally("digest")
	notified, err := fault.UnknownWithNotice(ctx, c.db, "digest")
	if err != nil {
		t.Fatal(err)
	}
	s.report(t, figures{sent: pt.rows, effects: pt.posted, duplicates: pt.duplicates, losses: pt.losses, unkown: pt.unknown,
		note: fmt.Sprintf("killed at %d posts with %d posts held in flight (%d of the dead replica's); %d rows left claimed by the dead replica (%d mid-send), %d released; statuses %v; unknowns with organiser notice %d",
			atKill, inFlight, gone, held, sending, released, st, notified)})
	if sending > 0 && pt.unknown == 0 {
		t.Errorf("%d posts were in flight at the kill and never reached Slack, yet none is unknown", sending)
	}
	if pt.rows != n {
		t.Errorf("digest rows = %d, want %d", pt.rows, n)
	}
	for _, p := range pt.problems {
		t.Error(p)
	}
	if notified != pt.unknown {
		t.Errorf("%d digests unknown but only %d communities' organisers told", pt.unknown, notified)
	}
}

// redisOutage: pledges keep coming while Redis is restarted (losing every
// key) and then stopped for 30 s; every fifth is redelivered to the other
// replica. Each member must see their pledge and have exactly one stored.
func (s *suite) redisOutage(t *testing.T) {
	c := s.newCluster(t, "redis", clusterOpts{})
	c.start()
	const team = "TREDIS"
	c.setupGoal(team)
	d := c.drive(team, 20*time.Millisecond, 8, 5)
	if !d.waitMore(100, time.Minute) {
		t.Fatal("no pledges before the Redis restart")
	}
	s.redis.Restart()
	if !d.waitMore(100, time.Minute) {
		t.Fatal("pledges stopped after the Redis restart")
	}
	s.redis.Stop()
	down := time.Now()
	outage := time.NewTimer(30 * time.Second) // the outage the scenario is about
	before := d.count()
	<-outage.C
	during := d.count() - before
	s.redis.Start()
	up := time.Now()
	if !d.waitMore(100, time.Minute) {
		t.Fatal("pledges stopped after Redis came back")
	}
	results, redone := d.finish()
	t.Logf("before the outage: %s", phase(results, time.Time{}, down))
	t.Logf("during the outage: %s", phase(results, down, up))
	t.Logf("after the outage: %s", phase(results, up, time.Now()))
	tl := c.tally(team, results)
	c.checkCounters()
	s.report(t, figures{sent: tl.sent + redone, effects: tl.effects, duplicates: tl.duplicates, losses: tl.losses, unkown: tl.other,
		note: fmt.Sprintf("%d members, %d redelivered; %d answered during the 30 s outage; %d pledged, %d try-again", tl.sent, redone, during, tl.pledged, tl.tryAgain)})
	if during == 0 {
		t.Error("no pledge was answered while Redis was down")
	}
	if tl.duplicates > 0 || tl.losses > 0 {
		t.Errorf("%d duplicates, %d losses", tl.duplicates, tl.losses)
	}
	if tl.pledged != tl.sent {
		t.Errorf("%d of %d pledges answered otherwise than pledged: %v", tl.sent-tl.pledged, tl.sent, tl.others)
	}
}

// count returns how many results arrived so far.
func (d *driver) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.results)
}

// postgresRestart: pledges keep coming while PostgreSQL is stopped and
// started again. Requests during the outage must be told to try again, with
// nothing stored; none half-applied; the replicas recover by themselves.
func (s *suite) postgresRestart(t *testing.T) {
	c := s.newCluster(t, "pgrestart", clusterOpts{})
	c.start()
	const team = "TPG"
	c.setupGoal(team)
	d := c.drive(team, 20*time.Millisecond, 8, 0)
	if !d.waitMore(100, time.Minute) {
		t.Fatal("no pledges before the restart")
	}
	s.pg.Stop()
	if !d.waitFor(time.Minute, func(r []result) bool { return countOutcome(r, tryAgainText) >= 20 }) {
		t.Error("fewer than 20 try-again answers while PostgreSQL was down")
	}
	s.pg.Start()
	after := d.count()
	recovered := d.waitFor(time.Minute, func(r []result) bool {
		return len(r) > after+50 && countOutcome(r[after:], pledgedText) >= 50
	})
	results, _ := d.finish()
	if !recovered {
		t.Error("pledges did not succeed again within a minute of PostgreSQL's return")
	}
	for _, r := range []*fault.Replica{c.a, c.b} {
		if err := r.WaitReady(30 * time.Second); err != nil {
			t.Errorf("%s never ready again: %v", r.Name, err)
		}
	}
	tl := c.tally(team, results)
	c.checkCounters()
	s.report(t, figures{sent: tl.sent, effects: tl.effects, duplicates: tl.duplicates, losses: tl.losses, unkown: tl.other + tl.changedDespiteTryAgain,
		note: fmt.Sprintf("%d pledged, %d told to try again (%d of them stored anyway), %d other answers", tl.pledged, tl.tryAgain, tl.changedDespiteTryAgain, tl.other)})
	if tl.duplicates > 0 || tl.losses > 0 {
		t.Errorf("%d duplicates, %d losses", tl.duplicates, tl.losses)
	}
	if tl.other > 0 {
		t.Errorf("%d answers were neither a pledge nor a clear try-again: %v", tl.other, tl.others)
	}
}

func countOutcome(results []result, text string) int {
	n := 0
	for _, r := range results {
		if strings.Contains(r.outcome, text) {
			n++
		}
	}
	return n
}

// slackBursts: 200 digests posted while the fake Slack answers bursts of
// 429 (Retry-After 1) and 500/503 (some after storing the message). Each
// must be on Slack once or recorded unknown; no post is attempted more than
// once plus once per 429 it got; each uncertain post is looked up once.
func (s *suite) slackBursts(t *testing.T) {
	ctx := context.Background()
	const n = 200
	c := s.newCluster(t, "bursts", clusterOpts{})
	slot := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	if err := fault.SeedDigestCommunities(ctx, c.db, "TB", n, fault.WeeklyAt(slot)); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seq := 0
	c.fake.Inject(func(call fault.Call) *fault.Fault {
		if call.Method != "chat.postMessage" {
			return nil
		}
		mu.Lock()
		seq++
		i := seq
		mu.Unlock()
		switch {
		case i > 10 && i <= 40:
			return &fault.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1}
		case i > 60 && i <= 80:
			return &fault.Fault{Status: http.StatusInternalServerError, Posted: i%2 == 0}
		case i > 100 && i <= 110:
			return &fault.Fault{Status: http.StatusServiceUnavailable}
		}
		return nil
	})
	c.start()
	st := c.waitSettled("digest", n)
	pt := c.postTally("digest")
	if pt.rows != n {
		t.Errorf("digest rows = %d, want %d", pt.rows, n)
	}

	limited, uncertain := map[string]int{}, map[string]bool{}
	attempts := c.fake.AttemptsPerKey()
	for _, call := range c.fake.Calls("chat.postMessage") {
		key := keyOf(call)
		switch {
		case call.Status == http.StatusTooManyRequests:
			limited[key]++
		case call.Status >= 500:
			uncertain[key] = true
		}
	}
	storm := 0
	for key, a := range attempts {
		if a > 1+limited[key] {
			storm++
			t.Errorf("%s attempted %d times after %d 429s", key, a, limited[key])
		}
	}
	lookups := len(c.fake.Calls("conversations.history"))
	notified, err := fault.UnknownWithNotice(ctx, c.db, "digest")
	if err != nil {
		t.Fatal(err)
	}
	s.report(t, figures{sent: pt.rows, effects: pt.posted, duplicates: pt.duplicates, losses: pt.losses, unkown: pt.unknown,
		note: fmt.Sprintf("statuses %v; postMessage calls %d (digests and notices) for %d digests (%d answered 429, %d answered 5xx); history look-ups %d; unknowns with organiser notice %d",
			st, len(c.fake.Calls("chat.postMessage")), pt.rows, sum(limited), len(uncertain), lookups, notified)})
	for _, p := range pt.problems {
		t.Error(p)
	}
	if notified != pt.unknown {
		t.Errorf("%d digests unknown but only %d communities' organisers told", pt.unknown, notified)
	}
	if lookups > len(uncertain)+pt.unknown {
		t.Errorf("%d history look-ups for %d uncertain posts", lookups, len(uncertain))
	}
}

func keyOf(c fault.Call) string {
	for _, v := range c.Form["metadata"] {
		if i := strings.Index(v, "mbo-"); i >= 0 {
			j := i + 4
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			return v[i:j]
		}
	}
	return ""
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// sameDelivery: one slash command delivered 100 times at once (one trigger
// id) across both replicas makes one pledge and one visible reply; one
// app_mention event delivered 100 times (one event_id) is answered once.
func (s *suite) sameDelivery(t *testing.T) {
	c := s.newCluster(t, "samedelivery", clusterOpts{})
	c.start()
	const team, user = "TSAME", "USAME1"
	c.setupGoal(team)
	sl := c.slash(team, user, "/pledge 7 trees to trees")
	const n = 100
	acks := make([]fault.Ack, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			acks[i] = c.client.Command(context.Background(), c.replica(i).URL(""), sl)
		}()
	}
	close(gate)
	wg.Wait()
	acked, visible := 0, 0
	for _, a := range acks {
		if a.Err == nil && a.Status == http.StatusOK {
			acked++
		}
		if strings.Contains(a.Text, pledgedText) {
			visible++
		}
	}
	if visible == 0 {
		if text, ok := c.fake.WaitResponse(sl.TriggerID, responseLimit); ok && strings.Contains(text, pledgedText) {
			visible = len(c.fake.Responses(sl.TriggerID))
		}
	} else {
		visible += len(c.fake.Responses(sl.TriggerID))
	}
	stored, err := fault.PledgesByMember(context.Background(), c.db, team)
	if err != nil {
		t.Fatal(err)
	}
	effects := stored[user]
	c.checkCounters()
	mentionAcks, mentionReplies := c.sameEvent(team, n)
	s.report(t, figures{sent: 2 * n, effects: effects + mentionReplies, duplicates: max(effects-1, 0) + max(mentionReplies-1, 0),
		losses: boolInt(effects == 0) + boolInt(mentionReplies == 0),
		note: fmt.Sprintf("slash command: %d acknowledged 200, %d pledges, %d visible replies; app_mention event: %d acknowledged 200, %d replies",
			acked, effects, visible, mentionAcks, mentionReplies)})
	if mentionAcks != n {
		t.Errorf("%d of %d event deliveries acknowledged with 200", mentionAcks, n)
	}
	if mentionReplies != 1 {
		t.Errorf("one app_mention event delivered %d times was answered %d times, want 1", n, mentionReplies)
	}
	if effects != 1 {
		t.Errorf("one delivery 100 times stored %d pledges, want 1", effects)
	}
	if acked != n {
		t.Errorf("%d of %d deliveries acknowledged with 200", acked, n)
	}
	if visible != 1 {
		t.Errorf("%d visible replies, want 1", visible)
	}
}

// sameEvent delivers one app_mention event (one event_id) n times at once
// across both replicas and returns how many deliveries were acknowledged
// and how many replies reached the mention's channel.
func (c *cluster) sameEvent(team string, n int) (acked, replies int) {
	c.t.Helper()
	const channel = "CMENTION"
	body := []byte(fmt.Sprintf(`{"token":"legacy","team_id":%q,"api_app_id":"AFAKE","type":"event_callback",`+
		`"event_id":"EvFAULT%d","event_time":%d,"event":{"type":"app_mention","user":"UMENTION1",`+
		`"text":"<@UBOT> help","ts":"1.000001","channel":%q,"event_ts":"1.000001"}}`, team, c.seq.Add(1), time.Now().Unix(), channel))
	acks := make([]fault.Ack, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			acks[i] = c.client.Event(context.Background(), c.replica(i).URL(""), body, nil)
		}()
	}
	close(start)
	wg.Wait()
	for _, a := range acks {
		if a.Err == nil && a.Status == http.StatusOK {
			acked++
		}
	}
	count := func() int {
		k := 0
		for _, call := range c.fake.Calls("") {
			if (call.Method == "chat.postMessage" || call.Method == "chat.postEphemeral") && call.Form.Get("channel") == channel {
				k++
			}
		}
		return k
	}
	// Events are answered in the background: wait for the reply, then for
	// the fake to stay quiet a second (polling other processes, bounded).
	deadline := time.Now().Add(responseLimit)
	last, stable := -1, 0
	for stable < 10 && time.Now().Before(deadline) {
		k := len(c.fake.Calls(""))
		if k == last && count() > 0 {
			stable++
		} else {
			stable = 0
		}
		last = k
		time.Sleep(100 * time.Millisecond) // polling another process, with a deadline
	}
	return acked, count()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// databaseStalled: with PostgreSQL held behind a gate, slash commands are
// still acknowledged within Slack's 3 s (the client gives up after 3 s, as
// Slack does) and complete through response_url once the gate opens.
func (s *suite) databaseStalled(t *testing.T) {
	gate := fault.StartGate(t, s.pg.Addr())
	c := s.newCluster(t, "stalled", clusterOpts{dbAddr: gate.Addr()})
	c.start()
	const team = "TSTALL"
	c.setupGoal(team)
	const n = 20
	gate.Hold()
	type sent struct {
		sl  fault.Slash
		ack fault.Ack
	}
	out := make([]sent, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sl := c.slash(team, fmt.Sprintf("USTALL%03d", i), "/pledge 2 trees to trees")
			out[i] = sent{sl, c.client.Command(context.Background(), c.replica(i).URL(""), sl)}
		}()
	}
	wg.Wait()
	acked, early := 0, 0
	var slowest time.Duration
	for _, o := range out {
		if o.ack.Err == nil && o.ack.Status == http.StatusOK {
			acked++
			slowest = max(slowest, o.ack.Took)
		} else {
			t.Errorf("%s not acknowledged within Slack's 3 s while the database was stalled: status %d, %v", o.sl.User, o.ack.Status, o.ack.Err)
		}
		if len(c.fake.Responses(o.sl.TriggerID)) > 0 {
			early++
		}
	}
	gate.Open()
	completed, losses := 0, 0
	for _, o := range out {
		text := o.ack.Text
		if !strings.Contains(text, pledgedText) {
			text, _ = c.fake.WaitResponse(o.sl.TriggerID, responseLimit)
		}
		if strings.Contains(text, pledgedText) {
			completed++
		} else {
			t.Errorf("%s: after the gate opened the reply was %q, want the pledge", o.sl.User, text)
		}
	}
	stored, err := fault.PledgesByMember(context.Background(), c.db, team)
	if err != nil {
		t.Fatal(err)
	}
	effects, dups := 0, 0
	for _, o := range out {
		effects += stored[o.sl.User]
		if stored[o.sl.User] == 0 {
			losses++
		}
		dups += max(stored[o.sl.User]-1, 0)
	}
	c.checkCounters()
	s.report(t, figures{sent: n, effects: effects, duplicates: dups, losses: losses, unkown: n - completed,
		note: fmt.Sprintf("%d acknowledged while stalled (slowest %s), %d completed before the gate opened, %d completed after",
			acked, slowest.Round(time.Millisecond), early, completed)})
	if early > 0 {
		t.Errorf("%d commands completed while the database was held", early)
	}
}
