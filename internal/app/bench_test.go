//go:build unix

package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
)

// stmtCounter counts the statements gorm sends and the transactions they
// ran in, so a benchmark can report what one command costs the database:
// statements on the wire (each transaction adds BEGIN and COMMIT) and
// commits (each transaction, plus each statement outside one).
type stmtCounter struct {
	mu      sync.Mutex
	stmts   int
	outside int
	txs     map[any]struct{}
}

func countStatements(tb testing.TB, db *gorm.DB) *stmtCounter {
	tb.Helper()
	c := &stmtCounter{txs: map[any]struct{}{}}
	count := func(db *gorm.DB) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.stmts++
		if _, ok := db.Statement.ConnPool.(gorm.TxCommitter); ok {
			c.txs[db.Statement.ConnPool] = struct{}{}
		} else {
			c.outside++
		}
	}
	cb := db.Callback()
	for name, err := range map[string]error{
		"create": cb.Create().After("gorm:create").Register("bench:count", count),
		"query":  cb.Query().After("gorm:query").Register("bench:count", count),
		"update": cb.Update().After("gorm:update").Register("bench:count", count),
		"delete": cb.Delete().After("gorm:delete").Register("bench:count", count),
		"row":    cb.Row().After("gorm:row").Register("bench:count", count),
		"raw":    cb.Raw().After("gorm:raw").Register("bench:count", count),
	} {
		if err != nil {
			tb.Fatalf("register %s counter: %v", name, err)
		}
	}
	return c
}

func (c *stmtCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stmts, c.outside, c.txs = 0, 0, map[any]struct{}{}
}

func (c *stmtCounter) report(b *testing.B) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := float64(b.N)
	b.ReportMetric(float64(c.stmts+2*len(c.txs))/n, "stmts/op")
	b.ReportMetric(float64(len(c.txs)+c.outside)/n, "commits/op")
}

// processCPU is the user and system CPU time this process used so far: the
// benchmark's cost without the time spent waiting for other processes on a
// busy machine (the database server's CPU is not in it).
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// nopPoster answers every post at once.
type nopPoster struct{}

func (nopPoster) Post(context.Context, bot.CommunityRef, bot.Message, string) (bot.MessageRef, error) {
	return bot.MessageRef{Channel: "c", ID: "1"}, nil
}

func (nopPoster) Find(context.Context, bot.CommunityRef, bot.Message, string) (bot.MessageRef, bool, error) {
	return bot.MessageRef{}, false, nil
}

// BenchmarkCommand measures one command through the engine as serve wires
// it (deduplication through the in-process coordinator and the database's
// delivery key), from one of 50 known members, followed by the dispatch a
// command's kick causes, on each database. It reports statements and
// commits per command beside the time.
func BenchmarkCommand(b *testing.B) {
	for _, driver := range testdb.Drivers() {
		for _, kind := range []string{"pledge", "log", "win", "impact"} {
			b.Run(driver+"/"+kind, func(b *testing.B) {
				s := testdb.Open(b, driver)
				log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
				e := app.Engine(s, bot.SystemClock{}, log)
				e.UseCoordination(memory.New(memory.Options{}), s, bot.Rate{})
				sched := scheduler.New(s, nopPoster{}, nil, bot.SystemClock{}, log)
				community := bot.CommunityRef{Platform: bot.Slack, ID: "T1"}
				n := 0
				run := func(user int, command, text string) bot.Reply {
					n++
					return e.Do(context.Background(), bot.Request{EventID: fmt.Sprintf("ev-%d", n), Community: community, CommunityName: "bench",
						User: bot.UserRef{Platform: bot.Slack, Space: "T1", ID: fmt.Sprintf("U%d", user)}, UserName: fmt.Sprintf("user %d", user),
						PlatformAdmin: user == 0, Channel: bot.ChannelRef{ID: "C1", Name: "general"}, Command: command, Text: text})
				}
				if r := run(0, "goal", `create "Plant trees" 1000000000 trees as trees`); len(r.Messages) == 0 || strings.Contains(r.Messages[0].Text, "wrong") {
					b.Fatalf("goal create: %+v", r)
				}
				cmd := map[string][2]string{
					"pledge": {"pledge", "1 tree to trees"},
					"log":    {"log", "1 tree to trees load"},
					"win":    {"win", "Load win"},
					"impact": {"impact", ""},
				}[kind]
				command, text := cmd[0], cmd[1]
				for u := range 50 {
					run(u, command, text)
				}
				if _, err := sched.Dispatch(context.Background(), bot.SystemClock{}.Now()); err != nil {
					b.Fatal(err)
				}
				counter := countStatements(b, s.DB())
				cpu0 := processCPU(b)
				b.ResetTimer()
				for i := range b.N {
					r := run(i%50, command, text)
					if len(r.Messages) == 0 {
						b.Fatalf("no reply: %+v", r)
					}
					if _, err := sched.Dispatch(context.Background(), bot.SystemClock{}.Now()); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
				counter.report(b)
				counter.reset()
			})
		}
	}
}
