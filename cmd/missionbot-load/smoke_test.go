package main

import (
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestSmokeAgainstRealServe builds missionbot, starts `serve` on SQLite with
// Slack and Discord against the tool's fake APIs, and runs a short load:
// every command sent is acknowledged without error and every acknowledged
// pledge, log and win is in the database. It runs only with
// MISSIONBOT_LOAD_SMOKE=1 (it builds the binary and takes several seconds).
func TestSmokeAgainstRealServe(t *testing.T) {
	if os.Getenv("MISSIONBOT_LOAD_SMOKE") != "1" {
		t.Skip("set MISSIONBOT_LOAD_SMOKE=1 to run the load tool against a real serve")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	binary := filepath.Join(dir, "missionbot")
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "../missionbot")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	slackAPI, err := startFakeAPI(platformSlack, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer slackAPI.Close()
	discordAPI, err := startFakeAPI(platformDiscord, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer discordAPI.Close()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	secret := randomHex(16)
	dbPath := filepath.Join(dir, "serve.db")
	p, err := startServe(ctx, binary, []string{
		"MISSIONBOT_LOG_LEVEL=warn",
		"MISSIONBOT_DATABASE_PATH=" + dbPath,
		"MISSIONBOT_SLACK_ENABLED=true",
		"MISSIONBOT_SLACK_BOT_TOKEN=xoxb-smoke-" + randomHex(6),
		"MISSIONBOT_SLACK_SIGNING_SECRET=" + secret,
		"MISSIONBOT_SLACK_API_URL=" + slackAPI.URL() + "/api/",
		"MISSIONBOT_DISCORD_ENABLED=true",
		"MISSIONBOT_DISCORD_MODE=http",
		"MISSIONBOT_DISCORD_BOT_TOKEN=smoke." + randomHex(8),
		"MISSIONBOT_DISCORD_APPLICATION_ID=" + benchAppID,
		"MISSIONBOT_DISCORD_PUBLIC_KEY=" + publicKeyHex(key),
		"MISSIONBOT_DISCORD_API_URL=" + discordAPI.URL(),
	}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	db, err := openDatabase("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mix, _ := parseMix("pledge=4,log=3,win=1,impact=2")
	cfg := &loadConfig{URLs: []string{p.URL()}, SlackPath: "/slack/commands", DiscordPath: "/discord/interactions",
		SlackSecret: secret, DiscordKey: key, DiscordAppID: benchAppID, Platforms: []string{platformSlack, platformDiscord},
		Communities: 4, Members: 10, Rate: 20, Duration: 2 * time.Second, Mix: mix, ResponseBase: slackAPI.URL(),
		RunID: newRunID(), Timeout: 10 * time.Second, MaxInFlight: 100}
	res, err := loadAndCount(ctx, cfg, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out testWriter
	printResult(&out, res)
	t.Logf("load report:\n%s", out)
	if res.Setup.Failed > 0 || res.Setup.Promoted > 0 {
		t.Errorf("set-up: %d communities without the goal, %d organisers promoted by hand; want every organiser recognised", res.Setup.Failed, res.Setup.Promoted)
	}
	if res.Sent != 40 || res.Skipped != 0 {
		t.Errorf("sent %d (skipped %d), want 40", res.Sent, res.Skipped)
	}
	if res.errorCount() != 0 {
		t.Errorf("errors: %v", res.Errors)
	}
	if res.Wanted() == 0 || res.Stored() != res.Wanted() {
		t.Errorf("stored %v, want the acknowledged %v", res.GotEffects, res.WantEffects)
	}
	if t.Failed() {
		t.Logf("serve output:\n%s", tail(p.Output(), 4000))
	}
}

type testWriter []byte

func (w *testWriter) Write(b []byte) (int, error) { *w = append(*w, b...); return len(b), nil }
func (w testWriter) String() string               { return string(w) }
