package main

import (
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/missionbot/missionbot/adapters/slack"
)

// slackSignature returns Slack's v0 signature of body sent at timestamp
// (Unix seconds, as in X-Slack-Request-Timestamp):
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)).
// It is the adapter's own signer, so load requests are signed exactly as the
// adapter verifies them.
func slackSignature(secret, timestamp string, body []byte) string {
	return slack.Sign(secret, timestamp, body)
}

// signSlack sets Slack's signing headers on r for body, sent at now.
func signSlack(r *http.Request, secret string, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", slackSignature(secret, ts, body))
}

// discordSignature returns the hex Ed25519 signature Discord sends in
// X-Signature-Ed25519: the signature of timestamp + body.
func discordSignature(key ed25519.PrivateKey, timestamp string, body []byte) string {
	msg := make([]byte, 0, len(timestamp)+len(body))
	msg = append(append(msg, timestamp...), body...)
	return hex.EncodeToString(ed25519.Sign(key, msg))
}

// signDiscord sets Discord's signing headers on r for body, sent at now.
func signDiscord(r *http.Request, key ed25519.PrivateKey, body []byte, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	r.Header.Set("X-Signature-Timestamp", ts)
	r.Header.Set("X-Signature-Ed25519", discordSignature(key, ts, body))
}

// discordKey returns the Ed25519 private key whose seed is the 64 hex
// digits in seedHex.
func discordKey(seedHex string) (ed25519.PrivateKey, error) {
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("discord key: want %d hex digits of Ed25519 seed", 2*ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// errBadSignature is what the verify-only handler refuses.
var errBadSignature = errors.New("bad signature")

// verifySlack checks r's Slack v0 signature over body in constant time,
// refusing a timestamp more than five minutes from now.
func verifySlack(r *http.Request, secret string, body []byte, now time.Time) error {
	ts := r.Header.Get("X-Slack-Request-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errBadSignature
	}
	if !hmac.Equal([]byte(slackSignature(secret, ts, body)), []byte(r.Header.Get("X-Slack-Signature"))) {
		return errBadSignature
	}
	return nil
}

// verifyDiscord checks r's Ed25519 signature over timestamp + body with pub.
func verifyDiscord(r *http.Request, pub ed25519.PublicKey, body []byte) error {
	sig, err := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return errBadSignature
	}
	ts := r.Header.Get("X-Signature-Timestamp")
	msg := append([]byte(ts), body...)
	if !ed25519.Verify(pub, msg, sig) {
		return errBadSignature
	}
	return nil
}
