package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadConfig is one load run.
type loadConfig struct {
	URLs         []string // base URLs of the serve replicas, used round-robin
	SlackPath    string   // default "/slack/commands"
	DiscordPath  string   // default "/discord/interactions"
	SlackSecret  string
	DiscordKey   ed25519.PrivateKey
	DiscordAppID string
	// Platforms the communities are spread over, alternately.
	Platforms   []string
	Communities int
	Members     int // per community
	Rate        float64
	Duration    time.Duration
	Mix         []mixEntry
	// ResponseBase is where Slack response_urls point (the fake Slack API).
	ResponseBase string
	// RunID starts every community id of the run, so runs never share
	// communities or members (and flood limits).
	RunID string
	// Timeout bounds one request.
	Timeout time.Duration
	// MaxInFlight caps concurrent requests; a tick that finds it full counts
	// the request as skipped (the client, not the server, saturated).
	MaxInFlight int
}

// mixEntry is one kind of command and its weight in the mix.
type mixEntry struct {
	Kind   string
	Weight int
}

// parseMix reads "pledge=4,log=3,win=1,impact=2" (a bare name weighs 1).
func parseMix(s string) ([]mixEntry, error) {
	var out []mixEntry
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, w, found := strings.Cut(part, "=")
		weight := 1
		if found {
			n, err := strconv.Atoi(w)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("--mix %q: weight of %s must be a whole number ≥ 0", s, name)
			}
			weight = n
		}
		if _, err := mixCommand(name, 0); err != nil {
			return nil, err
		}
		if weight > 0 {
			out = append(out, mixEntry{Kind: name, Weight: weight})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--mix %q names no command", s)
	}
	return out, nil
}

// pick returns the mix kind for request n, spreading kinds by weight in a
// fixed, repeating order.
func pick(mix []mixEntry, n int64) string {
	total := 0
	for _, m := range mix {
		total += m.Weight
	}
	k := int(n % int64(total))
	for _, m := range mix {
		if k < m.Weight {
			return m.Kind
		}
		k -= m.Weight
	}
	return mix[len(mix)-1].Kind
}

// community ids: Slack teams "TL<run><n>", Discord guilds "1<run><n>" (a
// snowflake-shaped number); members and channels alike.
func communityID(platform, run string, c int) string {
	if platform == platformDiscord {
		return fmt.Sprintf("1%s%05d", run, c)
	}
	return fmt.Sprintf("TL%s%05d", run, c)
}

// actorFor returns member m (0 is the organiser) of community c.
func (cfg *loadConfig) actorFor(c, m int) actor {
	p := cfg.Platforms[c%len(cfg.Platforms)]
	a := actor{Platform: p, Community: communityID(p, cfg.RunID, c), Organiser: m == 0}
	if p == platformDiscord {
		a.Channel = fmt.Sprintf("3%s%05d", cfg.RunID, c)
		a.User = fmt.Sprintf("2%s%05d%05d", cfg.RunID, c, m)
	} else {
		a.Channel = fmt.Sprintf("CL%s%05d", cfg.RunID, c)
		a.User = fmt.Sprintf("UL%s%05d%05d", cfg.RunID, c, m)
		if m == 0 {
			a.User += "ORG" // the fake Slack API says such users are admins
		}
	}
	a.UserName = fmt.Sprintf("member-%d-%d", c, m)
	if m == 0 {
		a.UserName = fmt.Sprintf("organiser-%d", c)
	}
	return a
}

// outcome is what one request got.
type outcome struct {
	Kind     string
	Platform string
	Latency  time.Duration
	Status   int    // 0 when no response came
	Err      string // transport error, or the error reply's reason
	Deferred bool   // acknowledged without the answer (completed later)
	Effect   string // the table a success adds a row to
}

// client sends signed commands to the replicas.
type client struct {
	cfg  *loadConfig
	http *http.Client
	next atomic.Uint64 // round-robin over URLs
	ids  atomic.Int64  // unique delivery ids
}

func newClient(cfg *loadConfig) *client {
	tr := &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 2048, IdleConnTimeout: 90 * time.Second}
	c := &client{cfg: cfg, http: &http.Client{Transport: tr, Timeout: cfg.Timeout}}
	c.ids.Store(time.Now().UnixNano() / 1000 % 1e15 * 1000)
	return c
}

