package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/missionbot/missionbot/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRecordAndExpose(t *testing.T) {
	m := metrics.New()
	m.Command("pledge", metrics.CommandOK, 30*time.Millisecond)
	m.Command("pledge", metrics.CommandOK, 2*time.Second)
	m.Command("kudos", metrics.CommandRejected, time.Millisecond)
	m.DeliveryDeduplicated("slack")
	m.Post("discord", metrics.PostSent)
	m.Post("discord", metrics.PostRateLimited)
	m.Post("slack", metrics.PostFailed)
	m.SchedulerLag(1500 * time.Millisecond)
	m.DBError()
	m.RedisError()
	m.RedisError()

	out := scrape(t, m)
	for _, want := range []string{
		`missionbot_commands_total{command="pledge",outcome="ok"} 2`,
		`missionbot_commands_total{command="kudos",outcome="rejected"} 1`,
		`missionbot_command_duration_seconds_count{command="pledge"} 2`,
		`missionbot_command_duration_seconds_bucket{command="pledge",le="0.05"} 1`,
		`missionbot_deliveries_deduplicated_total{platform="slack"} 1`,
		`missionbot_posts_total{outcome="sent",platform="discord"} 1`,
		`missionbot_posts_total{outcome="rate_limited",platform="discord"} 1`,
		`missionbot_posts_total{outcome="failed",platform="slack"} 1`,
		`missionbot_scheduler_lag_seconds 1.5`,
		`missionbot_db_errors_total 1`,
		`missionbot_redis_errors_total 2`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestOwnRegistry(t *testing.T) {
	a, b := metrics.New(), metrics.New() // no duplicate-registration panic
	a.DBError()
	if out := scrape(t, b); strings.Contains(out, "missionbot_db_errors_total 1") {
		t.Error("two Metrics share a registry")
	}
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "missionbot_") {
			t.Errorf("%s is on the default registry", mf.GetName())
		}
	}
}

func TestExtraCollector(t *testing.T) {
	m := metrics.New()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "missionbot_gateway_shards"})
	m.Registerer().MustRegister(g)
	g.Set(4)
	if !strings.Contains(scrape(t, m), "missionbot_gateway_shards 4") {
		t.Error("extra collector not exposed")
	}
}

func TestNilIsNoOp(t *testing.T) {
	var m *metrics.Metrics
	m.Command("x", metrics.CommandError, time.Second)
	m.DeliveryDeduplicated("slack")
	m.Post("slack", metrics.PostSent)
	m.SchedulerLag(time.Second)
	m.DBError()
	m.RedisError()
}
