package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/volunteer"
)

var _ volunteer.Store = (*Store)(nil)

// Opportunity and series statuses.
const (
	oppOpen      = "open"
	oppCancelled = "cancelled"
	seriesActive = "active"
)

// CreateOpportunity stores n, and its series when n.Rule is set (see
// volunteer.Store). A slug used by another opportunity gets -2, -3 … appended.
func (s *Store) CreateOpportunity(ctx context.Context, c bot.CommunityID, n volunteer.New) (volunteer.Opportunity, error) {
	var row Opportunity
	err := s.tx(ctx, func(tx *gorm.DB) error {
		slug, err := oppFreeSlug(tx, int64(c), n.Slug)
		if err != nil {
			return err
		}
		minutes := int(n.Duration.Round(time.Minute) / time.Minute)
		var seriesID *int64
		if n.Rule != "" {
			sr := Series{CommunityID: int64(c), Title: n.Title, Rule: n.Rule, Minutes: minutes, Slots: n.Slots,
				Place: n.Place, Status: seriesActive, CreatedAt: utc(n.At)}
			if err := tx.Create(&sr).Error; err != nil {
				return fmt.Errorf("create series: %w", err)
			}
			seriesID = &sr.ID
		}
		no, err := nextNo(tx, int64(c), "opportunity")
		if err != nil {
			return err
		}
		row = Opportunity{CommunityID: int64(c), No: no, SeriesID: seriesID, Slug: slug, Title: n.Title,
			StartsAt: utc(n.StartsAt), Minutes: minutes, Slots: n.Slots, Place: n.Place, Status: oppOpen,
			CreatedBy: int64(n.By), CreatedAt: utc(n.At)}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert opportunity: %w", err)
		}
		return nil
	})
	if err != nil {
		return volunteer.Opportunity{}, fmt.Errorf("create opportunity: %w", err)
	}
	return toOpportunity(row, n.Rule), nil
}

// oppFreeSlug returns base, or base-2, base-3 … whichever no other
// opportunity of community uses.
func oppFreeSlug(tx *gorm.DB, community int64, base string) (string, error) {
	var taken []string
	if err := tx.Model(&Opportunity{}).Distinct("slug").
		Where("community_id = ? AND (slug = ? OR slug LIKE ? ESCAPE '\\')", community, base, likePrefix(base+"-")).
		Pluck("slug", &taken).Error; err != nil {
		return "", fmt.Errorf("opportunity slugs: %w", err)
	}
	used := make(map[string]bool, len(taken))
	for _, t := range taken {
		used[t] = true
	}
	slug := base
	for i := 2; used[slug]; i++ {
		slug = base + "-" + strconv.Itoa(i)
	}
	return slug, nil
}

// FindOpportunities returns the opportunities ref could mean (see volunteer.Store).
func (s *Store) FindOpportunities(ctx context.Context, c bot.CommunityID, ref string) ([]volunteer.Opportunity, error) {
	db := s.db.WithContext(ctx)
	var rows []Opportunity
	q := db.Where("community_id = ?", c)
	if n, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64); err == nil && strings.HasPrefix(ref, "#") {
		q = q.Where("no = ?", n)
	} else {
		q = q.Where("slug = ? OR LOWER(title) LIKE ? ESCAPE '\\'", strings.ToLower(ref), likePrefix(ref))
	}
	if err := q.Order("starts_at DESC, no DESC").Limit(100).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find opportunities: %w", unavailable(err))
	}
	out, err := oppsWithRules(db, int64(c), rows)
	if err != nil {
		return nil, fmt.Errorf("find opportunities: %w", unavailable(err))
	}
	return out, nil
}

// UpcomingOpportunities returns open opportunities starting after after,
// soonest first (see volunteer.Store).
func (s *Store) UpcomingOpportunities(ctx context.Context, c bot.CommunityID, after time.Time, limit int) ([]volunteer.Opportunity, error) {
	db := s.db.WithContext(ctx)
	var rows []Opportunity
	if err := db.Where("community_id = ? AND status = ? AND starts_at > ?", c, oppOpen, utc(after)).
		Order("starts_at, no").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("open opportunities: %w", unavailable(err))
	}
	out, err := oppsWithRules(db, int64(c), rows)
	if err != nil {
		return nil, fmt.Errorf("open opportunities: %w", unavailable(err))
	}
	return out, nil
}

