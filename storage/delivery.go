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
// first claim. Idempotent and safe for concurrent use across replicas: it is
// one INSERT … ON CONFLICT DO NOTHING on the deliveries' unique key, atomic
// by itself, so it runs outside any transaction.
func (s *Store) ClaimDelivery(ctx context.Context, platform bot.Platform, eventID string, at time.Time) (bool, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Exec(`INSERT INTO deliveries (platform, event_id, seen_at) VALUES (?, ?, ?) ON CONFLICT (platform, event_id) DO NOTHING`,
			string(platform), eventID, utc(at))
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("claim delivery %s %s: %w", platform, eventID, err)
	}
	return n == 1, nil
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
