package recognition_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/recognition"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"
)

var areas = []missiontest.Register{func(e *bot.Engine, s *storage.Store) { recognition.Register(e, s) }}

// communityID returns the store id of h's community (it must exist).
func communityID(t *testing.T, h *missiontest.H) int64 {
	t.Helper()
	var ids []int64
	if err := h.Store.DB().Model(&storage.Community{}).Where("platform = ? AND external_id = ?", string(h.Community.Platform), h.Community.ID).Pluck("id", &ids).Error; err != nil || len(ids) != 1 {
		t.Fatalf("community id: %v %v", ids, err)
	}
	return ids[0]
}

// memberID makes name a member (by running /myimpact) and returns their
// store id.
func memberID(t *testing.T, h *missiontest.H, name string) int64 {
	t.Helper()
	h.Run(name, "/myimpact")
	var ids []int64
	if err := h.Store.DB().Model(&storage.Member{}).Where("community_id = ? AND external_id = ?", communityID(t, h), name).Pluck("id", &ids).Error; err != nil || len(ids) != 1 {
		t.Fatalf("member id %s: %v %v", name, ids, err)
	}
	return ids[0]
}

// addGoal inserts an active goal directly (goals are another package's).
func addGoal(t *testing.T, h *missiontest.H, no int64, slug, title, unit string) int64 {
	t.Helper()
	creator := memberID(t, h, "olive")
	g := storage.Goal{CommunityID: communityID(t, h), No: no, Slug: slug, Title: title, Unit: unit, Target: 100000, Status: "active",
		CreatedBy: creator, CreatedAt: missiontest.Start}
	if err := h.Store.DB().Create(&g).Error; err != nil {
		t.Fatalf("goal: %v", err)
	}
	return g.ID
}

// contribute inserts a contribution row directly (pledges, logs and hours
// are other packages').
func contribute(t *testing.T, h *missiontest.H, member string, goal int64, kind string, amount int64, at time.Time, anonymous bool) {
	t.Helper()
	c := storage.Contribution{CommunityID: communityID(t, h), Kind: kind, MemberID: memberID(t, h, member), Amount: amount,
		Anonymous: anonymous, Note: "note by " + member, CreatedAt: at}
	if goal != 0 {
		c.GoalID = &goal
	}
	if err := h.Store.DB().Create(&c).Error; err != nil {
		t.Fatalf("contribution: %v", err)
	}
}

func count(t *testing.T, h *missiontest.H, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := h.Store.DB().Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestWinAndCheers(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		out := h.Run("alice", "/win The council approved our bike lane!")
		out.MustPrivate(t, "Your win is posted").MustPublic(t, "🎉 @alice: The council approved our bike lane!", "[ 🎉 ]")
		var action string
		for _, m := range out.Reply.Messages {
			if m.Visibility == bot.Public {
				if m.Kind != bot.PostCelebration || len(m.Buttons) != 1 {
					t.Fatalf("win post: %+v", m)
				}
				action = m.Buttons[0].Action
			}
		}
		if action != "win.cheer:1" {
			t.Fatalf("cheer action = %q", action)
		}
		if n := count(t, h, "activities", "kind = ?", storage.ActWin); n != 1 {
			t.Fatalf("win activities = %d", n)
		}

		h.Click("bob", action).MustPrivate(t, "Cheered", "1 cheer")
		before := h.Snapshot()
		h.Click("bob", action).MustPrivate(t, "You already cheered", "1 cheer")
		if after := h.Snapshot(); after != before {
			t.Fatalf("second cheer changed the database:\n%s\n%s", before, after)
		}
		h.Click("carol", action).MustPrivate(t, "2 cheers")
		if n := count(t, h, "wins", "cheers = 2"); n != 1 {
			t.Fatalf("win cheers counter not 2")
		}
		if n := count(t, h, "cheers", "1 = 1"); n != 2 {
			t.Fatalf("cheer rows = %d", n)
		}

		// Concurrent double clicks count once.
		reqs := make([]bot.Request, 8)
		for i := range reqs {
			who := []string{"dave", "erin"}[i%2]
			reqs[i] = bot.Request{EventID: "dbl-" + strconv.Itoa(i), Community: h.Community, CommunityName: h.Community.ID,
				User: h.User(who), UserName: who, Action: action, Time: h.Clock.Now()}
		}
		var wg sync.WaitGroup
		for _, r := range reqs {
			wg.Add(1)
			go func() { defer wg.Done(); h.Engine.Do(context.Background(), r) }()
		}
		wg.Wait()
		if n := count(t, h, "wins", "cheers = 4"); n != 1 {
			t.Fatalf("win cheers counter not 4 after concurrent clicks")
		}
		if n := count(t, h, "cheers", "1 = 1"); n != 4 {
			t.Fatalf("cheer rows = %d after concurrent clicks", n)
		}

		// A win of another community answers exactly like a missing one.
		missing := h.Click("bob", "win.cheer:99").MustError(t, "doesn't exist")
		other := h.In("other").Click("bob", action)
		if other.Private != missing.Private {
			t.Fatalf("another community's win: %q, missing win: %q", other.Private, missing.Private)
		}
		if n := count(t, h, "cheers", "1 = 1"); n != 4 {
			t.Fatalf("cheer rows = %d after foreign cheer", n)
		}

		h.Unchanged("alice", "/win", "Missing")
		h.Unchanged("alice", "/win "+strings.Repeat("a", 2001), "2001 characters")
	})
}

