package slack

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/internal/testdb"
)

// perfHarness is a harness on SQLite with one goal, a quiet logger, a
// verify-only endpoint on the same server (/verify-only) and members
// known to the fake.
func perfHarness(tb testing.TB) *harness {
	tb.Helper()
	h := newHarnessLog(tb, testdb.Open(tb, "sqlite"), func(c *Config) { c.AckWithin = DefaultAckWithin },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	mux := http.NewServeMux()
	h.a.Routes(mux.Handle)
	mux.Handle("POST /verify-only", h.a.verified(func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(http.StatusOK) }))
	h.srv.Config.Handler = mux
	h.fake.AddUser(fakeslack.User{ID: olive, Name: "olive", Admin: true})
	if r := h.command(olive, "goal", `create "Plant 1000 trees" 1000000 trees by 2030-12-31`); r == nil {
		tb.Fatal("no goal")
	}
	return h
}

// signedPledgeForm is the form of the i-th /pledge.
func (h *harness) signedPledgeForm(i int64) string {
	return url.Values{"team_id": {fakeslack.Team}, "team_domain": {"greens"}, "channel_id": {"C0GENERAL"}, "channel_name": {"general"},
		"user_id": {"U0M" + strconv.FormatInt(i%50, 10)}, "user_name": {"m"}, "command": {"/pledge"}, "text": {"1 tree"},
		"response_url": {h.fake.ResponseURL("perf")}, "trigger_id": {"perf." + strconv.FormatInt(i, 10)}}.Encode()
}

// signedPledge is the i-th signed /pledge request.
func (h *harness) signedPledge(path string, i int64) *http.Request {
	body := []byte(h.signedPledgeForm(i))
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, bytes.NewReader(body))
	ts := strconv.FormatInt(h.clock.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(headerTimestamp, ts)
	req.Header.Set(headerSignature, Sign(testSecret, ts, body))
	return req
}

func (h *harness) do(tb testing.TB, req *http.Request) {
	res, err := h.srv.Client().Do(req)
	if err != nil {
		tb.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		tb.Errorf("status %d", res.StatusCode)
	}
}

// BenchmarkSignedPledge measures signed /pledge slash commands over HTTP
// end to end on SQLite (verify, parse, users.info cached, engine, store,
// render), counting pledges stored, against the same server's verify-only
// handler and the same SQLite file's single-row transactions.
func BenchmarkSignedPledge(b *testing.B) {
	b.Run("end-to-end", func(b *testing.B) {
		h := perfHarness(b)
		var n atomic.Int64
		before := h.count("pledges", "")
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.do(b, h.signedPledge("/slack/commands", n.Add(1)))
			}
		})
		b.StopTimer()
		h.idle()
		stored := h.count("pledges", "") - before
		b.ReportMetric(float64(stored)/b.Elapsed().Seconds(), "pledges/s")
	})
	b.Run("engine-only", func(b *testing.B) {
		h := perfHarness(b)
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				sc, _ := parseCommandForm([]byte(h.signedPledgeForm(n.Add(1))))
				req, _ := commandRequest(sc, h.clock.Now())
				h.engine.Do(b.Context(), req)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pledges/s")
	})
	b.Run("verify-only", func(b *testing.B) {
		h := perfHarness(b)
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.do(b, h.signedPledge("/verify-only", n.Add(1)))
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
	b.Run("sqlite-single-row-tx", func(b *testing.B) {
		s := testdb.Open(b, "sqlite")
		if err := s.DB().Exec("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").Error; err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.DB().Exec("INSERT INTO bench_rows (v) VALUES (?)", "x").Error; err != nil {
					b.Error(err)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
	})
}

// TestSteadyLoadLatency sends signed /pledge commands at a steady rate
// (MISSIONBOT_PERF_RATE, default 500/s) for MISSIONBOT_PERF_SECONDS
// (default 5) and logs p50/p99 latency and the stored rate. It only runs
// with MISSIONBOT_PERF=1, and measures rather than asserts.
func TestSteadyLoadLatency(t *testing.T) {
	if os.Getenv("MISSIONBOT_PERF") != "1" {
		t.Skip("set MISSIONBOT_PERF=1 to measure")
	}
	rate, secs := envInt("MISSIONBOT_PERF_RATE", 500), envInt("MISSIONBOT_PERF_SECONDS", 5)
	h := perfHarness(t)
	h.srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 256
	before := h.count("pledges", "")
	total := rate * secs
	lat := make([]time.Duration, total)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	start := time.Now()
	for i := range total {
		<-tick.C
		wg.Go(func() {
			req := h.signedPledge("/slack/commands", int64(i+1))
			t0 := time.Now()
			h.do(t, req)
			lat[i] = time.Since(t0)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	h.idle()
	stored := h.count("pledges", "") - before
	slices.Sort(lat)
	t.Logf("sent %d at %d/s over %s: stored %d (%.0f/s), p50 %s, p99 %s, max %s",
		total, rate, elapsed.Round(time.Millisecond), stored, float64(stored)/elapsed.Seconds(),
		lat[total/2], lat[total*99/100], lat[total-1])
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
