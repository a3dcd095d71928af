package slack

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// slackVector reads Slack's worked signing example from the shared testdata.
func slackVector(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../../testdata/platforms/slack/slack_signing_vector.txt")
	if err != nil {
		t.Fatalf("signing vector not available: %v", err)
	}
	defer f.Close()
	v := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if k, val, ok := strings.Cut(line, "="); ok {
			v[k] = val
		}
	}
	return v
}

func TestSignMatchesSlacksWorkedExample(t *testing.T) {
	v := slackVector(t)
	got := Sign(v["signing_secret"], v["X-Slack-Request-Timestamp"], []byte(v["body"]))
	if got != v["X-Slack-Signature"] {
		t.Fatalf("Sign = %s, want Slack's %s", got, v["X-Slack-Signature"])
	}
}

func TestVerifierAcceptsSlacksExampleAtItsTime(t *testing.T) {
	v := slackVector(t)
	sec, _ := strconv.ParseInt(v["X-Slack-Request-Timestamp"], 10, 64)
	ver := verifier{secret: v["signing_secret"], now: func() time.Time { return time.Unix(sec+60, 0) }, maxBody: DefaultMaxBody}
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(v["body"]))
	r.Header.Set(headerTimestamp, v["X-Slack-Request-Timestamp"])
	r.Header.Set(headerSignature, v["X-Slack-Signature"])
	body, err := ver.read(r)
	if err != nil || string(body) != v["body"] {
		t.Fatalf("read = %q, %v; want the body", body, err)
	}
}

func TestVerifierRefusals(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ver := verifier{secret: "s3cret", now: func() time.Time { return now }, maxBody: 1024}
	body := []byte("command=%2Fpledge&text=10")
	ts := strconv.FormatInt(now.Unix(), 10)
	cases := []struct {
		name   string
		body   []byte
		ts     string
		sig    string
		reason string
	}{
		{"good", body, ts, Sign("s3cret", ts, body), ""},
		{"wrong secret", body, ts, Sign("other", ts, body), RejectSignature},
		{"tampered body", append([]byte("x"), body...), ts, Sign("s3cret", ts, body), RejectSignature},
		{"no signature", body, ts, "", RejectSignature},
		{"no timestamp", body, "", Sign("s3cret", "", body), RejectSignature},
		{"bad timestamp", body, "soon", Sign("s3cret", "soon", body), RejectSignature},
		{"six minutes old", body, strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10), Sign("s3cret", strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10), body), RejectStale},
		{"six minutes ahead", body, strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), Sign("s3cret", strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10), body), RejectStale},
		{"too large", bytes.Repeat([]byte("a"), 1025), ts, Sign("s3cret", ts, bytes.Repeat([]byte("a"), 1025)), RejectTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(c.body))
			r.Header.Set(headerTimestamp, c.ts)
			r.Header.Set(headerSignature, c.sig)
			_, err := ver.read(r)
			switch {
			case c.reason == "" && err != nil:
				t.Fatalf("refused a good request: %v", err)
			case c.reason != "" && err == nil:
				t.Fatal("accepted")
			case c.reason != "" && rejectReason(err) != c.reason:
				t.Fatalf("reason %s, want %s", rejectReason(err), c.reason)
			}
		})
	}
}

func TestVerifierWithoutSecretRefusesEverything(t *testing.T) {
	now := time.Now()
	ver := verifier{now: func() time.Time { return now }, maxBody: 1024}
	ts := strconv.FormatInt(now.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader("{}"))
	r.Header.Set(headerTimestamp, ts)
	r.Header.Set(headerSignature, Sign("", ts, []byte("{}")))
	if _, err := ver.read(r); err == nil {
		t.Fatal("an empty secret verified a request")
	}
}
