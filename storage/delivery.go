package storage

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/bot"
)

var _ bot.Deliveries = (*Store)(nil)

// ClaimDelivery records eventID of platform and reports whether this was its
// first claim. Idempotent and safe for concurrent use across replicas.
func (s *Store) ClaimDelivery(ctx context.Context, platform bot.Platform, eventID string, at time.Time) (bool, error) {
	var n int64
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Delivery{Platform: string(platform), EventID: eventID, SeenAt: utc(at)})
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
	res := s.db.WithContext(ctx).Where("seen_at < ?", utc(before)).Delete(&Delivery{})
	if res.Error != nil {
		return 0, fmt.Errorf("forget deliveries: %w", unavailable(res.Error))
	}
	return res.RowsAffected, nil
}
