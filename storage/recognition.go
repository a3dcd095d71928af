package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/recognition"
)

var _ recognition.Store = (*Store)(nil)

// erasedText replaces texts a forgotten member wrote.
const erasedText = "[erased]"

// lockRows locks the rows of table that where selects until the transaction
// ends and returns how many there are. On PostgreSQL it is SELECT … FOR
// UPDATE (s.forUpdate); SQLite transactions already hold the database's
// write lock from their start (_txlock=immediate), so there it only counts.
func (s *Store) lockRows(tx *gorm.DB, table, where string, args ...any) (int64, error) {
	if s.postgres {
		var ids []int64
		if err := s.forUpdate(tx.Table(table)).Where(where, args...).Pluck("id", &ids).Error; err != nil {
			return 0, err
		}
		return int64(len(ids)), nil
	}
	var n int64
	err := tx.Table(table).Where(where, args...).Count(&n).Error
	return n, err
}

// PostWin stores a win and the author's activity in one transaction.
func (s *Store) PostWin(ctx context.Context, c bot.CommunityID, member bot.MemberID, text string, at time.Time) (int64, error) {
	var no int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if s.postgres {
			// The number and the row in one statement.
			if err := tx.Raw(`WITH n AS (`+nextNoSQL+`)
INSERT INTO wins (community_id, no, member_id, text, cheers, created_at)
SELECT ?::bigint, n.value, ?::bigint, ?::text, 0, ?::timestamptz FROM n RETURNING no`,
				int64(c), "win", int64(c), int64(member), text, utc(at)).Scan(&no).Error; err != nil {
				return fmt.Errorf("insert win: %w", err)
			}
			if no == 0 {
				return fmt.Errorf("insert win: no row returned")
			}
		} else {
			var err error
			if no, err = nextNo(tx, int64(c), "win"); err != nil {
				return err
			}
			w := Win{CommunityID: int64(c), No: no, MemberID: int64(member), Text: text, CreatedAt: utc(at)}
			if err := tx.Create(&w).Error; err != nil {
				return fmt.Errorf("insert win: %w", err)
			}
		}
		return s.recordActivity(tx, int64(c), int64(member), ActWin, at)
	})
	if err != nil {
		return 0, fmt.Errorf("post win: %w", err)
	}
	return no, nil
}

// Cheer counts member's cheer on win number no once. The cheer row (unique
// per win and member) and the win's counter change in one transaction.
func (s *Store) Cheer(ctx context.Context, c bot.CommunityID, no int64, member bot.MemberID, at time.Time) (int, bool, error) {
	var (
		w     Win
		added bool
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		n, err := s.lockRows(tx, "wins", "community_id = ? AND no = ?", c, no)
		if err != nil {
			return fmt.Errorf("lock win: %w", err)
		}
		if n == 0 {
			return recognition.ErrNoWin
		}
		if err := tx.Where("community_id = ? AND no = ?", c, no).Take(&w).Error; err != nil {
			return fmt.Errorf("load win: %w", err)
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&Cheer{CommunityID: int64(c), WinID: w.ID, MemberID: int64(member), CreatedAt: utc(at)})
		if res.Error != nil {
			return fmt.Errorf("insert cheer: %w", res.Error)
		}
		added = res.RowsAffected == 1
		if !added {
			return nil
		}
		if err := tx.Model(&Win{}).Where("id = ? AND community_id = ?", w.ID, c).
			UpdateColumn("cheers", gorm.Expr("cheers + 1")).Error; err != nil {
			return fmt.Errorf("count cheer: %w", err)
		}
		w.Cheers++
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("cheer win %d: %w", no, err)
	}
	return w.Cheers, added, nil
}

