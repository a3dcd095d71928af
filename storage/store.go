// Package storage keeps missionbot's data with gorm on SQLite (embedded,
// the default) or PostgreSQL. It implements the store interfaces that the
// core's packages declare. Every query filters by community.
package storage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/impact"
)

// Options say which database to open.
type Options struct {
	// Driver is "sqlite" or "postgres".
	Driver string
	// Path is the SQLite file (":memory:" is not supported; use a temp file).
	Path string
	// DSN is the PostgreSQL connection string.
	DSN          string
	MaxOpenConns int
	// Defaults are the settings a community starts with.
	Defaults Defaults
}

// Defaults are a new community's settings; zero values take the built-in ones.
type Defaults struct {
	Timezone      string
	KudosPerDay   int
	RetentionDays int
}

func (d Defaults) orBuiltIn() Defaults {
	if d.Timezone == "" {
		d.Timezone = "UTC"
	}
	if d.KudosPerDay <= 0 {
		d.KudosPerDay = 10
	}
	if d.RetentionDays <= 0 {
		d.RetentionDays = 90
	}
	return d
}

// Store is missionbot's storage. It is safe for concurrent use.
type Store struct {
	db       *gorm.DB
	postgres bool
	defaults Defaults
	// writer, on SQLite, is held by the one write transaction (or single
	// write statement) this process runs at a time. SQLite has one writer
	// anyway; queueing here hands the lock over at once, where writers
	// contending inside SQLite sleep in its busy handler (1, 2, 5 … 100 ms)
	// and retry. Nil on PostgreSQL.
	writer chan struct{}
	// zones remembers time zones by name (see Store.zone).
	zones sync.Map
	// communityZones remembers each community's time zone name as last
	// read (community id → string), so that on PostgreSQL an activity and
	// its member-week go in one statement. A stale entry costs one more
	// statement, never a wrong week: the statement checks it.
	communityZones sync.Map
}

// sqliteBusyTimeout is SQLite's busy timeout, and how long a writer waits
// for the process's write turn before the store reports it unavailable.
const sqliteBusyTimeout = 10 * time.Second

