package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/digest"
	"github.com/missionbot/missionbot/bot/impact"
)

var (
	_ impact.Store = (*Store)(nil)
	_ digest.Store = (*Store)(nil)
)

// ImpactActivity counts what community c did in w (see impact.Numbers). It
// reads contributions once through (community_id, created_at) and counts
// pledges, signups, wins and kudos created in w.
func (s *Store) ImpactActivity(ctx context.Context, c bot.CommunityID, w impact.Window) (impact.Activity, error) {
	from, to := utc(w.From), utc(w.To)
	var r struct {
		Contributions, Fulfilments, Hours, Pledges, Signups, Wins, Kudos int64
	}
	err := s.db.WithContext(ctx).Raw(`
SELECT k.contributions, k.fulfilments, k.hours,
  (SELECT COUNT(*) FROM pledges WHERE community_id = @c AND created_at >= @from AND created_at < @to) AS pledges,
  (SELECT COUNT(*) FROM signups WHERE community_id = @c AND created_at >= @from AND created_at < @to) AS signups,
  (SELECT COUNT(*) FROM wins WHERE community_id = @c AND created_at >= @from AND created_at < @to) AS wins,
  (SELECT COUNT(*) FROM kudos WHERE community_id = @c AND created_at >= @from AND created_at < @to) AS kudos
FROM (
  SELECT COUNT(*) AS contributions,
    COALESCE(SUM(CASE WHEN kind = 'pledge' THEN 1 ELSE 0 END), 0) AS fulfilments,
    COALESCE(SUM(CASE WHEN kind IN ('hours', 'attended') THEN amount ELSE 0 END), 0) AS hours
  FROM contributions
  WHERE community_id = @c AND created_at >= @from AND created_at < @to
) k`,
		map[string]any{"c": int64(c), "from": from, "to": to}).Scan(&r).Error
	if err != nil {
		return impact.Activity{}, fmt.Errorf("activity counts: %w", unavailable(err))
	}
	return impact.Activity{Contributions: r.Contributions, Fulfilments: r.Fulfilments, Hours: bot.Amount(r.Hours),
		PledgesMade: r.Pledges, Signups: r.Signups, Wins: r.Wins, Kudos: r.Kudos}, nil
}

// ImpactGoalChanges sums contributions per goal in cur and prev (see
// impact.Numbers). Each window is read goal by goal through
// ix_contrib_goal_cover (community_id, goal_id, created_at, amount), so the
// rows arrive grouped and only the windows' index entries are read.
func (s *Store) ImpactGoalChanges(ctx context.Context, c bot.CommunityID, goalID int64, cur, prev impact.Window) (map[int64]impact.GoalChange, error) {
	args := map[string]any{"c": int64(c), "cf": utc(cur.From), "ct": utc(cur.To), "pf": utc(prev.From), "pt": utc(prev.To), "g": goalID}
	goals := "goal_id IN (SELECT id FROM goals WHERE community_id = @c)"
	if goalID != 0 {
		goals = "goal_id = @g"
	}
	var rows []struct {
		GoalID   int64
		Prev     bool
		N, Total int64
	}
	err := s.db.WithContext(ctx).Raw(`
SELECT goal_id, false AS prev, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM contributions
WHERE community_id = @c AND `+goals+` AND created_at >= @cf AND created_at < @ct
GROUP BY goal_id
UNION ALL
SELECT goal_id, true AS prev, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM contributions
WHERE community_id = @c AND `+goals+` AND created_at >= @pf AND created_at < @pt
GROUP BY goal_id`, args).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("goal changes: %w", unavailable(err))
	}
	out := make(map[int64]impact.GoalChange, len(rows))
	for _, r := range rows {
		ch := out[r.GoalID]
		ch.GoalID = r.GoalID
		if r.Prev {
			ch.Prev, ch.PrevN = bot.Amount(r.Total), r.N
		} else {
			ch.Cur, ch.CurN = bot.Amount(r.Total), r.N
		}
		out[r.GoalID] = ch
	}
	return out, nil
}

