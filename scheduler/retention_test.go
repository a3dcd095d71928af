package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// memberRow reads member name of h's community, without a visit (which
// would bring a departed member back).
func memberRow(t *testing.T, h *missiontest.H, name string) storage.Member {
	t.Helper()
	var row storage.Member
	err := h.Store.DB().Where("external_id = ? AND community_id = (SELECT id FROM communities WHERE external_id = ?)", name, h.Community.ID).Take(&row).Error
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// TestRetention: with 30 days' retention, only members who left more than
// 30 days ago are erased, as /myimpact forget erases, counts kept; another
// community's 90 days apply to its own members.
func TestRetention(t *testing.T) {
	t.Parallel()
	missiontest.Each(t, peopleAreas, func(t *testing.T, h *missiontest.H) {
		ctx := context.Background()
		other := h.In("other")
		start := h.Clock.Now()
		h.Organiser("olive")
		h.Run("olive", "/settings retention 30").MustPrivate(t, "30")
		h.Run("olive", `/goal create "Plant trees" 1000 trees`).MustPrivate(t, "Goal created")
		for _, who := range []string{"lee", "amy", "rex"} {
			h.Run(who, "/log 5 trees to plant-trees by the river")
			h.Run(who, "/win we planted a hedge")
		}
		other.Run("otto", "/win other community")
		now := start.AddDate(0, 0, 45)
		leave(t, h, "lee", now.AddDate(0, 0, -31))
		leave(t, h, "amy", now.AddDate(0, 0, -29))
		leave(t, h, "rex", now.AddDate(0, 0, -40))
		leave(t, other, "otto", now.AddDate(0, 0, -31))
		h.Clock.Set(now.AddDate(0, 0, -1))
		h.Run("rex", "/myimpact") // rex came back

		if err := scheduler.NewRetention(h.Store).Produce(ctx, now, nil); err != nil {
			t.Fatal(err)
		}
		lee := memberRow(t, h, "lee")
		if !lee.Forgotten || !lee.Hidden || lee.Name != "" {
			t.Fatalf("lee %+v, want erased", lee)
		}
		for _, who := range []struct {
			h    *missiontest.H
			name string
		}{{h, "amy"}, {h, "rex"}, {other, "otto"}, {h, "olive"}} {
			if m := memberRow(t, who.h, who.name); m.Forgotten || m.Name != who.name {
				t.Fatalf("%s %+v, want untouched", who.name, m)
			}
		}
		c, _ := communityOf(t, h, "olive")
		var texts []string
		if err := h.Store.DB().Table("wins").Where("community_id = ?", c).Order("no").Pluck("text", &texts).Error; err != nil {
			t.Fatal(err)
		}
		if want := []string{"[erased]", "we planted a hedge", "we planted a hedge"}; len(texts) != 3 || texts[0] != want[0] || texts[1] != want[1] || texts[2] != want[2] {
			t.Fatalf("win texts %q, want lee's erased only", texts)
		}
		h.Run("olive", "/goal show plant-trees").MustPrivate(t, "15 / 1,000 trees")

		// Idempotent on another replica; amy is erased once her 30 days are up.
		if err := scheduler.NewRetention(h.Store).Produce(ctx, now, nil); err != nil {
			t.Fatal(err)
		}
		if m := memberRow(t, h, "amy"); m.Forgotten {
			t.Fatalf("amy erased early")
		}
		p := scheduler.NewRetention(h.Store)
		for at := now; at.Before(now.AddDate(0, 0, 2)); at = at.Add(30 * time.Minute) {
			if err := p.Produce(ctx, at, nil); err != nil {
				t.Fatal(err)
			}
		}
		if m := memberRow(t, h, "amy"); !m.Forgotten || m.Name != "" {
			t.Fatalf("amy %+v, want erased after 30 days", m)
		}
		if m := memberRow(t, h, "rex"); m.Forgotten {
			t.Fatalf("rex, who came back, was erased")
		}
	})
}
