package scheduler_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/digest"
	"github.com/missionbot/missionbot/bot/impact"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// benchSlot is a Monday 09:00 UTC, the default digest slot.
var benchSlot = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// batchFor is the rows per INSERT on s: under SQLite's and PostgreSQL's
// limits on bound parameters for the widest row seeded here.
func batchFor(s *storage.Store) int {
	if s.DB().Dialector.Name() == "sqlite" {
		return 200
	}
	return 2000
}

// digestSeedVersion names the data seedDigestCommunity generates; bump it
// when the generator changes so that cached copies are rebuilt.
const digestSeedVersion = 1

// benchCacheDir is where generated benchmark databases are kept between
// runs: MISSIONBOT_BENCH_CACHE, else missionbot-bench in the user's cache
// directory.
func benchCacheDir(b *testing.B) string {
	b.Helper()
	dir := os.Getenv("MISSIONBOT_BENCH_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			b.Fatalf("bench cache: %v (set MISSIONBOT_BENCH_CACHE)", err)
		}
		dir = filepath.Join(base, "missionbot-bench")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	return dir
}

// digestStore opens the digest benchmark's community of n contributions on
// driver, generating it on first use and keeping it for later runs: a
// SQLite file in benchCacheDir, or a schema named after the data set in the
// test PostgreSQL database. Opening migrates it, so a cached copy gets new
// migrations (and their backfills) once, like a production database.
func digestStore(b *testing.B, driver string, n int) (*storage.Store, bot.CommunityID) {
	b.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("digest_v%d_%d", digestSeedVersion, n)
	var o storage.Options
	switch driver {
	case "sqlite":
		path := filepath.Join(benchCacheDir(b), name+".db")
		if _, err := os.Stat(path); err != nil {
			tmp := path + ".seeding"
			for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
				_ = os.Remove(f)
			}
			s, err := storage.Open(ctx, storage.Options{Driver: "sqlite", Path: tmp})
			if err != nil {
				b.Fatal(err)
			}
			seedDigestCommunity(b, s, n)
			if err := s.DB().Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
				b.Fatal(err)
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				b.Fatal(err)
			}
		}
		o = storage.Options{Driver: "sqlite", Path: path}
	case "postgres":
		admin, err := sql.Open("pgx", testdb.AdminDSN())
		if err == nil {
			err = admin.PingContext(ctx)
		}
		if err != nil {
			if os.Getenv("CI") != "" {
				b.Fatalf("PostgreSQL is required in CI: %v", err)
			}
			b.Skipf("PostgreSQL not reachable (%v)", err)
		}
		defer admin.Close()
		o = storage.Options{Driver: "postgres", DSN: testdb.AdminDSN() + "&search_path=bench_" + name, MaxOpenConns: 4}
		var seeded sql.NullString
		if err := admin.QueryRowContext(ctx, "SELECT to_regclass($1)::text", "bench_"+name+".bench_seeded").Scan(&seeded); err != nil {
			b.Fatal(err)
		}
		if !seeded.Valid {
			for _, q := range []string{"DROP SCHEMA IF EXISTS bench_" + name + " CASCADE", "CREATE SCHEMA bench_" + name} {
				if _, err := admin.ExecContext(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			s, err := storage.Open(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			seedDigestCommunity(b, s, n)
			for _, q := range []string{"VACUUM ANALYZE", "CREATE TABLE bench_seeded (at TIMESTAMPTZ NOT NULL)"} {
				if err := s.DB().Exec(q).Error; err != nil {
					b.Fatal(err)
				}
			}
			_ = s.Close()
		}
	default:
		b.Fatalf("unknown driver %q", driver)
	}
	opened := time.Now()
	s, err := storage.Open(ctx, o)
	if err != nil {
		b.Fatal(err)
	}
	if d := time.Since(opened); d > time.Second {
		b.Logf("opened and migrated in %s", d.Round(time.Millisecond))
	}
	b.Cleanup(func() { _ = s.Close() })
	var id int64
	if err := s.DB().Raw("SELECT id FROM communities WHERE external_id = ?", "bench").Scan(&id).Error; err != nil || id == 0 {
		b.Fatalf("bench community: %v", err)
	}
	return s, bot.CommunityID(id)
}

// benchEvent is one generated action: member index, time and kind.
type benchEvent struct {
	member int
	at     time.Time
	kind   string
}

// seedDigestCommunity fills one community ("bench", Europe/London) with n
// contributions by n/10 members over the 52 weeks before benchSlot, plus
// n/10 pledges, n/20 kudos, n/50 sign-ups and n/200 wins. Members' activity
// is Zipf-distributed (a few do most); 2% are hidden and 1% have left; 5%
// of contributions are anonymous. Every action has its activity row and
// member-week, as the commands write them. Rows go in with multi-row
// INSERTs in one transaction, in time order, as they would have arrived.
func seedDigestCommunity(b *testing.B, s *storage.Store, n int) {
	b.Helper()
	t0 := time.Now()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		b.Fatal(err)
	}
	start := benchSlot.AddDate(0, 0, -52*7)
	span := int64(benchSlot.Sub(start))
	nm := max(n/10, 10)
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(nm-1))
	rank := rng.Perm(nm) // Zipf rank to member index
	events := func(k int, kind string) []benchEvent {
		out := make([]benchEvent, k)
		for i := range out {
			out[i] = benchEvent{member: rank[zipf.Uint64()], at: start.Add(time.Duration(rng.Int64N(span))).Truncate(time.Second), kind: kind}
		}
		slices.SortFunc(out, func(x, y benchEvent) int { return x.at.Compare(y.at) })
		return out
	}
	contribs, pledges, kudos, signups, wins := events(n, ""), events(n/10, storage.ActPledge), events(n/20, storage.ActKudos),
		events(n/50, storage.ActSignup), events(n/200, storage.ActWin)
	kinds := []string{storage.ContribLog, storage.ContribLog, storage.ContribLog, storage.ContribPledge, storage.ContribHours, storage.ContribAttended}
	for i := range contribs {
		contribs[i].kind = kinds[rng.IntN(len(kinds))]
	}
	firstSeen := make([]time.Time, nm)
	for i := range firstSeen {
		firstSeen[i] = start.Add(time.Duration(rng.Int64N(span))).Truncate(time.Second)
	}
	for _, es := range [][]benchEvent{contribs, pledges, kudos, signups, wins} {
		for _, e := range es {
			if e.at.Before(firstSeen[e.member]) {
				firstSeen[e.member] = e.at
			}
		}
	}

	sqlDB, err := s.DB().DB()
	if err != nil {
		b.Fatal(err)
	}
	tx, err := sqlDB.Begin()
	if err != nil {
		b.Fatal(err)
	}
	ins := bulkInserter{b: b, tx: tx, pg: s.DB().Dialector.Name() == "postgres"}
	ids := func(q string, args ...any) []int64 {
		rows, err := tx.Query(ins.sql(q), args...)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				b.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	ins.insert("communities", []string{"platform", "external_id", "name", "timezone", "digest_channel_id", "digest_channel_name", "digest_schedule",
		"digest_on", "admins_are_organisers", "created_at"}, 1, func(int) []any {
		return []any{"console", "bench", "bench", "Europe/London", "C1", "impact", "every mon 09:00", true, true, start}
	})
	c := ids("SELECT id FROM communities WHERE external_id = 'bench'")[0]
	ins.insert("members", []string{"community_id", "external_id", "name", "hidden", "left", "left_at", "first_seen_at", "last_seen_at"}, nm,
		func(i int) []any {
			var leftAt *time.Time
			if i%100 == 1 {
				t := benchSlot.Add(-time.Duration(i%60) * 24 * time.Hour)
				leftAt = &t
			}
			return []any{c, fmt.Sprintf("u%d", i), fmt.Sprintf("member %d", i), i%50 == 0, leftAt != nil, leftAt, firstSeen[i], benchSlot}
		})
	members := ids("SELECT id FROM members WHERE community_id = ? ORDER BY id", c)
	due := benchSlot.AddDate(0, 3, 0)
	ins.insert("goals", []string{"community_id", "no", "slug", "title", "unit", "target", "due_at", "status", "created_by", "created_at"}, 3,
		func(i int) []any {
			var dueAt *time.Time
			if i == 0 {
				dueAt = &due
			}
			return []any{c, i + 1, fmt.Sprintf("goal-%d", i+1), fmt.Sprintf("Goal %d", i+1), "trees", int64(n) * 1000, dueAt, "active", members[0], start}
		})
	goals := ids("SELECT id FROM goals WHERE community_id = ? ORDER BY no", c)
	// An opportunity every other day of the year and a month ahead, ten slots each.
	const opps = 200
	oppAt := func(i int) time.Time { return start.Add(time.Duration(i) * 2 * 24 * time.Hour).Add(10 * time.Hour) }
	ins.insert("opportunities", []string{"community_id", "no", "title", "starts_at", "minutes", "slots", "status", "confirmed", "created_by", "created_at"},
		opps, func(i int) []any {
			return []any{c, i + 1, fmt.Sprintf("Shift %d", i+1), oppAt(i), 120, 10, "open", i % 11, members[0], start}
		})
	oppIDs := ids("SELECT id FROM opportunities WHERE community_id = ? ORDER BY no", c)

	contribKind := map[string]string{storage.ContribLog: storage.ActLog, storage.ContribPledge: storage.ActFulfil,
		storage.ContribHours: storage.ActHours, storage.ContribAttended: storage.ActHours}
	var acts []benchEvent
	ins.insert("contributions", []string{"community_id", "kind", "goal_id", "member_id", "amount", "note", "anonymous", "created_at"}, n,
		func(i int) []any {
			e := contribs[i]
			acts = append(acts, benchEvent{member: e.member, at: e.at, kind: contribKind[e.kind]})
			var g *int64
			if e.kind == storage.ContribLog || e.kind == storage.ContribPledge {
				g = &goals[i%len(goals)]
			}
			return []any{c, e.kind, g, members[e.member], int64(100 + i%10*100), "", i%20 == 7, e.at}
		})
	ins.insert("pledges", []string{"community_id", "no", "goal_id", "member_id", "amount", "status", "anonymous", "created_at", "updated_at"}, len(pledges),
		func(i int) []any {
			e := pledges[i]
			return []any{c, i + 1, goals[i%len(goals)], members[e.member], int64(1000), "open", i%20 == 3, e.at, e.at}
		})
	ins.insert("kudos", []string{"community_id", "from_id", "to_id", "reason", "created_at"}, len(kudos), func(i int) []any {
		e := kudos[i]
		return []any{c, members[e.member], members[rank[zipf.Uint64()]], "thanks", e.at}
	})
	ins.insert("wins", []string{"community_id", "no", "member_id", "text", "created_at"}, len(wins), func(i int) []any {
		e := wins[i]
		return []any{c, i + 1, members[e.member], fmt.Sprintf("win %d", i+1), e.at}
	})
	type signupKey struct{ opp, member int }
	seen := map[signupKey]bool{}
	var kept []benchEvent
	var keptOpp []int
	for _, e := range signups {
		o := min(int(e.at.Sub(start)/(48*time.Hour))+1, opps-1) // the next shift
		if k := (signupKey{o, e.member}); !seen[k] {
			seen[k] = true
			kept, keptOpp = append(kept, e), append(keptOpp, o)
		}
	}
	ins.insert("signups", []string{"community_id", "opportunity_id", "member_id", "status", "created_at", "updated_at"}, len(kept), func(i int) []any {
		return []any{c, oppIDs[keptOpp[i]], members[kept[i].member], storage.SignupConfirmed, kept[i].at, kept[i].at}
	})
	acts = slices.Concat(acts, pledges, kudos, kept, wins)
	slices.SortStableFunc(acts, func(x, y benchEvent) int { return x.at.Compare(y.at) })
	ins.insert("activities", []string{"community_id", "member_id", "kind", "at"}, len(acts), func(i int) []any {
		return []any{c, members[acts[i].member], acts[i].kind, acts[i].at}
	})
	type weekKey struct {
		member int
		week   int64
	}
	weekSeen := map[weekKey]bool{}
	var weeks []weekKey
	for _, a := range acts {
		k := weekKey{a.member, impact.WeekStart(a.at, london).Unix()}
		if !weekSeen[k] {
			weekSeen[k] = true
			weeks = append(weeks, k)
		}
	}
	ins.insert("member_weeks", []string{"community_id", "week", "member_id"}, len(weeks), func(i int) []any {
		return []any{c, time.Unix(weeks[i].week, 0).UTC(), members[weeks[i].member]}
	})
	if _, err := tx.Exec(ins.sql(`UPDATE goals SET progress = (SELECT COALESCE(SUM(amount), 0) FROM contributions k WHERE k.goal_id = goals.id)
		WHERE community_id = ?`), c); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := s.DB().Exec("ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d contributions, %d activities, %d member-weeks in %s", n, len(acts), len(weeks), time.Since(t0).Round(time.Millisecond))
}