// ImpactMembers counts active, new, returning and lapsed members (see
// impact.MemberWindows). When w are the dashboard's calendar weeks in the
// community's timezone (impact.DashboardWeeks) and member_weeks holds no
// week from another timezone near them, the counts come from member_weeks;
// otherwise (rolling windows, or just after a timezone change) from
// member_days (DigestMembers). Both give the same numbers.
func (s *Store) ImpactMembers(ctx context.Context, c bot.CommunityID, w impact.MemberWindows) (impact.Members, error) {
	// The zone only picks the way of counting (a stale remembered zone
	// makes the windows differ from its weeks, and member_days count).
	var tz string
	if known, ok := s.communityZones.Load(int64(c)); ok {
		tz = known.(string)
	} else {
		if err := s.db.WithContext(ctx).Model(&Community{}).Where("id = ?", int64(c)).Pluck("timezone", &tz).Error; err != nil {
			return impact.Members{}, fmt.Errorf("member counts: %w", unavailable(err))
		}
		s.communityZones.Store(int64(c), tz)
	}
	loc := zone(tz)
	if sameMemberWindows(w, impact.DashboardWeeks(w.Period.From, loc).Members) {
		m, ok, err := s.weekMembers(ctx, c, w, loc)
		if err != nil || ok {
			return m, err
		}
	}
	ms, err := s.DigestMembers(ctx, c, w)
	if err != nil {
		return impact.Members{}, err
	}
	return ms[0], nil
}

func sameMemberWindows(a, b impact.MemberWindows) bool {
	return a.Period.From.Equal(b.Period.From) && a.Period.To.Equal(b.Period.To) && a.PrevFrom.Equal(b.PrevFrom) &&
		a.LapsedFrom.Equal(b.LapsedFrom) && a.QuietFrom.Equal(b.QuietFrom)
}

// weekMembers counts members over member_weeks for the dashboard's weeks w
// in loc: weeks w0 (this week), w1 (last week, "returning" and the start of
// "quiet"), w2 and w3 (the rest of "lapsed"). Each set is read from the
// primary key (community_id, week, member_id), where a week's members are in
// id order, and combined by merging (the ORDER BY makes SQLite merge rather
// than build temporary b-trees). ok is false when a week in member_weeks
// near w does not start on one of loc's Mondays: it was recorded under an
// earlier timezone, so its rows do not bucket w exactly.
func (s *Store) weekMembers(ctx context.Context, c bot.CommunityID, w impact.MemberWindows, loc *time.Location) (m impact.Members, ok bool, err error) {
	// Mondays from w5 to the end of the period: a week recorded anywhere on
	// Earth that may hold an activity in [w3, end) starts after w5.
	mondays := []time.Time{w.Period.To, w.Period.From}
	for len(mondays) < 7 {
		mondays = append(mondays, impact.DashboardWeeks(mondays[len(mondays)-1], loc).Last.From)
	}
	args := map[string]any{"c": int64(c), "from": utc(w.Period.From), "to": utc(w.Period.To)}
	var gaps []string
	for i, t := range mondays {
		args[fmt.Sprintf("m%d", i)] = utc(t)
		if i > 0 {
			gaps = append(gaps, fmt.Sprintf("EXISTS (SELECT 1 FROM member_weeks WHERE community_id = @c AND week > @m%d AND week < @m%d)", i, i-1))
		}
	}
	// mondays[1] is w0, this week; mondays[k+1] is wk, k weeks before it.
	var r struct{ ActiveN, ReturningN, LapsedN, NewN, Misaligned int64 }
	err = s.db.WithContext(ctx).Raw(`
SELECT
  (SELECT COUNT(*) FROM member_weeks WHERE community_id = @c AND week = @m1) AS active_n,
  (SELECT COUNT(*) FROM (
    SELECT member_id FROM member_weeks WHERE community_id = @c AND week = @m1
    INTERSECT SELECT member_id FROM member_weeks WHERE community_id = @c AND week = @m2
    ORDER BY 1) r) AS returning_n,
  (SELECT COUNT(*) FROM (
    SELECT member_id FROM member_weeks WHERE community_id = @c AND week = @m4
    UNION SELECT member_id FROM member_weeks WHERE community_id = @c AND week = @m3
    EXCEPT SELECT member_id FROM member_weeks WHERE community_id = @c AND week = @m2
    EXCEPT SELECT member_id FROM member_weeks WHERE community_id = @c AND week = @m1
    ORDER BY 1) l) AS lapsed_n,
  (SELECT COUNT(*) FROM members WHERE community_id = @c AND first_seen_at >= @from AND first_seen_at < @to) AS new_n,
  CASE WHEN `+strings.Join(gaps, " OR ")+` THEN 1 ELSE 0 END AS misaligned`,
		args).Scan(&r).Error
	if err != nil || r.Misaligned != 0 {
		return m, false, unavailable(err)
	}
	return impact.Members{Active: r.ActiveN, New: r.NewN, Returning: r.ReturningN, Lapsed: r.LapsedN}, true, nil
}

