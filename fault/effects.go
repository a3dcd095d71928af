package fault

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Effects are read straight from PostgreSQL: the suite counts what was
// stored, never what was acknowledged. Table and column names are the
// storage package's (gorm's naming of its row structs).

// PledgesByMember returns, per member id of team's community (the Slack
// user id), how many pledges are stored.
func PledgesByMember(ctx context.Context, db *sql.DB, team string) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT m.external_id, COUNT(*) FROM pledges p
		JOIN members m ON m.id = p.member_id
		JOIN communities c ON c.id = p.community_id
		WHERE c.platform = 'slack' AND c.external_id = $1
		GROUP BY m.external_id`, team)
	if err != nil {
		return nil, fmt.Errorf("pledges by member: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("pledges by member: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// CounterMismatches checks every goal's counters against the rows they sum:
// pledged equals the sum of its pledges' amount minus cancelled, and
// progress the sum of its contributions. It returns one line per goal that
// disagrees (a half-applied command), empty when all agree.
func CounterMismatches(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT g.id, g.pledged, g.progress,
			COALESCE((SELECT SUM(p.amount - p.cancelled) FROM pledges p WHERE p.goal_id = g.id), 0),
			COALESCE((SELECT SUM(x.amount) FROM contributions x WHERE x.goal_id = g.id), 0)
		FROM goals g ORDER BY g.id`)
	if err != nil {
		return nil, fmt.Errorf("goal counters: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, pledged, progress, sumPledged, sumContrib int64
		if err := rows.Scan(&id, &pledged, &progress, &sumPledged, &sumContrib); err != nil {
			return nil, fmt.Errorf("goal counters: %w", err)
		}
		if pledged != sumPledged || progress != sumContrib {
			out = append(out, fmt.Sprintf("goal %d: pledged %d, pledges sum to %d; progress %d, contributions sum to %d",
				id, pledged, sumPledged, progress, sumContrib))
		}
	}
	return out, rows.Err()
}

// Count runs a SELECT COUNT(*)-style query returning one integer.
func Count(ctx context.Context, db *sql.DB, query string, args ...any) (int, error) {
	var n int
	if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}

