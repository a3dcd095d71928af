package mission_test

import (
	"context"
	"sync"
	"testing"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/missiontest"
)

func TestNewMemberIsWelcomedOncePrivately(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/mission set Every street green by 2030")
		h.Run("olive", "/mission values Act locally; Include everyone")

		o := h.Event("nadia", bot.EventJoined, "", "")
		if o.Private != "" || o.Public != "" {
			t.Fatalf("a welcome is only a direct message; got private %q public %q", o.Private, o.Public)
		}
		mustContain(t, o.Direct["nadia"], "Welcome to local, nadia!", "Every street green by 2030", "Act locally", "/volunteer")

		again := h.Event("nadia", bot.EventJoined, "", "")
		if len(again.Reply.Messages) != 0 {
			t.Fatalf("a member is welcomed once; the second join showed %q", again.All)
		}
	})
}

func TestWelcomeFollowsTheWelcomeSettings(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", "/settings welcome-channel #introductions")

		if o := h.Event("nadia", bot.EventJoined, "", ""); len(o.Reply.Messages) != 0 {
			t.Fatalf("with a welcome channel, a workspace join is not welcomed; got %q", o.All)
		}
		if o := h.Event("nadia", bot.EventJoined, "random", ""); len(o.Reply.Messages) != 0 {
			t.Fatalf("a join to another channel is not welcomed; got %q", o.All)
		}
		mustContain(t, h.Event("nadia", bot.EventJoined, "introductions", "").Direct["nadia"], "Welcome")

		h.Run("olive", "/settings welcome off")
		if o := h.Event("omar", bot.EventJoined, "introductions", ""); len(o.Reply.Messages) != 0 {
			t.Fatalf("welcome off welcomes no one; got %q", o.All)
		}
	})
}

func TestConcurrentJoinDeliveriesWelcomeOnce(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			welcomes int
		)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := bot.Request{EventID: "", Community: h.Community, CommunityName: "local",
					User: h.User("nadia"), UserName: "nadia", Event: bot.EventJoined, Time: h.Clock.Now()}
				r := h.Engine.Do(context.Background(), req)
				mu.Lock()
				welcomes += len(r.Messages)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if welcomes != 1 {
			t.Fatalf("8 concurrent joins of one member gave %d welcomes, want 1", welcomes)
		}
	})
}

func TestInstallerBecomesFirstOrganiser(t *testing.T) {
	missiontest.Each(t, areas, func(t *testing.T, h *missiontest.H) {
		o := h.Event("ines", bot.EventInstalled, "", "")
		mustContain(t, o.Direct["ines"], "first organiser", "/mission set")
		mustContain(t, h.Run("ines", "/organisers").Private, "ines")
		h.Run("ines", "/mission set Feed every neighbour").MustPrivate(t)
	})
}
