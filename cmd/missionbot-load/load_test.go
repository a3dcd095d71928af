package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestParseMix(t *testing.T) {
	mix, err := parseMix("pledge=2, log ,impact=0")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for n := range int64(6) {
		kinds = append(kinds, pick(mix, n))
	}
	if got := strings.Join(kinds, " "); got != "pledge pledge log pledge pledge log" {
		t.Errorf("order %q", got)
	}
	for _, bad := range []string{"", "dance", "pledge=x", "pledge=-1", "impact=0"} {
		if _, err := parseMix(bad); err == nil {
			t.Errorf("parseMix(%q) accepted", bad)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		platform, body string
		deferred       bool
		err            bool
	}{
		{platformSlack, ``, true, false},
		{platformSlack, `{"response_type":"ephemeral","text":"Pledged 1 tree to Load trees"}`, false, false},
		{platformSlack, `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"Something went wrong (ref 7f3a)"}}]}`, false, true},
		{platformSlack, `{"text":"You're going a little fast. Please try again in 3s."}`, false, true},
		{platformDiscord, `{"type":5,"data":{"flags":64}}`, true, false},
		{platformDiscord, `{"type":4,"data":{"embeds":[{"title":"Pledged","description":"1 tree"}]}}`, false, false},
		{platformDiscord, `{"type":4,"data":{"content":"Something went wrong (ref 1)"}}`, false, true},
		{platformSlack, `ok`, false, false},
	} {
		d, reason := classify(tc.platform, []byte(tc.body))
		if d != tc.deferred || (reason != "") != tc.err {
			t.Errorf("classify(%s, %s) = %v %q, want deferred %v error %v", tc.platform, tc.body, d, reason, tc.deferred, tc.err)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add(`{"type":4,"data":{"content":"x"}}`)
	f.Add(`{"text":"Something went wrong"}`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		classify(platformDiscord, []byte(body))
		classify(platformSlack, []byte(body))
	})
}

func FuzzParseMix(f *testing.F) {
	f.Add("pledge=4,log=3,win=1,impact=2")
	f.Add("win")
	f.Fuzz(func(t *testing.T, s string) {
		mix, err := parseMix(s)
		if err != nil {
			return
		}
		for n := range int64(20) {
			if _, err := mixCommand(pick(mix, n), n); err != nil {
				t.Fatalf("parseMix(%q) let through %v", s, err)
			}
		}
	})
}

func TestPayloadsCarryTheCommand(t *testing.T) {
	cfg := &loadConfig{Platforms: []string{platformSlack, platformDiscord}, RunID: "123456"}
	cmd, _ := mixCommand("pledge", 3)

	slack := cfg.actorFor(0, 4)
	form, err := url.ParseQuery(string(slackForm(slack, cmd, 77, "http://fake")))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("command") != "/pledge" || form.Get("text") != "1 tree to trees" || form.Get("team_id") != "TL12345600000" ||
		!strings.HasPrefix(form.Get("trigger_id"), "77.") || !strings.HasPrefix(form.Get("response_url"), "http://fake/commands/") {
		t.Errorf("slack form %v", form)
	}

	discord := cfg.actorFor(1, 0)
	var i struct {
		ID      string `json:"id"`
		GuildID string `json:"guild_id"`
		Member  struct {
			Permissions string `json:"permissions"`
		} `json:"member"`
		Data struct {
			Name    string `json:"name"`
			Options []struct {
				Name    string `json:"name"`
				Type    int    `json:"type"`
				Options []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"options"`
			} `json:"options"`
		} `json:"data"`
	}
	raw, err := discordInteraction(discord, cmd, 78, "1")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &i); err != nil {
		t.Fatal(err)
	}
	if i.ID != "78" || i.GuildID != "112345600001" || i.Data.Name != "pledge" || len(i.Data.Options) != 1 ||
		i.Data.Options[0].Name != "add" || i.Data.Options[0].Type != 1 || len(i.Data.Options[0].Options) != 3 {
		t.Errorf("discord interaction %+v", i)
	}
	if i.Member.Permissions != "3104" { // organiser: view, send, manage server
		t.Errorf("organiser permissions %s", i.Member.Permissions)
	}
}

// TestPGProxyCountsQueriesAndExecutes feeds a startup message (after an
// SSL request) and typed messages through the counter.
func TestPGProxyCountsQueriesAndExecutes(t *testing.T) {
	var in bytes.Buffer
	untyped := func(code uint32, extra string) {
		b := make([]byte, 8)
		binary.BigEndian.PutUint32(b, uint32(8+len(extra)))
		binary.BigEndian.PutUint32(b[4:], code)
		in.Write(append(b, extra...))
	}
	typed := func(t byte, payload string) {
		b := []byte{t, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[1:], uint32(4+len(payload)))
		in.Write(append(b, payload...))
	}
	untyped(pgSSLRequest, "")
	untyped(196608, "user\x00mb\x00\x00")
	typed('Q', "BEGIN\x00")
	typed('P', "\x00INSERT …\x00\x00\x00")
	typed('B', "\x00\x00\x00\x00\x00\x00\x00\x00")
	typed('E', "\x00\x00\x00\x00\x00")
	typed('S', "")
	typed('E', "\x00\x00\x00\x00\x00")
	typed('Q', "COMMIT\x00")
	want := in.Bytes()
	var out bytes.Buffer
	var n atomic.Int64
	_ = countMessages(bufio.NewReader(bytes.NewReader(want)), &out, &n)
	if n.Load() != 4 {
		t.Errorf("counted %d statements, want 4", n.Load())
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Error("the proxy changed the bytes it forwarded")
	}
}

func TestParseBench(t *testing.T) {
	out := `goos: linux
BenchmarkDigestBuild/contributions=10000-2         	       3	 187262164 ns/op
BenchmarkFanout-2   	       1	57740728644 ns/op
BenchmarkX 	 10	 12.5 ns/op	 0 B/op
PASS`
	rows := parseBench(out)
	if len(rows) != 3 || rows[0].Name != "BenchmarkDigestBuild/contributions=10000" || rows[0].N != 3 || rows[0].Op != 187262164 ||
		rows[1].Name != "BenchmarkFanout" || rows[1].Op != 57740728644 || rows[2].Name != "BenchmarkX" {
		t.Errorf("parseBench = %+v", rows)
	}
}
