package slack

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
)

var convertNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func TestCommandRequest(t *testing.T) {
	base := slack.SlashCommand{TeamID: "T1", TeamDomain: "greens", ChannelID: "C1", ChannelName: "general",
		UserID: "U1", UserName: "alice", TriggerID: "123.456.abc"}
	cases := []struct {
		name, command, text  string
		wantCommand, wantTxt string
	}{
		{"pledge", "/pledge", "10 trees to plant-1000-trees", "pledge", "10 trees to plant-1000-trees"},
		{"umbrella", "/missionbot", "pledge 10 trees", "missionbot", "pledge 10 trees"},
		{"upper case command", "/Pledge", "10", "pledge", "10"},
		{"mention stays", "/kudos", "<@U123|alice> for the cleanup", "kudos", "<@U123|alice> for the cleanup"},
		{"mention without name stays", "/kudos", "<@U123> thanks", "kudos", "<@U123> thanks"},
		{"channel stays", "/settings", "digest-channel <#C9|impact>", "settings", "digest-channel <#C9|impact>"},
		{"entities", "/win", "Fish &amp; chips &lt;3 &gt; all", "win", "Fish & chips <3 > all"},
		{"typed mention stays escaped", "/win", "&lt;@U999|bob&gt; did it", "win", "<\u2060@U999|bob> did it"},
		{"link label", "/win", "see <https://example.org|example.org>", "win", "see example.org"},
		{"bare link", "/win", "see <https://example.org>", "win", "see https://example.org"},
		{"special mention", "/win", "<!here> we did it", "win", "@here we did it"},
		{"subteam", "/win", "<!subteam^S1|@team> we did it", "win", "@team we did it"},
		{"unclosed", "/win", "a <b", "win", "a <b"},
		{"curly quotes kept", "/goal", "create “Plant trees” 10 trees", "goal", "create “Plant trees” 10 trees"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := base
			sc.Command, sc.Text = c.command, c.text
			req, err := commandRequest(sc, convertNow)
			if err != nil {
				t.Fatal(err)
			}
			if req.Command != c.wantCommand || req.Text != c.wantTxt {
				t.Fatalf("got /%s %q, want /%s %q", req.Command, req.Text, c.wantCommand, c.wantTxt)
			}
			want := bot.Request{EventID: "trigger:123.456.abc", Community: bot.CommunityRef{Platform: bot.Slack, ID: "T1"},
				CommunityName: "greens", User: bot.UserRef{Platform: bot.Slack, Space: "T1", ID: "U1"}, UserName: "alice",
				Channel: bot.ChannelRef{ID: "C1", Name: "general"}, Command: c.wantCommand, Text: c.wantTxt, Time: convertNow}
			if req.EventID != want.EventID || req.Community != want.Community || req.User != want.User || req.Channel != want.Channel ||
				req.UserName != want.UserName || req.CommunityName != want.CommunityName || !req.Time.Equal(want.Time) {
				t.Fatalf("request %+v, want %+v", req, want)
			}
		})
	}
}

func TestCommandRequestNeedsTeamUserCommand(t *testing.T) {
	for _, sc := range []slack.SlashCommand{{UserID: "U1", Command: "/win"}, {TeamID: "T1", Command: "/win"}, {TeamID: "T1", UserID: "U1"}} {
		if _, err := commandRequest(sc, convertNow); err == nil {
			t.Fatalf("%+v accepted", sc)
		}
	}
}

func TestSlashFormFromSlacksExample(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/platforms/slack/slack_slash_command.form.txt")
	if err != nil {
		t.Fatal(err) // the platform payloads are part of the repository
	}
	sc, err := parseCommandForm([]byte(strings.TrimSpace(string(raw))))
	if err != nil {
		t.Fatal(err)
	}
	req, err := commandRequest(sc, convertNow)
	if err != nil {
		t.Fatal(err)
	}
	if req.Command != "weather" || req.Text != "94070" || req.Community.ID != "T0001" || req.User.ID != "U2147483697" ||
		req.Channel.ID != "C2147483705" || req.EventID != "trigger:13345224609.738474920.8088930838d88f008e0" || sc.ResponseURL != "https://hooks.slack.com/commands/1234/5678" {
		t.Fatalf("request %+v", req)
	}
}

func TestDeliveryIDFitsTheStore(t *testing.T) {
	long := strings.Repeat("x", 300)
	if id := deliveryID("trigger:", long); len(id) > maxDeliveryID || id == deliveryID("trigger:", long+"y") {
		t.Fatalf("deliveryID = %q", id)
	}
}