func (c *client) close() { c.http.CloseIdleConnections() }

// send signs and sends cmd as a, and classifies the answer.
func (c *client) send(ctx context.Context, a actor, cmd command) outcome {
	id := c.ids.Add(1)
	base := c.cfg.URLs[int(c.next.Add(1)-1)%len(c.cfg.URLs)]
	o := outcome{Kind: cmd.Kind, Platform: a.Platform, Effect: cmd.Effect}
	var (
		body       []byte
		url, ctype string
		err        error
	)
	if a.Platform == platformDiscord {
		body, err = discordInteraction(a, cmd, id, c.cfg.DiscordAppID)
		url, ctype = base+c.cfg.DiscordPath, "application/json"
	} else {
		body = slackForm(a, cmd, id, c.cfg.ResponseBase)
		url, ctype = base+c.cfg.SlackPath, "application/x-www-form-urlencoded"
	}
	if err != nil {
		o.Err = err.Error()
		return o
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		o.Err = err.Error()
		return o
	}
	req.Header.Set("Content-Type", ctype)
	start := time.Now()
	if a.Platform == platformDiscord {
		signDiscord(req, c.cfg.DiscordKey, body, start)
	} else {
		signSlack(req, c.cfg.SlackSecret, body, start)
	}
	res, err := c.http.Do(req)
	if err != nil {
		o.Latency = time.Since(start)
		o.Err = "transport: " + shortErr(err)
		return o
	}
	answer, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
	o.Latency = time.Since(start)
	o.Status = res.StatusCode
	switch {
	case err != nil:
		o.Err = "transport: " + shortErr(err)
	case res.StatusCode != http.StatusOK:
		o.Err = "status " + strconv.Itoa(res.StatusCode)
	default:
		o.Deferred, o.Err = classify(a.Platform, answer)
	}
	return o
}

// shortErr names err without the URL net/http puts in it.
func shortErr(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap().Error()
	}
	return err.Error()
}

// errorMarkers are phrases the core uses in replies that report a failure
// rather than do what was asked.
var errorMarkers = []string{
	"Something went wrong", "try again", "going a little fast", "no longer works",
	"couldn't read", "isn't a command", "I couldn't",
}

// classify reads a 200 answer: whether it only acknowledged (deferred) and,
// if it is an error reply, which marker it carries.
func classify(platform string, body []byte) (deferred bool, reason string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return true, "" // Slack: acknowledged, the reply follows on response_url
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return false, "" // a plain-text acknowledgement
	}
	if m, ok := v.(map[string]any); ok && platform == platformDiscord {
		if t, _ := m["type"].(float64); t == 5 || t == 6 {
			return true, ""
		}
	}
	var text strings.Builder
	collectText(v, &text)
	s := text.String()
	for _, mk := range errorMarkers {
		if strings.Contains(strings.ToLower(s), strings.ToLower(mk)) {
			return false, "reply: " + mk
		}
	}
	return false, ""
}

// collectText appends every string in a decoded JSON value to b.
func collectText(v any, b *strings.Builder) {
	switch x := v.(type) {
	case string:
		b.WriteString(x)
		b.WriteByte('\n')
	case []any:
		for _, e := range x {
			collectText(e, b)
		}
	case map[string]any:
		for _, e := range x {
			collectText(e, b)
		}
	}
}

// ticker fires requests open-loop: by the time of each tick, rate × the
// time since start requests are due (at most total), whatever the answers.
type ticker struct {
	rate  float64
	total int64
}

// run calls fire(n) for n = 0, 1, … as each falls due on ticks (a closed
// channel or ctx ending stops it) and returns how many it fired. fire must
// not block.
func (s ticker) run(ctx context.Context, start time.Time, ticks <-chan time.Time, fire func(n int64)) int64 {
	var fired int64
	for fired < s.total {
		select {
		case <-ctx.Done():
			return fired
		case t, ok := <-ticks:
			if !ok {
				return fired
			}
			due := min(int64(t.Sub(start).Seconds()*s.rate)+1, s.total)
			for ; fired < due; fired++ {
				fire(fired)
			}
		}
	}
	return fired
}

