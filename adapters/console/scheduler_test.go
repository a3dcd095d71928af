package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/console"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
)

// gonePoster posts like the console, except to the channel "gone", which
// fails for good (the bot was removed from it).
type gonePoster struct{ *scheduler.ConsolePoster }

func (p gonePoster) Post(ctx context.Context, c bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, error) {
	if m.Visibility == bot.Public && m.Channel.ID == "gone" {
		return bot.MessageRef{}, fmt.Errorf("not_in_channel: %w", bot.ErrPermanent)
	}
	return p.ConsolePoster.Post(ctx, c, m, key)
}

// TestMilestonesAndNoticesThroughTheOutbox: a milestone is posted right
// after the command that reached it, once; a post that fails tells the
// organiser privately, once.
func TestMilestonesAndNoticesThroughTheOutbox(t *testing.T) {
	s := testdb.Open(t, "sqlite")
	clock := bot.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sched := scheduler.New(s, gonePoster{scheduler.NewConsolePoster()}, app.Producers(s), clock, log)
	var out bytes.Buffer
	c := console.New(app.Engine(s, clock, log), s, sched, clock, &out)
	ctx := context.Background()
	c.Line(ctx, `/goal create "Plant 1000 trees" 1000 trees by 2026-12-31`)
	c.Line(ctx, "!as alice")
	c.Line(ctx, "/log 300 trees")
	c.Line(ctx, "/log 10 trees")
	got := out.String()
	want := "unlocked the 25% milestone of Plant 1000 trees! The celebration is posted in this channel.\n" +
		"Plant 1000 trees (plant-1000-trees)  ▓▓▓░░░░░░░ 30%  300 / 1,000 trees\n\n" +
		"[#general]\n🎉 Plant 1000 trees reached 25% — 300 / 1,000 trees!\n\n[private → alice]\nLogged 10 trees"
	if !strings.Contains(got, want) || strings.Count(got, "reached 25%") != 1 {
		t.Fatalf("want the celebration once, right after the /log reply:\n%s", got)
	}

	// A scheduled post to a channel the bot was removed from.
	a, err := s.Enter(ctx, bot.Visit{Community: console.Community, User: bot.UserRef{Platform: bot.Console, Space: console.Community.ID, ID: "you"}, UserName: "you", At: clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, bot.Post{Community: a.Community, Kind: bot.PostAnnouncement, SlotKey: "1:x", DueAt: clock.Now().Add(10 * time.Minute),
		Message: bot.Message{Visibility: bot.Public, Kind: bot.PostAnnouncement, Channel: bot.ChannelRef{ID: "gone", Name: "gone"}, Text: "Hello"}}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	c.Line(ctx, "!advance 1h")
	c.Line(ctx, "/log 1 tree")
	got = out.String()
	if n := strings.Count(got, "[private → you]\n*A scheduled post needs attention*\nThe announcement post for 1:x"); n != 1 || !strings.Contains(got, "not_in_channel") {
		t.Fatalf("%d notices to you, want 1 naming the reason:\n%s", n, got)
	}
	if strings.Contains(got, "[private → alice]\n*A scheduled") {
		t.Fatalf("a member was told:\n%s", got)
	}
}
