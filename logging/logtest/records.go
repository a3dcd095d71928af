package logtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// Records collects the JSON log records written to it (the writer of a
// slog.NewJSONHandler) so a test can count them. Safe for concurrent use.
type Records struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p, one or more JSON records.
func (r *Records) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

// Count returns how many records' messages start with prefix; a record
// that is not JSON fails t.
func (r *Records) Count(t testing.TB, prefix string) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	dec := json.NewDecoder(bytes.NewReader(r.buf.Bytes()))
	for dec.More() {
		var rec struct{ Msg string }
		if err := dec.Decode(&rec); err != nil {
			t.Fatalf("log record: %v", err)
		}
		if strings.HasPrefix(rec.Msg, prefix) {
			n++
		}
	}
	return n
}

// String returns every record written so far.
func (r *Records) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}
