// Package fakeslack is a recording fake of the Slack Web API on httptest, for
// tests that point slack-go at it with slack.OptionAPIURL(s.URL()). It
// answers with Slack's real payload shapes and error shapes, reads form or
// JSON bodies as slack-go sends them, checks tokens, and can be told to fail:
// 429 with Retry-After, 200 {"ok":false,"error":"ratelimited"}, 5xx,
// permanent errors, hung or reset connections. It can enforce Slack's
// per-channel posting rate and count the violations.
//
// Methods served: auth.test, chat.postMessage, chat.postEphemeral,
// chat.update, conversations.open, conversations.history (with message
// metadata), files.getUploadURLExternal + the upload URL +
// files.completeUploadExternal, views.open, users.info, oauth.v2.access,
// apps.connections.open, and response_url endpoints (ResponseURL).
// HandleMethod replaces or adds a method; Handle serves other paths.
package fakeslack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// The workspace every Server knows from the start.
const (
	Token     = "xoxb-" + "fake-bot-token" // a fake for the fake API, written so scans for real tokens do not match it
	Team      = "T0FAKE"
	TeamName  = "Fake Workspace"
	TeamURL   = "https://fake.slack.com/"
	BotUserID = "U0FAKEBOT"
	BotID     = "B0FAKEBOT"
	AppID     = "A0FAKEAPP"
)

// Call is one request the fake received.
type Call struct {
	// Method is the Web API method ("chat.postMessage"), "upload" for the
	// upload URL, or "response" for a response_url.
	Method string
	// Path is the request path.
	Path string
	// Token is the token sent (form field token or Authorization: Bearer).
	Token string
	// Team is the workspace of Token, empty when it is unknown.
	Team string
	// Form holds form fields and query parameters.
	Form url.Values
	// Body is the raw request body.
	Body []byte
	// ContentType is the request's Content-Type.
	ContentType string
	// Header holds the request headers.
	Header http.Header
	// Status is the HTTP status answered (0 when the connection was
	// dropped or hung).
	Status int
	// Error is the Slack error answered, empty for ok.
	Error string
	// At is when it arrived, by the server's clock.
	At time.Time
}

// Failure is an injected fault for one call of a method (see Fail).
type Failure struct {
	// Status is the HTTP status to answer; 0 means 200.
	Status int
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int
	// Error, when set, answers {"ok":false,"error":Error}.
	Error string
	// Deliver performs the method's effect before failing, like a post that
	// landed but whose answer was lost.
	Deliver bool
	// Hang never answers: the handler waits until the client gives up.
	Hang bool
	// Reset closes the connection without answering.
	Reset bool
}

// Rate is a per-channel posting limit (GCRA): Events per Per, bursts of
// Burst. A post earlier than the limit allows by more than Tolerance is a
// violation: it is counted, answered 429 with Retry-After, and not posted.
type Rate struct {
	Events    int
	Per       time.Duration
	Burst     int
	Tolerance time.Duration
}

// Message is one message posted with chat.postMessage (or edited with
// chat.update).
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	Team     string
	User     string
	BotID    string
	Text     string
	// Blocks is the blocks JSON as sent (null when none).
	Blocks json.RawMessage
	// Metadata is the message metadata, nil when none.
	Metadata *slack.SlackMetadata
}

// Ephemeral is one chat.postEphemeral.
type Ephemeral struct {
	Channel string
	User    string
	TS      string
	Text    string
	Blocks  json.RawMessage
}

// File is one file uploaded through the external upload flow.
type File struct {
	ID       string
	Name     string
	Title    string
	Length   int
	Data     []byte
	Uploaded bool
	// Channels it was shared to by files.completeUploadExternal.
	Channels []string
}

// View is one views.open.
type View struct {
	TriggerID string
	// View is the view JSON as sent.
	View json.RawMessage
}

// Response is one POST to a response_url.
type Response struct {
	ID   string
	Body json.RawMessage
}

