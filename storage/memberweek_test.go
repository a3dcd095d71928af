package storage

import (
	"context"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
)

// memberWeeks returns every member_weeks row, ordered, with weeks in UTC.
func memberWeeks(t *testing.T, s *Store) []MemberWeek {
	t.Helper()
	var rows []MemberWeek
	if err := s.db.Select("community_id", "member_id", "week").Order("community_id, member_id, week").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].Week = rows[i].Week.UTC()
	}
	return rows
}

func TestRecordActivityWeeks(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		london, err := time.LoadLocation("Europe/London")
		if err != nil {
			t.Fatal(err)
		}
		enter := func(community, user, tz string) (int64, int64) {
			t.Helper()
			a, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: community},
				User: bot.UserRef{Platform: bot.Console, Space: community, ID: user}, UserName: user, At: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.db.Model(&Community{}).Where("id = ?", a.Community).Update("timezone", tz).Error; err != nil {
				t.Fatal(err)
			}
			return int64(a.Community), int64(a.Member.ID)
		}
		record := func(c, m int64, at time.Time) {
			t.Helper()
			if err := s.db.Transaction(func(tx *gorm.DB) error { return s.recordActivity(tx, c, m, ActLog, at) }); err != nil {
				t.Fatal(err)
			}
		}
		c, alice := enter("c", "alice", "Europe/London")
		_, bob := enter("c", "bob", "Europe/London")
		// British Summer Time: Monday 00:30 in London is still Sunday in UTC.
		record(c, alice, time.Date(2026, 6, 10, 12, 0, 0, 0, london))  // Wednesday
		record(c, alice, time.Date(2026, 6, 14, 23, 30, 0, 0, london)) // Sunday 23:30, same week
		record(c, alice, time.Date(2026, 6, 15, 0, 30, 0, 0, london))  // Monday 00:30, next week
		record(c, alice, time.Date(2026, 6, 15, 0, 30, 0, 0, london))  // again: still one row
		record(c, bob, time.Date(2026, 6, 14, 23, 30, 0, 0, london))
		d, dan := enter("d", "dan", "America/New_York")
		record(d, dan, time.Date(2026, 6, 15, 1, 0, 0, 0, time.UTC)) // Sunday 21:00 in New York

		mondayLondon := func(day int) time.Time { return time.Date(2026, 6, day, 0, 0, 0, 0, london).UTC() }
		want := []MemberWeek{
			{CommunityID: c, MemberID: alice, Week: mondayLondon(8)},
			{CommunityID: c, MemberID: alice, Week: mondayLondon(15)},
			{CommunityID: c, MemberID: bob, Week: mondayLondon(8)},
			{CommunityID: d, MemberID: dan, Week: time.Date(2026, 6, 8, 4, 0, 0, 0, time.UTC)}, // Monday 00:00 EDT
		}
		got := memberWeeks(t, s)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("member weeks after recording:\n got %v\nwant %v", got, want)
		}

		// Migration 4 rebuilds the same rows from the activities alone.
		for _, q := range []string{
			"DROP TABLE member_weeks",
			"DROP INDEX ix_contrib_time_cover", "DROP INDEX ix_contrib_goal_cover", "DROP INDEX ix_contrib_goal_member",
			"DROP INDEX ix_pledges_time", "DROP INDEX ix_signups_time", "DROP INDEX ix_kudos_time",
			"DELETE FROM schema_migrations WHERE version = 4",
		} {
			if err := s.db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(applied, []int{4}) {
			t.Fatalf("applied %v, want [4]", applied)
		}
		if got := memberWeeks(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("member weeks after migration 4:\n got %v\nwant %v", got, want)
		}
	})
}

// TestRecordActivityWeekAfterZoneChangedElsewhere: a community's zone
// changed by another replica (this store remembers the old one) still puts
// the next activity in the week of the new zone, and only there.
func TestRecordActivityWeekAfterZoneChangedElsewhere(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		london, err := time.LoadLocation("Europe/London")
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: "c"},
			User: bot.UserRef{Platform: bot.Console, Space: "c", ID: "alice"}, UserName: "alice", At: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		c, alice := int64(a.Community), int64(a.Member.ID)
		setZone := func(tz string) {
			t.Helper()
			if err := s.db.Model(&Community{}).Where("id = ?", c).Update("timezone", tz).Error; err != nil {
				t.Fatal(err)
			}
		}
		record := func(at time.Time) {
			t.Helper()
			if err := s.db.Transaction(func(tx *gorm.DB) error { return s.recordActivity(tx, c, alice, ActLog, at) }); err != nil {
				t.Fatal(err)
			}
		}
		setZone("Europe/London")
		record(time.Date(2026, 6, 3, 12, 0, 0, 0, london)) // remembered: London
		setZone("America/New_York")                        // as another replica would
		// Monday 00:30 in London is Sunday 19:30 in New York: New York's
		// week of Monday 8 June.
		record(time.Date(2026, 6, 15, 0, 30, 0, 0, london))
		record(time.Date(2026, 6, 15, 0, 45, 0, 0, london)) // the zone now remembered
		want := []MemberWeek{
			{CommunityID: c, MemberID: alice, Week: time.Date(2026, 6, 1, 0, 0, 0, 0, london).UTC()},
			{CommunityID: c, MemberID: alice, Week: time.Date(2026, 6, 8, 4, 0, 0, 0, time.UTC)},
		}
		if got := memberWeeks(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("member weeks:\n got %v\nwant %v", got, want)
		}
		var activities int64
		if err := s.db.Model(&Activity{}).Where("community_id = ?", c).Count(&activities).Error; err != nil {
			t.Fatal(err)
		}
		if activities != 3 {
			t.Fatalf("%d activities, want 3", activities)
		}
	})
}
