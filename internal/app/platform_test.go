package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/internal/missiontest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// each runs fn on both databases with an engine that has every area.
func each(t *testing.T, fn func(t *testing.T, h *missiontest.H)) {
	missiontest.Each(t, nil, func(t *testing.T, h *missiontest.H) {
		h.Engine = app.Engine(h.Store, h.Clock, quiet())
		fn(t, h)
	})
}

func TestDepartedMemberLeavesBoardsAndComesBackByActing(t *testing.T) {
	each(t, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/goal create "Plant trees" 100 trees`)
		h.Run("dana", "/log 5 trees to plant-trees")
		h.Run("erin", "/log 3 trees to plant-trees")
		if b := h.Run("olive", "/leaderboard").Private; !strings.Contains(b, "dana") {
			t.Fatalf("dana is on the board before leaving:\n%s", b)
		}
		h.Event("dana", bot.EventLeft, "", "")
		h.Event("dana", bot.EventLeft, "", "") // a repeated departure changes nothing
		b := h.Run("olive", "/leaderboard").Private
		if strings.Contains(b, "dana") || !strings.Contains(b, "erin") {
			t.Fatalf("after dana left, the board shows erin only:\n%s", b)
		}
		h.Run("dana", "/log 1 trees to plant-trees")
		if b := h.Run("olive", "/leaderboard").Private; !strings.Contains(b, "dana") {
			t.Fatalf("dana acting again puts her back on the board:\n%s", b)
		}
	})
}

func TestDepartureOfUnknownMemberIsIgnored(t *testing.T) {
	each(t, func(t *testing.T, h *missiontest.H) {
		if o := h.Event("ghost", bot.EventLeft, "", ""); len(o.Reply.Messages) != 0 {
			t.Fatalf("departure shows nothing; got %q", o.All)
		}
		if o := h.In("elsewhere").Event("ghost", bot.EventLeft, "", ""); len(o.Reply.Messages) != 0 {
			t.Fatalf("departure from an unknown community shows nothing; got %q", o.All)
		}
	})
}

func TestCompleteSuggestsThisCommunitysGoalsAndOpportunities(t *testing.T) {
	each(t, func(t *testing.T, h *missiontest.H) {
		ctx := context.Background()
		h.Organiser("olive")
		h.Run("olive", `/goal create "Plant 1000 trees" 1000 trees`)
		h.Run("olive", `/goal create "Collect 50 kg of food" 50 kg`)
		h.Run("olive", `/volunteer create "Beach clean-up" tomorrow 10:00 for 2h slots 10`)
		other := h.In("elsewhere")
		other.Organiser("oscar")
		other.Run("oscar", `/goal create "Plant a hedge" 100 m`)

		req := bot.Request{Community: h.Community, User: h.User("dana"), UserName: "dana", Command: "pledge"}
		got, err := h.Engine.Complete(ctx, req, "goal", "pla")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Value != "plant-1000-trees" || !strings.Contains(got[0].Name, "Plant 1000 trees") {
			t.Fatalf("completing %q gives this community's tree goal only; got %+v", "pla", got)
		}
		got, _ = h.Engine.Complete(ctx, req, "goal", "")
		if len(got) != 2 {
			t.Fatalf("an empty prefix suggests every active goal; got %+v", got)
		}
		req.Command, req.Sub = "volunteer", "join"
		got, _ = h.Engine.Complete(ctx, req, "opportunity", "beach")
		if len(got) != 1 || got[0].Value != "#1" {
			t.Fatalf("opportunities complete by title to #number; got %+v", got)
		}
		if r := h.Run("dana", "/volunteer join "+got[0].Value); !strings.Contains(r.Private, "Beach clean-up") {
			t.Fatalf("the suggested value works as typed:\n%s", r.All)
		}
		got, _ = h.Engine.Complete(ctx, req, "nonsense", "x")
		if len(got) != 0 {
			t.Fatalf("an option nothing completes gives no choices; got %+v", got)
		}
	})
}

func TestPledgeButtonAsksForTheAmount(t *testing.T) {
	each(t, func(t *testing.T, h *missiontest.H) {
		h.Organiser("olive")
		h.Run("olive", `/goal create "Plant trees" 100 trees`)
		show := h.Run("dana", "/goal show plant-trees")
		var pledge *bot.Button
		for _, m := range show.Reply.Messages {
			for i, b := range m.Buttons {
				if b.Label == "Pledge" {
					pledge = &m.Buttons[i]
				}
			}
		}
		if pledge == nil || pledge.Input == nil {
			t.Fatalf("/goal show carries a Pledge button asking for an amount; got %+v", show.Reply)
		}
		h.Click("dana", pledge.Submit("  12\ntrees ")).MustPrivate(t, "12 trees")
		if b := h.Run("olive", "/goal show plant-trees").Private; !strings.Contains(b, "12 trees") {
			t.Fatalf("the pledge from the button is stored:\n%s", b)
		}
		h.Click("dana", pledge.Submit("lots")).MustError(t)
	})
}
