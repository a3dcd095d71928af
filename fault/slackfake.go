package fault

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// keyPattern finds an outbox key (scheduler.Key: "mbo-" + row id) anywhere in
// a message's metadata.
var keyPattern = regexp.MustCompile(`mbo-[0-9]+`)

// AdminPrefix starts the user ids the fake Slack reports as workspace
// admins (users.info is_admin), so they may run organiser commands.
const AdminPrefix = "UADMIN"

// Fault is what the fake Slack answers to one call instead of the real
// answer: an HTTP status (429 with Retry-After seconds, or a 5xx), and for
// chat.postMessage whether the message is stored anyway (a 5xx after the
// post landed, the case only a history look-up can resolve).
type Fault struct {
	Status     int
	RetryAfter int
	Posted     bool
}

// Call is one request the fake Slack received.
type Call struct {
	Seq    int    // 1-based, in arrival order
	Method string // Web API method, or "response_url"
	// ID is the id of a response_url call (what SlackFake.ResponseURL was
	// given); empty for Web API calls.
	ID     string
	Form   url.Values
	JSON   map[string]any
	Status int // what the fake answered
	At     time.Time
}

// Posted is one message stored by chat.postMessage (or a 5xx fault with
// Posted set).
type Posted struct {
	Channel string
	TS      string
	Text    string
	Key     string // the outbox key found in its metadata, if any
	Meta    string // the raw metadata JSON
}

// SlackFake plays the Slack Web API on a local httptest server, and the
// response_url endpoint: it records every call, stores posted messages (and
// serves them back through conversations.history with their metadata),
// answers the methods an adapter uses with Slack's shapes, and injects the
// faults Inject returns. All methods are safe for concurrent use.
type SlackFake struct {
	srv   *httptest.Server
	token string

	mu     sync.Mutex
	calls  []Call
	posts  []Posted
	inject func(c Call) *Fault
	delay  time.Duration
	seq    int
	ts     int64
	hold   chan struct{} // non-nil while chat.postMessage calls are held
	held   int           // calls held since HoldPosts
	gone   int           // held calls whose sender went away
	grew   chan struct{} // closed and replaced on every call
}

// StartSlackFake starts the fake; it accepts only token (a bot token) and
// closes when the test ends.
func StartSlackFake(t testing.TB, token string) *SlackFake {
	t.Helper()
	f := &SlackFake{token: token, ts: time.Now().Unix() * 1e6, grew: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// APIURL is the Web API base URL for slack.OptionAPIURL and
// MISSIONBOT_SLACK_API_URL (it ends in a slash).
func (f *SlackFake) APIURL() string { return f.srv.URL + "/api/" }

// ResponseURL returns a response_url for one slash command, identified by id.
func (f *SlackFake) ResponseURL(id string) string {
	return f.srv.URL + "/response/" + url.PathEscape(id)
}

// Inject sets the function asked about every call before it is answered;
// returning non-nil answers with that fault. nil removes it.
func (f *SlackFake) Inject(fn func(c Call) *Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject = fn
}

// Delay makes every Web API call take at least d (a slow platform).
func (f *SlackFake) Delay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// Calls returns the calls of method so far ("" for all).
func (f *SlackFake) Calls(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Posts returns the messages stored so far, in order.
func (f *SlackFake) Posts() []Posted {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Posted(nil), f.posts...)
}

// PostCount returns how many messages are stored.
func (f *SlackFake) PostCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.posts)
}

// Reset forgets every call and post, and removes Inject and Delay.
func (f *SlackFake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.posts, f.inject, f.delay = nil, nil, nil, 0
}

// WaitPosts blocks until at least n messages are stored or timeout passes,
// and reports whether they were.
func (f *SlackFake) WaitPosts(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ok, grew := len(f.posts) >= n, f.grew
		f.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-grew:
		case <-deadline.C:
			return false
		}
	}
}

// Responses returns the text of every response_url call for id so far.
func (f *SlackFake) Responses(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if c.Method == "response_url" && c.ID == id {
			out = append(out, c.text())
		}
	}
	return out
}

// WaitResponse blocks until a response_url call for id arrives or timeout
// passes, and returns the text of the first one.
func (f *SlackFake) WaitResponse(id string, timeout time.Duration) (string, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		grew := f.grew
		for _, c := range f.calls {
			if c.Method == "response_url" && c.ID == id {
				f.mu.Unlock()
				return c.text(), true
			}
		}
		f.mu.Unlock()
		select {
		case <-grew:
		case <-deadline.C:
			return "", false
		}
	}
}

// text is every "text" in the call's JSON body (or its text field).
func (c Call) text() string {
	if c.JSON != nil {
		b, _ := json.Marshal(c.JSON)
		return JSONText(b)
	}
	return c.Form.Get("text")
}

