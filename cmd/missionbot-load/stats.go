package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted, an
// ascending slice, by the nearest-rank method: the smallest value with at
// least p% of the values at or below it. It returns 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted))/100 - 1e-9)) // 1e-9: 99.9% of 1000 is 999, not 999.0000001
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// latencies summarises acknowledgement latencies.
type latencies struct {
	N                   int
	P50, P99, P999, Max time.Duration
}

// summarize sorts ds in place and returns its percentiles.
func summarize(ds []time.Duration) latencies {
	slices.Sort(ds)
	l := latencies{N: len(ds), P50: percentile(ds, 50), P99: percentile(ds, 99), P999: percentile(ds, 99.9)}
	if len(ds) > 0 {
		l.Max = ds[len(ds)-1]
	}
	return l
}

// ms formats d in milliseconds with one decimal for tables.
func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*10) / 10 }