// User is a workspace member as users.info shows them.
type User struct {
	ID       string
	Team     string
	Name     string
	RealName string
	Admin    bool
	Owner    bool
	Deleted  bool
	IsBot    bool
	TZ       string
}

// OAuthGrant is what oauth.v2.access answers for a code.
type OAuthGrant struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string
	Token        string
	Team         string
	TeamName     string
	Scope        string
	BotUserID    string
	AuthedUser   string
}

// MethodFunc serves one Web API method. It is given the recorded call
// (form, token, team) and writes the whole answer.
type MethodFunc func(w http.ResponseWriter, r *http.Request, c *Call)

// Server is a fake Slack Web API. Its methods are safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	mux     *http.ServeMux
	closing chan struct{}

	mu          sync.Mutex
	now         func() time.Time
	tokens      map[string]string // token → team
	custom      map[string]MethodFunc
	calls       []Call
	failures    map[string][]Failure
	chanErrs    map[string]string
	messages    map[string][]*Message
	ephemerals  []Ephemeral
	files       map[string]*File
	fileOrder   []string
	views       []View
	expired     map[string]bool
	responses   []Response
	users       map[string]User
	grants      map[string]OAuthGrant
	socketURL   string
	rate        *Rate
	tats        map[string]time.Time
	violations  map[string]int
	seq         int
	strictLimit bool
}

// New starts a fake on a local port, knowing the workspace Team with the bot
// token Token, and closes it when t ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		mux:        http.NewServeMux(),
		closing:    make(chan struct{}),
		now:        time.Now,
		tokens:     map[string]string{Token: Team},
		custom:     map[string]MethodFunc{},
		failures:   map[string][]Failure{},
		chanErrs:   map[string]string{},
		messages:   map[string][]*Message{},
		files:      map[string]*File{},
		expired:    map[string]bool{},
		users:      map[string]User{},
		grants:     map[string]OAuthGrant{},
		tats:       map[string]time.Time{},
		violations: map[string]int{},
	}
	s.mux.HandleFunc("/", s.serve)
	s.srv = httptest.NewServer(s.mux)
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, releasing hung handlers first. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		return
	default:
		close(s.closing)
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the API base URL with its trailing slash, for slack.OptionAPIURL.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// SetNow sets the clock used for timestamps and the channel rate (default
// time.Now), e.g. a bot.ManualClock's Now.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddToken makes token a valid bot token of team.
func (s *Server) AddToken(token, team string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = team
}

// RevokeToken makes token invalid: calls with it get invalid_auth.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// HandleMethod serves method with f instead of the built-in handler. The
// call is recorded before f runs; failures injected with Fail still apply.
func (s *Server) HandleMethod(method string, f MethodFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.custom[method] = f
}

// Handle serves pattern (e.g. "/socket/") with h, outside the Web API.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Fail queues failures for the next calls of method, one per call.
func (s *Server) Fail(method string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = append(s.failures[method], fs...)
}

// SetChannelError makes every post, ephemeral, history read and file share
// to channel fail with the Slack error code (channel_not_found,
// not_in_channel, is_archived…); an empty code clears it.
func (s *Server) SetChannelError(channel, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		delete(s.chanErrs, channel)
		return
	}
	s.chanErrs[channel] = code
}

// LimitChannels enforces r on chat.postMessage per channel.
func (s *Server) LimitChannels(r Rate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate = &r
}

// Violations returns how many posts broke the channel rate, in all channels.
func (s *Server) Violations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.violations {
		n += v
	}
	return n
}

// AddUser makes users.info know u (any other id is an ordinary member).
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// ExpireTrigger makes views.open with trigger refuse it as expired.
func (s *Server) ExpireTrigger(trigger string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired[trigger] = true
}

// AddOAuthCode makes oauth.v2.access exchange code for g (once).
func (s *Server) AddOAuthCode(code string, g OAuthGrant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants[code] = g
}

