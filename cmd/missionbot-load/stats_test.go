package main

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	thousand := make([]int, 1000)
	for i := range thousand {
		thousand[i] = i + 1
	}
	for _, tc := range []struct {
		name string
		data []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", ms(7), 50, 7 * time.Millisecond},
		{"one value p99.9", ms(7), 99.9, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"median of five", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p99.9 of 1..100 is the max", ms(hundred...), 99.9, 100 * time.Millisecond},
		{"p99.9 of 1..1000", ms(thousand...), 99.9, 999 * time.Millisecond},
		{"p50 of 1..1000", ms(thousand...), 50, 500 * time.Millisecond},
		{"tiny p is the min", ms(hundred...), 0.001, 1 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.data, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarizeSortsAndReportsMax(t *testing.T) {
	l := summarize([]time.Duration{5, 1, 4, 2, 3})
	if l.N != 5 || l.P50 != 3 || l.P99 != 5 || l.Max != 5 {
		t.Errorf("summarize = %+v, want n 5, p50 3, p99 5, max 5", l)
	}
}

// TestTickerIsOpenLoop feeds the ticker ticks by hand: the requests
// due by each tick's time are fired at once, late ticks catch up, and it
// stops at the total.
func TestTickerIsOpenLoop(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ticks := make(chan time.Time, 10)
	var fired []int64
	s := ticker{rate: 100, total: 120}
	for _, d := range []time.Duration{0, 10 * time.Millisecond, 15 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second} {
		ticks <- start.Add(d)
	}
	close(ticks)
	n := s.run(context.Background(), start, ticks, func(i int64) { fired = append(fired, i) })
	if n != 120 || len(fired) != 120 {
		t.Fatalf("fired %d (returned %d), want 120", len(fired), n)
	}
	for i, f := range fired {
		if f != int64(i) {
			t.Fatalf("fired out of order: %v", fired[:i+1])
		}
	}
	// After the first three ticks (0, 10, 15 ms): 1, 2, 2 due.
	ticks2 := make(chan time.Time, 3)
	for _, d := range []time.Duration{0, 10 * time.Millisecond, 15 * time.Millisecond} {
		ticks2 <- start.Add(d)
	}
	close(ticks2)
	if n := s.run(context.Background(), start, ticks2, func(int64) {}); n != 2 {
		t.Errorf("fired %d by 15 ms at 100/s, want 2", n)
	}
}

func TestTickerStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ticks := make(chan time.Time)
	if n := (ticker{rate: 100, total: 10}).run(ctx, time.Now(), ticks, func(int64) {}); n != 0 {
		t.Errorf("fired %d after the context ended", n)
	}
}

func TestProcReadersOnThisProcess(t *testing.T) {
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: &exec.Cmd{Process: self}}
	if n, err := p.RSS(); err != nil || n < 1<<20 {
		t.Errorf("RSS = %d, %v; want at least a MiB", n, err)
	}
	if _, err := p.CPU(); err != nil {
		t.Errorf("CPU: %v", err)
	}
	if busy, total := cpuTimes(); total <= 0 || busy > total {
		t.Errorf("cpuTimes = %d busy of %d", busy, total)
	}
}