// GiveKudos stores k unless the giver already gave limit kudos in day. The
// giver's member row is locked (PostgreSQL; SQLite transactions are
// exclusive) before counting, so concurrent kudos from one giver queue and
// the limit is exact.
func (s *Store) GiveKudos(ctx context.Context, c bot.CommunityID, k recognition.Kudos, day recognition.Period, limit int) (bool, error) {
	var hidden bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		n, err := s.lockRows(tx, "members", "id = ? AND community_id = ?", k.From, c)
		if err != nil {
			return fmt.Errorf("lock giver: %w", err)
		}
		if n == 0 {
			return recognition.ErrNoMember
		}
		var to Member
		if err := tx.Select("id", "hidden", "forgotten").Where("id = ? AND community_id = ?", k.To, c).Take(&to).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return recognition.ErrNoMember
			}
			return fmt.Errorf("load receiver: %w", err)
		}
		hidden = to.Hidden || to.Forgotten
		var given int64
		if err := tx.Model(&Kudos{}).Where("community_id = ? AND from_id = ? AND created_at >= ? AND created_at < ?",
			c, k.From, utc(day.From), utc(day.To)).Count(&given).Error; err != nil {
			return fmt.Errorf("count kudos: %w", err)
		}
		if given >= int64(limit) {
			return recognition.ErrKudosLimit
		}
		row := Kudos{CommunityID: int64(c), FromID: int64(k.From), ToID: int64(k.To), Reason: k.Reason, CreatedAt: utc(k.At)}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert kudos: %w", err)
		}
		return s.recordActivity(tx, int64(c), int64(k.From), ActKudos, k.At)
	})
	if err != nil {
		return false, fmt.Errorf("give kudos: %w", err)
	}
	return hidden, nil
}

type leaderRow struct {
	MemberID   int64
	ExternalID string
	Name       string
	Amount     int64
	Actions    int64
	Hours      int64
	Kudos      int64
}

