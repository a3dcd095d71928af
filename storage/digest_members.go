package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/impact"
)

// bucket is the length of a member_days bucket (a UTC day). A distinct
// count over [x, y) read from member_days is exact when y-x is at least
// this long (see distinctSQL).
const bucket = 24 * time.Hour

// memberDaysDDL creates member_days (times in Unix microseconds, so the
// digest compares integers), the triggers that keep it in step with
// activities, and fills it in day order (PostgreSQL then finds a window's
// rows on few pages, as it does for rows written day by day), per dialect.
// Each bucket is a UTC day: the digest's counts do not depend on where
// buckets start (see distinctSQL), so no timezone is needed and a timezone
// change leaves the rollup valid.
//
// On insert, the trigger adds or widens the activity's bucket and points the
// member's previous bucket at it; on delete, it narrows or removes the
// bucket from the activities left that day and repoints the previous one.
// On PostgreSQL a transaction-scoped advisory lock per member orders
// concurrent writers of one member's buckets.
var memberDaysDDL = map[string][]string{
	"sqlite":   sqliteMemberDays(),
	"postgres": postgresMemberDays,
}

// sqliteMicros is the SQLite expression for x, a time stored as UTC text
// ("2006-01-02 15:04:05.999999+00:00"), in Unix microseconds.
func sqliteMicros(x string) string {
	return "(CAST(strftime('%s', substr(" + x + ", 1, 19)) AS INTEGER) * 1000000 + CASE WHEN substr(" + x + ", 20, 1) = '.' " +
		"THEN CAST(substr(substr(" + x + ", 21, instr(" + x + ", '+') - 21) || '000000', 1, 6) AS INTEGER) ELSE 0 END)"
}

func sqliteMemberDays() []string {
	r := strings.NewReplacer(
		// OLD/NEW's UTC day, as text for reading activities and in
		// microseconds for member_days.
		"{D}", "substr({R}.at, 1, 10) || ' 00:00:00+00:00'",
		"{E}", "date(substr({R}.at, 1, 10), '+1 day') || ' 00:00:00+00:00'",
		"{DM}", "(CAST(strftime('%s', substr({R}.at, 1, 10)) AS INTEGER) * 1000000)",
		"{AT}", sqliteMicros("{R}.at"),
		"{MIN}", sqliteMicros("(SELECT MIN(a.at) FROM activities a WHERE a.community_id = {R}.community_id AND a.member_id = {R}.member_id AND a.at >= {D} AND a.at < {E})"),
		"{MAX}", sqliteMicros("(SELECT MAX(a.at) FROM activities a WHERE a.community_id = {R}.community_id AND a.member_id = {R}.member_id AND a.at >= {D} AND a.at < {E})"),
	)
	expand := func(q, row string) string {
		for range 3 {
			q = r.Replace(q)
		}
		return strings.ReplaceAll(q, "{R}", row)
	}
	repoint := `
  UPDATE member_days SET next_at = (SELECT n.first_at FROM member_days n WHERE n.community_id = member_days.community_id
      AND n.member_id = member_days.member_id AND n.day > member_days.day ORDER BY n.day LIMIT 1)
  WHERE community_id = {R}.community_id AND member_id = {R}.member_id
    AND day = (SELECT MAX(p.day) FROM member_days p WHERE p.community_id = {R}.community_id AND p.member_id = {R}.member_id AND p.day < {DM});`
	return []string{
		`CREATE TABLE member_days (
  community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  day INTEGER NOT NULL,
  member_id INTEGER NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  next_at INTEGER,
  PRIMARY KEY (community_id, day, member_id)
) WITHOUT ROWID`,
		`CREATE INDEX ix_member_days_member ON member_days (community_id, member_id, day)`,
		expand(`CREATE TRIGGER tr_member_days_insert AFTER INSERT ON activities BEGIN
  INSERT OR IGNORE INTO member_days (community_id, day, member_id, first_at, last_at, next_at)
  VALUES ({R}.community_id, {DM}, {R}.member_id, {AT}, {AT},
    (SELECT n.first_at FROM member_days n WHERE n.community_id = {R}.community_id AND n.member_id = {R}.member_id
      AND n.day > {DM} ORDER BY n.day LIMIT 1));
  UPDATE member_days SET first_at = MIN(first_at, {AT}), last_at = MAX(last_at, {AT})
  WHERE community_id = {R}.community_id AND member_id = {R}.member_id AND day = {DM};`+repoint+`
END`, "NEW"),
		expand(`CREATE TRIGGER tr_member_days_delete AFTER DELETE ON activities BEGIN
  DELETE FROM member_days WHERE community_id = {R}.community_id AND member_id = {R}.member_id AND day = {DM}
    AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.community_id = {R}.community_id AND a.member_id = {R}.member_id
      AND a.at >= {D} AND a.at < {E});
  UPDATE member_days SET first_at = {MIN}, last_at = {MAX}
  WHERE community_id = {R}.community_id AND member_id = {R}.member_id AND day = {DM};`+repoint+`
END`, "OLD"),
		`INSERT INTO member_days (community_id, day, member_id, first_at, last_at, next_at)
SELECT community_id, day, member_id, f, l, LEAD(f) OVER (PARTITION BY community_id, member_id ORDER BY day)
FROM (
  SELECT community_id, ` + strings.ReplaceAll("(CAST(strftime('%s', substr({R}.at, 1, 10)) AS INTEGER) * 1000000)", "{R}.", "") + ` AS day, member_id,
    ` + sqliteMicros("MIN(at)") + ` AS f, ` + sqliteMicros("MAX(at)") + ` AS l
  FROM activities GROUP BY community_id, member_id, substr(at, 1, 10)
) t
ORDER BY community_id, day`,
		`ANALYZE member_days`,
	}
}