func TestKudos(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Run("alice", "/kudos @bob for organising the park cleanup").
			MustPrivate(t, "Kudos sent to @bob").
			MustPublic(t, "🙌 @alice gave kudos to @bob for organising the park cleanup")
		h.Run("alice", "/kudos @carol great flyers").MustPublic(t, "@alice gave kudos to @carol: great flyers")
		if n := count(t, h, "activities", "kind = ?", storage.ActKudos); n != 2 {
			t.Fatalf("kudos activities = %d", n)
		}

		h.Unchanged("alice", "/kudos @alice for being me", "yourself")
		h.Unchanged("alice", "/kudos @élodie thanks", "not a mention")
		h.Unchanged("alice", "/kudos @bob", "Missing")
		h.Unchanged("alice", "/kudos", "Missing")
		h.Unchanged("alice", "/kudos @bob "+strings.Repeat("x", 2000), "characters")

		// A hidden member is told privately and not named in public.
		h.Run("dana", "/myimpact hide")
		out := h.Run("alice", "/kudos @dana for the soup")
		out.MustPublic(t, "someone who prefers not to be named for the soup").MustPrivate(t, "prefer not to be named")
		if strings.Contains(out.Public, "dana") {
			t.Fatalf("public post names a hidden member:\n%s", out.Public)
		}
		if !strings.Contains(out.Direct["dana"], "@alice gave you kudos: for the soup") {
			t.Fatalf("dana was not told privately:\n%s", out.All)
		}
		if n := count(t, h, "kudos", "1 = 1"); n != 3 {
			t.Fatalf("kudos rows = %d", n)
		}
	})
}

func TestKudosDailyLimit(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Run("alice", "/myimpact")
		h.Store.DB().Model(&storage.Community{}).Where("id = ?", communityID(t, h)).Update("kudos_per_day", 3)
		for _, who := range []string{"bob", "carol", "dave"} {
			h.Run("alice", "/kudos @"+who+" thanks").MustPublic(t, "gave kudos")
		}
		h.Unchanged("alice", "/kudos @erin thanks", "today's 3 kudos")
		h.Run("bob", "/kudos @alice thanks back").MustPublic(t, "gave kudos") // the limit is per giver

		// The day is the community's local day: in Auckland (UTC+13 in
		// December) 09:00 UTC is 22:00; at 11:00 UTC it is tomorrow there.
		h.Store.DB().Model(&storage.Community{}).Where("id = ?", communityID(t, h)).Update("timezone", "Pacific/Auckland")
		h.Unchanged("alice", "/kudos @erin thanks", "today's 3 kudos")
		h.Advance(2 * time.Hour)
		h.Run("alice", "/kudos @erin thanks").MustPublic(t, "gave kudos to @erin")
	})
}

