package slack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	goslack "github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
)

// InputPrefix starts the action_id of a button that asks for a line of text
// first (bot.Button.Input): the inbound side opens a modal for it instead of
// running the action at once.
const InputPrefix = "input|"

// ButtonAction reads a button's action_id back: the core's action, and
// whether the button wants a modal for its Input first.
func ButtonAction(actionID string) (action string, wantsInput bool) {
	if a, ok := strings.CutPrefix(actionID, InputPrefix); ok {
		return a, true
	}
	return actionID, false
}

// How much of each part of a message is rendered before it is cut. With
// these, a message never needs more than 20 blocks, well under MaxBlocks.
const (
	maxTextSections     = 5
	maxProgressSections = 5
	maxFieldSections    = 5
	maxActionBlocks     = 1
	maxLabelLen         = 200
	maxItemLen          = 1000
)

// mention matches the core's neutral mention forms <@ID|name> and <#ID|name>.
var (
	mention   = regexp.MustCompile(`<([@#])([^|<>\s]+)(?:\|([^<>]*))?>`)
	userID    = regexp.MustCompile(`^[UWB][A-Z0-9]{2,}$`)
	channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
)

// Blocks renders m as Block Kit: a header for the title, sections for the
// text, progress bars (as text), fields (at most MaxFieldsPerSection per
// section) and a bulleted list, an actions block for the buttons and a
// context block for the footer. It is pure and never panics. It keeps
// Slack's limits: at most MaxBlocks blocks, MaxTextLen characters per text,
// MaxHeaderLen per header; a list that does not fit ends with "…and N more".
// Text is escaped for mrkdwn (&, <, >), except the core's mentions, which
// become Slack's <@U…> and <#C…>. A button's value is the core's action; a
// button with an Input gets InputPrefix before its action_id, and its value
// carries the Input's label and placeholder with the action (inputButton). m.File is not
// rendered: files are uploaded separately (Poster.Upload).
func Blocks(m bot.Message) []goslack.Block {
	var head, body, tail []goslack.Block
	if t := cut(plainPieces(oneLine(m.Title), MaxHeaderLen), MaxHeaderLen); strings.TrimSpace(t) != "" {
		head = append(head, goslack.NewHeaderBlock(goslack.NewTextBlockObject(goslack.PlainTextType, t, true, false)))
	}
	body = append(body, sections(chunks(mrkdwnPieces(m.Text, MaxTextLen*maxTextSections), MaxTextLen, maxTextSections))...)
	body = append(body, progressBlocks(m.Progress)...)
	body = append(body, fieldBlocks(m.Fields)...)
	if b := itemsBlock(m.Items); b != nil {
		body = append(body, b)
	}
	tail = append(tail, actionBlocks(m.Buttons)...)
	if f := cut(mrkdwnPieces(m.Footer, MaxTextLen), MaxTextLen); strings.TrimSpace(f) != "" {
		tail = append(tail, goslack.NewContextBlock("", goslack.NewTextBlockObject(goslack.MarkdownType, f, false, false)))
	}
	if budget := MaxBlocks - len(head) - len(tail); len(body) > budget {
		// Unreachable with the caps above; kept so that a future change
		// cannot produce a message Slack refuses.
		n := len(body) - budget + 1
		body = append(body[:budget-1], section(fmt.Sprintf("…and %d more", n)))
	}
	out := make([]goslack.Block, 0, len(head)+len(body)+len(tail))
	out = append(out, head...)
	out = append(out, body...)
	return append(out, tail...)
}

// Fallback is the plain notification text sent with the blocks (what
// notifications and screen readers show): the title and the first line of
// the text, escaped for mrkdwn, at most MaxFallbackLen characters.
func Fallback(m bot.Message) string {
	var parts []string
	if t := strings.TrimSpace(oneLine(m.Title)); t != "" {
		parts = append(parts, t)
	}
	if line := firstLine(m.Text); line != "" {
		parts = append(parts, line)
	}
	if len(parts) == 0 {
		switch {
		case len(m.Progress) > 0:
			parts = append(parts, m.Progress[0].Label)
		case len(m.Fields) > 0:
			parts = append(parts, m.Fields[0].Label+": "+m.Fields[0].Value)
		case len(m.Items) > 0:
			parts = append(parts, m.Items[0])
		case m.Footer != "":
			parts = append(parts, m.Footer)
		}
	}
	s := cut(mrkdwnPieces(oneLine(strings.Join(parts, " — ")), MaxFallbackLen), MaxFallbackLen)
	if strings.TrimSpace(s) == "" {
		return "missionbot"
	}
	return s
}

func firstLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if t := strings.TrimSpace(line); t != "" {
			return t
		}
	}
	return ""
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func section(text string) *goslack.SectionBlock {
	return goslack.NewSectionBlock(goslack.NewTextBlockObject(goslack.MarkdownType, text, false, false), nil, nil)
}

func sections(texts []string) []goslack.Block {
	var out []goslack.Block
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			out = append(out, section(t))
		}
	}
	return out
}

// progressPieces renders one bar: *Label*, then "▓▓▓▓░░░░░░ 40% — 400 of
// 1,000 trees", then the note.
func progressPieces(p bot.Progress) []string {
	done := p.Done.String()
	if strings.HasPrefix(p.Target.WithUnit(p.Unit), p.Unit) && p.Unit != "" {
		done = p.Done.WithUnit(p.Unit) // £5 of £100
	}
	var out []string
	if label := oneLine(p.Label); label != "" {
		out = append(out, "*")
		out = append(out, limitPieces(mrkdwnPieces(label, maxLabelLen), maxLabelLen)...)
		out = append(out, "*", "\n")
	}
	out = append(out, mrkdwnPieces(fmt.Sprintf("%s %d%% — %s of %s", bot.Bar(p.Done, p.Target, 10), bot.Percent(p.Done, p.Target), done, p.Target.WithUnit(p.Unit)), maxItemLen)...)
	if note := oneLine(p.Note); note != "" {
		out = append(out, "\n")
		out = append(out, limitPieces(mrkdwnPieces(note, maxItemLen), maxItemLen)...)
	}
	return out
}

func progressBlocks(ps []bot.Progress) []goslack.Block {
	if len(ps) == 0 {
		return nil
	}
	lines := make([][]string, len(ps))
	for i, p := range ps {
		lines[i] = progressPieces(p)
	}
	return sections(packLines(lines, "\n\n", MaxTextLen, maxProgressSections))
}

func fieldBlocks(fs []bot.Field) []goslack.Block {
	var texts []*goslack.TextBlockObject
	for _, f := range fs {
		label, value := oneLine(f.Label), strings.TrimSpace(f.Value)
		if label == "" && value == "" {
			continue
		}
		var pieces []string
		if label != "" {
			pieces = append(pieces, "*")
			pieces = append(pieces, limitPieces(mrkdwnPieces(label, maxLabelLen), maxLabelLen)...)
			pieces = append(pieces, "*")
			if value != "" {
				pieces = append(pieces, "\n")
			}
		}
		pieces = append(pieces, mrkdwnPieces(value, MaxFieldLen)...)
		texts = append(texts, goslack.NewTextBlockObject(goslack.MarkdownType, cut(pieces, MaxFieldLen), false, false))
	}
	var out []goslack.Block
	for len(texts) > 0 {
		if len(out) == maxFieldSections {
			out = append(out, section(fmt.Sprintf("…and %d more", len(texts))))
			break
		}
		n := min(len(texts), MaxFieldsPerSection)
		out = append(out, goslack.NewSectionBlock(nil, texts[:n], nil))
		texts = texts[n:]
	}
	return out
}

// itemsBlock renders the list as one section of bullets; items that do not
// fit in MaxTextLen are summarised as "…and N more".
func itemsBlock(items []string) goslack.Block {
	total := 0
	for _, it := range items {
		if strings.TrimSpace(it) != "" {
			total++
		}
	}
	if total == 0 {
		return nil
	}
	var out []string
	used, i := 0, 0
	for _, it := range items {
		if strings.TrimSpace(it) == "" {
			continue
		}
		line := append([]string{"• "}, limitPieces(mrkdwnPieces(oneLine(it), maxItemLen), maxItemLen)...)
		n := piecesLen(line)
		if i > 0 {
			n++ // the newline before it
		}
		more := ""
		if i < total-1 {
			// Room to say how many did not fit, should the next one not.
			more = fmt.Sprintf("\n…and %d more", total-i-1)
		}
		if used+n+utf8.RuneCountInString(more) > MaxTextLen {
			out = append(out, fmt.Sprintf("\n…and %d more", total-i))
			break
		}
		if i > 0 {
			out = append(out, "\n")
		}
		out = append(out, line...)
		used += n
		i++
	}
	return section(strings.Join(out, ""))
}

