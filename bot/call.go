package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Call is one request being handled: who acts, when, where, and the typed
// values of the subcommand's options (already checked).
type Call struct {
	Req     Request
	Actor   Actor
	Now     time.Time
	Loc     *time.Location
	Command *Command
	Sub     *Sub
	// Value is the part of a button's action id after the colon.
	Value string
	args  map[string]any
}

type amountArg struct {
	a    Amount
	unit string
}

// Has reports whether option name was given.
func (c *Call) Has(name string) bool { _, ok := c.args[name]; return ok }

// Text returns a text, word or reference option, or "".
func (c *Call) Text(name string) string { s, _ := c.args[name].(string); return s }

// Amount returns an amount option and the unit typed with it (£10, 10kg).
func (c *Call) Amount(name string) (Amount, string) {
	a, _ := c.args[name].(amountArg)
	return a.a, a.unit
}

// Int returns a whole-number option.
func (c *Call) Int(name string) int { n, _ := c.args[name].(int); return n }

// ID returns a per-community id option (#12 → 12).
func (c *Call) ID(name string) int64 { n, _ := c.args[name].(int64); return n }

// Bool returns an on/off option or whether a flag was given.
func (c *Call) Bool(name string) bool { b, _ := c.args[name].(bool); return b }

// When returns a time option.
func (c *Call) When(name string) When { w, _ := c.args[name].(When); return w }

// Date returns a date option as an instant in UTC.
func (c *Call) Date(name string) time.Time { t, _ := c.args[name].(time.Time); return t }

// Duration returns a duration option.
func (c *Call) Duration(name string) time.Duration { d, _ := c.args[name].(time.Duration); return d }

// Member returns a member option.
func (c *Call) Member(name string) Member { m, _ := c.args[name].(Member); return m }

// Members returns a many-member option.
func (c *Call) Members(name string) []Member { m, _ := c.args[name].([]Member); return m }

// Channel returns a channel option.
func (c *Call) Channel(name string) ChannelRef { ch, _ := c.args[name].(ChannelRef); return ch }

// Set gives option name a value; tests and handlers that re-dispatch use it.
func (c *Call) Set(name string, v any) { c.args[name] = v }

// Example returns the subcommand's first example, for error messages.
func (c *Call) Example() string {
	if c.Sub == nil {
		return ""
	}
	return example(c.Sub)
}

// bind checks and types every given option. Values come from typed-text
// tokens or from a platform's options (strings).
func (e *Engine) bind(ctx context.Context, c *Call, tokens map[string][]Token, options map[string]string) error {
	for _, o := range c.Sub.Options {
		var toks []Token
		if options != nil {
			raw, ok := options[o.Name]
			if !ok || strings.TrimSpace(raw) == "" {
				if o.Required {
					return Userf(example(c.Sub), "Missing <%s> (%s).", o.Placeholder, o.Description)
				}
				continue
			}
			if o.Kind == KindFlag {
				if b, _ := strconv.ParseBool(raw); b {
					c.args[o.Name] = true
				}
				continue
			}
			if o.Kind == KindText || o.Kind == KindRest || o.Kind == KindGoal || o.Kind == KindOpp || o.Kind == KindTarget {
				toks = []Token{{Text: strings.TrimSpace(raw), Quoted: true}}
			} else {
				toks = Tokenize(raw)
			}
		} else {
			var ok bool
			if toks, ok = tokens[o.Name]; !ok {
				continue
			}
		}
		v, err := e.value(ctx, c, o, toks)
		if err != nil {
			return err
		}
		c.args[o.Name] = v
	}
	return nil
}

