package discord

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

var convertNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func decode(t testing.TB, raw string) *discordgo.Interaction {
	t.Helper()
	var i discordgo.Interaction
	if err := json.Unmarshal([]byte(raw), &i); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return &i
}

const memberJSON = `"guild_id":"81","channel_id":"82","member":{"user":{"id":"83","username":"sam_k","global_name":"Sam K"},"nick":%s,"permissions":"%s"}`

func interactionJSON(nick, perms, data string) string {
	return `{"id":"900","type":2,"token":"t",` + strings.Replace(strings.Replace(memberJSON, "%s", nick, 1), "%s", perms, 1) + `,"data":` + data + `}`
}

func TestCommandRequest(t *testing.T) {
	cases := []struct {
		name    string
		nick    string
		perms   string
		owner   string
		data    string
		command string
		sub     string
		opts    map[string]string
		text    string
		admin   bool
		user    string
	}{
		{name: "subcommand and strings", nick: "null", perms: "0",
			data:    `{"name":"pledge","options":[{"name":"add","type":1,"options":[{"name":"amount","type":3,"value":"£10"},{"name":"goal","type":3,"value":"food-drive"}]}]}`,
			command: "pledge", sub: "add", opts: map[string]string{"amount": "£10", "goal": "food-drive"}, user: "Sam K"},
		{name: "no subcommand, nickname", nick: `"Sammy"`, perms: "0",
			data:    `{"name":"win","options":[{"name":"text","type":3,"value":"We did it"}]}`,
			command: "win", opts: map[string]string{"text": "We did it"}, user: "Sammy"},
		{name: "user option with resolved member", nick: "null", perms: "32",
			data: `{"name":"organisers","options":[{"name":"add","type":1,"options":[{"name":"member","type":6,"value":"84"}]}],` +
				`"resolved":{"users":{"84":{"id":"84","username":"ana","global_name":"Ana María"}},"members":{"84":{"nick":"Ana | Lead"}}}}`,
			command: "organisers", sub: "add", opts: map[string]string{"member": "<@84|Ana_Lead>"}, admin: true, user: "Sam K"},
		{name: "channel, integer, boolean", nick: "null", perms: "8",
			data: `{"name":"settings","options":[{"name":"x","type":1,"options":[{"name":"channel","type":7,"value":"85"},` +
				`{"name":"n","type":4,"value":10},{"name":"on","type":5,"value":true},{"name":"f","type":10,"value":2.5}]}],` +
				`"resolved":{"channels":{"85":{"id":"85","name":"wins","type":0}}}}`,
			command: "settings", sub: "x", opts: map[string]string{"channel": "<#85|wins>", "n": "10", "on": "true", "f": "2.5"}, admin: true, user: "Sam K"},
		{name: "owner without permissions is admin", nick: "null", perms: "0", owner: "83",
			data: `{"name":"goal","options":[{"name":"list","type":1}]}`, command: "goal", sub: "list", opts: map[string]string{}, admin: true, user: "Sam K"},
		{name: "umbrella help keeps its typed option (the core reads it)", nick: "null", perms: "0",
			data:    `{"name":"missionbot","options":[{"name":"help","type":1,"options":[{"name":"command","type":3,"value":"pledge"}]}]}`,
			command: "missionbot", sub: "help", opts: map[string]string{"command": "pledge"}, user: "Sam K"},
		{name: "upper case name", nick: "null", perms: "0", data: `{"name":"Leaderboard"}`, command: "leaderboard", opts: map[string]string{}, user: "Sam K"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			i := decode(t, interactionJSON(c.nick, c.perms, c.data))
			req, _, err := commandRequest(i, guildInfo{OwnerID: c.owner, Name: "Green"}, convertNow)
			if err != nil {
				t.Fatal(err)
			}
			want := bot.Request{EventID: "900", Community: bot.CommunityRef{Platform: bot.Discord, ID: "81"}, CommunityName: "Green",
				User: bot.UserRef{Platform: bot.Discord, Space: "81", ID: "83"}, UserName: c.user, Channel: bot.ChannelRef{ID: "82"},
				PlatformAdmin: c.admin, Command: c.command, Sub: c.sub, Text: c.text, Time: convertNow}
			got := req
			got.Options = nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("request\n got %+v\nwant %+v", got, want)
			}
			if !maps.Equal(req.Options, c.opts) || (c.opts != nil) != (req.Options != nil) {
				t.Fatalf("options %v, want %v", req.Options, c.opts)
			}
		})
	}
}

func TestCommandRequestRefusals(t *testing.T) {
	dm := decode(t, `{"id":"1","type":2,"token":"t","channel_id":"9","user":{"id":"83","username":"sam"},"data":{"name":"goal"}}`)
	if _, _, err := commandRequest(dm, guildInfo{}, convertNow); !errors.Is(err, errNotInGuild) {
		t.Fatalf("DM: err %v, want errNotInGuild", err)
	}
	for _, data := range []string{
		`{"name":"organisers","options":[{"name":"member","type":6,"value":{"id":"1"}}]}`,
		`{"name":"organisers","options":[{"name":"member","type":6,"value":"not-an-id"}]}`,
		`{"name":"settings","options":[{"name":"channel","type":7,"value":12}]}`,
		`{"name":"win","options":[{"name":"text","type":3,"value":["a"]}]}`,
	} {
		_, _, err := commandRequest(decode(t, interactionJSON("null", "0", data)), guildInfo{}, convertNow)
		var oe *optionError
		if !errors.As(err, &oe) {
			t.Fatalf("%s: err %v, want an optionError", data, err)
		}
		if msg := userMessage(err); !strings.Contains(msg, "<"+oe.Name+">") {
			t.Fatalf("message %q does not name the option", msg)
		}
	}
}

