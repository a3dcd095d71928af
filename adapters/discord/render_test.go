package discord

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/bot"
)

var updateRender = flag.Bool("update-render", false, "rewrite the golden files under testdata/render")

// rendered is what a message becomes on Discord, as sent.
type rendered struct {
	Content    string                       `json:"content,omitempty"`
	Flags      discordgo.MessageFlags       `json:"flags,omitempty"`
	Embeds     []*discordgo.MessageEmbed    `json:"embeds,omitempty"`
	Components []discordgo.MessageComponent `json:"components,omitempty"`
}

func render(m bot.Message) rendered {
	return rendered{Content: Content(m), Flags: Flags(m), Embeds: Embeds(m), Components: Components(m)}
}

func goalMessage() bot.Message {
	pledge := bot.CommandButton("Pledge", "pledge "+bot.InputMarker+" to #1", bot.ButtonPrimary)
	pledge.Input = &bot.Input{Label: "How much will you pledge?", Placeholder: "e.g. 10 trees"}
	return bot.Message{
		Visibility: bot.Public,
		Title:      "#1 Plant 1000 trees",
		Progress: []bot.Progress{{Label: "#1 Plant 1000 trees", Done: bot.Amount(400_00), Target: bot.Amount(1000_00),
			Unit: "trees", Note: "due Thu 31 Dec · on pace"}},
		Fields:  []bot.Field{{Label: "Pledged", Value: "250 trees by 12 members"}, {Label: "Top contributor", Value: "<@111|sam>"}},
		Buttons: []bot.Button{pledge},
		Footer:  "Goal #1 · created by <@222|olive>",
	}
}

func digestMessage() bot.Message {
	return bot.Message{
		Visibility: bot.Public, Kind: bot.PostDigest, Channel: bot.ChannelRef{ID: "333", Name: "impact"},
		Title: "Impact digest: Mon 30 Nov – Mon 7 Dec",
		Progress: []bot.Progress{
			{Label: "Plant 1000 trees", Done: bot.Amount(400_00), Target: bot.Amount(1000_00), Unit: "trees", Note: "+120 trees ▲ 20% · on pace"},
			{Label: "Food drive", Done: bot.Amount(5_50), Target: bot.Amount(100_00), Unit: "£", Note: "+£5.50 · behind pace"},
		},
		Fields: []bot.Field{
			{Label: "Pledges made", Value: "14 ▲ 3"}, {Label: "Pledges fulfilled", Value: "9 ▼ 1"},
			{Label: "Contributions", Value: "31 ▲ 8"}, {Label: "Volunteer hours", Value: "42.5 ▲ 10%"},
			{Label: "Members", Value: "57 (+4 new)"}, {Label: "Wins", Value: "3"}, {Label: "Kudos", Value: "11 ▲ 2"},
		},
		Items:  []string{"🎉 <@111|sam>: The council approved our bike lane!", "🙌 <@222|olive> → <@111|sam>: for organising the cleanup"},
		Footer: "Posted every Monday at 09:00 · /digest preview",
	}
}

func helpMessage() bot.Message {
	return bot.Message{Title: "Help: /pledge", Text: bot.Commands.HelpText(bot.Commands.Command("pledge"))}
}

func longListMessage() bot.Message {
	m := bot.Message{Title: "Open opportunities", Text: "Sign up with /volunteer join <opportunity>."}
	for i := 1; i <= 300; i++ {
		m.Items = append(m.Items, fmt.Sprintf("#%d Park cleanup number %d — Sat 5 Dec 10:00 at Riverside Park, 12 places left, organised by <@%d|member%d>", i, i, 1000+i, i))
	}
	return m
}

func privateError() bot.Message {
	return bot.Say("Missing <amount> (how much, e.g. 10).\nExample: /pledge 10 trees to plant-1000-trees").Messages[0]
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    bot.Message
	}{
		{"goal_progress_pledge", goalMessage()},
		{"digest", digestMessage()},
		{"help", helpMessage()},
		{"long_list", longListMessage()},
		{"private_error", privateError()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(render(tc.m)); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", "render", tc.name+".json")
			if *updateRender {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestRenderGolden -update-render to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (go test -run TestRenderGolden -update-render rewrites it):\n%s", path, got)
			}
			body, _ := json.Marshal(render(tc.m))
			if p := fakediscord.CheckMessage(body, 0); len(p) > 0 {
				t.Errorf("Discord would reject it: %v", p)
			}
		})
	}
}

