package discord

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// Discord's message limits, counted as Discord counts them (UTF-16 code
// units, as JavaScript string lengths).
const (
	maxContent       = 2000
	maxEmbeds        = 10
	maxEmbedTotal    = 6000
	maxTitle         = 256
	maxDescription   = 4096
	maxFields        = 25
	maxFieldName     = 256
	maxFieldValue    = 1024
	maxFooter        = 2048
	maxRows          = 5
	maxButtonsPerRow = 5
	maxCustomID      = 100
	maxLabel         = 80
	maxModalTitle    = 45
	maxInputLabel    = 45
	maxPlaceholder   = 100
)

// InputPrefix starts the custom_id of a button whose bot.Button has an
// Input: pressing it opens InputModal instead of running the action.
const InputPrefix = "input|"

// InputFieldID is the custom_id of the text input in InputModal.
const InputFieldID = "value"

// Embed colours by kind of post.
const (
	colourDefault     = 0x2E7D32
	colourCelebration = 0xF9A825
	colourDigest      = 0x1565C0
	colourAnnounce    = 0x6A1B9A
)

var (
	userMention    = regexp.MustCompile(`<@!?([0-9A-Za-z_.\-]+)(?:\|([^>]*))?>`)
	channelMention = regexp.MustCompile(`<#([0-9A-Za-z_.\-]+)(?:\|([^>]*))?>`)
)

// Mentions turns the core's neutral mentions into Discord's: <@ID|name>
// becomes <@ID> and <#ID|name> becomes <#ID>. Discord draws them, in message
// content, embed descriptions and field values, with the current name.
func Mentions(s string) string {
	s = userMention.ReplaceAllString(s, "<@$1>")
	return channelMention.ReplaceAllString(s, "<#$1>")
}

// plainMentions turns neutral mentions into @name and #name, for the parts
// of an embed where Discord does not draw mentions (titles, field names,
// footers, button labels).
func plainMentions(s string) string {
	s = userMention.ReplaceAllStringFunc(s, func(m string) string {
		g := userMention.FindStringSubmatch(m)
		if g[2] != "" {
			return "@" + g[2]
		}
		return "@" + g[1]
	})
	return channelMention.ReplaceAllStringFunc(s, func(m string) string {
		g := channelMention.FindStringSubmatch(m)
		if g[2] != "" {
			return "#" + g[2]
		}
		return "#" + g[1]
	})
}

// verbatim matches what markdown escaping leaves alone: the core's
// mentions (converted separately), role mentions and bare links (escaping
// inside an address would break it).
var verbatim = regexp.MustCompile(`<@!?[0-9A-Za-z_.\-]+(?:\|[^>]*)?>|<#[0-9A-Za-z_.\-]+(?:\|[^>]*)?>|<@&[0-9]+>|https?://[^\s<>]+`)

// escapeMarkdown makes plain text show as typed on Discord: the inline
// markdown characters (\ * _ ~ ` | [ ]) and, at the start of a line, the
// block markers ("# ", "> ", "- ", "-# ") get a backslash, which Discord hides. Masked links
// cannot form, so a member's text never turns into a link under the bot's
// name. Mentions and bare links are left as they are.
func escapeMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	last, lineStart := 0, true
	esc := func(part string) {
		for i, r := range part {
			switch r {
			case '\\', '*', '_', '~', '`', '|', '[', ']':
				b.WriteByte('\\')
			case '#', '>', '-':
				// "# ", "> ", ">>> ", "- ", "-# " start a heading, quote or list.
				if next := part[i+1:]; lineStart && (next == "" || strings.ContainsAny(next[:1], " #>")) {
					b.WriteByte('\\')
				}
			}
			b.WriteRune(r)
			switch {
			case r == '\n':
				lineStart = true
			case r != ' ' && r != '\t':
				lineStart = false
			}
		}
	}
	for _, loc := range verbatim.FindAllStringIndex(s, -1) {
		esc(s[last:loc[0]])
		b.WriteString(s[loc[0]:loc[1]])
		last, lineStart = loc[1], false
	}
	esc(s[last:])
	return b.String()
}

