package fault_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/fault"
)

// These tests check the suite's own tools; they need no server and always run.

func TestSignSlackMatchesSlacksWorkedExample(t *testing.T) {
	raw, err := os.ReadFile("../testdata/platforms/slack/slack_signing_vector.txt")
	if err != nil {
		t.Skipf("Slack's signing vector is not here: %v", err)
	}
	v := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, val, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			v[k] = val
		}
	}
	got := fault.SignSlack(v["signing_secret"], v["X-Slack-Request-Timestamp"], []byte(v["body"]))
	if got != v["X-Slack-Signature"] {
		t.Fatalf("SignSlack = %s, want Slack's %s", got, v["X-Slack-Signature"])
	}
}

func TestSlashFormIsWhatSlackPosts(t *testing.T) {
	sl := fault.Slash{Team: "T1", User: "U1", Channel: "C1", Command: "/pledge", Text: "10 trees to trees",
		TriggerID: "1.2.3", ResponseURL: "http://127.0.0.1:1/response/1.2.3"}
	f, err := url.ParseQuery(string(sl.Form()))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"team_id": "T1", "user_id": "U1", "channel_id": "C1", "command": "/pledge",
		"text": "10 trees to trees", "trigger_id": "1.2.3", "response_url": sl.ResponseURL} {
		if f.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, f.Get(k), want)
		}
	}
}

// echo starts a line echo server and returns its address.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func TestGateHoldsUntilOpened(t *testing.T) {
	g := fault.StartGate(t, echo(t))
	c, err := net.Dial("tcp", g.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(s string) (string, error) {
		if _, err := io.WriteString(c, s+"\n"); err != nil {
			return "", err
		}
		return r.ReadString('\n')
	}
	if got, err := roundTrip("one"); err != nil || got != "one\n" {
		t.Fatalf("open gate: %q, %v", got, err)
	}
	g.Hold()
	if err := c.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip("two"); err == nil {
		t.Fatalf("held gate let %q through", got)
	}
	g.Open()
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, err := r.ReadString('\n'); err != nil || got != "two\n" {
		t.Fatalf("after opening, the held line: %q, %v", got, err)
	}
}

func post(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func TestSlackFakeStoresInjectsAndLooksUp(t *testing.T) {
	f := fault.StartSlackFake(t, "xoxb-t")
	api := f.APIURL()
	if _, body := post(t, api+"chat.postMessage", url.Values{"token": {"xoxb-wrong"}, "channel": {"C1"}}); body["error"] != "invalid_auth" {
		t.Fatalf("wrong token: %v", body)
	}
	meta := `{"event_type":"missionbot_post","event_payload":{"key":"mbo-42"}}`
	if code, body := post(t, api+"chat.postMessage", url.Values{"token": {"xoxb-t"}, "channel": {"C1"}, "text": {"hi"}, "metadata": {meta}}); code != 200 || body["ok"] != true {
		t.Fatalf("post: %d %v", code, body)
	}
	f.Inject(func(c fault.Call) *fault.Fault {
		if c.Method == "chat.postMessage" {
			return &fault.Fault{Status: http.StatusInternalServerError, Posted: true}
		}
		return nil
	})
	if code, _ := post(t, api+"chat.postMessage", url.Values{"token": {"xoxb-t"}, "channel": {"C1"}, "metadata": {strings.Replace(meta, "42", "43", 1)}}); code != 500 {
		t.Fatalf("injected 500: got %d", code)
	}
	f.Inject(nil)
	if got := f.KeyCounts(); got["mbo-42"] != 1 || got["mbo-43"] != 1 {
		t.Fatalf("key counts %v, want mbo-42 and mbo-43 once each (a 500 after storing still stores)", got)
	}
	_, hist := post(t, api+"conversations.history", url.Values{"token": {"xoxb-t"}, "channel": {"C1"}, "include_all_metadata": {"true"}})
	if msgs, _ := hist["messages"].([]any); len(msgs) != 2 || !strings.Contains(jsonOf(msgs[0]), "mbo-43") {
		t.Fatalf("history newest first with metadata: %v", hist)
	}
	if code, _ := post(t, f.ResponseURL("r1"), url.Values{"text": {"done"}}); code != 200 {
		t.Fatalf("response_url: %d", code)
	}
	if text, ok := f.WaitResponse("r1", time.Second); !ok || text != "done" {
		t.Fatalf("response r1: %q %v", text, ok)
	}
}

func TestSlackFakeHeldPostFromAGoneSenderIsNotStored(t *testing.T) {
	f := fault.StartSlackFake(t, "xoxb-t")
	f.HoldPosts()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.APIURL()+"chat.postMessage",
			strings.NewReader(url.Values{"token": {"xoxb-t"}, "channel": {"C1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	if f.WaitHeld(1, 5*time.Second) != 1 {
		t.Fatal("the post was never held")
	}
	cancel() // the sender dies
	<-done
	if f.WaitGone(1, 5*time.Second) != 1 {
		t.Fatal("the fake never noticed the sender went away")
	}
	f.ReleasePosts()
	if code, _ := post(t, f.APIURL()+"chat.postMessage", url.Values{"token": {"xoxb-t"}, "channel": {"C2"}}); code != 200 {
		t.Fatalf("post after release: %d", code)
	}
	posts := f.Posts()
	if len(posts) != 1 || posts[0].Channel != "C2" {
		t.Fatalf("posts %+v, want only the one after release", posts)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func FuzzJSONText(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"text":"hi"}`, `{"blocks":[{"text":{"text":"a"}}]}`, `not json`, `[1,"x",{"text":2}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := fault.JSONText([]byte(s))
		var v any
		if json.Unmarshal([]byte(s), &v) != nil && strings.TrimSpace(s) != "" && out != s {
			t.Fatalf("non-JSON %q came back as %q", s, out)
		}
	})
}
