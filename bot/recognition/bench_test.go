package recognition_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm/clause"

	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"
)

// BenchmarkLeaderboard measures /leaderboard and /leaderboard all through
// the engine on SQLite, over a community of 10,000 members with 200,000
// contributions spread over 8 weeks.
func BenchmarkLeaderboard(b *testing.B) {
	h := missiontest.New(b, "sqlite", areas...)
	seedBoard(b, h)
	for _, line := range []string{"/leaderboard", "/leaderboard all", "/leaderboard trees", "/leaderboard trees all"} {
		b.Run(strings.TrimPrefix(strings.ReplaceAll(line, " ", "_"), "/"), func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				out := h.Engine.Do(ctx, h.Request("olive", line))
				if len(out.Messages) != 1 || !strings.Contains(out.Messages[0].Items[0], "1. ") {
					b.Fatalf("unexpected reply: %+v", out)
				}
			}
		})
	}
}

// seedBoard fills h's community with 10,000 members (one in 50 hidden) and
// 200,000 contributions (one in 20 anonymous) over the 8 weeks before the
// harness clock.
func seedBoard(b testing.TB, h *missiontest.H) {
	b.Helper()
	h.Run("olive", "/myimpact")
	db := h.Store.DB()
	var c storage.Community
	if err := db.Where("external_id = ?", h.Community.ID).Take(&c).Error; err != nil {
		b.Fatal(err)
	}
	members := make([]storage.Member, 10000)
	for i := range members {
		members[i] = storage.Member{CommunityID: c.ID, ExternalID: fmt.Sprintf("m%05d", i), Name: fmt.Sprintf("member%05d", i),
			Hidden: i%50 == 0, FirstSeenAt: missiontest.Start, LastSeenAt: missiontest.Start}
	}
	if err := db.Omit(clause.Associations).CreateInBatches(members, 500).Error; err != nil {
		b.Fatal(err)
	}
	g := storage.Goal{CommunityID: c.ID, No: 1, Slug: "trees", Title: "Trees", Unit: "trees", Target: 1e8, Status: "active",
		CreatedBy: members[0].ID, CreatedAt: missiontest.Start}
	if err := db.Create(&g).Error; err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	kinds := []string{storage.ContribPledge, storage.ContribLog, storage.ContribHours, storage.ContribAttended}
	span := int64(8 * 7 * 24 * time.Hour)
	rows := make([]storage.Contribution, 200000)
	for i := range rows {
		kind := kinds[r.IntN(len(kinds))]
		rows[i] = storage.Contribution{CommunityID: c.ID, Kind: kind, MemberID: members[r.IntN(len(members))].ID,
			Amount: int64(100 + r.IntN(1000)), Anonymous: r.IntN(20) == 0,
			CreatedAt: missiontest.Start.Add(-time.Duration(r.Int64N(span)))}
		if kind != storage.ContribHours {
			rows[i].GoalID = &g.ID
		}
	}
	// The ledger is append-only: rows arrive in time order.
	slices.SortFunc(rows, func(a, b storage.Contribution) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if err := db.Omit(clause.Associations).CreateInBatches(rows, 1000).Error; err != nil {
		b.Fatal(err)
	}
}
