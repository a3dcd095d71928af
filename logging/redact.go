package logging

import (
	"cmp"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
)

// Redacted replaces every secret the handler removes.
const Redacted = "[redacted]"

// tokenPattern matches platform credentials whether or not they were
// configured: Slack bot, user and legacy tokens (xoxb-, xoxp-, xoxa-, xoxr-,
// xoxs-), Slack app-level tokens (xapp-) and Discord bot tokens (three
// dot-separated base64url parts: the bot's id, a timestamp and an HMAC).
var tokenPattern = regexp.MustCompile(
	`xox[abprs]-[A-Za-z0-9-]+` +
		`|xapp-[A-Za-z0-9-]+` +
		`|[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}`)

// redactor removes configured secrets and anything shaped like a platform
// token from strings and slog values. It is immutable and safe for
// concurrent use.
type redactor struct {
	secrets  []string
	replacer *strings.Replacer // nil when there are no configured secrets
}

func newRedactor(secrets []string) *redactor {
	var s []string
	for _, v := range secrets {
		if v != "" && !slices.Contains(s, v) {
			s = append(s, v)
		}
	}
	// strings.Replacer tries old strings in argument order at each position,
	// so longer secrets go first: a secret containing another is removed
	// whole.
	slices.SortFunc(s, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	r := &redactor{secrets: s}
	if len(s) > 0 {
		pairs := make([]string, 0, 2*len(s))
		for _, v := range s {
			pairs = append(pairs, v, Redacted)
		}
		r.replacer = strings.NewReplacer(pairs...)
	}
	return r
}

// string returns s with every secret and token replaced by Redacted.
func (r *redactor) string(s string) string {
	if r.replacer != nil {
		s = r.replacer.Replace(s)
	}
	if tokenPattern.MatchString(s) {
		s = tokenPattern.ReplaceAllLiteralString(s, Redacted)
	}
	return s
}

// leaks reports whether s holds a secret or a token.
func (r *redactor) leaks(s string) bool { return r.string(s) != s }

// attr returns a with its key and value redacted.
func (r *redactor) attr(a slog.Attr) slog.Attr {
	return slog.Attr{Key: r.string(a.Key), Value: r.value(a.Value)}
}

func (r *redactor) attrs(as []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = r.attr(a)
	}
	return out
}

// value returns v redacted. LogValuers are resolved first; groups are
// redacted member by member. A value of any other type is kept as it is
// unless one of the forms a handler may print it in (Error, fmt's %+v,
// MarshalText, json.Marshal) holds a secret; then it becomes that form as a
// redacted string.
func (r *redactor) value(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(r.string(v.String()))
	case slog.KindGroup:
		return slog.GroupValue(r.attrs(v.Group())...)
	case slog.KindAny:
		return r.anyValue(v)
	default:
		return v
	}
}

func (r *redactor) anyValue(v slog.Value) slog.Value {
	x := v.Any()
	if err, ok := x.(error); ok {
		if msg := err.Error(); r.leaks(msg) {
			return slog.StringValue(r.string(msg))
		}
		return v
	}
	text := fmt.Sprintf("%+v", x)
	if r.leaks(text) {
		return slog.StringValue(r.string(text))
	}
	if m, ok := x.(encoding.TextMarshaler); ok {
		if b, err := m.MarshalText(); err == nil && r.leaks(string(b)) {
			return slog.StringValue(r.string(string(b)))
		}
	}
	// json.Marshal can show what %+v does not: a MarshalJSON method, or the
	// fields behind a pointer (which %+v prints as an address).
	if b, err := json.Marshal(x); err == nil && r.leaks(string(b)) {
		return slog.StringValue(r.string(string(b)))
	}
	return v
}
