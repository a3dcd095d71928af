package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// Organisers is what the console needs beyond the engine: making a member an
// organiser for the !organiser directive.
type Organisers interface {
	Enter(ctx context.Context, v bot.Visit) (bot.Actor, error)
	SetOrganiser(ctx context.Context, c bot.CommunityID, m bot.MemberID, on bool) error
}

// Scheduler runs what fell due up to now; the console calls RunDue at each
// tick of !advance, and Dispatch after each command, so posts a command
// enqueued (milestone celebrations) print right after its reply. It may be
// nil.
type Scheduler interface {
	RunDue(ctx context.Context, now time.Time) ([]bot.Message, error)
	Dispatch(ctx context.Context, now time.Time) ([]bot.Message, error)
}

// Community is the console's one community.
var Community = bot.CommunityRef{Platform: bot.Console, ID: "local"}

// DefaultMember is who acts before any !as: the person who installed the
// bot, and so an organiser.
const DefaultMember = "you"

// Console is a REPL over the core: each line is a command or a directive,
// and each reply or post is printed as a block headed [private → name] or
// [#channel]. It is not safe for concurrent use.
type Console struct {
	engine    *bot.Engine
	org       Organisers
	sched     Scheduler
	clock     *bot.ManualClock
	out       io.Writer
	as        string
	channel   string
	n         int
	withBtns  []bot.Message
	organised map[string]bool
}

// New returns a console over engine acting as DefaultMember in #general.
func New(engine *bot.Engine, org Organisers, sched Scheduler, clock *bot.ManualClock, out io.Writer) *Console {
	return &Console{engine: engine, org: org, sched: sched, clock: clock, out: out, as: DefaultMember, channel: "general", organised: map[string]bool{}}
}

// Run reads lines from in until it ends or ctx is done. With prompt set it
// prints a prompt before each line (interactive use).
func (c *Console) Run(ctx context.Context, in io.Reader, prompt bool) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for {
		if prompt {
			fmt.Fprintf(c.out, "%s in #%s> ", c.as, c.channel)
		}
		if !sc.Scan() {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		c.Line(ctx, sc.Text())
	}
	return sc.Err()
}

// Line runs one line: a /command, a !directive, a # comment or nothing.
func (c *Console) Line(ctx context.Context, line string) {
	line = strings.TrimSpace(line)
	switch {
	case line == "" || strings.HasPrefix(line, "#"):
		return
	case strings.HasPrefix(line, "!"):
		c.directive(ctx, line)
	case strings.HasPrefix(line, "/"):
		if err := c.ensureDefaultOrganiser(ctx); err != nil {
			c.note("error: %v", err)
			return
		}
		name, text, _ := strings.Cut(strings.TrimPrefix(line, "/"), " ")
		c.send(ctx, bot.Request{Command: strings.ToLower(name), Text: Normalize(text)})
	default:
		c.note("Commands start with / (try /missionbot help); directives with ! (try !help).")
	}
}

func (c *Console) ensureDefaultOrganiser(ctx context.Context) error {
	if c.as != DefaultMember || c.organised[DefaultMember] {
		return nil
	}
	return c.makeOrganiser(ctx, DefaultMember)
}

func (c *Console) makeOrganiser(ctx context.Context, name string) error {
	a, err := c.org.Enter(ctx, c.visit(name))
	if err != nil {
		return err
	}
	if err := c.org.SetOrganiser(ctx, a.Community, a.Member.ID, true); err != nil {
		return err
	}
	c.organised[name] = true
	return nil
}

func (c *Console) visit(name string) bot.Visit {
	return bot.Visit{Community: Community, CommunityName: "console", User: c.user(name), UserName: name, At: c.clock.Now()}
}

func (c *Console) user(name string) bot.UserRef {
	return bot.UserRef{Platform: bot.Console, Space: Community.ID, ID: name}
}

func (c *Console) send(ctx context.Context, req bot.Request) {
	c.n++
	req.EventID = "console-" + strconv.Itoa(c.n)
	req.Community, req.CommunityName = Community, "console"
	req.User, req.UserName = c.user(c.as), c.as
	req.Channel = bot.ChannelRef{ID: c.channel, Name: c.channel}
	req.Time = c.clock.Now()
	c.print(c.engine.Do(ctx, req).Messages)
	c.dispatch(ctx)
}

// dispatch posts what is due now without running the scheduled jobs (those
// run on !advance), as a live deployment's kicked scheduler would.
func (c *Console) dispatch(ctx context.Context) {
	if c.sched == nil {
		return
	}
	ms, err := c.sched.Dispatch(ctx, c.clock.Now())
	if err != nil {
		c.note("error: %v", err)
	}
	c.print(ms)
}

