package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/digest"
	"github.com/missionbot/missionbot/bot/impact"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// benchNow is a Monday 09:00 UTC: the default digest slot.
var benchNow = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// seq is a recursive CTE of i = 0 … n-1 (BIGINT), for INSERT … SELECT.
const seq = `WITH RECURSIVE seq(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?) `

// hours are the distinct contribution times of the seeded data: every hour
// of the 8 weeks before benchNow.
const hours = 8 * 7 * 24

// sqlExec runs a raw statement on store, failing b on error.
func sqlExec(b *testing.B, store *storage.Store, sql string, args ...any) {
	b.Helper()
	start := time.Now()
	if err := store.DB().Exec(sql, args...).Error; err != nil {
		b.Fatalf("%s: %v", sql[:min(len(sql), 60)], err)
	}
	if d := time.Since(start); d > time.Second {
		b.Logf("%s: %s", sql[:min(len(sql), 60)], d.Round(time.Millisecond))
	}
}

// seedTimes creates bench_times(k, at, week): the hours before benchNow
// with their Europe/London week start, as the digest's rollups use.
func seedTimes(b *testing.B, store *storage.Store) {
	b.Helper()
	typ := "DATETIME"
	if store.DB().Dialector.Name() == "postgres" {
		typ = "TIMESTAMPTZ"
	}
	sqlExec(b, store, "CREATE TABLE bench_times (k BIGINT PRIMARY KEY, at "+typ+" NOT NULL UNIQUE, week "+typ+" NOT NULL)")
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < hours; start += 200 {
		var (
			vals []string
			args []any
		)
		for k := start; k < min(start+200, hours); k++ {
			at := benchNow.Add(-time.Duration(k+1) * time.Hour).Add(-time.Second)
			vals = append(vals, "(?, ?, ?)")
			args = append(args, k, at, impact.WeekStart(at, london))
		}
		sqlExec(b, store, "INSERT INTO bench_times (k, at, week) VALUES "+strings.Join(vals, ", "), args...)
	}
}

// seedDigest fills one community on store with members members and n
// contributions (each with its activity row and member-week) spread over
// the 8 weeks before benchNow on three goals, in SQL (INSERT … SELECT), and
// returns the community.
func seedDigest(b *testing.B, store *storage.Store, members, n int) bot.CommunityID {
	b.Helper()
	db := store.DB()
	c := storage.Community{Platform: "console", ExternalID: fmt.Sprintf("digest-%d", n), Name: "bench", Timezone: "Europe/London",
		CreatedAt: benchNow.Add(-90 * 24 * time.Hour)}
	if err := db.Create(&c).Error; err != nil {
		b.Fatal(err)
	}
	seedTimes(b, store)
	sqlExec(b, store, `INSERT INTO members (community_id, external_id, name, hidden, first_seen_at, last_seen_at) `+seq+
		`SELECT ?, 'm' || i, 'member ' || i, (i % 50 = 0), t.at, ? FROM seq JOIN bench_times t ON t.k = i % ?`,
		members, c.ID, benchNow, hours)
	var first, last int64
	if err := db.Raw("SELECT MIN(id), MAX(id) FROM members WHERE community_id = ?", c.ID).Row().Scan(&first, &last); err != nil {
		b.Fatal(err)
	}
	if last-first+1 != int64(members) {
		b.Fatalf("member ids %d…%d are not contiguous", first, last)
	}
	goals := make([]storage.Goal, 3)
	for i := range goals {
		goals[i] = storage.Goal{CommunityID: c.ID, No: int64(i + 1), Slug: fmt.Sprintf("goal-%d", i+1), Title: fmt.Sprintf("Goal %d", i+1),
			Unit: "trees", Target: 1e12, Status: "active", CreatedBy: first, CreatedAt: benchNow.Add(-hours * time.Hour)}
	}
	if err := db.Create(&goals).Error; err != nil {
		b.Fatal(err)
	}
	restore := dropIndexes(b, store, "contributions", "activities", "member_weeks")
	sqlExec(b, store, `INSERT INTO contributions (community_id, kind, goal_id, member_id, amount, note, anonymous, created_at) `+seq+
		`SELECT ?, CASE i % 4 WHEN 0 THEN 'log' WHEN 1 THEN 'pledge' WHEN 2 THEN 'hours' ELSE 'attended' END,
		CASE WHEN i % 4 < 2 THEN ? + i % 3 ELSE NULL END, ? + (i * 7919) % ?, 100 + i % 900, '', (i % 10 = 0), t.at
		FROM seq JOIN bench_times t ON t.k = i % ?`,
		n, c.ID, goals[0].ID, first, members, hours)
	// In bulk: the member_days triggers row by row would take minutes.
	start := time.Now()
	if err := store.BulkActivities(context.Background(), `INSERT INTO activities (community_id, member_id, kind, at)
		SELECT community_id, member_id, kind, created_at FROM contributions WHERE community_id = ?`, c.ID); err != nil {
		b.Fatal(err)
	}
	b.Logf("activities and member_days: %s", time.Since(start).Round(time.Millisecond))
	sqlExec(b, store, `INSERT INTO member_weeks (community_id, member_id, week) SELECT DISTINCT c.community_id, c.member_id, t.week
		FROM contributions c JOIN bench_times t ON t.at = c.created_at WHERE c.community_id = ?`, c.ID)
	sqlExec(b, store, "DROP TABLE bench_times")
	restore()
	sqlExec(b, store, "ANALYZE")
	return bot.CommunityID(c.ID)
}

