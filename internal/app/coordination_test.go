package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/config"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/logging/logtest"
)

func TestCoordinationInProcess(t *testing.T) {
	c, degraded, err := app.Coordination(config.Redis{Prefix: "mb-test:"}, logtest.New(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil || degraded() {
		t.Fatalf("in-process: Ping = %v, degraded = %v", err, degraded())
	}
	if got := c.Keys().Prefix(); got != "mb-test:" {
		t.Errorf("prefix %q, want mb-test:", got)
	}
	if first, err := c.FirstSeen(ctx, c.Keys().Dedup("slack", "Ev1"), time.Minute); !first || err != nil {
		t.Errorf("FirstSeen = %v, %v", first, err)
	}
}

// TestCoordinationRedisDown points at a port nobody listens on: the
// coordinator reports degraded and still answers from memory, and nothing it
// says holds the URL's password.
func TestCoordinationRedisDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	password := "pw-" + randomHex(t)
	c, degraded, err := app.Coordination(config.Redis{URL: "redis://:" + password + "@" + addr + "/0", Prefix: "mb-test:"}, logtest.New(t, password), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	err = c.Ping(ctx)
	if err == nil || !degraded() {
		t.Fatalf("Ping = %v, degraded = %v; want an error and degraded", err, degraded())
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("Ping error holds the password: %v", err)
	}
	key := c.Keys().Dedup("slack", "Ev1")
	if first, err := c.FirstSeen(ctx, key, time.Minute); !first || err != nil {
		t.Errorf("degraded FirstSeen = %v, %v; want true from the fallback", first, err)
	}
	if first, _ := c.FirstSeen(ctx, key, time.Minute); first {
		t.Error("degraded FirstSeen said first twice")
	}
}

func TestCoordinationBadURL(t *testing.T) {
	password := "pw-" + randomHex(t)
	_, _, err := app.Coordination(config.Redis{URL: "redis://:" + password + "@127.0.0.1:6379/notadb"}, logtest.New(t, password), nil)
	if err == nil {
		t.Fatal("want an error for a malformed URL")
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("error holds the password: %v", err)
	}
}

// TestCoordinationRedis runs on the shared Redis on 127.0.0.1:6379 under a
// prefix of its own.
func TestCoordinationRedis(t *testing.T) {
	testdb.RequireRedis(t)
	prefix := "mb-test-" + randomHex(t) + ":"
	c, degraded, err := app.Coordination(config.Redis{URL: "redis://127.0.0.1:6379/0", Prefix: prefix}, logtest.New(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil || degraded() {
		t.Fatalf("Ping = %v, degraded = %v", err, degraded())
	}
	key := c.Keys().Dedup("slack", "Ev1")
	if !strings.HasPrefix(key, prefix) {
		t.Errorf("key %q lacks the prefix %q", key, prefix)
	}
	defer c.Delete(ctx, key)
	if first, err := c.FirstSeen(ctx, key, time.Minute); !first || err != nil {
		t.Errorf("FirstSeen = %v, %v", first, err)
	}
	if first, err := c.FirstSeen(ctx, key, time.Minute); first || err != nil {
		t.Errorf("second FirstSeen = %v, %v; want false", first, err)
	}
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