// richText is core text for the parts of a message where Discord draws
// markdown and mentions (content, embed descriptions, field values): shown
// as typed, with the core's mentions turned into Discord's.
func richText(s string) string { return Mentions(escapeMarkdown(s)) }

// plainText is core text for the parts where Discord draws markdown but not
// mentions (titles, field names): mentions as @name and #name, shown as
// typed.
func plainText(s string) string { return escapeMarkdown(plainMentions(s)) }

// textLen is a string's length as Discord counts it: UTF-16 code units.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cut shortens s to at most limit UTF-16 units, ending with "…" when it had
// to cut, never splitting a character.
func cut(s string, limit int) string {
	if textLen(s) <= limit {
		return s
	}
	if limit <= 0 {
		return ""
	}
	n := 0
	for i, r := range s {
		if n+utf16.RuneLen(r) > limit-1 {
			return strings.TrimRight(s[:i], " \n") + "…"
		}
		n += utf16.RuneLen(r)
	}
	return s
}

// plainOnly reports whether m is just text: it is then sent as message
// content, without an embed.
func plainOnly(m bot.Message) bool {
	return m.Title == "" && len(m.Fields) == 0 && len(m.Progress) == 0 && len(m.Items) == 0 && m.Footer == ""
}

// Content returns the message content to send with Embeds and Components:
// m's text (mentions converted, at most 2,000 characters) when m is plain
// text, which Discord then shows without an embed, and "" when m renders as
// an embed. Send all three together: content=Content(m),
// embeds=Embeds(m), components=Components(m).
func Content(m bot.Message) string {
	if !plainOnly(m) {
		return ""
	}
	return cut(richText(m.Text), maxContent)
}

// Embeds returns m as Discord embeds within Discord's limits: a title of at
// most 256 characters, a description of at most 4,096 holding the text,
// progress bars ("▓▓▓▓░░░░░░ 40% — 400 of 1,000 trees") and bulleted items
// (a long list is cut with "…and N more"), at most 25 inline fields, a footer
// of at most 2,048, and at most 6,000 characters in all. It returns nil for a
// plain-text message (see Content). Embeds is pure.
func Embeds(m bot.Message) []*discordgo.MessageEmbed {
	if plainOnly(m) {
		return nil
	}
	e := &discordgo.MessageEmbed{Type: discordgo.EmbedTypeRich, Color: colour(m.Kind)}
	e.Title = cut(plainText(strings.TrimSpace(m.Title)), maxTitle)
	if f := strings.TrimSpace(m.Footer); f != "" {
		e.Footer = &discordgo.MessageEmbedFooter{Text: cut(plainMentions(f), maxFooter)}
	}
	budget := maxEmbedTotal - textLen(e.Title)
	if e.Footer != nil {
		budget -= textLen(e.Footer.Text)
	}

	head := richText(strings.TrimSpace(m.Text))
	bars := make([]string, 0, len(m.Progress))
	for _, p := range m.Progress {
		bars = append(bars, progressText(p))
	}
	// The description keeps at least this much room when fields are many.
	descWant := textLen(head) + textLen(strings.Join(bars, "\n\n")) + 2
	for _, it := range m.Items {
		descWant += textLen(it) + 3
	}
	descReserve := min(descWant, maxDescription, budget/2)

	fields, dropped := renderFields(m.Fields, budget-descReserve)
	for _, f := range fields {
		budget -= textLen(f.Name) + textLen(f.Value)
	}
	e.Fields = fields

	tail := ""
	if dropped > 0 {
		tail = fmt.Sprintf("…and %d more %s", dropped, plural(dropped, "field", "fields"))
	}
	e.Description = description(head, bars, m.Items, tail, min(maxDescription, budget))
	if e.Title == "" && e.Description == "" && len(e.Fields) == 0 && e.Footer == nil {
		return nil
	}
	return []*discordgo.MessageEmbed{e}
}

