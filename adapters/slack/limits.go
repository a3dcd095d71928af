package slack

import (
	"time"

	"github.com/missionbot/missionbot/bot"
)

// Limits Slack applies to Block Kit messages and app manifests, checked
// against Slack's reference (api.slack.com/reference/block-kit and the app
// manifest reference). Lengths count characters (runes).
const (
	// MaxBlocks is the most blocks one message may carry.
	MaxBlocks = 50
	// MaxTextLen is the longest text of a section or context element.
	MaxTextLen = 3000
	// MaxHeaderLen is the longest header text.
	MaxHeaderLen = 150
	// MaxFieldsPerSection is the most fields one section may carry.
	MaxFieldsPerSection = 10
	// MaxFieldLen is the longest text of one section field.
	MaxFieldLen = 2000
	// MaxActionElements is the most elements one actions block may carry.
	MaxActionElements = 25
	// MaxButtonLabelLen is the longest button label.
	MaxButtonLabelLen = 75
	// MaxActionIDLen is the longest action_id.
	MaxActionIDLen = 255
	// MaxButtonValueLen is the longest button value.
	MaxButtonValueLen = 2000
	// maxModalTitleLen is the longest modal title (and submit/close label).
	maxModalTitleLen = 24
	// MaxFallbackLen bounds the notification text we send with blocks.
	MaxFallbackLen = 500

	// MaxCommandLen is the longest slash command, leading "/" included.
	MaxCommandLen = 32
	// MaxCommandDescriptionLen is the longest slash command description.
	MaxCommandDescriptionLen = 2000
	// MaxUsageHintLen is the longest slash command usage hint.
	MaxUsageHintLen = 1000
	// MaxSlashCommands is the most slash commands one app may declare.
	MaxSlashCommands = 50
	// MaxAppNameLen is the longest app name (display_information.name).
	MaxAppNameLen = 35
	// MaxAppDescriptionLen is the longest short app description.
	MaxAppDescriptionLen = 140
	// MaxBotNameLen is the longest bot user display name.
	MaxBotNameLen = 80
)

// ChannelRate returns how fast a Poster posts to one channel by default,
// shared by every replica through the coordinator: Slack allows about one
// message a second per channel, with short bursts tolerated.
func ChannelRate() bot.Rate { return bot.Rate{Events: 1, Per: time.Second, Burst: 3} }

// ratelimitedRetry is how long to wait after a 200 {"ok":false,
// "error":"ratelimited"}, which carries no Retry-After header.
const ratelimitedRetry = 30 * time.Second
