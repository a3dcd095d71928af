// Package fakediscord is a recording fake of the Discord REST API on
// httptest, for tests of the Discord adapter. It answers with Discord's JSON
// shapes, enforces per-route rate limits with Discord's headers and 429 body,
// checks message and command limits the way Discord does (400, code 50035),
// honours nonce + enforce_nonce on message creation, and lets a test inject
// 429s, 5xx and Discord error codes.
//
// Point a discordgo session at it with s.Client = srv.Client(): the client's
// transport rewrites https://discord.com to the fake. discordgo's endpoint
// variables are never reassigned.
package fakediscord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/bwmarrin/discordgo"
)

// Routes, as Calls and the fault knobs name them. Every path also matches
// under any /api/v{N} prefix.
const (
	RouteCreateMessage  = "POST /channels/{channel_id}/messages"
	RouteCreateDM       = "POST /users/@me/channels"
	RouteGetGuild       = "GET /guilds/{guild_id}"
	RouteGlobalCommands = "PUT /applications/{application_id}/commands"
	RouteGuildCommands  = "PUT /applications/{application_id}/guilds/{guild_id}/commands"
	RouteCallback       = "POST /interactions/{interaction_id}/{token}/callback"
	RouteFollowup       = "POST /webhooks/{application_id}/{token}"
	RouteGetOriginal    = "GET /webhooks/{application_id}/{token}/messages/@original"
	RouteEditOriginal   = "PATCH /webhooks/{application_id}/{token}/messages/@original"
	RouteEditFollowup   = "PATCH /webhooks/{application_id}/{token}/messages/{message_id}"
)

// DefaultNonceWindow is how long the fake remembers a nonce for
// enforce_nonce. Discord documents "the past few minutes".
const DefaultNonceWindow = 3 * time.Minute

// BotUserID is the id of the bot user that authors the fake's messages.
const BotUserID = "900000000000000001"

// Call is one request the fake received.
type Call struct {
	Route  string
	Method string
	Path   string
	Header http.Header
	// Body is the JSON body (payload_json for multipart requests).
	Body []byte
	// Files are the attachments of a multipart request.
	Files []File
	// Status is what the fake answered.
	Status int
}

// File is an uploaded attachment.
type File struct {
	Name string
	Data []byte
}

// Message is a message the fake holds.
type Message struct {
	ID        string
	ChannelID string
	Nonce     string
	Created   time.Time
	// Msg is the message as Discord returns it.
	Msg *discordgo.Message
	// Files are the message's attachments, when it was sent multipart.
	Files []File
}

// Fault is a one-shot answer injected for the next request on a route.
type Fault struct {
	Status int
	// Body is sent as JSON; empty means {"code":Code,"message":Message}
	// (or Discord's 429 body for Status 429).
	Body string
	Code int
	// Message is Discord's error message text.
	Message string
	// RetryAfter is the 429 retry_after, in seconds.
	RetryAfter float64
	// Global marks a global 429.
	Global bool
	// AfterEffect makes the request take effect (message created) before the
	// fault is answered: the caller cannot know it landed.
	AfterEffect bool
	// Hang makes the fake hold the request until the client gives up (its
	// context or timeout), after taking effect when AfterEffect is set.
	Hang bool
}

// Limit is a per-route bucket: Requests per Per.
type Limit struct {
	Requests int
	Per      time.Duration
}

// Server is the fake Discord REST API. Its knobs may be set before the
// first request; its methods are safe for concurrent use.
type Server struct {
	// URL is the fake's base URL (http://127.0.0.1:port).
	URL string

	// Now tells the time used for message timestamps and the nonce
	// window; nil means time.Now.
	Now func() time.Time
	// NonceWindow is how long enforce_nonce deduplicates.
	NonceWindow time.Duration
	// Token, when set, is the exact Authorization header bot routes
	// require; otherwise any "Bot …" value is accepted.
	Token string

	srv *httptest.Server

	mu        sync.Mutex
	calls     []Call
	faults    map[string][]Fault
	limits    map[string]Limit
	windows   map[string]*window
	messages  map[string][]*Message
	byNonce   map[string]*Message
	chanErrs  map[string]Fault
	dms       map[string]string
	commands  map[string][]*discordgo.ApplicationCommand
	guilds    map[string]*discordgo.Guild
	answered  map[string]bool
	originals map[string]*Message
	followups map[string][]*Message
	nextID    int64
}