func TestGoalShowsBarAndPledgeButtonOpensModal(t *testing.T) {
	m := goalMessage()
	es := Embeds(m)
	if len(es) != 1 {
		t.Fatalf("embeds = %d, want 1", len(es))
	}
	if want := "▓▓▓▓░░░░░░ 40% — 400 of 1,000 trees"; !strings.Contains(es[0].Description, want) {
		t.Errorf("description %q lacks the bar %q", es[0].Description, want)
	}
	if !strings.Contains(es[0].Fields[1].Value, "<@111>") || strings.Contains(es[0].Fields[1].Value, "|") {
		t.Errorf("field value %q: want the Discord mention <@111>", es[0].Fields[1].Value)
	}
	if es[0].Footer.Text != "Goal #1 · created by @olive" {
		t.Errorf("footer %q: mentions are not drawn in footers, want @olive", es[0].Footer.Text)
	}
	rows := Components(m)
	btn := rows[0].(discordgo.ActionsRow).Components[0].(discordgo.Button)
	if btn.Style != discordgo.PrimaryButton || btn.Label != "Pledge" {
		t.Errorf("button = %+v", btn)
	}
	action, input := ButtonAction(btn.CustomID)
	if !input || action != "cmd:pledge {input} to #1" {
		t.Fatalf("ButtonAction(%q) = %q, %v", btn.CustomID, action, input)
	}
	modal := InputModal(btn.CustomID, *m.Buttons[0].Input)
	if a, _ := ButtonAction(modal.CustomID); a != action {
		t.Errorf("modal custom_id %q does not lead back to the action", modal.CustomID)
	}
	ti := modal.Components[0].(discordgo.ActionsRow).Components[0].(discordgo.TextInput)
	if ti.MaxLength != bot.MaxInputLen || !ti.Required || ti.CustomID != InputFieldID || ti.Label != "How much will you pledge?" {
		t.Errorf("text input = %+v", ti)
	}
	if got := bot.SubmitAction(action, " 12  trees "); got != "cmd:pledge 12 trees to #1" {
		t.Errorf("submitted action = %q", got)
	}
	if a, input := ButtonAction("win.cheer:4"); input || a != "win.cheer:4" {
		t.Errorf("plain button: %q %v", a, input)
	}
}

func TestLongListIsCutWithCount(t *testing.T) {
	e := Embeds(longListMessage())[0]
	if textLen(e.Description) > maxDescription {
		t.Fatalf("description is %d long", textLen(e.Description))
	}
	shown := strings.Count(e.Description, "• ")
	want := fmt.Sprintf("…and %d more", 300-shown)
	if !strings.HasSuffix(e.Description, want) {
		t.Errorf("description ends %q, want %q", e.Description[len(e.Description)-40:], want)
	}
}

func TestPrivateErrorIsPlainEphemeralText(t *testing.T) {
	m := privateError()
	if Embeds(m) != nil || Components(m) != nil {
		t.Errorf("a plain message has no embed or components")
	}
	if Flags(m) != discordgo.MessageFlagsEphemeral {
		t.Errorf("flags = %v, want ephemeral", Flags(m))
	}
	if !strings.HasPrefix(Content(m), "Missing <amount>") {
		t.Errorf("content = %q", Content(m))
	}
}

func TestButtonsFitRowsAndSkipBadIDs(t *testing.T) {
	var m bot.Message
	m.Buttons = append(m.Buttons, bot.Button{Label: "too long", Action: strings.Repeat("x", 101)})
	m.Buttons = append(m.Buttons, bot.Button{Label: "input too long", Action: strings.Repeat("y", 95), Input: &bot.Input{}})
	m.Buttons = append(m.Buttons, bot.Button{Label: "twice", Action: "a:1"}, bot.Button{Label: "twice again", Action: "a:1"})
	for i := range 30 {
		m.Buttons = append(m.Buttons, bot.Button{Label: fmt.Sprint(i), Action: fmt.Sprintf("b:%d", i), Style: bot.ButtonDanger})
	}
	rows := Components(m)
	if len(rows) != maxRows {
		t.Fatalf("rows = %d, want %d", len(rows), maxRows)
	}
	ids := map[string]bool{}
	for _, r := range rows {
		bs := r.(discordgo.ActionsRow).Components
		if len(bs) > maxButtonsPerRow {
			t.Errorf("a row has %d buttons", len(bs))
		}
		for _, b := range bs {
			id := b.(discordgo.Button).CustomID
			if len(id) > maxCustomID || ids[id] {
				t.Errorf("custom_id %q too long or repeated", id)
			}
			ids[id] = true
		}
	}
	if err := CheckButtons(m); err == nil || !strings.Contains(err.Error(), "too long") || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("CheckButtons = %v", err)
	}
	if err := CheckButtons(goalMessage()); err != nil {
		t.Errorf("CheckButtons(goal) = %v", err)
	}
}

