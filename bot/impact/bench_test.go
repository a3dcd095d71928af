package impact_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot/impact"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"
)

// seedLarge fills h's community with members members and contributions
// contributions (and one activity row each) spread over the 8 weeks before
// the clock, on three active goals.
func seedLarge(b *testing.B, h *missiontest.H, members, contributions int) {
	b.Helper()
	db := h.Store.DB()
	h.Organiser("olive")
	var c storage.Community
	if err := db.Where("external_id = ?", h.Community.ID).Take(&c).Error; err != nil {
		b.Fatal(err)
	}
	if err := db.Exec("UPDATE communities SET timezone = 'Europe/London' WHERE id = ?", c.ID).Error; err != nil {
		b.Fatal(err)
	}
	now := h.Clock.Now()
	span := 8 * 7 * 24 * time.Hour
	ms := make([]storage.Member, members)
	for i := range ms {
		seen := now.Add(-time.Duration(i) * ((10 * 7 * 24 * time.Hour) / time.Duration(members)))
		ms[i] = storage.Member{CommunityID: c.ID, ExternalID: fmt.Sprintf("m%05d", i), Name: fmt.Sprintf("member %d", i),
			Hidden: i%50 == 0, FirstSeenAt: seen, LastSeenAt: now}
	}
	if err := db.CreateInBatches(&ms, 1000).Error; err != nil {
		b.Fatal(err)
	}
	var olive storage.Member
	if err := db.Where("community_id = ? AND external_id = ?", c.ID, "olive").Take(&olive).Error; err != nil {
		b.Fatal(err)
	}
	goals := make([]storage.Goal, 3)
	for i := range goals {
		goals[i] = storage.Goal{CommunityID: c.ID, No: int64(i + 1), Slug: fmt.Sprintf("goal-%d", i+1), Title: fmt.Sprintf("Goal %d", i+1),
			Unit: "trees", Target: 1e9, Status: "active", CreatedBy: olive.ID, CreatedAt: now.Add(-span)}
	}
	if err := db.Create(&goals).Error; err != nil {
		b.Fatal(err)
	}
	// member_weeks as recordActivity writes them: one row per member and
	// London week with an activity.
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		b.Fatal(err)
	}
	type key struct {
		member int64
		week   time.Time
	}
	seen := map[key]bool{}
	var weeks []storage.MemberWeek
	kinds := []string{storage.ContribLog, storage.ContribPledge, storage.ContribHours, storage.ContribAttended}
	const batch = 5000
	for start := 0; start < contributions; start += batch {
		n := min(batch, contributions-start)
		cs := make([]storage.Contribution, n)
		as := make([]storage.Activity, n)
		for j := range cs {
			i := start + j
			at := now.Add(-time.Duration(i) * (span / time.Duration(contributions))).Add(-time.Second)
			m := ms[(i*7919)%members].ID
			kind := kinds[i%len(kinds)]
			var gid *int64
			if kind == storage.ContribLog || kind == storage.ContribPledge {
				gid = &goals[i%len(goals)].ID
			}
			cs[j] = storage.Contribution{CommunityID: c.ID, Kind: kind, GoalID: gid, MemberID: m, Amount: int64(100 + i%900),
				Anonymous: i%10 == 0, CreatedAt: at}
			as[j] = storage.Activity{CommunityID: c.ID, MemberID: m, Kind: kind, At: at}
			if k := (key{m, impact.WeekStart(at, london)}); !seen[k] {
				seen[k] = true
				weeks = append(weeks, storage.MemberWeek{CommunityID: c.ID, MemberID: m, Week: k.week})
			}
		}
		if err := db.CreateInBatches(&cs, 1000).Error; err != nil {
			b.Fatal(err)
		}
		if err := db.CreateInBatches(&as, 1000).Error; err != nil {
			b.Fatal(err)
		}
	}
	if err := db.CreateInBatches(&weeks, 1000).Error; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkImpact runs /impact on a community of 10,000 members with
// 200,000 contributions and 200,000 activity rows over 8 weeks (SQLite).
func BenchmarkImpact(b *testing.B) {
	h := missiontest.New(b, "sqlite", areas...)
	seedLarge(b, h, 10000, 200000)
	h.Run("olive", "/impact").MustPrivate(b, "Members:")
	b.ResetTimer()
	for b.Loop() {
		h.Run("olive", "/impact")
	}
}

// BenchmarkDigest builds the digest on the same community.
func BenchmarkDigest(b *testing.B) {
	h := missiontest.New(b, "sqlite", areas...)
	seedLarge(b, h, 10000, 200000)
	h.Run("olive", "/digest").MustPrivate(b, "Members:")
	b.ResetTimer()
	for b.Loop() {
		h.Run("olive", "/digest")
	}
}
