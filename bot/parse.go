package bot

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxTextLen is the longest command text accepted, in characters.
const MaxTextLen = 2000

// Parsed is typed text matched against a subcommand's options: the tokens
// each option took. Values are checked and typed later, by Bind.
type Parsed struct {
	Command *Command
	Sub     *Sub
	// Help is true when the person asked for help ("/pledge help").
	Help   bool
	Tokens map[string][]Token
}

// Usage returns the usage line of a subcommand: /pledge add <amount> [unit] [to] <goal> [anonymously].
func Usage(c *Command, s *Sub) string {
	var b strings.Builder
	b.WriteString("/" + c.Name)
	if s.Name != "" {
		b.WriteString(" " + s.Name)
	}
	for _, o := range s.Options {
		b.WriteByte(' ')
		switch {
		case o.Kind == KindFlag:
			b.WriteString("[" + o.Name + "]")
		case o.Keyword != "" && o.KeywordOptional:
			b.WriteString("[" + o.Keyword + "] <" + o.Placeholder + ">")
		case o.Keyword != "" && o.Required:
			b.WriteString(o.Keyword + " <" + o.Placeholder + ">")
		case o.Keyword != "":
			b.WriteString("[" + o.Keyword + " <" + o.Placeholder + ">]")
		case o.Required:
			b.WriteString("<" + o.Placeholder + ">")
		default:
			b.WriteString("[" + o.Placeholder + "]")
		}
	}
	return b.String()
}

func example(s *Sub) string {
	if len(s.Examples) > 0 {
		return s.Examples[0]
	}
	return ""
}

// Parse reads typed text for command name: it picks the subcommand (the
// first word, or the default one) and matches the rest against its options.
// Errors are *UserError naming what was wrong with a correct example.
func (s Schema) Parse(name, text string) (*Parsed, error) {
	if n := utf8.RuneCountInString(text); n > MaxTextLen {
		return nil, Userf("", "That is %d characters long; the most a command takes is %d. Shorten it and try again.", n, MaxTextLen)
	}
	cmd := s.Command(strings.ToLower(name))
	if cmd == nil {
		return nil, Userf("/missionbot help", "There is no /%s command.", name)
	}
	toks := Tokenize(text)
	if cmd.Name == Umbrella {
		if len(toks) > 0 && !toks[0].Quoted {
			first := strings.ToLower(strings.TrimPrefix(toks[0].Text, "/"))
			if first != "help" && first != Umbrella {
				if s.Command(first) == nil {
					return nil, Userf("/missionbot help", "There is no %q command.", toks[0].Text)
				}
				return s.Parse(first, restText(text, toks[1:]))
			}
		}
		p := &Parsed{Command: cmd, Sub: cmd.DefaultSub(), Help: true, Tokens: map[string][]Token{}}
		if len(toks) > 1 {
			p.Tokens["command"] = toks[1:2]
		}
		return p, nil
	}
	if len(toks) > 0 && toks[0].IsWord("help") {
		return &Parsed{Command: cmd, Help: true}, nil
	}
	sub := cmd.DefaultSub()
	if len(toks) > 0 && !toks[0].Quoted {
		if named := cmd.Sub(strings.ToLower(toks[0].Text)); named != nil {
			sub, toks = named, toks[1:]
		}
	}
	if sub == nil {
		return nil, Userf(example(&cmd.Subs[0]), "/%s needs one of: %s.", cmd.Name, subNames(cmd))
	}
	m := matcher{opts: sub.Options, toks: toks, vals: make([][]Token, len(sub.Options)), fail: -1, failMissing: -1}
	m.match(0, 0, 0)
	if m.best == nil {
		return nil, m.error(cmd, sub)
	}
	p := &Parsed{Command: cmd, Sub: sub, Tokens: map[string][]Token{}}
	for i, o := range sub.Options {
		if m.best[i] != nil {
			p.Tokens[o.Name] = m.best[i]
		}
	}
	return p, nil
}

// restText returns the part of text from the first of toks on, keeping its
// quotes, by re-tokenising: simpler is to rebuild with quotes.
func restText(_ string, toks []Token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		if t.Quoted {
			parts[i] = `"` + t.Text + `"`
		} else {
			parts[i] = t.Text
		}
	}
	return strings.Join(parts, " ")
}

