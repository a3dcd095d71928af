package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// Settings are a community's choices, read with every request.
type Settings struct {
	Mission             string
	Values              []string
	Timezone            string
	DigestChannel       ChannelRef
	DigestSchedule      string
	DigestOn            bool
	CelebrationsChannel ChannelRef
	WelcomeChannel      ChannelRef
	WelcomeOn           bool
	RetentionDays       int
	KudosPerDay         int
	AdminsAreOrganisers bool
}

// Visit is who is acting where, as the platform told us.
type Visit struct {
	Community     CommunityRef
	CommunityName string
	User          UserRef
	UserName      string
	PlatformAdmin bool
	At            time.Time
}

// Actor is the person acting, resolved in the store.
type Actor struct {
	Community CommunityID
	Member    Member
	Organiser bool
	Hidden    bool
	Settings  Settings
}

// Directory resolves communities and members, creating them on first sight.
// It is safe for concurrent use and idempotent.
type Directory interface {
	// Enter records that v.User acted in v.Community at v.At and returns
	// the community, the member, their role and the community's settings.
	Enter(ctx context.Context, v Visit) (Actor, error)
	// Member returns the member ref names in community c, creating it.
	Member(ctx context.Context, c CommunityID, ref UserRef, name string, at time.Time) (Member, error)
	// Depart marks user departed from community at at (off boards; their
	// data kept until the retention period ends). Unknown members and
	// communities are ignored. Idempotent.
	Depart(ctx context.Context, community CommunityRef, user UserRef, at time.Time) error
}

// Deliveries is the database's record of platform deliveries: the unique key
// behind deduplication, so a retry is recognised even when the coordination
// backend (Redis) is down.
type Deliveries interface {
	// ClaimDelivery records eventID of platform and reports whether this was
	// its first claim. Idempotent and safe for concurrent use.
	ClaimDelivery(ctx context.Context, platform Platform, eventID string, at time.Time) (bool, error)
}

// Outcomes an Observer is told.
const (
	OutcomeOK        = "ok"
	OutcomeRejected  = "rejected"
	OutcomeError     = "error"
	OutcomeDuplicate = "duplicate"
	OutcomeLimited   = "limited"
)

// Observation is what an Observer is told about one request.
type Observation struct {
	// Command is the command name, or the action name of a button.
	Command  string
	Platform Platform
	// Outcome is one of the Outcome constants.
	Outcome  string
	Duration time.Duration
	// Err is the unexpected error behind OutcomeError, else nil.
	Err error
}

// Observer is told about every request, for metrics. It must not block.
type Observer func(Observation)

// DedupTTL is how long a delivery id is remembered by the coordination layer.
const DedupTTL = 24 * time.Hour

// Handler runs one subcommand or button action.
type Handler func(ctx context.Context, c *Call) (Reply, error)

// Engine routes requests to handlers: it parses text against the schema,
// resolves the actor, checks roles, types the arguments and turns errors
// into private messages. It is safe for concurrent use once built.
type Engine struct {
	schema     Schema
	dir        Directory
	clock      Clock
	log        *slog.Logger
	handlers   map[string]Handler
	actions    map[string]Handler
	events     map[string]Handler
	completers map[Kind]Completer

	coord      Coordinator
	deliveries Deliveries
	flood      Rate
	observe    Observer

	// zones remembers the communities' time zones by name (see zone).
	zones sync.Map
}

// UseCoordination makes the engine drop repeated deliveries (same platform
// and event id: first through c, then through the database's unique key d)
// and limit each member to flood requests. Call it before serving.
func (e *Engine) UseCoordination(c Coordinator, d Deliveries, flood Rate) {
	e.coord, e.deliveries, e.flood = c, d, flood
}

// Observe sets the function told about every request. Call it before serving.
func (e *Engine) Observe(o Observer) { e.observe = o }

// NewEngine returns an engine over the command table with no handlers yet.
func NewEngine(schema Schema, dir Directory, clock Clock, log *slog.Logger) *Engine {
	return &Engine{schema: schema, dir: dir, clock: clock, log: log, handlers: map[string]Handler{}, actions: map[string]Handler{},
		events: map[string]Handler{}, completers: map[Kind]Completer{}}
}

// Schema returns the engine's command table.
func (e *Engine) Schema() Schema { return e.schema }

// Clock returns the engine's clock.
func (e *Engine) Clock() Clock { return e.clock }

// Handle registers h for command's subcommand sub ("" for a command
// without subcommands).
func (e *Engine) Handle(command, sub string, h Handler) { e.handlers[command+" "+sub] = h }

// HandleAction registers h for button actions named name ("win.cheer");
// the part of the action id after the colon reaches h as Call.Value.
func (e *Engine) HandleAction(name string, h Handler) { e.actions[name] = h }

// Missing lists the schema's subcommands that have no handler.
func (e *Engine) Missing() []string {
	var out []string
	for _, c := range e.schema {
		for _, s := range c.Subs {
			if c.Name == Umbrella {
				continue
			}
			if _, ok := e.handlers[c.Name+" "+s.Name]; !ok {
				out = append(out, strings.TrimSpace(c.Name+" "+s.Name))
			}
		}
	}
	sort.Strings(out)
	return out
}