func (c *Console) print(ms []bot.Message) {
	for _, m := range ms {
		fmt.Fprintf(c.out, "%s\n%s\n\n", Header(m, c.as, c.channel), Render(m))
		if len(m.Buttons) > 0 {
			c.withBtns = append(c.withBtns, m)
		}
	}
}

func (c *Console) note(format string, args ...any) {
	fmt.Fprintf(c.out, "[console]\n%s\n\n", fmt.Sprintf(format, args...))
}

const directivesHelp = `Directives:
!as <name>            act as that member from now on (@name mentions them)
!organiser <name>     make that member an organiser
!channel <name>       the channel following commands are typed in
!now                  print the console clock
!advance <duration>   move the clock forward (90m, 7d) and run what fell due
!click <label> [n]    press the button with that label on the n-th latest message that has one`

func (c *Console) directive(ctx context.Context, line string) {
	fields := strings.Fields(line)
	arg := ""
	if len(fields) > 1 {
		arg = strings.Join(fields[1:], " ")
	}
	switch strings.ToLower(fields[0]) {
	case "!help":
		c.note(directivesHelp)
	case "!as":
		name := strings.TrimPrefix(arg, "@")
		if !validName(name) {
			c.note("!as needs a name of letters, digits, dot, dash or underscore. Example: !as alice")
			return
		}
		c.as = name
		c.note("You are now %s.", name)
	case "!organiser", "!organizer":
		name := strings.TrimPrefix(arg, "@")
		if !validName(name) {
			c.note("!organiser needs a name. Example: !organiser olive")
			return
		}
		if err := c.makeOrganiser(ctx, name); err != nil {
			c.note("error: %v", err)
			return
		}
		c.note("%s is now an organiser.", name)
	case "!channel":
		name := strings.TrimPrefix(arg, "#")
		if !validName(name) {
			c.note("!channel needs a channel name. Example: !channel volunteering")
			return
		}
		c.channel = name
		c.note("Now in #%s.", name)
	case "!now":
		c.note("%s", c.clock.Now().Format("Mon 2006-01-02 15:04 MST"))
	case "!advance":
		d, err := bot.ParseDuration(arg)
		if err != nil {
			c.note("%v", err)
			return
		}
		c.advance(ctx, d)
	case "!click":
		c.click(ctx, fields[1:])
	default:
		c.note("Unknown directive %s.\n%s", fields[0], directivesHelp)
	}
}

// tickEvery is the console's scheduler tick while !advance moves the clock.
const tickEvery = 15 * time.Minute

// advance moves the clock forward by d in scheduler ticks, running what fell
// due at each one, so posts come out in time order as they would live.
func (c *Console) advance(ctx context.Context, d time.Duration) {
	end := c.clock.Now().Add(d)
	for c.sched != nil {
		next := c.clock.Now().Truncate(tickEvery).Add(tickEvery)
		if next.After(end) {
			break
		}
		c.clock.Set(next)
		c.runDue(ctx, next)
	}
	c.clock.Set(end)
	c.runDue(ctx, end)
	c.note("The clock is now %s.", end.Format("Mon 2006-01-02 15:04 MST"))
}

func (c *Console) runDue(ctx context.Context, now time.Time) {
	if c.sched == nil {
		return
	}
	ms, err := c.sched.RunDue(ctx, now)
	if err != nil {
		c.note("error: %v", err)
	}
	c.print(ms)
}

func (c *Console) click(ctx context.Context, args []string) {
	if len(args) == 0 {
		c.note("!click needs a button label. Example: !click Join")
		return
	}
	nth := 1
	if n, err := strconv.Atoi(args[len(args)-1]); err == nil && len(args) > 1 {
		nth, args = n, args[:len(args)-1]
	}
	label := strings.Join(args, " ")
	seen := 0
	for i := len(c.withBtns) - 1; i >= 0; i-- {
		for _, b := range c.withBtns[i].Buttons {
			if strings.EqualFold(b.Label, label) || strings.EqualFold(strings.TrimSpace(stripEmoji(b.Label)), label) {
				seen++
				if seen == nth {
					c.send(ctx, bot.Request{Action: b.Action})
					return
				}
			}
		}
	}
	c.note("No button labelled %q on the messages so far.", label)
}

func stripEmoji(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0x2000 {
			return -1
		}
		return r
	}, s)
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return false
		}
	}
	return true
}
