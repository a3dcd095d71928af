package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/redis"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/logging/logtest"
	"github.com/missionbot/missionbot/storage"
)

const (
	olive = "U0OLIVE" // a workspace admin, so an organiser
	alice = "U0ALICE"
	bob   = "U0BOB"
)

func admins(h *harness) {
	h.fake.AddUser(fakeslack.User{ID: olive, Name: "olive", Admin: true})
	h.fake.AddUser(fakeslack.User{ID: alice, Name: "alice"})
	h.fake.AddUser(fakeslack.User{ID: bob, Name: "bob"})
}

func createGoal(t *testing.T, h *harness) {
	t.Helper()
	if r := h.command(olive, "goal", `create "Plant 1000 trees" 1000 trees by 2030-12-31`); r == nil || !shows(r, "Plant 1000 trees") {
		t.Fatalf("goal create answered %+v", r)
	}
}

func TestSignedPledgeIsStoredAndAnsweredPrivately(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s, nil)
		admins(h)
		createGoal(t, h)
		r := h.command(alice, "pledge", "10 trees")
		if r == nil || r.ResponseType != "ephemeral" || !shows(r, "10") {
			t.Fatalf("pledge answered %+v", r)
		}
		if n := h.count("pledges", ""); n != 1 {
			t.Fatalf("%d pledges stored, want 1", n)
		}
		// The umbrella reaches the same command.
		if r := h.command(alice, "missionbot", "pledge 5 trees"); r == nil || r.ResponseType != "ephemeral" {
			t.Fatalf("/missionbot pledge answered %+v", r)
		}
		if n := h.count("pledges", ""); n != 2 {
			t.Fatalf("%d pledges stored, want 2", n)
		}
	})
}

func TestSameCommandDeliveredTwiceRunsOnce(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	admins(h)
	createGoal(t, h)
	form := h.commandForm(alice, "pledge", "10 trees")
	for range 2 {
		if status, _ := h.post("/slack/commands", "application/x-www-form-urlencoded", form, http.Header{"X-Slack-Retry-Num": {"1"}}); status != 200 {
			t.Fatalf("status %d", status)
		}
	}
	if n := h.count("pledges", ""); n != 1 {
		t.Fatalf("%d pledges stored for one command delivered twice", n)
	}
}

func TestRefusedRequestsStoreNothing(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	form := h.commandForm(alice, "win", "We did it")
	send := func(body []byte, ts, sig string) int {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/slack/commands", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(headerTimestamp, ts)
		req.Header.Set(headerSignature, sig)
		res, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	now := strconv.FormatInt(h.clock.Now().Unix(), 10)
	old := strconv.FormatInt(h.clock.Now().Add(-10*time.Minute).Unix(), 10)
	big := append(append([]byte{}, form...), []byte("&pad="+strings.Repeat("x", DefaultMaxBody))...)
	cases := []struct {
		name   string
		status int
		got    int
	}{
		{"bad signature", 401, send(form, now, Sign("not-the-secret", now, form))},
		{"stale timestamp", 401, send(form, old, Sign(testSecret, old, form))},
		{"oversized body", 413, send(big, now, Sign(testSecret, now, big))},
		{"no headers", 401, send(form, "", "")},
	}
	for _, c := range cases {
		if c.got != c.status {
			t.Errorf("%s: status %d, want %d", c.name, c.got, c.status)
		}
	}
	h.mu.Lock()
	got := strings.Join(h.rejected, ",")
	h.mu.Unlock()
	if got != "signature,stale,too_large,signature" {
		t.Errorf("rejections counted %q", got)
	}
	// A signed but malformed form gets a private message, never a 500.
	status, body := h.post("/slack/commands", "application/x-www-form-urlencoded", []byte("team_id=%zz&text=;;"), nil)
	if status != 200 || !strings.Contains(string(body), `"ephemeral"`) || !strings.Contains(string(body), "couldn't read") {
		t.Errorf("malformed form: %d %s", status, body)
	}
	status, body = h.post("/slack/commands", "application/x-www-form-urlencoded", []byte("user_id=U1&command=%2Fwin"), nil)
	if status != 200 || !strings.Contains(string(body), "couldn't read") {
		t.Errorf("form without team: %d %s", status, body)
	}
	// Signed but malformed JSON bodies are acknowledged and ignored.
	if status, _ := h.post("/slack/events", "application/json", []byte(`{"type":`), nil); status != 200 {
		t.Errorf("malformed event: %d", status)
	}
	if status, _ := h.post("/slack/interactivity", "application/x-www-form-urlencoded", []byte("payload=%7Bnope"), nil); status != 200 {
		t.Errorf("malformed interaction: %d", status)
	}
	h.idle()
	if n := h.count("communities", ""); n != 0 {
		t.Fatalf("%d communities stored by refused requests", n)
	}
	if n := len(h.fake.Calls("")); n != 0 {
		t.Fatalf("refused requests called Slack %d times", n)
	}
}

func TestURLVerificationAndSSLCheck(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	raw, err := os.ReadFile("../../testdata/platforms/slack/slack_url_verification.json")
	if err != nil {
		t.Fatal(err) // the platform payloads are part of the repository
	}
	status, body := h.post("/slack/events", "application/json", raw, nil)
	if status != 200 || string(body) != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification: %d %q", status, body)
	}
	status, body = h.post("/slack/commands", "application/x-www-form-urlencoded", []byte("ssl_check=1&token=x"), nil)
	if status != 200 || len(body) != 0 {
		t.Fatalf("ssl_check: %d %q", status, body)
	}
	rl, err := os.ReadFile("../../testdata/platforms/slack/slack_app_rate_limited.json")
	if err == nil {
		if status, _ := h.post("/slack/events", "application/json", rl, nil); status != 200 {
			t.Fatalf("app_rate_limited: %d", status)
		}
	}
}