// WaitCalls blocks until at least n calls of method were received or timeout
// passes, and reports whether they were.
func (f *SlackFake) WaitCalls(method string, n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		got := 0
		for _, c := range f.calls {
			if c.Method == method {
				got++
			}
		}
		grew := f.grew
		f.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-grew:
		case <-deadline.C:
			return false
		}
	}
}

// serve answers one request.
func (f *SlackFake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	c := Call{At: time.Now()}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		c.Method = strings.TrimPrefix(r.URL.Path, "/api/")
	case strings.HasPrefix(r.URL.Path, "/response/"):
		c.Method = "response_url"
		c.ID, _ = url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/response/"))
	default:
		http.NotFound(w, r)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		_ = json.Unmarshal(body, &c.JSON)
	} else {
		c.Form, _ = url.ParseQuery(string(body))
	}
	if c.Form == nil {
		c.Form = url.Values{}
	}
	for k, v := range r.URL.Query() {
		c.Form[k] = append(c.Form[k], v...)
	}
	for k, v := range c.JSON {
		switch v := v.(type) {
		case string:
			c.Form.Set(k, v)
		case bool, float64:
			c.Form.Set(k, fmt.Sprint(v))
		default:
			b, _ := json.Marshal(v)
			c.Form.Set(k, string(b))
		}
	}

	f.mu.Lock()
	f.seq++
	c.Seq = f.seq
	inject, delay := f.inject, f.delay
	f.mu.Unlock()
	if delay > 0 && c.Method != "response_url" {
		select { // simulated platform latency
		case <-time.After(delay):
		case <-r.Context().Done():
		}
	}
	if c.Method == "chat.postMessage" && !f.wait(r) {
		return // the sender went away while held: nothing reached Slack
	}
	var fault *Fault
	if inject != nil {
		fault = inject(c)
	}
	status, answer := f.answer(r, c, fault)
	c.Status = status
	f.mu.Lock()
	f.calls = append(f.calls, c)
	close(f.grew)
	f.grew = make(chan struct{})
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(max(fault.RetryAfter, 1)))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(answer)
}

// HoldPosts makes every chat.postMessage from now on wait, before anything
// is stored, until ReleasePosts. A held call whose sender goes away (a
// killed replica) is dropped unstored and unrecorded: the message never
// reached Slack.
func (f *SlackFake) HoldPosts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold == nil {
		f.hold, f.held, f.gone = make(chan struct{}), 0, 0
	}
}

// ReleasePosts lets held calls, and later ones, through.
func (f *SlackFake) ReleasePosts() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
}

// WaitHeld blocks until n calls are held or timeout passes, and returns how
// many are held.
func (f *SlackFake) WaitHeld(n int, timeout time.Duration) int {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		held, grew := f.held, f.grew
		f.mu.Unlock()
		if held >= n {
			return held
		}
		select {
		case <-grew:
		case <-deadline.C:
			return held
		}
	}
}

// wait holds r while posts are held; it reports false when r's sender went
// away meanwhile.
func (f *SlackFake) wait(r *http.Request) bool {
	f.mu.Lock()
	hold := f.hold
	if hold != nil {
		f.held++
		close(f.grew)
		f.grew = make(chan struct{})
	}
	f.mu.Unlock()
	if hold == nil {
		return true
	}
	select {
	case <-hold:
		return true
	case <-r.Context().Done():
		f.mu.Lock()
		f.gone++
		close(f.grew)
		f.grew = make(chan struct{})
		f.mu.Unlock()
		return false
	}
}

// WaitGone blocks until n held calls were dropped because their sender went
// away (the server notices a dead connection a moment after the process
// dies), or timeout passes; it returns how many were.
func (f *SlackFake) WaitGone(n int, timeout time.Duration) int {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		gone, grew := f.gone, f.grew
		f.mu.Unlock()
		if gone >= n {
			return gone
		}
		select {
		case <-grew:
		case <-deadline.C:
			return gone
		}
	}
}

