package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/digest"
	"github.com/missionbot/missionbot/scheduler"
)

var (
	_ bot.Outbox      = (*Store)(nil)
	_ scheduler.Store = (*Store)(nil)
)

// Enqueue records p in the outbox unless its (community, kind, slot key)
// already exists, and reports whether it was new. Idempotent and safe for
// concurrent use across replicas: the unique key decides.
func (s *Store) Enqueue(ctx context.Context, p bot.Post) (bool, error) {
	switch {
	case p.Community == 0 || p.Kind == "" || p.SlotKey == "":
		return false, fmt.Errorf("enqueue post: community, kind and slot key are required (got %d, %q, %q)", p.Community, p.Kind, p.SlotKey)
	case p.DueAt.IsZero():
		return false, fmt.Errorf("enqueue %s post %s: no due time", p.Kind, p.SlotKey)
	}
	return s.insertPost(ctx, p, OutboxPending, time.Time{})
}

// insertPost stores p with status (and sentAt, for a post already sent)
// unless its slot exists, and reports whether it was new.
func (s *Store) insertPost(ctx context.Context, p bot.Post, status string, sentAt time.Time) (bool, error) {
	var added bool
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		added, err = insertPostTx(tx, p, status, sentAt)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store %s post %s: %w", p.Kind, p.SlotKey, err)
	}
	return added, nil
}

// insertPostTx is insertPost inside tx.
func insertPostTx(tx *gorm.DB, p bot.Post, status string, sentAt time.Time) (bool, error) {
	payload, err := json.Marshal(p.Message)
	if err != nil {
		return false, err
	}
	row := OutboxPost{CommunityID: int64(p.Community), Kind: string(p.Kind), SlotKey: p.SlotKey, DueAt: utc(p.DueAt),
		NotAfter: utcPtr(p.NotAfter), Status: status, Payload: string(payload), SentAt: utcPtr(sentAt)}
	res := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "community_id"}, {Name: "kind"}, {Name: "slot_key"}},
		DoNothing: true,
	}).Create(&row)
	return res.RowsAffected == 1, res.Error
}

// Enqueued reports whether community c's outbox holds the post of kind for
// slot, whatever its status. It only reads.
func (s *Store) Enqueued(ctx context.Context, c bot.CommunityID, kind bot.PostKind, slot string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&OutboxPost{}).Where("community_id = ? AND kind = ? AND slot_key = ?", c, string(kind), slot).
		Limit(1).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("outbox post %s %s: %w", kind, slot, unavailable(err))
	}
	return n > 0, nil
}

// claimedRow is what a claim returns of each row.
type claimedRow struct {
	ID           int64
	CommunityID  int64
	Kind         string
	SlotKey      string
	DueAt        time.Time
	NotAfter     *time.Time
	ClaimToken   string
	ClaimedUntil *time.Time
	Sending      bool
	Attempts     int
	Payload      string
}

// Claim claims up to limit pending rows due at now, and pending rows whose
// claim expired by now, the earliest due first, for claimFor under token.
// One conditional UPDATE takes them: on PostgreSQL its subquery locks the
// rows FOR UPDATE SKIP LOCKED, so concurrent claims take disjoint rows; on
// SQLite the immediate transaction serialises writers. A row taken over from
// a holder that began sending comes back with InFlight set. When nothing is
// claimable (the usual answer to a kick after a command), it costs one
// indexed read and no transaction or write.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, claimFor time.Duration, token string) ([]scheduler.Claimed, error) {
	if limit <= 0 || claimFor <= 0 || token == "" {
		return nil, fmt.Errorf("claim outbox: limit, claim duration and token are required")
	}
	if due, err := s.claimable(ctx, utc(now)); err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	} else if !due {
		return nil, nil
	}
	lock := ""
	if s.postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE outbox_posts SET claim_token = ?, claimed_until = ?, updated_at = ?
WHERE id IN (SELECT id FROM outbox_posts
	WHERE status = ? AND due_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
	ORDER BY due_at, id LIMIT ?` + lock + `)