func TestAppMentionAnswersHelpPrivately(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/platforms/slack/slack_event_app_mention.json")
	if err != nil {
		t.Fatal(err) // the platform payloads are part of the repository
	}
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	h.fake.AddToken(fakeslack.Token, "T123ABC456")
	if status, _ := h.post("/slack/events", "application/json", raw, nil); status != 200 {
		t.Fatalf("status %d", status)
	}
	h.idle()
	eph := h.fake.Ephemerals()
	if len(eph) != 1 || eph[0].User != "U061F7AUR" || eph[0].Channel != "C123ABC456" || !strings.Contains(string(eph[0].Blocks)+eph[0].Text, "/pledge") {
		t.Fatalf("ephemerals %+v", eph)
	}
	if msgs := h.fake.AllMessages(); len(msgs) != 0 {
		t.Fatalf("a mention posted publicly: %+v", msgs)
	}
}

func joinEvent(id, user, channel string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": fakeslack.Team, "api_app_id": fakeslack.AppID,
		"event_id": id, "event_time": 1700000000,
		"event": map[string]any{"type": "member_joined_channel", "user": user, "channel": channel, "channel_type": "C", "team": fakeslack.Team}})
	return b
}

func TestSameJoinDeliveredThreeTimesWelcomesOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s, nil)
		admins(h)
		if r := h.command(olive, "settings", "welcome-channel <#C0WELCOME|welcome>"); r == nil {
			t.Fatal("no answer to settings")
		}
		ev := joinEvent("Ev0JOIN1", bob, "C0WELCOME")
		for i := range 3 {
			hdr := http.Header{}
			if i > 0 {
				hdr.Set("X-Slack-Retry-Num", strconv.Itoa(i))
				hdr.Set("X-Slack-Retry-Reason", "http_timeout")
			}
			if status, _ := h.post("/slack/events", "application/json", ev, hdr); status != 200 {
				t.Fatalf("delivery %d: status %d", i, status)
			}
		}
		// A second event id for the same member (Slack's double send) still welcomes once.
		h.post("/slack/events", "application/json", joinEvent("Ev0JOIN2", bob, "C0WELCOME"), nil)
		h.idle()
		dms := h.fake.Messages(fakeslack.DMChannel(bob))
		if len(dms) != 1 || !strings.Contains(dms[0].Text+string(dms[0].Blocks), "Welcome") {
			t.Fatalf("welcome DMs %+v", dms)
		}
		if n := h.count("members", "external_id = ?", bob); n != 1 {
			t.Fatalf("bob stored %d times", n)
		}
	})
}

