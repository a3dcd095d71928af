package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/missionbot/missionbot/bot"
)

// ErrInvalidManifest marks a manifest that Slack would refuse: a reserved or
// malformed command name, a text over Slack's limits, a URL that is not https.
var ErrInvalidManifest = errors.New("invalid slack app manifest")

// ManifestOptions says how the app is reached.
type ManifestOptions struct {
	// URL is the public https base URL of the serve port; the manifest
	// points Slack at URL/slack/commands, /slack/events,
	// /slack/interactivity and /slack/oauth/callback. Ignored with SocketMode.
	URL string
	// SocketMode declares a Socket Mode app: no request URLs at all (the app
	// connects out with an app-level token holding connections:write).
	SocketMode bool
	// Name is the app's name in Slack; empty means "missionbot".
	Name string
}

// Paths the manifest points Slack at, under ManifestOptions.URL.
const (
	CommandsPath      = "/slack/commands"
	EventsPath        = "/slack/events"
	InteractivityPath = "/slack/interactivity"
	InstallPath       = "/slack/install"
	OAuthCallbackPath = "/slack/oauth/callback"
)

// botScopes are the bot token scopes missionbot needs, and no more:
//
//   - commands: the slash commands.
//   - chat:write: replies, public posts and DMs. Not chat:write.public: the
//     bot posts only in channels it was invited to, so that an organiser
//     chooses where it speaks and Find can read back what it posted; a post
//     to a channel it is not in fails with not_in_channel (permanent), and
//     the organisers are told to invite it.
//   - im:write: open a DM (welcomes, reminders, exports).
//   - files:write: upload exports (the external upload flow).
//   - users:read: a member's name and admin/owner flag (users.info), and the
//     team_join and user_change events.
//   - app_mentions:read: the app_mention event (answered with help).
//   - channels:read: the member_joined_channel event in public channels.
//   - channels:history, groups:history, im:history: conversations.history,
//     to look once for a post whose outcome was unknown (Poster.Find) in a
//     public channel, a private channel or a DM.
var botScopes = []string{
	"app_mentions:read", "channels:history", "channels:read", "chat:write", "commands",
	"files:write", "groups:history", "im:history", "im:write", "users:read",
}

// botEvents are the bot events subscribed to. app_uninstalled and
// tokens_revoked need no scope.
var botEvents = []string{
	"app_mention", "app_uninstalled", "member_joined_channel", "team_join", "tokens_revoked", "user_change",
}

// reservedCommands are Slack's built-in slash commands (best effort): a
// manifest declaring one of them is refused whole.
var reservedCommands = []string{
	"active", "apps", "archive", "away", "call", "canvas", "clear", "close", "collapse", "dm",
	"dnd", "expand", "feed", "feedback", "help", "huddle", "invite", "invite_people", "join",
	"kick", "leave", "list", "me", "msg", "mute", "open", "prefs", "remind", "remindme", "remove",
	"rename", "search", "shortcuts", "shrug", "skype", "star", "status", "topic", "who",
}

var (
	commandName = regexp.MustCompile(`^/[a-z0-9][a-z0-9_-]*$`)
	botName     = regexp.MustCompile(`^[a-z0-9._-]+$`)
)

// The manifest's shape (api.slack.com/reference/manifests). Field order is
// the order Slack's own examples use.
type manifest struct {
	Metadata           manifestMetadata `json:"_metadata" yaml:"_metadata"`
	DisplayInformation displayInfo      `json:"display_information" yaml:"display_information"`
	Features           features         `json:"features" yaml:"features"`
	OAuthConfig        oauthConfig      `json:"oauth_config" yaml:"oauth_config"`
	Settings           settings         `json:"settings" yaml:"settings"`
}

type manifestMetadata struct {
	MajorVersion int `json:"major_version" yaml:"major_version"`
	MinorVersion int `json:"minor_version" yaml:"minor_version"`
}

type displayInfo struct {
	Name            string `json:"name" yaml:"name"`
	Description     string `json:"description" yaml:"description"`
	BackgroundColor string `json:"background_color" yaml:"background_color"`
}

type features struct {
	AppHome       appHome        `json:"app_home" yaml:"app_home"`
	BotUser       botUser        `json:"bot_user" yaml:"bot_user"`
	SlashCommands []slashCommand `json:"slash_commands" yaml:"slash_commands"`
}

type appHome struct {
	HomeTabEnabled             bool `json:"home_tab_enabled" yaml:"home_tab_enabled"`
	MessagesTabEnabled         bool `json:"messages_tab_enabled" yaml:"messages_tab_enabled"`
	MessagesTabReadOnlyEnabled bool `json:"messages_tab_read_only_enabled" yaml:"messages_tab_read_only_enabled"`
}

