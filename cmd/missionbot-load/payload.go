package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// Platforms the tool drives.
const (
	platformSlack   = "slack"
	platformDiscord = "discord"
)

// command is one thing a member types, in both platforms' shapes: Slack's
// slash command and text, Discord's command, subcommand and options.
type command struct {
	Kind   string // the mix entry it came from: pledge, log, win, impact, setup
	Name   string // top-level command without the slash
	Text   string // Slack: the text after the command
	Sub    string // Discord: the subcommand, "" for none
	Option []option
	// Effect names the table a successful run adds one row to, "" for none.
	Effect string
}

// option is one Discord string option.
type option struct{ Name, Value string }

// Tables commands write to, as counted by countEffects.
const (
	effectPledge = "pledges"
	effectLog    = "contributions"
	effectWin    = "wins"
)

// goalSlug is the slug of the goal every load community pledges and logs to.
const goalSlug = "trees"

// setupCommand creates the goal the mix's pledges and logs go to.
func setupCommand() command {
	return command{Kind: "setup", Name: "goal", Sub: "create",
		Text:   `create "Load trees" 1000000000 trees as ` + goalSlug,
		Option: []option{{"title", "Load trees"}, {"target", "1000000000"}, {"unit", "trees"}, {"slug", goalSlug}}}
}

// mixCommand returns the command of kind for request n. Kinds are pledge,
// log, win and impact.
func mixCommand(kind string, n int64) (command, error) {
	switch kind {
	case "pledge":
		return command{Kind: kind, Name: "pledge", Sub: "add", Text: "1 tree to " + goalSlug, Effect: effectPledge,
			Option: []option{{"amount", "1"}, {"unit", "tree"}, {"goal", goalSlug}}}, nil
	case "log":
		return command{Kind: kind, Name: "log", Sub: "add", Text: "1 tree to " + goalSlug + " load " + strconv.FormatInt(n, 10), Effect: effectLog,
			Option: []option{{"amount", "1"}, {"unit", "tree"}, {"goal", goalSlug}, {"note", "load " + strconv.FormatInt(n, 10)}}}, nil
	case "win":
		text := "Load win " + strconv.FormatInt(n, 10)
		return command{Kind: kind, Name: "win", Text: text, Effect: effectWin, Option: []option{{"text", text}}}, nil
	case "impact":
		return command{Kind: kind, Name: "impact", Sub: "show"}, nil
	}
	return command{}, fmt.Errorf("unknown command %q in --mix (want pledge, log, win, impact)", kind)
}

// actor is who sends a command, and where.
type actor struct {
	Platform  string
	Community string // Slack team id or Discord guild id
	Channel   string
	User      string
	UserName  string
	Organiser bool
}

// slackForm is the urlencoded body of a slash command as Slack sends it.
// id makes trigger_id (the adapter's delivery id) unique; responseBase is
// where response_url points.
func slackForm(a actor, c command, id int64, responseBase string) []byte {
	v := url.Values{}
	v.Set("token", "load-verification-token")
	v.Set("team_id", a.Community)
	v.Set("team_domain", "load-"+a.Community)
	v.Set("channel_id", a.Channel)
	v.Set("channel_name", "general")
	v.Set("user_id", a.User)
	v.Set("user_name", a.UserName)
	v.Set("command", "/"+c.Name)
	v.Set("text", c.Text)
	v.Set("api_app_id", "ALOAD")
	v.Set("is_enterprise_install", "false")
	v.Set("response_url", fmt.Sprintf("%s/commands/%s/%d/load", responseBase, a.Community, id))
	v.Set("trigger_id", fmt.Sprintf("%d.%s.load", id, a.Community))
	return []byte(v.Encode())
}

// Discord permission bits the tool sets on members.
const (
	permMember     = 1<<10 | 1<<11 // VIEW_CHANNEL | SEND_MESSAGES
	permManageGuid = 1 << 5        // MANAGE_GUILD: makes an organiser
)

// discordInteraction is the JSON body of an application-command interaction
// as Discord sends it over HTTP; id is its unique interaction id.
func discordInteraction(a actor, c command, id int64, appID string) ([]byte, error) {
	type opt struct {
		Name    string `json:"name"`
		Type    int    `json:"type"`
		Value   any    `json:"value,omitempty"`
		Options []opt  `json:"options,omitempty"`
	}
	opts := make([]opt, 0, len(c.Option))
	for _, o := range c.Option {
		opts = append(opts, opt{Name: o.Name, Type: 3, Value: o.Value})
	}
	if c.Sub != "" {
		opts = []opt{{Name: c.Sub, Type: 1, Options: opts}}
	}
	perms := permMember
	if a.Organiser {
		perms |= permManageGuid
	}
	body := map[string]any{
		"id":             strconv.FormatInt(id, 10),
		"application_id": appID,
		"type":           2,
		"token":          fmt.Sprintf("load-token-%d", id),
		"version":        1,
		"guild_id":       a.Community,
		"channel_id":     a.Channel,
		"channel":        map[string]any{"id": a.Channel, "name": "general", "type": 0, "guild_id": a.Community},
		"locale":         "en-GB",
		"guild_locale":   "en-GB",
		"member": map[string]any{
			"user":        map[string]any{"id": a.User, "username": a.UserName, "global_name": a.UserName, "discriminator": "0"},
			"roles":       []string{},
			"permissions": strconv.Itoa(perms),
			"joined_at":   "2026-01-01T00:00:00.000000+00:00",
		},
		"data": map[string]any{"id": "1000000000000000001", "name": c.Name, "type": 1, "options": opts},
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("discord interaction: %w", err)
	}
	return b, nil
}