func TestKudosLimitConcurrent(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Run("alice", "/myimpact")
		h.Run("bob", "/myimpact")
		reqs := make([]bot.Request, 15)
		for i := range reqs {
			reqs[i] = h.Request("alice", "/kudos @bob thank you")
		}
		replies := make([]bot.Reply, len(reqs))
		var wg sync.WaitGroup
		for i := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				replies[i] = h.Engine.Do(context.Background(), reqs[i])
			}()
		}
		wg.Wait()
		sent, refused := 0, 0
		for _, r := range replies {
			text := r.Messages[0].Text
			switch {
			case strings.Contains(text, "Kudos sent"):
				sent++
			case strings.Contains(text, "today's 10 kudos"):
				refused++
			default:
				t.Errorf("unexpected reply: %q", text)
			}
		}
		if sent != 10 || refused != 5 {
			t.Fatalf("sent %d, refused %d; want 10 and 5", sent, refused)
		}
		if n := count(t, h, "kudos", "1 = 1"); n != 10 {
			t.Fatalf("stored %d kudos, want 10", n)
		}
		if n := count(t, h, "activities", "kind = ?", storage.ActKudos); n != 10 {
			t.Fatalf("stored %d kudos activities, want 10", n)
		}
	})
}

func TestLeaderboard(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Run("olive", "/leaderboard").MustPrivate(t, "No one is on this board yet")
		trees := addGoal(t, h, 1, "plant-1000-trees", "Plant 1000 trees", "trees")
		tue := missiontest.Start.Add(-time.Hour) // Tue 1 Dec 08:00 UTC
		for range 3 {
			contribute(t, h, "alice", trees, storage.ContribLog, 500, tue, false)
		}
		contribute(t, h, "bob", trees, storage.ContribPledge, 2000, tue, false)
		contribute(t, h, "bob", 0, storage.ContribHours, 250, tue, false)
		contribute(t, h, "frank", trees, storage.ContribLog, 500, time.Date(2026, 11, 30, 0, 30, 0, 0, time.UTC), false) // Monday: this week, last month
		contribute(t, h, "gina", trees, storage.ContribLog, 500, time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC), false) // Sunday: last week
		for range 5 {
			contribute(t, h, "carol", trees, storage.ContribLog, 900, tue, false)
			contribute(t, h, "dave", trees, storage.ContribLog, 900, tue, true)
			contribute(t, h, "erin", trees, storage.ContribLog, 900, tue, false)
		}
		contribute(t, h, "hal", trees, storage.ContribHours, 0, tue, false) // nothing
		h.Run("carol", "/myimpact hide")
		h.Store.DB().Model(&storage.Member{}).Where("external_id = ?", "erin").Update("left", true)
		h.Run("alice", "/kudos @bob thanks")

		wantOrder := func(out missiontest.Out, want []string, absent ...string) {
			t.Helper()
			pos := -1
			for _, w := range want {
				p := strings.Index(out.Private, w)
				if p < 0 || p < pos {
					t.Fatalf("want %q in order %v; got:\n%s", w, want, out.All)
				}
				pos = p
			}
			for _, a := range absent {
				if strings.Contains(out.Private, a) {
					t.Fatalf("%q should not be on the board:\n%s", a, out.All)
				}
			}
		}
		week := h.Run("olive", "/leaderboard")
		week.MustPrivate(t, "this week (Mon 30 Nov – Sun 6 Dec)").MustNoPublic(t)
		wantOrder(week, []string{"1. @alice: 3 actions · 0 hours · 0 kudos", "2. @bob: 1 action · 2.5 hours · 1 kudos", "3. @frank: 1 action"},
			"@carol", "@dave", "@erin", "@gina", "@hal", "@olive")
		wantOrder(h.Run("olive", "/leaderboard month"), []string{"1. @alice", "2. @bob"}, "@frank", "@gina", "@carol", "@dave", "@erin")
		wantOrder(h.Run("olive", "/leaderboard all"), []string{"1. @alice", "2. @bob", "3. @frank", "4. @gina"}, "@carol", "@dave", "@erin")
		wantOrder(h.Run("olive", "/leaderboard plant-1000-trees"), []string{"1. @bob: 20 trees", "2. @alice: 15 trees", "3. @frank: 5 trees"}, "@gina", "@carol", "@dave", "@erin")
		wantOrder(h.Run("olive", "/leaderboard plant all"), []string{"1. @bob: 20 trees", "2. @alice: 15 trees", "3. @frank", "4. @gina"}, "@carol", "@dave", "@erin")

		// Next week the week's board is empty; the month's is not.
		h.Advance(7 * 24 * time.Hour)
		h.Run("olive", "/leaderboard").MustPrivate(t, "this week (Mon 7 Dec – Sun 13 Dec)", "No one is on this board yet", "/log")
		h.Run("olive", "/leaderboard plant-1000-trees week").MustPrivate(t, "No one is on this board yet", "/log 5 trees to plant-1000-trees")
		wantOrder(h.Run("olive", "/leaderboard month"), []string{"1. @alice", "2. @bob"})

		// Unhiding brings carol back.
		h.Run("carol", "/myimpact unhide")
		wantOrder(h.Run("olive", "/leaderboard all"), []string{"1. @carol: 5 actions", "2. @alice"})

		// Another community sees none of it.
		h.In("other").Run("olive", "/leaderboard all").MustPrivate(t, "No one is on this board yet")
		h.In("other").Unchanged("olive", "/leaderboard plant-1000-trees", "no active goals")

		h.Unchanged("olive", "/leaderboard no-such-goal", `No goal matches "no-such-goal"`, "plant-1000-trees")
		h.Unchanged("olive", "/leaderboard yearly", `No goal matches "yearly"`, "Periods are week, month or all")
		h.Unchanged("olive", "/leaderboard plant-1000-trees yearly", "yearly")
	})
}

