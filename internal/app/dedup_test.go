package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

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

// TestRetryAfterFailedWriteRuns: a pledge whose write fails (the database
// drops the connection mid-transaction) stores nothing and tells the member
// to try again; the platform's retry of that same delivery is then handled,
// not dropped as a repeat, and a third delivery of it is a repeat.
func TestRetryAfterFailedWriteRuns(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		e := appEngine(s, log)
		e.UseCoordination(memory.New(memory.Options{}), s, bot.Rate{})
		community := bot.CommunityRef{Platform: bot.Slack, ID: "T1"}
		request := func(id, user, command, text string) bot.Request {
			return bot.Request{EventID: id, Community: community, User: bot.UserRef{Platform: bot.Slack, Space: "T1", ID: user},
				UserName: user, PlatformAdmin: user == "UORG", Channel: bot.ChannelRef{ID: "C1", Name: "general"},
				Command: command, Text: text, Time: time.Now().UTC()}
		}
		if r := e.Do(context.Background(), request("Ev-goal", "UORG", "goal", `create "Plant trees" 1000 trees as trees`)); r.Duplicate || len(r.Messages) == 0 {
			t.Fatalf("goal create: %+v", r)
		}
		var failNext atomic.Bool
		failNext.Store(true)
		drop := func(db *gorm.DB) {
			if (db.Statement.Table == "pledges" || strings.Contains(db.Statement.SQL.String(), "INTO pledges")) && failNext.CompareAndSwap(true, false) {
				_ = db.AddError(fmt.Errorf("write tcp 127.0.0.1:5432: %w", syscall.ECONNRESET))
			}
		}
		cb := s.DB().Callback()
		for _, err := range []error{
			cb.Create().Before("gorm:create").Register("test:drop-connection", drop),
			cb.Raw().Before("gorm:raw").Register("test:drop-connection", drop),
			cb.Row().Before("gorm:row").Register("test:drop-connection", drop),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		pledge := request("Ev-pledge", "U1", "pledge", "5 trees to trees")
		first := e.Do(context.Background(), pledge)
		if first.Duplicate || len(first.Messages) == 0 || !strings.Contains(first.Messages[0].Text, "try again") {
			t.Fatalf("failed write answered %+v, want a try-again", first)
		}
		pledges := func() int64 {
			var n int64
			if err := s.DB().Table("pledges").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := pledges(); n != 0 {
			t.Fatalf("%d pledges stored by the failed write", n)
		}
		retry := e.Do(context.Background(), pledge)
		if retry.Duplicate || len(retry.Messages) == 0 || !strings.Contains(retry.Messages[0].Text, "Pledged 5 trees") {
			t.Fatalf("retry answered %+v, want the pledge", retry)
		}
		if again := e.Do(context.Background(), pledge); !again.Duplicate {
			t.Fatalf("third delivery answered %+v, want a repeat", again)
		}
		if n := pledges(); n != 1 {
			t.Fatalf("%d pledges, want 1", n)
		}
		// A read-only command's repeat is not answered twice either, even
		// when only the database can tell (a second replica).
		other := appEngine(s, log)
		other.UseCoordination(memory.New(memory.Options{}), s, bot.Rate{})
		impact := request("Ev-impact", "U1", "impact", "")
		if r := e.Do(context.Background(), impact); r.Duplicate {
			t.Fatal("first /impact answered as a repeat")
		}
		if r := other.Do(context.Background(), impact); !r.Duplicate {
			t.Fatalf("repeated /impact on another replica answered %+v, want a repeat", r)
		}
	})
}

// brokenDeliveries cannot record a delivery.
type brokenDeliveries struct{}

func (brokenDeliveries) ClaimDelivery(context.Context, bot.Platform, string, time.Time) (bool, error) {
	return false, fmt.Errorf("%w: connection reset", bot.ErrUnavailable)
}

// TestReadOnlyAnswerStandsWhenItsDeliveryCannotBeRecorded: /impact changed
// nothing, so a database that cannot record its delivery afterwards does
// not turn the answer into an error.
func TestReadOnlyAnswerStandsWhenItsDeliveryCannotBeRecorded(t *testing.T) {
	s := testdb.Open(t, "sqlite")
	e := appEngine(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.UseCoordination(memory.New(memory.Options{}), brokenDeliveries{}, bot.Rate{})
	r := e.Do(context.Background(), bot.Request{EventID: "Ev-impact", Community: bot.CommunityRef{Platform: bot.Slack, ID: "T1"},
		User: bot.UserRef{Platform: bot.Slack, Space: "T1", ID: "U1"}, UserName: "alice",
		Channel: bot.ChannelRef{ID: "C1", Name: "general"}, Command: "impact", Time: time.Now().UTC()})
	if r.Duplicate || len(r.Messages) == 0 || !strings.HasPrefix(r.Messages[0].Title, "Impact") {
		t.Fatalf("/impact answered %+v, want the dashboard", r)
	}
}
