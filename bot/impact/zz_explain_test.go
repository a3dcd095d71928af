package impact_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/missionbot/missionbot/internal/missiontest"
)

func BenchmarkZZExplain(b *testing.B) {
	h := missiontest.New(b, "sqlite", areas...)
	seedLarge(b, h, 10000, 200000)
	run := func(name, line string) {
		h.Run("olive", line)
		t0 := time.Now()
		for i := 0; i < 10; i++ {
			h.Run("olive", line)
		}
		fmt.Printf("%s: %v/op\n", name, time.Since(t0)/10)
	}
	run("impact", "/impact")
	run("digest", "/digest")
	run("goal", "/impact goal-1")
	fmt.Println(h.Run("olive", "/impact").All)
	for _, q := range []string{
		"CREATE INDEX ix_contrib_time_cover ON contributions (community_id, created_at, kind, goal_id, amount)",
	} {
		if err := h.Store.DB().Exec(q).Error; err != nil {
			b.Fatal(err)
		}
	}
	run("impact+contrib-cover", "/impact")
	run("digest+contrib-cover", "/digest")
}
