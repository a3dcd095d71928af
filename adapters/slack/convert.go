package slack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
)

// errMalformed says a payload that verified could still not be read.
var errMalformed = errors.New("malformed slack payload")

// parseCommandForm reads a slash command's form body (as Slack posts it to
// the commands URL) without touching any request.
func parseCommandForm(body []byte) (slack.SlashCommand, error) {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.SlashCommand{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return slack.SlashCommand{
		Token: f.Get("token"), TeamID: f.Get("team_id"), TeamDomain: f.Get("team_domain"),
		EnterpriseID: f.Get("enterprise_id"), EnterpriseName: f.Get("enterprise_name"),
		IsEnterpriseInstall: f.Get("is_enterprise_install") == "true",
		ChannelID:           f.Get("channel_id"), ChannelName: f.Get("channel_name"),
		UserID: f.Get("user_id"), UserName: f.Get("user_name"), Command: f.Get("command"),
		Text: f.Get("text"), ResponseURL: f.Get("response_url"), TriggerID: f.Get("trigger_id"),
		APIAppID: f.Get("api_app_id"),
	}, nil
}

// commandRequest turns a slash command into a request at now. The command
// name loses its slash and is lowercased ("/missionbot" is the umbrella,
// whose text starts with the command it reaches); the text keeps Slack's
// escaped mentions (<@U123|alice>, <#C123|general>) and loses Slack's HTML
// escaping. The trigger id, unique per invocation and repeated by a retry of
// the same payload, is the delivery id. PlatformAdmin is left for the
// caller (users.info).
func commandRequest(sc slack.SlashCommand, now time.Time) (bot.Request, error) {
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(sc.Command), "/"))
	if sc.TeamID == "" || sc.UserID == "" || name == "" {
		return bot.Request{}, fmt.Errorf("%w: slash command without team, user or command", errMalformed)
	}
	req := bot.Request{
		Community:     bot.CommunityRef{Platform: bot.Slack, ID: sc.TeamID},
		CommunityName: sc.TeamDomain,
		User:          bot.UserRef{Platform: bot.Slack, Space: sc.TeamID, ID: sc.UserID},
		UserName:      sc.UserName,
		Channel:       bot.ChannelRef{ID: sc.ChannelID, Name: sc.ChannelName},
		Command:       name,
		Text:          Unescape(sc.Text),
		Time:          now,
	}
	if sc.TriggerID != "" {
		req.EventID = deliveryID("trigger:", sc.TriggerID)
	}
	return req, nil
}

// maxDeliveryID is the longest delivery id the store keeps.
const maxDeliveryID = 128

// deliveryID is prefix+id, or prefix and a hash of id when that would be
// longer than the store keeps.
func deliveryID(prefix, id string) string {
	if len(prefix)+len(id) <= maxDeliveryID {
		return prefix + id
	}
	sum := sha256.Sum256([]byte(id))
	return prefix + "sha256:" + hex.EncodeToString(sum[:])
}

