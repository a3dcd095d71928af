package discord

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// guildInfo is what the adapter knows about the guild an interaction came
// from beyond the interaction itself (from the gateway state or a cached
// guild fetch). Empty fields mean unknown.
type guildInfo struct {
	OwnerID string
	Name    string
}

// errNotInGuild says an interaction came from a DM: missionbot works per
// server.
var errNotInGuild = errors.New("interaction outside a server")

// optionError says an option's value could not be read at all (an object
// where a value belongs, an id that is not a snowflake). Values of the right
// shape but wrong content reach the core, which explains them.
type optionError struct {
	Name string
	Msg  string
}

func (e *optionError) Error() string { return fmt.Sprintf("option %s: %s", e.Name, e.Msg) }

// userMessage is the private line shown for a convert error.
func userMessage(err error) string {
	var oe *optionError
	switch {
	case errors.As(err, &oe):
		return fmt.Sprintf("I couldn't read <%s>: %s. Pick it again from Discord's list, or type /missionbot help.", oe.Name, oe.Msg)
	case errors.Is(err, errNotInGuild):
		return "missionbot works inside a server: use its commands in one of your server's channels."
	default:
		return "I couldn't read that interaction. Please try again; /missionbot help lists the commands."
	}
}

// base fills what every interaction shares: who, where and when. It is
// pure: g and now come from the caller.
func base(i *discordgo.Interaction, g guildInfo, now time.Time) (bot.Request, error) {
	if i.GuildID == "" || i.Member == nil || i.Member.User == nil {
		return bot.Request{}, errNotInGuild
	}
	u := i.Member.User
	perms := i.Member.Permissions
	admin := perms&(discordgo.PermissionAdministrator|discordgo.PermissionManageGuild) != 0 ||
		(g.OwnerID != "" && g.OwnerID == u.ID)
	return bot.Request{
		EventID:       i.ID,
		Community:     bot.CommunityRef{Platform: bot.Discord, ID: i.GuildID},
		CommunityName: g.Name,
		User:          bot.UserRef{Platform: bot.Discord, Space: i.GuildID, ID: u.ID},
		UserName:      displayName(i.Member, u),
		Channel:       bot.ChannelRef{ID: i.ChannelID},
		PlatformAdmin: admin,
		Time:          now,
	}, nil
}

// displayName is how a member is called: their server nickname, else their
// global display name, else their username.
func displayName(m *discordgo.Member, u *discordgo.User) string {
	if m != nil && m.Nick != "" {
		return m.Nick
	}
	if u == nil {
		return ""
	}
	if u.GlobalName != "" {
		return u.GlobalName
	}
	return u.Username
}

// commandRequest converts an application command (or autocomplete)
// interaction: the command name, its subcommand and every option value as a
// string, in the forms the core's option binding reads (see bot.Call.bind):
// USER as <@ID|name>, CHANNEL as <#ID|name>, BOOLEAN as true/false, INTEGER
// and NUMBER as decimals, STRING as typed. Options is never nil, so the core
// takes the typed-options path, except for the umbrella's help, which is
// sent as the typed text "help <command>". It returns the focused option (autocomplete)
// as focus, "" when none.
func commandRequest(i *discordgo.Interaction, g guildInfo, now time.Time) (req bot.Request, focus string, err error) {
	req, err = base(i, g, now)
	if err != nil {
		return bot.Request{}, "", err
	}
	data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
	if !ok {
		return bot.Request{}, "", &optionError{Name: "command", Msg: "the interaction has no command data"}
	}
	req.Command = strings.ToLower(data.Name)
	opts := data.Options
	for len(opts) == 1 && opts[0] != nil &&
		(opts[0].Type == discordgo.ApplicationCommandOptionSubCommand || opts[0].Type == discordgo.ApplicationCommandOptionSubCommandGroup) {
		req.Sub = strings.TrimSpace(req.Sub + " " + opts[0].Name)
		opts = opts[0].Options
	}
	req.Options = make(map[string]string, len(opts))
	for _, o := range opts {
		if o == nil {
			continue
		}
		v, err := optionValue(o, data.Resolved)
		if err != nil {
			return bot.Request{}, "", err
		}
		req.Options[o.Name] = v
		if o.Focused {
			focus = o.Name
		}
	}
	return req, focus, nil
}

