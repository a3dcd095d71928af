package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

// gatewayInteraction decodes body as the gateway's INTERACTION_CREATE
// event and hands it to the adapter, as discordgo would.
func (e *env) gatewayInteraction(body []byte) {
	e.t.Helper()
	var ic discordgo.InteractionCreate
	if err := json.Unmarshal(body, &ic); err != nil {
		e.t.Fatalf("decode interaction: %v", err)
	}
	e.a.onInteraction(context.Background(), &ic)
	e.a.inflight.Wait()
}

func memberEvent(t testing.TB, user, name, joinedAt string) *discordgo.Member {
	t.Helper()
	raw := `{"guild_id":"` + testGuild + `","user":{"id":"` + user + `","username":"` + name + `","discriminator":"0"},` +
		`"nick":null,"roles":[],"joined_at":"` + joinedAt + `","deaf":false,"mute":false}`
	var m discordgo.GuildMemberAdd
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("decode member: %v", err)
	}
	return m.Member
}

func TestGatewayInteractionIsAnsweredThroughTheCallback(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *Config) { c.Mode = ModeGateway })
	id, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM, command("missionbot", sub("help")))
	e.gatewayInteraction(body)
	calls := e.fake.Calls(fakediscord.RouteCallback)
	if len(calls) != 1 || !strings.Contains(calls[0].Path, id) {
		t.Fatalf("callbacks %d, want one for interaction %s", len(calls), id)
	}
	var resp struct {
		Type int `json:"type"`
		Data struct {
			Flags  int                       `json:"flags"`
			Embeds []*discordgo.MessageEmbed `json:"embeds"`
		} `json:"data"`
	}
	_ = json.Unmarshal(calls[0].Body, &resp)
	if resp.Type != 4 || resp.Data.Flags != 64 || len(resp.Data.Embeds) == 0 {
		t.Fatalf("callback %s, want a private embed (type 4, flags 64)", calls[0].Body)
	}
	// A resume redelivers it: nothing more is sent.
	e.gatewayInteraction(body)
	if n := len(e.fake.Calls(fakediscord.RouteCallback)); n != 1 {
		t.Fatalf("%d callbacks after a redelivery, want 1", n)
	}
}

func TestExportIsAttachedToTheDeferredResponse(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *Config) { c.Mode = ModeGateway })
	e.createGoal()
	e.run(aliceM, command("log", sub("add", str("amount", "5"), str("goal", "plant-1000-trees"))))
	id, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM, command("myimpact", sub("export")))
	e.gatewayInteraction(body)
	orig, ok := e.fake.Original("tok-" + id)
	if !ok {
		t.Fatal("no response to the export")
	}
	if len(orig.Files) != 1 || orig.Files[0].Name != "missionbot-my-data.json" || len(orig.Files[0].Data) == 0 {
		t.Fatalf("original has %d files, want the export attached", len(orig.Files))
	}
	if orig.Msg.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("export response flags %d, want ephemeral", orig.Msg.Flags)
	}
}

func TestMemberJoinRedeliveredWelcomesOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnvOn(t, s, func(c *Config) { c.Mode = ModeGateway; c.MembersIntent = true })
		e.run(oliveM, command("mission", sub("set", str("text", "Every street green by 2030"))))
		m := memberEvent(t, alice, "alice", "2026-11-25T10:00:00.000000+00:00")
		for range 2 {
			e.a.onMemberAdd(context.Background(), &discordgo.GuildMemberAdd{Member: m})
			e.a.inflight.Wait()
		}
		dms := e.fake.Messages(e.fake.DMChannel(alice))
		if len(dms) != 1 {
			t.Fatalf("%d welcome DMs, want 1", len(dms))
		}
		mustContain(t, "welcome", messageText(dms[0].Msg), "Welcome to Green Streets, alice")
	})
}

// TestMemberJoinDuringShutdownIsStillWelcomed: a join delivered as the
// gateway shuts down (its context already cancelled) is recorded and
// welcomed, not cut short.
func TestMemberJoinDuringShutdownIsStillWelcomed(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *Config) { c.Mode = ModeGateway; c.MembersIntent = true })
	e.run(oliveM, command("mission", sub("set", str("text", "Every street green by 2030"))))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e.a.onMemberAdd(ctx, &discordgo.GuildMemberAdd{Member: memberEvent(t, alice, "alice", "2026-11-25T10:00:00.000000+00:00")})
	e.a.inflight.Wait()
	dms := e.fake.Messages(e.fake.DMChannel(alice))
	if len(dms) != 1 {
		t.Fatalf("%d welcome DMs, want 1", len(dms))
	}
	mustContain(t, "welcome", messageText(dms[0].Msg), "Welcome to Green Streets, alice")
}

