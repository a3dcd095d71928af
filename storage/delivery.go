package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
)

var _ bot.Deliveries = (*Store)(nil)

// ClaimDelivery records eventID of platform and reports whether this was its
// first claim, at once (a command's writes record it in their own
// transaction instead: see bot.Delivery). Idempotent and safe for concurrent use across replicas: it is
// one INSERT … ON CONFLICT DO NOTHING on the deliveries' unique key, atomic
// by itself, so it runs outside any transaction.
func (s *Store) ClaimDelivery(ctx context.Context, platform bot.Platform, eventID string, at time.Time) (bool, error) {
	var first bool
	err := s.write(bot.WithDelivery(ctx, nil), func(db *gorm.DB) error {
		var err error
		first, err = claimDelivery(db, platform, eventID, at)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim delivery %s %s: %w", platform, eventID, err)
	}
	return first, nil
}

// claimDelivery inserts the delivery's unique key on db (a transaction or
// not) and reports whether it was absent. On PostgreSQL a concurrent
// uncommitted claim of the same key makes it wait for that transaction's end.
func claimDelivery(db *gorm.DB, platform bot.Platform, eventID string, at time.Time) (bool, error) {
	res := db.Exec(`INSERT INTO deliveries (platform, event_id, seen_at) VALUES (?, ?, ?) ON CONFLICT (platform, event_id) DO NOTHING`,
		string(platform), eventID, utc(at))
	return res.RowsAffected == 1, res.Error
}

// ForgetDeliveries removes delivery records older than before; platforms
// stop retrying long before.
func (s *Store) ForgetDeliveries(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Where("seen_at < ?", utc(before)).Delete(&Delivery{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("forget deliveries: %w", err)
	}
	return n, nil
}
