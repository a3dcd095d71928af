package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Slack's worked signing example is checked where Sign lives
// (adapters/slack); slackSignature is that Sign.

func TestSlackSignedRequestVerifies(t *testing.T) {
	now := time.Now()
	body := []byte("team_id=T1&text=1+tree")
	r, _ := http.NewRequest(http.MethodPost, "http://x/slack/commands", bytes.NewReader(body))
	signSlack(r, "s3cret", body, now)
	if err := verifySlack(r, "s3cret", body, now); err != nil {
		t.Errorf("own signature refused: %v", err)
	}
	if err := verifySlack(r, "other", body, now); err == nil {
		t.Error("a signature under another secret verified")
	}
	if err := verifySlack(r, "s3cret", append(body, '!'), now); err == nil {
		t.Error("a changed body verified")
	}
	if err := verifySlack(r, "s3cret", body, now.Add(6*time.Minute)); err == nil {
		t.Error("a six-minute-old request verified")
	}
}

func TestDiscordSignatureRoundTrip(t *testing.T) {
	seed := strings.Repeat("ab", ed25519.SeedSize)
	key, err := discordKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":1}`)
	r, _ := http.NewRequest(http.MethodPost, "http://x/discord/interactions", bytes.NewReader(body))
	signDiscord(r, key, body, time.Now())
	pub := key.Public().(ed25519.PublicKey)
	if err := verifyDiscord(r, pub, body); err != nil {
		t.Errorf("own signature refused: %v", err)
	}
	sig, _ := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
	msg := append([]byte(r.Header.Get("X-Signature-Timestamp")), body...)
	if !ed25519.Verify(pub, msg, sig) {
		t.Error("the signature does not verify over timestamp + body with the standard library")
	}
	if err := verifyDiscord(r, pub, []byte(`{"type":2}`)); err == nil {
		t.Error("a changed body verified")
	}
	other, _ := discordKey(strings.Repeat("cd", ed25519.SeedSize))
	if err := verifyDiscord(r, other.Public().(ed25519.PublicKey), body); err == nil {
		t.Error("verified under another key")
	}
	if publicKeyHex(key) != hex.EncodeToString(pub) {
		t.Error("publicKeyHex is not the hex public key")
	}
}

func TestDiscordKeyRefusesBadSeeds(t *testing.T) {
	for _, seed := range []string{"", "abc", strings.Repeat("zz", 32), strings.Repeat("ab", 31)} {
		if _, err := discordKey(seed); err == nil {
			t.Errorf("seed %q accepted", seed)
		}
	}
}
