package pledge_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/bot/pledge"
	"github.com/missionbot/missionbot/bot/recognition"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

var areas = []missiontest.Register{
	func(e *bot.Engine, s *storage.Store) { goal.Register(e, s) },
	func(e *bot.Engine, s *storage.Store) { pledge.Register(e, s) },
	func(e *bot.Engine, s *storage.Store) { mission.Register(e, s) },
}

// setup creates the goal plant-1000-trees (#1) as organiser olive.
func setup(t *testing.T, h *missiontest.H) {
	t.Helper()
	h.Organiser("olive")
	h.Run("olive", `/goal create "Plant 1000 trees" 1000 trees by 2026-12-31`).MustPrivate(t, "Goal created")
}

func milestones(t *testing.T, h *missiontest.H) int64 {
	t.Helper()
	var n int64
	if err := h.Store.DB().Table("milestones").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// celebrated posts what the outbox holds due now through the console
// poster, as the scheduler would, and returns each post as "#channel text".
func celebrated(t *testing.T, h *missiontest.H) []string {
	t.Helper()
	sc := scheduler.New(h.Store, scheduler.NewConsolePoster(), nil, h.Clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ms, err := sc.Dispatch(context.Background(), h.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ms))
	for i, m := range ms {
		if m.Visibility != bot.Public || m.Kind != bot.PostMilestone {
			t.Fatalf("posted %+v, want a public milestone post", m)
		}
		out[i] = "#" + m.Channel.Name + " " + m.Text
	}
	return out
}

// mustCelebrate checks that exactly want were posted, in order.
func mustCelebrate(t *testing.T, h *missiontest.H, want ...string) {
	t.Helper()
	got := celebrated(t, h)
	if !slices.Equal(got, want) {
		t.Fatalf("celebrations posted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPledgeFlow(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/pledge 10 trees to plant-1000-trees").MustPrivate(t, "Pledged 10 trees to Plant 1000 trees", "pledge #1").MustNoPublic(t)
		h.Run("alice", "/pledge 2.5 tree plant").MustPrivate(t, "Pledged 2.5 trees", "pledge #2")
		h.Run("bob", "/pledge add 300 to #1 anonymously").MustPrivate(t, "pledge #3", "anonymous")
		h.Run("alice", "/pledge list").MustPrivate(t, "#2 2.5 trees to Plant 1000 trees (plant-1000-trees) — 0 trees fulfilled, 2.5 trees open · open",
			"#1 10 trees").MustNoPublic(t)
		h.Run("alice", "/pledge done #1 4").MustPrivate(t, "Pledge #1: 4 trees of 10 trees fulfilled, 6 trees still open", "4 / 1,000 trees")
		h.Run("alice", "/pledge done 2 0.25").MustPrivate(t, "0.25 trees of 2.5 trees", "4.25 / 1,000 trees")
		h.Run("alice", "/pledge cancel #2").MustPrivate(t, "Cancelled 2.25 trees of pledge #2", "0.25 trees you fulfilled still counts")
		h.Run("bob", "/pledge done #3").MustPrivate(t, "300 trees of 300 trees fulfilled", "304.25 / 1,000 trees",
			"You unlocked the 25% milestone of Plant 1000 trees! The celebration is posted in this channel.").MustNoPublic(t)
		mustCelebrate(t, h, "#general 🎉 Plant 1000 trees reached 25% — 304.25 / 1,000 trees!")
		h.Run("alice", "/pledge done #1").MustPrivate(t, "10 trees of 10 trees fulfilled", "310.25 / 1,000 trees").MustNoPublic(t)
		mustCelebrate(t, h)
		h.Run("alice", "/pledge list").MustPrivate(t, "#1 10 trees", "· fulfilled", "#2 2.5 trees", "0.25 trees fulfilled, 2.25 trees cancelled · cancelled")
		show := h.Run("carol", "/goal show plant").MustPrivate(t, "310.25 trees of 1,000 trees (31%)",
			"Pledged: 310.25 trees, 310.25 trees fulfilled, 0 trees still open", "1. alice — 10.25 trees")
		if strings.Contains(show.Private, "bob") || strings.Contains(show.Private, "300") && strings.Contains(show.Private, "2. ") {
			t.Fatalf("anonymous pledge shown in ranking:\n%s", show.Private)
		}
		h.Unchanged("alice", "/pledge done #1", "Nothing is open on pledge #1")
		h.Unchanged("alice", "/pledge cancel #1", "Nothing is open on pledge #1")
	})
}

