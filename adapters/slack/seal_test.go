package slack

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"
)

func TestSealRoundTripAndBinding(t *testing.T) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	for name, key := range map[string]string{
		"base64":     base64.StdEncoding.EncodeToString(raw),
		"base64url":  base64.RawURLEncoding.EncodeToString(raw),
		"hex":        hex.EncodeToString(raw),
		"passphrase": "correct horse battery staple",
	} {
		t.Run(name, func(t *testing.T) {
			s, err := newSealer(key)
			if err != nil {
				t.Fatal(err)
			}
			tok := []byte("xoxb-1234-5678-abcdef")
			sealed, err := s.seal("T1", tok)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(sealed, tok) {
				t.Fatal("sealed value contains the token")
			}
			got, err := s.open("T1", sealed)
			if err != nil || string(got) != string(tok) {
				t.Fatalf("open = %q, %v", got, err)
			}
			if _, err := s.open("T2", sealed); !errors.Is(err, errUnseal) {
				t.Fatalf("opened for another team: %v", err)
			}
			sealed[len(sealed)-1] ^= 1
			if _, err := s.open("T1", sealed); !errors.Is(err, errUnseal) {
				t.Fatalf("opened a corrupted value: %v", err)
			}
		})
	}
}

func TestSealKeysDecodeTo32Bytes(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 32)
	if !bytes.Equal(decodeKey(hex.EncodeToString(raw)), raw) || !bytes.Equal(decodeKey(base64.StdEncoding.EncodeToString(raw)), raw) {
		t.Fatal("a 32-byte key was not used as is")
	}
	a, _ := newSealer(hex.EncodeToString(raw))
	b, _ := newSealer("another key")
	sealed, _ := a.seal("T1", []byte("tok"))
	if _, err := b.open("T1", sealed); err == nil {
		t.Fatal("another key opened the value")
	}
	if _, err := newSealer(""); err == nil {
		t.Fatal("empty key accepted")
	}
}