type window struct {
	start time.Time
	used  int
}

// New starts a fake and stops it when t ends.
func New(t testing.TB) *Server {
	s := &Server{
		NonceWindow: DefaultNonceWindow,
		faults:      map[string][]Fault{},
		limits: map[string]Limit{
			RouteCreateMessage:  {Requests: 5, Per: 5 * time.Second},
			RouteCreateDM:       {Requests: 10, Per: 10 * time.Second},
			RouteGlobalCommands: {Requests: 2, Per: 60 * time.Second},
			RouteGuildCommands:  {Requests: 2, Per: 60 * time.Second},
		},
		windows:   map[string]*window{},
		messages:  map[string][]*Message{},
		byNonce:   map[string]*Message{},
		chanErrs:  map[string]Fault{},
		dms:       map[string]string{},
		commands:  map[string][]*discordgo.ApplicationCommand{},
		guilds:    map[string]*discordgo.Guild{},
		answered:  map[string]bool{},
		originals: map[string]*Message{},
		followups: map[string][]*Message{},
		nextID:    1_100_000_000_000_000_000,
	}
	mux := http.NewServeMux()
	for route, h := range map[string]http.HandlerFunc{
		RouteCreateMessage:  s.createMessage,
		RouteCreateDM:       s.createDM,
		RouteGetGuild:       s.getGuild,
		RouteGlobalCommands: s.putCommands,
		RouteGuildCommands:  s.putCommands,
		RouteCallback:       s.callback,
		RouteFollowup:       s.followup,
		RouteGetOriginal:    s.getOriginal,
		RouteEditOriginal:   s.editOriginal,
		RouteEditFollowup:   s.editFollowup,
	} {
		method, path, _ := strings.Cut(route, " ")
		mux.Handle(method+" /api/{version}"+path, s.wrap(route, h))
		mux.Handle(method+" "+path, s.wrap(route, h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "404: Not Found", "code": 0})
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Client returns an HTTP client whose transport sends requests for
// discord.com (and discordapp.com) to the fake. Requests to other hosts fail.
func (s *Server) Client() *http.Client {
	base, _ := url.Parse(s.URL)
	return &http.Client{Transport: &rewrite{base: base, next: s.srv.Client().Transport}}
}

type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

func (rt *rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.URL.Hostname() {
	case "discord.com", "discordapp.com", "www.discord.com":
	default:
		return nil, fmt.Errorf("fakediscord: request to %s is not for Discord", r.URL.Host)
	}
	r2 := r.Clone(r.Context())
	r2.URL.Scheme, r2.URL.Host = rt.base.Scheme, rt.base.Host
	r2.Host = rt.base.Host
	return rt.next.RoundTrip(r2)
}

// Calls returns the requests received on route (one of the Route
// constants), oldest first; an empty route returns every request.
func (s *Server) Calls(route string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if route == "" || c.Route == route {
			out = append(out, c)
		}
	}
	return out
}

// Inject queues f as the answer to the next request on route.
func (s *Server) Inject(route string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], f)
}

