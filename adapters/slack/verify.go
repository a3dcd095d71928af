package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Reasons a signed request is refused, as passed to Deps.Rejected.
const (
	RejectSignature = "signature"
	RejectStale     = "stale"
	RejectTooLarge  = "too_large"
)

// SignatureWindow is how far a request's X-Slack-Request-Timestamp may be
// from the adapter's clock, either way, before the request is refused.
const SignatureWindow = 5 * time.Minute

// DefaultMaxBody is the largest request body the signed endpoints read.
const DefaultMaxBody = 64 << 10

// Slack's signing headers.
const (
	headerTimestamp = "X-Slack-Request-Timestamp"
	headerSignature = "X-Slack-Signature"
)

var (
	errBadSignature = errors.New("bad slack signature")
	errStale        = errors.New("stale slack request")
	errTooLarge     = errors.New("slack request too large")
)

// Sign returns Slack's v0 signature of body sent at timestamp (Unix seconds,
// as in X-Slack-Request-Timestamp): "v0=" + hex(HMAC-SHA256(secret,
// "v0:" + timestamp + ":" + body)). Tests and load tools sign requests with it.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// verifier checks the v0 signature of a request before anything in it is
// parsed. It is safe for concurrent use.
type verifier struct {
	secret  string
	now     func() time.Time
	maxBody int64
}

// read returns r's body once it has checked, in this order, its size (at
// most maxBody bytes, else errTooLarge), its timestamp (within
// SignatureWindow of now, else errStale) and its signature (constant-time
// compare, else errBadSignature). An empty secret never verifies.
func (v verifier) read(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, v.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read slack request: %w", errBadSignature)
	}
	if int64(len(body)) > v.maxBody {
		return nil, errTooLarge
	}
	ts := r.Header.Get(headerTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ts == "" {
		return nil, errBadSignature
	}
	if d := v.now().Sub(time.Unix(sec, 0)); d > SignatureWindow || d < -SignatureWindow {
		return nil, errStale
	}
	if v.secret == "" {
		return nil, errBadSignature
	}
	want := Sign(v.secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get(headerSignature))) {
		return nil, errBadSignature
	}
	return body, nil
}

// rejectReason names err for Deps.Rejected.
func rejectReason(err error) string {
	switch {
	case errors.Is(err, errTooLarge):
		return RejectTooLarge
	case errors.Is(err, errStale):
		return RejectStale
	default:
		return RejectSignature
	}
}

// verified wraps h so that it runs only for a request whose signature
// verifies, with the raw body; anything else is answered 401 (413 for an
// oversized body) with no body, and counted through Deps.Rejected.
func (a *Adapter) verified(h func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := a.verify.read(r)
		if err != nil {
			reason := rejectReason(err)
			if a.rejected != nil {
				a.rejected(reason)
			}
			status := http.StatusUnauthorized
			if reason == RejectTooLarge {
				status = http.StatusRequestEntityTooLarge
			}
			w.WriteHeader(status)
			return
		}
		h(w, r, body)
	})
}