// Leaders ranks members in SQL (see recognition.Store).
func (s *Store) Leaders(ctx context.Context, c bot.CommunityID, goalID int64, p recognition.Period, limit int) ([]recognition.Leader, error) {
	if p.All() {
		// All time is bounded too, so the planner reads the ledger through
		// the time-ordered indexes (ix_contrib_time, ix_contrib_goal) in
		// insertion order instead of grouping through ix_contrib_member
		// with random row lookups.
		p = recognition.Period{From: time.Unix(0, 0), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	const inPeriod = " AND created_at >= ? AND created_at < ?"
	period := []any{utc(p.From), utc(p.To)}
	const members = ` JOIN members m ON m.id = t.member_id
WHERE m.community_id = ? AND m.hidden = ? AND m."left" = ? AND m.forgotten = ?`
	var (
		q    string
		args []any
	)
	if goalID != 0 {
		q = `SELECT m.id AS member_id, m.external_id, m.name, t.amount FROM (
SELECT member_id, CAST(SUM(amount) AS BIGINT) AS amount FROM contributions
WHERE community_id = ? AND goal_id = ? AND anonymous = ?` + inPeriod + `
GROUP BY member_id) t` + members + ` AND t.amount > 0
ORDER BY t.amount DESC, m.id LIMIT ?`
		args = append([]any{c, goalID, false}, period...)
	} else {
		q = `SELECT m.id AS member_id, m.external_id, m.name, t.actions, t.hours, t.kudos FROM (
SELECT member_id, CAST(SUM(actions) AS BIGINT) AS actions, CAST(SUM(hours) AS BIGINT) AS hours, CAST(SUM(kudos) AS BIGINT) AS kudos FROM (
SELECT member_id,
 CASE WHEN kind IN ('pledge', 'log', 'attended') THEN 1 ELSE 0 END AS actions,
 CASE WHEN kind IN ('hours', 'attended') THEN amount ELSE 0 END AS hours,
 0 AS kudos
FROM contributions WHERE community_id = ? AND anonymous = ?` + inPeriod + `
UNION ALL
SELECT to_id AS member_id, 0 AS actions, 0 AS hours, 1 AS kudos FROM kudos WHERE community_id = ?` + inPeriod + `
) u GROUP BY member_id) t` + members + ` AND (t.actions > 0 OR t.hours > 0 OR t.kudos > 0)
ORDER BY t.actions DESC, t.hours DESC, t.kudos DESC, m.id LIMIT ?`
		args = append([]any{c, false}, period...)
		args = append(args, c)
		args = append(args, period...)
	}
	args = append(args, c, false, false, false, limit)
	var rows []leaderRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("leaderboard: %w", unavailable(err))
	}
	out := make([]recognition.Leader, len(rows))
	for i, r := range rows {
		out[i] = recognition.Leader{
			Member: bot.Member{ID: bot.MemberID(r.MemberID), Ref: bot.UserRef{ID: r.ExternalID}, Name: displayName(Member{Name: r.Name})},
			Amount: bot.Amount(r.Amount), Actions: r.Actions, Hours: bot.Amount(r.Hours), Kudos: r.Kudos,
		}
	}
	return out, nil
}

// Impact returns a member's own summary, each figure computed in SQL.
func (s *Store) Impact(ctx context.Context, c bot.CommunityID, member bot.MemberID) (recognition.Impact, error) {
	var im recognition.Impact
	db := s.db.WithContext(ctx)
	var pledges []struct {
		No                           int64
		Title, Unit, Status          string
		Amount, Fulfilled, Cancelled int64
		Anonymous                    bool
	}
	err := db.Raw(`SELECT p.no, g.title, g.unit, p.status, p.amount, p.fulfilled, p.cancelled, p.anonymous
FROM pledges p JOIN goals g ON g.id = p.goal_id
WHERE p.community_id = ? AND p.member_id = ? AND (p.fulfilled > 0 OR p.amount - p.fulfilled - p.cancelled > 0)
ORDER BY p.no DESC LIMIT 10`, c, member).Scan(&pledges).Error
	if err != nil {
		return im, fmt.Errorf("my pledges: %w", unavailable(err))
	}
	for _, p := range pledges {
		im.Pledges = append(im.Pledges, recognition.PledgeLine{No: p.No, Goal: p.Title, Unit: p.Unit, Status: p.Status,
			Amount: bot.Amount(p.Amount), Fulfilled: bot.Amount(p.Fulfilled), Cancelled: bot.Amount(p.Cancelled), Anonymous: p.Anonymous})
	}
	var totals []struct {
		Title, Unit   string
		Amount, Count int64
	}
	err = db.Raw(`SELECT g.title, g.unit, CAST(SUM(c.amount) AS BIGINT) AS amount, COUNT(*) AS count
FROM contributions c JOIN goals g ON g.id = c.goal_id
WHERE c.community_id = ? AND c.member_id = ?
GROUP BY g.id, g.no, g.title, g.unit ORDER BY g.no`, c, member).Scan(&totals).Error
	if err != nil {
		return im, fmt.Errorf("my contributions: %w", unavailable(err))
	}
	for _, t := range totals {
		im.Contributions = append(im.Contributions, recognition.GoalTotal{Goal: t.Title, Unit: t.Unit, Amount: bot.Amount(t.Amount), Count: t.Count})
	}
	var sums struct{ Hours, KudosIn, KudosOut, Wins, Cheers int64 }
	err = db.Raw(`SELECT
 (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM contributions WHERE community_id = ? AND member_id = ? AND kind IN ('hours', 'attended')) AS hours,
 (SELECT COUNT(*) FROM kudos WHERE community_id = ? AND to_id = ?) AS kudos_in,
 (SELECT COUNT(*) FROM kudos WHERE community_id = ? AND from_id = ?) AS kudos_out,
 (SELECT COUNT(*) FROM wins WHERE community_id = ? AND member_id = ?) AS wins,
 (SELECT CAST(COALESCE(SUM(cheers), 0) AS BIGINT) FROM wins WHERE community_id = ? AND member_id = ?) AS cheers`,
		c, member, c, member, c, member, c, member, c, member).Scan(&sums).Error
	if err != nil {
		return im, fmt.Errorf("my totals: %w", unavailable(err))
	}
	im.Hours, im.KudosReceived, im.KudosGiven, im.Wins, im.Cheers = bot.Amount(sums.Hours), sums.KudosIn, sums.KudosOut, sums.Wins, sums.Cheers
	return im, nil
}

// ActiveIn reports whether member has any activity in p (an index seek on
// ix_activity_member).
func (s *Store) ActiveIn(ctx context.Context, c bot.CommunityID, member bot.MemberID, p recognition.Period) (bool, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&Activity{}).
		Where("community_id = ? AND member_id = ? AND at >= ? AND at < ?", c, member, utc(p.From), utc(p.To)).
		Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("active in: %w", unavailable(err))
	}
	return len(ids) > 0, nil
}