func actionBlocks(buttons []bot.Button) []goslack.Block {
	var out []goslack.Block
	var elems []goslack.BlockElement
	seen := map[string]bool{}
	for _, b := range buttons {
		id := b.Action
		if b.Input != nil {
			id = InputPrefix + b.Action
		}
		// An action_id must be unique within its block; a button whose
		// action does not fit cannot be routed back.
		if b.Action == "" || seen[id] || utf8.RuneCountInString(id) > MaxActionIDLen || utf8.RuneCountInString(b.Action) > MaxButtonValueLen {
			continue
		}
		seen[id] = true
		label := cut(plainPieces(oneLine(b.Label), MaxButtonLabelLen), MaxButtonLabelLen)
		if strings.TrimSpace(label) == "" {
			label = "Go"
		}
		btn := goslack.NewButtonBlockElement(id, buttonValue(b), goslack.NewTextBlockObject(goslack.PlainTextType, label, true, false))
		switch b.Style {
		case bot.ButtonPrimary:
			btn = btn.WithStyle(goslack.StylePrimary)
		case bot.ButtonDanger:
			btn = btn.WithStyle(goslack.StyleDanger)
		}
		elems = append(elems, btn)
		if len(elems) == MaxActionElements {
			out = append(out, goslack.NewActionBlock("", elems...))
			elems = nil
			if len(out) == maxActionBlocks {
				return out
			}
		}
	}
	if len(elems) > 0 {
		out = append(out, goslack.NewActionBlock("", elems...))
	}
	return out
}

// Limits of the Input modal's text field (Slack's plain_text_input in an
// input block): its label and its placeholder.
const (
	maxInputLabelLen       = 200 // Slack allows 2,000; a form label is a line
	maxInputPlaceholderLen = 150
)

// inputButton is what the value of a button with an Input carries to the
// click (the core's action, and the Input's label and placeholder), so that
// the modal asks the question the core wrote. The action_id stays the
// source of truth for the action.
type inputButton struct {
	Action      string `json:"a"`
	Label       string `json:"l,omitempty"`
	Placeholder string `json:"p,omitempty"`
}

// buttonValue is the value of button b: its action, or for a button with an
// Input, an inputButton as JSON, dropping the placeholder and then the label
// when the whole would not fit in MaxButtonValueLen.
func buttonValue(b bot.Button) string {
	if b.Input == nil {
		return b.Action
	}
	in := inputButton{Action: b.Action,
		Label:       cut(plainPieces(oneLine(b.Input.Label), maxInputLabelLen), maxInputLabelLen),
		Placeholder: cut(plainPieces(oneLine(b.Input.Placeholder), maxInputPlaceholderLen), maxInputPlaceholderLen)}
	for {
		v, err := json.Marshal(in)
		if err == nil && utf8.RuneCount(v) <= MaxButtonValueLen {
			return string(v)
		}
		switch {
		case in.Placeholder != "":
			in.Placeholder = ""
		case in.Label != "":
			in.Label = ""
		default:
			return b.Action
		}
	}
}

// readInputButton reads a clicked Input button's value back for action (as
// its action_id says). A value that is not an inputButton for that action
// (a button rendered before values carried JSON) reads as the action alone.
func readInputButton(value, action string) inputButton {
	var in inputButton
	if json.Unmarshal([]byte(value), &in) != nil || in.Action != action {
		return inputButton{Action: action}
	}
	in.Label = cut(plainPieces(oneLine(in.Label), maxInputLabelLen), maxInputLabelLen)
	in.Placeholder = cut(plainPieces(oneLine(in.Placeholder), maxInputPlaceholderLen), maxInputPlaceholderLen)
	return in
}

// Text is handled as pieces: each is one rune, one escape (&amp;) or one
// mention (<@U123>), so that cutting text to a length never splits an
// escape or a mention.

// mrkdwnPieces splits raw text into mrkdwn pieces: &, < and > escaped, the
// core's mentions of Slack ids turned into Slack mentions, other mentions
// into @name / #name. It stops after limit+1 pieces: enough to tell that
// the text is longer than limit, without the cost of splitting all of it.
func mrkdwnPieces(raw string, limit int) []string {
	return pieces(raw, true, limit)
}

// plainPieces is mrkdwnPieces for plain_text: nothing is escaped and every
// mention becomes @name / #name.
func plainPieces(raw string, limit int) []string {
	return pieces(raw, false, limit)
}

