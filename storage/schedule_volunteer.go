package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/volunteer"
	"github.com/missionbot/missionbot/scheduler"
)

// The volunteer producers' queries. Like those in schedule.go, only the
// *Communities ones span communities; everything else filters by one.

var (
	_ scheduler.ReminderStore   = (*Store)(nil)
	_ scheduler.OccurrenceStore = (*Store)(nil)
)

// ReminderCommunities returns, in id order, the communities with an open
// opportunity starting in (now, now+lead] that has a confirmed sign-up. It
// only reads.
func (s *Store) ReminderCommunities(ctx context.Context, now time.Time, lead time.Duration) ([]bot.CommunityID, error) {
	return communityIDs(s.db.WithContext(ctx).Model(&Opportunity{}).Distinct("community_id").
		Where("status = ? AND starts_at > ? AND starts_at <= ? AND confirmed > 0", oppOpen, utc(now), utc(now.Add(lead))).
		Order("community_id"), "reminder communities")
}

// reminderRow is one confirmed sign-up joined with its opportunity.
type reminderRow struct {
	SignupID      int64
	ConfirmedAt   time.Time
	MemberID      int64
	OpportunityID int64
	No            int64
	Title         string
	StartsAt      time.Time
	Minutes       int
	Place         string
}

// DueReminders returns up to limit of community c's reminders of slot due
// by now (see scheduler.ReminderStore): confirmed sign-ups of open
// opportunities starting in (now, now+lead], confirmed (signed up, rejoined
// or promoted) at or before the start minus lead, whose member is still in
// the community and whose outbox row (kind reminder, slot key
// scheduler.ReminderSlotKey(signup, slot)) does not exist yet. Sign-ups come
// in id order. It only reads.
//
// The "confirmed by the due time" test compares two columns with an offset,
// which SQLite and PostgreSQL write differently, so it runs here on the
// fetched rows; pages are read until limit rows pass it, so late sign-ups
// cannot crowd due ones out.
func (s *Store) DueReminders(ctx context.Context, c bot.CommunityID, now time.Time, lead time.Duration, slot string, limit int) ([]scheduler.VolunteerReminder, error) {
	db := s.db.WithContext(ctx)
	var com Community
	if err := db.Select("id", "platform", "external_id", "timezone").Where("id = ?", c).Take(&com).Error; err != nil {
		return nil, fmt.Errorf("reminders of community %d: %w", c, unavailable(err))
	}
	var due []reminderRow
	for after := int64(0); len(due) < limit; {
		var page []reminderRow
		err := db.Table("signups").
			Select("signups.id AS signup_id, signups.updated_at AS confirmed_at, signups.member_id, o.id AS opportunity_id, "+
				"o.no, o.title, o.starts_at, o.minutes, o.place").
			Joins("JOIN opportunities o ON o.id = signups.opportunity_id AND o.community_id = signups.community_id").
			Joins("JOIN members m ON m.id = signups.member_id AND m.community_id = signups.community_id").
			Where("signups.community_id = ? AND signups.status = ? AND signups.id > ?", c, SignupConfirmed, after).
			Where("o.status = ? AND o.starts_at > ? AND o.starts_at <= ?", oppOpen, utc(now), utc(now.Add(lead))).
			Where(`NOT m."left"`).
			Where("NOT EXISTS (SELECT 1 FROM outbox_posts ob WHERE ob.community_id = signups.community_id AND ob.kind = ? "+
				"AND ob.slot_key = CAST(signups.id AS TEXT) || ?)", string(bot.PostReminder), ":"+slot).
			Order("signups.id").Limit(limit).Scan(&page).Error
		if err != nil {
			return nil, fmt.Errorf("reminders of community %d: %w", c, unavailable(err))
		}
		for _, r := range page {
			if !r.ConfirmedAt.After(r.StartsAt.Add(-lead)) && len(due) < limit {
				due = append(due, r)
			}
		}
		if len(page) < limit {
			break
		}
		after = page[len(page)-1].SignupID
	}
	ids := make([]int64, len(due))
	for i, r := range due {
		ids[i] = r.MemberID
	}
	members, err := s.volMembers(db, int64(c), ids)
	if err != nil {
		return nil, fmt.Errorf("reminders of community %d: %w", c, unavailable(err))
	}
	byID := make(map[bot.MemberID]bot.Member, len(members))
	for _, m := range members {
		byID[m.ID] = m
	}
	out := make([]scheduler.VolunteerReminder, 0, len(due))
	for _, r := range due {
		m, ok := byID[bot.MemberID(r.MemberID)]
		if !ok {
			continue
		}
		out = append(out, scheduler.VolunteerReminder{SignupID: r.SignupID, Member: m, Timezone: com.Timezone,
			Opportunity: volunteer.Opportunity{ID: r.OpportunityID, No: r.No, Title: r.Title, StartsAt: r.StartsAt.UTC(),
				Duration: time.Duration(r.Minutes) * time.Minute, Place: r.Place}})
	}
	return out, nil
}