// SetSocketURL sets the websocket URL apps.connections.open answers.
func (s *Server) SetSocketURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.socketURL = u
}

// ResponseURL returns a response_url served by the fake; what is POSTed to
// it is kept as Responses(id).
func (s *Server) ResponseURL(id string) string { return s.srv.URL + "/response/" + url.PathEscape(id) }

// Calls returns the calls of method in arrival order; "" returns every call.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns the messages in channel, oldest first.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages[channel]))
	for i, m := range s.messages[channel] {
		out[i] = *m
	}
	return out
}

// AllMessages returns every message of every channel, by channel then age.
func (s *Server) AllMessages() []Message {
	s.mu.Lock()
	chans := make([]string, 0, len(s.messages))
	for ch := range s.messages {
		chans = append(chans, ch)
	}
	s.mu.Unlock()
	sort.Strings(chans)
	var out []Message
	for _, ch := range chans {
		out = append(out, s.Messages(ch)...)
	}
	return out
}

// Ephemerals returns every chat.postEphemeral, in order.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ephemeral(nil), s.ephemerals...)
}

// Files returns every file, in the order their upload URLs were given.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, 0, len(s.fileOrder))
	for _, id := range s.fileOrder {
		f := *s.files[id]
		f.Channels = append([]string(nil), f.Channels...)
		out = append(out, f)
	}
	return out
}

// Views returns every views.open, in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// Responses returns what was POSTed to ResponseURL(id); "" returns all.
func (s *Server) Responses(id string) []Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Response
	for _, r := range s.responses {
		if id == "" || r.ID == id {
			out = append(out, r)
		}
	}
	return out
}

// DMChannel is the id of the DM channel conversations.open gives for user.
func DMChannel(user string) string { return "D" + strings.TrimPrefix(user, "U") }

// maxBody bounds what the fake reads of a request.
const maxBody = 32 << 20

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	method := path
	switch {
	case strings.HasPrefix(path, "upload/"):
		method = "upload"
	case strings.HasPrefix(path, "response/"):
		method = "response"
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	c := &Call{Method: method, Path: r.URL.Path, Body: body, ContentType: r.Header.Get("Content-Type"), Header: r.Header.Clone(), Form: url.Values{}}
	for k, v := range r.URL.Query() {
		c.Form[k] = v
	}
	if strings.HasPrefix(c.ContentType, "application/x-www-form-urlencoded") {
		if f, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range f {
				c.Form[k] = append(c.Form[k], v...)
			}
		}
	}
	c.Token = c.Form.Get("token")
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && c.Token == "" {
		c.Token = auth
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	s.mu.Lock()
	c.At = s.now()
	c.Team = s.tokens[c.Token]
	var fail *Failure
	if q := s.failures[method]; len(q) > 0 {
		fail = &q[0]
		s.failures[method] = q[1:]
	}
	custom := s.custom[method]
	// Recorded on arrival, so that a client that gave up already sees it;
	// the answer is filled in when it is written.
	idx := len(s.calls)
	s.calls = append(s.calls, *c)
	s.mu.Unlock()

	rec := &recorder{ResponseWriter: w}
	defer func() { s.record(idx, rec) }()

	if fail != nil && !fail.Deliver {
		s.fail(rec, r, *fail)
		return
	}
	var out http.ResponseWriter = rec
	if fail != nil {
		out = &discard{header: http.Header{}} // deliver, then fail
	}
	switch {
	case custom != nil:
		custom(out, r, c)
	case method == "upload":
		s.upload(out, r, c)
	case method == "response":
		s.response(out, c)
	default:
		s.webAPI(out, c)
	}
	if fail != nil {
		s.fail(rec, r, *fail)
	}
}

func (s *Server) record(idx int, rec *recorder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[idx].Status = rec.status
	s.calls[idx].Error = rec.slackErr
}

