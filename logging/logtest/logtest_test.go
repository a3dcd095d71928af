package logtest_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/missionbot/missionbot/logging/logtest"
)

const secret = "s3cr3t-signing-value"

// recorder is a testing.TB that records what the logger does to it.
type recorder struct {
	testing.TB // nil: calling anything not overridden panics

	mu       sync.Mutex
	logs     []string
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper() {}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) Log(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprint(args...))
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

type holder struct{ Token string }

func TestFailsOnSecret(t *testing.T) {
	tests := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"message", func(l *slog.Logger) { l.Info("using " + secret) }},
		{"attr", func(l *slog.Logger) { l.Debug("x", "k", secret) }},
		{"With", func(l *slog.Logger) { l.With("k", secret).Info("x") }},
		{"group", func(l *slog.Logger) { l.WithGroup("g").Info("x", slog.Group("h", "k", secret)) }},
		{"error", func(l *slog.Logger) { l.Error("x", "err", errors.New("bad "+secret)) }},
		{"struct", func(l *slog.Logger) { l.Info("x", "v", holder{Token: secret}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			tt.log(logtest.New(r, secret))
			r.finish()
			if len(r.errs) != 1 {
				t.Fatalf("errors = %q, want one", r.errs)
			}
			for _, s := range append(r.errs, r.logs...) {
				if strings.Contains(s, secret) {
					t.Errorf("the secret reached the test output: %q", s)
				}
			}
			if len(r.logs) != 1 || !strings.Contains(r.logs[0], "[redacted]") {
				t.Errorf("logs = %q, want one redacted line", r.logs)
			}
		})
	}
}

func TestPassesWithoutSecret(t *testing.T) {
	r := &recorder{}
	l := logtest.New(r, secret, "")
	l.With("community", "c1").Info("pledge", "amount", 10)
	r.finish()
	l.Info("after the test: " + secret) // dropped, not a panic
	if len(r.errs) != 0 {
		t.Errorf("errors = %q", r.errs)
	}
	if len(r.logs) != 1 || !strings.Contains(r.logs[0], "msg=pledge") || !strings.Contains(r.logs[0], "community=c1") {
		t.Errorf("logs = %q", r.logs)
	}
}

func TestRealTest(t *testing.T) {
	l := logtest.New(t, secret)
	l.Info("an ordinary line", "n", 1)
}
