package scheduler_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/digest"
	"github.com/missionbot/missionbot/bot/impact"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// benchSlot is a Monday 09:00 UTC, the default digest slot.
var benchSlot = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// batchFor is the rows per INSERT on s: under SQLite's and PostgreSQL's
// limits on bound parameters for the widest row seeded here.
func batchFor(s *storage.Store) int {
	if s.DB().Dialector.Name() == "sqlite" {
		return 200
	}
	return 2000
}

// seedDigestCommunity fills one community with n contributions over the 52
// weeks before benchSlot by n/10 members whose activity is Zipf-distributed
// (a few do most), with an activity and the member-week rollup for each, as
// the commands would have written them, and returns it.
func seedDigestCommunity(b *testing.B, s *storage.Store, n int) bot.CommunityID {
	b.Helper()
	db := s.DB()
	batch := batchFor(s)
	start := benchSlot.AddDate(0, 0, -52*7)
	com := storage.Community{Platform: "console", ExternalID: fmt.Sprintf("bench-%d", n), Name: "bench", Timezone: "UTC",
		DigestChannelID: "C1", DigestChannelName: "impact", DigestSchedule: "every mon 09:00", DigestOn: true,
		AdminsAreOrganisers: true, CreatedAt: start}
	if err := db.Create(&com).Error; err != nil {
		b.Fatal(err)
	}
	nm := max(n/10, 10)
	members := make([]storage.Member, nm)
	for i := range members {
		members[i] = storage.Member{CommunityID: com.ID, ExternalID: fmt.Sprintf("u%d", i), Name: fmt.Sprintf("member %d", i),
			FirstSeenAt: start, LastSeenAt: start}
	}
	if err := db.CreateInBatches(members, batch).Error; err != nil {
		b.Fatal(err)
	}
	g := storage.Goal{CommunityID: com.ID, No: 1, Slug: "trees", Title: "Trees", Unit: "trees", Target: int64(n) * 100, Status: "active",
		CreatedBy: members[0].ID, CreatedAt: start}
	if err := db.Create(&g).Error; err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(nm-1))
	span := int64(benchSlot.Sub(start))
	weeks := map[[2]int64]bool{}
	var (
		contribs []storage.Contribution
		acts     []storage.Activity
		mws      []storage.MemberWeek
		progress int64
	)
	flush := func(force bool) {
		if len(contribs) >= batch*5 || force && len(contribs) > 0 {
			if err := db.CreateInBatches(contribs, batch).Error; err != nil {
				b.Fatal(err)
			}
			if err := db.CreateInBatches(acts, batch).Error; err != nil {
				b.Fatal(err)
			}
			contribs, acts = contribs[:0], acts[:0]
		}
		if len(mws) >= batch*5 || force && len(mws) > 0 {
			if err := db.CreateInBatches(mws, batch).Error; err != nil {
				b.Fatal(err)
			}
			mws = mws[:0]
		}
	}
	for range n {
		m := members[zipf.Uint64()]
		at := start.Add(time.Duration(rng.Int64N(span))).Truncate(time.Second)
		amount := int64(100 + rng.IntN(10)*100)
		progress += amount
		contribs = append(contribs, storage.Contribution{CommunityID: com.ID, Kind: storage.ContribLog, GoalID: &g.ID, MemberID: m.ID,
			Amount: amount, CreatedAt: at})
		acts = append(acts, storage.Activity{CommunityID: com.ID, MemberID: m.ID, Kind: "log", At: at})
		wk := impact.WeekStart(at, time.UTC)
		if key := [2]int64{m.ID, wk.Unix()}; !weeks[key] {
			weeks[key] = true
			mws = append(mws, storage.MemberWeek{CommunityID: com.ID, Week: wk, MemberID: m.ID})
		}
		flush(false)
	}
	flush(true)
	if err := db.Model(&storage.Goal{}).Where("id = ?", g.ID).Update("progress", progress).Error; err != nil {
		b.Fatal(err)
	}
	if s.DB().Dialector.Name() == "postgres" {
		db.Exec("ANALYZE")
	}
	return bot.CommunityID(com.ID)
}

// BenchmarkDigestBuild measures building one community's weekly digest (all
// its SQL) at 10k, 100k and 1M contributions, on SQLite and PostgreSQL.
func BenchmarkDigestBuild(b *testing.B) {
	for _, driver := range testdb.Drivers() {
		for _, n := range []int{10_000, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/%dk", driver, n/1000), func(b *testing.B) {
				s := testdb.Open(b, driver)
				seeded := time.Now()
				c := seedDigestCommunity(b, s, n)
				b.Logf("seeded %d contributions in %v", n, time.Since(seeded).Round(time.Millisecond))
				ctx := context.Background()
				for b.Loop() {
					if _, err := digest.Build(ctx, s, c, time.UTC, benchSlot); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDispatch10kDigests measures dispatching 10,000 communities'
// digests, all due at once, through a recording poster; it reports rows/s.
// Each iteration sends every row once; rows are reset between iterations
// with the timer stopped.
func BenchmarkDispatch10kDigests(b *testing.B) {
	const communities = 10_000
	for _, driver := range testdb.Drivers() {
		for _, workers := range []int{1, scheduler.DefaultWorkers} {
			b.Run(fmt.Sprintf("%s/workers=%d", driver, workers), func(b *testing.B) {
				s := testdb.Open(b, driver)
				db := s.DB()
				batch := batchFor(s)
				coms := make([]storage.Community, communities)
				for i := range coms {
					coms[i] = storage.Community{Platform: "console", ExternalID: fmt.Sprintf("c%d", i), Timezone: "UTC", DigestSchedule: "every mon 09:00",
						DigestOn: true, AdminsAreOrganisers: true, CreatedAt: benchSlot}
				}
				if err := db.CreateInBatches(coms, batch).Error; err != nil {
					b.Fatal(err)
				}
				payload := `{"Visibility":1,"Kind":"digest","Channel":{"ID":"C1","Name":"impact"},"Title":"Impact digest","Text":"…"}`
				rows := make([]storage.OutboxPost, communities)
				for i, c := range coms {
					rows[i] = storage.OutboxPost{CommunityID: c.ID, Kind: string(bot.PostDigest), SlotKey: benchSlot.Format(scheduler.SlotKeyLayout),
						DueAt: benchSlot, Status: storage.OutboxPending, Payload: payload}
				}
				if err := db.CreateInBatches(rows, batch).Error; err != nil {
					b.Fatal(err)
				}
				clock := bot.NewManualClock(benchSlot)
				poster := newRecordingPoster(clock)
				sc := scheduler.New(s, poster, nil, clock, dispLog())
				sc.Workers = workers
				ctx := context.Background()
				var sent int
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if i > 0 {
						b.StopTimer()
						if err := db.Model(&storage.OutboxPost{}).Where("1 = 1").
							Updates(map[string]any{"status": storage.OutboxPending, "claim_token": "", "claimed_until": nil, "sending": false}).Error; err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					ms, err := sc.Dispatch(ctx, benchSlot)
					if err != nil {
						b.Fatal(err)
					}
					sent += len(ms)
				}
				b.StopTimer()
				if sent != communities*b.N {
					b.Fatalf("sent %d, want %d", sent, communities*b.N)
				}
				b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
