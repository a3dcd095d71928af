package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/bot/pledge"
	"github.com/missionbot/missionbot/scheduler"
)

// Queries behind the pledge reminder, weekly recognition and retention
// producers. As in schedule.go, only the first query of each producer spans
// communities (it returns their ids); what follows filters by one.

var (
	_ scheduler.PledgeStore      = (*Store)(nil)
	_ scheduler.RecognitionStore = (*Store)(nil)
	_ scheduler.RetentionStore   = (*Store)(nil)
)

// duePledges is the condition on pledges p, goals g and members m under
// which p's reminder is due at @now and not yet in the outbox (see
// scheduler.PledgeStore).
const duePledges = `p.status = @open AND p.amount - p.fulfilled - p.cancelled > 0
AND g.status = @active AND g.due_at IS NOT NULL AND g.due_at > @now AND g.due_at <= @lead
AND p.created_at <= @made AND NOT m."left"
AND NOT EXISTS (SELECT 1 FROM outbox_posts o WHERE o.community_id = p.community_id AND o.kind = @kind
  AND o.slot_key = @prefix || CAST(p.no AS VARCHAR(20)))`

func duePledgeArgs(now time.Time) map[string]any {
	return map[string]any{"open": pledge.StatusOpen, "active": goalActive, "now": utc(now), "lead": utc(now.Add(scheduler.PledgeReminderLead)),
		"made": utc(now.Add(-scheduler.PledgeReminderGrace)), "kind": string(bot.PostReminder), "prefix": scheduler.PledgeSlotPrefix}
}

// PledgeReminderCommunities returns, in id order, the communities with a
// pledge reminder due at now and not yet in the outbox. It only reads.
func (s *Store) PledgeReminderCommunities(ctx context.Context, now time.Time) ([]bot.CommunityID, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Raw(`SELECT DISTINCT p.community_id FROM pledges p
JOIN goals g ON g.id = p.goal_id AND g.community_id = p.community_id
JOIN members m ON m.id = p.member_id AND m.community_id = p.community_id
WHERE `+duePledges+` ORDER BY p.community_id`, duePledgeArgs(now)).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("pledge reminder communities: %w", unavailable(err))
	}
	out := make([]bot.CommunityID, len(ids))
	for i, id := range ids {
		out[i] = bot.CommunityID(id)
	}
	return out, nil
}

// DuePledgeReminders returns up to limit of community c's pledges whose
// reminder is due at now and not yet in the outbox, lowest number first
// (see scheduler.PledgeStore). It only reads.
func (s *Store) DuePledgeReminders(ctx context.Context, c bot.CommunityID, now time.Time, limit int) ([]scheduler.PledgeReminder, error) {
	var rows []struct {
		No, Open            int64
		MemberID            int64
		ExternalID, Name    string
		Forgotten           bool
		Platform, Space, Tz string
		Title, Slug, Unit   string
		DueAt, PledgedAt    time.Time
	}
	args := duePledgeArgs(now)
	args["c"], args["limit"] = int64(c), limit
	err := s.db.WithContext(ctx).Raw(`SELECT p.no, p.amount - p.fulfilled - p.cancelled AS open, m.id AS member_id, m.external_id, m.name, m.forgotten,
 cm.platform, cm.external_id AS space, cm.timezone AS tz, g.title, g.slug, g.unit, g.due_at, p.created_at AS pledged_at
FROM pledges p
JOIN goals g ON g.id = p.goal_id AND g.community_id = p.community_id
JOIN members m ON m.id = p.member_id AND m.community_id = p.community_id
JOIN communities cm ON cm.id = p.community_id
WHERE p.community_id = @c AND `+duePledges+` ORDER BY p.no LIMIT @limit`, args).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("due pledge reminders: %w", unavailable(err))
	}
	out := make([]scheduler.PledgeReminder, len(rows))
	for i, r := range rows {
		out[i] = scheduler.PledgeReminder{No: r.No, Open: bot.Amount(r.Open), CreatedAt: r.PledgedAt.UTC(), Timezone: r.Tz,
			Member: toMember(Member{ID: r.MemberID, ExternalID: r.ExternalID, Name: r.Name, Forgotten: r.Forgotten}, bot.Platform(r.Platform), r.Space),
			Goal:   goal.Goal{Title: r.Title, Slug: r.Slug, Unit: r.Unit, DueAt: r.DueAt.UTC()}}
	}
	return out, nil
}

// RecognitionCommunities returns every community with a celebrations
// channel set, with the Timezone and CelebrationsChannel of its settings
// filled in (the other settings are zero). It only reads.
func (s *Store) RecognitionCommunities(ctx context.Context) (map[bot.CommunityID]bot.Settings, error) {
	var rows []Community
	err := s.db.WithContext(ctx).Select("id", "timezone", "celebrations_channel_id", "celebrations_channel").
		Where("celebrations_channel_id <> ''").Order("id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("recognition communities: %w", unavailable(err))
	}
	out := make(map[bot.CommunityID]bot.Settings, len(rows))
	for _, r := range rows {
		out[bot.CommunityID(r.ID)] = bot.Settings{Timezone: r.Timezone,
			CelebrationsChannel: bot.ChannelRef{ID: r.CelebrationsChannelID, Name: r.CelebrationsChannel}}
	}
	return out, nil
}

