package bot

import "time"

// Request is one thing a person did, already verified and deduplicated by
// the adapter: a command typed as text (Slack, console), a command with
// typed options (Discord), or a button press.
type Request struct {
	// EventID is the platform's delivery id, unique per delivery.
	EventID       string
	Community     CommunityRef
	CommunityName string
	User          UserRef
	UserName      string
	Channel       ChannelRef
	// PlatformAdmin is true for Slack workspace admins/owners and Discord
	// guild owners and Manage Server holders.
	PlatformAdmin bool

	// Command is the top-level command name without the slash ("pledge"),
	// or "missionbot" for the umbrella.
	Command string
	// Text is what was typed after the command. Mentions are normalised by
	// the adapter to <@ID|name> and channels to <#ID|name>.
	Text string
	// Sub and Options carry a command whose options the platform already
	// split (Discord); when Options is non-nil Text is ignored.
	Sub     string
	Options map[string]string
	// Action is the action id of a pressed button; Command is then empty.
	Action string
	// Event is a membership event (EventJoined, EventLeft); Command and
	// Action are then empty.
	Event string

	Time time.Time
}