// oppsWithRules maps rows to domain opportunities with their series' rules.
func oppsWithRules(db *gorm.DB, community int64, rows []Opportunity) ([]volunteer.Opportunity, error) {
	var ids []int64
	for _, r := range rows {
		if r.SeriesID != nil {
			ids = append(ids, *r.SeriesID)
		}
	}
	rules := map[int64]string{}
	if len(ids) > 0 {
		var series []Series
		if err := db.Select("id", "rule").Where("community_id = ? AND id IN ?", community, ids).Find(&series).Error; err != nil {
			return nil, fmt.Errorf("series rules: %w", err)
		}
		for _, sr := range series {
			rules[sr.ID] = sr.Rule
		}
	}
	out := make([]volunteer.Opportunity, len(rows))
	for i, r := range rows {
		rule := ""
		if r.SeriesID != nil {
			rule = rules[*r.SeriesID]
		}
		out[i] = toOpportunity(r, rule)
	}
	return out, nil
}

func toOpportunity(r Opportunity, rule string) volunteer.Opportunity {
	o := volunteer.Opportunity{ID: r.ID, No: r.No, Rule: rule, Slug: r.Slug, Title: r.Title, StartsAt: r.StartsAt.UTC(),
		Duration: time.Duration(r.Minutes) * time.Minute, Slots: r.Slots, Place: r.Place, Cancelled: r.Status == oppCancelled,
		Confirmed: r.Confirmed, Waitlisted: r.Waitlisted}
	if r.SeriesID != nil {
		o.SeriesID = *r.SeriesID
	}
	return o
}

// lockUpcoming is lockOpp for an opportunity that must still be open and
// not yet started at at.
func (s *Store) lockUpcoming(tx *gorm.DB, community, id int64, at time.Time) (Opportunity, error) {
	o, err := s.lockOpp(tx, community, id)
	switch {
	case err != nil:
		return o, err
	case o.Status == oppCancelled:
		return o, volunteer.ErrCancelled
	case !o.StartsAt.After(at):
		return o, volunteer.ErrStarted
	}
	return o, nil
}

// lockOpp reads opportunity id of community inside tx, locked until the
// transaction ends (PostgreSQL; SQLite writers are already exclusive).
func (s *Store) lockOpp(tx *gorm.DB, community, id int64) (Opportunity, error) {
	var o Opportunity
	if err := s.forUpdate(tx).Where("community_id = ? AND id = ?", community, id).Take(&o).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return o, volunteer.ErrNotFound
		}
		return o, fmt.Errorf("lock opportunity %d: %w", id, err)
	}
	return o, nil
}

// oppRule returns the rule of o's series, or "".
func oppRule(tx *gorm.DB, o Opportunity) (string, error) {
	if o.SeriesID == nil {
		return "", nil
	}
	var rule string
	if err := tx.Model(&Series{}).Where("community_id = ? AND id = ?", o.CommunityID, *o.SeriesID).
		Pluck("rule", &rule).Error; err != nil {
		return "", fmt.Errorf("series rule: %w", err)
	}
	return rule, nil
}

// saveOppCounts writes o's counters; o's row is locked by the caller.
func saveOppCounts(tx *gorm.DB, o Opportunity) error {
	if err := tx.Model(&Opportunity{}).Where("community_id = ? AND id = ?", o.CommunityID, o.ID).
		UpdateColumns(map[string]any{"confirmed": o.Confirmed, "waitlisted": o.Waitlisted}).Error; err != nil {
		return fmt.Errorf("update opportunity %d counts: %w", o.ID, err)
	}
	return nil
}

