package bot

// Kind is the type of a command option. It decides how typed text is read,
// how the value is checked, and which Discord option type it registers as.
type Kind int

// Option kinds.
const (
	// KindText is free text: one quoted group, or words up to the next keyword.
	KindText Kind = iota
	// KindRest is free text that runs to the end (notes, messages, reasons).
	KindRest
	// KindWord is a single word.
	KindWord
	// KindAmount is a positive decimal amount (string on Discord, parsed by the core).
	KindAmount
	// KindGoal is a goal reference: slug, #id or unique title prefix.
	KindGoal
	// KindOpp is a volunteering opportunity reference.
	KindOpp
	// KindTarget is an opportunity or a goal reference.
	KindTarget
	// KindUser is one member mention.
	KindUser
	// KindUsers is one or more member mentions.
	KindUsers
	// KindChannel is a channel mention.
	KindChannel
	// KindWhen is a one-off or recurring time.
	KindWhen
	// KindRecurring is a recurring time only.
	KindRecurring
	// KindDate is a calendar date (due dates).
	KindDate
	// KindDuration is a length of time (2h, 90m).
	KindDuration
	// KindInt is a whole number.
	KindInt
	// KindOnOff is on or off.
	KindOnOff
	// KindZone is an IANA timezone name.
	KindZone
	// KindID is a per-community id: #12 or 12.
	KindID
	// KindChoice is one of Option.Choices.
	KindChoice
	// KindFlag is a bare word (the option's name) that switches something on.
	KindFlag
)

// Role is who may run a subcommand.
type Role int

// Roles.
const (
	Anyone Role = iota
	Organiser
)

// Option is one typed input of a subcommand.
type Option struct {
	Name        string
	Kind        Kind
	Description string
	Required    bool
	// Keyword introduces the option in typed text ("by 2026-12-31"). An
	// option with a keyword may appear in any order after the positional ones.
	Keyword string
	// KeywordOptional lets the option also be given positionally, without
	// its keyword ("[to] <goal>").
	KeywordOptional bool
	Choices         []string
	// Placeholder is shown in usage: <goal>, <amount>.
	Placeholder string
}

// Sub is one subcommand. A command without subcommands has one Sub with an
// empty Name.
type Sub struct {
	Name     string
	Summary  string
	Default  bool
	Role     Role
	Options  []Option
	Examples []string
}

// Command is one top-level slash command.
type Command struct {
	Name    string
	Summary string
	Subs    []Sub
}

// DefaultSub returns the subcommand that typed text reaches when its first
// word is not a subcommand name.
func (c *Command) DefaultSub() *Sub {
	for i := range c.Subs {
		if c.Subs[i].Default || c.Subs[i].Name == "" {
			return &c.Subs[i]
		}
	}
	return nil
}

// Sub returns the subcommand named name, or nil.
func (c *Command) Sub(name string) *Sub {
	for i := range c.Subs {
		if c.Subs[i].Name == name && name != "" {
			return &c.Subs[i]
		}
	}
	return nil
}

// Schema is the table of every command. It is the single source for the
// text parser, help, the /missionbot umbrella, Discord registration and the
// Slack manifest.
type Schema []Command

// Command returns the command named name, or nil.
func (s Schema) Command(name string) *Command {
	for i := range s {
		if s[i].Name == name {
			return &s[i]
		}
	}
	return nil
}

// Umbrella is the command that reaches every other one and answers help.
const Umbrella = "missionbot"

func goalOpt(required bool) Option {
	return Option{Name: "goal", Kind: KindGoal, Required: required, Placeholder: "goal", Description: "goal slug, #id or title"}
}

func oppOpt() Option {
	return Option{Name: "opportunity", Kind: KindOpp, Required: true, Placeholder: "opportunity", Description: "opportunity #id or title"}
}

func onOff(name, desc string) Option {
	return Option{Name: "value", Kind: KindOnOff, Required: true, Placeholder: "on|off", Description: desc}
}

