package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
)

// signalPoster tells each post's key on a channel.
type signalPoster struct{ posted chan string }

func (p signalPoster) Post(_ context.Context, _ bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, error) {
	p.posted <- key
	return bot.MessageRef{Channel: m.Channel.ID, ID: key}, nil
}

func (p signalPoster) Find(context.Context, bot.CommunityRef, bot.Message, string) (bot.MessageRef, bool, error) {
	return bot.MessageRef{}, false, nil
}

// TestKickDispatchesWithoutWaitingForTheTick: a row enqueued after Run's
// first tick is posted on Kick, not a minute later; kicks never block.
func TestKickDispatchesWithoutWaitingForTheTick(t *testing.T) {
	s := testdb.Open(t, "sqlite")
	c := dispCommunity(t, s, "a")
	first := dispEnqueue(t, s, c, "first", dispT0, time.Time{})
	p := signalPoster{posted: make(chan string, 4)}
	sc := scheduler.New(s, p, nil, bot.NewManualClock(dispT0), dispLog())
	sc.Kick() // before Run: merged, harmless
	sc.Kick()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	if key := <-p.posted; key != scheduler.Key(first.ID) {
		t.Fatalf("first tick posted %s", key)
	}
	second := dispEnqueue(t, s, c, "second", dispT0, time.Time{})
	sc.Kick()
	if key := <-p.posted; key != scheduler.Key(second.ID) {
		t.Fatalf("kick posted %s", key)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
