// Package server is missionbot's HTTP server: health (/healthz), readiness
// (/readyz) and metrics (/metrics), plus the routes platform adapters mount
// (webhooks, interactions), all on one listener.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/missionbot/missionbot/logging"
	"github.com/missionbot/missionbot/metrics"
)

// Defaults for the Server's timeouts.
const (
	DefaultDrainTimeout = 20 * time.Second
	DefaultReadyTimeout = 2 * time.Second
)

// RequestIDHeader is the response header that carries the request id of a
// request to a mounted handler.
const RequestIDHeader = "X-Request-Id"

// Check is one dependency /readyz asks about.
type Check struct {
	// Name names the dependency in /readyz answers and logs: "database",
	// "redis".
	Name string
	// Ping returns nil when the dependency answers. It is given a context
	// that ends after Server.ReadyTimeout and should return by then; a Ping
	// that does not is counted as failing. Nil means the check only reports
	// Degraded.
	Ping func(ctx context.Context) error
	// Degraded, optional, reports that the dependency answers but the
	// process is running on a fallback (Redis down, database unique keys
	// guarding instead). It must not block.
	Degraded func() bool
}

// Server serves missionbot's HTTP endpoints. Create it with New, mount
// adapter routes with Mount, then call Run. Its methods are safe for
// concurrent use, except that the exported fields must be set before Run.
type Server struct {
	// DrainTimeout bounds how long Run waits for in-flight requests after
	// its context ends; DefaultDrainTimeout if zero.
	DrainTimeout time.Duration
	// ReadyTimeout bounds each readiness Ping; DefaultReadyTimeout if zero.
	ReadyTimeout time.Duration

	addr   string
	log    *slog.Logger
	checks []Check
	mux    *http.ServeMux
	srv    *http.Server

	mu    sync.Mutex
	ln    net.Listener      // set by Listen
	state map[string]string // last readiness status per check, for logging changes
}

// New returns a Server that will listen on addr (host:port; port 0 picks a
// free port, see Addr) and log to log (nil discards). /metrics serves m;
// with a nil m there is no /metrics route. checks are what /readyz asks.
func New(addr string, log *slog.Logger, m *metrics.Metrics, checks ...Check) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		addr:   addr,
		log:    log,
		checks: checks,
		mux:    http.NewServeMux(),
		state:  map[string]string{},
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if m != nil {
		s.mux.Handle("GET /metrics", m.Handler())
	}
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s
}

// Mount routes requests matching pattern (http.ServeMux syntax, such as
// "POST /slack/events") to h. Each request h sees carries a new request id
// in its context (logging.RequestID) and in the X-Request-Id response
// header, and is logged at debug level when it ends with its method, path
// (never the query), status and duration. Mount may be called while the
// server runs. Like http.ServeMux.Handle, it panics on an invalid pattern or
// one that conflicts with a route already mounted.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.traced(h))
}

func (s *Server) traced(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := logging.NewRequestID()
		ctx := logging.WithRequestID(r.Context(), id)
		w.Header().Set(RequestIDHeader, id)
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r.WithContext(ctx))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		s.log.DebugContext(ctx, "http request",
			"method", r.Method, "path", r.URL.Path, "status", status, "duration", time.Since(start))
	})
}

// statusWriter remembers the status code written. Unwrap lets
// http.ResponseController reach the underlying writer (Flush, deadlines).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Listen binds the listening socket if it is not bound yet. Run calls it;
// call it first to learn the address (Addr) or to fail early on a port in
// use.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address (such as "127.0.0.1:41234" for
// "127.0.0.1:0") once Listen has succeeded, and the configured address
// before.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.addr
}

// Run listens (unless Listen already did) and serves until ctx ends, then
// shuts down gracefully: it closes the listener at once, so new connections
// are refused, closes idle connections, and waits up to DrainTimeout for
// in-flight requests to finish. In-flight requests' contexts are not
// cancelled by ctx ending. Run returns nil after a complete drain; if the
// drain times out it closes the remaining connections and returns an error
// wrapping context.DeadlineExceeded. It returns an error at once if the
// listener cannot be bound or serving fails. Run may be called once.
//
// Run does not watch signals: the caller cancels ctx on the first SIGTERM or
// SIGINT (signal.NotifyContext) and, to force exit on a second one, must
// listen again and exit the process itself.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()

	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(ln) }()
	s.log.Info("http serving", "addr", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("http serve: %w", err)
	case <-ctx.Done():
	}

	drain := s.DrainTimeout
	if drain <= 0 {
		drain = DefaultDrainTimeout
	}
	s.log.Info("http draining", "timeout", drain)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("http shutdown: %w", err)
	}
	s.log.Info("http stopped")
	return nil
}
