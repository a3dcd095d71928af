package pledge_test

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/missiontest"
	"github.com/missionbot/missionbot/storage"
)

// BenchmarkPledge measures one "/pledge 1 tree to trees" through the
// parser, the engine and the SQLite store.
func BenchmarkPledge(b *testing.B) {
	h := missiontest.New(b, "sqlite", areas...)
	h.Organiser("olive")
	h.Run("olive", `/goal create "Plant trees" 1000000000 trees as trees`)
	if out := h.Run("alice", "/pledge 1 tree to trees"); !strings.Contains(out.Private, "Pledged 1 tree") {
		b.Fatalf("pledge failed: %s", out.All)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Run("alice", "/pledge 1 tree to trees")
	}
}

// BenchmarkSingleRowTx measures one gorm transaction inserting one Activity
// on the same kind of store, as the floor BenchmarkPledge compares with.
func BenchmarkSingleRowTx(b *testing.B) {
	h := missiontest.New(b, "sqlite", areas...)
	a, err := h.Store.Enter(context.Background(), bot.Visit{Community: h.Community, User: h.User("alice"), UserName: "alice", At: h.Clock.Now()})
	if err != nil {
		b.Fatal(err)
	}
	row := func() *storage.Activity {
		return &storage.Activity{CommunityID: int64(a.Community), MemberID: int64(a.Member.ID), Kind: storage.ActLog, At: h.Clock.Now()}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := h.Store.DB().Transaction(func(tx *gorm.DB) error { return tx.Create(row()).Error }); err != nil {
			b.Fatal(err)
		}
	}
}
