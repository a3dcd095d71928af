package discord

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

var _ StateStore = (*storage.Store)(nil)

const testAppID = "800000000000000001"

func fakeSession(t testing.TB, srv *fakediscord.Server, token string) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New(token)
	if err != nil {
		t.Fatal(err)
	}
	s.Client = srv.Client()
	return s
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestCommandsFollowDiscordRules(t *testing.T) {
	cmds := Commands(bot.Commands)
	if p := fakediscord.CheckCommands(cmds); len(p) > 0 {
		t.Fatalf("Discord would reject the commands:\n%v", p)
	}
	if len(cmds) != len(bot.Commands) {
		t.Fatalf("%d commands, want one per schema command (%d)", len(cmds), len(bot.Commands))
	}
	byName := map[string]*discordgo.ApplicationCommand{}
	for _, c := range cmds {
		byName[c.Name] = c
		if c.DefaultMemberPermissions != nil {
			t.Errorf("/%s sets default_member_permissions; organisers the core adds would be locked out", c.Name)
		}
	}
	sub := func(cmd, name string) *discordgo.ApplicationCommandOption {
		t.Helper()
		for _, o := range byName[cmd].Options {
			if o.Name == name && o.Type == discordgo.ApplicationCommandOptionSubCommand {
				return o
			}
		}
		t.Fatalf("/%s has no subcommand %q", cmd, name)
		return nil
	}
	opt := func(opts []*discordgo.ApplicationCommandOption, name string) *discordgo.ApplicationCommandOption {
		t.Helper()
		for _, o := range opts {
			if o.Name == name {
				return o
			}
		}
		t.Fatalf("no option %q", name)
		return nil
	}

	// The default subcommand is explicit: /pledge add, /goal list, /mission show.
	add := sub("pledge", "add")
	sub("goal", "list")
	sub("mission", "show")
	if o := opt(add.Options, "amount"); o.Type != discordgo.ApplicationCommandOptionString || !o.Required {
		t.Errorf("pledge amount = %+v, want a required STRING (the core parses amounts)", o)
	}
	if add.Options[0].Name != "amount" {
		t.Errorf("pledge add options start with %q, want the required amount first", add.Options[0].Name)
	}
	if o := opt(add.Options, "goal"); !o.Autocomplete || o.Type != discordgo.ApplicationCommandOptionString {
		t.Errorf("pledge goal = %+v, want autocompleted STRING", o)
	}
	if o := opt(add.Options, "anonymously"); o.Type != discordgo.ApplicationCommandOptionBoolean {
		t.Errorf("pledge anonymously = %+v, want BOOLEAN", o)
	}
	if o := opt(sub("volunteer", "hours").Options, "for"); !o.Autocomplete {
		t.Errorf("volunteer hours for = %+v, want autocomplete (opportunity or goal)", o)
	}
	if o := opt(sub("organisers", "add").Options, "member"); o.Type != discordgo.ApplicationCommandOptionUser {
		t.Errorf("organisers add member = %+v, want USER", o)
	}
	if o := opt(sub("volunteer", "attended").Options, "members"); o.Type != discordgo.ApplicationCommandOptionString {
		t.Errorf("attended members = %+v, want STRING of mentions", o)
	}
	if o := opt(sub("settings", "digest-channel").Options, "channel"); o.Type != discordgo.ApplicationCommandOptionChannel {
		t.Errorf("digest-channel = %+v, want CHANNEL", o)
	}
	if o := opt(sub("settings", "retention").Options, "days"); o.Type != discordgo.ApplicationCommandOptionInteger {
		t.Errorf("retention days = %+v, want INTEGER", o)
	}
	if o := opt(sub("settings", "digest").Options, "value"); len(o.Choices) != 2 || o.Choices[0].Value != "on" || o.Choices[1].Value != "off" {
		t.Errorf("settings digest value = %+v, want choices on/off", o)
	}
	// A command without subcommands takes its options directly.
	lb := byName["leaderboard"]
	if o := opt(lb.Options, "period"); len(o.Choices) != 3 || o.Type != discordgo.ApplicationCommandOptionString {
		t.Errorf("leaderboard period = %+v, want STRING choices week/month/all", o)
	}
	for _, o := range byName["kudos"].Options {
		if o.Type == discordgo.ApplicationCommandOptionSubCommand {
			t.Errorf("/kudos has a subcommand %q; it has none in the schema", o.Name)
		}
	}
	// The umbrella answers help, offering every command.
	help := opt(sub(bot.Umbrella, "help").Options, "command")
	if len(help.Choices) != len(bot.Commands)-1 {
		t.Errorf("/missionbot help offers %d commands, want %d", len(help.Choices), len(bot.Commands)-1)
	}
}

func TestCommandsAreDeterministic(t *testing.T) {
	a, _ := CommandsHash(Commands(bot.Commands))
	b, _ := CommandsHash(Commands(bot.Commands))
	if a != b || len(a) != 64 {
		t.Fatalf("hashes %q and %q", a, b)
	}
}