// optionValue renders one option's value as the core's string form.
func optionValue(o *discordgo.ApplicationCommandInteractionDataOption, res *discordgo.ApplicationCommandInteractionDataResolved) (string, error) {
	switch o.Type {
	case discordgo.ApplicationCommandOptionUser, discordgo.ApplicationCommandOptionMentionable:
		id, ok := o.Value.(string)
		if !ok || !isSnowflake(id) {
			return "", &optionError{Name: o.Name, Msg: "that is not a member"}
		}
		if o.Type == discordgo.ApplicationCommandOptionMentionable && res != nil && res.Roles[id] != nil {
			return "<@&" + id + ">", nil
		}
		var m *discordgo.Member
		var u *discordgo.User
		if res != nil {
			m, u = res.Members[id], res.Users[id]
		}
		return "<@" + id + "|" + mentionName(displayName(m, u)) + ">", nil
	case discordgo.ApplicationCommandOptionChannel:
		id, ok := o.Value.(string)
		if !ok || !isSnowflake(id) {
			return "", &optionError{Name: o.Name, Msg: "that is not a channel"}
		}
		name := ""
		if res != nil && res.Channels[id] != nil {
			name = res.Channels[id].Name
		}
		return "<#" + id + "|" + mentionName(name) + ">", nil
	case discordgo.ApplicationCommandOptionRole:
		id, ok := o.Value.(string)
		if !ok || !isSnowflake(id) {
			return "", &optionError{Name: o.Name, Msg: "that is not a role"}
		}
		return "<@&" + id + ">", nil
	}
	switch v := o.Value.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", &optionError{Name: o.Name, Msg: "that is not a number"}
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case nil:
		return "", nil
	default:
		return "", &optionError{Name: o.Name, Msg: "that is not a value I understand"}
	}
}

// mentionName makes a display name safe inside <@ID|name>: the core splits
// option values on white space and reads up to the first '|' and the final
// '>', so those become '_' and are dropped respectively.
func mentionName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '|' || r == '<' || r == '>':
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space {
			b.WriteByte('_')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isSnowflake reports whether s is a Discord id: 1 to 20 decimal digits.
func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// componentRequest converts a button press: the custom id carries the
// core's action. wantsInput reports a button that must first open a modal
// (see InputPrefix); req.Action then still holds the action with
// bot.InputMarker in it.
func componentRequest(i *discordgo.Interaction, g guildInfo, now time.Time) (req bot.Request, wantsInput bool, err error) {
	req, err = base(i, g, now)
	if err != nil {
		return bot.Request{}, false, err
	}
	data, ok := i.Data.(discordgo.MessageComponentInteractionData)
	if !ok {
		return bot.Request{}, false, &optionError{Name: "button", Msg: "the interaction has no button data"}
	}
	req.Action, wantsInput = ButtonAction(data.CustomID)
	if req.Action == "" {
		// An id we never produced: let the core answer it as stale.
		req.Action = "stale:" + data.CustomID
	}
	return req, wantsInput, nil
}

// modalRequest converts a submitted modal: its custom id is the button's
// action and the first text input's value replaces bot.InputMarker.
func modalRequest(i *discordgo.Interaction, g guildInfo, now time.Time) (bot.Request, error) {
	req, err := base(i, g, now)
	if err != nil {
		return bot.Request{}, err
	}
	data, ok := i.Data.(discordgo.ModalSubmitInteractionData)
	if !ok {
		return bot.Request{}, &optionError{Name: "form", Msg: "the interaction has no form data"}
	}
	action, _ := ButtonAction(data.CustomID)
	if action == "" {
		action = "stale:" + data.CustomID
	}
	req.Action = bot.SubmitAction(action, firstInput(data.Components))
	return req, nil
}

// firstInput returns the value of the first text input in cs, searching
// action rows.
func firstInput(cs []discordgo.MessageComponent) string {
	for _, c := range cs {
		switch c := c.(type) {
		case *discordgo.TextInput:
			return c.Value
		case discordgo.TextInput:
			return c.Value
		case *discordgo.ActionsRow:
			if v := firstInput(c.Components); v != "" {
				return v
			}
		case discordgo.ActionsRow:
			if v := firstInput(c.Components); v != "" {
				return v
			}
		}
	}
	return ""
}

// buttonLabel finds the label of the button with customID on the message
// the interaction came from, "" when it is not there.
func buttonLabel(msg *discordgo.Message, customID string) string {
	if msg == nil {
		return ""
	}
	var walk func(cs []discordgo.MessageComponent) string
	walk = func(cs []discordgo.MessageComponent) string {
		for _, c := range cs {
			switch c := c.(type) {
			case *discordgo.Button:
				if c.CustomID == customID {
					return c.Label
				}
			case discordgo.Button:
				if c.CustomID == customID {
					return c.Label
				}
			case *discordgo.ActionsRow:
				if l := walk(c.Components); l != "" {
					return l
				}
			case discordgo.ActionsRow:
				if l := walk(c.Components); l != "" {
					return l
				}
			}
		}
		return ""
	}
	return walk(msg.Components)
}
