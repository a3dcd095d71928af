package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// RequestIDKey is the attribute key the handler adds a request id under.
const RequestIDKey = "request_id"

type requestIDKey struct{}

// WithRequestID returns a copy of ctx carrying id. Records logged with the
// returned context (InfoContext and the like) carry it as "request_id".
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "" if it has none.
func RequestID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewRequestID returns a new random request id of 16 hex digits.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}