// answer stores what c changes and returns the status and JSON to send.
func (f *SlackFake) answer(r *http.Request, c Call, fault *Fault) (int, any) {
	if c.Method == "response_url" {
		if fault != nil {
			return fault.Status, map[string]any{"ok": false}
		}
		return http.StatusOK, map[string]any{"ok": true}
	}
	if !f.authorised(r, c) {
		return http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"}
	}
	if fault != nil && !(fault.Posted && c.Method == "chat.postMessage") {
		return fault.Status, map[string]any{"ok": false, "error": http.StatusText(fault.Status)}
	}
	switch c.Method {
	case "auth.test":
		return http.StatusOK, map[string]any{"ok": true, "url": "https://fake.slack.com/", "team": "Fake",
			"user": "missionbot", "team_id": "TFAKE", "user_id": "UBOT", "bot_id": "BBOT"}
	case "chat.postMessage":
		ch := c.Form.Get("channel")
		if ch == "" {
			return http.StatusOK, map[string]any{"ok": false, "error": "channel_not_found"}
		}
		p := f.store(ch, c.Form.Get("text"), c.Form.Get("metadata"))
		if fault != nil {
			return fault.Status, map[string]any{"ok": false, "error": http.StatusText(fault.Status)}
		}
		return http.StatusOK, map[string]any{"ok": true, "channel": ch, "ts": p.TS,
			"message": map[string]any{"type": "message", "text": p.Text, "ts": p.TS, "bot_id": "BBOT"}}
	case "chat.postEphemeral":
		return http.StatusOK, map[string]any{"ok": true, "message_ts": f.nextTS()}
	case "chat.update":
		return http.StatusOK, map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": c.Form.Get("ts")}
	case "conversations.history":
		return http.StatusOK, f.history(c.Form.Get("channel"), c.Form.Get("limit"))
	case "conversations.open":
		users := c.Form.Get("users")
		return http.StatusOK, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + strings.TrimPrefix(users, "U")}}
	case "conversations.info":
		ch := c.Form.Get("channel")
		return http.StatusOK, map[string]any{"ok": true, "channel": map[string]any{"id": ch, "name": strings.ToLower(ch), "is_channel": true, "is_member": true}}
	case "users.info":
		u := c.Form.Get("user")
		return http.StatusOK, map[string]any{"ok": true, "user": map[string]any{"id": u, "name": strings.ToLower(u), "real_name": u,
			"tz": "UTC", "is_admin": strings.HasPrefix(u, AdminPrefix), "is_bot": false, "profile": map[string]any{"display_name": strings.ToLower(u), "real_name": u}}}
	case "team.info":
		return http.StatusOK, map[string]any{"ok": true, "team": map[string]any{"id": c.Form.Get("team"), "name": "Fake"}}
	default:
		return http.StatusOK, map[string]any{"ok": true}
	}
}

// authorised says whether the call carries the fake's bot token, as the
// token form field or a Bearer header.
func (f *SlackFake) authorised(r *http.Request, c Call) bool {
	if c.Form.Get("token") == f.token {
		return true
	}
	return r.Header.Get("Authorization") == "Bearer "+f.token
}

func (f *SlackFake) nextTS() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ts++
	return fmt.Sprintf("%d.%06d", f.ts/1e6, f.ts%1e6)
}

func (f *SlackFake) store(channel, text, meta string) Posted {
	ts := f.nextTS()
	p := Posted{Channel: channel, TS: ts, Text: text, Meta: meta, Key: keyPattern.FindString(meta)}
	f.mu.Lock()
	f.posts = append(f.posts, p)
	f.mu.Unlock()
	return p
}

// history returns channel's messages, newest first, with their metadata.
func (f *SlackFake) history(channel, limit string) map[string]any {
	n, err := strconv.Atoi(limit)
	if err != nil || n <= 0 {
		n = 100
	}
	f.mu.Lock()
	var msgs []map[string]any
	for i := len(f.posts) - 1; i >= 0 && len(msgs) < n; i-- {
		p := f.posts[i]
		if p.Channel != channel {
			continue
		}
		m := map[string]any{"type": "message", "text": p.Text, "ts": p.TS, "bot_id": "BBOT"}
		if p.Meta != "" {
			var meta any
			if json.Unmarshal([]byte(p.Meta), &meta) == nil {
				m["metadata"] = meta
			}
		}
		msgs = append(msgs, m)
	}
	f.mu.Unlock()
	return map[string]any{"ok": true, "messages": msgs, "has_more": false}
}

// KeyCounts returns, per outbox key found in posted metadata, how many
// messages carry it.
func (f *SlackFake) KeyCounts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, p := range f.posts {
		if p.Key != "" {
			out[p.Key]++
		}
	}
	return out
}

// AttemptsPerKey returns, per outbox key, how many chat.postMessage calls
// carried it (whatever the answer), largest first as "key=n" for messages.
func (f *SlackFake) AttemptsPerKey() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, c := range f.calls {
		if c.Method != "chat.postMessage" {
			continue
		}
		if k := keyPattern.FindString(c.Form.Get("metadata")); k != "" {
			out[k]++
		}
	}
	return out
}

// topCounts formats the n largest counts of m, for failure messages.
func topCounts(m map[string]int, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || (m[keys[i]] == m[keys[j]] && keys[i] < keys[j]) })
	var b strings.Builder
	for i, k := range keys {
		if i == n {
			break
		}
		fmt.Fprintf(&b, "%s=%d ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}