// SetHidden sets whether member is off public boards and shout-outs.
func (s *Store) SetHidden(ctx context.Context, c bot.CommunityID, member bot.MemberID, hidden bool) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if !hidden {
			var forgotten []bool
			if err := tx.Model(&Member{}).Where("id = ? AND community_id = ?", member, c).Pluck("forgotten", &forgotten).Error; err != nil {
				return err
			}
			if len(forgotten) == 1 && forgotten[0] {
				return recognition.ErrForgotten
			}
		}
		return tx.Model(&Member{}).Where("id = ? AND community_id = ?", member, c).Update("hidden", hidden).Error
	})
	if err != nil {
		return fmt.Errorf("set hidden: %w", err)
	}
	return nil
}

// Export returns everything stored about member in community c.
func (s *Store) Export(ctx context.Context, c bot.CommunityID, member bot.MemberID) (recognition.Export, error) {
	var ex recognition.Export
	db := s.db.WithContext(ctx)
	var m Member
	if err := db.Where("id = ? AND community_id = ?", member, c).Take(&m).Error; err != nil {
		return ex, fmt.Errorf("export member: %w", unavailable(err))
	}
	ex.Member = recognition.ExportMember{Name: m.Name, Organiser: m.Organiser, Hidden: m.Hidden, FirstSeenAt: m.FirstSeenAt.UTC(), LastSeenAt: m.LastSeenAt.UTC()}
	ex.Pledges, ex.Contributions, ex.Wins = []recognition.ExportPledge{}, []recognition.ExportContribution{}, []recognition.ExportWin{}
	ex.KudosGiven, ex.KudosReceived, ex.Signups = []recognition.ExportKudos{}, []recognition.ExportKudos{}, []recognition.ExportSignup{}

	var pledges []struct {
		No                           int64
		Title, Unit, Status          string
		Amount, Fulfilled, Cancelled int64
		Anonymous                    bool
		CreatedAt                    time.Time
	}
	if err := db.Raw(`SELECT p.no, g.title, g.unit, p.status, p.amount, p.fulfilled, p.cancelled, p.anonymous, p.created_at
FROM pledges p JOIN goals g ON g.id = p.goal_id WHERE p.community_id = ? AND p.member_id = ? ORDER BY p.no`, c, member).Scan(&pledges).Error; err != nil {
		return ex, fmt.Errorf("export pledges: %w", unavailable(err))
	}
	for _, p := range pledges {
		ex.Pledges = append(ex.Pledges, recognition.ExportPledge{No: p.No, Goal: p.Title, Unit: p.Unit, Amount: bot.Amount(p.Amount).String(),
			Fulfilled: bot.Amount(p.Fulfilled).String(), Cancelled: bot.Amount(p.Cancelled).String(), Status: p.Status, Anonymous: p.Anonymous, CreatedAt: p.CreatedAt.UTC()})
	}
	var contribs []struct {
		Kind, Note  string
		Title, Unit *string
		Amount      int64
		Anonymous   bool
		CreatedAt   time.Time
	}
	if err := db.Raw(`SELECT c.kind, c.note, g.title, g.unit, c.amount, c.anonymous, c.created_at
FROM contributions c LEFT JOIN goals g ON g.id = c.goal_id WHERE c.community_id = ? AND c.member_id = ? ORDER BY c.created_at, c.id`, c, member).Scan(&contribs).Error; err != nil {
		return ex, fmt.Errorf("export contributions: %w", unavailable(err))
	}
	for _, r := range contribs {
		e := recognition.ExportContribution{Kind: r.Kind, Amount: bot.Amount(r.Amount).String(), Note: r.Note, Anonymous: r.Anonymous, CreatedAt: r.CreatedAt.UTC()}
		if r.Title != nil {
			e.Goal = *r.Title
		}
		if r.Unit != nil {
			e.Unit = *r.Unit
		}
		ex.Contributions = append(ex.Contributions, e)
	}
	var wins []Win
	if err := db.Where("community_id = ? AND member_id = ?", c, member).Order("no").Find(&wins).Error; err != nil {
		return ex, fmt.Errorf("export wins: %w", unavailable(err))
	}
	for _, w := range wins {
		ex.Wins = append(ex.Wins, recognition.ExportWin{No: w.No, Text: w.Text, Cheers: w.Cheers, CreatedAt: w.CreatedAt.UTC()})
	}
	for _, dir := range []struct {
		mine, other string
		into        *[]recognition.ExportKudos
	}{{"from_id", "to_id", &ex.KudosGiven}, {"to_id", "from_id", &ex.KudosReceived}} {
		var rows []struct {
			Name      string
			Forgotten bool
			Reason    string
			CreatedAt time.Time
		}
		if err := db.Raw(`SELECT m.name, m.forgotten, k.reason, k.created_at FROM kudos k JOIN members m ON m.id = k.`+dir.other+`
WHERE k.community_id = ? AND k.`+dir.mine+` = ? ORDER BY k.created_at, k.id`, c, member).Scan(&rows).Error; err != nil {
			return ex, fmt.Errorf("export kudos: %w", unavailable(err))
		}
		for _, r := range rows {
			*dir.into = append(*dir.into, recognition.ExportKudos{Member: displayName(Member{Name: r.Name, Forgotten: r.Forgotten}), Reason: r.Reason, CreatedAt: r.CreatedAt.UTC()})
		}
	}
	var signups []struct {
		Title, Status string
		StartsAt      time.Time
		Attended      bool
	}
	if err := db.Raw(`SELECT o.title, o.starts_at, s.status, s.attended FROM signups s JOIN opportunities o ON o.id = s.opportunity_id
WHERE s.community_id = ? AND s.member_id = ? ORDER BY o.starts_at, s.id`, c, member).Scan(&signups).Error; err != nil {
		return ex, fmt.Errorf("export signups: %w", unavailable(err))
	}
	for _, r := range signups {
		ex.Signups = append(ex.Signups, recognition.ExportSignup{Opportunity: r.Title, StartsAt: r.StartsAt.UTC(), Status: r.Status, Attended: r.Attended})
	}
	return ex, nil
}