func TestEventRequests(t *testing.T) {
	env := func(inner string) (envelope, innerEvent) {
		e, in, err := parseEnvelope([]byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":` + inner + `}`))
		if err != nil {
			t.Fatal(err)
		}
		return e, in
	}
	cases := []struct {
		name, inner string
		act         eventAction
		check       func(bot.Request) bool
	}{
		{"joined channel", `{"type":"member_joined_channel","user":"U2","channel":"C5","team":"T1"}`, eventRun,
			func(r bot.Request) bool {
				return r.Event == bot.EventJoined && r.Channel.ID == "C5" && r.User.ID == "U2"
			}},
		{"team join", `{"type":"team_join","user":{"id":"U3","name":"sam","profile":{"display_name":"Sam"}}}`, eventRun,
			func(r bot.Request) bool {
				return r.Event == bot.EventJoined && r.Channel.ID == "" && r.UserName == "Sam"
			}},
		{"bot joins team", `{"type":"team_join","user":{"id":"B3","is_bot":true}}`, eventIgnore, nil},
		{"deactivated", `{"type":"user_change","user":{"id":"U4","deleted":true}}`, eventRun,
			func(r bot.Request) bool { return r.Event == bot.EventLeft && r.User.ID == "U4" }},
		{"profile edit", `{"type":"user_change","user":{"id":"U4","deleted":false}}`, eventIgnore, nil},
		{"mention", `{"type":"app_mention","user":"U5","channel":"C1","text":"<@UBOT> hi"}`, eventMention,
			func(r bot.Request) bool { return r.Command == bot.Umbrella && r.Text == "help" && r.Channel.ID == "C1" }},
		{"bot mention", `{"type":"app_mention","user":"U5","bot_id":"B1","channel":"C1"}`, eventIgnore, nil},
		{"uninstalled", `{"type":"app_uninstalled"}`, eventUninstall, func(r bot.Request) bool { return r.Community.ID == "T1" }},
		{"tokens revoked", `{"type":"tokens_revoked","tokens":{"bot":["UB"]}}`, eventUninstall, nil},
		{"user token revoked", `{"type":"tokens_revoked","tokens":{"oauth":["U1"]}}`, eventIgnore, nil},
		{"other", `{"type":"reaction_added","user":"U1"}`, eventIgnore, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, in := env(c.inner)
			req, act := eventRequest(e, in, convertNow)
			if act != c.act {
				t.Fatalf("action %d, want %d", act, c.act)
			}
			if act != eventIgnore && req.EventID != "event:Ev1" {
				t.Fatalf("event id %q", req.EventID)
			}
			if c.check != nil && !c.check(req) {
				t.Fatalf("request %+v", req)
			}
		})
	}
}

func TestAppMentionFromSlacksExample(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/platforms/slack/slack_event_app_mention.json")
	if err != nil {
		t.Fatal(err) // the platform payloads are part of the repository
	}
	e, in, err := parseEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	req, act := eventRequest(e, in, convertNow)
	if act != eventMention || req.User.ID != "U061F7AUR" || req.Community.ID != "T123ABC456" || req.EventID != "event:Ev123ABC456" {
		t.Fatalf("%d %+v", act, req)
	}
}

func TestInteractionRequest(t *testing.T) {
	var cb slack.InteractionCallback
	payload := `{"type":"block_actions","trigger_id":"tr1","team":{"id":"T1","domain":"greens"},"user":{"id":"U1","name":"alice","team_id":"T1"},
		"channel":{"id":"C1","name":"general"},"response_url":"https://hooks.slack.com/actions/x","actions":[{"block_id":"b1","action_id":"win.cheer:1","value":"win.cheer:1","type":"button"}]}`
	if err := json.Unmarshal([]byte(payload), &cb); err != nil {
		t.Fatal(err)
	}
	req, err := interactionRequest(cb, convertNow)
	if err != nil {
		t.Fatal(err)
	}
	if req.EventID != "trigger:tr1" || req.User.ID != "U1" || req.Community.ID != "T1" || req.Channel.ID != "C1" {
		t.Fatalf("%+v", req)
	}
	if cb.ActionCallback.BlockActions[0].ActionID != "win.cheer:1" {
		t.Fatalf("action %+v", cb.ActionCallback.BlockActions)
	}
}

// FuzzConvert feeds arbitrary slash-command forms, Events API bodies and
// interactivity bodies through the pure conversions: they never panic, and
// whatever request comes out is a Slack request of one team with text that
// is valid UTF-8 whenever the input was.
func FuzzConvert(f *testing.F) {
	f.Add([]byte("team_id=T1&user_id=U1&command=%2Fpledge&text=10+trees+%3C%40U2%7Cbob%3E&trigger_id=1.2.3"))
	f.Add([]byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"team_join","user":{"id":"U1"}}}`))
	f.Add([]byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"member_joined_channel","user":"U1","channel":"C1"}}`))
	f.Add([]byte(`payload=%7B%22type%22%3A%22block_actions%22%7D`))
	f.Add([]byte("text=&lt;&lt;@&amp;<<@>>&gt;<!>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if sc, err := parseCommandForm(body); err == nil {
			if req, err := commandRequest(sc, convertNow); err == nil {
				if req.Community.Platform != bot.Slack || req.User.Space != req.Community.ID || len(req.EventID) > maxDeliveryID {
					t.Fatalf("bad request %+v", req)
				}
				if utf8.ValidString(sc.Text) && !utf8.ValidString(req.Text) {
					t.Fatalf("Unescape broke UTF-8: %q → %q", sc.Text, req.Text)
				}
			}
		}
		if e, in, err := parseEnvelope(body); err == nil {
			req, act := eventRequest(e, in, convertNow)
			if act != eventIgnore && (req.Community.ID == "" || len(req.EventID) > maxDeliveryID) {
				t.Fatalf("bad event request %+v", req)
			}
		}
		if cb, err := parseInteraction(body); err == nil {
			if req, err := interactionRequest(cb, convertNow); err == nil && req.User.Space != req.Community.ID {
				t.Fatalf("bad interaction request %+v", req)
			}
			_ = inputValue(cb.View)
		}
		_ = Unescape(string(body))
	})
}