// SeriesCommunities returns, in id order, the communities with an active
// recurring series. It only reads.
func (s *Store) SeriesCommunities(ctx context.Context) ([]bot.CommunityID, error) {
	return communityIDs(s.db.WithContext(ctx).Model(&Series{}).Distinct("community_id").
		Where("status = ?", seriesActive).Order("community_id"), "series communities")
}

// ActiveSeries returns the ids of community c's active series, in id order.
// It only reads.
func (s *Store) ActiveSeries(ctx context.Context, c bot.CommunityID) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&Series{}).Where("community_id = ? AND status = ?", c, seriesActive).
		Order("id").Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("active series of community %d: %w", c, unavailable(err))
	}
	return ids, nil
}

// Bounds of occurrence planning.
const (
	// occurrenceLookback is how far before now the rule is read to find the
	// occurrence before the first one planned: more than a week, so weekly
	// and daily rules always find it.
	occurrenceLookback = 8 * 24 * time.Hour
	// maxLookbackSteps bounds that search for rules firing very often.
	maxLookbackSteps = 256
	// maxOccurrences bounds the occurrences one call creates for a series;
	// the next call creates the rest.
	maxOccurrences = 100
)

// plannedOccurrence is one time of a series' rule, with the span of start
// times [from, to) an existing occurrence may have and still be that one.
type plannedOccurrence struct {
	at, from, to time.Time
}

// planOccurrences returns the times of rule r, read in loc, in (now, until],
// at most maxOccurrences, each spanning from halfway back to the rule's
// previous time to halfway on to its next one.
func planOccurrences(r bot.Recurrence, loc *time.Location, now, until time.Time) []plannedOccurrence {
	var prev time.Time
	t := r.Next(now.Add(-occurrenceLookback), loc)
	for i := 0; !t.IsZero() && !t.After(now); i++ {
		if i == maxLookbackSteps {
			prev, t = time.Time{}, r.Next(now, loc)
			break
		}
		prev, t = t, r.Next(t, loc)
	}
	var out []plannedOccurrence
	for !t.IsZero() && !t.After(until) && len(out) < maxOccurrences {
		next := r.Next(t, loc)
		back, fwd := t.Sub(prev)/2, next.Sub(t)/2
		switch {
		case prev.IsZero() && next.IsZero():
			back, fwd = 12*time.Hour, 12*time.Hour
		case prev.IsZero():
			back = fwd
		case next.IsZero():
			fwd = back
		}
		out = append(out, plannedOccurrence{at: t, from: t.Add(-back), to: t.Add(fwd)})
		prev, t = t, next
	}
	return out
}