// Join signs member up to opportunity id (see volunteer.Store). The
// opportunity row is locked while its counters are read and written, so
// concurrent joins from any number of replicas never exceed its slots and
// take waitlist positions in commit order.
func (s *Store) Join(ctx context.Context, c bot.CommunityID, id int64, member bot.MemberID, at time.Time) (volunteer.JoinResult, error) {
	var res volunteer.JoinResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		o, err := s.lockUpcoming(tx, int64(c), id, at)
		if err != nil {
			return err
		}
		var su Signup
		err = tx.Where("community_id = ? AND opportunity_id = ? AND member_id = ?", c, id, member).Take(&su).Error
		found := err == nil
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return fmt.Errorf("read signup: %w", err)
		}
		if found && su.Status != SignupLeft {
			return &volunteer.AlreadyError{Status: su.Status, Position: su.Position}
		}
		status, pos := SignupConfirmed, 0
		if o.Slots > 0 && o.Confirmed >= o.Slots {
			status, pos = SignupWaitlisted, o.Waitlisted+1
			o.Waitlisted++
		} else {
			o.Confirmed++
		}
		if found {
			err = tx.Model(&Signup{}).Where("community_id = ? AND id = ?", c, su.ID).
				UpdateColumns(map[string]any{"status": status, "position": pos, "updated_at": utc(at)}).Error
		} else {
			err = tx.Create(&Signup{CommunityID: int64(c), OpportunityID: id, MemberID: int64(member), Status: status,
				Position: pos, CreatedAt: utc(at), UpdatedAt: utc(at)}).Error
		}
		if err != nil {
			return fmt.Errorf("save signup: %w", err)
		}
		if err := saveOppCounts(tx, o); err != nil {
			return err
		}
		if err := s.recordActivity(tx, int64(c), int64(member), ActSignup, at); err != nil {
			return err
		}
		rule, err := oppRule(tx, o)
		if err != nil {
			return err
		}
		res = volunteer.JoinResult{Opportunity: toOpportunity(o, rule), Status: status, Position: pos}
		return nil
	})
	if err != nil {
		return volunteer.JoinResult{}, fmt.Errorf("join opportunity %d: %w", id, err)
	}
	return res, nil
}

// promote confirms waitlisted members of o, first come first served, into
// its free places, renumbers the rest of the waitlist from 1 and updates o's
// counters in memory. It returns the promoted member ids in order. o's row is
// locked by the caller.
func promote(tx *gorm.DB, o *Opportunity, at time.Time) ([]int64, error) {
	k := o.Waitlisted
	if o.Slots > 0 {
		k = min(k, o.Slots-o.Confirmed)
	}
	if k <= 0 {
		return nil, nil
	}
	var ids []int64
	if err := tx.Model(&Signup{}).Where("community_id = ? AND opportunity_id = ? AND status = ? AND position <= ?",
		o.CommunityID, o.ID, SignupWaitlisted, k).Order("position").Pluck("member_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("first waitlisted: %w", err)
	}
	if err := tx.Model(&Signup{}).Where("community_id = ? AND opportunity_id = ? AND status = ? AND position <= ?",
		o.CommunityID, o.ID, SignupWaitlisted, k).
		UpdateColumns(map[string]any{"status": SignupConfirmed, "position": 0, "updated_at": utc(at)}).Error; err != nil {
		return nil, fmt.Errorf("promote: %w", err)
	}
	if err := tx.Model(&Signup{}).Where("community_id = ? AND opportunity_id = ? AND status = ? AND position > ?",
		o.CommunityID, o.ID, SignupWaitlisted, k).
		UpdateColumn("position", gorm.Expr("position - ?", k)).Error; err != nil {
		return nil, fmt.Errorf("renumber waitlist: %w", err)
	}
	o.Confirmed += len(ids)
	o.Waitlisted -= len(ids)
	return ids, nil
}

// Leave withdraws member from opportunity id (see volunteer.Store).
func (s *Store) Leave(ctx context.Context, c bot.CommunityID, id int64, member bot.MemberID, at time.Time) (volunteer.LeaveResult, error) {
	var res volunteer.LeaveResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		o, err := s.lockUpcoming(tx, int64(c), id, at)
		if err != nil {
			return err
		}
		var su Signup
		err = tx.Where("community_id = ? AND opportunity_id = ? AND member_id = ? AND status <> ?", c, id, member, SignupLeft).Take(&su).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return volunteer.ErrNotSignedUp
		}
		if err != nil {
			return fmt.Errorf("read signup: %w", err)
		}
		if err := tx.Model(&Signup{}).Where("community_id = ? AND id = ?", c, su.ID).
			UpdateColumns(map[string]any{"status": SignupLeft, "position": 0, "updated_at": utc(at)}).Error; err != nil {
			return fmt.Errorf("withdraw: %w", err)
		}
		var promoted []int64
		if su.Status == SignupWaitlisted {
			o.Waitlisted--
			if err := tx.Model(&Signup{}).Where("community_id = ? AND opportunity_id = ? AND status = ? AND position > ?",
				c, id, SignupWaitlisted, su.Position).UpdateColumn("position", gorm.Expr("position - 1")).Error; err != nil {
				return fmt.Errorf("renumber waitlist: %w", err)
			}
		} else {
			o.Confirmed--
			if promoted, err = promote(tx, &o, at); err != nil {
				return err
			}
		}
		if err := saveOppCounts(tx, o); err != nil {
			return err
		}
		members, err := s.volMembers(tx, int64(c), promoted)
		if err != nil {
			return err
		}
		rule, err := oppRule(tx, o)
		if err != nil {
			return err
		}
		res = volunteer.LeaveResult{Opportunity: toOpportunity(o, rule), Was: su.Status, Promoted: members}
		return nil
	})
	if err != nil {
		return volunteer.LeaveResult{}, fmt.Errorf("leave opportunity %d: %w", id, err)
	}
	return res, nil
}