// activityMembers counts members for any windows w from activities, for
// windows too short for member_days (DigestMembers). For
// each member it looks up, in the index (community_id, member_id, at), their
// latest activity before the period's end, and for the active ones whether
// they did anything in the period before, so the cost grows with members,
// not with activity rows. The CTE is materialised so the per-member lookup
// runs once per member.
func (s *Store) activityMembers(ctx context.Context, c bot.CommunityID, w impact.MemberWindows) (impact.Members, error) {
	args := map[string]any{"c": int64(c), "from": utc(w.Period.From), "to": utc(w.Period.To),
		"prev": utc(w.PrevFrom), "lapsed": utc(w.LapsedFrom), "quiet": utc(w.QuietFrom)}
	var r struct{ ActiveN, ReturningN, LapsedN, NewN int64 }
	err := s.db.WithContext(ctx).Raw(`
WITH t AS MATERIALIZED (
  SELECT m.id, m.first_seen_at,
    (SELECT MAX(a.at) FROM activities a WHERE a.community_id = @c AND a.member_id = m.id AND a.at < @to) AS last_to
  FROM members m
  WHERE m.community_id = @c
)
SELECT
  COALESCE(SUM(CASE WHEN last_to >= @from THEN 1 ELSE 0 END), 0) AS active_n,
  COALESCE(SUM(CASE WHEN last_to >= @from AND EXISTS (
    SELECT 1 FROM activities b WHERE b.community_id = @c AND b.member_id = t.id AND b.at >= @prev AND b.at < @from
  ) THEN 1 ELSE 0 END), 0) AS returning_n,
  COALESCE(SUM(CASE WHEN last_to >= @lapsed AND last_to < @quiet THEN 1 ELSE 0 END), 0) AS lapsed_n,
  COALESCE(SUM(CASE WHEN first_seen_at >= @from AND first_seen_at < @to THEN 1 ELSE 0 END), 0) AS new_n
FROM t`, args).Scan(&r).Error
	if err != nil {
		return impact.Members{}, fmt.Errorf("member counts: %w", unavailable(err))
	}
	return impact.Members{Active: r.ActiveN, New: r.NewN, Returning: r.ReturningN, Lapsed: r.LapsedN}, nil
}

// ImpactGoalDetail returns a goal's pledged, fulfilled and contributor
// figures. Pledges are read through their goal_id index (the unary + keeps
// SQLite from choosing the wider community index instead); the community
// filter still applies.
func (s *Store) ImpactGoalDetail(ctx context.Context, c bot.CommunityID, goalID int64) (impact.GoalDetail, error) {
	var r struct{ Pledged, Fulfilled, Contributors int64 }
	err := s.db.WithContext(ctx).Raw(`
SELECT
  (SELECT COALESCE(SUM(amount - cancelled), 0) FROM pledges WHERE +community_id = @c AND goal_id = @g) AS pledged,
  (SELECT COALESCE(SUM(fulfilled), 0) FROM pledges WHERE +community_id = @c AND goal_id = @g) AS fulfilled,
  (SELECT COUNT(DISTINCT member_id) FROM contributions WHERE community_id = @c AND goal_id = @g) AS contributors`,
		map[string]any{"c": int64(c), "g": goalID}).Scan(&r).Error
	if err != nil {
		return impact.GoalDetail{}, fmt.Errorf("goal detail: %w", unavailable(err))
	}
	return impact.GoalDetail{Pledged: bot.Amount(r.Pledged), Fulfilled: bot.Amount(r.Fulfilled), Contributors: r.Contributors}, nil
}