func colour(k bot.PostKind) int {
	switch k {
	case bot.PostCelebration, bot.PostMilestone, bot.PostRecognition:
		return colourCelebration
	case bot.PostDigest:
		return colourDigest
	case bot.PostAnnouncement, bot.PostReminder:
		return colourAnnounce
	}
	return colourDefault
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// progressText draws one progress bar as two lines:
//
//	**Plant 1000 trees**
//	▓▓▓▓░░░░░░ 40% — 400 of 1,000 trees · note
func progressText(p bot.Progress) string {
	done := p.Done.String()
	if strings.HasPrefix(p.Target.WithUnit(p.Unit), p.Unit) && p.Unit != "" {
		done = p.Done.WithUnit(p.Unit) // £5 of £100
	}
	line := escapeMarkdown(fmt.Sprintf("%s %d%% — %s of %s", bot.Bar(p.Done, p.Target, 10), bot.Percent(p.Done, p.Target), done, p.Target.WithUnit(p.Unit)))
	if n := strings.TrimSpace(p.Note); n != "" {
		line += " · " + richText(n)
	}
	if l := strings.TrimSpace(p.Label); l != "" {
		return "**" + cut(plainText(l), 200) + "**\n" + line
	}
	return line
}

// description joins head, bars and items within limit characters. When it
// does not fit, items are dropped from the end and counted in "…and N
// more", then bars, and the head is cut last.
func description(head string, bars, items []string, tail string, limit int) string {
	if limit <= 0 {
		return ""
	}
	var blocks []string
	add := func(s string) {
		if s != "" {
			blocks = append(blocks, s)
		}
	}
	join := func() string { return strings.Join(blocks, "\n\n") }

	// The head gets at most half the room when more follows.
	headLimit := limit
	if len(bars) > 0 || len(items) > 0 || tail != "" {
		headLimit = max(limit/2, min(textLen(head), limit-200))
	}
	add(cut(head, headLimit))

	// Progress bars, as many as fit (leaving room for a "…and N more").
	used := textLen(join())
	keptBars := 0
	for _, b := range bars {
		if used+textLen(b)+2 > limit-40 {
			break
		}
		used += textLen(b) + 2
		keptBars++
	}
	if keptBars > 0 {
		add(strings.Join(bars[:keptBars], "\n\n"))
	}
	more := len(bars) - keptBars

	// Items, as many as fit.
	var list []string
	used = textLen(join()) + 2
	for i, it := range items {
		line := "• " + cut(richText(strings.TrimSpace(it)), 1000)
		rest := len(items) - i - 1 + more
		reserve := 0
		if rest > 0 || tail != "" {
			reserve = 40
		}
		if used+textLen(line)+1+reserve > limit {
			more += len(items) - i
			break
		}
		used += textLen(line) + 1
		list = append(list, line)
	}
	if len(list) > 0 {
		add(strings.Join(list, "\n"))
	}
	if more > 0 {
		add("…and " + strconv.Itoa(more) + " more")
	}
	add(tail)
	return cut(join(), limit)
}

// renderFields returns at most 25 inline fields within room characters, and
// how many did not fit.
func renderFields(fs []bot.Field, room int) ([]*discordgo.MessageEmbedField, int) {
	var out []*discordgo.MessageEmbedField
	for i, f := range fs {
		name := cut(plainText(strings.TrimSpace(f.Label)), maxFieldName)
		value := cut(richText(strings.TrimSpace(f.Value)), maxFieldValue)
		if name == "" {
			name = "\u200b"
		}
		if value == "" {
			value = "—"
		}
		n := textLen(name) + textLen(value)
		if len(out) == maxFields || n > room {
			return out, len(fs) - i
		}
		room -= n
		out = append(out, &discordgo.MessageEmbedField{Name: name, Value: value, Inline: true})
	}
	return out, 0
}

// ButtonID returns the custom_id for b: its action, prefixed with
// InputPrefix when it asks for input first. ok is false when the id would
// be longer than Discord's 100 characters or empty; such a button is not
// drawn (the core keeps actions short, so it signals a bug to log).
func ButtonID(b bot.Button) (id string, ok bool) {
	id = b.Action
	if b.Input != nil {
		id = InputPrefix + id
	}
	return id, b.Action != "" && textLen(id) <= maxCustomID && utf8.ValidString(id)
}

// ButtonAction reads a custom_id made by Components: the core's action, and
// whether the button asks for input first (then the action still holds
// bot.InputMarker; open InputModal(customID, …) and run
// bot.SubmitAction(action, value) on submit).
func ButtonAction(customID string) (action string, wantsInput bool) {
	if a, ok := strings.CutPrefix(customID, InputPrefix); ok {
		return a, true
	}
	return customID, false
}

// CheckButtons returns an error naming the buttons of m that Components
// leaves out: actions over 100 characters, empty actions and duplicates.
// Components is pure; callers with a logger call this to log the bug.
func CheckButtons(m bot.Message) error {
	var bad []string
	seen := map[string]bool{}
	for i, b := range m.Buttons {
		id, ok := ButtonID(b)
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%q: action empty or over %d characters", b.Label, maxCustomID))
		case seen[id]:
			bad = append(bad, fmt.Sprintf("%q: duplicate action", b.Label))
		case i >= maxRows*maxButtonsPerRow:
			bad = append(bad, fmt.Sprintf("%q: more than %d buttons", b.Label, maxRows*maxButtonsPerRow))
		}
		seen[id] = true
	}
	if len(bad) > 0 {
		return fmt.Errorf("buttons not drawn: %s", strings.Join(bad, "; "))
	}
	return nil
}