// bulkInserter writes rows with multi-row INSERTs on one transaction.
type bulkInserter struct {
	b  *testing.B
	tx *sql.Tx
	pg bool
}

// sql rewrites ? placeholders as $n on PostgreSQL.
func (k bulkInserter) sql(q string) string {
	if !k.pg {
		return q
	}
	var out strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&out, "$%d", n)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

// insert adds n rows to table, row(i) giving the values of cols for row i.
func (k bulkInserter) insert(table string, cols []string, n int, row func(i int) []any) {
	k.b.Helper()
	per := min(1000, 30000/len(cols)) // under both databases' limits on bound parameters
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			_ = st.Close()
		}
	}()
	args := make([]any, 0, per*len(cols))
	for from := 0; from < n; from += per {
		rows := min(per, n-from)
		st, ok := stmts[rows]
		if !ok {
			q := "INSERT INTO " + table + " (" + strings.Join(quoted, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", ")
			var err error
			if st, err = k.tx.Prepare(k.sql(q)); err != nil {
				k.b.Fatalf("prepare %s: %v", table, err)
			}
			stmts[rows] = st
		}
		args = args[:0]
		for i := from; i < from+rows; i++ {
			args = append(args, row(i)...)
		}
		if _, err := st.Exec(args...); err != nil {
			k.b.Fatalf("insert %s: %v", table, err)
		}
	}
}