func pieces(raw string, markdown bool, limit int) []string {
	if n := 8*limit + 64; len(raw) > n {
		raw = raw[:n] // more than limit+1 pieces' worth; bounds the regexp's work
	}
	out := make([]string, 0, min(len(raw), limit+1))
	full := func() bool { return len(out) > limit }
	add := func(s string) {
		for _, r := range s {
			if full() {
				return
			}
			switch {
			case !markdown:
				out = append(out, string(r))
			case r == '&':
				out = append(out, "&amp;")
			case r == '<':
				out = append(out, "&lt;")
			case r == '>':
				out = append(out, "&gt;")
			default:
				out = append(out, string(r))
			}
		}
	}
	if !strings.Contains(raw, "<") {
		add(raw)
		return out
	}
	last := 0
	for _, m := range mention.FindAllStringSubmatchIndex(raw, limit+1) {
		add(raw[last:m[0]])
		if full() {
			return out
		}
		last = m[1]
		sigil, id := raw[m[2]:m[3]], raw[m[4]:m[5]]
		name := id
		if m[6] >= 0 && raw[m[6]:m[7]] != "" {
			name = raw[m[6]:m[7]]
		}
		valid := (sigil == "@" && userID.MatchString(id)) || (sigil == "#" && channelID.MatchString(id))
		if markdown && valid {
			out = append(out, "<"+sigil+id+">")
			continue
		}
		add(sigil + name)
	}
	add(raw[last:])
	return out
}

func pieceLen(p string) int { return utf8.RuneCountInString(p) }

func piecesLen(ps []string) int {
	n := 0
	for _, p := range ps {
		n += pieceLen(p)
	}
	return n
}

// limitPieces keeps at most limit characters of ps, ending in "…" when cut.
func limitPieces(ps []string, limit int) []string {
	if piecesLen(ps) <= limit {
		return ps
	}
	n := 0
	for i, p := range ps {
		if n+pieceLen(p) > limit-1 {
			return append(ps[:i:i], "…")
		}
		n += pieceLen(p)
	}
	return ps
}

// cut joins ps, keeping at most limit characters, ending in "…" when cut.
func cut(ps []string, limit int) string {
	return strings.TrimSpace(strings.Join(limitPieces(ps, limit), ""))
}

// chunks packs text pieces into at most maxN texts of at most limit
// characters each, breaking at line ends where it can; text past the last
// chunk is cut with "…".
func chunks(ps []string, limit, maxN int) []string {
	var out []string
	var cur []string
	curLen, lastNL := 0, -1
	for i := 0; i < len(ps); i++ {
		p := ps[i]
		if p == "\n" && len(cur) == 0 {
			continue
		}
		if curLen+pieceLen(p) > limit {
			if len(out) == maxN-1 {
				return append(out, cut(append(cur, ps[i:]...), limit))
			}
			var carry []string
			if lastNL > 0 && piecesLen(cur[lastNL+1:])+pieceLen(p) <= limit {
				carry = append(carry, cur[lastNL+1:]...)
				cur = cur[:lastNL]
			}
			out = append(out, strings.Join(cur, ""))
			cur, curLen, lastNL = carry, piecesLen(carry), -1
			if p == "\n" && len(cur) == 0 {
				continue
			}
		}
		if p == "\n" {
			lastNL = len(cur)
		}
		cur = append(cur, p)
		curLen += pieceLen(p)
	}
	if len(cur) > 0 {
		out = append(out, strings.Join(cur, ""))
	}
	return out
}

// packLines packs whole lines into at most maxN texts of at most limit
// characters, separated by sep; lines that do not fit end the last text with
// "…and N more".
func packLines(lines [][]string, sep string, limit, maxN int) []string {
	const room = 30 // for "…and N more"
	var out []string
	var cur strings.Builder
	curLen := 0
	for i, line := range lines {
		line = limitPieces(line, limit-room)
		n := piecesLen(line)
		if curLen > 0 && curLen+pieceLen(sep)+n > limit-room {
			if len(out) == maxN-1 {
				cur.WriteString(fmt.Sprintf("%s…and %d more", sep, len(lines)-i))
				return append(out, cur.String())
			}
			out = append(out, cur.String())
			cur.Reset()
			curLen = 0
		}
		if curLen > 0 {
			cur.WriteString(sep)
			curLen += pieceLen(sep)
		}
		cur.WriteString(strings.Join(line, ""))
		curLen += n
	}
	if curLen > 0 {
		out = append(out, cur.String())
	}
	return out
}