func (s *Server) fail(w *recorder, r *http.Request, f Failure) {
	switch {
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		return
	case f.Reset:
		if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	if f.Error != "" {
		writeJSON(w, status, map[string]any{"ok": false, "error": f.Error})
		return
	}
	if status == http.StatusTooManyRequests {
		writeJSON(w, status, map[string]any{"ok": false, "error": "ratelimited"})
		return
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<html><body>%d %s</body></html>", status, http.StatusText(status))
}

// recorder remembers the status and Slack error written.
type recorder struct {
	http.ResponseWriter
	status   int
	slackErr string
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.slackErr == "" && bytes.Contains(b, []byte(`"ok":false`)) {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil {
			r.slackErr = e.Error
		}
	}
	return r.ResponseWriter.Write(b)
}

// discard swallows the answer of a delivered call that is then failed.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func ok(w http.ResponseWriter, fields map[string]any) {
	out := map[string]any{"ok": true}
	for k, v := range fields {
		out[k] = v
	}
	writeJSON(w, http.StatusOK, out)
}

func slackError(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code})
}

func (s *Server) webAPI(w http.ResponseWriter, c *Call) {
	switch c.Method {
	case "oauth.v2.access":
		s.oauthAccess(w, c)
		return
	case "apps.connections.open":
		s.connectionsOpen(w, c)
		return
	}
	if c.Token == "" {
		slackError(w, "not_authed")
		return
	}
	if c.Team == "" {
		slackError(w, "invalid_auth")
		return
	}
	switch c.Method {
	case "auth.test":
		ok(w, map[string]any{"url": TeamURL, "team": TeamName, "user": "missionbot", "team_id": c.Team, "user_id": BotUserID, "bot_id": BotID})
	case "chat.postMessage":
		s.postMessage(w, c)
	case "chat.postEphemeral":
		s.postEphemeral(w, c)
	case "chat.update":
		s.update(w, c)
	case "conversations.open":
		s.open(w, c)
	case "conversations.history":
		s.history(w, c)
	case "files.getUploadURLExternal":
		s.uploadURL(w, c)
	case "files.completeUploadExternal":
		s.completeUpload(w, c)
	case "views.open":
		s.viewsOpen(w, c)
	case "users.info":
		s.usersInfo(w, c)
	default:
		slackError(w, "unknown_method")
	}
}

// nextTS returns a fresh message timestamp. Callers hold s.mu.
func (s *Server) nextTS() string {
	s.seq++
	return fmt.Sprintf("%d.%06d", s.now().Unix(), s.seq)
}

// limited applies the channel rate; it returns the Retry-After seconds of
// a violation, or 0. Callers hold s.mu.
func (s *Server) limited(channel string) int {
	if s.rate == nil || s.rate.Events <= 0 || s.rate.Per <= 0 {
		return 0
	}
	now := s.now()
	interval := s.rate.Per / time.Duration(s.rate.Events)
	burst := time.Duration(max(s.rate.Burst, 1))
	tat := s.tats[channel]
	if tat.Before(now) {
		tat = now
	}
	allowAt := tat.Add(interval).Add(-burst * interval)
	if now.Before(allowAt.Add(-s.rate.Tolerance)) {
		s.violations[channel]++
		return max(1, int(math.Ceil(allowAt.Sub(now).Seconds())))
	}
	s.tats[channel] = tat.Add(interval)
	return 0
}