// RateLimitNext answers the next request on route with Discord's 429 body
// carrying retryAfter seconds.
func (s *Server) RateLimitNext(route string, retryAfter float64) {
	s.Inject(route, Fault{Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// FailNext answers the next request on route with status and Discord's
// error body {"code":code,"message":message}.
func (s *Server) FailNext(route string, status, code int, message string) {
	s.Inject(route, Fault{Status: status, Code: code, Message: message})
}

// SetLimit sets route's per-bucket limit (buckets are per channel, guild
// or webhook token as on Discord).
func (s *Server) SetLimit(route string, l Limit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[route] = l
}

// SetChannelError makes every message sent to channelID fail with status
// and Discord's code, e.g. 404/10003 "Unknown Channel", 403/50013 "Missing
// Permissions", 403/50007 "Cannot send messages to this user".
func (s *Server) SetChannelError(channelID string, status, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chanErrs[channelID] = Fault{Status: status, Code: code, Message: message}
}

// SetGuild makes GET /guilds/{id} answer g.
func (s *Server) SetGuild(g *discordgo.Guild) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.guilds[g.ID] = g
}

// DMChannel returns the DM channel id the fake gives userID.
func (s *Server) DMChannel(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmLocked(userID)
}

func (s *Server) dmLocked(userID string) string {
	id, ok := s.dms[userID]
	if !ok {
		id = s.newIDLocked()
		s.dms[userID] = id
	}
	return id
}

// Messages returns the messages in channelID, oldest first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages[channelID]))
	for i, m := range s.messages[channelID] {
		out[i] = *m
	}
	return out
}

// Commands returns the commands registered globally (guildID "") or in
// guildID, as last overwritten.
func (s *Server) Commands(appID, guildID string) []*discordgo.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands[appID+"/"+guildID]
}

// Original returns the original response of the interaction with token,
// after a type 4/5/7 callback and any @original edits.
func (s *Server) Original(token string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.originals[token]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Followups returns the follow-up messages of the interaction with token.
func (s *Server) Followups(token string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.followups[token]))
	for i, m := range s.followups[token] {
		out[i] = *m
	}
	return out
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) newIDLocked() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// request is one decoded request, passed to a route handler.
type request struct {
	route string
	call  *Call
	fault *Fault
}

type ctxKey struct{}

// wrap records the call, checks auth, applies the rate limit and injected
// faults, then runs h.
func (s *Server) wrap(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, files, err := readBody(r)
		call := Call{Route: route, Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Files: files}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			call.Status = rec.status
			s.mu.Lock()
			s.calls = append(s.calls, call)
			s.mu.Unlock()
		}()
		if err != nil {
			writeJSON(rec, http.StatusBadRequest, map[string]any{"code": 50109, "message": "The request body contains invalid JSON."})
			return
		}
		if botRoute(route) && !s.authorized(r.Header.Get("Authorization")) {
			writeJSON(rec, http.StatusUnauthorized, map[string]any{"code": 0, "message": "401: Unauthorized"})
			return
		}
		bucket := route + "|" + majorParam(route, r)
		s.mu.Lock()
		var fault *Fault
		if q := s.faults[route]; len(q) > 0 {
			f := q[0]
			s.faults[route] = q[1:]
			fault = &f
		}
		limited, hdr := s.takeLocked(route, bucket)
		s.mu.Unlock()
		for k, v := range hdr {
			rec.Header()[k] = v
		}
		if limited > 0 {
			writeRateLimit(rec, limited, false)
			return
		}
		if fault != nil && !fault.AfterEffect {
			s.answerFault(rec, r, *fault)
			return
		}
		req := &request{route: route, call: &call, fault: fault}
		if fault != nil {
			// The handler takes effect; the fault replaces its answer.
			h(discard{header: http.Header{}}, r.WithContext(withRequest(r, req)))
			s.answerFault(rec, r, *fault)
			return
		}
		h(rec, r.WithContext(withRequest(r, req)))
	})
}

func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, f Fault) {
	if f.Hang {
		<-r.Context().Done()
		return
	}
	switch {
	case f.Status == http.StatusTooManyRequests && f.Body == "":
		ra := f.RetryAfter
		if ra <= 0 {
			ra = 1.5
		}
		writeRateLimit(w, ra, f.Global)
	case f.Body != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
	default:
		writeJSON(w, f.Status, map[string]any{"code": f.Code, "message": f.Message})
	}
}