// BenchmarkDigestBuild measures building one community's weekly digest (all
// its SQL) with 10k, 100k and 1M contributions from 1k, 10k and 100k
// members over 52 weeks, on SQLite and PostgreSQL. The communities are
// generated once (seedDigestCommunity) and cached (digestStore).
func BenchmarkDigestBuild(b *testing.B) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		b.Fatal(err)
	}
	for _, driver := range testdb.Drivers() {
		for _, n := range []int{10_000, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%dk", driver, n/1000), func(b *testing.B) {
				s, c := digestStore(b, driver, n)
				ctx := context.Background()
				for b.Loop() {
					if _, err := digest.Build(ctx, s, c, london, benchSlot); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDigestQueries measures each of the digest's queries on the 1M
// contribution community, to show which one dominates BenchmarkDigestBuild.
func BenchmarkDigestQueries(b *testing.B) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		b.Fatal(err)
	}
	cur, prev := impact.RollingWeeks(benchSlot.Add(time.Microsecond), london)
	for _, driver := range testdb.Drivers() {
		b.Run(driver, func(b *testing.B) {
			s, c := digestStore(b, driver, 1_000_000)
			ctx := context.Background()
			queries := []struct {
				name string
				run  func() error
			}{
				{"goals", func() error { _, err := s.ActiveGoals(ctx, c); return err }},
				{"goal-changes", func() error { _, err := s.ImpactGoalChanges(ctx, c, 0, cur.Period, prev.Period); return err }},
				{"activity", func() error { _, err := s.ImpactActivity(ctx, c, cur.Period); return err }},
				{"members", func() error { _, err := s.DigestMembers(ctx, c, cur, prev); return err }},
				{"top", func() error { _, err := s.DigestTopContributors(ctx, c, cur.Period, 5); return err }},
				{"wins", func() error { _, err := s.DigestWins(ctx, c, cur.Period, 5); return err }},
				{"openings", func() error { _, err := s.DigestOpenings(ctx, c, benchSlot, 5); return err }},
			}
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if err := q.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkDispatch10kDigests measures dispatching 10,000 communities'
// digests, all due at once, through a recording poster; it reports rows/s.
// Each iteration sends every row once; rows are reset between iterations
// with the timer stopped.
func BenchmarkDispatch10kDigests(b *testing.B) {
	const communities = 10_000
	for _, driver := range testdb.Drivers() {
		for _, workers := range []int{1, scheduler.DefaultWorkers} {
			b.Run(fmt.Sprintf("%s/workers=%d", driver, workers), func(b *testing.B) {
				s := testdb.Open(b, driver)
				db := s.DB()
				batch := batchFor(s)
				coms := make([]storage.Community, communities)
				for i := range coms {
					coms[i] = storage.Community{Platform: "console", ExternalID: fmt.Sprintf("c%d", i), Timezone: "UTC", DigestSchedule: "every mon 09:00",
						DigestOn: true, AdminsAreOrganisers: true, CreatedAt: benchSlot}
				}
				if err := db.CreateInBatches(coms, batch).Error; err != nil {
					b.Fatal(err)
				}
				payload := `{"Visibility":1,"Kind":"digest","Channel":{"ID":"C1","Name":"impact"},"Title":"Impact digest","Text":"…"}`
				rows := make([]storage.OutboxPost, communities)
				for i, c := range coms {
					rows[i] = storage.OutboxPost{CommunityID: c.ID, Kind: string(bot.PostDigest), SlotKey: benchSlot.Format(scheduler.SlotKeyLayout),
						DueAt: benchSlot, Status: storage.OutboxPending, Payload: payload}
				}
				if err := db.CreateInBatches(rows, batch).Error; err != nil {
					b.Fatal(err)
				}
				clock := bot.NewManualClock(benchSlot)
				poster := newRecordingPoster(clock)
				sc := scheduler.New(s, poster, nil, clock, dispLog())
				sc.Workers = workers
				ctx := context.Background()
				var sent int
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if i > 0 {
						b.StopTimer()
						if err := db.Model(&storage.OutboxPost{}).Where("1 = 1").
							Updates(map[string]any{"status": storage.OutboxPending, "claim_token": "", "claimed_until": nil, "sending": false}).Error; err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					ms, err := sc.Dispatch(ctx, benchSlot)
					if err != nil {
						b.Fatal(err)
					}
					sent += len(ms)
				}
				b.StopTimer()
				if sent != communities*b.N {
					b.Fatalf("sent %d, want %d", sent, communities*b.N)
				}
				b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