func TestOneActiveGoalUnitWord(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/pledge 10 trees").MustPrivate(t, "Pledged 10 trees to Plant 1000 trees")
		h.Run("alice", "/pledge 1 tree").MustPrivate(t, "Pledged 1 tree")
		h.Run("alice", "/log 5").MustPrivate(t, "Logged 5 trees", "5 / 1,000 trees")
		h.Unchanged("alice", "/pledge 10 kg", "No goal matches")
		h.Run("olive", `/goal create "Food drive" 500 £ as food`)
		h.Run("alice", "/pledge £20 to food").MustPrivate(t, "Pledged £20 to Food drive")
		h.Unchanged("alice", "/pledge 10 trees", "No goal matches \"trees\"", "plant-1000-trees", "food")
		h.Unchanged("alice", "/pledge 10kg to food", "counted in £, not kg")
	})
}

func TestLogAndMilestones(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/log 2.5 trees to plant-1000-trees by the river").MustPrivate(t, "Logged 2.5 trees", "2.5 / 1,000 trees").MustNoPublic(t)
		h.Run("alice", "/log 0.25 to plant").MustPrivate(t, "2.75 / 1,000 trees")
		// Crossing 25 and 50 at once posts both, once each.
		h.Run("olive", "/settings celebrations-channel #wins").MustPrivate(t, "wins")
		h.Run("bob", "/log 597.25 trees to plant-1000-trees").MustPrivate(t, "600 / 1,000 trees",
			"You unlocked the 25%, 50% milestones of Plant 1000 trees! The celebration is posted in #wins.").MustNoPublic(t)
		mustCelebrate(t, h, "#wins 🎉 Plant 1000 trees reached 25% — 600 / 1,000 trees!", "#wins 🎉 Plant 1000 trees reached 50% — 600 / 1,000 trees!")
		// Down below 50 % and up again: no second post.
		h.Run("bob", "/log undo").MustPrivate(t, "Removed your log of 597.25 trees", "2.75 / 1,000 trees").MustNoPublic(t)
		h.Run("bob", "/log 600 trees").MustPrivate(t, "602.75 / 1,000 trees").MustNoPublic(t)
		if n := milestones(t, h); n != 2 {
			t.Fatalf("milestones = %d, want 2", n)
		}
		mustCelebrate(t, h)
		h.Run("bob", "/log 397.25").MustPrivate(t, "unlocked the 75%, 100% milestones").MustNoPublic(t)
		mustCelebrate(t, h, "#wins 🎉 Plant 1000 trees reached 75% — 1,000 / 1,000 trees!", "#wins 🎉 Plant 1000 trees reached 100% — 1,000 / 1,000 trees!")
		if n := milestones(t, h); n != 4 {
			t.Fatalf("milestones = %d, want 4", n)
		}
		h.Run("alice", "/log undo").MustPrivate(t, "Removed your log of 0.25 trees", "999.75 / 1,000 trees")
		h.Run("alice", "/log undo").MustPrivate(t, "Removed your log of 2.5 trees", "997.25 / 1,000 trees")
		h.Unchanged("alice", "/log undo", "no log from the last 24 hours")
		h.Advance(25 * time.Hour)
		h.Unchanged("bob", "/log undo", "no log from the last 24 hours")
		h.Run("carol", "/goal show plant").MustPrivate(t, "Logged directly: 997.25 trees", "1. bob — 997.25 trees")
	})
}

