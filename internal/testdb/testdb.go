// Package testdb opens real, private databases for tests: a temporary SQLite
// file, and a fresh schema on the PostgreSQL at 127.0.0.1:5432.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver for schema setup.

	"github.com/missionbot/missionbot/storage"
)

// AdminDSN is the PostgreSQL the tests use; MISSIONBOT_TEST_PG overrides it.
func AdminDSN() string {
	if v := os.Getenv("MISSIONBOT_TEST_PG"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Drivers lists the databases every storage test runs on.
func Drivers() []string { return []string{"sqlite", "postgres"} }

// Each runs fn as a subtest on a fresh store of every driver.
func Each(t *testing.T, fn func(t *testing.T, s *storage.Store)) {
	t.Helper()
	for _, d := range Drivers() {
		t.Run(d, func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Open returns a migrated store on a private database of driver, removed
// when the test ends. Without PostgreSQL the test fails in CI (CI set) and
// is skipped elsewhere.
func Open(t testing.TB, driver string) *storage.Store {
	t.Helper()
	ctx := context.Background()
	var o storage.Options
	switch driver {
	case "sqlite":
		o = storage.Options{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "test.db")}
	case "postgres":
		schema := "t_" + randomHex(8)
		admin, err := sql.Open("pgx", AdminDSN())
		if err == nil {
			err = admin.PingContext(ctx)
		}
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("PostgreSQL is required in CI: %v", err)
			}
			t.Skipf("PostgreSQL not reachable (%v); set CI=1 to make this a failure", err)
		}
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			_ = admin.Close()
		})
		o = storage.Options{Driver: "postgres", DSN: AdminDSN() + "&search_path=" + schema, MaxOpenConns: 20}
	default:
		t.Fatalf("unknown driver %q", driver)
	}
	s, err := storage.Open(ctx, o)
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Replicas returns a store on a fresh PostgreSQL schema and n-1 more
// handles on that schema, each with its own connection pool, as separate
// replicas have.
func Replicas(t testing.TB, n int) []*storage.Store {
	t.Helper()
	s := Open(t, "postgres")
	var schema string
	if err := s.DB().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	out := []*storage.Store{s}
	for range n - 1 {
		r, err := storage.Open(context.Background(), storage.Options{Driver: "postgres", DSN: AdminDSN() + "&search_path=" + schema, MaxOpenConns: 10})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		out = append(out, r)
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("random: %v", err))
	}
	return hex.EncodeToString(b)
}
