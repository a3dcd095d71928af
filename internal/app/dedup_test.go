package app_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

// TestSameDeliveryHasOneEffect sends one win delivery 100 times at once,
// through two engines (two replicas) on one database with separate
// in-process coordination, so only the database's unique key can stop the
// second replica: exactly one win is stored.
func TestSameDeliveryHasOneEffect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		var engines []*bot.Engine
		for range 2 {
			e := appEngine(s, log)
			e.UseCoordination(memory.New(memory.Options{}), s, bot.Rate{})
			engines = append(engines, e)
		}
		req := bot.Request{EventID: "Ev123", Community: bot.CommunityRef{Platform: bot.Slack, ID: "T1"},
			User: bot.UserRef{Platform: bot.Slack, Space: "T1", ID: "U1"}, UserName: "alice",
			Channel: bot.ChannelRef{ID: "C1", Name: "general"}, Command: "win", Text: "We did it", Time: time.Now().UTC()}
		var wg sync.WaitGroup
		var dups atomic.Int64
		for i := range 100 {
			wg.Go(func() {
				if engines[i%2].Do(context.Background(), req).Duplicate {
					dups.Add(1)
				}
			})
		}
		wg.Wait()
		var wins int64
		s.DB().Table("wins").Count(&wins)
		if wins != 1 || dups.Load() != 99 {
			t.Fatalf("wins = %d, duplicates = %d; want 1 and 99", wins, dups.Load())
		}
	})
}

func TestFloodLimit(t *testing.T) {
	s := testdb.Open(t, "sqlite")
	e := appEngine(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.UseCoordination(memory.New(memory.Options{}), nil, bot.Rate{Events: 1, Per: time.Minute, Burst: 3})
	var outcomes []string
	e.Observe(func(o bot.Observation) { outcomes = append(outcomes, o.Outcome) })
	req := bot.Request{Community: bot.CommunityRef{Platform: bot.Console, ID: "x"}, User: bot.UserRef{Platform: bot.Console, Space: "x", ID: "al"},
		UserName: "al", Command: "mission"}
	for range 4 {
		e.Do(context.Background(), req)
	}
	want := []string{"ok", "ok", "ok", "limited"}
	for i := range want {
		if outcomes[i] != want[i] {
			t.Fatalf("outcomes %v, want %v", outcomes, want)
		}
	}
}