func TestEditCrossesMilestones(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/log 300 trees").MustPrivate(t, "unlocked the 25% milestone")
		mustCelebrate(t, h, "#general 🎉 Plant 1000 trees reached 25% — 300 / 1,000 trees!")
		h.Run("olive", "/goal edit plant target 500").MustPrivate(t, "300 / 500 trees", "unlocked the 50% milestone").MustNoPublic(t)
		mustCelebrate(t, h, "#general 🎉 Plant 1000 trees reached 50% — 300 / 500 trees!")
		h.Run("olive", "/goal edit plant target 2000").MustNoPublic(t)
		mustCelebrate(t, h)
		h.Run("olive", "/goal edit plant target 400").MustPrivate(t, "unlocked the 75% milestone")
		mustCelebrate(t, h, "#general 🎉 Plant 1000 trees reached 75% — 300 / 400 trees!")
		if n := milestones(t, h); n != 3 {
			t.Fatalf("milestones = %d, want 3", n)
		}
	})
}

func TestClosedGoal(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/pledge 10 trees to plant-1000-trees").MustPrivate(t, "pledge #1")
		h.Run("olive", "/goal close plant-1000-trees").MustPrivate(t, "Closed")
		h.Unchanged("alice", "/pledge 10 trees to plant-1000-trees", "is closed")
		h.Unchanged("alice", "/log 10 trees to plant-1000-trees", "is closed")
		h.Unchanged("alice", "/pledge done #1", "is closed")
		h.Run("alice", "/pledge cancel #1").MustPrivate(t, "Cancelled 10 trees")
	})
}

func TestBadInput(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("olive", `/goal create "Plant more trees" 10 trees as more`)
		h.Run("alice", "/pledge 10 trees to plant-1000-trees").MustPrivate(t, "pledge #1")
		h.Run("alice", "/log 1 to more")
		for _, cmd := range []string{"/pledge", "/log"} {
			h.Unchanged("alice", cmd, "Example")
			h.Unchanged("alice", cmd+" 10 trees to nosuch", "No goal matches")
			h.Unchanged("alice", cmd+" 10 trees to plant", "could mean")
			h.Unchanged("alice", cmd+" 10 trees", "No goal matches \"trees\"")
			h.Unchanged("alice", cmd+" 10", "Which goal?")
			h.Unchanged("alice", cmd+" 0 trees to more", "zero")
			h.Unchanged("alice", cmd+" -5 trees to more", "negative")
			h.Unchanged("alice", cmd+" 10000000000000 trees to more", "too large")
			h.Unchanged("alice", cmd+" NaN trees to more", "not a number")
			h.Unchanged("alice", cmd+" 1e999 trees to more", "not a number")
			h.Unchanged("alice", cmd+" 2,5 trees to more", "2.5")
			h.Unchanged("alice", cmd+" 10 kg to more", "counted in trees, not kg")
			h.Unchanged("alice", cmd+" 10kg to more", "counted in trees, not kg")
			h.Unchanged("alice", cmd+" 10 trees to #99", "No goal matches")
		}
		h.Unchanged("alice", "/log 1 to more "+strings.Repeat("x", 2001), "2000")
		h.Unchanged("alice", "/pledge done", "Example")
		h.Unchanged("alice", "/pledge done #x", "not a valid <id>")
		h.Unchanged("alice", "/pledge done #1 0", "zero")
		h.Unchanged("alice", "/pledge done #1 11", "more than what is open on pledge #1 (10 trees)")
		h.Unchanged("alice", "/pledge done #1 2kg", "not kg")
		h.Unchanged("bob", "/pledge done #1", "#1 is not one of your pledges")
		h.Unchanged("bob", "/pledge cancel #1", "#1 is not one of your pledges")
		h.Unchanged("alice", "/pledge cancel #7", "#7 is not one of your pledges")

		// A bare @name that the platform did not turn into a mention.
		before := h.Snapshot()
		req := h.Request("alice", "/log 1 to more")
		req.Text = "1 to more thanks @bob"
		out := h.Engine.Do(context.Background(), req)
		if len(out.Messages) != 1 || !strings.Contains(out.Messages[0].Text, "not a mention") || h.Snapshot() != before {
			t.Fatalf("bare @name: %+v", out)
		}

		// Another community: its pledge #1 is not ours, and ours is not theirs.
		other := h.In("other")
		other.Organiser("oscar")
		other.Run("oscar", `/goal create "Clean the beach" 50 bags`)
		other.Run("alice", "/pledge 5 bags").MustPrivate(t, "pledge #1")
		other.Unchanged("alice", "/pledge done #2", "#2 is not one of your pledges")
		h.Run("alice", "/pledge 1 tree to plant-1000-trees").MustPrivate(t, "pledge #2")
		other.Unchanged("alice", "/pledge cancel #2", "#2 is not one of your pledges")
		other.Run("alice", "/pledge list").MustPrivate(t, "#1 5 bags")
		if strings.Contains(other.Run("alice", "/pledge list").Private, "trees") {
			t.Fatal("pledge list shows another community's pledges")
		}
	})
}