// dropIndexes drops the secondary indexes of tables (bulk inserts then
// build each index once, sorted, instead of growing it row by row) and
// returns a function that creates them again from their stored
// definitions.
func dropIndexes(b *testing.B, store *storage.Store, tables ...string) func() {
	b.Helper()
	db := store.DB()
	query := "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ?"
	if db.Dialector.Name() == "postgres" {
		query = `SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename IN ?
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`
	}
	rows, err := db.Raw(query, tables).Rows()
	if err != nil {
		b.Fatal(err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			b.Fatal(err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	for _, n := range names {
		sqlExec(b, store, `DROP INDEX "`+n+`"`)
	}
	return func() {
		for _, d := range defs {
			sqlExec(b, store, d)
		}
	}
}

// BenchmarkDigestBuild builds one community's weekly digest (what the
// scheduler posts) with 10k, 100k and 1M contributions over 8 weeks from
// 10,000 members, on SQLite (MISSIONBOT_LOAD_BENCH_DRIVER=postgres for
// PostgreSQL).
func BenchmarkDigestBuild(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("contributions=%d", n), func(b *testing.B) {
			t0 := time.Now()
			store := testdb.Open(b, benchDriver())
			t1 := time.Now()
			c := seedDigest(b, store, 10_000, n)
			b.Logf("open %s, seed %s", t1.Sub(t0), time.Since(t1))
			london, _ := time.LoadLocation("Europe/London")
			ctx := context.Background()
			if _, err := digest.Build(ctx, store, c, london, benchNow); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := digest.Build(ctx, store, c, london, benchNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countingPoster accepts every post at once.
type countingPoster struct{ n atomic.Int64 }

func (p *countingPoster) Post(context.Context, bot.CommunityRef, bot.Message, string) (bot.MessageRef, error) {
	return bot.MessageRef{ID: fmt.Sprint(p.n.Add(1))}, nil
}

func (p *countingPoster) Find(context.Context, bot.CommunityRef, bot.Message, string) (bot.MessageRef, bool, error) {
	return bot.MessageRef{}, false, nil
}

// BenchmarkFanout runs one scheduler tick at the Monday 09:00 digest slot
// for 10,000 communities with the digest on (each with a few members and
// contributions): every digest is built, enqueued in the outbox, claimed
// and handed to a poster that answers at once, so it measures the core's
// fan-out without any platform latency or rate limit.
func BenchmarkFanout(b *testing.B) {
	const communities = 10_000
	for b.Loop() {
		b.StopTimer()
		store := testdb.Open(b, benchDriver())
		seedFanout(b, store, communities)
		poster := &countingPoster{}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		s := scheduler.New(store, poster, []scheduler.Producer{scheduler.NewDigests(store)}, bot.NewManualClock(benchNow), log)
		b.StartTimer()
		if _, err := s.RunDue(context.Background(), benchNow.Add(30*time.Second)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := poster.n.Load(); got != communities {
			b.Fatalf("%d digests posted, want %d", got, communities)
		}
		b.StartTimer()
	}
}

// seedFanout creates n communities with the digest on in #digest, each
// with 5 members and 20 contributions in the past week, in SQL.
func seedFanout(b *testing.B, store *storage.Store, n int) {
	b.Helper()
	sqlExec(b, store, `INSERT INTO communities (platform, external_id, name, timezone, digest_on, digest_channel_id, digest_channel_name, digest_schedule, created_at) `+seq+
		`SELECT 'slack', 'TF' || i, 'c' || i, 'UTC', (1 = 1), 'CDIGEST', 'digest', 'every mon 09:00', ? FROM seq`,
		n, benchNow.Add(-30*24*time.Hour))
	sqlExec(b, store, `INSERT INTO members (community_id, external_id, name, first_seen_at, last_seen_at) `+seq+
		`SELECT c.id, 'U' || s.i, 'm' || s.i, ?, ? FROM communities c CROSS JOIN seq s WHERE c.external_id LIKE 'TF%'`,
		5, benchNow.Add(-20*24*time.Hour), benchNow)
	sqlExec(b, store, `INSERT INTO contributions (community_id, kind, member_id, amount, note, anonymous, created_at) `+seq+
		`SELECT m.community_id, 'hours', m.id, 100, '', (1 = 0), ? FROM members m CROSS JOIN seq s`,
		4, benchNow.Add(-30*time.Hour))
	sqlExec(b, store, "ANALYZE")
}

// benchDriver is the store the benchmarks run on.
func benchDriver() string {
	if d := os.Getenv("MISSIONBOT_LOAD_BENCH_DRIVER"); d != "" {
		return d
	}
	return "sqlite"
}
