package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
)

// Readiness statuses, in /readyz answers as a whole and per check.
const (
	StatusOK       = "ok"
	StatusDegraded = "degraded"
	StatusFailing  = "failing"
)

// Readiness is the JSON body of a /readyz answer. Status is StatusOK or
// StatusDegraded with 200, StatusFailing with 503. Failing names the
// failing checks in the order they were given. Error texts are not included,
// since /readyz shares its port with public webhooks; they are logged.
type Readiness struct {
	Status  string            `json:"status"`
	Failing []string          `json:"failing,omitempty"`
	Checks  map[string]string `json:"checks"`
}

// errPingTimeout is a Ping that ignored its context.
var errPingTimeout = errors.New("no answer within the readiness timeout")

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	res := s.readiness(r.Context())
	code := http.StatusOK
	if res.Status == StatusFailing {
		code = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(res)
}

// readiness runs every check at once and sums up the answers.
func (s *Server) readiness(ctx context.Context) Readiness {
	timeout := s.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	errs := make([]error, len(s.checks))
	var wg sync.WaitGroup
	for i, c := range s.checks {
		if c.Ping == nil {
			continue
		}
		wg.Go(func() { errs[i] = ping(ctx, c.Ping) })
	}
	wg.Wait()

	res := Readiness{Status: StatusOK, Checks: make(map[string]string, len(s.checks))}
	for i, c := range s.checks {
		st := StatusOK
		switch {
		case errs[i] != nil:
			st = StatusFailing
			res.Failing = append(res.Failing, c.Name)
			res.Status = StatusFailing
		case c.Degraded != nil && c.Degraded():
			st = StatusDegraded
			if res.Status == StatusOK {
				res.Status = StatusDegraded
			}
		}
		res.Checks[c.Name] = st
		s.logChange(c.Name, st, errs[i])
	}
	return res
}

// ping runs p, returning errPingTimeout if it has not answered when ctx
// ends. A Ping that ignores ctx is left to finish on its own.
func ping(ctx context.Context, p func(context.Context) error) error {
	done := make(chan error, 1)
	go func() { done <- p(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return errPingTimeout
	}
}

// logChange logs a check's status when it differs from the last one seen,
// so a probe every few seconds logs an outage once, not per probe.
func (s *Server) logChange(name, status string, err error) {
	s.mu.Lock()
	prev, seen := s.state[name]
	s.state[name] = status
	s.mu.Unlock()
	if prev == status || (!seen && status == StatusOK) {
		return
	}
	switch status {
	case StatusFailing:
		s.log.Warn("readiness check failing", "check", name, "err", err)
	case StatusDegraded:
		s.log.Warn("readiness check degraded", "check", name)
	default:
		s.log.Info("readiness check recovered", "check", name, "was", prev)
	}
}
