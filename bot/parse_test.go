package bot

import (
	"strings"
	"testing"
)

func TestEveryExampleParses(t *testing.T) {
	for _, c := range Commands {
		for _, s := range c.Subs {
			for _, ex := range s.Examples {
				name, text, _ := strings.Cut(strings.TrimPrefix(ex, "/"), " ")
				p, err := Commands.Parse(name, text)
				if err != nil {
					t.Errorf("%s: %v", ex, err)
					continue
				}
				if p.Sub.Name != s.Name && c.Name != Umbrella {
					t.Errorf("%s: parsed as sub %q, want %q", ex, p.Sub.Name, s.Name)
				}
			}
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		cmd, text string
		sub       string
		want      map[string]string
	}{
		{"pledge", "10 trees to plant-1000-trees", "add", map[string]string{"amount": "10", "unit": "trees", "goal": "plant-1000-trees"}},
		{"pledge", "add 10 trees plant-1000-trees", "add", map[string]string{"amount": "10", "unit": "trees", "goal": "plant-1000-trees"}},
		{"pledge", "10 plant-1000-trees anonymously", "add", map[string]string{"amount": "10", "goal": "plant-1000-trees", "anonymously": "anonymously"}},
		{"pledge", "10 to plant", "add", map[string]string{"amount": "10", "goal": "plant"}},
		{"log", "5 to plant", "add", map[string]string{"amount": "5", "goal": "plant"}},
		{"log", "5 to plant by the river", "add", map[string]string{"amount": "5", "goal": "plant", "note": "by the river"}},
		{"pledge", `£20 to "food drive"`, "add", map[string]string{"amount": "£20", "goal": "food drive"}},
		{"pledge", "10", "add", map[string]string{"amount": "10"}},
		{"pledge", "done #3 4", "done", map[string]string{"id": "#3", "amount": "4"}},
		{"log", "5 trees to plant planted by the river", "add", map[string]string{"amount": "5", "unit": "trees", "goal": "plant", "note": "planted by the river"}},
		{"goal", `create "Plant 1000 trees" 1000 trees by 2026-12-31`, "create", map[string]string{"title": "Plant 1000 trees", "target": "1000", "unit": "trees", "by": "2026-12-31"}},
		{"goal", `create Plant 1000 trees 1000 trees by 2026-12-31 as trees`, "create", map[string]string{"title": "Plant 1000 trees", "target": "1000", "unit": "trees", "by": "2026-12-31", "slug": "trees"}},
		{"goal", `create "Clean beach" 500 kg of litter`, "create", map[string]string{"title": "Clean beach", "target": "500", "unit": "kg of litter"}},
		{"goal", `edit trees target 1200 by 2027-01-31`, "edit", map[string]string{"goal": "trees", "target": "1200", "by": "2027-01-31"}},
		{"goal", `edit target 1200`, "edit", map[string]string{"target": "1200"}},
		{"volunteer", `create "Park cleanup" 2026-12-05 10:00 for 2h slots 12 at "Riverside Park"`, "create",
			map[string]string{"title": "Park cleanup", "when": "2026-12-05 10:00", "duration": "2h", "slots": "12", "place": "Riverside Park"}},
		{"volunteer", `create Park cleanup for kids every sat 10:00 at Riverside Park`, "create",
			map[string]string{"title": "Park cleanup for kids", "when": "every sat 10:00", "place": "Riverside Park"}},
		{"volunteer", `attended park <@U1|sam> <@U2|alex>`, "attended", map[string]string{"opportunity": "park", "members": "<@U1|sam> <@U2|alex>"}},
		{"volunteer", `cancel litter series`, "cancel", map[string]string{"opportunity": "litter", "series": "series"}},
		{"volunteer", `hours 2.5 for park`, "hours", map[string]string{"hours": "2.5", "for": "park"}},
		{"leaderboard", `week`, "", map[string]string{"period": "week"}},
		{"leaderboard", `trees month`, "", map[string]string{"goal": "trees", "period": "month"}},
		{"leaderboard", `trees`, "", map[string]string{"goal": "trees"}},
		{"announce", `every mon 09:00 Weekly check-in 🌱`, "add", map[string]string{"when": "every mon 09:00", "message": "Weekly check-in 🌱"}},
		{"announce", `tomorrow 18:00 Meet in the park in <#C1|general>`, "add", map[string]string{"when": "tomorrow 18:00", "message": "Meet in the park", "channel": "<#C1|general>"}},
		{"announce", `in 2h Meet in the park`, "add", map[string]string{"when": "in 2h", "message": "Meet in the park"}},
		{"kudos", `<@U1|sam> for organising`, "", map[string]string{"member": "<@U1|sam>", "reason": "for organising"}},
		{"win", `We did it "to" the end`, "", map[string]string{"text": "We did it to the end"}},
		{"mission", ``, "show", map[string]string{}},
		{"myimpact", `forget confirm`, "forget", map[string]string{"confirm": "confirm"}},
		{"settings", `digest-schedule every day 08:30`, "digest-schedule", map[string]string{"schedule": "every day 08:30"}},
		{"missionbot", `pledge 10 trees to "plant trees"`, "add", map[string]string{"amount": "10", "unit": "trees", "goal": "plant trees"}},
	}
	for _, tt := range tests {
		p, err := Commands.Parse(tt.cmd, tt.text)
		if err != nil {
			t.Errorf("/%s %s: %v", tt.cmd, tt.text, err)
			continue
		}
		if p.Sub.Name != tt.sub {
			t.Errorf("/%s %s: sub %q, want %q", tt.cmd, tt.text, p.Sub.Name, tt.sub)
		}
		got := map[string]string{}
		for k, v := range p.Tokens {
			got[k] = JoinTokens(v)
		}
		if len(got) != len(tt.want) {
			t.Errorf("/%s %s: got %v, want %v", tt.cmd, tt.text, got, tt.want)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("/%s %s: %s = %q, want %q (all: %v)", tt.cmd, tt.text, k, got[k], v, got)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ cmd, text, want string }{
		{"pledge", "", "Missing <amount>"},
		{"goal", "create", "Missing <title>"},
		{"kudos", "sam great work", "not a valid <@member>"},
		{"nosuch", "", "no /nosuch command"},
		{"win", strings.Repeat("a", 2001), "2001 characters"},
		{"volunteer", "create Cleanup someday", "Usage: /volunteer create"},
	}
	for _, tt := range tests {
		_, err := Commands.Parse(tt.cmd, tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("/%s %s: err %v, want it to contain %q", tt.cmd, tt.text, err, tt.want)
			continue
		}
		if ue, ok := AsUserError(err); !ok || (ue.Example == "" && !strings.Contains(tt.want, "characters")) {
			t.Errorf("/%s %s: %v is not a user error with an example", tt.cmd, tt.text, err)
		}
	}
}

func TestHelp(t *testing.T) {
	p, err := Commands.Parse("pledge", "help")
	if err != nil || !p.Help {
		t.Fatalf("pledge help: %v %+v", err, p)
	}
	h := Commands.HelpText(Commands.Command("pledge"))
	if !strings.Contains(h, "/pledge add <amount> [unit] [to] <goal> [anonymously]") {
		t.Errorf("help: %s", h)
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range Commands {
		for _, s := range c.Subs {
			for _, ex := range s.Examples {
				f.Add(ex)
			}
		}
	}
	f.Add(`/pledge "unterminated 10 to`)
	f.Fuzz(func(t *testing.T, line string) {
		name, text, _ := strings.Cut(strings.TrimPrefix(line, "/"), " ")
		p, err := Commands.Parse(name, text)
		if err != nil {
			if _, ok := AsUserError(err); !ok {
				t.Fatalf("non-user error %v", err)
			}
			return
		}
		if p.Help {
			return
		}
		for _, o := range p.Sub.Options {
			if o.Required && p.Tokens[o.Name] == nil {
				t.Fatalf("required %s missing in %+v", o.Name, p)
			}
		}
	})
}
