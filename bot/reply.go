package bot

// Visibility says who sees a message.
type Visibility int

// Who sees a message.
const (
	// Private: only the person who acted (ephemeral on Slack and Discord).
	Private Visibility = iota
	// Public: everyone in Message.Channel.
	Public
	// Direct: only Message.To, privately (a DM or an ephemeral message).
	Direct
)

// PostKind says what a public post is, so the core can route it to the
// channel the community chose for that kind.
type PostKind string

// Kinds of public post.
const (
	PostReply        PostKind = ""
	PostCelebration  PostKind = "celebration"
	PostMilestone    PostKind = "milestone"
	PostOpportunity  PostKind = "opportunity"
	PostAnnouncement PostKind = "announcement"
	PostDigest       PostKind = "digest"
)

// Reply is everything a command produced: the private answer to the person
// who typed it, public posts, and private notes to other members.
type Reply struct {
	Messages []Message
	// Duplicate is set when the request repeated a delivery already
	// handled; the adapter acknowledges it and shows nothing.
	Duplicate bool
}

// Add appends messages and returns the reply, for chaining.
func (r Reply) Add(ms ...Message) Reply {
	r.Messages = append(r.Messages, ms...)
	return r
}

// Say is a reply of one private message with text.
func Say(text string) Reply { return Reply{Messages: []Message{{Text: text}}} }

// Message is one platform-neutral message, rich enough for Block Kit and
// Discord embeds, and rendered as text by the console.
type Message struct {
	Visibility Visibility
	Kind       PostKind
	// Channel is where a public message goes; empty means the channel the
	// command came from.
	Channel ChannelRef
	// To is the recipient of a Direct message.
	To Member

	Title    string
	Text     string
	Fields   []Field
	Progress []Progress
	Items    []string
	Buttons  []Button
	Footer   string
	File     *File
}

// Field is a labelled value shown side by side with others.
type Field struct {
	Label string
	Value string
}

// Progress is one progress bar: a goal's amount done toward its target.
type Progress struct {
	Label  string
	Done   Amount
	Target Amount
	Unit   string
	Note   string
}

// ButtonStyle hints how a button is drawn.
type ButtonStyle int

// Button styles.
const (
	ButtonDefault ButtonStyle = iota
	ButtonPrimary
	ButtonDanger
)

// Button is a clickable action. Action is the action id (≤ 100 characters,
// "<name>:<value>"), routed back to the core when pressed.
type Button struct {
	Label  string
	Action string
	Style  ButtonStyle
	// Input, when set, asks for one line of text first (a modal); the
	// action then runs as Submit(value).
	Input *Input
}

// File is an attachment sent privately (exports).
type File struct {
	Name        string
	ContentType string
	Data        []byte
}
