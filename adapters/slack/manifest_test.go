package slack

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/missionbot/missionbot/bot"
)

// slackManifest is the part of Slack's manifest schema the rules below read.
type slackManifest struct {
	DisplayInformation struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"display_information"`
	Features struct {
		BotUser struct {
			DisplayName string `json:"display_name"`
		} `json:"bot_user"`
		SlashCommands []struct {
			Command      string `json:"command"`
			URL          string `json:"url"`
			Description  string `json:"description"`
			UsageHint    string `json:"usage_hint"`
			ShouldEscape bool   `json:"should_escape"`
		} `json:"slash_commands"`
	} `json:"features"`
	OAuthConfig struct {
		RedirectURLs []string `json:"redirect_urls"`
		Scopes       struct {
			Bot []string `json:"bot"`
		} `json:"scopes"`
	} `json:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			RequestURL string   `json:"request_url"`
			BotEvents  []string `json:"bot_events"`
		} `json:"event_subscriptions"`
		Interactivity struct {
			IsEnabled  bool   `json:"is_enabled"`
			RequestURL string `json:"request_url"`
		} `json:"interactivity"`
		SocketModeEnabled bool `json:"socket_mode_enabled"`
	} `json:"settings"`
}

// slackRules checks a manifest against the rules Slack applies, read
// independently of checkManifest: the app and bot names, each command's
// format, length, description and usage hint, unique commands, https URLs.
func slackRules(t *testing.T, raw []byte, socket bool) slackManifest {
	t.Helper()
	var m slackManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	runes := utf8.RuneCountInString
	if n := runes(m.DisplayInformation.Name); n < 1 || n > 35 {
		t.Errorf("app name of %d characters", n)
	}
	if runes(m.DisplayInformation.Description) > 140 {
		t.Error("app description over 140 characters")
	}
	if !regexp.MustCompile(`^[a-z0-9._-]{1,80}$`).MatchString(m.Features.BotUser.DisplayName) {
		t.Errorf("bot display name %q", m.Features.BotUser.DisplayName)
	}
	cmds := m.Features.SlashCommands
	if len(cmds) == 0 || len(cmds) > 50 {
		t.Errorf("%d commands", len(cmds))
	}
	seen := map[string]bool{}
	name := regexp.MustCompile(`^/[a-z0-9][a-z0-9_-]{0,30}$`)
	for _, c := range cmds {
		if !name.MatchString(c.Command) {
			t.Errorf("command %q breaks Slack's name format", c.Command)
		}
		if seen[c.Command] {
			t.Errorf("command %q twice", c.Command)
		}
		seen[c.Command] = true
		if slices.Contains([]string{"/me", "/help", "/remind", "/status", "/msg", "/dm", "/invite", "/leave", "/join", "/topic", "/away", "/feedback", "/shrug", "/who", "/search", "/apps", "/archive", "/collapse", "/expand", "/open", "/prefs", "/rename", "/active", "/kick", "/mute", "/call", "/shortcuts"}, c.Command) {
			t.Errorf("command %q is one of Slack's", c.Command)
		}
		if n := runes(c.Description); n < 1 || n > 2000 {
			t.Errorf("%s: description of %d characters", c.Command, n)
		}
		if runes(c.UsageHint) > 1000 {
			t.Errorf("%s: usage hint over 1000 characters", c.Command)
		}
		if !c.ShouldEscape {
			t.Errorf("%s: should_escape is off; mentions would arrive as plain text", c.Command)
		}
		if socket != (c.URL == "") || !socket && !strings.HasPrefix(c.URL, "https://") {
			t.Errorf("%s: url %q in %s mode", c.Command, c.URL, map[bool]string{true: "socket", false: "http"}[socket])
		}
	}
	urls := append([]string{m.Settings.EventSubscriptions.RequestURL, m.Settings.Interactivity.RequestURL}, m.OAuthConfig.RedirectURLs...)
	for _, u := range urls {
		if socket && u != "" || !socket && !strings.HasPrefix(u, "https://") {
			t.Errorf("request URL %q in %s mode", u, map[bool]string{true: "socket", false: "http"}[socket])
		}
	}
	if m.Settings.SocketModeEnabled != socket || !m.Settings.Interactivity.IsEnabled {
		t.Errorf("settings = %+v", m.Settings)
	}
	return m
}