// OutboxStatuses returns how many outbox rows of kind have each status.
func OutboxStatuses(ctx context.Context, db *sql.DB, kind string) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT status, COUNT(*) FROM outbox_posts WHERE kind = $1 GROUP BY status`, kind)
	if err != nil {
		return nil, fmt.Errorf("outbox statuses: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("outbox statuses: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// OutboxRow is one outbox row's outcome.
type OutboxRow struct {
	ID        int64
	Team      string // the community's external id
	Status    string
	Sending   bool
	LastError string
}

// OutboxRows returns every outbox row of kind, by id.
func OutboxRows(ctx context.Context, db *sql.DB, kind string) ([]OutboxRow, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT o.id, c.external_id, o.status, o.sending, o.last_error
		FROM outbox_posts o JOIN communities c ON c.id = o.community_id
		WHERE o.kind = $1 ORDER BY o.id`, kind)
	if err != nil {
		return nil, fmt.Errorf("outbox rows: %w", err)
	}
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		if err := rows.Scan(&r.ID, &r.Team, &r.Status, &r.Sending, &r.LastError); err != nil {
			return nil, fmt.Errorf("outbox rows: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WeeklyAt returns a digest schedule ("every wed 20:14") whose latest slot,
// in UTC, is at: a time in the last 12 hours makes one digest due now, and
// the slot a week before falls outside the producer's one-week lookback.
func WeeklyAt(at time.Time) string {
	at = at.UTC()
	return "every " + strings.ToLower(at.Weekday().String()[:3]) + " " + at.Format("15:04")
}

// SeedDigestCommunities inserts n Slack communities "<prefix>0001"… with
// the digest on, posted to channel "C<prefix>0001"… on schedule, each with
// one organiser (UORG1, told about posts whose outcome is unknown).
func SeedDigestCommunities(ctx context.Context, db *sql.DB, prefix string, n int, schedule string) error {
	_, err := db.ExecContext(ctx, `
		INSERT INTO communities (platform, external_id, name, timezone, digest_channel_id, digest_channel_name,
			digest_schedule, digest_on, created_at)
		SELECT 'slack', $1 || lpad(i::text, 4, '0'), 'Fault ' || i, 'UTC', 'C' || $1 || lpad(i::text, 4, '0'),
			'digest-' || i, $2, true, now()
		FROM generate_series(1, $3::int) AS i`, prefix, schedule, n)
	if err != nil {
		return fmt.Errorf("seed %d digest communities: %w", n, err)
	}
	_, err = db.ExecContext(ctx, `
		INSERT INTO members (community_id, external_id, name, organiser, first_seen_at, last_seen_at)
		SELECT id, 'UORG1', 'Organiser', true, now(), now() FROM communities
		WHERE platform = 'slack' AND external_id LIKE $1 || '%'`, prefix)
	if err != nil {
		return fmt.Errorf("seed organisers: %w", err)
	}
	return nil
}

// ExpireClaims ends every pending row's claim now, as if the claim time had
// passed: the suite's stand-in for waiting out scheduler.DefaultClaimFor (5
// minutes) after a replica died holding claims. It returns how many rows it
// released. Call it only when no live dispatcher holds a claim.
func ExpireClaims(ctx context.Context, db *sql.DB) (int64, error) {
	res, err := db.ExecContext(ctx, `UPDATE outbox_posts SET claimed_until = now() - interval '1 second'
		WHERE status = 'pending' AND claimed_until IS NOT NULL AND claimed_until > now() - interval '1 second'`)
	if err != nil {
		return 0, fmt.Errorf("expire claims: %w", err)
	}
	return res.RowsAffected()
}

// UnknownWithNotice counts the rows of kind whose outcome is unknown and
// whose community has an organiser notice row queued or sent.
func UnknownWithNotice(ctx context.Context, db *sql.DB, kind string) (int, error) {
	return Count(ctx, db, `SELECT COUNT(*) FROM outbox_posts o WHERE o.kind = $1 AND o.status = 'unknown'
		AND EXISTS (SELECT 1 FROM outbox_posts n WHERE n.community_id = o.community_id AND n.kind <> $1)`, kind)
}

// Diagnose describes, in a few lines, where the outbox stands: the count of
// every kind and status, and the first pending rows with their due time,
// claim, attempts and last error, relative to the database's clock. It is
// what a failed scenario prints so that a run whose output is cut still
// says why.
func Diagnose(ctx context.Context, db *sql.DB) string {
	var b strings.Builder
	rows, err := db.QueryContext(ctx, `SELECT kind, status, COUNT(*) FROM outbox_posts GROUP BY kind, status ORDER BY kind, status`)
	if err != nil {
		return "outbox: " + err.Error()
	}
	b.WriteString("outbox:")
	for rows.Next() {
		var kind, status string
		var n int
		if err := rows.Scan(&kind, &status, &n); err != nil {
			rows.Close()
			return b.String() + " " + err.Error()
		}
		fmt.Fprintf(&b, " %s/%s=%d", kind, status, n)
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `
		SELECT o.id, o.kind, EXTRACT(EPOCH FROM o.due_at - now())::int,
			COALESCE(EXTRACT(EPOCH FROM o.claimed_until - now())::int, -999999), o.sending, o.attempts, o.last_error
		FROM outbox_posts o WHERE o.status = 'pending' ORDER BY o.due_at, o.id LIMIT 5`)
	if err != nil {
		return b.String() + "; pending: " + err.Error()
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, lastErr string
		var due, claimed, attempts int
		var sending bool
		if err := rows.Scan(&id, &kind, &due, &claimed, &sending, &attempts, &lastErr); err != nil {
			return b.String() + "; pending: " + err.Error()
		}
		claim := "unclaimed"
		if claimed != -999999 {
			claim = fmt.Sprintf("claimed for %ds", claimed)
		}
		if len(lastErr) > 160 {
			lastErr = lastErr[:160]
		}
		fmt.Fprintf(&b, "; pending %s row %d due in %ds, %s, sending %t, %d attempts, last error %q", kind, id, due, claim, sending, attempts, lastErr)
	}
	return b.String()
}