// CommandButton returns a button that runs a command as the person who
// presses it, e.g. CommandButton("Join", "volunteer join #12").
func CommandButton(label, command string, style ButtonStyle) Button {
	return Button{Label: label, Action: "cmd:" + command, Style: style}
}

// Do runs req and returns what to show. It never fails: errors become a
// private message, and unexpected ones are logged with a reference.
// A repeated delivery (see UseCoordination) returns a Reply with Duplicate
// set and nothing else.
func (e *Engine) Do(ctx context.Context, req Request) Reply {
	start := time.Now()
	if req.Time.IsZero() {
		req.Time = e.clock.Now()
	}
	reply, outcome, err := e.guarded(ctx, req)
	if e.observe != nil {
		name := req.Command
		if name == "" {
			name, _, _ = strings.Cut(req.Action, ":")
		}
		if name == "" {
			name = req.Event
		}
		e.observe(Observation{Command: name, Platform: req.User.Platform, Outcome: outcome, Duration: time.Since(start), Err: err})
	}
	return reply
}

func (e *Engine) guarded(ctx context.Context, req Request) (Reply, string, error) {
	marked, dup := e.seen(ctx, req)
	if dup {
		return Reply{Duplicate: true}, OutcomeDuplicate, nil
	}
	if e.coord != nil && e.flood.Events > 0 {
		d, err := e.coord.Allow(ctx, e.coord.Keys().Limit("member", req.User.String()), e.flood)
		if err == nil && !d.Allowed {
			e.forget(ctx, req, marked)
			wait := max(time.Second, d.RetryAfter.Round(time.Second))
			return Say(fmt.Sprintf("You're going a little fast. Please try again in %s.", wait)), OutcomeLimited, nil
		}
	}
	var claim *Delivery
	if req.EventID != "" && e.deliveries != nil {
		claim = &Delivery{Platform: req.User.Platform, EventID: req.EventID, At: req.Time}
	}
	reply, err := e.do(WithDelivery(ctx, claim), req)
	_, rejected := AsUserError(err)
	if (err == nil || rejected) && claim != nil && !claim.Claimed() {
		// Nothing this request ran committed a transaction (a read-only
		// command, or one refused): claim it now, so a repeat is still
		// not answered twice.
		// When the database cannot record it, the answer stands (it
		// changed nothing); only the coordination layer's mark then stops
		// a repeat.
		first, cerr := e.deliveries.ClaimDelivery(ctx, claim.Platform, claim.EventID, claim.At)
		switch {
		case cerr != nil:
			e.log.Warn("recording a delivery that changed nothing failed", "event", req.EventID, "err", cerr)
		case !first:
			err = ErrDuplicate
		}
	}
	switch {
	case err == nil:
		return reply, OutcomeOK, nil
	case errors.Is(err, ErrDuplicate):
		return Reply{Duplicate: true}, OutcomeDuplicate, nil
	}
	if ue, ok := AsUserError(err); ok {
		return Say(ue.Error()), OutcomeRejected, nil
	}
	if !claim.Claimed() {
		// Nothing was committed: the platform's retry should run.
		e.forget(ctx, req, marked)
	}
	return e.failure(req, err), OutcomeError, err
}

// seen asks the coordination layer whether req repeats a delivery already
// seen (dup), and reports whether this call marked it (marked). The
// database's unique key decides when the coordination layer says "first"
// or fails: the delivery is recorded inside the command's first write
// transaction (see Delivery), or after it for a command that wrote nothing.
// Every delivery is claimed in the database, read-only commands included:
// the schema does not say which commands change nothing, and a repeat of one
// would show its answer twice.
func (e *Engine) seen(ctx context.Context, req Request) (marked, dup bool) {
	if req.EventID == "" || e.coord == nil {
		return false, false
	}
	first, err := e.coord.FirstSeen(ctx, e.coord.Keys().Dedup(req.User.Platform, req.EventID), DedupTTL)
	if err != nil {
		return false, false
	}
	return first, !first
}

// forget unmarks req's delivery in the coordination layer when this call
// marked it, so that the platform's retry is handled. Best effort: when it
// fails, the retry is dropped as a repeat only while the mark lives.
func (e *Engine) forget(ctx context.Context, req Request, marked bool) {
	if !marked {
		return
	}
	if err := e.coord.Forget(context.WithoutCancel(ctx), e.coord.Keys().Dedup(req.User.Platform, req.EventID)); err != nil {
		e.log.Warn("forgetting a failed delivery failed; a retry of it is dropped until the mark expires", "event", req.EventID, "err", err)
	}
}

func (e *Engine) failure(req Request, err error) Reply {
	ref := newRef()
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		e.log.Warn("store unavailable", "ref", ref, "command", req.Command, "err", err)
		return Say(fmt.Sprintf("I couldn't reach the database just now; nothing was changed. Please try again in a moment (ref %s).", ref))
	}
	e.log.Error("command failed", "ref", ref, "command", req.Command, "action", req.Action, "community", req.Community.String(), "err", err)
	return Say(fmt.Sprintf("Something went wrong (ref %s). Nothing was changed; the organisers can quote the ref.", ref))
}

