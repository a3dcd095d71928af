package slack

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// sealVersion starts every sealed value, so the format can change later.
const sealVersion = 1

// errUnseal says a sealed value could not be opened: wrong key, wrong team
// or corrupted.
var errUnseal = errors.New("cannot open sealed token")

// sealer encrypts tokens at rest with AES-256-GCM. It is safe for
// concurrent use.
type sealer struct {
	aead cipher.AEAD
}

// newSealer builds a sealer from key. A key that decodes (standard or URL
// base64, with or without padding, or hex) to exactly 32 bytes is used as
// is; any other non-empty key is stretched to 32 bytes with SHA-256 of its
// text, so a passphrase works but a random 32-byte key is better.
func newSealer(key string) (*sealer, error) {
	if key == "" {
		return nil, errors.New("encryption key is empty")
	}
	k := decodeKey(key)
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func decodeKey(key string) []byte {
	decoders := []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString,
	}
	for _, d := range decoders {
		if b, err := d(key); err == nil && len(b) == 32 {
			return b
		}
	}
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// seal encrypts plain bound to team (additional data): version byte, random
// nonce, ciphertext and tag. A value sealed for one team does not open for
// another.
func (s *sealer) seal(team string, plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out := append([]byte{sealVersion}, nonce...)
	return s.aead.Seal(out, nonce, plain, []byte(team)), nil
}

// open decrypts a value sealed for team, or returns errUnseal.
func (s *sealer) open(team string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, errUnseal
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(team))
	if err != nil {
		return nil, errUnseal
	}
	return plain, nil
}