func (s *Server) postMessage(w http.ResponseWriter, c *Call) {
	channel, text, blocks := c.Form.Get("channel"), c.Form.Get("text"), c.Form.Get("blocks")
	if channel == "" {
		slackError(w, "channel_not_found")
		return
	}
	if text == "" && (blocks == "" || blocks == "[]") {
		slackError(w, "no_text")
		return
	}
	if code := checkBlocks(blocks); code != "" {
		slackError(w, code)
		return
	}
	var meta *slack.SlackMetadata
	if raw := c.Form.Get("metadata"); raw != "" {
		meta = &slack.SlackMetadata{}
		if err := json.Unmarshal([]byte(raw), meta); err != nil || meta.EventType == "" {
			slackError(w, "invalid_metadata_format")
			return
		}
	}
	s.mu.Lock()
	if code := s.chanErrs[channel]; code != "" {
		s.mu.Unlock()
		slackError(w, code)
		return
	}
	if retry := s.limited(channel); retry > 0 {
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
		return
	}
	m := &Message{Channel: channel, TS: s.nextTS(), ThreadTS: c.Form.Get("thread_ts"), Team: c.Team,
		User: BotUserID, BotID: BotID, Text: text, Metadata: meta}
	if blocks != "" {
		m.Blocks = json.RawMessage(blocks)
	}
	s.messages[channel] = append(s.messages[channel], m)
	s.mu.Unlock()
	ok(w, map[string]any{"channel": channel, "ts": m.TS, "message": historyMessage(m, false)})
}

func historyMessage(m *Message, withMeta bool) map[string]any {
	out := map[string]any{"type": "message", "user": m.User, "bot_id": m.BotID, "app_id": AppID, "team": m.Team, "text": m.Text, "ts": m.TS}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if withMeta && m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	return out
}

func (s *Server) postEphemeral(w http.ResponseWriter, c *Call) {
	channel, user, text, blocks := c.Form.Get("channel"), c.Form.Get("user"), c.Form.Get("text"), c.Form.Get("blocks")
	switch {
	case channel == "":
		slackError(w, "channel_not_found")
		return
	case user == "":
		slackError(w, "user_not_in_channel")
		return
	case text == "" && (blocks == "" || blocks == "[]"):
		slackError(w, "no_text")
		return
	}
	if code := checkBlocks(blocks); code != "" {
		slackError(w, code)
		return
	}
	s.mu.Lock()
	if code := s.chanErrs[channel]; code != "" {
		s.mu.Unlock()
		slackError(w, code)
		return
	}
	e := Ephemeral{Channel: channel, User: user, TS: s.nextTS(), Text: text}
	if blocks != "" {
		e.Blocks = json.RawMessage(blocks)
	}
	s.ephemerals = append(s.ephemerals, e)
	s.mu.Unlock()
	ok(w, map[string]any{"message_ts": e.TS})
}

