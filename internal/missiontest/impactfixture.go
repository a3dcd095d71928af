package missiontest

import (
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot/impact"
	"github.com/missionbot/missionbot/storage"
)

// At is a UTC instant in November/December 2026.
func At(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, time.UTC)
}

// ImpactFixture is the constructed community the impact and digest tests share. The harness
// clock is Tue 1 Dec 2026 09:00 UTC; the community is in New York (UTC-5),
// so its week started Mon 30 Nov 05:00 UTC and last week Mon 23 Nov 05:00.
type ImpactFixture struct {
	Community int64
	Members   map[string]int64
	GoalID    int64
}

// SeedImpact fills h's community with the impact fixture.
func SeedImpact(t testing.TB, h *H) ImpactFixture {
	t.Helper()
	db := h.Store.DB()
	names := []string{"olive", "alice", "bob", "carol", "dave", "erin", "frank", "gina"}
	h.Organiser("olive")
	for _, n := range names[1:] {
		h.Run(n, "/impact")
	}
	f := ImpactFixture{Members: map[string]int64{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var c storage.Community
	must(db.Where("platform = ? AND external_id = ?", "console", h.Community.ID).Take(&c).Error)
	f.Community = c.ID
	must(db.Model(&storage.Community{}).Where("id = ?", c.ID).Update("timezone", "America/New_York").Error)
	var ms []storage.Member
	must(db.Where("community_id = ?", c.ID).Find(&ms).Error)
	for _, m := range ms {
		f.Members[m.ExternalID] = m.ID
	}
	if len(f.Members) != len(names) {
		t.Fatalf("members: %v", f.Members)
	}
	must(db.Model(&storage.Member{}).Where("community_id = ?", c.ID).Update("first_seen_at", At(10, 1, 12, 0)).Error)
	// frank is new this week; gina joined on Sunday 23:00 New York time: last week.
	must(db.Model(&storage.Member{}).Where("id = ?", f.Members["frank"]).Update("first_seen_at", At(12, 1, 8, 0)).Error)
	must(db.Model(&storage.Member{}).Where("id = ?", f.Members["gina"]).Update("first_seen_at", At(11, 30, 4, 0)).Error)
	// erin asked to be forgotten; bob is hidden from boards.
	must(db.Model(&storage.Member{}).Where("id = ?", f.Members["erin"]).Update("forgotten", true).Error)
	must(db.Model(&storage.Member{}).Where("id = ?", f.Members["bob"]).Update("hidden", true).Error)

	due := At(12, 31, 0, 0).Add(29 * time.Hour) // end of 31 Dec in New York
	g := storage.Goal{CommunityID: c.ID, No: 1, Slug: "plant-1000-trees", Title: "Plant 1000 trees", Unit: "trees",
		Target: 100000, DueAt: &due, Status: "active", Progress: 2200, Pledged: 1500, CreatedBy: f.Members["olive"], CreatedAt: At(10, 1, 12, 0)}
	must(db.Create(&g).Error)
	f.GoalID = g.ID
	must(db.Create(&storage.Goal{CommunityID: c.ID, No: 2, Slug: "plant-bulbs", Title: "Plant bulbs", Unit: "bulbs",
		Target: 10000, Status: "closed", CreatedBy: f.Members["olive"], CreatedAt: At(10, 1, 12, 0)}).Error)

	p := storage.Pledge{CommunityID: c.ID, No: 1, GoalID: g.ID, MemberID: f.Members["frank"], Amount: 2000, Fulfilled: 500,
		Status: "open", Anonymous: true, CreatedAt: At(12, 1, 8, 0), UpdatedAt: At(12, 1, 8, 0)}
	must(db.Create(&p).Error)

	gid := &g.ID
	contrib := func(member, kind string, goal *int64, amount int64, anon bool, when time.Time, note string) storage.Contribution {
		return storage.Contribution{CommunityID: c.ID, Kind: kind, GoalID: goal, MemberID: f.Members[member], Amount: amount,
			Anonymous: anon, CreatedAt: when, Note: note}
	}
	cs := []storage.Contribution{
		contrib("alice", storage.ContribLog, gid, 1000, false, At(11, 30, 6, 0), "-fixed the gate"),
		contrib("frank", storage.ContribPledge, gid, 500, true, At(12, 1, 8, 0), ""),
		contrib("alice", storage.ContribHours, nil, 200, false, At(11, 30, 6, 0), ""),
		contrib("frank", storage.ContribAttended, nil, 300, false, At(12, 1, 8, 0), ""),
		// Sunday 23:30 in New York: last week there, this week in UTC.
		contrib("bob", storage.ContribLog, gid, 700, false, At(11, 30, 4, 30), ""),
		contrib("bob", storage.ContribHours, nil, 150, false, At(11, 30, 4, 30), ""),
	}
	cs[1].PledgeID = &p.ID
	must(db.Create(&cs).Error)

	acts := []storage.Activity{
		{MemberID: f.Members["alice"], Kind: storage.ActLog, At: At(11, 30, 6, 0)},
		{MemberID: f.Members["alice"], Kind: storage.ActWin, At: At(11, 25, 12, 0)},
		{MemberID: f.Members["bob"], Kind: storage.ActLog, At: At(11, 30, 4, 30)},
		{MemberID: f.Members["carol"], Kind: storage.ActKudos, At: At(11, 16, 12, 0)},
		{MemberID: f.Members["dave"], Kind: storage.ActSignup, At: At(11, 10, 12, 0)},
		{MemberID: f.Members["erin"], Kind: storage.ActKudos, At: At(11, 9, 4, 0)},
		{MemberID: f.Members["frank"], Kind: storage.ActPledge, At: At(12, 1, 8, 0)},
	}
	for i := range acts {
		acts[i].CommunityID = c.ID
	}
	must(db.Create(&acts).Error)
	// member_weeks as recordActivity writes them: one row per member and
	// New York week with an activity.
	ny, err := time.LoadLocation("America/New_York")
	must(err)
	weeks := map[storage.MemberWeek]bool{}
	for _, a := range acts {
		weeks[storage.MemberWeek{CommunityID: c.ID, MemberID: a.MemberID, Week: impact.WeekStart(a.At, ny)}] = true
	}
	for w := range weeks {
		must(db.Create(&w).Error)
	}

	must(db.Create(&storage.Win{CommunityID: c.ID, No: 1, MemberID: f.Members["alice"],
		Text: `=HYPERLINK("http://example.com/x","click me")`, CreatedAt: At(11, 30, 6, 0)}).Error)
	must(db.Create(&[]storage.Kudos{
		{CommunityID: c.ID, FromID: f.Members["alice"], ToID: f.Members["frank"], Reason: "+1 for the rota", CreatedAt: At(11, 30, 6, 0)},
		{CommunityID: c.ID, FromID: f.Members["erin"], ToID: f.Members["alice"], Reason: "thanks", CreatedAt: At(11, 9, 4, 0)},
	}).Error)
	must(db.Create(&storage.Opportunity{CommunityID: c.ID, No: 1, Title: "Park cleanup", StartsAt: At(12, 5, 15, 0),
		Minutes: 120, Slots: 12, Confirmed: 2, Status: "open", CreatedBy: f.Members["olive"], CreatedAt: At(11, 20, 12, 0)}).Error)
	must(db.Create(&storage.Opportunity{CommunityID: c.ID, No: 2, Title: "Full shift", StartsAt: At(12, 6, 15, 0),
		Minutes: 120, Slots: 2, Confirmed: 2, Status: "open", CreatedBy: f.Members["olive"], CreatedAt: At(11, 20, 12, 0)}).Error)
	return f
}