func TestDeactivatedMemberLeavesAndUninstallForgetsToken(t *testing.T) {
	s := testdb.Open(t, "sqlite")
	h := newHarness(t, s, nil)
	admins(h)
	h.command(bob, "mission", "")
	ev, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": fakeslack.Team, "event_id": "Ev0LEFT",
		"event": map[string]any{"type": "user_change", "user": map[string]any{"id": bob, "deleted": true}}})
	h.post("/slack/events", "application/json", ev, nil)
	h.idle()
	if n := h.count("members", `external_id = ? AND "left" = ?`, bob, true); n != 1 {
		t.Fatalf("bob not marked left (%d)", n)
	}
}

func TestSlowEngineCompletesThroughResponseURL(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), func(c *Config) { c.AckWithin = 20 * time.Millisecond })
	gate := make(chan struct{})
	h.fake.HandleMethod("users.info", func(w http.ResponseWriter, r *http.Request, c *fakeslack.Call) {
		<-gate // Slack (and so the command) is slow until the acknowledgement has gone
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true,"user":{"id":"` + alice + `","name":"alice","profile":{"display_name":"alice"}}}`))
	})
	r := h.command(alice, "mission", "")
	close(gate)
	if r != nil {
		t.Fatalf("a slow command was answered inline: %+v", r)
	}
	h.idle()
	res := h.fake.Responses("")
	if len(res) != 1 || !strings.Contains(string(res[0].Body), `"ephemeral"`) {
		t.Fatalf("response_url posts %+v", res)
	}
}

func winButton(t *testing.T, r *answer) string {
	t.Helper()
	b := r.Blocks
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(b, &blocks)
	for _, bl := range blocks {
		for _, e := range bl.Elements {
			if e.ActionID != "" {
				return e.ActionID
			}
		}
	}
	t.Fatalf("no button in %s", b)
	return ""
}

func click(h *harness, user, trigger, actionID, responseID string) {
	h.t.Helper()
	status, body := h.interact(map[string]any{"type": "block_actions", "trigger_id": trigger,
		"team": map[string]any{"id": fakeslack.Team, "domain": "greens"}, "user": map[string]any{"id": user, "name": strings.ToLower(user), "team_id": fakeslack.Team},
		"channel": map[string]any{"id": "C0GENERAL", "name": "general"}, "container": map[string]any{"type": "message", "channel_id": "C0GENERAL", "message_ts": "1.2"},
		"response_url": h.fake.ResponseURL(responseID),
		"actions":      []map[string]any{{"type": "button", "block_id": "b1", "action_id": actionID, "value": actionID, "action_ts": "1.3", "text": map[string]any{"type": "plain_text", "text": "Pledge"}}}})
	if status != 200 || len(body) != 0 {
		h.t.Fatalf("click answered %d %s", status, body)
	}
}

func TestCheerTwiceCountsOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s, nil)
		admins(h)
		r := h.command(alice, "win", "We planted our first 10 trees!")
		if r == nil || r.ResponseType != "ephemeral" {
			t.Fatalf("win answered %+v", r)
		}
		h.idle()
		// The win itself is public in the channel, through response_url.
		posts := h.fake.Responses("")
		if len(posts) != 1 || decode(t, posts[0].Body).ResponseType != "in_channel" {
			t.Fatalf("win posts %+v", posts)
		}
		cheer := winButton(t, decode(t, posts[0].Body))
		click(h, bob, "trig.c1", cheer, "c1")
		click(h, bob, "trig.c2", cheer, "c2")
		h.idle()
		if n := h.count("cheers", ""); n != 1 {
			t.Fatalf("%d cheers for a double click", n)
		}
		if len(h.fake.Responses("c1")) != 1 || len(h.fake.Responses("c2")) != 1 {
			t.Fatalf("each click should be answered privately: %+v", h.fake.Responses(""))
		}
		click(h, bob, "trig.c3", "nothing.here:1", "c3")
		h.idle()
		if res := h.fake.Responses("c3"); len(res) != 1 || !strings.Contains(string(res[0].Body), "no longer works") {
			t.Fatalf("unknown action answered %+v", res)
		}
	})
}

func TestPledgeButtonOpensModalAndSubmissionPledges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		h := newHarness(t, s, nil)
		admins(h)
		createGoal(t, h)
		r := h.command(alice, "goal", "show plant-1000-trees")
		action := winButton(t, r)
		if _, wants := ButtonAction(action); !wants {
			t.Fatalf("the goal's first button %q asks for no input", action)
		}
		click(h, alice, "trig.p1", action, "p1")
		views := h.fake.Views()
		if len(views) != 1 || views[0].TriggerID != "trig.p1" {
			t.Fatalf("views.open calls %+v", views)
		}
		var view struct {
			PrivateMetadata string `json:"private_metadata"`
			CallbackID      string `json:"callback_id"`
		}
		_ = json.Unmarshal(views[0].View, &view)
		submit := func(trigger, value string) (int, []byte) {
			return h.interact(map[string]any{"type": "view_submission", "trigger_id": trigger,
				"team": map[string]any{"id": fakeslack.Team}, "user": map[string]any{"id": alice, "name": "alice", "team_id": fakeslack.Team},
				"view": map[string]any{"id": "V1", "type": "modal", "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata,
					"state": map[string]any{"values": map[string]any{inputBlockID: map[string]any{inputActionID: map[string]any{"type": "plain_text_input", "value": value}}}}}})
		}
		status, body := submit("trig.s0", "  ")
		if status != 200 || !strings.Contains(string(body), `"errors"`) {
			t.Fatalf("empty submission answered %d %s", status, body)
		}
		status, body = submit("trig.s1", "25 trees")
		if status != 200 || len(body) != 0 {
			t.Fatalf("submission answered %d %s", status, body)
		}
		h.idle()
		if n := h.count("pledges", "member_id IN (SELECT id FROM members WHERE external_id = ?)", alice); n != 1 {
			t.Fatalf("%d pledges after the modal", n)
		}
		if res := h.fake.Responses("p1"); len(res) != 1 || !strings.Contains(string(res[0].Body), "25") {
			t.Fatalf("the pledge reply %+v", res)
		}
	})
}

func TestWrongSecretNeverReachesEngine(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	ev := joinEvent("Ev0FORGED", bob, "C1")
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/slack/events", bytes.NewReader(ev))
	ts := strconv.FormatInt(h.clock.Now().Unix(), 10)
	req.Header.Set(headerTimestamp, ts)
	req.Header.Set(headerSignature, Sign("forged", ts, ev))
	res, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	h.idle()
	if res.StatusCode != 401 || h.count("members", "") != 0 {
		t.Fatalf("forged event: %d, %d members", res.StatusCode, h.count("members", ""))
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	d := Deps{Engine: h.engine, Coord: h.a.coord, Clock: h.clock, Log: h.a.log, Installs: h.store}
	for name, cfg := range map[string]Config{
		"no token":           {SigningSecret: "x"},
		"socket without app": {BotToken: "xoxb", SocketMode: true},
		"oauth without key":  {ClientID: "1", ClientSecret: "s", PublicURL: "https://x"},
	} {
		if _, err := New(cfg, d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(Config{BotToken: "x"}, Deps{}); err == nil || errors.Is(err, bot.ErrPermanent) {
		t.Errorf("no deps: %v", err)
	}
}

func TestSameEventOnTwoReplicasSharingRedisHasOneEffect(t *testing.T) {
	testdb.RequireRedis(t)
	s := testdb.Open(t, "sqlite")
	fake := fakeslack.New(t)
	prefix := "mbtest:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	var replicas []*harness
	for range 2 {
		c, err := redis.New(redis.Options{URL: "redis://" + testdb.RedisAddr, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		replicas = append(replicas, newReplica(t, s, nil, logtest.New(t, testSecret, fakeslack.Token), c, fake))
	}
	admins(replicas[0])
	replicas[0].command(olive, "settings", "welcome-channel <#C0WELCOME|welcome>")
	ev := joinEvent("Ev0TWOREPLICAS", bob, "C0WELCOME")
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			hdr := http.Header{}
			if i > 1 {
				hdr.Set("X-Slack-Retry-Num", strconv.Itoa(i/2))
			}
			replicas[i%2].post("/slack/events", "application/json", ev, hdr)
		})
	}
	wg.Wait()
	replicas[0].idle()
	replicas[1].idle()
	if dms := fake.Messages(fakeslack.DMChannel(bob)); len(dms) != 1 {
		t.Fatalf("%d welcome DMs from two replicas", len(dms))
	}
}

func TestExportIsUploadedPrivately(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	admins(h)
	createGoal(t, h)
	h.command(alice, "pledge", "10 trees")
	r := h.command(alice, "myimpact", "export")
	h.idle()
	files := h.fake.Files()
	if len(files) != 1 || !files[0].Uploaded || len(files[0].Data) == 0 {
		t.Fatalf("files %+v (answer %+v)", files, r)
	}
	for _, ch := range files[0].Channels {
		if ch != fakeslack.DMChannel(alice) {
			t.Fatalf("export shared to %s, not privately", ch)
		}
	}
	if msgs := h.fake.Messages("C0GENERAL"); len(msgs) != 0 {
		t.Fatalf("export posted in the channel: %+v", msgs)
	}
}

// button is a button as Slack shows it in a rendered answer.
type button struct {
	ActionID string `json:"action_id"`
	Value    string `json:"value"`
	Text     struct {
		Text string `json:"text"`
	} `json:"text"`
}

// firstButton is the first button of r.
func firstButton(t *testing.T, r *answer) button {
	t.Helper()
	var blocks []struct {
		Elements []button `json:"elements"`
	}
	_ = json.Unmarshal(r.Blocks, &blocks)
	for _, bl := range blocks {
		for _, e := range bl.Elements {
			if e.ActionID != "" {
				return e
			}
		}
	}
	t.Fatalf("no button in %s", r.Blocks)
	return button{}
}

// press clicks b as Slack sends it (action_id, value and label).
func press(h *harness, user, trigger string, b button, responseID string) {
	h.t.Helper()
	status, body := h.interact(map[string]any{"type": "block_actions", "trigger_id": trigger,
		"team": map[string]any{"id": fakeslack.Team, "domain": "greens"}, "user": map[string]any{"id": user, "name": strings.ToLower(user), "team_id": fakeslack.Team},
		"channel": map[string]any{"id": "C0GENERAL", "name": "general"}, "container": map[string]any{"type": "message", "channel_id": "C0GENERAL", "message_ts": "1.2"},
		"response_url": h.fake.ResponseURL(responseID),
		"actions":      []map[string]any{{"type": "button", "block_id": "b1", "action_id": b.ActionID, "value": b.Value, "action_ts": "1.3", "text": map[string]any{"type": "plain_text", "text": b.Text.Text}}}})
	if status != 200 || len(body) != 0 {
		h.t.Fatalf("click answered %d %s", status, body)
	}
}

func TestPledgeModalAsksTheCoresQuestion(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	admins(h)
	createGoal(t, h)
	b := firstButton(t, h.command(alice, "goal", "show plant-1000-trees"))
	press(h, alice, "trig.q1", b, "q1")
	views := h.fake.Views()
	if len(views) != 1 {
		t.Fatalf("views.open calls %+v (the fake refuses a modal over Slack's limits)", views)
	}
	var view struct {
		Title  struct{ Text string } `json:"title"`
		Blocks []struct {
			Label   struct{ Text string } `json:"label"`
			Element struct {
				Placeholder *struct{ Text string } `json:"placeholder"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(views[0].View, &view); err != nil || len(view.Blocks) != 1 {
		t.Fatalf("modal %s: %v", views[0].View, err)
	}
	if view.Title.Text != "Pledge" || view.Blocks[0].Label.Text != "How much will you pledge?" ||
		view.Blocks[0].Element.Placeholder == nil || view.Blocks[0].Element.Placeholder.Text != "e.g. 10 trees" {
		t.Fatalf("modal shows title %q, label %q, placeholder %+v", view.Title.Text, view.Blocks[0].Label.Text, view.Blocks[0].Element.Placeholder)
	}
	// A button rendered before its value carried the Input still opens a form.
	old := b
	old.Value, _ = ButtonAction(b.ActionID)
	press(h, alice, "trig.q2", old, "q2")
	if views := h.fake.Views(); len(views) != 2 || !strings.Contains(string(views[1].View), "Your answer") {
		t.Fatalf("old button's modal %+v", views)
	}
}