func TestMyImpact(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Run("alice", "/myimpact").MustPrivate(t, "Nothing recorded yet", "Streak: 0 weeks")
		trees := addGoal(t, h, 1, "plant-1000-trees", "Plant 1000 trees", "trees")
		contribute(t, h, "alice", trees, storage.ContribLog, 500, missiontest.Start, false)
		contribute(t, h, "alice", trees, storage.ContribLog, 250, missiontest.Start, true)
		contribute(t, h, "alice", 0, storage.ContribHours, 150, missiontest.Start, false)
		h.Run("alice", "/win We did it")
		h.Run("bob", "/kudos @alice thanks")
		h.Run("alice", "/kudos @bob thanks too")
		h.Click("bob", "win.cheer:1")
		h.Run("alice", "/myimpact").MustPrivate(t, "Plant 1000 trees: 7.5 trees (2 contributions)", "Hours: 1.5 hours",
			"Kudos: 1 received, 1 given", "Wins: 1 (1 cheer)", "Streak: 1 week")

		// Streak: consecutive weeks up to this one; a week not over yet
		// doesn't break it.
		h.Advance(7 * 24 * time.Hour)
		h.Run("alice", "/win Second week")
		h.Run("alice", "/myimpact").MustPrivate(t, "Streak: 2 weeks")
		h.Advance(7 * 24 * time.Hour)
		h.Run("alice", "/myimpact").MustPrivate(t, "Streak: 2 weeks")
		h.Advance(7 * 24 * time.Hour)
		h.Run("alice", "/myimpact").MustPrivate(t, "Streak: 0 weeks")

		// Export: the caller's data as a JSON file, privately.
		out := h.Run("alice", "/myimpact export").MustNoPublic(t)
		f := out.Reply.Messages[0].File
		if f == nil || out.Reply.Messages[0].Visibility != bot.Private {
			t.Fatalf("no private file:\n%s", out.All)
		}
		var ex recognition.Export
		if err := json.Unmarshal(f.Data, &ex); err != nil {
			t.Fatalf("export json: %v", err)
		}
		if ex.Member.Name != "alice" || len(ex.Contributions) != 3 || len(ex.Wins) != 2 || len(ex.KudosGiven) != 1 || len(ex.KudosReceived) != 1 ||
			ex.Contributions[0].Amount != "5" || ex.Contributions[0].Goal != "Plant 1000 trees" || ex.KudosReceived[0].Member != "bob" {
			t.Fatalf("export: %s", f.Data)
		}
	})
}