// volMembers returns the members with ids, in that order, as bot.Members.
func (s *Store) volMembers(tx *gorm.DB, community int64, ids []int64) ([]bot.Member, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var com Community
	if err := tx.Select("id", "platform", "external_id").Where("id = ?", community).Take(&com).Error; err != nil {
		return nil, fmt.Errorf("load community: %w", err)
	}
	var rows []Member
	if err := tx.Where("community_id = ? AND id IN ?", community, ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load members: %w", err)
	}
	byID := make(map[int64]Member, len(rows))
	for _, m := range rows {
		byID[m.ID] = m
	}
	out := make([]bot.Member, 0, len(ids))
	for _, id := range ids {
		if m, ok := byID[id]; ok {
			out = append(out, toMember(m, bot.Platform(com.Platform), com.ExternalID))
		}
	}
	return out, nil
}

// signedUp returns the ids of the confirmed and waitlisted members of the
// opportunities, by opportunity, in sign-up order.
func signedUp(tx *gorm.DB, community int64, opps []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(opps) == 0 {
		return out, nil
	}
	var rows []Signup
	if err := tx.Select("opportunity_id", "member_id").
		Where("community_id = ? AND opportunity_id IN ? AND status IN ?", community, opps, []string{SignupConfirmed, SignupWaitlisted}).
		Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("signed up: %w", err)
	}
	for _, r := range rows {
		out[r.OpportunityID] = append(out[r.OpportunityID], r.MemberID)
	}
	return out, nil
}

// Roster returns who is signed up to opportunity id (see volunteer.Store).
func (s *Store) Roster(ctx context.Context, c bot.CommunityID, id int64) ([]volunteer.Signup, error) {
	db := s.db.WithContext(ctx)
	var rows []Signup
	if err := db.Where("community_id = ? AND opportunity_id = ? AND status IN ?", c, id, []string{SignupConfirmed, SignupWaitlisted}).
		Order("CASE WHEN status = 'confirmed' THEN 0 ELSE 1 END, position, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("roster of %d: %w", id, unavailable(err))
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.MemberID
	}
	members, err := s.volMembers(db, int64(c), ids)
	if err != nil {
		return nil, fmt.Errorf("roster of %d: %w", id, unavailable(err))
	}
	byID := make(map[bot.MemberID]bot.Member, len(members))
	for _, m := range members {
		byID[m.ID] = m
	}
	out := make([]volunteer.Signup, 0, len(rows))
	for _, r := range rows {
		out = append(out, volunteer.Signup{Member: byID[bot.MemberID(r.MemberID)], Status: r.Status, Position: r.Position, Attended: r.Attended})
	}
	return out, nil
}