// takeLocked spends one request of route's bucket and returns the
// rate-limit headers, or the seconds to wait when the bucket is empty.
func (s *Server) takeLocked(route, bucket string) (float64, http.Header) {
	l, ok := s.limits[route]
	if !ok || l.Requests <= 0 || l.Per <= 0 {
		return 0, nil
	}
	now := time.Now()
	win := s.windows[bucket]
	if win == nil || now.Sub(win.start) >= l.Per {
		win = &window{start: now}
		s.windows[bucket] = win
	}
	reset := win.start.Add(l.Per)
	after := math.Max(reset.Sub(now).Seconds(), 0.001)
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(l.Requests))
	h.Set("X-RateLimit-Bucket", fmt.Sprintf("%x", hash(route)))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(reset.UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(after, 'f', 3, 64))
	if win.used >= l.Requests {
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Scope", "user")
		return after, h
	}
	win.used++
	h.Set("X-RateLimit-Remaining", strconv.Itoa(l.Requests-win.used))
	return 0, h
}

func hash(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func writeRateLimit(w http.ResponseWriter, retryAfter float64, global bool) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter))))
	if global {
		w.Header().Set("X-RateLimit-Global", "true")
		w.Header().Set("X-RateLimit-Scope", "global")
	} else {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset-After", strconv.FormatFloat(retryAfter, 'f', 3, 64))
		if w.Header().Get("X-RateLimit-Scope") == "" {
			w.Header().Set("X-RateLimit-Scope", "user")
		}
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": retryAfter, "global": global})
}

func botRoute(route string) bool {
	switch route {
	case RouteCallback, RouteFollowup, RouteGetOriginal, RouteEditOriginal, RouteEditFollowup:
		return false
	}
	return true
}

func (s *Server) authorized(h string) bool {
	if s.Token != "" {
		return h == s.Token
	}
	return strings.HasPrefix(h, "Bot ") && len(h) > len("Bot ")
}

func majorParam(route string, r *http.Request) string {
	switch {
	case strings.Contains(route, "{channel_id}"):
		return r.PathValue("channel_id")
	case strings.Contains(route, "{guild_id}"):
		return r.PathValue("guild_id")
	case strings.Contains(route, "{token}"):
		return r.PathValue("token")
	}
	return ""
}

func readBody(r *http.Request) ([]byte, []File, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return nil, nil, err
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if len(raw) > 0 && !json.Valid(raw) {
			return raw, nil, fmt.Errorf("invalid JSON")
		}
		return raw, nil, nil
	}
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	var body []byte
	var files []File
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return raw, nil, err
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return raw, nil, err
		}
		if p.FormName() == "payload_json" {
			body = data
			continue
		}
		files = append(files, File{Name: p.FileName(), Data: data})
	}
	return body, files, nil
}

func withRequest(r *http.Request, req *request) context.Context {
	return context.WithValue(r.Context(), ctxKey{}, req)
}

func requestOf(r *http.Request) *request {
	req, _ := r.Context().Value(ctxKey{}).(*request)
	return req
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func invalidForm(w http.ResponseWriter, problems []string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50035, "message": "Invalid Form Body", "errors": problems})
}

// messageBody is what Discord accepts to create or edit a message.
type messageBody struct {
	Content      *string           `json:"content"`
	Embeds       []json.RawMessage `json:"embeds"`
	Components   []json.RawMessage `json:"components"`
	Nonce        json.RawMessage   `json:"nonce"`
	EnforceNonce bool              `json:"enforce_nonce"`
	Flags        int               `json:"flags"`
	Attachments  []json.RawMessage `json:"attachments"`
}

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	channel := r.PathValue("channel_id")
	req := requestOf(r)
	s.mu.Lock()
	cerr, bad := s.chanErrs[channel]
	s.mu.Unlock()
	if bad {
		writeJSON(w, cerr.Status, map[string]any{"code": cerr.Code, "message": cerr.Message})
		return
	}
	var body messageBody
	if err := json.Unmarshal(req.call.Body, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50109, "message": "The request body contains invalid JSON."})
		return
	}
	nonce, problems := parseNonce(body.Nonce)
	problems = append(problems, checkMessage(body, len(req.call.Files))...)
	if len(problems) > 0 {
		if len(problems) == 1 && problems[0] == "empty" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50006, "message": "Cannot send an empty message"})
			return
		}
		invalidForm(w, problems)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if nonce != "" && body.EnforceNonce {
		if m, ok := s.byNonce[channel+"|"+nonce]; ok && now.Sub(m.Created) < s.NonceWindow {
			writeJSON(w, http.StatusOK, m.Msg)
			return
		}
	}
	m := s.storeLocked(channel, nonce, req.call.Body, req.call.Files, now)
	s.messages[channel] = append(s.messages[channel], m)
	if nonce != "" {
		s.byNonce[channel+"|"+nonce] = m
	}
	writeJSON(w, http.StatusOK, m.Msg)
}