// Unescape turns text Slack sent with should_escape into the core's form:
// user and channel mentions stay as they are (<@U123|alice>, <@U123>,
// <#C123|general>); links become their label or address, special mentions
// (<!here>, <!subteam^S1|@team>) become their plain text, and &amp; &lt; &gt;
// become & < >, except that a typed "<@" or "<#" becomes "<", a word joiner
// (U+2060, invisible) and "@" or "#", so that nobody can type a mention
// Slack did not make, yet what they typed reads back as they typed it.
func Unescape(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '<':
			end := strings.IndexByte(text[i:], '>')
			if end < 0 {
				b.WriteString(text[i:])
				return b.String()
			}
			b.WriteString(unescapeAngle(text[i+1 : i+end]))
			i += end + 1
		case c == '&':
			switch {
			case strings.HasPrefix(text[i:], "&amp;"):
				b.WriteByte('&')
				i += len("&amp;")
			case strings.HasPrefix(text[i:], "&gt;"):
				b.WriteByte('>')
				i += len("&gt;")
			case strings.HasPrefix(text[i:], "&lt;"):
				rest := text[i+len("&lt;"):]
				if strings.HasPrefix(rest, "@") || strings.HasPrefix(rest, "#") {
					b.WriteString(typedAngle)
				} else {
					b.WriteByte('<')
				}
				i += len("&lt;")
			default:
				b.WriteByte(c)
				i++
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// typedAngle is what a typed "<" before "@" or "#" becomes: "<" and an
// invisible word joiner, which no mention form matches.
const typedAngle = "<\u2060"

// unescapeAngle renders the inside of one <…> sequence.
func unescapeAngle(inner string) string {
	switch {
	case strings.HasPrefix(inner, "@") || strings.HasPrefix(inner, "#"):
		return "<" + inner + ">"
	case strings.HasPrefix(inner, "!"):
		target, label, ok := strings.Cut(inner[1:], "|")
		if ok && label != "" {
			return label
		}
		return "@" + strings.TrimSuffix(target, "^")
	default:
		target, label, ok := strings.Cut(inner, "|")
		if ok && label != "" {
			return label
		}
		return target
	}
}

// envelope is the outer Events API payload, read without slackevents'
// process-wide registries so that any body can be read safely.
type envelope struct {
	Type      string          `json:"type"`
	Challenge string          `json:"challenge"`
	TeamID    string          `json:"team_id"`
	EventID   string          `json:"event_id"`
	EventTime int64           `json:"event_time"`
	Event     json.RawMessage `json:"event"`
	// MinuteRateLimited is set on app_rate_limited.
	MinuteRateLimited int64 `json:"minute_rate_limited"`
}

// innerEvent holds the fields of the inner events the adapter handles.
type innerEvent struct {
	Type    string          `json:"type"`
	User    json.RawMessage `json:"user"` // an id, or a user object (team_join, user_change)
	Channel string          `json:"channel"`
	Team    string          `json:"team"`
	Text    string          `json:"text"`
	BotID   string          `json:"bot_id"`
	TS      string          `json:"ts"`
	Thread  string          `json:"thread_ts"`
	// Tokens lists the revoked tokens' users (tokens_revoked): oauth for
	// user tokens, bot for the bot token. It is read only for that event.
	Tokens json.RawMessage `json:"tokens"`
}

// revokedTokens is the tokens object of tokens_revoked.
type revokedTokens struct {
	OAuth []string `json:"oauth"`
	Bot   []string `json:"bot"`
}

// eventUser is the user object of team_join and user_change.
type eventUser struct {
	ID       string `json:"id"`
	TeamID   string `json:"team_id"`
	Name     string `json:"name"`
	RealName string `json:"real_name"`
	Deleted  bool   `json:"deleted"`
	IsBot    bool   `json:"is_bot"`
	Profile  struct {
		DisplayName string `json:"display_name"`
		RealName    string `json:"real_name"`
	} `json:"profile"`
}

// displayName is the name members see: display name, else real name, else handle.
func (u eventUser) displayName() string {
	for _, n := range []string{u.Profile.DisplayName, u.Profile.RealName, u.RealName, u.Name} {
		if n != "" {
			return n
		}
	}
	return u.ID
}

// parseEnvelope reads an Events API body.
func parseEnvelope(body []byte) (envelope, innerEvent, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return envelope{}, innerEvent{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	var in innerEvent
	if env.Type == "event_callback" {
		if len(env.Event) == 0 {
			return envelope{}, innerEvent{}, fmt.Errorf("%w: event_callback without event", errMalformed)
		}
		if err := json.Unmarshal(env.Event, &in); err != nil {
			return envelope{}, innerEvent{}, fmt.Errorf("%w: %v", errMalformed, err)
		}
	}
	return env, in, nil
}

// action is what an event asks the adapter to do.
type eventAction int

const (
	eventIgnore    eventAction = iota
	eventRun                   // run Request through the engine
	eventMention               // run help for the mentioner
	eventUninstall             // forget the team's installation
)

// eventRequest turns one event_callback into a request and what to do with
// it. Requests carry the event id as their delivery id.
func eventRequest(env envelope, in innerEvent, now time.Time) (bot.Request, eventAction) {
	team := env.TeamID
	base := func(team, user string) bot.Request {
		return bot.Request{
			EventID:   deliveryID("event:", env.EventID),
			Community: bot.CommunityRef{Platform: bot.Slack, ID: team},
			User:      bot.UserRef{Platform: bot.Slack, Space: team, ID: user},
			Time:      now,
		}
	}
	userID := func() string {
		var id string
		if json.Unmarshal(in.User, &id) == nil {
			return id
		}
		return ""
	}
	userObj := func() (eventUser, bool) {
		var u eventUser
		if json.Unmarshal(in.User, &u) != nil || u.ID == "" {
			return eventUser{}, false
		}
		return u, true
	}
	if env.EventID == "" || team == "" {
		return bot.Request{}, eventIgnore
	}
	switch in.Type {
	case "app_mention":
		id := userID()
		if id == "" || in.BotID != "" {
			return bot.Request{}, eventIgnore
		}
		req := base(team, id)
		req.Channel = bot.ChannelRef{ID: in.Channel}
		req.Command, req.Text = bot.Umbrella, "help"
		return req, eventMention
	case "member_joined_channel":
		id := userID()
		if id == "" {
			return bot.Request{}, eventIgnore
		}
		if in.Team != "" {
			team = in.Team
		}
		req := base(team, id)
		req.Channel = bot.ChannelRef{ID: in.Channel}
		req.Event = bot.EventJoined
		return req, eventRun
	case "team_join":
		u, ok := userObj()
		if !ok || u.IsBot || u.Deleted {
			return bot.Request{}, eventIgnore
		}
		req := base(team, u.ID)
		req.UserName, req.Event = u.displayName(), bot.EventJoined
		return req, eventRun
	case "user_change":
		u, ok := userObj()
		if !ok || !u.Deleted {
			return bot.Request{}, eventIgnore
		}
		req := base(team, u.ID)
		req.UserName, req.Event = u.displayName(), bot.EventLeft
		return req, eventRun
	case "app_uninstalled":
		return base(team, ""), eventUninstall
	case "tokens_revoked":
		// Only the bot token matters; a user token revoked (an installer
		// leaving, say) leaves the bot installed.
		var revoked revokedTokens
		if json.Unmarshal(in.Tokens, &revoked) != nil || len(revoked.Bot) == 0 {
			return bot.Request{}, eventIgnore
		}
		return base(team, ""), eventUninstall
	}
	return bot.Request{}, eventIgnore
}

// inputMeta is what a modal opened for a button's Input carries through
// Slack (private_metadata) to its submission.
type inputMeta struct {
	Action      string `json:"a"`
	Channel     string `json:"c,omitempty"`
	ChannelName string `json:"n,omitempty"`
	ResponseURL string `json:"r,omitempty"`
}

// interactionRequest is the request for one interaction by cb's user, with
// the trigger id as its delivery id.
func interactionRequest(cb slack.InteractionCallback, now time.Time) (bot.Request, error) {
	team := cb.Team.ID
	if team == "" {
		team = cb.User.TeamID
	}
	if team == "" || cb.User.ID == "" {
		return bot.Request{}, fmt.Errorf("%w: interaction without team or user", errMalformed)
	}
	name := cb.User.Name
	if name == "" {
		name = cb.User.Username
	}
	req := bot.Request{
		Community:     bot.CommunityRef{Platform: bot.Slack, ID: team},
		CommunityName: cb.Team.Domain,
		User:          bot.UserRef{Platform: bot.Slack, Space: team, ID: cb.User.ID},
		UserName:      name,
		Channel:       bot.ChannelRef{ID: cb.Channel.ID, Name: cb.Channel.Name},
		Time:          now,
	}
	if cb.TriggerID != "" {
		req.EventID = deliveryID("trigger:", cb.TriggerID)
	}
	return req, nil
}

// inputValue is the one text value a submitted modal holds, trimmed.
func inputValue(v slack.View) string {
	if v.State == nil {
		return ""
	}
	if b, ok := v.State.Values[inputBlockID]; ok {
		if a, ok := b[inputActionID]; ok {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}

// Identifiers of the Input modal.
const (
	inputCallbackID = "missionbot_input"
	inputBlockID    = "input"
	inputActionID   = "value"
)
