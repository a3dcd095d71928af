package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/missionbot/missionbot/bot"
)

func TestButtonSubmitPutsTheTypedValueInTheAction(t *testing.T) {
	b := bot.Button{Action: "cmd:pledge {input} to #3", Input: &bot.Input{Label: "Amount"}}
	for _, tc := range []struct{ typed, want string }{
		{"10 trees", "cmd:pledge 10 trees to #3"},
		{"  10\n\ttrees  ", "cmd:pledge 10 trees to #3"},
		{"", "cmd:pledge  to #3"},
		{"{input}", "cmd:pledge {input} to #3"},
		{strings.Repeat("9", 500), "cmd:pledge " + strings.Repeat("9", bot.MaxInputLen) + " to #3"},
	} {
		if got := b.Submit(tc.typed); got != tc.want {
			t.Errorf("Submit(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
	if got := bot.SubmitAction(b.Action, "5"); got != "cmd:pledge 5 to #3" {
		t.Errorf("SubmitAction = %q", got)
	}
}

func FuzzButtonSubmit(f *testing.F) {
	f.Add("10 trees")
	f.Add("a\nb\rc")
	f.Fuzz(func(t *testing.T, typed string) {
		got := bot.SubmitAction("cmd:pledge {input} to #3", typed)
		if strings.ContainsAny(got, "\n\r\t") {
			t.Fatalf("a submitted action stays on one line: %q", got)
		}
		if !strings.HasPrefix(got, "cmd:pledge ") || !strings.HasSuffix(got, " to #3") {
			t.Fatalf("the typed value stays inside the action: %q", got)
		}
	})
}

func TestUmbrellaHelpWithTypedOptions(t *testing.T) {
	e, _ := newEngine(false)
	r := e.Do(context.Background(), bot.Request{Command: bot.Umbrella, Sub: "help", Options: map[string]string{"command": "pledge"},
		User: bot.UserRef{Platform: bot.Discord, Space: "G1", ID: "U1"}, Community: bot.CommunityRef{Platform: bot.Discord, ID: "G1"}})
	if len(r.Messages) != 1 || !strings.Contains(r.Messages[0].Title, "/pledge") {
		t.Fatalf("/missionbot help command:pledge shows /pledge's help; got %+v", r.Messages)
	}
	r = e.Do(context.Background(), bot.Request{Command: bot.Umbrella, Sub: "help", Options: map[string]string{},
		User: bot.UserRef{Platform: bot.Discord, Space: "G1", ID: "U1"}, Community: bot.CommunityRef{Platform: bot.Discord, ID: "G1"}})
	if len(r.Messages) != 1 || r.Messages[0].Title != "Help" {
		t.Fatalf("/missionbot help shows the overview; got %+v", r.Messages)
	}
}