type botUser struct {
	DisplayName  string `json:"display_name" yaml:"display_name"`
	AlwaysOnline bool   `json:"always_online" yaml:"always_online"`
}

type slashCommand struct {
	Command      string `json:"command" yaml:"command"`
	URL          string `json:"url,omitempty" yaml:"url,omitempty"`
	Description  string `json:"description" yaml:"description"`
	UsageHint    string `json:"usage_hint,omitempty" yaml:"usage_hint,omitempty"`
	ShouldEscape bool   `json:"should_escape" yaml:"should_escape"`
}

type oauthConfig struct {
	RedirectURLs []string    `json:"redirect_urls,omitempty" yaml:"redirect_urls,omitempty"`
	Scopes       oauthScopes `json:"scopes" yaml:"scopes"`
}

type oauthScopes struct {
	Bot []string `json:"bot" yaml:"bot"`
}

type settings struct {
	EventSubscriptions   eventSubscriptions `json:"event_subscriptions" yaml:"event_subscriptions"`
	Interactivity        interactivity      `json:"interactivity" yaml:"interactivity"`
	OrgDeployEnabled     bool               `json:"org_deploy_enabled" yaml:"org_deploy_enabled"`
	SocketModeEnabled    bool               `json:"socket_mode_enabled" yaml:"socket_mode_enabled"`
	TokenRotationEnabled bool               `json:"token_rotation_enabled" yaml:"token_rotation_enabled"`
}

type eventSubscriptions struct {
	RequestURL string   `json:"request_url,omitempty" yaml:"request_url,omitempty"`
	BotEvents  []string `json:"bot_events" yaml:"bot_events"`
}

type interactivity struct {
	IsEnabled  bool   `json:"is_enabled" yaml:"is_enabled"`
	RequestURL string `json:"request_url,omitempty" yaml:"request_url,omitempty"`
}

// Manifest returns the Slack app manifest (JSON, indented) for schema: every
// top-level command and the /missionbot umbrella as slash commands with
// should_escape (mentions arrive as <@U…|name>), the bot scopes and events
// the adapter uses, and either request URLs under opts.URL or the Socket
// Mode form. It refuses, wrapping ErrInvalidManifest, anything Slack would
// refuse: a reserved or malformed command name, a duplicate, a text over
// Slack's limits, a URL that is not https.
func Manifest(schema bot.Schema, opts ManifestOptions) ([]byte, error) {
	m, err := buildManifest(schema, opts)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return b.Bytes(), nil
}

// ManifestYAML is Manifest in YAML, the other format Slack's "create app
// from manifest" accepts.
func ManifestYAML(schema bot.Schema, opts ManifestOptions) ([]byte, error) {
	m, err := buildManifest(schema, opts)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return b.Bytes(), nil
}

func buildManifest(schema bot.Schema, opts ManifestOptions) (*manifest, error) {
	name := strings.TrimSpace(opts.Name)
	if name == "" {
		name = "missionbot"
	}
	base := ""
	if !opts.SocketMode {
		u, err := url.Parse(strings.TrimSpace(opts.URL))
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%w: URL %q: Slack needs the public https base URL of the bot, e.g. https://bot.example.org (or Socket Mode)", ErrInvalidManifest, opts.URL)
		}
		base = strings.TrimRight(u.String(), "/")
	}
	at := func(path string) string {
		if base == "" {
			return ""
		}
		return base + path
	}
	m := &manifest{
		Metadata: manifestMetadata{MajorVersion: 1, MinorVersion: 1},
		DisplayInformation: displayInfo{
			Name:            name,
			Description:     "Pledges, goals, volunteering, wins and a weekly impact digest for mission-driven communities.",
			BackgroundColor: "#2e6b3f",
		},
		Features: features{
			AppHome: appHome{MessagesTabEnabled: true, MessagesTabReadOnlyEnabled: true},
			BotUser: botUser{DisplayName: botDisplayName(name), AlwaysOnline: true},
		},
		OAuthConfig: oauthConfig{Scopes: oauthScopes{Bot: slices.Clone(botScopes)}},
		Settings: settings{
			EventSubscriptions: eventSubscriptions{RequestURL: at(EventsPath), BotEvents: slices.Clone(botEvents)},
			Interactivity:      interactivity{IsEnabled: true, RequestURL: at(InteractivityPath)},
			SocketModeEnabled:  opts.SocketMode,
		},
	}
	if base != "" {
		m.OAuthConfig.RedirectURLs = []string{at(OAuthCallbackPath)}
	}
	umbrella := false
	for i := range schema {
		c := &schema[i]
		hint := usageHint(c)
		if c.Name == bot.Umbrella {
			umbrella, hint = true, umbrellaHint
		}
		m.Features.SlashCommands = append(m.Features.SlashCommands, slashCommand{
			Command: "/" + c.Name, URL: at(CommandsPath), Description: oneLine(c.Summary),
			UsageHint: hint, ShouldEscape: true,
		})
	}
	if !umbrella {
		m.Features.SlashCommands = append(m.Features.SlashCommands, slashCommand{
			Command: "/" + bot.Umbrella, URL: at(CommandsPath), Description: "Every missionbot command, and help",
			UsageHint: umbrellaHint, ShouldEscape: true,
		})
	}
	if err := checkManifest(m); err != nil {
		return nil, err
	}
	return m, nil
}

