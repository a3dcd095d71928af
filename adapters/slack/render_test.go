package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	goslack "github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/goal"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata/render")

// golden compares got with testdata/render/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "render", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

// rendered is what a golden file holds: the notification text and blocks.
func rendered(t *testing.T, m bot.Message) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Text   string          `json:"text"`
		Blocks []goslack.Block `json:"blocks"`
	}{Fallback(m), Blocks(m)}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func goalMessage() bot.Message {
	g := goal.Goal{No: 3, Slug: "plant-1000-trees", Title: "Plant 1000 trees", Unit: "trees", Target: bot.Amount(100000), Progress: bot.Amount(40000)}
	return bot.Message{
		Visibility: bot.Public,
		Title:      "#3 Plant 1000 trees",
		Progress:   []bot.Progress{{Label: g.Title, Done: g.Progress, Target: g.Target, Unit: g.Unit, Note: "due Wed 31 Dec · needs 86 trees a week"}},
		Fields: []bot.Field{
			{Label: "Progress", Value: "400 trees of 1,000 trees (40%)"},
			{Label: "Pledged", Value: "520 trees, 300 trees fulfilled, 220 trees still open"},
			{Label: "Logged directly", Value: "100 trees"},
			{Label: "Pace", Value: "needs 86 trees a week"},
		},
		Items:   []string{"1. <@U024BE7LH|alice> — 150 trees", "2. <@U0G9QF9C6|bob> — 120 trees", "3. Someone & friends — 80 trees"},
		Buttons: []bot.Button{goal.PledgeButton(g)},
		Footer:  "Slug plant-1000-trees · /goal show plant-1000-trees",
	}
}

func digestMessage() bot.Message {
	return bot.Message{
		Visibility: bot.Public, Kind: bot.PostDigest,
		Channel: bot.ChannelRef{ID: "C0DIGEST", Name: "impact"},
		Title:   "Impact digest: Mon 1 Dec – Mon 8 Dec",
		Progress: []bot.Progress{
			{Label: "Plant 1000 trees", Done: 42000, Target: 100000, Unit: "trees", Note: "+20 trees ↑ 5 · needs 73 trees a week"},
			{Label: "Raise £5,000", Done: 310050, Target: 500000, Unit: "£", Note: "+£250 → · on pace"},
			{Label: "Volunteer hours", Done: 50000, Target: 50000, Unit: "hours", Note: "+12 hours ↓ 3 · reached"},
		},
		Fields: []bot.Field{
			{Label: "Pledges made", Value: "7 ↑ 2"},
			{Label: "Pledges fulfilled", Value: "4 →"},
			{Label: "Contributions", Value: "19 ↑ 6"},
			{Label: "Volunteer hours", Value: "12 ↓ 3"},
			{Label: "Members", Value: "48 active of 120 (3 new)"},
			{Label: "Wins", Value: "2 ↑ 1"},
			{Label: "Kudos", Value: "9 ↑ 4"},
		},
		Items: []string{
			"🎉 Planted 200 saplings at <#C024BE7LR|riverside> park (<@U024BE7LH|alice>)",
			"🎉 Council approved the <community garden> & compost scheme (bob)",
			"🏅 1. alice: 6 contributions, 5 hours",
			"🏅 2. bob: 4 contributions",
			"📅 #4 Beach clean-up, Sat 13 Dec 10:00: 3 of 10 slots left (/volunteer join #4)",
		},
	}
}

func TestBlocksGolden(t *testing.T) {
	longList := bot.Message{Title: "Pledges", Text: "Every open pledge:"}
	for i := 1; i <= 400; i++ {
		longList.Items = append(longList.Items, fmt.Sprintf("#%d <@U0MEMBER%d|member%d> pledged %d trees to plant-1000-trees", i, i, i, i*10))
	}
	cases := []struct {
		name string
		m    bot.Message
	}{
		{"goal.json", goalMessage()},
		{"digest.json", digestMessage()},
		{"help.json", bot.Message{Text: bot.Commands.HelpText(bot.Commands.Command("pledge"))}},
		{"long_list.json", longList},
		{"private_error.json", bot.Message{Text: (&bot.UserError{
			Msg:     `"ten" is not a valid <amount>. Usage: /pledge add <amount> [unit] [to] <goal> [anonymously].`,
			Example: "/pledge 10 trees to plant-1000-trees"}).Error()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkLimits(t, c.m)
			golden(t, c.name, rendered(t, c.m))
		})
	}
}

