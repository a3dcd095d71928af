// Package console is a terminal adapter over the core: a REPL that shows in
// text exactly what Slack or Discord members see.
package console

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/missionbot/missionbot/bot"
)

var (
	userMention    = regexp.MustCompile(`<@([^|>\s]+)(?:\|([^>]*))?>`)
	channelMention = regexp.MustCompile(`<#([^|>\s]+)(?:\|([^>]*))?>`)
	bareUser       = regexp.MustCompile(`(^|\s)@([A-Za-z0-9_.\-]+)`)
	bareChannel    = regexp.MustCompile(`(^|\s)#([A-Za-z][A-Za-z0-9_\-]*)`)
)

// Normalize turns the console's @name and #channel into the neutral mention
// forms <@name|name> and <#channel|channel> that the core reads. Console
// member ids are their names.
func Normalize(text string) string {
	text = bareUser.ReplaceAllString(text, "$1<@$2|$2>")
	return bareChannel.ReplaceAllString(text, "$1<#$2|$2>")
}

// Plain turns neutral mentions back into @name and #channel.
func Plain(text string) string {
	text = userMention.ReplaceAllStringFunc(text, func(s string) string {
		m := userMention.FindStringSubmatch(s)
		if m[2] != "" {
			return "@" + m[2]
		}
		return "@" + m[1]
	})
	return channelMention.ReplaceAllStringFunc(text, func(s string) string {
		m := channelMention.FindStringSubmatch(s)
		if m[2] != "" {
			return "#" + m[2]
		}
		return "#" + m[1]
	})
}

// Header is the line that heads a message block: [private → alice] or [#general].
func Header(m bot.Message, actor, origin string) string {
	switch m.Visibility {
	case bot.Public:
		ch := m.Channel.Name
		if ch == "" {
			ch = m.Channel.ID
		}
		if ch == "" {
			ch = origin
		}
		return "[#" + ch + "]"
	case bot.Direct:
		return "[private → " + m.To.Name + "]"
	}
	return "[private → " + actor + "]"
}

// Render draws a message as text: title, text, fields, progress bars, list
// items, buttons and footer.
func Render(m bot.Message) string {
	var b strings.Builder
	if m.Title != "" {
		b.WriteString("*" + Plain(m.Title) + "*\n")
	}
	if m.Text != "" {
		b.WriteString(Plain(m.Text) + "\n")
	}
	for _, p := range m.Progress {
		done := p.Done.String()
		if strings.HasPrefix(p.Target.WithUnit(p.Unit), p.Unit) {
			done = p.Done.WithUnit(p.Unit) // £5 / £100
		}
		fmt.Fprintf(&b, "%s  %s %d%%  %s / %s", Plain(p.Label), bot.Bar(p.Done, p.Target, 10), bot.Percent(p.Done, p.Target),
			done, p.Target.WithUnit(p.Unit))
		if p.Note != "" {
			b.WriteString("  " + Plain(p.Note))
		}
		b.WriteByte('\n')
	}
	for _, f := range m.Fields {
		fmt.Fprintf(&b, "%s: %s\n", Plain(f.Label), Plain(f.Value))
	}
	for _, it := range m.Items {
		b.WriteString("• " + Plain(it) + "\n")
	}
	if len(m.Buttons) > 0 {
		labels := make([]string, len(m.Buttons))
		for i, btn := range m.Buttons {
			labels[i] = "[ " + btn.Label + " ]"
		}
		b.WriteString(strings.Join(labels, " ") + "\n")
	}
	if m.File != nil {
		fmt.Fprintf(&b, "📎 %s (%d bytes)\n", m.File.Name, len(m.File.Data))
	}
	if m.Footer != "" {
		b.WriteString(Plain(m.Footer) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