// missingOccurrences returns the planned times in (now, until] of series sr
// (after its creation) that no occurrence of the series, open or cancelled,
// stands for: none starts within the time's span. An occurrence an organiser
// moved by less than half the rule's interval, or one a timezone change
// shifted, therefore still counts.
func missingOccurrences(db *gorm.DB, sr Series, now, until time.Time) ([]time.Time, error) {
	r, err := bot.ParseRecurrence(sr.Rule)
	if err != nil {
		return nil, fmt.Errorf("rule %q: %w", sr.Rule, err)
	}
	var tz string
	if err := db.Model(&Community{}).Where("id = ?", sr.CommunityID).Pluck("timezone", &tz).Error; err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	plan := planOccurrences(r, zone(tz), now, until)
	if len(plan) == 0 {
		return nil, nil
	}
	var starts []time.Time
	if err := db.Model(&Opportunity{}).
		Where("community_id = ? AND series_id = ? AND starts_at >= ? AND starts_at < ?",
			sr.CommunityID, sr.ID, utc(plan[0].from), utc(plan[len(plan)-1].to)).
		Pluck("starts_at", &starts).Error; err != nil {
		return nil, fmt.Errorf("occurrences: %w", err)
	}
	var missing []time.Time
	for _, p := range plan {
		if !p.at.After(sr.CreatedAt) {
			continue
		}
		found := false
		for _, st := range starts {
			if !st.Before(p.from) && st.Before(p.to) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, p.at)
		}
	}
	return missing, nil
}

// CreateOccurrences creates the occurrences of community c's series
// seriesID that start in (now, until] and do not exist yet (see
// missingOccurrences), read from the series' rule in the community's
// timezone, and returns them, soonest first. Each is a new opportunity with
// the series' title, length, slots and place, the slug and creator of the
// series' first occurrence, the next per-community number, and its own
// sign-ups; it is created at now.
//
// A read-only check comes first, so a call with nothing to create writes
// nothing. Otherwise one transaction locks the series row (PostgreSQL;
// SQLite writers are exclusive), checks again and inserts, so concurrent
// calls from any number of replicas create each occurrence once. A series
// that is no longer active, or missing, gets nothing.
func (s *Store) CreateOccurrences(ctx context.Context, c bot.CommunityID, seriesID int64, now, until time.Time) ([]volunteer.Opportunity, error) {
	db := s.db.WithContext(ctx)
	var sr Series
	if err := db.Where("community_id = ? AND id = ?", c, seriesID).Take(&sr).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("occurrences of series %d: %w", seriesID, unavailable(err))
	}
	if sr.Status != seriesActive {
		return nil, nil
	}
	if missing, err := missingOccurrences(db, sr, now, until); err != nil || len(missing) == 0 {
		if err != nil {
			return nil, fmt.Errorf("occurrences of series %d: %w", seriesID, unavailable(err))
		}
		return nil, nil
	}
	var out []volunteer.Opportunity
	err := s.tx(ctx, func(tx *gorm.DB) error {
		out = nil // a retried attempt starts afresh
		var sr Series
		if err := s.forUpdate(tx).Where("community_id = ? AND id = ?", c, seriesID).Take(&sr).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			return fmt.Errorf("lock series: %w", err)
		}
		if sr.Status != seriesActive {
			return nil
		}
		missing, err := missingOccurrences(tx, sr, now, until)
		if err != nil || len(missing) == 0 {
			return err
		}
		var first Opportunity
		if err := tx.Select("slug", "created_by").Where("community_id = ? AND series_id = ?", c, seriesID).
			Order("id").Take(&first).Error; err != nil {
			return fmt.Errorf("first occurrence: %w", err)
		}
		for _, at := range missing {
			no, err := nextNo(tx, int64(c), "opportunity")
			if err != nil {
				return err
			}
			id := sr.ID
			row := Opportunity{CommunityID: int64(c), No: no, SeriesID: &id, Slug: first.Slug, Title: sr.Title,
				StartsAt: utc(at), Minutes: sr.Minutes, Slots: sr.Slots, Place: sr.Place, Status: oppOpen,
				CreatedBy: first.CreatedBy, CreatedAt: utc(now)}
			if err := tx.Create(&row).Error; err != nil {
				return fmt.Errorf("insert occurrence: %w", err)
			}
			out = append(out, toOpportunity(row, sr.Rule))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("occurrences of series %d: %w", seriesID, err)
	}
	return out, nil
}