// Open connects to the database and applies pending migrations.
func Open(ctx context.Context, o Options) (*Store, error) {
	s, err := Connect(o)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Connect connects to the database without migrating it.
func Connect(o Options) (*Store, error) {
	cfg := &gorm.Config{Logger: logger.Discard, TranslateError: true, NowFunc: func() time.Time { return time.Now().UTC() }}
	// No PrepareStmt: the SQLite driver (glebarez/go-sqlite) prepares the
	// statement text again on every execution whatever database/sql holds,
	// so gorm's cache only adds its own cost there (measured); pgx already
	// keeps prepared statements per connection on PostgreSQL.
	var (
		db  *gorm.DB
		err error
	)
	switch o.Driver {
	case "", "sqlite":
		path := o.Path
		if path == "" {
			path = "missionbot.db"
		}
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(" + strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10) +
			")&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err = gorm.Open(sqlite.Open(dsn), cfg)
	case "postgres":
		db, err = gorm.Open(postgres.Open(o.DSN), cfg)
	default:
		return nil, fmt.Errorf("storage: unknown driver %q", o.Driver)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", o.Driver, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", o.Driver, err)
	}
	if o.Driver == "postgres" {
		n := o.MaxOpenConns
		if n <= 0 {
			n = 10
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
	} else {
		// Writers queue on SQLite's busy timeout; a few connections let
		// readers run beside the writer under WAL.
		sqlDB.SetMaxOpenConns(4)
	}
	if err := sqlDB.Ping(); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open %s: %w", o.Driver, unavailable(err))
	}
	s := &Store{db: db, postgres: o.Driver == "postgres", defaults: o.Defaults.orBuiltIn()}
	if !s.postgres {
		s.writer = make(chan struct{}, 1)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return unavailable(sqlDB.PingContext(ctx))
}

// DB returns the gorm handle, for tests and benchmarks in this module.
func (s *Store) DB() *gorm.DB { return s.db }

// tx runs fn in one transaction. When ctx carries a delivery no transaction
// recorded yet (bot.Delivery), the transaction records it first and fails
// with bot.ErrDuplicate, changing nothing, when it was already recorded; it
// commits with fn's writes. On PostgreSQL a serialization failure or
// deadlock is retried a few times; connection failures become
// bot.ErrUnavailable.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	release, err := s.writeTurn(ctx)
	if err != nil {
		return err
	}
	defer release()
	run := fn
	d := bot.DeliveryOf(ctx)
	if d != nil {
		run = func(tx *gorm.DB) error {
			first, err := claimDelivery(tx, d.Platform, d.EventID, d.At)
			if err != nil {
				return fmt.Errorf("claim delivery %s %s: %w", d.Platform, d.EventID, err)
			}
			if !first {
				return bot.ErrDuplicate
			}
			return fn(tx)
		}
	}
	for attempt := 0; attempt < 5; attempt++ {
		err = s.db.WithContext(ctx).Transaction(run)
		if !retryable(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	if err == nil && d != nil {
		d.MarkClaimed()
	}
	return unavailable(err)
}

// write runs fn, one write statement outside a transaction (atomic by
// itself), in the process's write turn on SQLite; connection failures
// become bot.ErrUnavailable. When ctx carries a delivery to record, fn runs
// in a transaction with it instead (see tx).
func (s *Store) write(ctx context.Context, fn func(db *gorm.DB) error) error {
	if bot.DeliveryOf(ctx) != nil {
		return s.tx(ctx, fn)
	}
	release, err := s.writeTurn(ctx)
	if err != nil {
		return err
	}
	defer release()
	// One statement is atomic by itself: no transaction around it (gorm
	// would wrap a create, update or delete in one: two more round trips).
	return unavailable(fn(s.db.Session(&gorm.Session{SkipDefaultTransaction: true, Context: ctx})))
}

// writeTurn waits for this process's turn to write on SQLite (see
// Store.writer), at most the busy timeout, and returns the function that
// ends it. On PostgreSQL it returns at once. A nested call from inside a
// turn would wait for itself: store methods never nest transactions.
func (s *Store) writeTurn(ctx context.Context) (func(), error) {
	if s.writer == nil {
		return func() {}, nil
	}
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	default:
	}
	t := time.NewTimer(sqliteBusyTimeout)
	defer t.Stop()
	select {
	case s.writer <- struct{}{}:
		return func() { <-s.writer }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting to write: %w", bot.ErrUnavailable, ctx.Err())
	case <-t.C:
		return nil, fmt.Errorf("%w: database is locked: no write turn within %s", bot.ErrUnavailable, sqliteBusyTimeout)
	}
}

// forUpdate locks the selected rows until the transaction ends. SQLite
// transactions are already exclusive writers (_txlock=immediate).
func (s *Store) forUpdate(tx *gorm.DB) *gorm.DB {
	if s.postgres {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// unavailable marks errors that mean the database could not be reached or
// was too busy, so the user is told to try again.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := bot.AsUserError(err); ok || errors.Is(err, bot.ErrUnavailable) {
		return err
	}
	var netErr net.Error
	var pgErr *pgconn.PgError
	msg := err.Error()
	switch {
	case errors.As(err, &netErr),
		// 08: connection failures; 57P: shutting down, starting up; 53300: too many connections.
		errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300"),
		strings.Contains(msg, "database is locked"), strings.Contains(msg, "SQLITE_BUSY"),
		strings.Contains(msg, "connection refused"), strings.Contains(msg, "bad connection"):
		return fmt.Errorf("%w: %v", bot.ErrUnavailable, err)
	}
	return err
}

// nextNoSQL takes the next number of a community (first argument) for a
// kind (second), returning it as value.
const nextNoSQL = `INSERT INTO counters (community_id, kind, value) VALUES (?, ?, 1)
ON CONFLICT (community_id, kind) DO UPDATE SET value = counters.value + 1 RETURNING value`

// nextNo returns the next per-community number for kind (#1, #2 …) inside
// tx, in one statement.
func nextNo(tx *gorm.DB, community int64, kind string) (int64, error) {
	var n int64
	err := tx.Raw(nextNoSQL, community, kind).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("counter %s: %w", kind, err)
	}
	return n, nil
}

// recordActivity notes that member did kind at at, inside tx, and marks the
// member active in at's week (Monday 00:00 in the community's timezone, read
// from its row in tx) in member_weeks; that mark is idempotent.
func (s *Store) recordActivity(tx *gorm.DB, community, member int64, kind string, at time.Time) error {
	if s.postgres {
		if known, ok := s.communityZones.Load(community); ok {
			// One statement: the activity, its week computed with the
			// remembered zone (inserted only while the community's zone
			// is still that one), and the zone read back.
			zone := known.(string)
			week := utc(impact.WeekStart(at, s.zone(zone)))
			var tz []string
			if err := tx.Raw(`WITH a AS (INSERT INTO activities (community_id, member_id, kind, at) VALUES (?, ?, ?, ?)),
w AS (INSERT INTO member_weeks (community_id, week, member_id) SELECT id, ?::timestamptz, ?::bigint FROM communities WHERE id = ? AND timezone = ?
  ON CONFLICT DO NOTHING)
SELECT timezone FROM communities WHERE id = ?`, community, member, kind, utc(at), week, member, community, zone, community).Scan(&tz).Error; err != nil {
				return fmt.Errorf("record activity: %w", err)
			}
			if len(tz) != 1 {
				return fmt.Errorf("record activity: %d rows returned", len(tz))
			}
			if tz[0] == zone {
				return nil
			}
			s.communityZones.Store(community, tz[0])
			return s.recordWeek(tx, community, member, at, tz[0])
		}
	}
	// One statement inserts the activity and reads the community's
	// timezone back.
	var tz []string
	if err := tx.Raw(`INSERT INTO activities (community_id, member_id, kind, at) VALUES (?, ?, ?, ?)
RETURNING (SELECT timezone FROM communities WHERE id = ?)`, community, member, kind, utc(at), community).Scan(&tz).Error; err != nil {
		return fmt.Errorf("record activity: %w", err)
	}
	if len(tz) != 1 {
		return fmt.Errorf("record activity: %d rows returned", len(tz))
	}
	s.communityZones.Store(community, tz[0])
	return s.recordWeek(tx, community, member, at, tz[0])
}

// recordWeek marks member active in at's week in the zone named tz,
// idempotently, inside tx.
func (s *Store) recordWeek(tx *gorm.DB, community, member int64, at time.Time, tz string) error {
	week := MemberWeek{CommunityID: community, MemberID: member, Week: utc(impact.WeekStart(at, s.zone(tz)))}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&week).Error; err != nil {
		return fmt.Errorf("record activity week: %w", err)
	}
	return nil
}