// umbrellaHint is the usage hint of /missionbot, which reaches every
// command as well as help.
const umbrellaHint = "help [command] | <command> …"

// botDisplayName turns the app name into a bot user name Slack accepts.
func botDisplayName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "missionbot"
	}
	return b.String()
}

// usageHint lists a command's forms: the default subcommand's options
// first (typed text reaches it without its name), then each other
// subcommand, "list | done <id> [amount] | …", cut at MaxUsageHintLen.
func usageHint(c *bot.Command) string {
	var forms []string
	def := c.DefaultSub()
	if def != nil {
		if f := strings.TrimSpace(strings.TrimPrefix(bot.Usage(c, def), "/"+c.Name)); f != "" {
			forms = append(forms, strings.TrimSpace(strings.TrimPrefix(f, def.Name)))
		}
	}
	for i := range c.Subs {
		s := &c.Subs[i]
		if s == def && s.Name == "" {
			continue
		}
		if s == def && len(s.Options) > 0 {
			continue // shown first, without its name
		}
		forms = append(forms, strings.TrimSpace(strings.TrimPrefix(bot.Usage(c, s), "/"+c.Name)))
	}
	var out string
	for _, f := range forms {
		if f == "" {
			continue
		}
		next := f
		if out != "" {
			next = out + " | " + f
		}
		if utf8.RuneCountInString(next) > MaxUsageHintLen {
			break
		}
		out = next
	}
	return out
}

// checkManifest applies the rules Slack applies when it reads a manifest.
func checkManifest(m *manifest) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidManifest, fmt.Sprintf(format, args...))
	}
	runes := utf8.RuneCountInString
	if n := runes(m.DisplayInformation.Name); n == 0 || n > MaxAppNameLen {
		return bad("app name %q: 1 to %d characters", m.DisplayInformation.Name, MaxAppNameLen)
	}
	if runes(m.DisplayInformation.Description) > MaxAppDescriptionLen {
		return bad("app description longer than %d characters", MaxAppDescriptionLen)
	}
	if n := runes(m.Features.BotUser.DisplayName); n == 0 || n > MaxBotNameLen || !botName.MatchString(m.Features.BotUser.DisplayName) {
		return bad("bot name %q: 1 to %d of a-z 0-9 . _ -", m.Features.BotUser.DisplayName, MaxBotNameLen)
	}
	cmds := m.Features.SlashCommands
	if len(cmds) == 0 || len(cmds) > MaxSlashCommands {
		return bad("%d slash commands: 1 to %d", len(cmds), MaxSlashCommands)
	}
	seen := map[string]bool{}
	for _, c := range cmds {
		switch {
		case !commandName.MatchString(c.Command) || runes(c.Command) > MaxCommandLen:
			return bad("command %q: lower-case letters, digits, - and _, at most %d characters with the /", c.Command, MaxCommandLen)
		case slices.Contains(reservedCommands, strings.TrimPrefix(c.Command, "/")):
			return bad("command %q is reserved by Slack", c.Command)
		case seen[c.Command]:
			return bad("command %q declared twice", c.Command)
		case runes(c.Description) == 0 || runes(c.Description) > MaxCommandDescriptionLen:
			return bad("command %q: description of 1 to %d characters", c.Command, MaxCommandDescriptionLen)
		case runes(c.UsageHint) > MaxUsageHintLen:
			return bad("command %q: usage hint longer than %d characters", c.Command, MaxUsageHintLen)
		case !m.Settings.SocketModeEnabled && !isHTTPS(c.URL):
			return bad("command %q: request URL %q is not https", c.Command, c.URL)
		case m.Settings.SocketModeEnabled && c.URL != "":
			return bad("command %q: a Socket Mode app has no request URL", c.Command)
		}
		seen[c.Command] = true
	}
	urls := []string{m.Settings.EventSubscriptions.RequestURL, m.Settings.Interactivity.RequestURL}
	urls = append(urls, m.OAuthConfig.RedirectURLs...)
	for _, u := range urls {
		if m.Settings.SocketModeEnabled && u != "" {
			return bad("a Socket Mode app has no request URL (found %q)", u)
		}
		if !m.Settings.SocketModeEnabled && !isHTTPS(u) {
			return bad("request URL %q is not https", u)
		}
	}
	return nil
}

func isHTTPS(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}
