package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

// eachStore runs fn on a fresh SQLite store and on a private schema of the
// test PostgreSQL (skipped when unreachable and CI is unset). This package
// cannot use internal/testdb, which imports it.
func eachStore(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := Open(context.Background(), Options{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "t.db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("MISSIONBOT_TEST_PG")
		if dsn == "" {
			dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
		}
		admin, err := sql.Open("pgx", dsn)
		if err == nil {
			err = admin.Ping()
		}
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("PostgreSQL is required in CI: %v", err)
			}
			t.Skipf("PostgreSQL not reachable: %v", err)
		}
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		schema := "t_" + hex.EncodeToString(b)
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE"); _ = admin.Close() })
		s, err := Open(context.Background(), Options{Driver: "postgres", DSN: dsn + "&search_path=" + schema, MaxOpenConns: 20})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s)
	})
}

// fixture makes a community, a member and a goal of target (hundredths).
func fixture(t *testing.T, s *Store, target bot.Amount) (bot.CommunityID, bot.MemberID, goal.Goal) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a, err := s.Enter(ctx, bot.Visit{Community: bot.CommunityRef{Platform: bot.Console, ID: "c"}, User: bot.UserRef{Platform: bot.Console, Space: "c", ID: "alice"}, UserName: "alice", At: at})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.CreateGoal(ctx, a.Community, goal.New{Title: "Plant trees", Unit: "trees", Target: target, CreatedBy: a.Member.ID, At: at})
	if err != nil {
		t.Fatal(err)
	}
	return a.Community, a.Member.ID, g
}

func TestAddProgressMilestones(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		c, _, g := fixture(t, s, 100000)
		add := func(delta int64) []int {
			t.Helper()
			var got []int
			err := s.tx(context.Background(), func(tx *gorm.DB) error {
				var err error
				got, err = addProgress(tx, int64(c), g.ID, delta, time.Now())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		steps := []struct {
			delta int64
			want  []int
		}{
			{24999, nil},
			{1, []int{25}},
			{50000, []int{50, 75}}, // two at once
			{-60000, nil},          // down: recorded ones stay
			{60000, nil},           // up again: not again
			{25000, []int{100}},
			{1, nil},
		}
		for i, st := range steps {
			if got := add(st.delta); !reflect.DeepEqual(got, st.want) {
				t.Fatalf("step %d: thresholds %v, want %v", i, got, st.want)
			}
		}
		var p int64
		s.db.Model(&Goal{}).Where("id = ?", g.ID).Select("progress").Scan(&p)
		if p != 100001 {
			t.Fatalf("progress %d, want 100001", p)
		}
		err := s.tx(context.Background(), func(tx *gorm.DB) error {
			_, err := addProgress(tx, int64(c)+1, g.ID, 5, time.Now())
			return err
		})
		if err == nil {
			t.Fatal("addProgress in another community succeeded")
		}
	})
}

func TestConcurrentLogsAndFulfils(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c, m, g := fixture(t, s, 10000)
		p, err := s.AddPledge(ctx, c, m, g.ID, 2000, false, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if p.Goal.ID != g.ID || p.Goal.Pledged != 2000 || p.No != 1 {
			t.Fatalf("pledge %+v", p)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := 0; i < 20; i++ {
			wg.Add(2)
			go func() { defer wg.Done(); _, err := s.AddLog(ctx, c, m, g.ID, 125, "", time.Now()); errs <- err }()
			go func() { defer wg.Done(); _, _, err := s.FulfilPledge(ctx, c, m, p.No, 100, time.Now()); errs <- err }()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var row Goal
		if err := s.db.Where("id = ?", g.ID).Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		if row.Progress != 20*125+2000 || row.Pledged != 0 {
			t.Fatalf("progress %d pledged %d, want 4500 and 0", row.Progress, row.Pledged)
		}
		var n int64
		s.db.Model(&Milestone{}).Where("goal_id = ?", g.ID).Count(&n)
		if n != 1 {
			t.Fatalf("%d milestones, want 1 (25%%)", n)
		}
	})
}

// Edits that recompute progress, racing logs that add to it, leave progress
// equal to the ledger: no log is lost under an edit.
func TestConcurrentEditsAndLogs(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		c, m, g := fixture(t, s, 1000000)
		var wg sync.WaitGroup
		errs := make(chan error, 80)
		for i := 0; i < 40; i++ {
			wg.Add(2)
			go func() { defer wg.Done(); _, err := s.AddLog(ctx, c, m, g.ID, 100, "", time.Now()); errs <- err }()
			go func() {
				defer wg.Done()
				_, _, err := s.EditGoal(ctx, c, g.ID, goal.Edit{Target: bot.Amount(1000000 + i)}, time.Now())
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var row Goal
		if err := s.db.Where("id = ?", g.ID).Take(&row).Error; err != nil {
			t.Fatal(err)
		}
		if row.Progress != 40*100 {
			t.Fatalf("progress %d, want %d", row.Progress, 40*100)
		}
	})
}