func (e *Engine) value(ctx context.Context, c *Call, o Option, toks []Token) (any, error) {
	ex := example(c.Sub)
	text := JoinTokens(toks)
	switch o.Kind {
	case KindFlag:
		return true, nil
	case KindText, KindRest, KindWord, KindGoal, KindOpp, KindTarget:
		if strings.TrimSpace(text) == "" && o.Required {
			return nil, Userf(ex, "Missing <%s> (%s).", o.Placeholder, o.Description)
		}
		if o.Kind == KindRest || o.Kind == KindText {
			for _, t := range toks {
				if !t.Quoted && strings.HasPrefix(t.Text, "@") && len(t.Text) > 1 {
					return nil, Userf(ex, "%s is not a mention. Pick the member from the list as you type @ so it becomes a real mention.", t.Text)
				}
			}
		}
		return text, nil
	case KindAmount:
		if len(toks) != 1 {
			return nil, Userf(ex, "%q is not an amount.", text)
		}
		a, unit, err := ParseAmount(toks[0].Text)
		if err != nil {
			if ue, ok := AsUserError(err); ok {
				ue.Example = ex
			}
			return nil, err
		}
		return amountArg{a, unit}, nil
	case KindInt:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return nil, Userf(ex, "%q is not a whole number for <%s>.", text, o.Placeholder)
		}
		return n, nil
	case KindID:
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(text), "#"), 10, 64)
		if err != nil || n <= 0 {
			return nil, Userf(ex, "%q is not an id; ids look like #12.", text)
		}
		return n, nil
	case KindOnOff:
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "on", "yes", "true", "enable", "enabled":
			return true, nil
		case "off", "no", "false", "disable", "disabled":
			return false, nil
		}
		return nil, Userf(ex, "%q is neither on nor off.", text)
	case KindChoice:
		for _, ch := range o.Choices {
			if strings.EqualFold(ch, text) {
				return ch, nil
			}
		}
		return nil, Userf(ex, "%q is not one of %s.", text, strings.Join(o.Choices, ", "))
	case KindZone:
		loc, err := LoadZone(strings.TrimSpace(text))
		if err != nil {
			return nil, err
		}
		return loc.String(), nil
	case KindDate:
		return ParseDate(strings.TrimSpace(text), c.Now, c.Loc)
	case KindDuration:
		return ParseDuration(strings.TrimSpace(text))
	case KindWhen, KindRecurring:
		w, n, err := ParseWhen(toks, c.Now, c.Loc, true)
		if err != nil {
			return nil, err
		}
		if n != len(toks) {
			return nil, Userf(ex, "I couldn't read %q as a time.", text)
		}
		if o.Kind == KindRecurring && !w.IsRecurring() {
			return nil, Userf(ex, "%q happens once; this needs a repeating time like every mon 09:00.", text)
		}
		return w, nil
	case KindChannel:
		ch, ok := ParseChannelMention(text)
		if !ok {
			return nil, Userf(ex, "%q is not a channel. Pick the channel from the list as you type #.", text)
		}
		return ch, nil
	case KindUser, KindUsers:
		var ms []Member
		for _, t := range toks {
			ref, name, ok := ParseUserMention(t.Text)
			if !ok {
				return nil, Userf(ex, "%s is not a mention. Pick the member from the list as you type @ so it becomes a real mention.", t.Text)
			}
			m, err := e.dir.Member(ctx, c.Actor.Community, UserRef{Platform: c.Req.User.Platform, Space: c.Req.User.Space, ID: ref}, name, c.Now)
			if err != nil {
				return nil, fmt.Errorf("resolve mention: %w", err)
			}
			ms = append(ms, m)
		}
		if o.Kind == KindUser {
			if len(ms) != 1 {
				return nil, Userf(ex, "Mention exactly one member.")
			}
			return ms[0], nil
		}
		return ms, nil
	}
	return nil, fmt.Errorf("option %s: unknown kind %d", o.Name, o.Kind)
}

// ParseUserMention reads <@ID|name> or <@ID> (Slack's escaped form, which
// adapters normalise every platform's mentions to).
func ParseUserMention(s string) (id, name string, ok bool) {
	if !strings.HasPrefix(s, "<@") || !strings.HasSuffix(s, ">") {
		return "", "", false
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(s, "<@"), ">")
	id, name, _ = strings.Cut(inner, "|")
	id = strings.TrimPrefix(id, "!")
	if id == "" || strings.ContainsAny(id, " <>|@") {
		return "", "", false
	}
	return id, name, true
}

// ParseChannelMention reads <#ID|name> or <#ID>.
func ParseChannelMention(s string) (ChannelRef, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "<#") || !strings.HasSuffix(s, ">") {
		return ChannelRef{}, false
	}
	id, name, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(s, "<#"), ">"), "|")
	if id == "" || strings.ContainsAny(id, " <>|#") {
		return ChannelRef{}, false
	}
	return ChannelRef{ID: id, Name: name}, true
}

// UserMention formats m as the neutral mention <@ID|name>.
func UserMention(m Member) string { return "<@" + m.Ref.ID + "|" + m.Name + ">" }
