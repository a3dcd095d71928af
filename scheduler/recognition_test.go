package scheduler_test

import (
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/scheduler"
)

// leave marks member name of h's community as having left at at (no
// command does this yet: the platform adapters will).
func leave(t *testing.T, h *missiontest.H, name string, at time.Time) {
	t.Helper()
	err := h.Store.DB().Exec(`UPDATE members SET "left" = ?, left_at = ? WHERE external_id = ? AND community_id = (SELECT id FROM communities WHERE external_id = ?)`,
		true, at.UTC(), name, h.Community.ID).Error
	if err != nil {
		t.Fatal(err)
	}
}

// TestRecognitionWeekly: a New York community; the week of Mon 30 Nov 2026
// is recognised once, at Mon 7 Dec 09:00 local (14:00 UTC), naming only
// those the leaderboard names, with streaks; the empty week after gets no
// post.
func TestRecognitionWeekly(t *testing.T) {
	t.Parallel()
	missiontest.Each(t, peopleAreas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/settings timezone America/New_York").MustPrivate(t, "America/New_York")
		h.Run("olive", "/settings celebrations-channel #wins").MustPrivate(t, "wins")
		h.Run("olive", `/goal create "Plant trees" 1000 trees`).MustPrivate(t, "Goal created")
		// Earlier weeks, for streaks: alice three weeks running, bob two, hidden hank two.
		for _, at := range []time.Time{time.Date(2026, 11, 17, 15, 0, 0, 0, time.UTC), time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)} {
			h.Clock.Set(at)
			h.Run("alice", "/log 1 tree to plant-trees")
			h.Run("hank", "/log 1 tree to plant-trees")
		}
		h.Run("bob", "/log 1 tree to plant-trees")
		h.Clock.Set(time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC))
		h.Run("alice", "/pledge 10 trees to plant-trees").MustPrivate(t, "pledge #1")
		h.Run("alice", "/pledge done #1").MustPrivate(t, "Thank you")
		h.Run("alice", "/log 5 trees to plant-trees")
		h.Run("bob", "/log 3 trees to plant-trees")
		h.Run("bob", "/kudos @carol for the saplings").MustPublic(t, "carol")
		h.Run("hank", "/log 9 trees to plant-trees")
		h.Run("hank", "/myimpact hide")
		h.Run("ann", "/pledge 20 trees to plant-trees anonymously").MustPrivate(t, "pledge #2")
		h.Run("ann", "/pledge done #2").MustPrivate(t, "Thank you")
		h.Run("lee", "/log 8 trees to plant-trees")
		leave(t, h, "lee", h.Clock.Now())
		h.Run("fay", "/log 7 trees to plant-trees")
		h.Run("fay", "/myimpact forget confirm")
		c, _ := communityOf(t, h, "olive")

		out := newRecordingOutbox()
		p, replica := scheduler.NewRecognitions(h.Store), scheduler.NewRecognitions(h.Store)
		run(t, out, time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 15, 6, 0, 0, 0, time.UTC), 30*time.Minute, p, replica)
		posts := out.of(c, bot.PostRecognition)
		// The first run finds the slot of Mon 30 Nov (the week of 23 Nov,
		// when alice, bob and hank were active) already past its window.
		if len(posts) != 2 || posts[0].SlotKey != "2026-11-23" || !posts[0].NotAfter.Before(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("%d recognition posts, want the expired one of 23 Nov, then one (none for the empty week): %+v", len(posts), posts)
		}
		post := posts[1]
		due := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
		if post.SlotKey != "2026-11-30" || !post.DueAt.Equal(due) || !post.NotAfter.Equal(due.Add(12*time.Hour)) {
			t.Fatalf("post %q due %s not after %s; want 2026-11-30 due %s, 12 h window", post.SlotKey, post.DueAt, post.NotAfter, due)
		}
		m := post.Message
		if m.Visibility != bot.Public || m.Kind != bot.PostRecognition || m.Channel.Name != "wins" {
			t.Fatalf("message %+v, want a public recognition in #wins", m)
		}
		wantItems := []string{
			"1. <@alice|alice>: 2 actions · 0 hours · 0 kudos",
			"2. <@bob|bob>: 1 action · 0 hours · 0 kudos",
			"3. <@carol|carol>: 0 actions · 0 hours · 1 kudos",
		}
		if strings.Join(m.Items, "\n") != strings.Join(wantItems, "\n") {
			t.Fatalf("items:\n%s\nwant:\n%s", strings.Join(m.Items, "\n"), strings.Join(wantItems, "\n"))
		}
		if !strings.Contains(m.Title, "Mon 30 Nov – Sun 6 Dec") {
			t.Errorf("title %q does not name the week", m.Title)
		}
		if len(m.Fields) != 1 || m.Fields[0].Value != "<@alice|alice> 3 weeks · <@bob|bob> 2 weeks" {
			t.Errorf("streaks %+v, want alice 3 weeks and bob 2 weeks", m.Fields)
		}
		all := m.Title + m.Text + strings.Join(m.Items, " ") + m.Fields[0].Value
		for _, who := range []string{"@hank", "@ann", "@lee", "@fay", "former member"} {
			if strings.Contains(all, who) {
				t.Errorf("post names %s:\n%s", who, all)
			}
		}
	})
}

// TestRecognitionLate: first run past the 12-hour window records the slot
// with an expired NotAfter and a message saying why.
func TestRecognitionLate(t *testing.T) {
	t.Parallel()
	missiontest.Each(t, peopleAreas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/settings celebrations-channel #wins").MustPrivate(t, "wins")
		h.Run("olive", `/goal create "Plant trees" 1000 trees`).MustPrivate(t, "Goal created")
		h.Run("alice", "/log 5 trees to plant-trees")
		c, _ := communityOf(t, h, "olive")
		out := newRecordingOutbox()
		now := time.Date(2026, 12, 7, 22, 0, 0, 0, time.UTC) // Monday, 13 h after 09:00 UTC
		run(t, out, now, now, time.Minute, scheduler.NewRecognitions(h.Store))
		posts := out.of(c, bot.PostRecognition)
		if len(posts) != 1 || !posts[0].NotAfter.Before(now) || !strings.Contains(posts[0].Message.Text, "skipped") || len(posts[0].Message.Items) != 0 {
			t.Fatalf("posts %+v, want one expired placeholder", posts)
		}
	})
}
