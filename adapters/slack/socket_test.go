package slack

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/internal/testdb"
)

func TestSocketModeSlashCommandRoundTrip(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/platforms/slack/slack_socket_mode_slash_command_envelope.json")
	if err != nil {
		t.Fatal(err) // the platform payloads are part of the repository
	}
	h := newHarness(t, testdb.Open(t, "sqlite"), func(c *Config) {
		c.SocketMode, c.AppToken, c.SigningSecret = true, "xapp-1-fake-app-token", ""
	})
	h.fake.AddToken(fakeslack.Token, "T123ABC456")
	sock := h.fake.ServeSocket()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	// Slack's example: an unknown command gets a private explanation in the ack.
	ack, err := sock.Send(withDeadline(t), raw)
	if err != nil {
		t.Fatal(err)
	}
	a := decode(t, ack)
	if a.ResponseType != "ephemeral" || !shows(a, "randorilke") {
		t.Fatalf("ack payload %s", ack)
	}

	// A real command runs and is stored the same way as over HTTP.
	var env map[string]any
	_ = json.Unmarshal(raw, &env)
	p := env["payload"].(map[string]any)
	p["command"], p["text"], p["trigger_id"] = "/win", "We cleaned the river", "sock.trigger.2"
	env["envelope_id"] = "env-2"
	b, _ := json.Marshal(env)
	ack, err = sock.Send(withDeadline(t), b)
	if err != nil {
		t.Fatal(err)
	}
	if a := decode(t, ack); !strings.Contains(a.Text, "win") {
		t.Fatalf("win ack %s", ack)
	}
	if n := h.count("wins", ""); n != 1 {
		t.Fatalf("%d wins stored over socket mode", n)
	}
	// Events arrive the same way and are acknowledged with no payload.
	ev, _ := json.Marshal(map[string]any{"type": "events_api", "envelope_id": "env-3", "accepts_response_payload": false,
		"payload": json.RawMessage(joinEvent("Ev0SOCK", "U0NEW", "C1"))})
	ack, err = sock.Send(withDeadline(t), ev)
	if err != nil || (len(ack) != 0 && string(ack) != "null") {
		t.Fatalf("event ack %s, %v", ack, err)
	}
	if sock.Dials() != 1 {
		t.Fatalf("%d socket connections", sock.Dials())
	}
}