// forgetActivity undoes s.recordActivity(tx, community, member, kind, at):
// it removes that activity and, when the member did nothing else that week,
// the week's bucket, so an undone action does not count as activity.
func (s *Store) forgetActivity(tx *gorm.DB, community, member int64, kind string, at time.Time) error {
	one := tx.Model(&Activity{}).Select("id").
		Where("community_id = ? AND member_id = ? AND kind = ? AND at = ?", community, member, kind, utc(at)).Limit(1)
	if err := tx.Where("community_id = ? AND id IN (?)", community, one).Delete(&Activity{}).Error; err != nil {
		return fmt.Errorf("forget activity: %w", err)
	}
	var tz string
	if err := tx.Model(&Community{}).Where("id = ?", community).Pluck("timezone", &tz).Error; err != nil {
		return fmt.Errorf("forget activity week: %w", err)
	}
	loc := s.zone(tz)
	week := impact.WeekStart(at, loc)
	next := impact.WeekStart(week.Add(8*24*time.Hour), loc)
	var left int64
	if err := tx.Model(&Activity{}).Where("community_id = ? AND member_id = ? AND at >= ? AND at < ?", community, member, utc(week), utc(next)).
		Count(&left).Error; err != nil {
		return fmt.Errorf("forget activity week: %w", err)
	}
	if left > 0 {
		return nil
	}
	if err := tx.Where("community_id = ? AND member_id = ? AND week = ?", community, member, utc(week)).Delete(&MemberWeek{}).Error; err != nil {
		return fmt.Errorf("forget activity week: %w", err)
	}
	return nil
}

// zone is zone(name), remembered: loading a zone by name costs more than
// the statement that read the name. Safe for concurrent use.
func (s *Store) zone(name string) *time.Location {
	if loc, ok := s.zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc := zone(name)
	s.zones.Store(name, loc)
	return loc
}

// zone is the location of a community's timezone setting, UTC when it does
// not load, as the engine does for c.Loc.
func zone(name string) *time.Location {
	loc, err := bot.LoadZone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// utc normalises t for storage: UTC, microseconds (PostgreSQL's precision).
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}