func TestCommandPastItsWorkTimeoutStillGetsAnAnswer(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), func(c *Config) {
		c.AckWithin = 20 * time.Millisecond
		c.WorkTimeout = 200 * time.Millisecond
	})
	// Slack is slow to say who alice is: the command's work outlives its
	// budget, and the engine then apologises.
	h.fake.HandleMethod("users.info", func(w http.ResponseWriter, r *http.Request, c *fakeslack.Call) {
		<-r.Context().Done()
	})
	if r := h.command(alice, "mission", ""); r != nil {
		t.Fatalf("answered inline: %+v", r)
	}
	h.idle()
	res := h.fake.Responses("")
	if len(res) != 1 || !strings.Contains(string(res[0].Body), `"ephemeral"`) {
		t.Fatalf("the late answer was dropped: response_url posts %+v", res)
	}
}

func TestAdminStaysOrganiserWhileSlackCannotSayWhoTheyAre(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	admins(h)
	if r := h.command(olive, "mission", ""); r == nil {
		t.Fatal("no answer to /mission")
	}
	// Later, users.info is rate limited: olive is still the admin she was.
	h.clock.Advance(2 * DefaultUserCacheTTL)
	h.fake.Fail("users.info", fakeslack.Failure{Status: http.StatusTooManyRequests, RetryAfter: 30})
	createGoal(t, h)
}

