package fault

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SignSlack returns Slack's v0 signature of body sent at timestamp (Unix
// seconds): "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
// It is written here, not imported from the adapter, so the suite checks
// the adapter against Slack's scheme rather than against itself.
func SignSlack(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Slash is one slash command invocation as Slack posts it.
type Slash struct {
	Team, User, Channel string
	Command             string // with its slash: "/pledge"
	Text                string
	// TriggerID is unique per invocation; a redelivery repeats it.
	TriggerID string
	// ResponseURL is where a deferred answer goes (SlackFake.ResponseURL).
	ResponseURL string
}

// Form returns the form body Slack would post for s.
func (s Slash) Form() []byte {
	v := url.Values{}
	v.Set("token", "legacy-verification-token")
	v.Set("team_id", s.Team)
	v.Set("team_domain", strings.ToLower(s.Team))
	v.Set("channel_id", s.Channel)
	v.Set("channel_name", strings.ToLower(s.Channel))
	v.Set("user_id", s.User)
	v.Set("user_name", strings.ToLower(s.User))
	v.Set("command", s.Command)
	v.Set("text", s.Text)
	v.Set("api_app_id", "AFAKE")
	v.Set("is_enterprise_install", "false")
	v.Set("response_url", s.ResponseURL)
	v.Set("trigger_id", s.TriggerID)
	return []byte(v.Encode())
}

// Ack is a replica's HTTP answer to one slash command.
type Ack struct {
	Status int
	Body   string
	// Text is every "text" value found in the JSON body (message text and
	// Block Kit text), joined by newlines; empty for an empty 200.
	Text string
	Took time.Duration
	Err  error // transport error or the client's timeout
}

// SlackClient posts slash commands signed with the signing secret, timed
// out as Slack times them out (3 s). It is safe for concurrent use.
type SlackClient struct {
	Secret string
	HTTP   *http.Client
}

// NewSlackClient returns a client signing with secret, giving up on an
// answer after 3 s as Slack does.
func NewSlackClient(secret string) *SlackClient {
	return &SlackClient{Secret: secret, HTTP: &http.Client{Timeout: 3 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}}}
}

// Command posts s to base + "/slack/commands", signed with the current time.
func (c *SlackClient) Command(ctx context.Context, base string, s Slash) Ack {
	return c.post(ctx, base+"/slack/commands", "application/x-www-form-urlencoded", s.Form(), nil)
}

// Event posts a signed Events API body to base + "/slack/events", with
// extra headers (X-Slack-Retry-Num…).
func (c *SlackClient) Event(ctx context.Context, base string, body []byte, header http.Header) Ack {
	return c.post(ctx, base+"/slack/events", "application/json", body, header)
}

func (c *SlackClient) post(ctx context.Context, u, ctype string, body []byte, header http.Header) Ack {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return Ack{Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", SignSlack(c.Secret, ts, body))
	start := time.Now()
	res, err := c.HTTP.Do(req)
	if err != nil {
		return Ack{Err: err, Took: time.Since(start)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	a := Ack{Status: res.StatusCode, Body: string(b), Took: time.Since(start), Err: err}
	a.Text = JSONText(b)
	return a
}

// JSONText returns every string under a "text" key anywhere in the JSON b,
// joined by newlines; b itself when it is not JSON.
func JSONText(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "text" {
					out = append(out, s)
				} else {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}
