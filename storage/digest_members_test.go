package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/impact"
)

// wantMemberDays recomputes member_days of community c from its activities.
func wantMemberDays(t *testing.T, s *Store, c int64) []MemberDay {
	t.Helper()
	var acts []Activity
	if err := s.db.Where("community_id = ?", c).Order("member_id, at").Find(&acts).Error; err != nil {
		t.Fatal(err)
	}
	var out []MemberDay
	for _, a := range acts {
		at := a.At.UTC()
		day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		if n := len(out); n > 0 && out[n-1].MemberID == a.MemberID && out[n-1].Day == day.UnixMicro() {
			out[n-1].LastAt = at.UnixMicro()
			continue
		} else if n > 0 && out[n-1].MemberID == a.MemberID {
			next := at.UnixMicro()
			out[n-1].NextAt = &next
		}
		out = append(out, MemberDay{CommunityID: c, Day: day.UnixMicro(), MemberID: a.MemberID, FirstAt: at.UnixMicro(), LastAt: at.UnixMicro()})
	}
	return out
}

func gotMemberDays(t *testing.T, s *Store, c int64) []MemberDay {
	t.Helper()
	var rows []MemberDay
	if err := s.db.Where("community_id = ?", c).Order("member_id, day").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestMemberDaysFollowActivities checks that member_days stays equal to
// what the activities say through inserts out of time order, several on one
// day, and deletions (an undone log), that migration 7's backfill builds the
// same rows, and that DigestMembers then gives the same counts as reading
// the activities member by member.
func TestMemberDaysFollowActivities(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		enter := func(user string) (int64, int64) {
			t.Helper()
			a, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: "c"},
				User: bot.UserRef{Platform: bot.Console, Space: "c", ID: user}, UserName: user, At: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			return int64(a.Community), int64(a.Member.ID)
		}
		var c int64
		var members []int64
		for i := range 6 {
			var m int64
			c, m = enter(fmt.Sprintf("m%d", i))
			members = append(members, m)
		}
		if err := s.db.Model(&Community{}).Where("id = ?", c).Update("timezone", "Europe/London").Error; err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
		var ids []int64
		for i := range 400 {
			m := members[rng.IntN(len(members))]
			// Microsecond times over 10 weeks, some exactly on midnight.
			at := start.Add(time.Duration(rng.Int64N(int64(70 * 24 * time.Hour))).Truncate(time.Microsecond))
			if i%17 == 0 {
				at = at.Truncate(24 * time.Hour)
			}
			a := Activity{CommunityID: c, MemberID: m, Kind: ActLog, At: at}
			if err := s.db.Create(&a).Error; err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
			if i%5 == 4 { // undo a random earlier one
				k := rng.IntN(len(ids))
				if err := s.db.Where("id = ?", ids[k]).Delete(&Activity{}).Error; err != nil {
					t.Fatal(err)
				}
				ids = append(ids[:k], ids[k+1:]...)
			}
		}
		if got, want := gotMemberDays(t, s, c), wantMemberDays(t, s, c); !reflect.DeepEqual(got, want) {
			t.Fatalf("member_days has %d rows, activities say %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
		}
		// Migration 7's backfill gives the same rows as the triggers.
		ddl := memberDaysDDL[s.db.Dialector.Name()]
		if err := s.db.Exec("DELETE FROM member_days").Error; err != nil {
			t.Fatal(err)
		}
		if err := s.db.Exec(ddl[len(ddl)-2]).Error; err != nil {
			t.Fatal(err)
		}
		if got, want := gotMemberDays(t, s, c), wantMemberDays(t, s, c); !reflect.DeepEqual(got, want) {
			t.Fatalf("backfilled member_days has %d rows, activities say %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
		}
		london, err := time.LoadLocation("Europe/London")
		if err != nil {
			t.Fatal(err)
		}
		// Rolling windows ending at midnight, on an activity's instant, just
		// after it, across the October DST change, and at a preview hour.
		var nows []time.Time
		for i := range 12 {
			nows = append(nows, start.Add(time.Duration(i)*5*24*time.Hour+time.Duration(i)*97*time.Minute))
		}
		var one Activity
		if err := s.db.Where("community_id = ?", c).Order("at DESC").First(&one).Error; err != nil {
			t.Fatal(err)
		}
		nows = append(nows, one.At, one.At.Add(time.Microsecond), one.At.Add(-time.Microsecond), time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC))
		for _, now := range nows {
			cur, prev := impact.RollingWeeks(now, london)
			got, err := s.DigestMembers(ctx, bot.CommunityID(c), cur, prev)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range []impact.MemberWindows{cur, prev} {
				want, err := s.activityMembers(ctx, bot.CommunityID(c), w)
				if err != nil {
					t.Fatal(err)
				}
				if got[i] != want {
					t.Errorf("at %s window %d: member_days count %+v, activities %+v", now, i, got[i], want)
				}
			}
		}
	})
}

// TestBulkActivitiesRebuildsMemberDays: activities inserted in bulk with
// the triggers off leave member_days as the activities say, and the
// triggers are back on afterwards.
func TestBulkActivitiesRebuildsMemberDays(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var c int64
		var members []int64
		for i := range 4 {
			a, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: "c"},
				User: bot.UserRef{Platform: bot.Console, Space: "c", ID: fmt.Sprintf("m%d", i)}, UserName: "m", At: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			c = int64(a.Community)
			members = append(members, int64(a.Member.ID))
		}
		start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
		// 200 activities over 20 days, out of time order, in one statement.
		var values []string
		var args []any
		for i := range 200 {
			values = append(values, "(?, ?, ?, ?)")
			at := start.Add(time.Duration((i*7919)%(20*24*60)) * time.Minute)
			args = append(args, c, members[i%len(members)], ActLog, utc(at))
		}
		insert := "INSERT INTO activities (community_id, member_id, kind, at) VALUES " + strings.Join(values, ", ")
		if err := s.BulkActivities(ctx, insert, args...); err != nil {
			t.Fatal(err)
		}
		want := wantMemberDays(t, s, c)
		if len(want) < 20 {
			t.Fatalf("only %d member-days seeded", len(want))
		}
		if got := gotMemberDays(t, s, c); !reflect.DeepEqual(got, want) {
			t.Fatalf("member_days after the bulk insert has %d rows, activities say %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
		}
		// The triggers are on again: a later activity on a new day is seen.
		if err := s.db.Create(&Activity{CommunityID: c, MemberID: members[0], Kind: ActLog, At: start.AddDate(0, 1, 0)}).Error; err != nil {
			t.Fatal(err)
		}
		if got, want := gotMemberDays(t, s, c), wantMemberDays(t, s, c); !reflect.DeepEqual(got, want) {
			t.Fatalf("member_days after a later activity has %d rows, activities say %d", len(got), len(want))
		}
	})
}
