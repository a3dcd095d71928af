// Package logtest gives tests a logger that writes to the test log and fails
// the test when a secret would have been logged.
package logtest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/missionbot/missionbot/logging"
)

// New returns a debug-level logger that writes each record, redacted as
// logging.New would, to t.Log. Before redaction it renders the record as
// both JSON and text (with the attributes and groups the logger carries) and
// fails t with t.Errorf when either holds one of secrets, so a leak is caught
// even where redaction would have hidden it. Records logged after the test
// has finished are dropped unchecked. The logger is safe for concurrent use.
func New(t testing.TB, secrets ...string) *slog.Logger {
	t.Helper()
	st := &state{t: t}
	for _, s := range secrets {
		if s != "" {
			st.secrets = append(st.secrets, s)
		}
	}
	t.Cleanup(func() {
		st.mu.Lock()
		st.done = true
		st.mu.Unlock()
	})
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	h := &checker{
		st:   st,
		json: slog.NewJSONHandler(&st.raw, opts),
		text: slog.NewTextHandler(&st.raw, opts),
		next: logging.NewHandler(slog.NewTextHandler(testWriter{st}, opts), secrets),
	}
	return slog.New(h)
}

// state is shared by a logger and every logger derived from it.
type state struct {
	t       testing.TB
	secrets []string

	mu   sync.Mutex // guards raw, done and calls on t
	raw  bytes.Buffer
	done bool
}

// testWriter writes to t.Log. It is only called from checker.Handle, which
// holds state.mu.
type testWriter struct{ st *state }

func (w testWriter) Write(p []byte) (int, error) {
	if !w.st.done {
		w.st.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// checker renders records unredacted into state.raw, checks them for
// secrets, then passes them to next.
type checker struct {
	st         *state
	json, text slog.Handler
	next       slog.Handler
}

func (c *checker) Enabled(ctx context.Context, l slog.Level) bool {
	return c.next.Enabled(ctx, l)
}

func (c *checker) Handle(ctx context.Context, r slog.Record) error {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	if c.st.done {
		return nil
	}
	c.st.raw.Reset()
	_ = c.json.Handle(ctx, r.Clone())
	_ = c.text.Handle(ctx, r.Clone())
	raw := c.st.raw.String()
	for _, s := range c.st.secrets {
		if strings.Contains(raw, s) {
			c.st.t.Errorf("logtest: a secret (%s) was logged in record %q", mask(s), c.st.hide(r.Message))
		}
	}
	return c.next.Handle(ctx, r)
}

func (c *checker) WithAttrs(as []slog.Attr) slog.Handler {
	return &checker{st: c.st, json: c.json.WithAttrs(as), text: c.text.WithAttrs(as), next: c.next.WithAttrs(as)}
}

func (c *checker) WithGroup(name string) slog.Handler {
	return &checker{st: c.st, json: c.json.WithGroup(name), text: c.text.WithGroup(name), next: c.next.WithGroup(name)}
}

// hide returns s with every secret replaced by "[secret]".
func (st *state) hide(s string) string {
	for _, v := range st.secrets {
		s = strings.ReplaceAll(s, v, "[secret]")
	}
	return s
}

// mask shows enough of s to tell which secret it is without printing it.
func mask(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + "…" + strings.Repeat("*", 4)
}
