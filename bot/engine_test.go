package bot_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
)

type fakeDir struct{ organiser bool }

func (d fakeDir) Enter(_ context.Context, v bot.Visit) (bot.Actor, error) {
	return bot.Actor{Community: 1, Member: bot.Member{ID: 1, Ref: v.User, Name: v.UserName}, Organiser: d.organiser,
		Settings: bot.Settings{Timezone: "Europe/London", CelebrationsChannel: bot.ChannelRef{ID: "C9", Name: "wins"}}}, nil
}

func (d fakeDir) Member(_ context.Context, _ bot.CommunityID, ref bot.UserRef, name string, _ time.Time) (bot.Member, error) {
	return bot.Member{ID: 2, Ref: ref, Name: name}, nil
}

func (d fakeDir) Depart(context.Context, bot.CommunityRef, bot.UserRef, time.Time) error { return nil }

func newEngine(organiser bool) (*bot.Engine, *[]*bot.Call) {
	var calls []*bot.Call
	e := bot.NewEngine(bot.Commands, fakeDir{organiser}, bot.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	record := func(_ context.Context, c *bot.Call) (bot.Reply, error) {
		calls = append(calls, c)
		return bot.Say("ok"), nil
	}
	e.Handle("pledge", "add", record)
	e.Handle("goal", "create", record)
	e.Handle("kudos", "", record)
	e.Handle("volunteer", "create", record)
	e.Handle("win", "", func(context.Context, *bot.Call) (bot.Reply, error) {
		return bot.Reply{}.Add(bot.Message{Visibility: bot.Public, Kind: bot.PostCelebration, Text: "🎉"}), nil
	})
	e.Handle("log", "add", func(context.Context, *bot.Call) (bot.Reply, error) { return bot.Reply{}, errors.New("disk on fire") })
	return e, &calls
}

func req(cmd, text string) bot.Request {
	return bot.Request{Community: bot.CommunityRef{Platform: bot.Console, ID: "x"}, User: bot.UserRef{Platform: bot.Console, Space: "x", ID: "alice"},
		UserName: "alice", Command: cmd, Text: text}
}

func text(r bot.Reply) string {
	var parts []string
	for _, m := range r.Messages {
		parts = append(parts, m.Title, m.Text)
	}
	return strings.Join(parts, "\n")
}

func TestEngineTypesArguments(t *testing.T) {
	e, calls := newEngine(true)
	ctx := context.Background()
	e.Do(ctx, req("pledge", "£12.50 to food-drive anonymously"))
	e.Do(ctx, req("kudos", "<@U2|bob> for the soup"))
	e.Do(ctx, req("volunteer", `create "Soup run" tomorrow 18:00 for 90m slots 4`))
	if len(*calls) != 3 {
		t.Fatalf("calls = %d", len(*calls))
	}
	p := (*calls)[0]
	if a, unit := p.Amount("amount"); a != 1250 || unit != "£" || p.Text("goal") != "food-drive" || !p.Bool("anonymously") {
		t.Errorf("pledge args: %v %q %q %v", a, unit, p.Text("goal"), p.Bool("anonymously"))
	}
	k := (*calls)[1]
	if m := k.Member("member"); m.Name != "bob" || m.Ref.ID != "U2" || k.Text("reason") != "for the soup" {
		t.Errorf("kudos args: %+v %q", m, k.Text("reason"))
	}
	v := (*calls)[2]
	want := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC) // London is UTC in December
	if v.When("when").At != want || v.Duration("duration") != 90*time.Minute || v.Int("slots") != 4 {
		t.Errorf("volunteer args: %v %v %d", v.When("when").At, v.Duration("duration"), v.Int("slots"))
	}
}

func TestEngineDiscordOptions(t *testing.T) {
	e, calls := newEngine(true)
	r := req("pledge", "")
	r.Sub, r.Options = "add", map[string]string{"amount": "10", "goal": "Plant trees", "anonymously": "true"}
	e.Do(context.Background(), r)
	if len(*calls) != 1 || (*calls)[0].Text("goal") != "Plant trees" || !(*calls)[0].Bool("anonymously") {
		t.Fatalf("discord options not bound: %+v", *calls)
	}
	r.Options = map[string]string{"goal": "x"}
	if got := text(e.Do(context.Background(), r)); !strings.Contains(got, "Missing <amount>") {
		t.Errorf("missing required option: %q", got)
	}
}

func TestEngineRefusals(t *testing.T) {
	e, calls := newEngine(false)
	ctx := context.Background()
	tests := []struct{ cmd, text, want string }{
		{"goal", `create "X" 10 trees`, "Only organisers can use /goal create"},
		{"pledge", "0 to x", "zero"},
		{"pledge", "2,5 to x", "write 2.5"},
		{"kudos", "@bob thanks", "@bob is not a mention"},
		{"win", "hi @bob", ""},
		{"log", "5 to x", "Something went wrong (ref "},
		{"pledge", "10 to x " + strings.Repeat("x", 2000), "the most a command takes is 2000"},
	}
	for _, tt := range tests {
		got := text(e.Do(ctx, req(tt.cmd, tt.text)))
		if tt.want == "" {
			continue
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("/%s %s: %q, want %q", tt.cmd, tt.text, got, tt.want)
		}
	}
	if len(*calls) != 0 {
		t.Errorf("handlers ran on bad input: %d", len(*calls))
	}
}

func TestEngineBareMentionInText(t *testing.T) {
	e, _ := newEngine(true)
	e.Handle("win", "", func(context.Context, *bot.Call) (bot.Reply, error) { return bot.Say("posted"), nil })
	got := text(e.Do(context.Background(), req("win", "thanks @bob")))
	if !strings.Contains(got, "@bob is not a mention") {
		t.Errorf("bare mention: %q", got)
	}
}

func TestEngineHelpAndUmbrella(t *testing.T) {
	e, calls := newEngine(true)
	ctx := context.Background()
	if got := text(e.Do(ctx, req("missionbot", ""))); !strings.Contains(got, "/pledge — ") || !strings.Contains(got, "/volunteer — ") {
		t.Errorf("overview: %s", got)
	}
	if got := text(e.Do(ctx, req("missionbot", "help volunteer"))); !strings.Contains(got, "/volunteer join <opportunity>") {
		t.Errorf("help volunteer: %s", got)
	}
	if got := text(e.Do(ctx, req("goal", "help"))); !strings.Contains(got, "/goal create <title> <target> <unit> [by <date>] [as <slug>]") {
		t.Errorf("goal help: %s", got)
	}
	e.Do(ctx, req("missionbot", "pledge 5 to x"))
	if len(*calls) != 1 {
		t.Errorf("umbrella did not reach /pledge")
	}
	if got := text(e.Do(ctx, req("missionbot", "nosuch"))); !strings.Contains(got, `no "nosuch" command`) {
		t.Errorf("umbrella unknown: %s", got)
	}
}

func TestEngineRoutesCelebrations(t *testing.T) {
	e, _ := newEngine(true)
	r := e.Do(context.Background(), req("win", "done"))
	if r.Messages[0].Channel.ID != "C9" {
		t.Errorf("celebration not routed: %+v", r.Messages[0])
	}
}

func TestEngineUnknownButton(t *testing.T) {
	e, _ := newEngine(true)
	r := req("", "")
	r.Action = "gone.away:3"
	if got := text(e.Do(context.Background(), r)); !strings.Contains(got, "no longer works") {
		t.Errorf("stale button: %q", got)
	}
}