func TestForget(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		trees := addGoal(t, h, 1, "plant-1000-trees", "Plant 1000 trees", "trees")
		contribute(t, h, "alice", trees, storage.ContribLog, 500, missiontest.Start, false)
		contribute(t, h, "alice", trees, storage.ContribLog, 300, missiontest.Start, false)
		contribute(t, h, "bob", trees, storage.ContribLog, 100, missiontest.Start, false)
		h.Run("alice", "/win Secret garden opened")
		h.Run("alice", "/kudos @bob for the private thing")
		h.Run("bob", "/kudos @alice kept")

		before := h.Snapshot()
		ask := h.Run("alice", "/myimpact forget").MustPrivate(t, "Erase your personal data?", "/myimpact forget confirm", "[ Forget me ]")
		if after := h.Snapshot(); after != before {
			t.Fatalf("asking changed the database")
		}
		b := ask.Reply.Messages[0].Buttons[0]
		if b.Style != bot.ButtonDanger || b.Action != "cmd:myimpact forget confirm" {
			t.Fatalf("button: %+v", b)
		}
		h.Click("alice", b.Action).MustPrivate(t, "Your personal data is erased",
			"your name, 1 win text, 1 kudos reason, 2 contribution notes", "2 contributions and 0 pledges still count")

		if n := count(t, h, "members", "external_id = ? AND name = '' AND forgotten = ? AND hidden = ?", "alice", true, true); n != 1 {
			t.Fatalf("alice not erased")
		}
		if n := count(t, h, "wins", "text = ?", "[erased]"); n != 1 {
			t.Fatalf("win text not erased")
		}
		if n := count(t, h, "kudos", "reason = ?", "[erased]"); n != 1 {
			t.Fatalf("kudos reason not erased")
		}
		if n := count(t, h, "kudos", "reason = ?", "kept"); n != 1 {
			t.Fatalf("kudos bob wrote was erased")
		}
		if n := count(t, h, "contributions", "anonymous = ? AND note = ''", true); n != 2 {
			t.Fatalf("contributions not anonymised")
		}
		// Counts stay: every row is kept.
		if n := count(t, h, "contributions", "1 = 1"); n != 3 {
			t.Fatalf("contributions = %d", n)
		}
		var sum int64
		h.Store.DB().Raw("SELECT SUM(amount) FROM contributions").Scan(&sum)
		if sum != 900 {
			t.Fatalf("contribution total = %d", sum)
		}
		board := h.Run("olive", "/leaderboard plant-1000-trees all").MustPrivate(t, "1. @bob: 1 trees")
		if strings.Contains(board.Private, "2.") {
			t.Fatalf("forgotten member still ranked:\n%s", board.All)
		}
		// Forgetting again is harmless.
		h.Run("alice", "/myimpact forget confirm").MustPrivate(t, "your name, 0 win texts, 0 kudos reasons, 0 contribution notes")
	})
}

// A forgotten member stays off public boards: /myimpact unhide does not
// claim to bring them back, and changes nothing.
func TestForgottenMemberCannotUnhide(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		trees := addGoal(t, h, 1, "plant-1000-trees", "Plant 1000 trees", "trees")
		h.Run("alice", "/myimpact forget confirm").MustPrivate(t, "Your personal data is erased")
		h.Unchanged("alice", "/myimpact unhide", "asked to be forgotten")
		if n := count(t, h, "members", "external_id = ? AND hidden = ? AND forgotten = ?", "alice", true, true); n != 1 {
			t.Fatalf("forgotten member was unhidden")
		}
		contribute(t, h, "alice", trees, storage.ContribLog, 500, missiontest.Start, false)
		h.Run("olive", "/leaderboard").MustPrivate(t, "No one is on this board yet")
		h.Run("alice", "/myimpact").MustPrivate(t, "You are off public boards")
	})
}

func TestLeaderboardTwoPeriods(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Run("alice", "/win warm up")
		h.Unchanged("alice", "/leaderboard week month", "Give one period")
	})
}