RETURNING id, community_id, kind, slot_key, due_at, not_after, claim_token, claimed_until, sending, attempts, payload`
	now = utc(now)
	var rows []claimedRow
	refs := map[int64]bot.CommunityRef{}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		rows = rows[:0]
		if err := tx.Raw(q, token, now.Add(claimFor), now, OutboxPending, now, now, limit).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]int64, 0, len(rows))
		for _, r := range rows {
			ids = append(ids, r.CommunityID)
		}
		var cs []Community
		if err := tx.Select("id", "platform", "external_id").Where("id IN ?", ids).Find(&cs).Error; err != nil {
			return err
		}
		for _, c := range cs {
			refs[c.ID] = bot.CommunityRef{Platform: bot.Platform(c.Platform), ID: c.ExternalID}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].DueAt.Equal(rows[j].DueAt) {
			return rows[i].DueAt.Before(rows[j].DueAt)
		}
		return rows[i].ID < rows[j].ID
	})
	out := make([]scheduler.Claimed, 0, len(rows))
	for _, r := range rows {
		c := scheduler.Claimed{ID: r.ID, Community: bot.CommunityID(r.CommunityID), Ref: refs[r.CommunityID],
			Kind: bot.PostKind(r.Kind), SlotKey: r.SlotKey, DueAt: r.DueAt.UTC(), Token: r.ClaimToken,
			Attempts: r.Attempts, InFlight: r.Sending}
		if r.NotAfter != nil {
			c.NotAfter = r.NotAfter.UTC()
		}
		if r.ClaimedUntil != nil {
			c.ClaimedUntil = r.ClaimedUntil.UTC()
		}
		if err := json.Unmarshal([]byte(r.Payload), &c.Message); err != nil {
			c.Invalid = fmt.Sprintf("its stored message cannot be read: %v", err)
		} else if c.Message.Visibility == bot.Public && c.Message.Channel.ID == "" {
			c.Invalid = "it has no channel to post in (set one with /settings celebrations-channel or digest-channel)"
		}
		out = append(out, c)
	}
	return out, nil
}

// claimable reports whether some row is claimable at now: Claim's
// condition, read without a transaction from the (status, due_at) index. A
// row that becomes claimable just after is left to the next dispatch.
func (s *Store) claimable(ctx context.Context, now time.Time) (bool, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Raw(`SELECT id FROM outbox_posts
WHERE status = ? AND due_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?) LIMIT 1`, OutboxPending, now, now).Scan(&ids).Error
	if err != nil {
		return false, unavailable(err)
	}
	return len(ids) > 0, nil
}

// Begin marks row id as being sent under token. It refuses (ErrClaimLost)
// when the claim is not token's or expired by now.
func (s *Store) Begin(ctx context.Context, id int64, token string, now time.Time) error {
	now = utc(now)
	return s.onClaim(ctx, "begin", id, token, func(tx *gorm.DB) *gorm.DB {
		return tx.Where("claimed_until > ?", now)
	}, map[string]any{"sending": true, "updated_at": now})
}

// MarkSent records row id as sent at at with ref, if token holds its claim.
func (s *Store) MarkSent(ctx context.Context, id int64, token string, ref bot.MessageRef, at time.Time) error {
	return s.finish(ctx, "mark sent", id, token, OutboxSent, "", at, map[string]any{
		"sent_ref": ref.Channel + "/" + ref.ID, "sent_at": utc(at)})
}

// MarkFailed records row id as failed for good with reason, if token holds
// its claim, and in the same transaction enqueues notice to each organiser
// (see scheduler.Store).
func (s *Store) MarkFailed(ctx context.Context, id int64, token, reason string, at time.Time, notice bot.Message) error {
	return s.finishNotify(ctx, "mark failed", id, token, OutboxFailed, reason, at, notice)
}

// MarkUnknown records that whether row id was posted is unknown, with
// reason, if token holds its claim, and in the same transaction enqueues
// notice to each organiser (see scheduler.Store).
func (s *Store) MarkUnknown(ctx context.Context, id int64, token, reason string, at time.Time, notice bot.Message) error {
	return s.finishNotify(ctx, "mark unknown", id, token, OutboxUnknown, reason, at, notice)
}

// finishNotify is finish, then, in the same transaction, one notice row per
// organiser of the row's community, unless notice is zero or the row is a
// notice itself. Each notice's slot key names the row and the organiser,
// so recording the outcome twice can never notify twice.
func (s *Store) finishNotify(ctx context.Context, what string, id int64, token, status, reason string, at time.Time, notice bot.Message) error {
	set := map[string]any{"status": status, "claimed_until": nil, "sending": false, "updated_at": utc(at)}
	if reason != "" {
		set["last_error"] = truncate(reason, 2000)
	}
	return s.onClaimThen(ctx, what, id, token, nil, set, func(tx *gorm.DB) error {
		if notice.Title == "" && notice.Text == "" {
			return nil
		}
		var row OutboxPost
		if err := tx.Select("id", "community_id", "kind").Where("id = ?", id).Take(&row).Error; err != nil {
			return fmt.Errorf("reload: %w", err)
		}
		if row.Kind == string(scheduler.PostNotice) {
			return nil
		}
		return enqueueNotices(tx, row.CommunityID, id, notice, at)
	})
}

// enqueueNotices adds, inside tx, notice for each organiser of community
// about outbox row id: added organisers, and platform admins when the
// community counts them as organisers; departed and forgotten members are
// left out.
func enqueueNotices(tx *gorm.DB, community, id int64, notice bot.Message, at time.Time) error {
	var com Community
	if err := tx.Select("id", "platform", "external_id", "admins_are_organisers").Where("id = ?", community).Take(&com).Error; err != nil {
		return fmt.Errorf("load community: %w", err)
	}
	q := tx.Where(`community_id = ? AND NOT forgotten AND NOT "left"`, community)
	if com.AdminsAreOrganisers {
		q = q.Where("(organiser OR platform_admin)")
	} else {
		q = q.Where("organiser")
	}
	var members []Member
	if err := q.Order("id").Find(&members).Error; err != nil {
		return fmt.Errorf("organisers: %w", err)
	}
	for _, m := range members {
		n := notice
		n.Visibility = bot.Direct
		n.To = toMember(m, bot.Platform(com.Platform), com.ExternalID)
		p := bot.Post{Community: bot.CommunityID(community), Kind: scheduler.PostNotice,
			SlotKey: scheduler.NoticeSlot(id, bot.MemberID(m.ID)), DueAt: at, Message: n}
		if _, err := insertPostTx(tx, p, OutboxPending, time.Time{}); err != nil {
			return fmt.Errorf("notice to member %d: %w", m.ID, err)
		}
	}
	return nil
}

// MarkSkipped records row id as skipped with reason, if token holds its claim.
func (s *Store) MarkSkipped(ctx context.Context, id int64, token, reason string, at time.Time) error {
	return s.finish(ctx, "mark skipped", id, token, OutboxSkipped, reason, at, nil)
}

// Retry releases row id, due again at at, counting one failed attempt with
// reason, if token holds its claim.
func (s *Store) Retry(ctx context.Context, id int64, token string, now, at time.Time, reason string) error {
	return s.release(ctx, "retry", id, token, now, at, reason, true)
}

// Defer releases row id, due again at at, without counting an attempt, if
// token holds its claim.
func (s *Store) Defer(ctx context.Context, id int64, token string, now, at time.Time, reason string) error {
	return s.release(ctx, "defer", id, token, now, at, reason, false)
}

func (s *Store) release(ctx context.Context, what string, id int64, token string, now, at time.Time, reason string, attempt bool) error {
	set := map[string]any{"due_at": utc(at), "claim_token": "", "claimed_until": nil, "sending": false,
		"last_error": truncate(reason, 2000), "updated_at": utc(now)}
	if attempt {
		set["attempts"] = gorm.Expr("attempts + 1")
	}
	return s.onClaim(ctx, what, id, token, nil, set)
}

func (s *Store) finish(ctx context.Context, what string, id int64, token, status, reason string, at time.Time, extra map[string]any) error {
	set := map[string]any{"status": status, "claimed_until": nil, "sending": false, "updated_at": utc(at)}
	if reason != "" {
		set["last_error"] = truncate(reason, 2000)
	}
	for k, v := range extra {
		set[k] = v
	}
	return s.onClaim(ctx, what, id, token, nil, set)
}

// onClaim applies set to row id if it is pending under token (and cond
// holds), or returns an error wrapping scheduler.ErrClaimLost.
func (s *Store) onClaim(ctx context.Context, what string, id int64, token string, cond func(*gorm.DB) *gorm.DB, set map[string]any) error {
	return s.onClaimThen(ctx, what, id, token, cond, set, nil)
}

// onClaimThen is onClaim, running then (when set) in the same transaction
// after the row changed.
func (s *Store) onClaimThen(ctx context.Context, what string, id int64, token string, cond func(*gorm.DB) *gorm.DB, set map[string]any, then func(*gorm.DB) error) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Model(&OutboxPost{}).Where("id = ? AND claim_token = ? AND status = ?", id, token, OutboxPending)
		if cond != nil {
			q = cond(q)
		}
		res := q.Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return scheduler.ErrClaimLost
		}
		if then != nil {
			return then(tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s outbox post %d: %w", what, id, err)
	}
	return nil
}

// LastFailure returns community c's most recent scheduled post that failed
// or whose outcome is unknown, and whether there is one.
func (s *Store) LastFailure(ctx context.Context, c bot.CommunityID) (scheduler.Failure, bool, error) {
	var row OutboxPost
	err := s.db.WithContext(ctx).Select("kind", "slot_key", "status", "last_error", "updated_at").
		Where("community_id = ? AND status IN ?", c, []string{OutboxFailed, OutboxUnknown}).
		Order("updated_at DESC, id DESC").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return scheduler.Failure{}, false, nil
	}
	if err != nil {
		return scheduler.Failure{}, false, fmt.Errorf("last outbox failure: %w", unavailable(err))
	}
	return scheduler.Failure{Kind: bot.PostKind(row.Kind), SlotKey: row.SlotKey, Status: row.Status,
		Reason: row.LastError, At: row.UpdatedAt.UTC()}, true, nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// RecordSent records p as already sent at at (a post made outside the
// scheduler that takes a slot, like /digest now), unless its slot exists,
// and reports whether it was new.
func (s *Store) RecordSent(ctx context.Context, p bot.Post, at time.Time) (bool, error) {
	return s.insertPost(ctx, p, OutboxSent, at)
}

// LastPostFailure is LastFailure in the digest's terms.
func (s *Store) LastPostFailure(ctx context.Context, c bot.CommunityID) (digest.Failure, bool, error) {
	f, ok, err := s.LastFailure(ctx, c)
	return digest.Failure{Kind: f.Kind, Slot: f.SlotKey, Status: f.Status, Reason: f.Reason, At: f.At}, ok, err
}