func TestUsersInfoRateLimitIsRespected(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	admins(h)
	h.fake.Fail("users.info", fakeslack.Failure{Status: http.StatusTooManyRequests, RetryAfter: 30})
	for _, u := range []string{alice, bob, olive} {
		if r := h.command(u, "mission", ""); r == nil {
			t.Fatalf("no answer to %s", u)
		}
	}
	// Slack said to wait 30 s: the next two commands do not ask again.
	if n := len(h.fake.Calls("users.info")); n != 1 {
		t.Fatalf("%d users.info calls while Slack asked to wait, want 1", n)
	}
	h.clock.Advance(31 * time.Second)
	h.command(bob, "mission", "")
	if n := len(h.fake.Calls("users.info")); n != 2 {
		t.Fatalf("%d users.info calls once the wait was over, want 2", n)
	}
}

func TestLateModalInAChannelWithoutTheBotAnswersByDM(t *testing.T) {
	h := newHarness(t, testdb.Open(t, "sqlite"), nil)
	admins(h)
	createGoal(t, h)
	b := firstButton(t, h.command(alice, "goal", "show plant-1000-trees"))
	press(h, alice, "trig.l1", b, "l1")
	var view struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	_ = json.Unmarshal(h.fake.Views()[0].View, &view)
	// alice submits long after: the response_url is spent, and the bot is
	// not in the channel the command was typed in.
	h.fake.Fail("response", fakeslack.Failure{Status: http.StatusNotFound})
	h.fake.SetChannelError("C0GENERAL", "not_in_channel")
	status, _ := h.interact(map[string]any{"type": "view_submission", "trigger_id": "trig.l2",
		"team": map[string]any{"id": fakeslack.Team}, "user": map[string]any{"id": alice, "name": "alice", "team_id": fakeslack.Team},
		"view": map[string]any{"id": "V1", "type": "modal", "callback_id": view.CallbackID, "private_metadata": view.PrivateMetadata,
			"state": map[string]any{"values": map[string]any{inputBlockID: map[string]any{inputActionID: map[string]any{"type": "plain_text_input", "value": "7 trees"}}}}}})
	h.idle()
	if status != 200 || h.count("pledges", "") != 1 {
		t.Fatalf("submission %d, %d pledges", status, h.count("pledges", ""))
	}
	dms := h.fake.Messages(fakeslack.DMChannel(alice))
	if len(dms) != 1 || !strings.Contains(dms[0].Text+string(dms[0].Blocks), "7") {
		t.Fatalf("alice was not told her pledge was taken: DMs %+v", dms)
	}
}