func TestMemberLeavingDropsOffTheLeaderboard(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnvOn(t, s, func(c *Config) { c.Mode = ModeGateway; c.MembersIntent = true })
		e.createGoal()
		e.run(aliceM, command("log", sub("add", str("amount", "5"), str("goal", "plant-1000-trees"))))
		e.run(bobM, command("log", sub("add", str("amount", "3"), str("goal", "plant-1000-trees"))))
		before := e.run(oliveM, command("leaderboard", str("goal", "plant-1000-trees"))).text()
		mustContain(t, "leaderboard", before, "<@"+alice+">")
		e.a.onMemberRemove(context.Background(), &discordgo.GuildMemberRemove{Member: memberEvent(t, alice, "alice", "2026-01-01T10:00:00Z")})
		after := e.run(oliveM, command("leaderboard", str("goal", "plant-1000-trees"))).text()
		if strings.Contains(after, "<@"+alice+">") || !strings.Contains(after, "<@"+bob+">") {
			t.Fatalf("leaderboard after alice left:\n%s\nwant bob and not alice", after)
		}
	})
}

func TestSessionFollowsConfig(t *testing.T) {
	s := testdb.Open(t, "sqlite")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	coord := memory.New(memory.Options{})
	clock := bot.NewManualClock(time.Now())
	deps := Deps{Engine: bot.NewEngine(bot.Commands, s, clock, log), Coord: coord, Clock: clock, Log: log, State: s}
	a, err := New(Config{BotToken: "t", ApplicationID: testApp, ShardID: 2, ShardCount: 4}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if a.session.Identify.Intents != discordgo.IntentsGuilds || a.session.ShardID != 2 || a.session.ShardCount != 4 {
		t.Fatalf("intents %d shard %d/%d, want guilds only, shard 2/4", a.session.Identify.Intents, a.session.ShardID, a.session.ShardCount)
	}
	a, err = New(Config{BotToken: "t", ApplicationID: testApp, MembersIntent: true}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if a.session.Identify.Intents != discordgo.IntentsGuilds|discordgo.IntentsGuildMembers || a.session.ShardCount != 1 {
		t.Fatalf("intents %d shards %d, want guilds + members, 1 shard", a.session.Identify.Intents, a.session.ShardCount)
	}
	for name, cfg := range map[string]Config{
		"no token":           {ApplicationID: testApp},
		"http without key":   {BotToken: "t", ApplicationID: testApp, Mode: ModeHTTP},
		"bad key":            {BotToken: "t", ApplicationID: testApp, PublicKey: "abc"},
		"bad mode":           {BotToken: "sekrit-token", ApplicationID: testApp, Mode: "websocket"},
		"shard out of range": {BotToken: "t", ApplicationID: testApp, ShardID: 4, ShardCount: 4},
	} {
		if _, err := New(cfg, deps); err == nil {
			t.Errorf("%s: New accepted it", name)
		} else if strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%s: error %q shows the token", name, err)
		}
	}
}

func TestCommandsAreRegisteredOnlyWhenChanged(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.a.ensureCommands(context.Background())
	e.a.onReady(context.Background(), &discordgo.Ready{})
	if n := len(e.fake.Calls(fakediscord.RouteGlobalCommands)); n != 1 {
		t.Fatalf("%d registrations over two starts, want 1", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.a.Run(ctx); err != nil {
		t.Fatalf("Run after its context ended: %v", err)
	}
}

func TestGatewayRunReportsAnUnreachableGatewayWithoutTheToken(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *Config) { c.Mode = ModeGateway })
	err := e.a.Run(context.Background())
	if err == nil {
		t.Fatal("Run succeeded without a gateway")
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatalf("error %q shows the token", err)
	}
}

func TestScrubHidesTheTokenAndKeepsTheChain(t *testing.T) {
	base := errors.New("GET https://x/?t=" + testToken + " failed")
	err := scrub(fmt.Errorf("open: %w", base), testToken)
	if strings.Contains(err.Error(), testToken) || !errors.Is(err, base) {
		t.Fatalf("scrub = %q (chain kept: %v)", err, errors.Is(err, base))
	}
}
