// Package metrics holds missionbot's Prometheus metrics on a registry of its
// own (never the global default one) and serves them in the Prometheus text
// format.
//
// Every metric name starts with "missionbot_". Label values come from small
// fixed sets (command names from the schema table, platform names, outcomes);
// callers must not pass ids or free text as labels.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "missionbot"

// Command outcomes, the values Command expects for outcome.
const (
	// CommandOK is a command that did what was asked.
	CommandOK = "ok"
	// CommandRejected is a command refused with a message to the member
	// (bad input, not allowed, limit reached).
	CommandRejected = "rejected"
	// CommandError is a command that failed on our side.
	CommandError = "error"
)

// PostOutcome is the result of one outbound post.
type PostOutcome string

// Post outcomes.
const (
	PostSent        PostOutcome = "sent"
	PostFailed      PostOutcome = "failed"
	PostRateLimited PostOutcome = "rate_limited"
)

// Metrics records missionbot's metrics. Create it with New. Its methods are
// safe for concurrent use and do nothing on a nil *Metrics, so a component
// built without metrics needs no checks.
type Metrics struct {
	reg *prometheus.Registry

	commands        *prometheus.CounterVec
	commandDuration *prometheus.HistogramVec
	deduplicated    *prometheus.CounterVec
	posts           *prometheus.CounterVec
	schedulerLag    prometheus.Gauge
	dbErrors        prometheus.Counter
	redisErrors     prometheus.Counter
	rejected        *prometheus.CounterVec
}

// New returns Metrics registered on a new registry, together with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "commands_total",
			Help: "Commands handled, by command and outcome (ok, rejected, error).",
		}, []string{"command", "outcome"}),
		commandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "command_duration_seconds",
			Help:    "Time to handle a command, from request to reply.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5, 10},
		}, []string{"command"}),
		deduplicated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "deliveries_deduplicated_total",
			Help: "Platform deliveries dropped as repeats (retries, double clicks), by platform.",
		}, []string{"platform"}),
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "posts_total",
			Help: "Outbound posts, by platform and outcome (sent, failed, rate_limited).",
		}, []string{"platform", "outcome"}),
		schedulerLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "scheduler_lag_seconds",
			Help: "How late the last scheduled job started after its due time.",
		}),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "db_errors_total",
			Help: "Database operations that failed on our side (not rejected input).",
		}),
		redisErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "redis_errors_total",
			Help: "Redis operations that failed.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "requests_rejected_total",
			Help: "Inbound platform requests refused before parsing, by platform and reason (signature, stale, too_large).",
		}, []string{"platform", "reason"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.commands, m.commandDuration, m.deduplicated, m.posts,
		m.schedulerLag, m.dbErrors, m.redisErrors, m.rejected,
	)
	return m
}

// Command records one handled command: its outcome (CommandOK,
// CommandRejected or CommandError) and how long it took.
func (m *Metrics) Command(name, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.commands.WithLabelValues(name, outcome).Inc()
	m.commandDuration.WithLabelValues(name).Observe(d.Seconds())
}

// DeliveryDeduplicated records a platform delivery dropped as a repeat.
func (m *Metrics) DeliveryDeduplicated(platform string) {
	if m == nil {
		return
	}
	m.deduplicated.WithLabelValues(platform).Inc()
}

// Post records the outcome of one outbound post.
func (m *Metrics) Post(platform string, outcome PostOutcome) {
	if m == nil {
		return
	}
	m.posts.WithLabelValues(platform, string(outcome)).Inc()
}

// SchedulerLag records how late a scheduled job started; the gauge shows the
// latest value.
func (m *Metrics) SchedulerLag(d time.Duration) {
	if m == nil {
		return
	}
	m.schedulerLag.Set(d.Seconds())
}

// DBError records one failed database operation.
func (m *Metrics) DBError() {
	if m == nil {
		return
	}
	m.dbErrors.Inc()
}

// RedisError records one failed Redis operation.
func (m *Metrics) RedisError() {
	if m == nil {
		return
	}
	m.redisErrors.Inc()
}

// RequestRejected records an inbound request refused before anything was
// parsed: a bad or missing signature, a stale timestamp, a body too large.
func (m *Metrics) RequestRejected(platform, reason string) {
	if m == nil {
		return
	}
	m.rejected.WithLabelValues(platform, reason).Inc()
}

// Registerer returns the registry, for a component that has metrics of its
// own. Registering a name twice panics on MustRegister and fails on Register.
func (m *Metrics) Registerer() prometheus.Registerer { return m.reg }

// Handler returns the /metrics handler: every metric in the Prometheus text
// (or OpenMetrics, when asked for) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}