var postgresMemberDays = []string{
	`CREATE TABLE member_days (
  community_id BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
  day BIGINT NOT NULL,
  member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
  first_at BIGINT NOT NULL,
  last_at BIGINT NOT NULL,
  next_at BIGINT,
  PRIMARY KEY (community_id, day, member_id)
)`,
	`CREATE INDEX ix_member_days_member ON member_days (community_id, member_id, day)`,
	`CREATE FUNCTION member_days_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r activities%ROWTYPE;
  d TIMESTAMPTZ;
  dm BIGINT;
  am BIGINT;
BEGIN
  IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
  d := date_trunc('day', r.at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  dm := (extract(epoch FROM d) * 1000000)::bigint;
  am := (extract(epoch FROM r.at) * 1000000)::bigint;
  PERFORM pg_advisory_xact_lock(7413007, (r.member_id % 2147483647)::int);
  IF TG_OP = 'INSERT' THEN
    INSERT INTO member_days AS m (community_id, day, member_id, first_at, last_at, next_at)
    VALUES (r.community_id, dm, r.member_id, am, am,
      (SELECT n.first_at FROM member_days n WHERE n.community_id = r.community_id AND n.member_id = r.member_id AND n.day > dm
        ORDER BY n.day LIMIT 1))
    ON CONFLICT (community_id, day, member_id) DO UPDATE
      SET first_at = LEAST(m.first_at, EXCLUDED.first_at), last_at = GREATEST(m.last_at, EXCLUDED.last_at);
  ELSE
    DELETE FROM member_days WHERE community_id = r.community_id AND member_id = r.member_id AND day = dm
      AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.community_id = r.community_id AND a.member_id = r.member_id
        AND a.at >= d AND a.at < d + interval '1 day');
    UPDATE member_days m SET (first_at, last_at) = (
      SELECT (extract(epoch FROM MIN(a.at)) * 1000000)::bigint, (extract(epoch FROM MAX(a.at)) * 1000000)::bigint
      FROM activities a WHERE a.community_id = r.community_id AND a.member_id = r.member_id
        AND a.at >= d AND a.at < d + interval '1 day')
    WHERE m.community_id = r.community_id AND m.member_id = r.member_id AND m.day = dm;
  END IF;
  UPDATE member_days m SET next_at = (SELECT n.first_at FROM member_days n WHERE n.community_id = m.community_id
      AND n.member_id = m.member_id AND n.day > m.day ORDER BY n.day LIMIT 1)
  WHERE m.community_id = r.community_id AND m.member_id = r.member_id
    AND m.day = (SELECT MAX(p.day) FROM member_days p WHERE p.community_id = r.community_id AND p.member_id = r.member_id AND p.day < dm);
  RETURN NULL;
END
$$`,
	`CREATE TRIGGER tr_member_days AFTER INSERT OR DELETE ON activities FOR EACH ROW EXECUTE FUNCTION member_days_sync()`,
	`INSERT INTO member_days (community_id, day, member_id, first_at, last_at, next_at)
SELECT community_id, day, member_id, f, l, LEAD(f) OVER (PARTITION BY community_id, member_id ORDER BY day)
FROM (
  SELECT community_id, (extract(epoch FROM date_trunc('day', at AT TIME ZONE 'UTC')) * 1000000)::bigint AS day, member_id,
    (extract(epoch FROM MIN(at)) * 1000000)::bigint AS f, (extract(epoch FROM MAX(at)) * 1000000)::bigint AS l
  FROM activities GROUP BY 1, 2, 3
) t
ORDER BY community_id, day`,
	`ANALYZE member_days`,
}

