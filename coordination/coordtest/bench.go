package coordtest

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// BenchDedup measures FirstSeen on fresh event ids (the common case: the
// first delivery), serially and with b.RunParallel, and reports p50 and p99
// latency per call.
func BenchDedup(b *testing.B, c bot.Coordinator) {
	ctx := context.Background()
	keys := c.Keys()
	var n atomic.Int64
	Latency(b, func() error {
		_, err := c.FirstSeen(ctx, keys.Dedup(bot.Slack, "Ev"+strconv.FormatInt(n.Add(1), 36)), time.Minute)
		return err
	})
}

// BenchAllow measures Allow across 1,000 member limiters with a generous
// rate, serially and with b.RunParallel, and reports p50 and p99 latency.
func BenchAllow(b *testing.B, c bot.Coordinator) {
	ctx := context.Background()
	keys := c.Keys()
	limits := make([]string, 1000)
	for i := range limits {
		limits[i] = keys.Limit("member", "slack:T1:U"+strconv.Itoa(i))
	}
	rate := bot.Rate{Events: 1000, Per: time.Second, Burst: 1000}
	var n atomic.Int64
	Latency(b, func() error {
		_, err := c.Allow(ctx, limits[n.Add(1)%int64(len(limits))], rate)
		return err
	})
}

// Latency runs call b.N times in a "Serial" and a "Parallel" sub-benchmark,
// records each call's duration, and reports the 50th and 99th percentiles as
// "p50-µs" and "p99-µs". call must be safe for concurrent use. It asserts
// nothing about the numbers; it fails only when call returns an error.
func Latency(b *testing.B, call func() error) {
	b.Run("Serial", func(b *testing.B) {
		durs := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for b.Loop() {
			start := time.Now()
			if err := call(); err != nil {
				b.Fatal(err)
			}
			durs = append(durs, time.Since(start))
		}
		b.StopTimer()
		reportPercentiles(b, durs)
	})
	b.Run("Parallel", func(b *testing.B) {
		var mu sync.Mutex
		var all []time.Duration
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var durs []time.Duration
			for pb.Next() {
				start := time.Now()
				if err := call(); err != nil {
					b.Error(err)
					return
				}
				durs = append(durs, time.Since(start))
			}
			mu.Lock()
			all = append(all, durs...)
			mu.Unlock()
		})
		b.StopTimer()
		reportPercentiles(b, all)
	})
}

func reportPercentiles(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	at := func(p float64) float64 {
		return float64(durs[int(p*float64(len(durs)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}
