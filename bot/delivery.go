package bot

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// ErrDuplicate reports that a delivery was already handled: a store found
// its claim already recorded, so the transaction that carried the claim was
// rolled back and changed nothing. The engine answers it as a repeat.
var ErrDuplicate = errors.New("delivery already handled")

// Delivery is one platform delivery (event or interaction id) being
// handled. The engine puts it in the context of the handler it runs; the
// store records it (its unique key) inside the first write transaction that
// context reaches, so the claim commits with the command's effects or not at
// all: a retry after a failed write runs again, a retry after a committed one
// is recognised. Safe for concurrent use.
type Delivery struct {
	Platform Platform
	EventID  string
	At       time.Time

	claimed atomic.Bool
}

// Claimed reports whether a committed transaction recorded d.
func (d *Delivery) Claimed() bool { return d != nil && d.claimed.Load() }

// MarkClaimed notes that a transaction recording d committed.
func (d *Delivery) MarkClaimed() { d.claimed.Store(true) }

type deliveryKey struct{}

// WithDelivery returns ctx carrying d for the store's next write
// transaction. A nil d hides any delivery ctx carried.
func WithDelivery(ctx context.Context, d *Delivery) context.Context {
	return context.WithValue(ctx, deliveryKey{}, d)
}

// DeliveryOf returns the delivery ctx carries that no transaction recorded
// yet, or nil.
func DeliveryOf(ctx context.Context) *Delivery {
	d, _ := ctx.Value(deliveryKey{}).(*Delivery)
	if d == nil || d.Claimed() {
		return nil
	}
	return d
}