// EditOpportunity applies e to opportunity id (see volunteer.Store). On
// ErrSlotsTooFew the result still carries the opportunity as it is.
func (s *Store) EditOpportunity(ctx context.Context, c bot.CommunityID, id int64, e volunteer.Edit, at time.Time) (volunteer.EditResult, error) {
	var res volunteer.EditResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		o, err := s.lockOpp(tx, int64(c), id)
		if err != nil {
			return err
		}
		rule, err := oppRule(tx, o)
		if err != nil {
			return err
		}
		res.Before = toOpportunity(o, rule)
		if o.Status == oppCancelled {
			return volunteer.ErrCancelled
		}
		if e.Slots != nil && *e.Slots < o.Confirmed {
			return volunteer.ErrSlotsTooFew
		}
		if e.StartsAt != nil {
			o.StartsAt = utc(*e.StartsAt)
		}
		if e.Duration != nil {
			o.Minutes = int(e.Duration.Round(time.Minute) / time.Minute)
		}
		if e.Slots != nil {
			o.Slots = *e.Slots
		}
		if e.Place != nil {
			o.Place = *e.Place
		}
		promoted, err := promote(tx, &o, at)
		if err != nil {
			return err
		}
		if err := tx.Model(&Opportunity{}).Where("community_id = ? AND id = ?", c, id).UpdateColumns(map[string]any{
			"starts_at": o.StartsAt, "minutes": o.Minutes, "slots": o.Slots, "place": o.Place,
			"confirmed": o.Confirmed, "waitlisted": o.Waitlisted,
		}).Error; err != nil {
			return fmt.Errorf("update opportunity: %w", err)
		}
		ups, err := signedUp(tx, int64(c), []int64{id})
		if err != nil {
			return err
		}
		if res.SignedUp, err = s.volMembers(tx, int64(c), ups[id]); err != nil {
			return err
		}
		if res.Promoted, err = s.volMembers(tx, int64(c), promoted); err != nil {
			return err
		}
		res.After = toOpportunity(o, rule)
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("edit opportunity %d: %w", id, err)
	}
	return res, nil
}

// CancelOpportunity cancels opportunity id, or its series and every open
// occurrence starting after at (see volunteer.Store).
func (s *Store) CancelOpportunity(ctx context.Context, c bot.CommunityID, id int64, series bool, at time.Time) (volunteer.Cancelled, error) {
	var res volunteer.Cancelled
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res = volunteer.Cancelled{} // a retried attempt starts afresh
		o, err := s.lockOpp(tx, int64(c), id)
		if err != nil {
			return err
		}
		rule, err := oppRule(tx, o)
		if err != nil {
			return err
		}
		var rows []Opportunity
		if !series {
			if o.Status == oppCancelled {
				return volunteer.ErrCancelled
			}
			if !o.StartsAt.After(at) {
				return volunteer.ErrStarted
			}
			rows = []Opportunity{o}
		} else {
			if o.SeriesID == nil {
				return volunteer.ErrNoSeries
			}
			upd := tx.Model(&Series{}).Where("community_id = ? AND id = ? AND status <> ?", c, *o.SeriesID, oppCancelled).
				UpdateColumn("status", oppCancelled)
			if upd.Error != nil {
				return fmt.Errorf("cancel series: %w", upd.Error)
			}
			if err := s.forUpdate(tx).Where("community_id = ? AND series_id = ? AND status = ? AND starts_at > ?",
				c, *o.SeriesID, oppOpen, utc(at)).Order("starts_at").Find(&rows).Error; err != nil {
				return fmt.Errorf("occurrences: %w", err)
			}
			if upd.RowsAffected == 0 && len(rows) == 0 {
				return volunteer.ErrCancelled
			}
		}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		if len(ids) > 0 {
			if err := tx.Model(&Opportunity{}).Where("community_id = ? AND id IN ?", c, ids).
				UpdateColumn("status", oppCancelled).Error; err != nil {
				return fmt.Errorf("cancel occurrences: %w", err)
			}
		}
		ups, err := signedUp(tx, int64(c), ids)
		if err != nil {
			return err
		}
		res.SignedUp = map[int64][]bot.Member{}
		for _, r := range rows {
			r.Status = oppCancelled
			res.Opportunities = append(res.Opportunities, toOpportunity(r, rule))
			if res.SignedUp[r.ID], err = s.volMembers(tx, int64(c), ups[r.ID]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return volunteer.Cancelled{}, fmt.Errorf("cancel opportunity %d: %w", id, err)
	}
	return res, nil
}

// LogHours records self-logged hours (see volunteer.Store). With a goal, the
// goal row is locked, its progress updated and milestones recorded in the
// same transaction.
func (s *Store) LogHours(ctx context.Context, c bot.CommunityID, h volunteer.Hours) (volunteer.HoursResult, error) {
	var res volunteer.HoursResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		row := Contribution{CommunityID: int64(c), Kind: ContribHours, MemberID: int64(h.Member), Amount: int64(h.Amount), CreatedAt: utc(h.At)}
		if h.GoalID != 0 {
			var g Goal
			if err := s.forUpdate(tx).Where("community_id = ? AND id = ?", c, h.GoalID).Take(&g).Error; err != nil {
				return fmt.Errorf("lock goal %d: %w", h.GoalID, err)
			}
			if g.Status != "active" {
				return volunteer.ErrGoalClosed
			}
			row.GoalID = &h.GoalID
		}
		if h.OpportunityID != 0 {
			// Locked as MarkAttended locks it, so hours and attendance for
			// the same opportunity never both count.
			if _, err := s.lockOpp(tx, int64(c), h.OpportunityID); err != nil {
				return err
			}
			var n int64
			if err := tx.Model(&Contribution{}).Where("community_id = ? AND opportunity_id = ? AND member_id = ? AND kind = ?",
				c, h.OpportunityID, h.Member, ContribAttended).Count(&n).Error; err != nil {
				return fmt.Errorf("check attendance: %w", err)
			}
			if n > 0 {
				return volunteer.ErrAttended
			}
			row.OpportunityID = &h.OpportunityID
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert hours: %w", err)
		}
		if h.GoalID != 0 {
			th, err := addProgress(tx, int64(c), h.GoalID, int64(h.Amount), h.At)
			if err != nil {
				return err
			}
			res.Thresholds = th
			var progress int64
			if err := tx.Model(&Goal{}).Where("community_id = ? AND id = ?", c, h.GoalID).Pluck("progress", &progress).Error; err != nil {
				return fmt.Errorf("read progress: %w", err)
			}
			res.Progress = bot.Amount(progress)
		}
		return s.recordActivity(tx, int64(c), int64(h.Member), ActHours, h.At)
	})
	if err != nil {
		return volunteer.HoursResult{}, fmt.Errorf("log hours: %w", err)
	}
	return res, nil
}