func TestModalAndComponentRequests(t *testing.T) {
	comp := decode(t, `{"id":"901","type":3,"token":"t",`+strings.Replace(strings.Replace(memberJSON, "%s", "null", 1), "%s", "0", 1)+
		`,"data":{"custom_id":"input|cmd:pledge {input} to #3","component_type":2}}`)
	req, wants, err := componentRequest(comp, guildInfo{}, convertNow)
	if err != nil || !wants || req.Action != "cmd:pledge {input} to #3" {
		t.Fatalf("component: %q wantsInput=%v err=%v", req.Action, wants, err)
	}
	modal := decode(t, `{"id":"902","type":5,"token":"t",`+strings.Replace(strings.Replace(memberJSON, "%s", "null", 1), "%s", "0", 1)+
		`,"data":{"custom_id":"input|cmd:pledge {input} to #3","components":[{"type":1,"components":[{"type":4,"custom_id":"value","value":"  5\n trees "}]}]}}`)
	req, err = modalRequest(modal, guildInfo{}, convertNow)
	if err != nil || req.Action != "cmd:pledge 5 trees to #3" || req.EventID != "902" {
		t.Fatalf("modal: %q (%s) err=%v", req.Action, req.EventID, err)
	}
}

// FuzzConvert feeds arbitrary interaction JSON through every conversion:
// none may panic, and what they produce must be something the core can read.
func FuzzConvert(f *testing.F) {
	f.Add(interactionJSON("null", "0", `{"name":"pledge","options":[{"name":"add","type":1,"options":[{"name":"amount","type":3,"value":"10"}]}]}`))
	f.Add(interactionJSON(`"x|y>"`, "8", `{"name":"organisers","options":[{"name":"member","type":6,"value":"84"}],"resolved":{"users":{"84":{"id":"84","username":"a b\t|c"}}}}`))
	f.Add(interactionJSON("null", "0", `{"name":"s","options":[{"name":"n","type":4,"value":1e300},{"name":"b","type":5,"value":false},{"name":"c","type":7,"value":"5"}]}`))
	f.Add(`{"id":"1","type":3,"token":"t","guild_id":"1","member":{"user":{"id":"2"},"permissions":"0"},"data":{"custom_id":"input|x"}}`)
	f.Add(`{"id":"1","type":5,"token":"t","guild_id":"1","member":{"user":{"id":"2"},"permissions":"0"},"data":{"custom_id":"a:{input}","components":[{"type":1,"components":[{"type":4,"value":"v"}]}]}}`)
	f.Add(`{"type":2,"data":null}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var i discordgo.Interaction
		if err := json.Unmarshal([]byte(raw), &i); err != nil {
			return
		}
		if !known(&i) {
			return
		}
		g := guildInfo{OwnerID: "2"}
		switch i.Type {
		case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
			req, focus, err := commandRequest(&i, g, convertNow)
			if err != nil {
				_ = userMessage(err)
				return
			}
			if focus != "" {
				if _, ok := req.Options[focus]; !ok && req.Options != nil {
					t.Fatalf("focused option %q missing from %v", focus, req.Options)
				}
			}
			data, _ := i.Data.(discordgo.ApplicationCommandInteractionData)
			checkMentions(t, data.Options, req.Options)
		case discordgo.InteractionMessageComponent:
			req, _, err := componentRequest(&i, g, convertNow)
			if err == nil && req.Action == "" {
				t.Fatal("component with no action")
			}
		case discordgo.InteractionModalSubmit:
			req, err := modalRequest(&i, g, convertNow)
			if err == nil && req.Action == "" {
				t.Fatal("modal with no action")
			}
		}
	})
}

// checkMentions asserts every USER option became one token the core's
// mention parser accepts.
func checkMentions(t *testing.T, opts []*discordgo.ApplicationCommandInteractionDataOption, got map[string]string) {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if o.Type == discordgo.ApplicationCommandOptionSubCommand || o.Type == discordgo.ApplicationCommandOptionSubCommandGroup {
			checkMentions(t, o.Options, got)
			continue
		}
		v, ok := got[o.Name]
		if !ok || o.Type != discordgo.ApplicationCommandOptionUser {
			continue
		}
		toks := bot.Tokenize(v)
		if len(toks) != 1 {
			t.Fatalf("user option %q splits into %d words", v, len(toks))
		}
		if id, _, ok := bot.ParseUserMention(toks[0].Text); !ok || id != o.Value {
			t.Fatalf("user option %q does not parse back to %v", v, o.Value)
		}
	}
}