type recordRow struct {
	No          int64
	At          time.Time
	Kind        string
	Member      string
	Forgotten   bool
	Anonymous   bool
	Goal        string
	Amount      *int64
	Unit        string
	Status      string
	Opportunity string
	ToName      string
	ToForgotten bool
	Text        string
}

// ImpactRecords returns every pledge, contribution, signup, win and kudos of
// community c for the export, each type oldest first.
func (s *Store) ImpactRecords(ctx context.Context, c bot.CommunityID) ([]impact.Record, error) {
	queries := []struct{ typ, sql string }{
		{impact.TypePledge, `
SELECT p.no, p.created_at AS at, '' AS kind, m.name AS member, m.forgotten, p.anonymous, g.slug AS goal,
  p.amount, g.unit, p.status, '' AS opportunity, '' AS to_name, false AS to_forgotten, '' AS text
FROM pledges p JOIN members m ON m.id = p.member_id JOIN goals g ON g.id = p.goal_id
WHERE p.community_id = @c ORDER BY p.created_at, p.id`},
		{impact.TypeContribution, `
SELECT 0 AS no, k.created_at AS at, k.kind, m.name AS member, m.forgotten, k.anonymous, COALESCE(g.slug, '') AS goal,
  k.amount, CASE WHEN k.kind IN ('hours', 'attended') AND g.id IS NULL THEN 'hours' ELSE COALESCE(g.unit, '') END AS unit,
  '' AS status, COALESCE(o.title, '') AS opportunity, '' AS to_name, false AS to_forgotten, k.note AS text
FROM contributions k JOIN members m ON m.id = k.member_id
LEFT JOIN goals g ON g.id = k.goal_id LEFT JOIN opportunities o ON o.id = k.opportunity_id
WHERE k.community_id = @c ORDER BY k.created_at, k.id`},
		{impact.TypeSignup, `
SELECT o.no, su.created_at AS at, '' AS kind, m.name AS member, m.forgotten, false AS anonymous, '' AS goal,
  NULL AS amount, '' AS unit, su.status, o.title AS opportunity, '' AS to_name, false AS to_forgotten,
  CASE WHEN su.attended THEN 'attended' ELSE '' END AS text
FROM signups su JOIN members m ON m.id = su.member_id JOIN opportunities o ON o.id = su.opportunity_id
WHERE su.community_id = @c ORDER BY su.created_at, su.id`},
		{impact.TypeWin, `
SELECT w.no, w.created_at AS at, '' AS kind, m.name AS member, m.forgotten, false AS anonymous, '' AS goal,
  NULL AS amount, '' AS unit, '' AS status, '' AS opportunity, '' AS to_name, false AS to_forgotten, w.text
FROM wins w JOIN members m ON m.id = w.member_id
WHERE w.community_id = @c ORDER BY w.created_at, w.id`},
		{impact.TypeKudos, `
SELECT 0 AS no, k.created_at AS at, '' AS kind, f.name AS member, f.forgotten, false AS anonymous, '' AS goal,
  NULL AS amount, '' AS unit, '' AS status, '' AS opportunity, t.name AS to_name, t.forgotten AS to_forgotten, k.reason AS text
FROM kudos k JOIN members f ON f.id = k.from_id JOIN members t ON t.id = k.to_id
WHERE k.community_id = @c ORDER BY k.created_at, k.id`},
	}
	var out []impact.Record
	for _, q := range queries {
		var rows []recordRow
		if err := s.db.WithContext(ctx).Raw(q.sql, map[string]any{"c": int64(c)}).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("export %s: %w", q.typ, unavailable(err))
		}
		for _, r := range rows {
			rec := impact.Record{Type: q.typ, No: r.No, At: r.At.UTC(), Kind: r.Kind, Member: r.Member, Forgotten: r.Forgotten,
				Anonymous: r.Anonymous, Goal: r.Goal, Unit: r.Unit, Status: r.Status, Opportunity: r.Opportunity,
				To: r.ToName, ToForgotten: r.ToForgotten, Text: r.Text}
			if r.Amount != nil {
				rec.Amount, rec.HasAmount = bot.Amount(*r.Amount), true
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// DigestTopContributors ranks members by their non-anonymous contributions
// in w (see digest.Store). CROSS JOIN makes SQLite group the period's
// contributions first and then look members up by id.
func (s *Store) DigestTopContributors(ctx context.Context, c bot.CommunityID, w impact.Window, n int) ([]digest.Contributor, error) {
	var rows []struct {
		Name           string
		Actions, Hours int64
	}
	err := s.db.WithContext(ctx).Raw(`
SELECT m.name, t.actions, t.hours
FROM (
  SELECT member_id, COUNT(*) AS actions,
    COALESCE(SUM(CASE WHEN kind IN ('hours', 'attended') THEN amount ELSE 0 END), 0) AS hours
  FROM contributions
  WHERE community_id = @c AND created_at >= @from AND created_at < @to AND NOT anonymous
  GROUP BY member_id
) t CROSS JOIN members m
WHERE m.id = t.member_id AND m.community_id = @c AND NOT m.hidden AND NOT m."left" AND NOT m.forgotten
ORDER BY t.actions DESC, t.hours DESC, m.name, m.id
LIMIT @n`, map[string]any{"c": int64(c), "from": utc(w.From), "to": utc(w.To), "n": n}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("top contributors: %w", unavailable(err))
	}
	out := make([]digest.Contributor, len(rows))
	for i, r := range rows {
		out[i] = digest.Contributor{Name: r.Name, Actions: r.Actions, Hours: bot.Amount(r.Hours)}
	}
	return out, nil
}

// DigestWins returns at most n wins created in w, oldest first (see digest.Store).
func (s *Store) DigestWins(ctx context.Context, c bot.CommunityID, w impact.Window, n int) ([]digest.Win, error) {
	var rows []struct {
		No     int64
		Text   string
		Author string
	}
	err := s.db.WithContext(ctx).Raw(`
SELECT w.no, w.text, CASE WHEN m.hidden OR m."left" OR m.forgotten THEN '' ELSE m.name END AS author
FROM wins w JOIN members m ON m.id = w.member_id
WHERE w.community_id = @c AND w.created_at >= @from AND w.created_at < @to
ORDER BY w.created_at, w.id
LIMIT @n`, map[string]any{"c": int64(c), "from": utc(w.From), "to": utc(w.To), "n": n}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("period wins: %w", unavailable(err))
	}
	out := make([]digest.Win, len(rows))
	for i, r := range rows {
		out[i] = digest.Win{No: r.No, Text: r.Text, Author: r.Author}
	}
	return out, nil
}

// DigestOpenings returns upcoming open opportunities with a slot left
// (see digest.Store).
func (s *Store) DigestOpenings(ctx context.Context, c bot.CommunityID, now time.Time, n int) ([]digest.Opening, error) {
	var rows []Opportunity
	err := s.db.WithContext(ctx).
		Where("community_id = ? AND starts_at > ? AND status = ? AND (slots = 0 OR confirmed < slots)", int64(c), utc(now), "open").
		Order("starts_at, id").Limit(n).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("open opportunities: %w", unavailable(err))
	}
	out := make([]digest.Opening, len(rows))
	for i, r := range rows {
		out[i] = digest.Opening{No: r.No, Title: r.Title, StartsAt: r.StartsAt.UTC(), Slots: r.Slots, Confirmed: r.Confirmed}
	}
	return out, nil
}
