package main

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/metrics"
)

func TestObserveFeedsMetrics(t *testing.T) {
	m := metrics.New()
	o := observe(m)
	o(bot.Observation{Command: "pledge", Platform: bot.Slack, Outcome: bot.OutcomeOK})
	o(bot.Observation{Command: "pledge", Platform: bot.Slack, Outcome: bot.OutcomeDuplicate})
	o(bot.Observation{Command: "win", Platform: bot.Discord, Outcome: bot.OutcomeError, Err: fmt.Errorf("x: %w", bot.ErrUnavailable)})
	posts := observePosts(m)
	posts(bot.Slack, "sent", 90*time.Second)
	posts(bot.Slack, "deferred", 0)
	posts(bot.Discord, "unknown", 0)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`missionbot_commands_total{command="pledge",outcome="ok"} 1`,
		`missionbot_commands_total{command="pledge",outcome="duplicate"} 1`,
		`missionbot_deliveries_deduplicated_total{platform="slack"} 1`,
		`missionbot_db_errors_total 1`,
		`missionbot_posts_total{outcome="sent",platform="slack"} 1`,
		`missionbot_posts_total{outcome="rate_limited",platform="slack"} 1`,
		`missionbot_posts_total{outcome="failed",platform="discord"} 1`,
		`missionbot_scheduler_lag_seconds 90`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