// result is what a run measured.
type result struct {
	Offered     float64
	RunID       string
	Start       time.Time     // the first send
	Settled     time.Duration // from Start until the stored effects stopped growing; 0 if not counted
	Duration    time.Duration // from the first send to the last answer
	Window      time.Duration // the sending window
	Sent        int64
	Skipped     int64 // not sent: the client had MaxInFlight requests open
	Outcomes    []outcome
	ByKind      map[string]int
	Errors      map[string]int
	Deferred    int
	Latency     latencies
	PerPlatform map[string]latencies
	// Effects: rows the successful commands should have added, and those
	// the database holds for the run's communities.
	WantEffects map[string]int64
	GotEffects  map[string]int64
	// AfterStop counts the effects again once the serves have shut down
	// (drained), when measured: effects still missing then are lost.
	AfterStop map[string]int64
	Setup     setupReport
	// ServeCPU is the CPU time the serve processes used over the run
	// (after set-up); MachineBusy the fraction of all cores busy then.
	ServeCPU    time.Duration
	MachineBusy float64
}

// setupReport says how the run's goals were created.
type setupReport struct {
	Communities int
	Promoted    int // organisers the tool had to make by database update
	Failed      int
}

// OK is the number of requests answered 200 without an error reply.
func (r *result) OK() int { return len(r.Outcomes) - r.errorCount() }

func (r *result) errorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// StoredPerSecond is the rate of stored effects from the first send until
// the last was stored (at least the sending window).
func (r *result) StoredPerSecond() float64 {
	return float64(r.Stored()) / max(r.Settled, r.Window).Seconds()
}

// Stored and Wanted total the effects.
func (r *result) Stored() int64 { return sum(r.GotEffects) }

func (r *result) Wanted() int64 { return sum(r.WantEffects) }

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// runLoad sends cfg.Rate × cfg.Duration commands open-loop from random
// members of random communities and collects every outcome. It returns when
// every request sent has been answered or timed out.
func runLoad(ctx context.Context, cfg *loadConfig) *result {
	c := newClient(cfg)
	defer c.close()
	total := int64(cfg.Rate * cfg.Duration.Seconds())
	res := &result{Offered: cfg.Rate, RunID: cfg.RunID, ByKind: map[string]int{}, Errors: map[string]int{}, WantEffects: map[string]int64{},
		GotEffects: map[string]int64{}, PerPlatform: map[string]latencies{}}
	outs := make(chan outcome, 1024)
	var collected sync.WaitGroup
	collected.Go(func() {
		for o := range outs {
			res.Outcomes = append(res.Outcomes, o)
		}
	})
	sem := make(chan struct{}, cfg.MaxInFlight)
	var inflight sync.WaitGroup
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	interval := max(time.Duration(float64(time.Second)/cfg.Rate), time.Millisecond)
	tick := time.NewTicker(interval)
	start := time.Now()
	res.Start = start
	s := ticker{rate: cfg.Rate, total: total}
	sent := s.run(ctx, start, tick.C, func(n int64) {
		a := cfg.actorFor(rng.IntN(cfg.Communities), 1+rng.IntN(cfg.Members))
		cmd, _ := mixCommand(pick(cfg.Mix, n), n) // the mix was checked by parseMix
		select {
		case sem <- struct{}{}:
		default:
			res.Skipped++
			return
		}
		inflight.Go(func() {
			defer func() { <-sem }()
			outs <- c.send(ctx, a, cmd)
		})
	})
	tick.Stop()
	res.Window = time.Since(start)
	inflight.Wait()
	res.Duration = time.Since(start)
	close(outs)
	collected.Wait()
	res.Sent = sent - res.Skipped

	var all []time.Duration
	per := map[string][]time.Duration{}
	for _, o := range res.Outcomes {
		res.ByKind[o.Kind]++
		if o.Status == http.StatusOK {
			all = append(all, o.Latency)
			per[o.Platform] = append(per[o.Platform], o.Latency)
		}
		if o.Deferred {
			res.Deferred++
		}
		if o.Err != "" {
			res.Errors[o.Err]++
			continue
		}
		if o.Effect != "" {
			res.WantEffects[o.Effect]++
		}
	}
	res.Latency = summarize(all)
	for p, ds := range per {
		res.PerPlatform[p] = summarize(ds)
	}
	return res
}