// storeLocked builds the message Discord would return for body.
func (s *Server) storeLocked(channel, nonce string, body []byte, files []File, now time.Time) *Message {
	id := s.newIDLocked()
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(body, &fields)
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	out := map[string]any{
		"id": id, "channel_id": channel, "type": 0, "tts": false, "pinned": false,
		"mention_everyone": false, "mentions": []any{}, "mention_roles": []any{}, "attachments": []any{},
		"timestamp": now.UTC().Format(time.RFC3339Nano), "edited_timestamp": nil,
		"author":  map[string]any{"id": BotUserID, "username": "missionbot", "discriminator": "0", "bot": true},
		"content": "", "embeds": []any{}, "components": []any{},
	}
	for _, k := range []string{"content", "embeds", "components", "flags"} {
		if v, ok := fields[k]; ok && string(v) != "null" {
			out[k] = v
		}
	}
	if nonce != "" {
		out["nonce"] = nonce
	}
	raw, _ := json.Marshal(out)
	msg := &discordgo.Message{}
	_ = json.Unmarshal(raw, msg)
	return &Message{ID: id, ChannelID: channel, Nonce: nonce, Created: now, Msg: msg, Files: files}
}

func parseNonce(raw json.RawMessage) (string, []string) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", []string{"nonce: must be a string or an integer"}
		}
		s = n.String()
	}
	if len(s) > 25 {
		return s, []string{"nonce: must be 25 characters or fewer"}
	}
	return s, nil
}

// Discord's message limits.
const (
	maxContent     = 2000
	maxEmbeds      = 10
	maxEmbedTotal  = 6000
	maxTitle       = 256
	maxDescription = 4096
	maxFields      = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxFooter      = 2048
	maxRows        = 5
	maxRowButtons  = 5
	maxCustomID    = 100
	maxLabel       = 80
)

// CheckMessage reports what Discord would reject in a message body (JSON
// with content, embeds, components, nonce) sent with files attachments:
// "empty" alone for a message with nothing in it (code 50006), otherwise
// one line per problem (code 50035).
func CheckMessage(body []byte, files int) []string {
	var b messageBody
	if err := json.Unmarshal(body, &b); err != nil {
		return []string{"body: invalid JSON"}
	}
	_, p := parseNonce(b.Nonce)
	return append(p, checkMessage(b, files)...)
}

// Len is a string's length as Discord counts it (UTF-16 code units).
func Len(s string) int { return len(utf16.Encode([]rune(s))) }

func checkMessage(b messageBody, files int) []string {
	var p []string
	content := ""
	if b.Content != nil {
		content = *b.Content
	}
	if content == "" && len(b.Embeds) == 0 && len(b.Components) == 0 && files == 0 {
		return []string{"empty"}
	}
	if Len(content) > maxContent {
		p = append(p, fmt.Sprintf("content: must be %d or fewer in length", maxContent))
	}
	if len(b.Embeds) > maxEmbeds {
		p = append(p, fmt.Sprintf("embeds: must be %d or fewer in length", maxEmbeds))
	}
	total := 0
	for i, raw := range b.Embeds {
		var e discordgo.MessageEmbed
		if err := json.Unmarshal(raw, &e); err != nil {
			p = append(p, fmt.Sprintf("embeds.%d: invalid", i))
			continue
		}
		n, ep := checkEmbed(e)
		total += n
		for _, s := range ep {
			p = append(p, fmt.Sprintf("embeds.%d.%s", i, s))
		}
	}
	if total > maxEmbedTotal {
		p = append(p, fmt.Sprintf("embeds: total size %d exceeds %d", total, maxEmbedTotal))
	}
	p = append(p, checkComponents(b.Components)...)
	return p
}