func TestBlocksEscapesTextButKeepsMentions(t *testing.T) {
	m := bot.Message{Text: "<@U024BE7LH|alice> thanked <@console-bob|bob> in <#C024BE7LR|general> for <!channel> & <b>trees</b>"}
	got := sectionTexts(Blocks(m))
	want := "<@U024BE7LH> thanked @bob in <#C024BE7LR> for &lt;!channel&gt; &amp; &lt;b&gt;trees&lt;/b&gt;"
	if len(got) != 1 || got[0] != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if fb := Fallback(m); fb != want {
		t.Errorf("fallback = %q, want %q", fb, want)
	}
}

func TestBlocksHeaderIsPlainAndShort(t *testing.T) {
	m := bot.Message{Title: "Thanks <@U024BE7LH|alice> & co " + strings.Repeat("x", 300)}
	b := Blocks(m)
	h, ok := b[0].(*goslack.HeaderBlock)
	if !ok {
		t.Fatalf("first block is %T, want a header", b[0])
	}
	if n := utf8.RuneCountInString(h.Text.Text); n > MaxHeaderLen {
		t.Errorf("header has %d characters, more than %d", n, MaxHeaderLen)
	}
	if !strings.HasPrefix(h.Text.Text, "Thanks @alice & co xxx") || !strings.HasSuffix(h.Text.Text, "…") {
		t.Errorf("header = %q", h.Text.Text)
	}
}

func TestBlocksSplitFieldsByTen(t *testing.T) {
	var m bot.Message
	for i := range 23 {
		m.Fields = append(m.Fields, bot.Field{Label: fmt.Sprintf("F%d", i), Value: "v"})
	}
	var counts []int
	for _, b := range Blocks(m) {
		if s, ok := b.(*goslack.SectionBlock); ok {
			counts = append(counts, len(s.Fields))
		}
	}
	if fmt.Sprint(counts) != "[10 10 3]" {
		t.Errorf("fields per section = %v, want [10 10 3]", counts)
	}
}

func TestBlocksButtons(t *testing.T) {
	m := bot.Message{Buttons: []bot.Button{
		{Label: "Join", Action: "cmd:volunteer join #4", Style: bot.ButtonPrimary},
		{Label: "Join again", Action: "cmd:volunteer join #4"}, // same action: dropped
		{Label: "Forget me", Action: "cmd:myimpact forget confirm", Style: bot.ButtonDanger},
		{Label: "Pledge", Action: "cmd:pledge {input} to #3", Input: &bot.Input{Label: "How much?"}},
	}}
	var got []string
	for _, b := range Blocks(m) {
		a, ok := b.(*goslack.ActionBlock)
		if !ok {
			continue
		}
		for _, e := range a.Elements.ElementSet {
			btn := e.(*goslack.ButtonBlockElement)
			action, input := ButtonAction(btn.ActionID)
			value := btn.Value
			if input {
				in := readInputButton(btn.Value, action)
				value = in.Action
				if in.Label != "How much?" {
					t.Errorf("button %q: value %q lost the Input's label", btn.Text.Text, btn.Value)
				}
			}
			if action != value {
				t.Errorf("button %q: action_id %q reads back as %q, value %q", btn.Text.Text, btn.ActionID, action, btn.Value)
			}
			got = append(got, fmt.Sprintf("%s|%s|%v", btn.Text.Text, btn.Style, input))
		}
	}
	want := "[Join|primary|false Forget me|danger|false Pledge||true]"
	if fmt.Sprint(got) != want {
		t.Errorf("buttons = %v, want %v", got, want)
	}
}