func newRef() string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (e *Engine) do(ctx context.Context, req Request) (Reply, error) {
	var (
		cmd     *Command
		sub     *Sub
		tokens  map[string][]Token
		options map[string]string
		action  Handler
		value   string
	)
	switch {
	case req.Event != "":
		return e.event(ctx, req)
	case req.Action != "":
		name, v, _ := strings.Cut(req.Action, ":")
		if name == "cmd" {
			c, text, _ := strings.Cut(v, " ")
			req.Command, req.Text, req.Action = c, text, ""
			return e.do(ctx, req)
		}
		h, ok := e.actions[name]
		if !ok {
			return Reply{}, Userf("", "That button no longer works. Type the command instead; /missionbot help lists them.")
		}
		action, value = h, v
	case req.Options != nil && req.Command == Umbrella:
		// The umbrella only answers help, which is read from text.
		req.Text, req.Options = strings.TrimSpace(req.Sub+" "+req.Options["command"]), nil
		return e.do(ctx, req)
	case req.Options != nil:
		cmd = e.schema.Command(req.Command)
		if cmd == nil {
			return Reply{}, Userf("/missionbot help", "There is no /%s command.", req.Command)
		}
		sub = cmd.Sub(req.Sub)
		if sub == nil {
			sub = cmd.DefaultSub()
		}
		if sub == nil {
			return Reply{}, Userf("/missionbot help", "/%s has no %q subcommand.", req.Command, req.Sub)
		}
		options = req.Options
	default:
		p, err := e.schema.Parse(req.Command, req.Text)
		if err != nil {
			return Reply{}, err
		}
		if p.Help {
			return e.help(p), nil
		}
		cmd, sub, tokens = p.Command, p.Sub, p.Tokens
	}
	actor, err := e.dir.Enter(WithDelivery(ctx, nil), Visit{
		Community: req.Community, CommunityName: req.CommunityName,
		User: req.User, UserName: req.UserName, PlatformAdmin: req.PlatformAdmin, At: req.Time,
	})
	if err != nil {
		return Reply{}, fmt.Errorf("enter: %w", err)
	}
	loc := e.zone(actor.Settings.Timezone)
	c := &Call{Req: req, Actor: actor, Now: req.Time.UTC(), Loc: loc, Value: value, args: map[string]any{}}
	var h Handler
	if action != nil {
		h = action
	} else {
		c.Command, c.Sub = cmd, sub
		if sub.Role == Organiser && !actor.Organiser {
			return Reply{}, Userf("", "Only organisers can use %s; /organisers shows who they are.", strings.TrimSpace("/"+cmd.Name+" "+sub.Name))
		}
		if err := e.bind(ctx, c, tokens, options); err != nil {
			return Reply{}, err
		}
		var ok bool
		if h, ok = e.handlers[cmd.Name+" "+sub.Name]; !ok {
			return Reply{}, Userf("/missionbot help", "%s is not available yet.", strings.TrimSpace("/"+cmd.Name+" "+sub.Name))
		}
	}
	reply, err := h(ctx, c)
	if err != nil {
		return Reply{}, err
	}
	return e.route(reply, actor.Settings), nil
}

// zone returns the time zone called name (UTC when it does not load),
// remembering those that load: LoadZone matches the name against every
// known zone, which costs more than the rest of routing a request.
func (e *Engine) zone(name string) *time.Location {
	if loc, ok := e.zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := LoadZone(name)
	if err != nil {
		return time.UTC
	}
	e.zones.Store(name, loc)
	return loc
}

// route sends public posts without a channel to the channel the community
// chose for their kind.
func (e *Engine) route(r Reply, s Settings) Reply {
	for i := range r.Messages {
		m := &r.Messages[i]
		if m.Visibility != Public || m.Channel.ID != "" {
			continue
		}
		switch m.Kind {
		case PostCelebration, PostMilestone:
			m.Channel = s.CelebrationsChannel
		case PostDigest:
			m.Channel = s.DigestChannel
		}
	}
	return r
}

func (e *Engine) help(p *Parsed) Reply {
	if p.Command.Name == Umbrella {
		if toks := p.Tokens["command"]; len(toks) > 0 {
			if c := e.schema.Command(strings.ToLower(strings.TrimPrefix(toks[0].Text, "/"))); c != nil {
				return Reply{Messages: []Message{{Title: "Help: /" + c.Name, Text: e.schema.HelpText(c)}}}
			}
			return Reply{Messages: []Message{{Title: "Help", Text: fmt.Sprintf("There is no %q command.\n", toks[0].Text) + e.schema.Overview()}}}
		}
		return Reply{Messages: []Message{{Title: "Help", Text: e.schema.Overview()}}}
	}
	return Reply{Messages: []Message{{Title: "Help: /" + p.Command.Name, Text: e.schema.HelpText(p.Command)}}}
}
