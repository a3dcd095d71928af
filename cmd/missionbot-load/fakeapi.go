package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// fakeAPI is a minimal stand-in for the Slack Web API or the Discord REST
// API: it answers every call 200 with the smallest JSON of the right shape
// and counts calls by route. Safe for concurrent use.
type fakeAPI struct {
	platform string
	srv      *http.Server
	ln       net.Listener
	ids      atomic.Int64
	mu       sync.Mutex
	calls    map[string]int
}

// startFakeAPI serves the fake for platform on addr ("127.0.0.1:0" for a
// free loopback port).
func startFakeAPI(platform, addr string) (*fakeAPI, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	f := &fakeAPI{platform: platform, ln: ln, calls: map[string]int{}}
	f.ids.Store(time.Now().UnixNano() / 1000)
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// URL is the fake's base URL, without a trailing slash.
func (f *fakeAPI) URL() string { return "http://" + f.ln.Addr().String() }

// Close stops the fake.
func (f *fakeAPI) Close() error { return f.srv.Close() }

// Calls returns a copy of the call counts by route.
func (f *fakeAPI) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.calls))
	for k, v := range f.calls {
		out[k] = v
	}
	return out
}

func (f *fakeAPI) count(route string) {
	f.mu.Lock()
	f.calls[route]++
	f.mu.Unlock()
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if f.platform == platformSlack {
		f.slack(w, r, body)
		return
	}
	f.discord(w, r, body)
}

// slack answers Slack Web API methods (POST /api/<method> or /<method>)
// and response_url posts (/commands/…).
func (f *fakeAPI) slack(w http.ResponseWriter, r *http.Request, body []byte) {
	path := strings.TrimPrefix(r.URL.Path, "/api")
	if strings.HasPrefix(path, "/commands/") {
		f.count("response_url")
		writeJSONBody(w, map[string]any{"ok": true})
		return
	}
	method := strings.TrimPrefix(path, "/")
	f.count(method)
	form := formOf(r, body)
	now := strconv.FormatInt(time.Now().Unix(), 10) + "." + strconv.FormatInt(f.ids.Add(1)%1e6, 10)
	switch method {
	case "auth.test":
		writeJSONBody(w, map[string]any{"ok": true, "url": "https://load.slack.com/", "team": "load", "user": "missionbot",
			"team_id": form.Get("team_id"), "user_id": "UBOTLOAD", "bot_id": "BLOAD"})
	case "users.info":
		id := form.Get("user")
		writeJSONBody(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "name": strings.ToLower(id), "real_name": id,
			"is_admin": strings.HasSuffix(id, "ORG"), "is_bot": false, "tz": "UTC",
			"profile": map[string]any{"display_name": strings.ToLower(id), "real_name": id}}})
	case "chat.postMessage", "chat.postEphemeral", "chat.update":
		writeJSONBody(w, map[string]any{"ok": true, "channel": form.Get("channel"), "ts": now,
			"message": map[string]any{"type": "message", "text": form.Get("text"), "ts": now, "bot_id": "BLOAD"}})
	case "conversations.open":
		writeJSONBody(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + form.Get("users")}})
	case "conversations.history":
		writeJSONBody(w, map[string]any{"ok": true, "messages": []any{}, "has_more": false})
	case "conversations.info":
		writeJSONBody(w, map[string]any{"ok": true, "channel": map[string]any{"id": form.Get("channel"), "name": "general", "is_member": true}})
	default:
		writeJSONBody(w, map[string]any{"ok": true})
	}
}

// discord answers Discord REST routes under /api/v{N}.
func (f *fakeAPI) discord(w http.ResponseWriter, r *http.Request, body []byte) {
	path := r.URL.Path
	if strings.HasPrefix(path, "/api/v") {
		if i := strings.Index(path[len("/api/v"):], "/"); i >= 0 {
			path = path[len("/api/v")+i:]
		}
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	route := r.Method + " /" + parts[0]
	f.count(route)
	id := strconv.FormatInt(f.ids.Add(1), 10)
	switch {
	case r.Method == http.MethodPut && strings.HasSuffix(path, "/commands"):
		// Bulk overwrite: echo the commands with ids.
		var cmds []map[string]any
		_ = json.Unmarshal(body, &cmds)
		for _, c := range cmds {
			c["id"] = strconv.FormatInt(f.ids.Add(1), 10)
			c["version"] = "1"
		}
		if cmds == nil {
			cmds = []map[string]any{}
		}
		writeJSONBody(w, cmds)
	case r.Method == http.MethodGet && parts[0] == "guilds" && len(parts) == 2:
		writeJSONBody(w, map[string]any{"id": parts[1], "name": "Load guild " + parts[1], "owner_id": "1", "roles": []any{}})
	case parts[0] == "users" && len(parts) >= 3 && parts[2] == "channels":
		writeJSONBody(w, map[string]any{"id": id, "type": 1})
	case parts[0] == "users":
		writeJSONBody(w, map[string]any{"id": "900000000000000001", "username": "missionbot", "bot": true})
	case parts[0] == "interactions":
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && parts[0] == "gateway":
		writeJSONBody(w, map[string]any{"url": "ws://127.0.0.1:1", "shards": 1})
	default:
		channel := ""
		if len(parts) >= 2 && parts[0] == "channels" {
			channel = parts[1]
		}
		writeJSONBody(w, map[string]any{"id": id, "channel_id": channel, "type": 0, "content": "",
			"author":    map[string]any{"id": "900000000000000001", "username": "missionbot", "bot": true},
			"timestamp": time.Now().UTC().Format(time.RFC3339Nano)})
	}
}

// formOf merges the query and a urlencoded body.
func formOf(r *http.Request, body []byte) url.Values {
	v, _ := url.ParseQuery(r.URL.RawQuery)
	if b, err := url.ParseQuery(string(body)); err == nil {
		for k, vs := range b {
			v[k] = append(v[k], vs...)
		}
	}
	return v
}

func writeJSONBody(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
