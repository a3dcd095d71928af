package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Membership events an adapter reports in Request.Event.
const (
	// EventJoined: a member joined the community (Slack team_join or
	// member_joined_channel with Request.Channel set; Discord guild member
	// add). The core records them (growth) and welcomes them once.
	EventJoined = "member.joined"
	// EventLeft: a member left or was deactivated. The core marks them
	// departed, which drops them from boards; returning reverses it.
	EventLeft = "member.left"
	// EventInstalled: the member installed the app into the community
	// (Slack OAuth); they become its first organiser.
	EventInstalled = "app.installed"
)

// HandleEvent registers h for membership events named name (EventJoined).
// h runs with the member as the actor, like a command.
func (e *Engine) HandleEvent(name string, h Handler) { e.events[name] = h }

// event runs a membership event. A departure marks the member departed
// without a visit (a visit would bring them back).
func (e *Engine) event(ctx context.Context, req Request) (Reply, error) {
	if req.Event == EventLeft {
		if err := e.dir.Depart(ctx, req.Community, req.User, req.Time); err != nil {
			return Reply{}, fmt.Errorf("leave: %w", err)
		}
		return Reply{}, nil
	}
	h, ok := e.events[req.Event]
	actor, err := e.dir.Enter(WithDelivery(ctx, nil), Visit{
		Community: req.Community, CommunityName: req.CommunityName,
		User: req.User, UserName: req.UserName, PlatformAdmin: req.PlatformAdmin, At: req.Time,
	})
	if err != nil {
		return Reply{}, fmt.Errorf("enter: %w", err)
	}
	if !ok {
		return Reply{}, nil
	}
	loc, err := LoadZone(actor.Settings.Timezone)
	if err != nil {
		loc = nil
	}
	c := &Call{Req: req, Actor: actor, Now: req.Time.UTC(), Loc: loc, args: map[string]any{}}
	if c.Loc == nil {
		c.Loc = req.Time.Location()
	}
	reply, err := h(ctx, c)
	if err != nil {
		return Reply{}, err
	}
	return e.route(reply, actor.Settings), nil
}

// Input asks the person who pressed a button for one line of text before
// the action runs (Slack and Discord open a small form). The typed value
// replaces InputMarker in the button's action.
type Input struct {
	Label       string
	Placeholder string
}

// InputMarker stands for the typed value in an action that has an Input.
const InputMarker = "{input}"

// MaxInputLen is the longest value an Input accepts.
const MaxInputLen = 200

// Submit returns the action to run when the person typed value into the
// button's Input: the value, on one line, put in place of InputMarker.
func (b Button) Submit(value string) string {
	value = strings.Join(strings.Fields(value), " ")
	if r := []rune(value); len(r) > MaxInputLen {
		value = string(r[:MaxInputLen])
	}
	return strings.Replace(b.Action, InputMarker, value, 1)
}

// SubmitAction is Button.Submit for an adapter that only kept the action id.
func SubmitAction(action, value string) string { return Button{Action: action}.Submit(value) }

// Choice is one autocomplete suggestion: Name is shown, Value is what the
// option receives.
type Choice struct {
	Name  string
	Value string
}

// Completer suggests values for options of one kind in community c that
// start with (or contain) prefix, at most limit of them.
type Completer func(ctx context.Context, c CommunityID, prefix string, limit int) ([]Choice, error)

// MaxChoices is the most suggestions Complete returns (Discord's limit).
const MaxChoices = 25

// HandleComplete registers f to suggest values for options of kind k.
func (e *Engine) HandleComplete(k Kind, f Completer) { e.completers[k] = f }

// Complete suggests values for option name of req.Command/req.Sub (as
// typed so far: prefix). It returns no choices, not an error, for an
// option nothing completes. It records no visit beyond what Enter does.
func (e *Engine) Complete(ctx context.Context, req Request, option, prefix string) ([]Choice, error) {
	cmd := e.schema.Command(req.Command)
	if cmd == nil {
		return nil, nil
	}
	sub := cmd.Sub(req.Sub)
	if sub == nil {
		sub = cmd.DefaultSub()
	}
	if sub == nil {
		return nil, nil
	}
	var kind Kind = -1
	for _, o := range sub.Options {
		if o.Name == option {
			kind = o.Kind
		}
	}
	var fs []Completer
	switch kind {
	case KindTarget:
		fs = []Completer{e.completers[KindGoal], e.completers[KindOpp]}
	default:
		fs = []Completer{e.completers[kind]}
	}
	if req.Time.IsZero() {
		req.Time = e.clock.Now()
	}
	var actor Actor
	entered := false
	var out []Choice
	for _, f := range fs {
		if f == nil {
			continue
		}
		if !entered {
			a, err := e.dir.Enter(ctx, Visit{Community: req.Community, CommunityName: req.CommunityName,
				User: req.User, UserName: req.UserName, PlatformAdmin: req.PlatformAdmin, At: req.Time})
			if err != nil {
				return nil, fmt.Errorf("complete: %w", err)
			}
			actor, entered = a, true
		}
		cs, err := f(ctx, actor.Community, strings.TrimSpace(prefix), MaxChoices)
		if err != nil {
			return nil, fmt.Errorf("complete %s: %w", option, err)
		}
		out = append(out, cs...)
	}
	if len(fs) > 1 {
		sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	}
	if len(out) > MaxChoices {
		out = out[:MaxChoices]
	}
	return out, nil
}