func TestManyLongFieldsStayWithinTotal(t *testing.T) {
	m := bot.Message{Title: strings.Repeat("T", 300), Text: strings.Repeat("word ", 2000), Footer: strings.Repeat("f", 3000)}
	for i := range 40 {
		m.Fields = append(m.Fields, bot.Field{Label: strings.Repeat("n", 300), Value: fmt.Sprint(i, strings.Repeat("v", 2000))})
	}
	body, _ := json.Marshal(render(m))
	if p := fakediscord.CheckMessage(body, 0); len(p) > 0 {
		t.Fatalf("Discord would reject it: %v", p)
	}
	e := Embeds(m)[0]
	if !strings.Contains(e.Description, "more fields") {
		t.Errorf("dropped fields are not counted: %q", e.Description[max(0, len(e.Description)-60):])
	}
}

func TestMentions(t *testing.T) {
	for in, want := range map[string]string{
		"thanks <@U1|sam> in <#C9|wins>": "thanks <@U1> in <#C9>",
		"<@123> and <@!456|x y>":         "<@123> and <@456>",
		"no mention <@ here":             "no mention <@ here",
	} {
		if got := Mentions(in); got != want {
			t.Errorf("Mentions(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRender(f *testing.F) {
	f.Add("title", "text <@1|a>", "item", "label", "value", "Pledge", "cmd:pledge {input} to #1", 3, 2, 1, true, "footer")
	f.Add(strings.Repeat("🎉", 300), strings.Repeat("x", 5000), strings.Repeat("é", 1100), "", "", "", "", 200, 40, 30, false, strings.Repeat("z", 3000))
	f.Fuzz(func(t *testing.T, title, text, item, label, value, btnLabel, action string, items, fields, buttons int, input bool, footer string) {
		items, fields, buttons = clamp(items, 400), clamp(fields, 60), clamp(buttons, 40)
		m := bot.Message{Title: title, Text: text, Footer: footer}
		for i := range items {
			m.Items = append(m.Items, fmt.Sprint(item, i))
		}
		for i := range fields {
			m.Fields = append(m.Fields, bot.Field{Label: label, Value: fmt.Sprint(value, i)})
		}
		if items%3 == 1 {
			m.Progress = []bot.Progress{{Label: label, Done: bot.Amount(items), Target: bot.Amount(fields), Unit: item, Note: text}}
		}
		for i := range buttons {
			b := bot.Button{Label: btnLabel, Action: fmt.Sprint(action, i%7)}
			if input {
				b.Input = &bot.Input{Label: label, Placeholder: value}
			}
			m.Buttons = append(m.Buttons, b)
		}
		r := render(m)
		if !json.Valid([]byte(mustJSON(t, r))) {
			t.Fatal("invalid JSON")
		}
		if p := fakediscord.CheckMessage([]byte(mustJSON(t, r)), 0); len(p) > 0 && !(len(p) == 1 && p[0] == "empty") {
			t.Fatalf("Discord would reject it: %v", p)
		}
		if input && buttons > 0 {
			modal := InputModal(InputPrefix+action, bot.Input{Label: label, Placeholder: value})
			if textLen(modal.Title) > maxModalTitle || modal.Title == "" {
				t.Fatalf("modal title %q", modal.Title)
			}
		}
	})
}

func clamp(n, hi int) int {
	if n < 0 {
		n = -n
	}
	if n < 0 {
		return 0
	}
	return n % (hi + 1)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func BenchmarkRenderDigest(b *testing.B) {
	m := digestMessage()
	for b.Loop() {
		_ = Embeds(m)
		_ = Components(m)
	}
}