func checkEmbed(e discordgo.MessageEmbed) (int, []string) {
	var p []string
	n := Len(e.Title) + Len(e.Description)
	if Len(e.Title) > maxTitle {
		p = append(p, "title: too long")
	}
	if Len(e.Description) > maxDescription {
		p = append(p, "description: too long")
	}
	if len(e.Fields) > maxFields {
		p = append(p, "fields: too many")
	}
	for i, f := range e.Fields {
		n += Len(f.Name) + Len(f.Value)
		if f.Name == "" || Len(f.Name) > maxFieldName {
			p = append(p, fmt.Sprintf("fields.%d.name: must be 1-%d", i, maxFieldName))
		}
		if f.Value == "" || Len(f.Value) > maxFieldValue {
			p = append(p, fmt.Sprintf("fields.%d.value: must be 1-%d", i, maxFieldValue))
		}
	}
	if e.Footer != nil {
		n += Len(e.Footer.Text)
		if Len(e.Footer.Text) > maxFooter {
			p = append(p, "footer.text: too long")
		}
	}
	if e.Author != nil {
		n += Len(e.Author.Name)
	}
	return n, p
}

type rawComponent struct {
	Type       int            `json:"type"`
	CustomID   string         `json:"custom_id"`
	Label      string         `json:"label"`
	Style      int            `json:"style"`
	URL        string         `json:"url"`
	Emoji      map[string]any `json:"emoji"`
	Components []rawComponent `json:"components"`
}

func checkComponents(rows []json.RawMessage) []string {
	var p []string
	if len(rows) > maxRows {
		p = append(p, fmt.Sprintf("components: must be %d or fewer in length", maxRows))
	}
	seen := map[string]bool{}
	for i, raw := range rows {
		var row rawComponent
		if err := json.Unmarshal(raw, &row); err != nil || row.Type != 1 {
			p = append(p, fmt.Sprintf("components.%d: top-level components must be action rows", i))
			continue
		}
		if len(row.Components) == 0 || len(row.Components) > maxRowButtons {
			p = append(p, fmt.Sprintf("components.%d.components: must be 1-%d", i, maxRowButtons))
		}
		for j, c := range row.Components {
			at := fmt.Sprintf("components.%d.components.%d", i, j)
			if c.Type != 2 {
				continue
			}
			if c.Label == "" && c.Emoji == nil {
				p = append(p, at+": a button needs a label or an emoji")
			}
			if Len(c.Label) > maxLabel {
				p = append(p, at+".label: too long")
			}
			if c.Style == 5 {
				continue
			}
			if c.CustomID == "" || Len(c.CustomID) > maxCustomID {
				p = append(p, at+".custom_id: must be 1-100 in length")
			}
			if seen[c.CustomID] {
				p = append(p, at+".custom_id: component custom id cannot be duplicated")
			}
			seen[c.CustomID] = true
		}
	}
	return p
}

func (s *Server) createDM(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := json.Unmarshal(requestOf(r).call.Body, &body); err != nil || body.RecipientID == "" {
		invalidForm(w, []string{"recipient_id: required"})
		return
	}
	s.mu.Lock()
	id := s.dmLocked(body.RecipientID)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "type": 1, "last_message_id": nil, "flags": 0,
		"recipients": []any{map[string]any{"id": body.RecipientID, "username": "user" + body.RecipientID, "discriminator": "0"}},
	})
}

func (s *Server) getGuild(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	g, ok := s.guilds[r.PathValue("guild_id")]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"code": 10004, "message": "Unknown Guild"})
		return
	}
	writeJSON(w, http.StatusOK, g)
}

var commandName = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