// MarkAttended credits each member the opportunity's duration once (see
// volunteer.Store). The opportunity row is locked, so concurrent marks of
// the same opportunity cannot credit a member twice.
func (s *Store) MarkAttended(ctx context.Context, c bot.CommunityID, id int64, members []bot.MemberID, at time.Time) (volunteer.Attendance, error) {
	var res volunteer.Attendance
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res = volunteer.Attendance{} // a retried attempt starts afresh
		o, err := s.lockOpp(tx, int64(c), id)
		if err != nil {
			return err
		}
		if o.Status == oppCancelled {
			return volunteer.ErrCancelled
		}
		if o.Minutes <= 0 {
			return volunteer.ErrNoDuration
		}
		credit := (int64(o.Minutes)*100 + 30) / 60 // hundredths of hours, rounded
		for _, m := range members {
			var n int64
			if err := tx.Model(&Contribution{}).Where("community_id = ? AND opportunity_id = ? AND member_id = ? AND kind = ?",
				c, id, m, ContribAttended).Count(&n).Error; err != nil {
				return fmt.Errorf("check attendance: %w", err)
			}
			if n > 0 {
				res.Already = append(res.Already, m)
				continue
			}
			self := tx.Model(&Contribution{}).Where("community_id = ? AND opportunity_id = ? AND member_id = ? AND kind = ? AND goal_id IS NULL",
				c, id, m, ContribHours)
			var replaced int64
			if err := self.Session(&gorm.Session{}).Select("COALESCE(SUM(amount), 0)").Scan(&replaced).Error; err != nil {
				return fmt.Errorf("self-logged hours: %w", err)
			}
			if err := self.Session(&gorm.Session{}).Delete(&Contribution{}).Error; err != nil {
				return fmt.Errorf("replace self-logged hours: %w", err)
			}
			res.Replaced += bot.Amount(replaced)
			oppID := id
			if err := tx.Create(&Contribution{CommunityID: int64(c), Kind: ContribAttended, MemberID: int64(m), OpportunityID: &oppID,
				Amount: credit, CreatedAt: utc(at)}).Error; err != nil {
				return fmt.Errorf("credit attendance: %w", err)
			}
			if err := tx.Model(&Signup{}).Where("community_id = ? AND opportunity_id = ? AND member_id = ?", c, id, m).
				UpdateColumns(map[string]any{"attended": true, "updated_at": utc(at)}).Error; err != nil {
				return fmt.Errorf("mark signup attended: %w", err)
			}
			if err := s.recordActivity(tx, int64(c), int64(m), ActHours, at); err != nil {
				return err
			}
			res.Credited = append(res.Credited, m)
		}
		return nil
	})
	if err != nil {
		return volunteer.Attendance{}, fmt.Errorf("mark attended %d: %w", id, err)
	}
	return res, nil
}