// digestIndexes are migration 7's covering indexes: the top contributors
// read member, anonymity, kind and amount of the period's contributions
// from the index alone.
var digestIndexes = []string{
	"CREATE INDEX ix_contrib_time_member ON contributions (community_id, created_at, member_id, anonymous, kind, amount)",
}

// migrateMemberDays is migration 7.
func migrateMemberDays(tx *gorm.DB) error {
	ddl, ok := memberDaysDDL[tx.Dialector.Name()]
	if !ok {
		return fmt.Errorf("member days: no DDL for %s", tx.Dialector.Name())
	}
	for _, q := range append(ddl, digestIndexes...) {
		if err := tx.Exec(q).Error; err != nil {
			return fmt.Errorf("member days: %w", err)
		}
	}
	return nil
}

// DigestMembers counts active, new, returning and lapsed members for each
// of ws (see impact.MemberWindows) in one read of member_days, bounded by
// the windows: its cost grows with the members active in them, not with the
// community's history or size. Windows shorter than a day fall back to
// reading activities member by member. It only reads.
func (s *Store) DigestMembers(ctx context.Context, c bot.CommunityID, ws ...impact.MemberWindows) ([]impact.Members, error) {
	out := make([]impact.Members, len(ws))
	if len(ws) == 0 {
		return out, nil
	}
	if !dayBucketsExact(ws) {
		for i, w := range ws {
			m, err := s.activityMembers(ctx, c, w)
			if err != nil {
				return nil, err
			}
			out[i] = m
		}
		return out, nil
	}
	q := newDistinctQuery(c)
	type plan struct{ active, sincePrev, prevOnly, lapsed, quiet, newN int }
	plans := make([]plan, len(ws))
	for i, w := range ws {
		plans[i] = plan{
			active:    q.distinct(w.Period.From, w.Period.To),
			sincePrev: q.distinct(w.PrevFrom, w.Period.To),
			prevOnly:  q.distinct(w.PrevFrom, w.Period.From),
			lapsed:    q.distinct(w.LapsedFrom, w.Period.To),
			quiet:     q.distinct(w.QuietFrom, w.Period.To),
			newN:      q.firstSeen(w.Period),
		}
	}
	v, err := q.run(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("member counts: %w", unavailable(err))
	}
	for i, p := range plans {
		// Returning: |A ∩ P| = |A| + |P| - |A ∪ P|, with A the period and P
		// the one before it. Lapsed: latest activity before the period's end
		// in [LapsedFrom, QuietFrom).
		out[i] = impact.Members{
			Active:    v[p.active],
			New:       v[p.newN],
			Returning: v[p.active] + v[p.prevOnly] - v[p.sincePrev],
			Lapsed:    v[p.lapsed] - v[p.quiet],
		}
	}
	return out, nil
}

// dayBucketsExact reports whether every distinct count ws need spans at
// least a bucket (see distinctSQL).
func dayBucketsExact(ws []impact.MemberWindows) bool {
	for _, w := range ws {
		for _, from := range []time.Time{w.Period.From, w.PrevFrom, w.LapsedFrom, w.QuietFrom} {
			if w.Period.To.Sub(from) < bucket {
				return false
			}
		}
		if w.Period.From.Sub(w.PrevFrom) < bucket {
			return false
		}
	}
	return true
}

// distinctQuery collects the counts of one member_days read.
type distinctQuery struct {
	args     map[string]any
	cols     []string
	seen     map[string]int
	min, max time.Time // smallest from, largest to
	minTo    time.Time // smallest to
}

func newDistinctQuery(c bot.CommunityID) *distinctQuery {
	return &distinctQuery{args: map[string]any{"c": int64(c)}, seen: map[string]int{}}
}

func (q *distinctQuery) param(t time.Time) string {
	us := utc(t).UnixMicro()
	name := fmt.Sprintf("t%d", us)
	q.args[name] = us
	return "@" + name
}

func (q *distinctQuery) timeParam(t time.Time) string {
	t = utc(t)
	name := fmt.Sprintf("f%d", t.UnixMicro())
	q.args[name] = t
	return "@" + name
}