func TestManifestFollowsSlackRules(t *testing.T) {
	raw, err := Manifest(bot.Commands, ManifestOptions{URL: "https://bot.example.org/"})
	if err != nil {
		t.Fatal(err)
	}
	m := slackRules(t, raw, false)
	var cmds []string
	for _, c := range m.Features.SlashCommands {
		cmds = append(cmds, c.Command)
		if c.URL != "https://bot.example.org/slack/commands" {
			t.Errorf("%s url = %q", c.Command, c.URL)
		}
	}
	for _, c := range bot.Commands {
		if !slices.Contains(cmds, "/"+c.Name) {
			t.Errorf("command /%s missing", c.Name)
		}
	}
	if !slices.Contains(cmds, "/missionbot") {
		t.Error("the /missionbot umbrella is missing")
	}
	if got := m.Settings.EventSubscriptions.RequestURL; got != "https://bot.example.org/slack/events" {
		t.Errorf("events url = %q", got)
	}
	if got := m.Settings.Interactivity.RequestURL; got != "https://bot.example.org/slack/interactivity" {
		t.Errorf("interactivity url = %q", got)
	}
	if got := m.OAuthConfig.RedirectURLs; len(got) != 1 || got[0] != "https://bot.example.org/slack/oauth/callback" {
		t.Errorf("redirect urls = %q", got)
	}
	if slices.Contains(m.OAuthConfig.Scopes.Bot, "chat:write.public") {
		t.Error("chat:write.public is not needed: the bot posts where it was invited")
	}
	for _, need := range []string{"commands", "chat:write", "im:write", "users:read", "files:write", "channels:history", "app_mentions:read", "channels:read"} {
		if !slices.Contains(m.OAuthConfig.Scopes.Bot, need) {
			t.Errorf("scope %s missing", need)
		}
	}
	for _, ev := range []string{"app_mention", "member_joined_channel", "team_join", "app_uninstalled", "tokens_revoked", "user_change"} {
		if !slices.Contains(m.Settings.EventSubscriptions.BotEvents, ev) {
			t.Errorf("event %s missing", ev)
		}
	}
	golden(t, "manifest.json", raw)
}

func TestManifestSocketMode(t *testing.T) {
	raw, err := Manifest(bot.Commands, ManifestOptions{SocketMode: true, Name: "Green Street Bot"})
	if err != nil {
		t.Fatal(err)
	}
	m := slackRules(t, raw, true)
	if m.DisplayInformation.Name != "Green Street Bot" || m.Features.BotUser.DisplayName != "green-street-bot" {
		t.Errorf("names = %q / %q", m.DisplayInformation.Name, m.Features.BotUser.DisplayName)
	}
	golden(t, "manifest_socket.json", raw)
}

func TestManifestYAMLMatchesJSON(t *testing.T) {
	opts := ManifestOptions{URL: "https://bot.example.org"}
	j, err := Manifest(bot.Commands, opts)
	if err != nil {
		t.Fatal(err)
	}
	y, err := ManifestYAML(bot.Commands, opts)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON, fromYAML any
	if err := json.Unmarshal(j, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(y, &fromYAML); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromJSON)
	b, _ := json.Marshal(fromYAML)
	if string(a) != string(b) {
		t.Errorf("YAML and JSON manifests differ:\n%s\n%s", a, b)
	}
}

func TestManifestRefuses(t *testing.T) {
	with := func(cmds ...bot.Command) bot.Schema { return append(slices.Clone(bot.Commands), cmds...) }
	sub := []bot.Sub{{Summary: "x"}}
	for name, c := range map[string]struct {
		schema bot.Schema
		opts   ManifestOptions
	}{
		"reserved /remind":  {with(bot.Command{Name: "remind", Summary: "Remind", Subs: sub}), ManifestOptions{URL: "https://x.org"}},
		"reserved /help":    {with(bot.Command{Name: "help", Summary: "Help", Subs: sub}), ManifestOptions{SocketMode: true}},
		"upper case":        {with(bot.Command{Name: "Pledge2", Summary: "x", Subs: sub}), ManifestOptions{SocketMode: true}},
		"too long":          {with(bot.Command{Name: strings.Repeat("a", 32), Summary: "x", Subs: sub}), ManifestOptions{SocketMode: true}},
		"duplicate":         {with(bot.Command{Name: "pledge", Summary: "again", Subs: sub}), ManifestOptions{SocketMode: true}},
		"no description":    {with(bot.Command{Name: "quiet", Subs: sub}), ManifestOptions{SocketMode: true}},
		"plain http":        {bot.Commands, ManifestOptions{URL: "http://bot.example.org"}},
		"no URL":            {bot.Commands, ManifestOptions{}},
		"app name too long": {bot.Commands, ManifestOptions{SocketMode: true, Name: strings.Repeat("n", 36)}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Manifest(c.schema, c.opts)
			if !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("err = %v, want ErrInvalidManifest", err)
			}
			if strings.Contains(name, "reserved") && !strings.Contains(err.Error(), "reserved") {
				t.Errorf("err %q does not say the name is reserved", err)
			}
		})
	}
}

func TestNoSchemaCommandIsReserved(t *testing.T) {
	for _, c := range bot.Commands {
		if slices.Contains(reservedCommands, c.Name) {
			t.Errorf("/%s is one of Slack's built-in commands", c.Name)
		}
	}
}

func TestUsageHint(t *testing.T) {
	got := usageHint(bot.Commands.Command("pledge"))
	want := "<amount> [unit] [to] <goal> [anonymously] | list | done <id> [amount] | cancel <id>"
	if got != want {
		t.Errorf("usage hint = %q, want %q", got, want)
	}
}
