package console_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/console"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/testdb"
)

func run(t *testing.T, script string) string {
	t.Helper()
	s := testdb.Open(t, "sqlite")
	clock := bot.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	e := bot.NewEngine(bot.Commands, s, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.Handle("win", "", func(_ context.Context, c *bot.Call) (bot.Reply, error) {
		return bot.Reply{}.Add(
			bot.Message{Text: "Posted."},
			bot.Message{Visibility: bot.Public, Text: bot.UserMention(c.Actor.Member) + ": " + c.Text("text"),
				Buttons: []bot.Button{{Label: "🎉", Action: "cmd:win cheered by " + c.Actor.Member.Name}}},
		), nil
	})
	var out bytes.Buffer
	c := console.New(e, s, nil, clock, &out)
	if err := c.Run(context.Background(), strings.NewReader(script), false); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestDirectivesAndBlocks(t *testing.T) {
	out := run(t, `# a comment
!now
!as alice
!channel wins
/win We did it @bob
!as bob
!click 🎉
!advance 90m
!now
/missionbot help
/pledge help
!click Nothing
!bogus
hello
`)
	for _, want := range []string{
		"[console]\nTue 2026-12-01 09:00 UTC",
		"You are now alice.",
		"Now in #wins.",
		"[private → alice]\nPosted.",
		"[#wins]\n@alice: We did it @bob\n[ 🎉 ]",
		"[#wins]\n@bob: cheered by alice",
		"The clock is now Tue 2026-12-01 10:30 UTC.",
		"[private → bob]\n*Help*\nmissionbot commands",
		"/pledge add <amount> [unit] [to] <goal> [anonymously]",
		`No button labelled "Nothing"`,
		"Unknown directive !bogus",
		"Commands start with /",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q; got:\n%s", want, out)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"@bob thanks", "<@bob|bob> thanks"},
		{"in #general now", "in <#general|general> now"},
		{"email a@b.c", "email a@b.c"},
		{"#3", "#3"},
	}
	for _, tt := range tests {
		if got := console.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
