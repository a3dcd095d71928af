package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/glebarez/go-sqlite"  // database/sql driver "sqlite"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// database is the store a serve uses, opened with database/sql to count
// what the load stored.
type database struct {
	db     *sql.DB
	driver string // "sqlite" or "postgres"
}

// openDatabase opens the SQLite file at path (driver "sqlite") or the
// PostgreSQL dsn (driver "postgres").
func openDatabase(driver, pathOrDSN string) (*database, error) {
	var (
		db  *sql.DB
		err error
	)
	switch driver {
	case "sqlite":
		db, err = sql.Open("sqlite", "file:"+pathOrDSN+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	case "postgres":
		db, err = sql.Open("pgx", pathOrDSN)
	default:
		return nil, fmt.Errorf("database driver %q: want sqlite or postgres", driver)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", driver, err)
	}
	return &database{db: db, driver: driver}, nil
}

func (d *database) Close() error { return d.db.Close() }

// q rewrites $n placeholders to ? for SQLite.
func (d *database) q(query string) string {
	if d.driver != "sqlite" {
		return query
	}
	for i := 9; i >= 1; i-- {
		query = strings.ReplaceAll(query, fmt.Sprintf("$%d", i), "?")
	}
	return query
}

// runCommunities is the SQL condition selecting the run's communities
// (aliased c); its two arguments come from runPatterns.
const runCommunities = `((c.platform = 'slack' AND c.external_id LIKE $1) OR (c.platform = 'discord' AND c.external_id LIKE $2))`

func runPatterns(run string) []any {
	return []any{communityID(platformSlack, run, 0)[:2+len(run)] + "%", communityID(platformDiscord, run, 0)[:1+len(run)] + "%"}
}

// countEffects counts the rows the run's communities hold in each effect
// table: pledges, logged contributions and wins.
func (d *database) countEffects(ctx context.Context, run string) (map[string]int64, error) {
	queries := map[string]string{
		effectPledge: `SELECT COUNT(*) FROM pledges p JOIN communities c ON c.id = p.community_id WHERE ` + runCommunities,
		effectLog:    `SELECT COUNT(*) FROM contributions p JOIN communities c ON c.id = p.community_id WHERE p.kind = 'log' AND ` + runCommunities,
		effectWin:    `SELECT COUNT(*) FROM wins p JOIN communities c ON c.id = p.community_id WHERE ` + runCommunities,
	}
	out := map[string]int64{}
	for table, query := range queries {
		var n int64
		if err := d.db.QueryRowContext(ctx, d.q(query), runPatterns(run)...).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", table, err)
		}
		out[table] = n
	}
	return out, nil
}

// countGoals counts the run's communities that have the load goal.
func (d *database) countGoals(ctx context.Context, run string) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM goals g JOIN communities c ON c.id = g.community_id WHERE g.slug = '`+goalSlug+`' AND `+runCommunities),
		runPatterns(run)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count goals: %w", err)
	}
	return n, nil
}

// promote makes the member with external id user in community an
// organiser, for platforms whose admin flag the tool cannot set.
func (d *database) promote(ctx context.Context, platform, community, user string) error {
	_, err := d.db.ExecContext(ctx, d.q(`UPDATE members SET organiser = true WHERE external_id = $1 AND community_id IN
		(SELECT id FROM communities WHERE platform = $2 AND external_id = $3)`), user, platform, community)
	if err != nil {
		return fmt.Errorf("promote organiser: %w", err)
	}
	return nil
}

// insertCeiling measures the raw single-row insert rate of the database:
// workers goroutines each committing one-row transactions into a scratch
// table for dur. It drops the table afterwards.
func (d *database) insertCeiling(ctx context.Context, workers int, dur time.Duration) (float64, error) {
	idType := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d.driver == "postgres" {
		idType = "BIGSERIAL PRIMARY KEY"
	}
	table := fmt.Sprintf("load_ceiling_%d", time.Now().UnixNano()%1e9)
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE `+table+` (id `+idType+`, community_id BIGINT NOT NULL, kind VARCHAR(16) NOT NULL, at TIMESTAMP NOT NULL)`); err != nil {
		return 0, fmt.Errorf("create scratch table: %w", err)
	}
	defer d.db.ExecContext(context.WithoutCancel(ctx), `DROP TABLE `+table) //nolint:errcheck // best effort
	insert := d.q(`INSERT INTO ` + table + ` (community_id, kind, at) VALUES ($1, $2, $3)`)
	var (
		n    atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	deadline := time.Now().Add(dur)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				tx, err := d.db.BeginTx(ctx, nil)
				if err == nil {
					if _, err = tx.ExecContext(ctx, insert, w, "log", time.Now().UTC()); err == nil {
						err = tx.Commit()
					} else {
						_ = tx.Rollback()
					}
				}
				if err != nil {
					errs <- err
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, fmt.Errorf("insert: %w", err)
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// pgCounters are cumulative PostgreSQL statistics of one database.
type pgCounters struct {
	XactCommit, TupInserted, TupUpdated, TupDeleted, TupFetched int64
}

// pgStats reads pg_stat_database for the current database after flushing
// this backend's pending statistics.
func (d *database) pgStats(ctx context.Context) (pgCounters, error) {
	var c pgCounters
	_, _ = d.db.ExecContext(ctx, `SELECT pg_stat_force_next_flush()`) // PostgreSQL ≥ 15
	err := d.db.QueryRowContext(ctx, `SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, tup_fetched
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.XactCommit, &c.TupInserted, &c.TupUpdated, &c.TupDeleted, &c.TupFetched)
	if err != nil {
		return c, fmt.Errorf("pg_stat_database: %w", err)
	}
	return c, nil
}