// Forget erases member's personal data in one transaction: the name is
// blanked, the member marked forgotten and hidden, win texts and kudos
// reasons they wrote become "[erased]", contribution notes are emptied, and
// their contributions and pledges become anonymous so totals stay.
func (s *Store) Forget(ctx context.Context, c bot.CommunityID, member bot.MemberID) (recognition.Erased, error) {
	var e recognition.Erased
	err := s.tx(ctx, func(tx *gorm.DB) error {
		e = recognition.Erased{}
		if err := tx.Model(&Member{}).Where("id = ? AND community_id = ?", member, c).
			Updates(map[string]any{"name": "", "forgotten": true, "hidden": true}).Error; err != nil {
			return fmt.Errorf("erase member: %w", err)
		}
		res := tx.Model(&Win{}).Where("community_id = ? AND member_id = ? AND text <> ?", c, member, erasedText).Update("text", erasedText)
		if res.Error != nil {
			return fmt.Errorf("erase wins: %w", res.Error)
		}
		e.WinTexts = res.RowsAffected
		res = tx.Model(&Kudos{}).Where("community_id = ? AND from_id = ? AND reason <> ?", c, member, erasedText).Update("reason", erasedText)
		if res.Error != nil {
			return fmt.Errorf("erase kudos: %w", res.Error)
		}
		e.KudosReasons = res.RowsAffected
		res = tx.Model(&Contribution{}).Where("community_id = ? AND member_id = ? AND note <> ?", c, member, "").Update("note", "")
		if res.Error != nil {
			return fmt.Errorf("erase notes: %w", res.Error)
		}
		e.Notes = res.RowsAffected
		if err := tx.Model(&Contribution{}).Where("community_id = ? AND member_id = ?", c, member).Update("anonymous", true).Error; err != nil {
			return fmt.Errorf("anonymise contributions: %w", err)
		}
		if err := tx.Model(&Contribution{}).Where("community_id = ? AND member_id = ?", c, member).Count(&e.Contributions).Error; err != nil {
			return fmt.Errorf("count contributions: %w", err)
		}
		if err := tx.Model(&Pledge{}).Where("community_id = ? AND member_id = ?", c, member).Update("anonymous", true).Error; err != nil {
			return fmt.Errorf("anonymise pledges: %w", err)
		}
		if err := tx.Model(&Pledge{}).Where("community_id = ? AND member_id = ?", c, member).Count(&e.Pledges).Error; err != nil {
			return fmt.Errorf("count pledges: %w", err)
		}
		return nil
	})
	if err != nil {
		return e, fmt.Errorf("forget member %d: %w", member, err)
	}
	return e, nil
}