func TestButtonAction(t *testing.T) {
	for _, c := range []struct {
		id, action string
		input      bool
	}{
		{"cmd:volunteer join #4", "cmd:volunteer join #4", false},
		{"input|cmd:pledge {input} to #3", "cmd:pledge {input} to #3", true},
		{"win.cheer:12", "win.cheer:12", false},
	} {
		a, in := ButtonAction(c.id)
		if a != c.action || in != c.input {
			t.Errorf("ButtonAction(%q) = %q, %v; want %q, %v", c.id, a, in, c.action, c.input)
		}
	}
}

func TestBlocksLongTextSplitsAtLines(t *testing.T) {
	var lines []string
	for i := range 200 {
		lines = append(lines, fmt.Sprintf("line %03d %s", i, strings.Repeat("x", 40)))
	}
	texts := sectionTexts(Blocks(bot.Message{Text: strings.Join(lines, "\n")}))
	if len(texts) < 2 {
		t.Fatalf("got %d sections, want the text split", len(texts))
	}
	joined := strings.Join(texts, "\n")
	if joined != strings.Join(lines, "\n") {
		t.Error("splitting lost or changed text")
	}
	for _, s := range texts {
		if !strings.HasPrefix(s, "line ") || !strings.HasSuffix(s, "x") {
			t.Errorf("a section does not start and end on a line boundary: %.20q…%q", s, s[max(0, len(s)-10):])
		}
	}
}

func sectionTexts(blocks []goslack.Block) []string {
	var out []string
	for _, b := range blocks {
		if s, ok := b.(*goslack.SectionBlock); ok && s.Text != nil {
			out = append(out, s.Text.Text)
		}
	}
	return out
}

// checkLimits fails t when the rendering of m breaks a Block Kit rule.
func checkLimits(t testing.TB, m bot.Message) {
	t.Helper()
	blocks := Blocks(m)
	if len(blocks) > MaxBlocks {
		t.Fatalf("%d blocks, more than %d", len(blocks), MaxBlocks)
	}
	text := func(what string, o *goslack.TextBlockObject, limit int) {
		if o == nil {
			t.Fatalf("%s: no text", what)
		}
		if n := utf8.RuneCountInString(o.Text); n == 0 || n > limit {
			t.Fatalf("%s: %d characters, want 1..%d", what, n, limit)
		}
		if !utf8.ValidString(o.Text) {
			t.Fatalf("%s: invalid UTF-8", what)
		}
	}
	for i, b := range blocks {
		switch b := b.(type) {
		case *goslack.HeaderBlock:
			text("header", b.Text, MaxHeaderLen)
		case *goslack.SectionBlock:
			if b.Text == nil && len(b.Fields) == 0 {
				t.Fatalf("block %d: empty section", i)
			}
			if b.Text != nil {
				text("section", b.Text, MaxTextLen)
			}
			if len(b.Fields) > MaxFieldsPerSection {
				t.Fatalf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				text("field", f, MaxFieldLen)
			}
		case *goslack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				text("context", e.(*goslack.TextBlockObject), MaxTextLen)
			}
		case *goslack.ActionBlock:
			if n := len(b.Elements.ElementSet); n == 0 || n > MaxActionElements {
				t.Fatalf("block %d: %d actions", i, n)
			}
			seen := map[string]bool{}
			for _, e := range b.Elements.ElementSet {
				btn := e.(*goslack.ButtonBlockElement)
				text("button", btn.Text, MaxButtonLabelLen)
				if seen[btn.ActionID] || btn.ActionID == "" || len(btn.ActionID) > MaxActionIDLen {
					t.Fatalf("block %d: bad or repeated action_id %q", i, btn.ActionID)
				}
				seen[btn.ActionID] = true
				if utf8.RuneCountInString(btn.Value) > MaxButtonValueLen {
					t.Fatalf("block %d: button value of %d characters", i, utf8.RuneCountInString(btn.Value))
				}
				if action, input := ButtonAction(btn.ActionID); input {
					in := readInputButton(btn.Value, action)
					if in.Action != action || utf8.RuneCountInString(in.Label) > maxInputLabelLen ||
						utf8.RuneCountInString(in.Placeholder) > maxInputPlaceholderLen {
						t.Fatalf("block %d: input button %q reads back as %+v", i, btn.Value, in)
					}
				}
			}
		default:
			t.Fatalf("block %d: unexpected %T", i, b)
		}
	}
	if fb := Fallback(m); fb == "" || utf8.RuneCountInString(fb) > MaxFallbackLen {
		t.Fatalf("fallback of %d characters", utf8.RuneCountInString(fb))
	}
}

