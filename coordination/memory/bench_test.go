package memory_test

import (
	"testing"

	"github.com/missionbot/missionbot/coordination/coordtest"
	"github.com/missionbot/missionbot/coordination/memory"
)

func BenchmarkDedup(b *testing.B) {
	coordtest.BenchDedup(b, memory.New(memory.Options{}))
}

func BenchmarkAllow(b *testing.B) {
	coordtest.BenchAllow(b, memory.New(memory.Options{}))
}