func (s *Server) putCommands(w http.ResponseWriter, r *http.Request) {
	var cmds []*discordgo.ApplicationCommand
	if err := json.Unmarshal(requestOf(r).call.Body, &cmds); err != nil {
		invalidForm(w, []string{"body: must be an array of commands"})
		return
	}
	if p := CheckCommands(cmds); len(p) > 0 {
		invalidForm(w, p)
		return
	}
	app, guild := r.PathValue("application_id"), r.PathValue("guild_id")
	s.mu.Lock()
	for _, c := range cmds {
		c.ID, c.ApplicationID, c.GuildID, c.Version = s.newIDLocked(), app, guild, s.newIDLocked()
	}
	s.commands[app+"/"+guild] = cmds
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, cmds)
}

// CheckCommands reports what Discord would reject in a bulk overwrite of
// chat-input commands: names (lowercase, ^[-_'\p{L}\p{N}]{1,32}$ and
// unique), descriptions (1–100), at most 100 commands, 25 options or
// subcommands, 25 choices, required options before optional ones, and at
// most 4,000 characters of names, descriptions and choice values per
// command (Discord's documented figure; it has been raised since, so this
// is the conservative bound).
func CheckCommands(cmds []*discordgo.ApplicationCommand) []string {
	var p []string
	if len(cmds) > 100 {
		p = append(p, "at most 100 commands")
	}
	names := map[string]bool{}
	for i, c := range cmds {
		at := fmt.Sprintf("%d(%s)", i, c.Name)
		if names[c.Name] {
			p = append(p, at+".name: duplicate")
		}
		names[c.Name] = true
		p = append(p, checkName(at, c.Name)...)
		p = append(p, checkDescription(at, c.Description)...)
		total := Len(c.Name) + Len(c.Description)
		n, op := checkOptions(at, c.Options, 0)
		p = append(p, op...)
		if total+n > 4000 {
			p = append(p, fmt.Sprintf("%s: %d characters, over 4000", at, total+n))
		}
	}
	return p
}

func checkName(at, name string) []string {
	if !commandName.MatchString(name) || strings.ToLower(name) != name {
		return []string{at + ".name: must match ^[-_'\\p{L}\\p{N}]{1,32}$ in lowercase"}
	}
	return nil
}

func checkDescription(at, d string) []string {
	if n := len([]rune(d)); n < 1 || n > 100 {
		return []string{fmt.Sprintf("%s.description: must be 1-100 characters, got %d", at, n)}
	}
	return nil
}

func checkOptions(at string, opts []*discordgo.ApplicationCommandOption, depth int) (int, []string) {
	var p []string
	total := 0
	if len(opts) > 25 {
		p = append(p, at+".options: at most 25")
	}
	names := map[string]bool{}
	optional := false
	for i, o := range opts {
		oat := fmt.Sprintf("%s.options.%d(%s)", at, i, o.Name)
		if names[o.Name] {
			p = append(p, oat+".name: duplicate")
		}
		names[o.Name] = true
		p = append(p, checkName(oat, o.Name)...)
		p = append(p, checkDescription(oat, o.Description)...)
		total += Len(o.Name) + Len(o.Description)
		switch o.Type {
		case discordgo.ApplicationCommandOptionSubCommand, discordgo.ApplicationCommandOptionSubCommandGroup:
			if depth > 1 || (o.Type == discordgo.ApplicationCommandOptionSubCommandGroup && depth > 0) {
				p = append(p, oat+": subcommands nest too deep")
			}
			n, sp := checkOptions(oat, o.Options, depth+1)
			total += n
			p = append(p, sp...)
			continue
		}
		if o.Required && optional {
			p = append(p, oat+": required options must be placed before non-required options")
		}
		if !o.Required {
			optional = true
		}
		if len(o.Choices) > 25 {
			p = append(p, oat+".choices: at most 25")
		}
		if len(o.Choices) > 0 && o.Autocomplete {
			p = append(p, oat+": autocomplete and choices are exclusive")
		}
		for j, ch := range o.Choices {
			v := fmt.Sprint(ch.Value)
			total += Len(ch.Name) + Len(v)
			if Len(ch.Name) < 1 || Len(ch.Name) > 100 || Len(v) > 100 {
				p = append(p, fmt.Sprintf("%s.choices.%d: name and value must be 1-100", oat, j))
			}
		}
	}
	return total, p
}

