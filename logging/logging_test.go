package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/missionbot/missionbot/logging"
)

// Fake credentials, built by concatenation so no scanner mistakes them for
// real ones.
var (
	slackBot   = "xox" + "b-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	slackUser  = "xox" + "p-1234567890-1234567890123-1234567890123-0123456789abcdef"
	slackApp   = "xap" + "p-1-A0123456789-1234567890123-abcdef0123456789abcdef"
	discordBot = "MTIzNDU2Nzg5MDEyMzQ1Njc4" + ".GaBcDe." + "abcdefghijklmnopqrstuvwxyz0123456789AB"
	signing    = "8f14e45fceea167a5a36dedd4bea2543"
)

type creds struct {
	Team  string
	Token string
}

type credsPtr struct{ C *creds }

type tokenValuer struct{}

func (tokenValuer) LogValue() slog.Value { return slog.StringValue("bearer " + slackBot) }

type jsonOnly struct{}

func (jsonOnly) MarshalJSON() ([]byte, error) { return json.Marshal(map[string]string{"k": signing}) }

func TestRedaction(t *testing.T) {
	tests := []struct {
		name   string
		log    func(l *slog.Logger)
		secret string
		keep   string // a non-secret part that must survive
	}{
		{"message slack bot token", func(l *slog.Logger) { l.Info("token is " + slackBot + " ok") }, slackBot, "token is [redacted] ok"},
		{"message slack user token", func(l *slog.Logger) { l.Info("t=" + slackUser) }, slackUser, "t=[redacted]"},
		{"message slack app token", func(l *slog.Logger) { l.Info("app " + slackApp) }, slackApp, "app [redacted]"},
		{"message discord token", func(l *slog.Logger) { l.Info("Bot " + discordBot) }, discordBot, "Bot [redacted]"},
		{"message configured secret", func(l *slog.Logger) { l.Warn("sig " + signing) }, signing, "sig [redacted]"},
		{"attr value", func(l *slog.Logger) { l.Info("auth", "token", slackBot, "team", "T1") }, slackBot, "T1"},
		{"attr configured secret", func(l *slog.Logger) { l.Info("verify", "secret", signing) }, signing, "verify"},
		{"attr key", func(l *slog.Logger) { l.Info("odd", signing, 1) }, signing, "odd"},
		{"group", func(l *slog.Logger) {
			l.Info("cfg", slog.Group("slack", slog.String("bot_token", slackBot), slog.Bool("enabled", true)))
		}, slackBot, "enabled"},
		{"nested group", func(l *slog.Logger) {
			l.Info("cfg", slog.Group("a", slog.Group("b", slog.String("k", discordBot))))
		}, discordBot, "cfg"},
		{"With attrs", func(l *slog.Logger) { l.With("token", slackApp).Info("connect") }, slackApp, "connect"},
		{"WithGroup then attr", func(l *slog.Logger) { l.WithGroup("discord").Info("connect", "token", discordBot) }, discordBot, "connect"},
		{"error value", func(l *slog.Logger) {
			l.Error("post failed", "err", fmt.Errorf("auth with %s: %w", slackBot, io.EOF))
		}, slackBot, "post failed"},
		{"error in With", func(l *slog.Logger) {
			l.With("err", errors.New("bad secret "+signing)).Error("verify")
		}, signing, "verify"},
		{"fmt %v of a struct in the message", func(l *slog.Logger) {
			l.Info(fmt.Sprintf("creds %v", creds{Team: "T1", Token: slackBot}))
		}, slackBot, "T1"},
		{"struct attr", func(l *slog.Logger) { l.Info("creds", "c", creds{Team: "T1", Token: signing}) }, signing, "T1"},
		{"pointer in struct attr", func(l *slog.Logger) {
			l.Info("creds", "c", credsPtr{C: &creds{Team: "T1", Token: signing}})
		}, signing, "creds"},
		{"LogValuer", func(l *slog.Logger) { l.Info("hdr", "auth", tokenValuer{}) }, slackBot, "bearer [redacted]"},
		{"MarshalJSON only", func(l *slog.Logger) { l.Info("j", "v", jsonOnly{}) }, signing, "j"},
	}
	for _, tt := range tests {
		for _, format := range []string{"json", "text"} {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				tt.log(logging.New(&buf, format, "debug", []string{signing}))
				out := buf.String()
				if strings.Contains(out, tt.secret) {
					t.Fatalf("secret in output:\n%s", out)
				}
				if !strings.Contains(out, logging.Redacted) {
					t.Errorf("no %s in output:\n%s", logging.Redacted, out)
				}
				if !strings.Contains(out, tt.keep) {
					t.Errorf("output lost %q:\n%s", tt.keep, out)
				}
			})
		}
	}
}

func TestNoSecretsUnchanged(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, "json", "info", []string{signing, ""})
	l.Info("pledge recorded", "amount", 1250, "unit", "trees", "c", creds{Team: "T1", Token: "none"}, "err", io.EOF)
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	c, ok := got["c"].(map[string]any)
	if got["msg"] != "pledge recorded" || got["amount"] != 1250.0 || got["unit"] != "trees" || got["err"] != "EOF" ||
		!ok || c["Team"] != "T1" {
		t.Errorf("record changed: %s", buf.String())
	}
}

func TestLevelAndFormat(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, "text", "warn", nil)
	l.Info("hidden")
	l.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.HasPrefix(out, "time=") || !strings.Contains(out, "msg=shown") {
		t.Errorf("text at warn: %q", out)
	}
	buf.Reset()
	logging.New(&buf, "", "nonsense", nil).Info("x")
	if !json.Valid(buf.Bytes()) {
		t.Errorf("default format is not JSON: %q", buf.String())
	}
}

func TestRequestID(t *testing.T) {
	var buf bytes.Buffer
	l := logging.New(&buf, "json", "debug", nil)
	ctx := logging.WithRequestID(context.Background(), "req-42")

	records := func() []map[string]any {
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			out = append(out, m)
		}
		buf.Reset()
		return out
	}

	l.InfoContext(ctx, "with")
	l.With("community", "c1").DebugContext(ctx, "derived")
	l.Log(ctx, slog.LevelWarn, "log")
	for _, r := range records() {
		if r["request_id"] != "req-42" {
			t.Errorf("record %v: request_id = %v, want req-42", r["msg"], r["request_id"])
		}
	}

	l.Info("without")
	l.InfoContext(context.Background(), "background")
	for _, r := range records() {
		if _, ok := r["request_id"]; ok {
			t.Errorf("record %v has a request_id", r["msg"])
		}
	}

	l.WithGroup("g").InfoContext(ctx, "grouped", "k", "v")
	if r := records()[0]; r["g"].(map[string]any)["request_id"] != "req-42" {
		t.Errorf("grouped record: %v", r)
	}

	if got := logging.RequestID(context.Background()); got != "" {
		t.Errorf("RequestID(background) = %q", got)
	}
}

func TestNewRequestID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := logging.NewRequestID()
		if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("NewRequestID() = %q, want 16 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("NewRequestID repeated %q", id)
		}
		seen[id] = true
	}
}