func TestEnsureRegistersOnlyWhenChanged(t *testing.T) {
	testdb.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		srv := fakediscord.New(t)
		srv.SetLimit(fakediscord.RouteGlobalCommands, fakediscord.Limit{})
		coord := memory.New(memory.Options{})
		clock := bot.NewManualClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		r := NewRegistrar(fakeSession(t, srv, "Bot test-token"), testAppID, "", store, coord, clock, quietLog())

		if did, err := r.Ensure(ctx); err != nil || !did {
			t.Fatalf("first Ensure = %v, %v; want registered", did, err)
		}
		if got := srv.Commands(testAppID, ""); len(got) != len(bot.Commands) {
			t.Fatalf("Discord holds %d global commands, want %d", len(got), len(bot.Commands))
		}
		if did, err := r.Ensure(ctx); err != nil || did {
			t.Fatalf("second Ensure = %v, %v; want skipped", did, err)
		}
		if n := len(srv.Calls("")); n != 1 {
			t.Fatalf("%d calls to Discord after an unchanged Ensure, want 1", n)
		}

		changed := slices.Clone(bot.Commands)
		changed[0].Summary = "What we are here for"
		r.Schema = changed
		if did, err := r.Ensure(ctx); err != nil || !did {
			t.Fatalf("Ensure after a schema change = %v, %v; want registered", did, err)
		}
		if got := srv.Commands(testAppID, "")[0].Description; got != "What we are here for" {
			t.Errorf("registered description %q", got)
		}

		// A restart (new registrar, same database) skips too.
		r2 := NewRegistrar(fakeSession(t, srv, "Bot test-token"), testAppID, "", store, coord, clock, quietLog())
		r2.Schema = changed
		if did, err := r2.Ensure(ctx); err != nil || did {
			t.Fatalf("Ensure after restart = %v, %v; want skipped", did, err)
		}
		if n := len(srv.Calls(fakediscord.RouteGlobalCommands)); n != 2 {
			t.Errorf("%d registrations, want 2", n)
		}
	})
}

func TestEnsureInGuildAndForce(t *testing.T) {
	ctx := context.Background()
	srv := fakediscord.New(t)
	store := testdb.Open(t, "sqlite")
	coord := memory.New(memory.Options{})
	r := NewRegistrar(fakeSession(t, srv, "Bot test-token"), testAppID, "700000000000000007", store, coord, bot.SystemClock{}, quietLog())
	if did, err := r.Ensure(ctx); err != nil || !did {
		t.Fatalf("Ensure = %v, %v", did, err)
	}
	if len(srv.Calls(fakediscord.RouteGuildCommands)) != 1 || len(srv.Commands(testAppID, "700000000000000007")) == 0 {
		t.Fatalf("commands not registered in the guild: %v", srv.Calls(""))
	}
	if v, ok, _ := store.State(ctx, "discord.commands."+testAppID+".700000000000000007"); !ok || len(v) != 64 {
		t.Fatalf("hash not kept: %q %v", v, ok)
	}
	if did, err := r.Register(ctx); err != nil || !did {
		t.Fatalf("Register = %v, %v; want a forced registration", did, err)
	}
	if n := len(srv.Calls(fakediscord.RouteGuildCommands)); n != 2 {
		t.Errorf("%d registrations, want 2", n)
	}
}

func TestConcurrentEnsureRegistersOnce(t *testing.T) {
	ctx := context.Background()
	srv := fakediscord.New(t)
	store := testdb.Open(t, "sqlite")
	coord := memory.New(memory.Options{})
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([]bool, 4)
	for i := range results {
		r := NewRegistrar(fakeSession(t, srv, "Bot test-token"), testAppID, "", store, coord, bot.SystemClock{}, quietLog())
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			did, err := r.Ensure(ctx)
			if err != nil {
				t.Error(err)
			}
			results[i] = did
		}()
	}
	close(start)
	wg.Wait()
	if n := len(srv.Calls(fakediscord.RouteGlobalCommands)); n != 1 {
		t.Fatalf("%d registrations by 4 replicas, want 1", n)
	}
	if n := countTrue(results); n != 1 {
		t.Errorf("%d replicas report registering, want 1", n)
	}
}

func TestEnsureFailureIsRetriedNextTime(t *testing.T) {
	ctx := context.Background()
	srv := fakediscord.New(t)
	store := testdb.Open(t, "sqlite")
	r := NewRegistrar(fakeSession(t, srv, "Bot test-token"), testAppID, "", store, memory.New(memory.Options{}), bot.SystemClock{}, quietLog())
	srv.FailNext(fakediscord.RouteGlobalCommands, 500, 0, "500: Internal Server Error")
	if did, err := r.Ensure(ctx); err == nil || did {
		t.Fatalf("Ensure against a 500 = %v, %v; want an error", did, err)
	}
	if did, err := r.Ensure(ctx); err != nil || !did {
		t.Fatalf("next Ensure = %v, %v; want registered", did, err)
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func TestInviteURLAsksOnlyForWhatTheBotNeeds(t *testing.T) {
	u, err := url.Parse(InviteURL(testAppID, ""))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Host != "discord.com" || u.Path != "/oauth2/authorize" || q.Get("client_id") != testAppID || q.Get("scope") != "bot applications.commands" {
		t.Fatalf("invite URL %s", u)
	}
	perms, _ := strconv.ParseInt(q.Get("permissions"), 10, 64)
	want := map[int64]string{
		discordgo.PermissionViewChannel: "View Channels", discordgo.PermissionSendMessages: "Send Messages",
		discordgo.PermissionEmbedLinks: "Embed Links", discordgo.PermissionAttachFiles: "Attach Files",
		discordgo.PermissionUseApplicationCommands: "Use Application Commands",
	}
	var all int64
	for bit, name := range want {
		if perms&bit == 0 {
			t.Errorf("permissions %d lack %s", perms, name)
		}
		all |= bit
	}
	if perms&^all != 0 {
		t.Errorf("permissions %d ask for more than the bot needs (extra bits %b)", perms, perms&^all)
	}
	if q := mustQuery(t, InviteURL(testAppID, "700000000000000007")); q.Get("guild_id") != "700000000000000007" {
		t.Errorf("guild not preselected: %v", q)
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