type callbackBody struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data"`
}

func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	var body callbackBody
	if err := json.Unmarshal(requestOf(r).call.Body, &body); err != nil || body.Type == 0 {
		invalidForm(w, []string{"type: required"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.PathValue("interaction_id")
	if s.answered[key] {
		writeJSON(w, http.StatusBadRequest, map[string]any{"code": 40060, "message": "Interaction has already been acknowledged."})
		return
	}
	switch body.Type {
	case 4, 5, 6, 7:
		if len(body.Data) > 0 && body.Type == 4 {
			var mb messageBody
			_ = json.Unmarshal(body.Data, &mb)
			if p := checkMessage(mb, len(requestOf(r).call.Files)); len(p) > 0 {
				invalidForm(w, p)
				return
			}
		}
		data := body.Data
		if len(data) == 0 {
			data = []byte("{}")
		}
		s.originals[token] = s.storeLocked("", "", data, requestOf(r).call.Files, s.now())
	case 8, 9:
	default:
		invalidForm(w, []string{"type: invalid interaction callback type"})
		return
	}
	s.answered[key] = true
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) followup(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	body := requestOf(r).call.Body
	var mb messageBody
	_ = json.Unmarshal(body, &mb)
	if p := checkMessage(mb, len(requestOf(r).call.Files)); len(p) > 0 {
		if len(p) == 1 && p[0] == "empty" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"code": 50006, "message": "Cannot send an empty message"})
			return
		}
		invalidForm(w, p)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.storeLocked("", "", body, requestOf(r).call.Files, s.now())
	s.followups[token] = append(s.followups[token], m)
	writeJSON(w, http.StatusOK, m.Msg)
}

func (s *Server) getOriginal(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	m, ok := s.originals[r.PathValue("token")]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"code": 10008, "message": "Unknown Message"})
		return
	}
	writeJSON(w, http.StatusOK, m.Msg)
}

func (s *Server) editOriginal(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.originals[token]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"code": 10008, "message": "Unknown Message"})
		return
	}
	s.originals[token] = s.editLocked(w, r, m)
}

func (s *Server) editFollowup(w http.ResponseWriter, r *http.Request) {
	token, id := r.PathValue("token"), r.PathValue("message_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.followups[token] {
		if m.ID == id {
			s.followups[token][i] = s.editLocked(w, r, m)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"code": 10008, "message": "Unknown Message"})
}

// editLocked applies a PATCH body to m and answers with the edited message.
func (s *Server) editLocked(w http.ResponseWriter, r *http.Request, m *Message) *Message {
	req := requestOf(r)
	var cur map[string]json.RawMessage
	raw, _ := json.Marshal(m.Msg)
	_ = json.Unmarshal(raw, &cur)
	var patch map[string]json.RawMessage
	_ = json.Unmarshal(req.call.Body, &patch)
	for k, v := range patch {
		cur[k] = v
	}
	merged, _ := json.Marshal(cur)
	var mb messageBody
	_ = json.Unmarshal(merged, &mb)
	if p := checkMessage(mb, len(req.call.Files)+len(m.Files)); len(p) > 0 && p[0] != "empty" {
		invalidForm(w, p)
		return m
	}
	msg := &discordgo.Message{}
	_ = json.Unmarshal(merged, msg)
	msg.ID, msg.ChannelID = m.ID, m.ChannelID
	now := s.now()
	msg.EditedTimestamp = &now
	files := m.Files
	if len(req.call.Files) > 0 {
		files = append(append([]File(nil), files...), req.call.Files...)
	}
	out := &Message{ID: m.ID, ChannelID: m.ChannelID, Nonce: m.Nonce, Created: m.Created, Msg: msg, Files: files}
	writeJSON(w, http.StatusOK, msg)
	return out
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}
