package digest_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/digest"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/internal/missiontest"
)

func TestDigestPreviewNumbers(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		seed(t, h)
		out := h.Run("olive", "/digest").MustNoPublic(t).MustPrivate(t,
			"Impact digest: Tue 24 Nov – Tue 1 Dec",
			"22 / 1,000 trees  +22 trees (▲ from 0 trees) · needs 222.04 trees a week to finish by 31 Dec",
			"Pledges made: 1 ▲ from 0",
			"Pledges fulfilled: 1 ▲ from 0",
			"Contributions: 6 ▲ from 0",
			"Volunteer hours: 6.5 (▲ from 0)",
			"Members: active 3 ▲ from 0 · new 2 ▲ from 0 · returning 0, same as before · lapsed 3 ▲ from 1",
			"Wins: 1 ▲ from 0",
			"Kudos: 1 ▲ from 0",
			`🎉 =HYPERLINK("http://example.com/x","click me") (alice)`,
			"🏅 1. alice: 2 contributions, 2 hours",
			"🏅 2. frank: 1 contribution, 3 hours",
			"📅 #1 Park cleanup, Sat 5 Dec 10:00: 10 of 12 slots left (/volunteer join #1)",
		)
		// bob is hidden; frank's pledge was anonymous; the full shift has no slot.
		for _, absent := range []string{"bob", "🏅 3.", "Full shift", "erin"} {
			if strings.Contains(out.Private, absent) {
				t.Errorf("digest shows %q:\n%s", absent, out.Private)
			}
		}
	})
}

func TestDigestNowPostsTheSameMessage(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		f := seed(t, h)
		h.Unchanged("olive", "/digest now", "No digest channel is set yet", "/settings digest-channel")
		if err := h.Store.DB().Exec("UPDATE communities SET digest_channel_id = 'C9', digest_channel_name = 'impact' WHERE id = ?", f.Community).Error; err != nil {
			t.Fatal(err)
		}
		preview := h.Run("olive", "/digest preview")
		post := h.Run("olive", "/digest now").MustPublic(t, "[#impact]", "Impact digest: Tue 24 Nov – Tue 1 Dec", "🏅 1. alice").
			MustPrivate(t, "Posted the digest to #impact.")
		pm, dm := preview.Reply.Messages[0], post.Reply.Messages[0]
		if dm.Kind != bot.PostDigest || dm.Visibility != bot.Public || dm.Channel.ID != "C9" {
			t.Fatalf("posted %+v", dm)
		}
		if pm.Title != dm.Title || !reflect.DeepEqual(pm.Fields, dm.Fields) || !reflect.DeepEqual(pm.Progress, dm.Progress) || !reflect.DeepEqual(pm.Items, dm.Items) {
			t.Fatalf("preview and post differ:\n%s\n---\n%s", preview.All, post.All)
		}
	})
}

func TestDigestIsForOrganisers(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		seed(t, h)
		h.Unchanged("alice", "/digest", "Only organisers")
		h.Unchanged("alice", "/digest now", "Only organisers")
		h.Unchanged("alice", "/digest preview", "Only organisers")
	})
}

func TestPace(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	due := now.Add(14 * 24 * time.Hour)
	g := goal.Goal{Target: 10000, Progress: 8000, Unit: "trees", DueAt: due}
	cases := []struct {
		g      goal.Goal
		gained bot.Amount
		want   string
	}{
		{g, 1000, "on pace for 15 Dec"},
		{g, 999, "needs 10 trees a week to finish by 15 Dec"},
		{goal.Goal{Target: 100, Progress: 100, Unit: "trees"}, 0, "target reached"},
		{goal.Goal{Target: 100, Progress: 50, Unit: "trees"}, 0, "0.5 trees to go, no due date"},
		{goal.Goal{Target: 100, Progress: 50, Unit: "trees", DueAt: now}, 0, "overdue, 0.5 trees to go"},
	}
	for _, c := range cases {
		if got := digest.Pace(c.g, c.gained, now, time.UTC); got != c.want {
			t.Errorf("Pace(%+v, %v) = %q, want %q", c.g, c.gained, got, c.want)
		}
	}
}
