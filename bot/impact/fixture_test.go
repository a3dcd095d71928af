package impact_test

import (
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/digest"
	"github.com/missionbot/missionbot/bot/impact"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"
)

var areas = []missiontest.Register{func(e *bot.Engine, s *storage.Store) {
	impact.Register(e, s)
	digest.Register(e, s)
}}

// at is a UTC instant in November/December 2026.
func at(month time.Month, day, hour, min int) time.Time {
	return time.Date(2026, month, day, hour, min, 0, 0, time.UTC)
}

// fixture is the constructed community every test shares. The harness
// clock is Tue 1 Dec 2026 09:00 UTC; the community is in New York (UTC-5),
// so its week started Mon 30 Nov 05:00 UTC and last week Mon 23 Nov 05:00.
type fixture struct {
	community int64
	members   map[string]int64
	goalID    int64
}

func seed(t testing.TB, h *missiontest.H) fixture {
	t.Helper()
	db := h.Store.DB()
	names := []string{"olive", "alice", "bob", "carol", "dave", "erin", "frank", "gina"}
	h.Organiser("olive")
	for _, n := range names[1:] {
		h.Run(n, "/impact")
	}
	f := fixture{members: map[string]int64{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var c storage.Community
	must(db.Where("platform = ? AND external_id = ?", "console", h.Community.ID).Take(&c).Error)
	f.community = c.ID
	must(db.Model(&storage.Community{}).Where("id = ?", c.ID).Update("timezone", "America/New_York").Error)
	var ms []storage.Member
	must(db.Where("community_id = ?", c.ID).Find(&ms).Error)
	for _, m := range ms {
		f.members[m.ExternalID] = m.ID
	}
	if len(f.members) != len(names) {
		t.Fatalf("members: %v", f.members)
	}
	must(db.Model(&storage.Member{}).Where("community_id = ?", c.ID).Update("first_seen_at", at(10, 1, 12, 0)).Error)
	// frank is new this week; gina joined on Sunday 23:00 New York time: last week.
	must(db.Model(&storage.Member{}).Where("id = ?", f.members["frank"]).Update("first_seen_at", at(12, 1, 8, 0)).Error)
	must(db.Model(&storage.Member{}).Where("id = ?", f.members["gina"]).Update("first_seen_at", at(11, 30, 4, 0)).Error)
	// erin asked to be forgotten; bob is hidden from boards.
	must(db.Model(&storage.Member{}).Where("id = ?", f.members["erin"]).Update("forgotten", true).Error)
	must(db.Model(&storage.Member{}).Where("id = ?", f.members["bob"]).Update("hidden", true).Error)

	due := at(12, 31, 0, 0).Add(29 * time.Hour) // end of 31 Dec in New York
	g := storage.Goal{CommunityID: c.ID, No: 1, Slug: "plant-1000-trees", Title: "Plant 1000 trees", Unit: "trees",
		Target: 100000, DueAt: &due, Status: "active", Progress: 2200, Pledged: 1500, CreatedBy: f.members["olive"], CreatedAt: at(10, 1, 12, 0)}
	must(db.Create(&g).Error)
	f.goalID = g.ID
	must(db.Create(&storage.Goal{CommunityID: c.ID, No: 2, Slug: "plant-bulbs", Title: "Plant bulbs", Unit: "bulbs",
		Target: 10000, Status: "closed", CreatedBy: f.members["olive"], CreatedAt: at(10, 1, 12, 0)}).Error)

	p := storage.Pledge{CommunityID: c.ID, No: 1, GoalID: g.ID, MemberID: f.members["frank"], Amount: 2000, Fulfilled: 500,
		Status: "open", Anonymous: true, CreatedAt: at(12, 1, 8, 0), UpdatedAt: at(12, 1, 8, 0)}
	must(db.Create(&p).Error)

	gid := &g.ID
	contrib := func(member, kind string, goal *int64, amount int64, anon bool, when time.Time, note string) storage.Contribution {
		return storage.Contribution{CommunityID: c.ID, Kind: kind, GoalID: goal, MemberID: f.members[member], Amount: amount,
			Anonymous: anon, CreatedAt: when, Note: note}
	}
	cs := []storage.Contribution{
		contrib("alice", storage.ContribLog, gid, 1000, false, at(11, 30, 6, 0), "-fixed the gate"),
		contrib("frank", storage.ContribPledge, gid, 500, true, at(12, 1, 8, 0), ""),
		contrib("alice", storage.ContribHours, nil, 200, false, at(11, 30, 6, 0), ""),
		contrib("frank", storage.ContribAttended, nil, 300, false, at(12, 1, 8, 0), ""),
		// Sunday 23:30 in New York: last week there, this week in UTC.
		contrib("bob", storage.ContribLog, gid, 700, false, at(11, 30, 4, 30), ""),
		contrib("bob", storage.ContribHours, nil, 150, false, at(11, 30, 4, 30), ""),
	}
	cs[1].PledgeID = &p.ID
	must(db.Create(&cs).Error)

	acts := []storage.Activity{
		{MemberID: f.members["alice"], Kind: storage.ActLog, At: at(11, 30, 6, 0)},
		{MemberID: f.members["alice"], Kind: storage.ActWin, At: at(11, 25, 12, 0)},
		{MemberID: f.members["bob"], Kind: storage.ActLog, At: at(11, 30, 4, 30)},
		{MemberID: f.members["carol"], Kind: storage.ActKudos, At: at(11, 16, 12, 0)},
		{MemberID: f.members["dave"], Kind: storage.ActSignup, At: at(11, 10, 12, 0)},
		{MemberID: f.members["erin"], Kind: storage.ActKudos, At: at(11, 9, 4, 0)},
		{MemberID: f.members["frank"], Kind: storage.ActPledge, At: at(12, 1, 8, 0)},
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

	must(db.Create(&storage.Win{CommunityID: c.ID, No: 1, MemberID: f.members["alice"],
		Text: `=HYPERLINK("http://example.com/x","click me")`, CreatedAt: at(11, 30, 6, 0)}).Error)
	must(db.Create(&[]storage.Kudos{
		{CommunityID: c.ID, FromID: f.members["alice"], ToID: f.members["frank"], Reason: "+1 for the rota", CreatedAt: at(11, 30, 6, 0)},
		{CommunityID: c.ID, FromID: f.members["erin"], ToID: f.members["alice"], Reason: "thanks", CreatedAt: at(11, 9, 4, 0)},
	}).Error)
	must(db.Create(&storage.Opportunity{CommunityID: c.ID, No: 1, Title: "Park cleanup", StartsAt: at(12, 5, 15, 0),
		Minutes: 120, Slots: 12, Confirmed: 2, Status: "open", CreatedBy: f.members["olive"], CreatedAt: at(11, 20, 12, 0)}).Error)
	must(db.Create(&storage.Opportunity{CommunityID: c.ID, No: 2, Title: "Full shift", StartsAt: at(12, 6, 15, 0),
		Minutes: 120, Slots: 2, Confirmed: 2, Status: "open", CreatedBy: f.members["olive"], CreatedAt: at(11, 20, 12, 0)}).Error)
	return f
}