func (s *Server) update(w http.ResponseWriter, c *Call) {
	channel, ts, blocks := c.Form.Get("channel"), c.Form.Get("ts"), c.Form.Get("blocks")
	if code := checkBlocks(blocks); code != "" {
		slackError(w, code)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.chanErrs[channel]; code != "" {
		slackError(w, code)
		return
	}
	for _, m := range s.messages[channel] {
		if m.TS == ts {
			if t := c.Form.Get("text"); t != "" {
				m.Text = t
			}
			if blocks != "" {
				m.Blocks = json.RawMessage(blocks)
			}
			ok(w, map[string]any{"channel": channel, "ts": ts, "text": m.Text})
			return
		}
	}
	slackError(w, "message_not_found")
}

func (s *Server) open(w http.ResponseWriter, c *Call) {
	users := c.Form.Get("users")
	if users == "" {
		slackError(w, "users_list_not_supplied")
		return
	}
	if strings.Contains(users, ",") {
		slackError(w, "not_supported") // the fake opens 1:1 DMs only
		return
	}
	s.mu.Lock()
	u, known := s.users[users]
	s.mu.Unlock()
	switch {
	case known && u.Deleted:
		slackError(w, "user_disabled")
		return
	case known && u.IsBot || users == BotUserID:
		slackError(w, "cannot_dm_bot")
		return
	}
	ok(w, map[string]any{"channel": map[string]any{"id": DMChannel(users), "is_im": true, "user": users}})
}

func (s *Server) history(w http.ResponseWriter, c *Call) {
	channel := c.Form.Get("channel")
	limit, _ := strconv.Atoi(c.Form.Get("limit"))
	if limit <= 0 || limit > 999 {
		limit = 100
	}
	meta := c.Form.Get("include_all_metadata")
	withMeta := meta == "1" || meta == "true"
	s.mu.Lock()
	defer s.mu.Unlock()
	if code := s.chanErrs[channel]; code != "" {
		slackError(w, code)
		return
	}
	all := s.messages[channel]
	msgs := []map[string]any{}
	for i := len(all) - 1; i >= 0 && len(msgs) < limit; i-- {
		msgs = append(msgs, historyMessage(all[i], withMeta))
	}
	ok(w, map[string]any{"messages": msgs, "has_more": len(all) > limit, "pin_count": 0,
		"response_metadata": map[string]any{"next_cursor": ""}})
}

func (s *Server) uploadURL(w http.ResponseWriter, c *Call) {
	name := c.Form.Get("filename")
	length, err := strconv.Atoi(c.Form.Get("length"))
	if name == "" || err != nil || length <= 0 {
		slackError(w, "invalid_arguments")
		return
	}
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("F%07d", s.seq)
	s.files[id] = &File{ID: id, Name: name, Length: length}
	s.fileOrder = append(s.fileOrder, id)
	s.mu.Unlock()
	ok(w, map[string]any{"upload_url": s.srv.URL + "/upload/" + id, "file_id": id})
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, c *Call) {
	id := strings.TrimPrefix(c.Path, "/upload/")
	var data []byte
	if mr, err := r.MultipartReader(); err == nil {
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FormName() == "file" {
				data, _ = io.ReadAll(p)
			}
		}
	} else {
		data, _ = io.ReadAll(r.Body)
	}
	s.mu.Lock()
	f := s.files[id]
	if f != nil {
		f.Data, f.Uploaded = data, true
	}
	s.mu.Unlock()
	if f == nil {
		http.Error(w, "no such upload", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "OK - %d", len(data))
}

func (s *Server) completeUpload(w http.ResponseWriter, c *Call) {
	var files []slack.FileSummary
	if err := json.Unmarshal([]byte(c.Form.Get("files")), &files); err != nil || len(files) == 0 {
		slackError(w, "invalid_arguments")
		return
	}
	var chans []string
	if ch := c.Form.Get("channel_id"); ch != "" {
		chans = append(chans, ch)
	}
	if cs := c.Form.Get("channels"); cs != "" {
		chans = append(chans, strings.Split(cs, ",")...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range chans {
		if code := s.chanErrs[ch]; code != "" {
			slackError(w, code)
			return
		}
	}
	out := make([]map[string]any, 0, len(files))
	for _, fs := range files {
		f := s.files[fs.ID]
		if f == nil || !f.Uploaded {
			slackError(w, "file_not_found")
			return
		}
	}
	for _, fs := range files {
		f := s.files[fs.ID]
		f.Title = fs.Title
		if f.Title == "" {
			f.Title = f.Name
		}
		f.Channels = append(f.Channels, chans...)
		out = append(out, map[string]any{"id": f.ID, "title": f.Title})
	}
	ok(w, map[string]any{"files": out})
}

func (s *Server) viewsOpen(w http.ResponseWriter, c *Call) {
	var req struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(c.Body, &req); err != nil || len(req.View) == 0 {
		slackError(w, "invalid_arguments")
		return
	}
	if req.TriggerID == "" {
		slackError(w, "invalid_trigger_id")
		return
	}
	var view map[string]any
	if err := json.Unmarshal(req.View, &view); err != nil || view["type"] != "modal" {
		slackError(w, "invalid_arguments")
		return
	}
	if code := checkView(req.View); code != "" {
		slackError(w, code)
		return
	}
	s.mu.Lock()
	if s.expired[req.TriggerID] {
		s.mu.Unlock()
		slackError(w, "expired_trigger_id")
		return
	}
	s.expired[req.TriggerID] = true // single use
	s.views = append(s.views, View{TriggerID: req.TriggerID, View: req.View})
	s.seq++
	id := fmt.Sprintf("V%07d", s.seq)
	s.mu.Unlock()
	view["id"] = id
	view["team_id"] = c.Team
	view["app_id"] = AppID
	view["bot_id"] = BotID
	ok(w, map[string]any{"view": view})
}

func (s *Server) usersInfo(w http.ResponseWriter, c *Call) {
	id := c.Form.Get("user")
	if id == "" {
		slackError(w, "user_not_found")
		return
	}
	s.mu.Lock()
	u, known := s.users[id]
	s.mu.Unlock()
	if !known {
		u = User{ID: id, Name: strings.ToLower(id)}
	}
	if u.Team == "" {
		u.Team = c.Team
	}
	if u.RealName == "" {
		u.RealName = u.Name
	}
	if u.TZ == "" {
		u.TZ = "Europe/London"
	}
	ok(w, map[string]any{"user": map[string]any{
		"id": u.ID, "team_id": u.Team, "name": u.Name, "real_name": u.RealName, "deleted": u.Deleted,
		"is_admin": u.Admin, "is_owner": u.Owner, "is_bot": u.IsBot, "tz": u.TZ,
		"profile": map[string]any{"display_name": u.Name, "real_name": u.RealName},
	}})
}

func (s *Server) oauthAccess(w http.ResponseWriter, c *Call) {
	code := c.Form.Get("code")
	s.mu.Lock()
	g, found := s.grants[code]
	if found {
		delete(s.grants, code) // codes are single use
	}
	s.mu.Unlock()
	if !found {
		slackError(w, "invalid_code")
		return
	}
	id, secret := c.Form.Get("client_id"), c.Form.Get("client_secret")
	if id == "" {
		id, secret, _ = basicAuth(c)
	}
	if g.ClientID != "" && (id != g.ClientID || secret != g.ClientSecret) {
		slackError(w, "invalid_client_id")
		return
	}
	if g.RedirectURI != "" && c.Form.Get("redirect_uri") != g.RedirectURI {
		slackError(w, "bad_redirect_uri")
		return
	}
	if g.Team == "" {
		g.Team = Team
	}
	if g.TeamName == "" {
		g.TeamName = TeamName
	}
	if g.BotUserID == "" {
		g.BotUserID = BotUserID
	}
	if g.Token != "" {
		s.AddToken(g.Token, g.Team)
	}
	ok(w, map[string]any{
		"access_token": g.Token, "token_type": "bot", "scope": g.Scope, "bot_user_id": g.BotUserID,
		"app_id": AppID, "team": map[string]any{"id": g.Team, "name": g.TeamName}, "enterprise": nil,
		"is_enterprise_install": false, "authed_user": map[string]any{"id": g.AuthedUser},
	})
}

func basicAuth(c *Call) (string, string, bool) {
	return (&http.Request{Header: c.Header}).BasicAuth()
}

func (s *Server) connectionsOpen(w http.ResponseWriter, c *Call) {
	if !strings.HasPrefix(c.Token, "xapp-") {
		if c.Token == "" {
			slackError(w, "not_authed")
		} else {
			slackError(w, "not_allowed_token_type")
		}
		return
	}
	s.mu.Lock()
	u := s.socketURL
	s.mu.Unlock()
	if u == "" {
		slackError(w, "socket_mode_not_served")
		return
	}
	ok(w, map[string]any{"url": u})
}

func (s *Server) response(w http.ResponseWriter, c *Call) {
	id, _ := url.PathUnescape(strings.TrimPrefix(c.Path, "/response/"))
	var msg struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	if json.Unmarshal(c.Body, &msg) != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if len(msg.Blocks) > 0 && string(msg.Blocks) != "null" {
		if code := checkBlocks(string(msg.Blocks)); code != "" {
			http.Error(w, code, http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	s.responses = append(s.responses, Response{ID: id, Body: json.RawMessage(c.Body)})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// checkBlocks applies the Block Kit limits Slack enforces on a message and
// returns "invalid_blocks" when one is broken, "" otherwise.
func checkBlocks(raw string) string {
	if raw == "" {
		return ""
	}
	var blocks []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return "invalid_blocks_format"
	}
	if len(blocks) > 50 {
		return "invalid_blocks"
	}
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	textOK := func(t *text, limit int) bool {
		n := len([]rune(t.Text))
		return t.Type != "" && n >= 1 && n <= limit
	}
	for _, b := range blocks {
		var typ string
		_ = json.Unmarshal(b["type"], &typ)
		switch typ {
		case "header":
			var t text
			if json.Unmarshal(b["text"], &t) != nil || t.Type != "plain_text" || !textOK(&t, 150) {
				return "invalid_blocks"
			}
		case "section":
			var t *text
			var fields []text
			_ = json.Unmarshal(b["text"], &t)
			_ = json.Unmarshal(b["fields"], &fields)
			if t == nil && len(fields) == 0 || t != nil && !textOK(t, 3000) || len(fields) > 10 {
				return "invalid_blocks"
			}
			for i := range fields {
				if !textOK(&fields[i], 2000) {
					return "invalid_blocks"
				}
			}
		case "context":
			var elems []text
			if json.Unmarshal(b["elements"], &elems) != nil || len(elems) == 0 || len(elems) > 10 {
				return "invalid_blocks"
			}
			for i := range elems {
				if !textOK(&elems[i], 3000) {
					return "invalid_blocks"
				}
			}
		case "actions":
			var elems []struct {
				Type     string `json:"type"`
				ActionID string `json:"action_id"`
				Value    string `json:"value"`
				Text     text   `json:"text"`
				Style    string `json:"style"`
			}
			if json.Unmarshal(b["elements"], &elems) != nil || len(elems) == 0 || len(elems) > 25 {
				return "invalid_blocks"
			}
			seen := map[string]bool{}
			for _, e := range elems {
				if e.Type == "button" && (!textOK(&e.Text, 75) || len(e.ActionID) > 255 || len(e.Value) > 2000 ||
					e.Style != "" && e.Style != "primary" && e.Style != "danger") {
					return "invalid_blocks"
				}
				if e.ActionID != "" && seen[e.ActionID] {
					return "invalid_blocks"
				}
				seen[e.ActionID] = true
			}
		case "divider", "image", "input", "rich_text", "file", "video", "markdown":
		default:
			return "invalid_blocks"
		}
	}
	return ""
}

// checkView applies the limits Slack enforces on a modal (views.open):
// title, submit and close at most 24 characters of plain_text, at most 100
// blocks, input labels at most 2,000 and placeholders at most 150
// characters, private_metadata at most 3,000. It returns "invalid_arguments"
// when one is broken, "" otherwise.
func checkView(raw json.RawMessage) string {
	type text struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	var v struct {
		Title           *text  `json:"title"`
		Submit          *text  `json:"submit"`
		Close           *text  `json:"close"`
		PrivateMetadata string `json:"private_metadata"`
		Blocks          []struct {
			Type    string `json:"type"`
			Label   *text  `json:"label"`
			Element *struct {
				Type        string `json:"type"`
				ActionID    string `json:"action_id"`
				Placeholder *text  `json:"placeholder"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return "invalid_arguments"
	}
	plain := func(t *text, limit int, required bool) bool {
		if t == nil {
			return !required
		}
		n := len([]rune(t.Text))
		return t.Type == "plain_text" && n >= 1 && n <= limit
	}
	if !plain(v.Title, 24, true) || !plain(v.Submit, 24, false) || !plain(v.Close, 24, false) ||
		len([]rune(v.PrivateMetadata)) > 3000 || len(v.Blocks) > 100 {
		return "invalid_arguments"
	}
	for _, b := range v.Blocks {
		if b.Type != "input" {
			continue
		}
		if !plain(b.Label, 2000, true) || b.Element == nil || b.Element.ActionID == "" ||
			!plain(b.Element.Placeholder, 150, false) {
			return "invalid_arguments"
		}
	}
	return ""
}
