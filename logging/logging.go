// Package logging builds missionbot's structured logger: log/slog with
// secrets redacted and a request id on every record logged with a request's
// context.
//
// Redaction removes every configured secret (config.Config.Secrets) and
// anything shaped like a Slack token (xoxb-…, xoxp-…, xapp-…) or a Discord
// bot token from the message, attribute keys and values, nested groups,
// resolved slog.LogValuers, error values and the printed form of any other
// value, replacing each with Redacted. It does not see a secret that was
// transformed before logging (base64, hashed, split across attributes).
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

// New returns a logger writing to w in format "json" (the default for any
// other value) or "text", at level ("debug", "info", "warn" or "error",
// case-insensitive; anything else means info). Its handler is NewHandler's:
// secrets are redacted and request ids are added.
func New(w io.Writer, format, level string, secrets []string) *slog.Logger {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		lv = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	if strings.EqualFold(format, "text") {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(NewHandler(h, secrets))
}

// NewHandler wraps next so that every record and every attribute given to
// WithAttrs reaches next redacted, and every record logged with a context
// carrying a request id (WithRequestID) gets a "request_id" attribute. The
// attribute is added to the record, so it sits inside any groups opened with
// WithGroup. The handler is safe for concurrent use if next is.
func NewHandler(next slog.Handler, secrets []string) slog.Handler {
	return &handler{next: next, red: newRedactor(secrets)}
}

type handler struct {
	next slog.Handler
	red  *redactor
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.red.string(r.Message), r.PC)
	if id := RequestID(ctx); id != "" {
		out.AddAttrs(slog.String(RequestIDKey, h.red.string(id)))
	}
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.red.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{next: h.next.WithAttrs(h.red.attrs(as)), red: h.red}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(h.red.string(name)), red: h.red}
}
