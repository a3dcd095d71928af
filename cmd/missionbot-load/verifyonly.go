package main

import (
	"context"
	"crypto/ed25519"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// verifyOnly is the ceiling server: it reads a signed request, verifies
// its Slack or Discord signature, and answers 200 with a one-line JSON
// reply — everything a real serve does before the engine, and nothing more.
type verifyOnly struct {
	srv    *http.Server
	ln     net.Listener
	secret string
	pub    ed25519.PublicKey
}

func startVerifyOnly(secret string, pub ed25519.PublicKey, slackPath, discordPath string) (*verifyOnly, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	v := &verifyOnly{ln: ln, secret: secret, pub: pub}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+slackPath, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if verifySlack(r, v.secret, body, time.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSONBody(w, map[string]any{"response_type": "ephemeral", "text": "verified"})
	})
	mux.HandleFunc("POST "+discordPath, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 256<<10))
		if verifyDiscord(r, v.pub, body) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSONBody(w, map[string]any{"type": 4, "data": map[string]any{"content": "verified", "flags": 64}})
	})
	v.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = v.srv.Serve(ln) }()
	return v, nil
}

func (v *verifyOnly) URL() string  { return "http://" + v.ln.Addr().String() }
func (v *verifyOnly) Close() error { return v.srv.Close() }

// closedLoop sends commands from workers goroutines back to back for dur
// and returns the rate of answers that were 200 without an error reply.
func closedLoop(ctx context.Context, cfg *loadConfig, workers int, dur time.Duration) float64 {
	c := newClient(cfg)
	defer c.close()
	var ok atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for n := int64(w); time.Now().Before(deadline) && ctx.Err() == nil; n += int64(workers) {
				a := cfg.actorFor(int(n)%cfg.Communities, 1+int(n/int64(cfg.Communities))%cfg.Members)
				cmd, _ := mixCommand(pick(cfg.Mix, n), n)
				if o := c.send(ctx, a, cmd); o.Err == "" {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}
