package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// pledgeBody is a signed-ready /pledge interaction by one of 50 members.
func (e *env) pledgeBody(n int) []byte {
	who := member{id: fmt.Sprintf("8400000000000%05d", n%50), name: fmt.Sprintf("m%d", n%50)}
	_, body := e.interaction(discordgo.InteractionApplicationCommand, who,
		command("pledge", sub("add", str("amount", "1"), str("goal", "plant-1000-trees"))))
	return body
}

// verifyOnly is the floor the endpoint is measured against: the same
// signature check and JSON decoding, answering without the engine.
func (e *env) verifyOnly() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := e.a.verify.read(r)
		if err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var i discordgo.Interaction
		if err := json.Unmarshal(body, &i); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"type":5,"data":{"flags":64}}`))
	})
}

func benchServe(b *testing.B, e *env, h http.Handler, parallel bool) {
	bodies := make([]*http.Request, 0, b.N)
	for n := range b.N {
		body := e.pledgeBody(n)
		req := httptest.NewRequest(http.MethodPost, "/discord/interactions", bytes.NewReader(body))
		req.Header = e.sign(body, e.clock.Now())
		bodies = append(bodies, req)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		for _, req := range bodies {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	} else {
		var mu sync.Mutex
		next := 0
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				req := bodies[next]
				next++
				mu.Unlock()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Errorf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
	b.StopTimer()
	e.a.inflight.Wait()
}

// BenchmarkInteractions measures signed /pledge interactions through the
// real endpoint, engine and SQLite, against the verify-only floor.
func BenchmarkInteractions(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		mode := "serial"
		if parallel {
			mode = "parallel"
		}
		b.Run("endpoint-sqlite-"+mode, func(b *testing.B) {
			e := newEnv(b, "sqlite")
			e.createGoal()
			benchServe(b, e, e.mux, parallel)
		})
		b.Run("engine-only-sqlite-"+mode, func(b *testing.B) {
			e := newEnv(b, "sqlite")
			e.createGoal()
			reqs := make([]bot.Request, b.N)
			for n := range reqs {
				var i discordgo.Interaction
				if err := json.Unmarshal(e.pledgeBody(n), &i); err != nil {
					b.Fatal(err)
				}
				req, _, err := commandRequest(&i, guildInfo{}, e.clock.Now())
				if err != nil {
					b.Fatal(err)
				}
				reqs[n] = req
			}
			ctx := context.Background()
			var next atomic.Int64
			b.ResetTimer()
			if !parallel {
				for _, req := range reqs {
					e.engine.Do(ctx, req)
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					e.engine.Do(ctx, reqs[next.Add(1)-1])
				}
			})
		})
		b.Run("sqlite-single-row-tx-"+mode, func(b *testing.B) {
			e := newEnv(b, "sqlite")
			ctx := context.Background()
			var n atomic.Int64
			b.ResetTimer()
			claim := func() {
				if _, err := e.store.ClaimDelivery(ctx, bot.Discord, strconv.FormatInt(n.Add(1), 10), e.clock.Now()); err != nil {
					b.Error(err)
				}
			}
			if !parallel {
				for b.Loop() {
					claim()
				}
				return
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					claim()
				}
			})
		})
		b.Run("verify-only-"+mode, func(b *testing.B) {
			e := newEnv(b, "sqlite")
			benchServe(b, e, e.verifyOnly(), parallel)
		})
	}
}

// BenchmarkVerify measures the Ed25519 check of one interaction.
func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	body := []byte(`{"id":"1300000000000000001","application_id":"800000000000000001","type":2,"token":"tok","version":1,` +
		`"guild_id":"810000000000000001","channel_id":"820000000000000001","member":{"user":{"id":"830000000000000002","username":"alice"},` +
		`"permissions":"0"},"data":{"id":"1","name":"pledge","type":1,"options":[{"name":"add","type":1,"options":[{"name":"amount","type":3,"value":"10"}]}]}}`)
	ts := "1764100000"
	sig := ed25519.Sign(priv, append([]byte(ts), body...))
	v := verifier{key: pub}
	b.ReportAllocs()
	for b.Loop() {
		if !v.verify(ts, body, sig) {
			b.Fatal("signature refused")
		}
	}
}

// TestLoadProfile offers signed /pledge interactions at 500/s for 5 s over
// real HTTP to the endpoint on SQLite, and to the verify-only handler, and
// logs latency percentiles. It measures and asserts nothing about time; run
// with MISSIONBOT_PERF=1 go test -run LoadProfile -v ./adapters/discord/.
func TestLoadProfile(t *testing.T) {
	if os.Getenv("MISSIONBOT_PERF") == "" {
		t.Skip("set MISSIONBOT_PERF=1 to run the load profile")
	}
	rate, seconds := 500, 5
	if v, err := strconv.Atoi(os.Getenv("MISSIONBOT_PERF_RATE")); err == nil && v > 0 {
		rate = v
	}
	for _, name := range []string{"endpoint-sqlite", "verify-only"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, "sqlite", withAck(DefaultAckWithin))
			e.createGoal()
			h := http.Handler(e.mux)
			if name == "verify-only" {
				h = e.verifyOnly()
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			client := srv.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 256
			total := rate * seconds
			bodies := make([][]byte, total)
			for n := range bodies {
				bodies[n] = e.pledgeBody(n)
			}
			lat := make([]time.Duration, total)
			codes := make([]int, total)
			deferred := make([]bool, total)
			var wg sync.WaitGroup
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			start := time.Now()
			for n := range total {
				<-tick.C
				wg.Go(func() {
					req, _ := http.NewRequest(http.MethodPost, srv.URL+"/discord/interactions", bytes.NewReader(bodies[n]))
					req.Header = e.sign(bodies[n], e.clock.Now())
					t0 := time.Now()
					res, err := client.Do(req)
					lat[n] = time.Since(t0)
					if err != nil {
						codes[n] = -1
						return
					}
					codes[n] = res.StatusCode
					b, _ := io.ReadAll(res.Body)
					deferred[n] = bytes.HasPrefix(b, []byte(`{"type":5`))
					_ = res.Body.Close()
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			e.a.inflight.Wait()
			bad, late := 0, 0
			for n, c := range codes {
				if c != http.StatusOK {
					bad++
				}
				if deferred[n] && name != "verify-only" {
					late++
				}
			}
			slices.Sort(lat)
			pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
			t.Logf("%s: %d requests in %s (%.0f/s done, %d/s offered), errors %d, deferred %d, initial response p50 %s p90 %s p99 %s max %s; until all work done %s, pledges %d",
				name, total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), rate, bad, late,
				pct(0.50), pct(0.90), pct(0.99), lat[len(lat)-1], time.Since(start).Round(time.Millisecond), e.count("pledges"))
		})
	}
}