// Commands is missionbot's command table (../shared/spec/commands.md).
var Commands = Schema{
	{Name: "mission", Summary: "The mission, its values, goals and how to get involved", Subs: []Sub{
		{Name: "show", Default: true, Summary: "Show the mission, values, active goals and open opportunities", Examples: []string{"/mission"}},
		{Name: "set", Role: Organiser, Summary: "Set the mission statement",
			Options:  []Option{{Name: "text", Kind: KindRest, Required: true, Placeholder: "text", Description: "the mission statement"}},
			Examples: []string{"/mission set Every street green by 2030"}},
		{Name: "values", Role: Organiser, Summary: "Set the values, separated by semicolons",
			Options:  []Option{{Name: "values", Kind: KindRest, Required: true, Placeholder: "v1; v2; …", Description: "values separated by ;"}},
			Examples: []string{"/mission values Act locally; Include everyone; Celebrate progress"}},
	}},
	{Name: "organisers", Summary: "Who organises this community", Subs: []Sub{
		{Name: "list", Default: true, Summary: "List the organisers", Examples: []string{"/organisers"}},
		{Name: "add", Role: Organiser, Summary: "Make a member an organiser",
			Options:  []Option{{Name: "member", Kind: KindUser, Required: true, Placeholder: "@member", Description: "the member"}},
			Examples: []string{"/organisers add @sam"}},
		{Name: "remove", Role: Organiser, Summary: "Stop a member being an organiser",
			Options:  []Option{{Name: "member", Kind: KindUser, Required: true, Placeholder: "@member", Description: "the member"}},
			Examples: []string{"/organisers remove @sam"}},
	}},
	{Name: "settings", Summary: "Community settings (organisers)", Subs: []Sub{
		{Name: "show", Default: true, Role: Organiser, Summary: "All settings at a glance", Examples: []string{"/settings"}},
		{Name: "timezone", Role: Organiser, Summary: "Set the community's timezone",
			Options:  []Option{{Name: "zone", Kind: KindZone, Required: true, Placeholder: "IANA zone", Description: "e.g. Europe/London"}},
			Examples: []string{"/settings timezone Europe/London"}},
		{Name: "digest-channel", Role: Organiser, Summary: "Where the weekly digest is posted",
			Options:  []Option{{Name: "channel", Kind: KindChannel, Required: true, Placeholder: "#channel", Description: "the channel"}},
			Examples: []string{"/settings digest-channel #impact"}},
		{Name: "digest-schedule", Role: Organiser, Summary: "When the digest is posted",
			Options:  []Option{{Name: "schedule", Kind: KindRecurring, Required: true, Placeholder: "recurring time", Description: "e.g. every mon 09:00"}},
			Examples: []string{"/settings digest-schedule every mon 09:00"}},
		{Name: "digest", Role: Organiser, Summary: "Turn the weekly digest on or off",
			Options: []Option{onOff("value", "on or off")}, Examples: []string{"/settings digest on"}},
		{Name: "celebrations-channel", Role: Organiser, Summary: "Where wins, kudos and milestones go",
			Options:  []Option{{Name: "channel", Kind: KindChannel, Required: true, Placeholder: "#channel", Description: "the channel"}},
			Examples: []string{"/settings celebrations-channel #wins"}},
		{Name: "welcome-channel", Role: Organiser, Summary: "Where newcomers are welcomed",
			Options:  []Option{{Name: "channel", Kind: KindChannel, Required: true, Placeholder: "#channel", Description: "the channel"}},
			Examples: []string{"/settings welcome-channel #introductions"}},
		{Name: "welcome", Role: Organiser, Summary: "Turn welcomes on or off",
			Options: []Option{onOff("value", "on or off")}, Examples: []string{"/settings welcome on"}},
		{Name: "retention", Role: Organiser, Summary: "Days to keep a departed member's personal data",
			Options:  []Option{{Name: "days", Kind: KindInt, Required: true, Placeholder: "days", Description: "1 to 3650"}},
			Examples: []string{"/settings retention 90"}},
		{Name: "kudos-per-day", Role: Organiser, Summary: "How many kudos a member may give a day",
			Options:  []Option{{Name: "n", Kind: KindInt, Required: true, Placeholder: "n", Description: "1 to 100"}},
			Examples: []string{"/settings kudos-per-day 10"}},
		{Name: "admins-are-organisers", Role: Organiser, Summary: "Whether workspace/server admins are organisers",
			Options: []Option{onOff("value", "on or off")}, Examples: []string{"/settings admins-are-organisers off"}},
	}},
	{Name: "goal", Summary: "Goals (campaigns) and their progress", Subs: []Sub{
		{Name: "list", Default: true, Summary: "Active goals with progress", Examples: []string{"/goal"}},
		{Name: "create", Role: Organiser, Summary: "Create a goal",
			Options: []Option{
				{Name: "title", Kind: KindText, Required: true, Placeholder: "title", Description: "the goal's title"},
				{Name: "target", Kind: KindAmount, Required: true, Placeholder: "target", Description: "the target amount, e.g. 1000"},
				{Name: "unit", Kind: KindText, Required: true, Placeholder: "unit", Description: "e.g. trees, hours, £"},
				{Name: "by", Kind: KindDate, Keyword: "by", Placeholder: "date", Description: "due date, e.g. 2026-12-31"},
				{Name: "slug", Kind: KindWord, Keyword: "as", Placeholder: "slug", Description: "short name, e.g. trees"},
			},
			Examples: []string{`/goal create "Plant 1000 trees" 1000 trees by 2026-12-31`, `/goal create "Volunteer hours" 500 hours as hours`}},
		{Name: "show", Summary: "A goal's progress, pledges, top contributors and pace",
			Options: []Option{goalOpt(false)}, Examples: []string{"/goal show plant-1000-trees"}},
		{Name: "edit", Role: Organiser, Summary: "Correct a goal's title, target or due date",
			Options: []Option{
				goalOpt(false),
				{Name: "title", Kind: KindText, Keyword: "title", Placeholder: "title", Description: "new title"},
				{Name: "target", Kind: KindAmount, Keyword: "target", Placeholder: "n", Description: "new target"},
				{Name: "by", Kind: KindDate, Keyword: "by", Placeholder: "date", Description: "new due date"},
			},
			Examples: []string{"/goal edit plant-1000-trees target 1200 by 2027-01-31"}},
		{Name: "close", Role: Organiser, Summary: "Close a goal: it takes no more pledges or logs",
			Options: []Option{goalOpt(false)}, Examples: []string{"/goal close plant-1000-trees"}},
		{Name: "reopen", Role: Organiser, Summary: "Reopen a closed goal",
			Options: []Option{goalOpt(true)}, Examples: []string{"/goal reopen plant-1000-trees"}},
	}},
	{Name: "pledge", Summary: "Commit to contribute to a goal", Subs: []Sub{
		{Name: "add", Default: true, Summary: "Pledge an amount to a goal",
			Options: []Option{
				{Name: "amount", Kind: KindAmount, Required: true, Placeholder: "amount", Description: "how much, e.g. 10"},
				{Name: "unit", Kind: KindWord, Placeholder: "unit", Description: "the goal's unit, e.g. trees"},
				{Name: "goal", Kind: KindGoal, Keyword: "to", KeywordOptional: true, Placeholder: "goal", Description: "goal slug, #id or title"},
				{Name: "anonymously", Kind: KindFlag, Description: "keep your name off totals and rankings"},
			},
			Examples: []string{"/pledge 10 trees to plant-1000-trees", "/pledge £20 to food-drive anonymously"}},
		{Name: "list", Summary: "Your pledges with ids and status", Examples: []string{"/pledge list"}},
		{Name: "done", Summary: "Fulfil all or part of a pledge",
			Options: []Option{
				{Name: "id", Kind: KindID, Required: true, Placeholder: "id", Description: "the pledge's #id"},
				{Name: "amount", Kind: KindAmount, Placeholder: "amount", Description: "part of it (default: all that is open)"},
			},
			Examples: []string{"/pledge done #3", "/pledge done #3 4"}},
		{Name: "cancel", Summary: "Cancel what is still open of a pledge",
			Options:  []Option{{Name: "id", Kind: KindID, Required: true, Placeholder: "id", Description: "the pledge's #id"}},
			Examples: []string{"/pledge cancel #3"}},
	}},
	{Name: "log", Summary: "Record progress directly", Subs: []Sub{
		{Name: "add", Default: true, Summary: "Log an amount toward a goal",
			Options: []Option{
				{Name: "amount", Kind: KindAmount, Required: true, Placeholder: "amount", Description: "how much, e.g. 5"},
				{Name: "unit", Kind: KindWord, Placeholder: "unit", Description: "the goal's unit, e.g. trees"},
				{Name: "goal", Kind: KindGoal, Keyword: "to", KeywordOptional: true, Placeholder: "goal", Description: "goal slug, #id or title"},
				{Name: "note", Kind: KindRest, Placeholder: "note", Description: "a note"},
			},
			Examples: []string{"/log 5 trees to plant-1000-trees planted by the river"}},
		{Name: "undo", Summary: "Remove your latest log from the last 24 hours", Examples: []string{"/log undo"}},
	}},
	{Name: "volunteer", Summary: "Volunteering opportunities, sign-ups and hours", Subs: []Sub{
		{Name: "list", Default: true, Summary: "Open opportunities", Examples: []string{"/volunteer"}},
		{Name: "create", Role: Organiser, Summary: "Create an opportunity (posted publicly with a Join button)",
			Options: []Option{
				{Name: "title", Kind: KindText, Required: true, Placeholder: "title", Description: "what it is"},
				{Name: "when", Kind: KindWhen, Required: true, Placeholder: "when", Description: "e.g. 2026-12-05 10:00 or every sat 10:00"},
				{Name: "duration", Kind: KindDuration, Keyword: "for", Placeholder: "duration", Description: "e.g. 2h"},
				{Name: "slots", Kind: KindInt, Keyword: "slots", Placeholder: "n", Description: "places (default unlimited)"},
				{Name: "place", Kind: KindText, Keyword: "at", Placeholder: "place", Description: "where"},
			},
			Examples: []string{`/volunteer create "Park cleanup" 2026-12-05 10:00 for 2h slots 12 at "Riverside Park"`}},
		{Name: "edit", Role: Organiser, Summary: "Correct an opportunity's time, length, places or place",
			Options: []Option{
				oppOpt(),
				{Name: "when", Kind: KindWhen, Keyword: "when", Placeholder: "when", Description: "new time"},
				{Name: "duration", Kind: KindDuration, Keyword: "for", Placeholder: "duration", Description: "new length"},
				{Name: "slots", Kind: KindInt, Keyword: "slots", Placeholder: "n", Description: "new number of places"},
				{Name: "place", Kind: KindText, Keyword: "at", Placeholder: "place", Description: "new place"},
			},
			Examples: []string{`/volunteer edit park-cleanup when 2026-12-06 10:00 at "North Gate"`}},
		{Name: "join", Summary: "Sign up (or join the waitlist when full)",
			Options: []Option{oppOpt()}, Examples: []string{"/volunteer join park-cleanup"}},
		{Name: "leave", Summary: "Withdraw from an opportunity",
			Options: []Option{oppOpt()}, Examples: []string{"/volunteer leave park-cleanup"}},
		{Name: "roster", Role: Organiser, Summary: "Confirmed and waitlisted members",
			Options: []Option{oppOpt()}, Examples: []string{"/volunteer roster park-cleanup"}},
		{Name: "hours", Summary: "Log volunteer hours",
			Options: []Option{
				{Name: "hours", Kind: KindAmount, Required: true, Placeholder: "n", Description: "hours, e.g. 2.5"},
				{Name: "for", Kind: KindTarget, Keyword: "for", Placeholder: "opportunity or goal", Description: "what they were for"},
			},
			Examples: []string{"/volunteer hours 2.5 for park-cleanup"}},
		{Name: "attended", Role: Organiser, Summary: "Mark attendance; credits each attendee the opportunity's length",
			Options: []Option{
				oppOpt(),
				{Name: "members", Kind: KindUsers, Required: true, Placeholder: "@m1 @m2 …", Description: "who attended"},
			},
			Examples: []string{"/volunteer attended park-cleanup @sam @alex"}},
		{Name: "cancel", Role: Organiser, Summary: "Cancel an occurrence (or the whole recurring series)",
			Options: []Option{
				oppOpt(),
				{Name: "series", Kind: KindFlag, Description: "cancel every occurrence"},
			},
			Examples: []string{"/volunteer cancel park-cleanup", "/volunteer cancel saturday-litter-pick series"}},
	}},
	{Name: "win", Summary: "Celebrate a win publicly", Subs: []Sub{
		{Name: "", Summary: "Post a win in the celebrations channel",
			Options:  []Option{{Name: "text", Kind: KindRest, Required: true, Placeholder: "what happened", Description: "the win"}},
			Examples: []string{"/win The council approved our bike lane!"}},
	}},
	{Name: "kudos", Summary: "Recognise someone publicly", Subs: []Sub{
		{Name: "", Summary: "Give kudos with a reason",
			Options: []Option{
				{Name: "member", Kind: KindUser, Required: true, Placeholder: "@member", Description: "who"},
				{Name: "reason", Kind: KindRest, Required: true, Placeholder: "reason", Description: "what for"},
			},
			Examples: []string{"/kudos @sam for organising the park cleanup"}},
	}},
	{Name: "leaderboard", Summary: "Top contributors", Subs: []Sub{
		{Name: "", Summary: "Ranked by amount for a goal, or by impact actions",
			Options: []Option{
				goalOpt(false),
				{Name: "period", Kind: KindChoice, Choices: []string{"week", "month", "all"}, Placeholder: "week|month|all", Description: "default week"},
			},
			Examples: []string{"/leaderboard", "/leaderboard plant-1000-trees month"}},
	}},
	{Name: "myimpact", Summary: "Your own impact", Subs: []Sub{
		{Name: "show", Default: true, Summary: "Your pledges, contributions, hours, kudos, wins and streak", Examples: []string{"/myimpact"}},
		{Name: "hide", Summary: "Leave public boards and shout-outs", Examples: []string{"/myimpact hide"}},
		{Name: "unhide", Summary: "Rejoin public boards and shout-outs", Examples: []string{"/myimpact unhide"}},
		{Name: "export", Summary: "Your data as a file", Examples: []string{"/myimpact export"}},
		{Name: "forget", Summary: "Erase your personal data (asks to confirm)",
			Options:  []Option{{Name: "confirm", Kind: KindFlag, Description: "confirm the erasure"}},
			Examples: []string{"/myimpact forget", "/myimpact forget confirm"}},
	}},
	{Name: "impact", Summary: "The community's impact dashboard", Subs: []Sub{
		{Name: "show", Default: true, Summary: "Goals, this week vs last, members, hours, wins",
			Options: []Option{goalOpt(false)}, Examples: []string{"/impact", "/impact plant-1000-trees"}},
		{Name: "export", Role: Organiser, Summary: "CSV of all activity, sent privately", Examples: []string{"/impact export"}},
	}},
	{Name: "digest", Summary: "The weekly impact digest", Subs: []Sub{
		{Name: "preview", Default: true, Role: Organiser, Summary: "This period's digest, privately", Examples: []string{"/digest"}},
		{Name: "now", Role: Organiser, Summary: "Post the digest now (it takes the next scheduled slot)", Examples: []string{"/digest now"}},
	}},
	{Name: "announce", Summary: "Scheduled announcements", Subs: []Sub{
		{Name: "add", Default: true, Role: Organiser, Summary: "Schedule a one-off or recurring announcement",
			Options: []Option{
				{Name: "when", Kind: KindWhen, Required: true, Placeholder: "when", Description: "e.g. tomorrow 18:00 or every mon 09:00"},
				{Name: "message", Kind: KindRest, Required: true, Placeholder: "message", Description: "what to say"},
				{Name: "channel", Kind: KindChannel, Keyword: "in", Placeholder: "#channel", Description: "where (default: here)"},
			},
			Examples: []string{"/announce every mon 09:00 Weekly check-in 🌱", "/announce tomorrow 18:00 Cleanup starts at the gate in #general"}},
		{Name: "list", Role: Organiser, Summary: "Scheduled announcements with their next run", Examples: []string{"/announce list"}},
		{Name: "cancel", Role: Organiser, Summary: "Cancel a scheduled announcement",
			Options:  []Option{{Name: "id", Kind: KindID, Required: true, Placeholder: "id", Description: "the announcement's #id"}},
			Examples: []string{"/announce cancel #2"}},
	}},
	{Name: Umbrella, Summary: "Every missionbot command, and help", Subs: []Sub{
		{Name: "help", Default: true, Summary: "Help for all commands or one",
			Options:  []Option{{Name: "command", Kind: KindWord, Placeholder: "command", Description: "a command name"}},
			Examples: []string{"/missionbot help pledge"}},
	}},
}