// Streaks returns up to limit of community c's members whose run of
// consecutive active weeks (member_weeks) ending with weeks[0] and counted
// back through weeks is at least min long, longest first, then by member
// id. Hidden, departed and forgotten members are left out. weeks are the
// UTC starts of consecutive weeks, newest first; a member_weeks row between
// them that starts on none of them (recorded under an earlier timezone)
// ends the run. It only reads, in one query: each member's weeks are
// numbered newest first, and the run is the weeks whose number equals their
// position in weeks.
func (s *Store) Streaks(ctx context.Context, c bot.CommunityID, weeks []time.Time, min, limit int) ([]scheduler.Streak, error) {
	if len(weeks) == 0 {
		return nil, nil
	}
	args := map[string]any{"c": int64(c), "first": utc(weeks[0]), "last": utc(weeks[len(weeks)-1]), "min": min, "limit": limit}
	var idx strings.Builder
	idx.WriteString("CASE mw.week")
	for i, w := range weeks {
		fmt.Fprintf(&idx, " WHEN @w%d THEN %d", i, i)
		args[fmt.Sprintf("w%d", i)] = utc(w)
	}
	idx.WriteString(" END")
	var rows []struct {
		MemberID         int64
		ExternalID, Name string
		Weeks            int
	}
	err := s.db.WithContext(ctx).Raw(`SELECT m.id AS member_id, m.external_id, m.name, COUNT(*) AS weeks FROM (
SELECT mw.member_id, `+idx.String()+` AS idx,
 ROW_NUMBER() OVER (PARTITION BY mw.member_id ORDER BY mw.week DESC) - 1 AS pos
FROM member_weeks mw
WHERE mw.community_id = @c AND mw.week >= @last AND mw.week <= @first
 AND mw.member_id IN (SELECT member_id FROM member_weeks WHERE community_id = @c AND week = @first)
) t JOIN members m ON m.id = t.member_id
WHERE t.idx = t.pos AND m.community_id = @c AND NOT m.hidden AND NOT m."left" AND NOT m.forgotten
GROUP BY m.id, m.external_id, m.name HAVING COUNT(*) >= @min
ORDER BY weeks DESC, m.id LIMIT @limit`, args).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("streaks: %w", unavailable(err))
	}
	out := make([]scheduler.Streak, len(rows))
	for i, r := range rows {
		out[i] = scheduler.Streak{Member: bot.Member{ID: bot.MemberID(r.MemberID), Ref: bot.UserRef{ID: r.ExternalID}, Name: displayName(Member{Name: r.Name})},
			Weeks: r.Weeks}
	}
	return out, nil
}

// erasable is the condition on members under which one is due for erasure
// by the retention job at @cutoff: departed since before it and not
// forgotten, or claimed (forgotten, not yet hidden: /myimpact forget and
// Forget always hide, and a forgotten member cannot unhide).
const erasable = `(("left" AND left_at IS NOT NULL AND left_at < @cutoff AND NOT forgotten) OR (forgotten AND NOT hidden))`

// RetentionCommunities returns every community with a member who left and
// is not yet erased (or whose erasure is unfinished), with its retention
// days. It only reads.
func (s *Store) RetentionCommunities(ctx context.Context) (map[bot.CommunityID]int, error) {
	var rows []struct {
		ID            int64
		RetentionDays int
	}
	err := s.db.WithContext(ctx).Raw(`SELECT c.id, c.retention_days FROM communities c
WHERE EXISTS (SELECT 1 FROM members m WHERE m.community_id = c.id AND (("left" AND NOT forgotten) OR (forgotten AND NOT hidden)))
ORDER BY c.id`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("retention communities: %w", unavailable(err))
	}
	out := make(map[bot.CommunityID]int, len(rows))
	for _, r := range rows {
		out[bot.CommunityID(r.ID)] = r.RetentionDays
	}
	return out, nil
}

// ErasableMembers returns up to limit of community c's members due for
// erasure at cutoff, lowest id first (see scheduler.RetentionStore). It
// only reads.
func (s *Store) ErasableMembers(ctx context.Context, c bot.CommunityID, cutoff time.Time, limit int) ([]bot.MemberID, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Raw(`SELECT id FROM members WHERE community_id = @c AND `+erasable+` ORDER BY id LIMIT @limit`,
		map[string]any{"c": int64(c), "cutoff": utc(cutoff), "limit": limit}).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("erasable members: %w", unavailable(err))
	}
	out := make([]bot.MemberID, len(ids))
	for i, id := range ids {
		out[i] = bot.MemberID(id)
	}
	return out, nil
}

// ClaimErasure marks community c's member forgotten and not hidden (claimed
// for erasure) in one conditional update, only while they are due for
// erasure at cutoff, and reports whether they are (see
// scheduler.RetentionStore). Idempotent: a claimed member stays claimed
// until Forget hides them.
func (s *Store) ClaimErasure(ctx context.Context, c bot.CommunityID, member bot.MemberID, cutoff time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`UPDATE members SET forgotten = @yes, hidden = @no WHERE id = @m AND community_id = @c AND `+erasable,
		map[string]any{"yes": true, "no": false, "m": int64(member), "c": int64(c), "cutoff": utc(cutoff)})
	if res.Error != nil {
		return false, fmt.Errorf("claim erasure of member %d: %w", member, unavailable(res.Error))
	}
	return res.RowsAffected == 1, nil
}
