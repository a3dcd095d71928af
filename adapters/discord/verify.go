package discord

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// ReplayWindow is how far an interaction's X-Signature-Timestamp may be from
// the adapter's clock, either way, before the request is refused as a replay.
// Discord specifies none; five minutes matches Slack's and tolerates clock
// skew while making a captured request useless soon after.
const ReplayWindow = 5 * time.Minute

// MaxBodyBytes is the largest interaction body read. Discord's interaction
// payloads are a few kilobytes; anything larger is refused unread.
const MaxBodyBytes = 256 << 10

// Reasons a request is refused before it is parsed, passed to Deps.Rejected.
const (
	RejectNoSignature = "no_signature"
	RejectBadSig      = "bad_signature"
	RejectStale       = "stale_timestamp"
	RejectTooLarge    = "too_large"
	RejectMalformed   = "malformed"
)

// errRejected carries why a request failed verification; its reason is one
// of the Reject constants.
type errRejected struct {
	reason string
	status int
}

func (e *errRejected) Error() string { return "interaction refused: " + e.reason }

// verifier checks Discord's Ed25519 signature over timestamp+body and the
// timestamp's age. It is safe for concurrent use.
type verifier struct {
	key ed25519.PublicKey
	now func() time.Time
}

// parsePublicKey decodes the application's hex public key.
func parsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("public key must be 64 hex characters (the application's Ed25519 public key)")
	}
	return ed25519.PublicKey(b), nil
}

// read reads r's body (at most MaxBodyBytes) and returns it when the
// signature and timestamp are good, or an *errRejected saying why not.
func (v verifier) read(r *http.Request) ([]byte, error) {
	sigHex := r.Header.Get("X-Signature-Ed25519")
	ts := r.Header.Get("X-Signature-Timestamp")
	if sigHex == "" || ts == "" {
		return nil, &errRejected{reason: RejectNoSignature, status: http.StatusUnauthorized}
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, &errRejected{reason: RejectBadSig, status: http.StatusUnauthorized}
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, &errRejected{reason: RejectBadSig, status: http.StatusUnauthorized}
	}
	if d := v.now().Sub(time.Unix(secs, 0)); d > ReplayWindow || d < -ReplayWindow {
		return nil, &errRejected{reason: RejectStale, status: http.StatusUnauthorized}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read interaction body: %w", err)
	}
	if len(body) > MaxBodyBytes {
		return nil, &errRejected{reason: RejectTooLarge, status: http.StatusRequestEntityTooLarge}
	}
	if !v.verify(ts, body, sig) {
		return nil, &errRejected{reason: RejectBadSig, status: http.StatusUnauthorized}
	}
	return body, nil
}

// verify reports whether sig signs ts+body under v.key.
func (v verifier) verify(ts string, body, sig []byte) bool {
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(msg, ts...)
	msg = append(msg, body...)
	return ed25519.Verify(v.key, msg, sig)
}