// Components returns m's buttons as action rows of at most 5 buttons, at
// most 5 rows. A button's custom_id is its action (see ButtonID); buttons
// whose id is invalid or repeats an earlier one are left out (Discord
// rejects the whole message otherwise; see CheckButtons). Components is pure.
func Components(m bot.Message) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	var row []discordgo.MessageComponent
	seen := map[string]bool{}
	for _, b := range m.Buttons {
		id, ok := ButtonID(b)
		if !ok || seen[id] {
			continue
		}
		if len(rows) == maxRows {
			break
		}
		seen[id] = true
		label := cut(plainMentions(strings.TrimSpace(b.Label)), maxLabel)
		if label == "" {
			label = "…"
		}
		row = append(row, discordgo.Button{Label: label, Style: buttonStyle(b.Style), CustomID: id})
		if len(row) == maxButtonsPerRow {
			rows = append(rows, discordgo.ActionsRow{Components: row})
			row = nil
		}
	}
	if len(row) > 0 && len(rows) < maxRows {
		rows = append(rows, discordgo.ActionsRow{Components: row})
	}
	return rows
}

func buttonStyle(s bot.ButtonStyle) discordgo.ButtonStyle {
	switch s {
	case bot.ButtonPrimary:
		return discordgo.PrimaryButton
	case bot.ButtonDanger:
		return discordgo.DangerButton
	}
	return discordgo.SecondaryButton
}

// InputModal returns the modal (interaction response type 9) a button with
// Input opens: its custom_id is the button's customID (ButtonAction reads
// the action back on submit) and it holds one required short text input,
// custom_id InputFieldID, of at most bot.MaxInputLen characters.
func InputModal(customID string, in bot.Input) *discordgo.InteractionResponseData {
	label := strings.TrimSpace(in.Label)
	if label == "" {
		label = "Your answer"
	}
	return &discordgo.InteractionResponseData{
		CustomID: customID,
		Title:    cut(label, maxModalTitle),
		Components: []discordgo.MessageComponent{
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.TextInput{
					CustomID:    InputFieldID,
					Label:       cut(label, maxInputLabel),
					Style:       discordgo.TextInputShort,
					Placeholder: cut(strings.TrimSpace(in.Placeholder), maxPlaceholder),
					Required:    true,
					MinLength:   1,
					MaxLength:   bot.MaxInputLen,
				},
			}},
		},
	}
}

// Flags returns the message flags for m in an interaction response:
// ephemeral for a private message.
func Flags(m bot.Message) discordgo.MessageFlags {
	if m.Visibility == bot.Private {
		return discordgo.MessageFlagsEphemeral
	}
	return 0
}

// AllowedMentions lets messages ping the members they mention and nobody
// else: never @everyone, @here or roles typed into a win or an
// announcement.
func AllowedMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}}
}