// With one active goal, a goal named after "to" is a goal, never the start
// of a note; without "to" the words are the note.
func TestNamedGoalIsNotANote(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Unchanged("alice", "/log 5 trees to nosuch", `No goal matches "nosuch"`, "plant-1000-trees")
		h.Unchanged("alice", "/missionbot log 5 trees to nosuch", `No goal matches "nosuch"`)
		h.Run("alice", "/log 5 trees planted to the river").MustPrivate(t, "Logged 5 trees to Plant 1000 trees")
		h.Run("alice", "/log 5 trees planted by the river").MustPrivate(t, "Logged 5 trees to Plant 1000 trees")
		var notes []string
		h.Store.DB().Table("contributions").Order("id").Pluck("note", &notes)
		if strings.Join(notes, "|") != "planted to the river|planted by the river" {
			t.Fatalf("notes %q", notes)
		}
	})
}

// A reference that matches several goals says so, even with one active goal.
func TestAmbiguousWithOneActiveGoal(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("olive", `/goal create "Plant more trees" 10 trees as more`).MustPrivate(t, "Goal created")
		h.Run("olive", "/goal close more").MustPrivate(t, "Closed")
		h.Unchanged("alice", "/pledge 10 to plant", `"plant" could mean`, "plant-1000-trees", "more")
	})
}

// With one active goal the goal's unit word is the unit, even when a closed
// goal's title starts with it.
func TestUnitWordBeatsClosedTitle(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("olive", `/goal create "Trees for schools" 10 trees as schools`).MustPrivate(t, "Goal created")
		h.Run("olive", "/goal close schools").MustPrivate(t, "Closed")
		h.Run("alice", "/pledge 10 trees").MustPrivate(t, "Pledged 10 trees to Plant 1000 trees")
		h.Run("alice", "/log 2 trees").MustPrivate(t, "Logged 2 trees to Plant 1000 trees")
		h.Unchanged("alice", "/log 2 trees to trees", "is closed")
	})
}