func FuzzRender(f *testing.F) {
	f.Add("Plant 1000 trees", "<@U024BE7LH|alice> & <#C1|x> <b>", "item", 3, 2, 1)
	f.Add(strings.Repeat("é", 400), strings.Repeat("a\n", 5000), strings.Repeat("<@U1|", 300), 200, 30, 30)
	f.Add("", "", "", 0, 0, 0)
	f.Add("\n\n", strings.Repeat("&", 3001), strings.Repeat(">", 2999), 1, 11, 26)
	f.Fuzz(func(t *testing.T, title, text, item string, nItems, nFields, nButtons int) {
		// Big enough to cross every limit (3,000 characters, 10 fields, 25
		// buttons, 50 blocks), small enough to keep the fuzzer fast.
		nItems, nFields, nButtons = clamp(nItems, 200), clamp(nFields, 30), clamp(nButtons, 30)
		title, text, item = upTo(title, 2000), upTo(text, 20000), upTo(item, 2000)
		m := bot.Message{Title: title, Text: text, Footer: item + text}
		for i := range nItems {
			m.Items = append(m.Items, fmt.Sprintf("%d %s", i, item))
		}
		for i := range nFields {
			m.Fields = append(m.Fields, bot.Field{Label: item, Value: fmt.Sprintf("%s %d", text, i)})
			m.Progress = append(m.Progress, bot.Progress{Label: title, Done: bot.Amount(i * 100), Target: 1000, Unit: item, Note: text})
		}
		for i := range nButtons {
			b := bot.Button{Label: item, Action: fmt.Sprintf("cmd:x %d %.80s", i, item)}
			if i%2 == 1 {
				b.Input = &bot.Input{Label: text, Placeholder: title + item}
			}
			m.Buttons = append(m.Buttons, b)
		}
		checkLimits(t, m)
	})
}

func upTo(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
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

func BenchmarkBlocks(b *testing.B) {
	m := digestMessage()
	b.ReportAllocs()
	for b.Loop() {
		_ = Blocks(m)
		_ = Fallback(m)
	}
}

func TestInputButtonValueFitsWithLongLabels(t *testing.T) {
	// Every '<' costs six characters once JSON-escaped: the label and
	// placeholder at their caps do not fit together, so the placeholder goes.
	b := bot.Button{Label: "Pledge", Action: "cmd:pledge {input} to #3",
		Input: &bot.Input{Label: strings.Repeat("<", 5000), Placeholder: strings.Repeat("<", 5000)}}
	v := buttonValue(b)
	if n := utf8.RuneCountInString(v); n > MaxButtonValueLen {
		t.Fatalf("value of %d characters", n)
	}
	in := readInputButton(v, b.Action)
	if in.Action != b.Action || utf8.RuneCountInString(in.Label) != maxInputLabelLen || in.Placeholder != "" {
		t.Fatalf("read back %d-character label, placeholder %q, action %q", utf8.RuneCountInString(in.Label), in.Placeholder, in.Action)
	}
	// A value naming another action is not trusted for this one.
	if in := readInputButton(v, "cmd:other"); in.Action != "cmd:other" || in.Label != "" {
		t.Fatalf("mismatched value read as %+v", in)
	}
}

func TestTypedMentionReadsBackAsTyped(t *testing.T) {
	// bob typed "<@U999|x> & co" (Slack escaped it); it is no mention, and
	// it shows as he typed it, not as "&lt;@U999…".
	text := Unescape("&lt;@U999|x&gt; &amp; co")
	var got []string
	for _, b := range Blocks(bot.Message{Text: text}) {
		if s, ok := b.(*goslack.SectionBlock); ok {
			got = append(got, s.Text.Text)
		}
	}
	if want := "&lt;\u2060@U999|x&gt; &amp; co"; len(got) != 1 || got[0] != want {
		t.Fatalf("rendered %q, want %q", got, want)
	}
}