func subNames(c *Command) string {
	var names []string
	for _, s := range c.Subs {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// maxSteps bounds the matcher's backtracking on hostile input.
const maxSteps = 20000

type matcher struct {
	opts  []Option
	toks  []Token
	vals  [][]Token
	steps int
	// The best complete match so far: most options filled, then fewest
	// words taken by free text, then the first found.
	best      [][]Token
	bestScore [2]int
	// The failure that got furthest, for the error message.
	fail        int
	failMissing int // option index missing at the end, or -1
}

func positional(o Option) bool {
	return o.Kind != KindFlag && (o.Keyword == "" || o.KeywordOptional)
}

func (m *matcher) note(i, missing int) {
	if i > m.fail || (i == m.fail && m.failMissing < 0 && missing >= 0) {
		m.fail, m.failMissing = i, missing
	}
}

func (m *matcher) match(i, pos int, filled uint64) bool {
	m.steps++
	if m.steps > maxSteps {
		return false
	}
	if i == len(m.toks) {
		for k, o := range m.opts {
			if o.Required && filled&(1<<k) == 0 {
				m.note(i, k)
				return false
			}
		}
		score := [2]int{0, 0}
		for k, o := range m.opts {
			if filled&(1<<k) != 0 {
				score[0]++
				if o.Kind == KindText || o.Kind == KindRest {
					score[1] -= len(m.vals[k])
				}
			}
		}
		if m.best == nil || score[0] > m.bestScore[0] || (score[0] == m.bestScore[0] && score[1] > m.bestScore[1]) {
			m.bestScore = score
			m.best = make([][]Token, len(m.opts))
			for k := range m.opts {
				if filled&(1<<k) != 0 {
					m.best[k] = append([]Token{}, m.vals[k]...)
				}
			}
		}
		return false
	}
	tok := m.toks[i]
	for k, o := range m.opts {
		if filled&(1<<k) != 0 || tok.Quoted {
			continue
		}
		switch {
		case o.Kind == KindFlag && tok.IsWord(o.Name):
			m.vals[k] = m.toks[i : i+1]
			if m.match(i+1, pos, filled|1<<k) {
				return true
			}
		case o.Kind != KindFlag && o.Keyword != "" && tok.IsWord(o.Keyword):
			np := pos
			if o.KeywordOptional && k >= pos {
				np = k + 1
			}
			for _, n := range m.lengths(o, i+1, filled|1<<k) {
				m.vals[k] = m.toks[i+1 : i+1+n]
				if m.match(i+1+n, np, filled|1<<k) {
					return true
				}
			}
		}
	}
	p := pos
	for p < len(m.opts) && (!positional(m.opts[p]) || filled&(1<<p) != 0) {
		p++
	}
	if p == len(m.opts) {
		m.note(i, -1)
		return false
	}
	o := m.opts[p]
	if !o.Required && m.match(i, p+1, filled) {
		return true
	}
	for _, n := range m.lengths(o, i, filled|1<<p) {
		m.vals[p] = m.toks[i : i+n]
		if m.match(i+n, p+1, filled|1<<p) {
			return true
		}
	}
	m.note(i, p)
	return false
}

var (
	timeShape     = regexp.MustCompile(`^(?i)\d{1,2}(:\d{2})?\s*(am|pm)?$`)
	dateShape     = regexp.MustCompile(`^\d{4}-\d{1,2}-\d{1,2}$`)
	durationShape = regexp.MustCompile(`^(?i)\d`)
	dayWords      = map[string]bool{
		"today": true, "tomorrow": true,
		"mon": true, "tue": true, "tues": true, "wed": true, "thu": true, "thur": true, "thurs": true, "fri": true, "sat": true, "sun": true,
		"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true,
	}
)

// whenLen returns how many tokens at the start of toks look like a time
// expression, or 0. The values are checked later by ParseWhen.
func whenLen(toks []Token) int {
	if len(toks) == 0 || toks[0].Quoted {
		return 0
	}
	w := strings.ToLower(toks[0].Text)
	isTime := func(j int) bool { return j < len(toks) && !toks[j].Quoted && timeShape.MatchString(toks[j].Text) }
	switch {
	case w == "every":
		if len(toks) > 1 && (dayWords[strings.ToLower(toks[1].Text)] || strings.EqualFold(toks[1].Text, "day")) {
			if isTime(2) {
				return 3
			}
			return 2
		}
		return 1
	case w == "cron":
		return min(6, len(toks))
	case w == "in":
		if len(toks) > 1 && durationShape.MatchString(toks[1].Text) {
			return 2
		}
		return 0
	case dayWords[w] || dateShape.MatchString(w) || strings.Count(w, "-") == 2:
		if isTime(1) {
			return 2
		}
		return 1
	}
	return 0
}

func isMention(t Token) bool {
	return !t.Quoted && (strings.HasPrefix(t.Text, "<@") || strings.HasPrefix(t.Text, "@"))
}

// lengths returns the numbers of tokens option o may take at position i, in
// the order to try them.
func (m *matcher) lengths(o Option, i int, filled uint64) []int {
	rest := m.toks[i:]
	if len(rest) == 0 {
		return nil
	}
	one := []int{1}
	t := rest[0]
	if o.Kind != KindRest && o.Kind != KindText && o.Kind != KindWhen && (m.isKeyword(t, filled) || (o.Keyword != "" && t.IsWord(o.Keyword))) {
		return nil
	}
	switch o.Kind {
	case KindAmount:
		l := strings.ToLower(t.Text)
		if strings.ContainsAny(l, "0123456789") || strings.Contains(l, "nan") || strings.Contains(l, "inf") {
			return one
		}
		return nil
	case KindInt, KindDuration, KindDate:
		if strings.ContainsAny(t.Text, "0123456789") {
			return one
		}
		return nil
	case KindID:
		if strings.HasPrefix(t.Text, "#") || strings.ContainsAny(t.Text[:1], "0123456789") {
			return one
		}
		return nil
	case KindChannel:
		if strings.HasPrefix(t.Text, "<#") || strings.HasPrefix(t.Text, "#") {
			return one
		}
		return nil
	case KindUser:
		if isMention(t) {
			return one
		}
		return nil
	case KindUsers:
		n := 0
		for n < len(rest) && isMention(rest[n]) {
			n++
		}
		var out []int
		for ; n > 0; n-- {
			out = append(out, n)
		}
		return out
	case KindChoice:
		for _, c := range o.Choices {
			if t.IsWord(c) {
				return one
			}
		}
		return nil
	case KindWhen, KindRecurring:
		if n := whenLen(rest); n > 0 {
			return []int{n}
		}
		return nil
	case KindText, KindRest:
		if o.Kind == KindText && t.Quoted {
			return one
		}
		var bounds, others []int
		for j := 1; j < len(rest); j++ {
			if m.isKeyword(rest[j], filled) {
				bounds = append(bounds, j)
			}
		}
		seen := map[int]bool{}
		for _, b := range bounds {
			seen[b] = true
		}
		for j := len(rest); j >= 1; j-- {
			if !seen[j] {
				others = append(others, j)
			}
		}
		return append(bounds, others...)
	}
	return one
}

func (m *matcher) isKeyword(t Token, filled uint64) bool {
	for k, o := range m.opts {
		if filled&(1<<k) != 0 {
			continue
		}
		if (o.Kind == KindFlag && t.IsWord(o.Name)) || (o.Keyword != "" && t.IsWord(o.Keyword)) {
			return true
		}
	}
	return false
}

func (m *matcher) error(c *Command, s *Sub) error {
	usage := Usage(c, s)
	ex := example(s)
	if m.steps > maxSteps {
		return Userf(ex, "That is too tangled to read. Usage: %s.", usage)
	}
	if m.failMissing >= 0 {
		o := s.Options[m.failMissing]
		if m.fail < len(m.toks) {
			return Userf(ex, "%q is not a valid <%s>. Usage: %s.", m.toks[m.fail].Text, o.Placeholder, usage)
		}
		return Userf(ex, "Missing <%s> (%s). Usage: %s.", o.Placeholder, o.Description, usage)
	}
	if m.fail >= 0 && m.fail < len(m.toks) {
		return Userf(ex, "I didn't expect %q there. Usage: %s.", JoinTokens(m.toks[m.fail:]), usage)
	}
	return Userf(ex, "I couldn't read that. Usage: %s.", usage)
}

// HelpText returns the usage of one command with each subcommand's summary
// and an example, generated from the schema.
func (s Schema) HelpText(c *Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "/%s — %s\n", c.Name, c.Summary)
	for i := range c.Subs {
		sub := &c.Subs[i]
		role := ""
		if sub.Role == Organiser {
			role = " (organisers)"
		}
		def := ""
		if sub.Default && sub.Name != "" {
			def = " (default)"
		}
		fmt.Fprintf(&b, "• %s%s — %s%s\n", Usage(c, sub), def, sub.Summary, role)
		if len(sub.Examples) > 0 {
			fmt.Fprintf(&b, "    e.g. %s\n", sub.Examples[0])
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// Overview lists every command with its summary, for /missionbot help.
func (s Schema) Overview() string {
	var b strings.Builder
	b.WriteString("missionbot commands (type /<command> help for details; every command also works as /missionbot <command> …):\n")
	for _, c := range s {
		if c.Name == Umbrella {
			continue
		}
		fmt.Fprintf(&b, "• /%s — %s\n", c.Name, c.Summary)
	}
	return strings.TrimRight(b.String(), "\n")
}