// /goal show's top contributors and the goal's all-time leaderboard rank
// the same members in the same order, ties included.
func TestTopContributorsMatchLeaderboard(t *testing.T) {
	areas := append(areas[:len(areas):len(areas)], func(e *bot.Engine, s *storage.Store) { recognition.Register(e, s) })
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("zoe", "/log 5 trees").MustPrivate(t, "Logged")
		h.Run("alice", "/log 5 trees").MustPrivate(t, "Logged")
		h.Run("bob", "/pledge 7 trees anonymously").MustPrivate(t, "pledge #1")
		h.Run("bob", "/pledge done #1").MustPrivate(t, "fulfilled")
		show := h.Run("carol", "/goal show plant").MustPrivate(t, "1. zoe — 5 trees, 2. alice — 5 trees").Private
		board := h.Run("carol", "/leaderboard plant all").Private
		if strings.Index(board, "zoe") < 0 || strings.Index(board, "zoe") > strings.Index(board, "alice") || strings.Contains(board, "bob") || strings.Contains(show, "bob") {
			t.Fatalf("rankings differ:\n%s\n%s", show, board)
		}
	})
}

// An undone log is no longer activity: a member whose only action that week
// was the log is not counted active.
func TestUndoneLogIsNotActivity(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/goal create "Plant trees" 100 trees as trees`)
		count := func(table string) int64 {
			var n int64
			h.Store.DB().Table(table).Joins("JOIN members m ON m.id = "+table+".member_id").Where("m.external_id = ?", "dana").Count(&n)
			return n
		}
		h.Run("dana", "/log 5 trees to trees").MustPrivate(t, "Logged 5 trees")
		if count("activities") != 1 || count("member_weeks") != 1 {
			t.Fatalf("after log: %d activities, %d weeks", count("activities"), count("member_weeks"))
		}
		h.Run("dana", "/log undo").MustPrivate(t, "Removed your log")
		if count("activities") != 0 || count("member_weeks") != 0 {
			t.Fatalf("after undo: %d activities, %d weeks; want none", count("activities"), count("member_weeks"))
		}
		h.Run("dana", "/pledge 2 trees to trees")
		h.Run("dana", "/log 1 tree to trees")
		h.Run("dana", "/log undo")
		if count("activities") != 1 || count("member_weeks") != 1 {
			t.Fatalf("the pledge's activity must stay: %d activities, %d weeks", count("activities"), count("member_weeks"))
		}
	})
}

// TestConcurrentLogsCrossingHalfwayCelebrateOnce: two members log at the
// same moment, each taking the goal past 50 %; the milestone is recorded
// once, its post enqueued once (in that transaction), and posted once.
func TestConcurrentLogsCrossingHalfwayCelebrateOnce(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		setup(t, h)
		h.Run("alice", "/log 260 trees").MustPrivate(t, "unlocked the 25% milestone")
		mustCelebrate(t, h, "#general 🎉 Plant 1000 trees reached 25% — 260 / 1,000 trees!")
		// Requests built first (the harness numbers them), run together.
		reqs := []bot.Request{h.Request("bob", "/log 240 trees"), h.Request("carol", "/log 240 trees")}
		replies := make([]bot.Reply, len(reqs))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, r := range reqs {
			wg.Go(func() {
				<-start
				replies[i] = h.Engine.Do(context.Background(), r)
			})
		}
		close(start)
		wg.Wait()
		unlocked := 0
		for _, r := range replies {
			if len(r.Messages) != 1 || r.Messages[0].Visibility != bot.Private {
				t.Fatalf("reply %+v; want one private message", r)
			}
			if strings.Contains(r.Messages[0].Text, "unlocked the 50% milestone") {
				unlocked++
			}
		}
		if unlocked != 1 {
			t.Fatalf("%d replies say they unlocked 50%%, want 1", unlocked)
		}
		var rows int64
		if err := h.Store.DB().Model(&storage.OutboxPost{}).Where("kind = ? AND slot_key LIKE ?", bot.PostMilestone, "%:50").Count(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Fatalf("%d outbox rows for 50%%, want 1", rows)
		}
		posted := celebrated(t, h)
		if len(posted) != 1 || !strings.Contains(posted[0], "reached 50% — 500 / 1,000 trees!") {
			t.Fatalf("posted %q; want the 50%% celebration once", posted)
		}
		mustCelebrate(t, h)
	})
}