func (q *distinctQuery) col(key, sql string) int {
	if i, ok := q.seen[key]; ok {
		return i
	}
	q.cols = append(q.cols, sql)
	q.seen[key] = len(q.cols) - 1
	return len(q.cols) - 1
}

// distinct adds the count of members with an activity in [x, y) and
// returns its column.
//
// distinctSQL: a member's latest activity before y is in their one bucket
// with first_at < y <= next_at (buckets do not overlap and next_at is the
// next bucket's first_at), and the member was active in [x, y) when that
// bucket's last_at >= x — or, when the bucket straddles y, always: it then
// started after y minus a day, so at or after x when y-x is a day or more.
func (q *distinctQuery) distinct(x, y time.Time) int {
	if q.min.IsZero() || x.Before(q.min) {
		q.min = x
	}
	if y.After(q.max) {
		q.max = y
	}
	if q.minTo.IsZero() || y.Before(q.minTo) {
		q.minTo = y
	}
	px, py := q.param(x), q.param(y)
	return q.col("d"+px+py, fmt.Sprintf(
		"COUNT(*) FILTER (WHERE first_at < %[2]s AND (next_at IS NULL OR next_at >= %[2]s) AND last_at >= %[1]s)", px, py))
}

// firstSeen adds the count of members first seen in w.
func (q *distinctQuery) firstSeen(w impact.Window) int {
	pf, pt := q.timeParam(w.From), q.timeParam(w.To)
	return q.col("n"+pf+pt, fmt.Sprintf(
		"(SELECT COUNT(*) FROM members WHERE community_id = @c AND first_seen_at >= %s AND first_seen_at < %s)", pf, pt))
}

// run reads every column in one statement. Only buckets that can be a
// member's latest before some y and reach the earliest x are read: those
// of the days from a day before the earliest x to the latest y.
func (q *distinctQuery) run(ctx context.Context, db *gorm.DB) ([]int64, error) {
	q.args["lo"], q.args["hi"], q.args["minx"], q.args["miny"] = q.min.Add(-bucket).UnixMicro(), q.max.UnixMicro(), q.min.UnixMicro(), q.minTo.UnixMicro()
	sql := "SELECT " + strings.Join(q.cols, ",\n  ") + `
FROM member_days
WHERE community_id = @c AND day >= @lo AND day < @hi AND first_at < @hi AND last_at >= @minx
  AND (next_at IS NULL OR next_at >= @miny)`
	v := make([]int64, len(q.cols))
	ptrs := make([]any, len(v))
	for i := range v {
		ptrs[i] = &v[i]
	}
	if err := db.WithContext(ctx).Raw(sql, q.args).Row().Scan(ptrs...); err != nil {
		return nil, err
	}
	return v, nil
}

// BulkActivities runs insert with args (a bulk INSERT INTO activities …
// SELECT …) in one transaction with the member_days triggers off, then rebuilds
// member_days from every activity in one pass, as migration 7 filled it.
// It is for seeding benchmarks and bulk imports on a store nothing else
// writes to meanwhile: per-row triggers cost minutes per million rows.
func (s *Store) BulkActivities(ctx context.Context, insert string, args ...any) error {
	var trigger, fill string
	for _, q := range memberDaysDDL[s.db.Dialector.Name()] {
		switch {
		case strings.HasPrefix(q, "CREATE TRIGGER tr_member_days_insert"):
			trigger = q
		case strings.HasPrefix(q, "INSERT INTO member_days"):
			fill = q
		}
	}
	off, on := `DROP TRIGGER tr_member_days_insert`, trigger
	if s.postgres {
		off, on = `ALTER TABLE activities DISABLE TRIGGER tr_member_days`, `ALTER TABLE activities ENABLE TRIGGER tr_member_days`
	}
	if on == "" || fill == "" {
		return fmt.Errorf("bulk activities: no member_days DDL for %s", s.db.Dialector.Name())
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(off).Error; err != nil {
			return fmt.Errorf("bulk activities: triggers off: %w", err)
		}
		if err := tx.Exec(insert, args...).Error; err != nil {
			return fmt.Errorf("bulk activities: %w", err)
		}
		for _, q := range []string{on, `DELETE FROM member_days`, fill} {
			if err := tx.Exec(q).Error; err != nil {
				return fmt.Errorf("bulk activities: rebuild member days: %w", err)
			}
		}
		return nil
	})
}
