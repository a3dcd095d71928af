package discord

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// StateStore keeps small shared values in the database; *storage.Store
// implements it.
type StateStore interface {
	// State returns the value named key and whether it exists.
	State(ctx context.Context, key string) (string, bool, error)
	// SetState sets the value named key.
	SetState(ctx context.Context, key, value string, at time.Time) error
}

// Discord's command limits.
const (
	maxCommandName = 32
	maxCommandDesc = 100
	maxChoices     = 25
)

// Commands returns the Discord chat-input commands for schema, one per
// command. A command with subcommands registers each as a subcommand (type
// 1), the default one too, since Discord cannot run a command with
// subcommands bare; a command without subcommands takes its options
// directly. Options are typed as the core reads them (amounts, times and
// references as strings the core parses; goal, opportunity and target
// references autocompleted), required ones first, as Discord demands.
// No default_member_permissions is set: the core checks organisers, and
// organisers it adds must not be locked out. Commands are guild-only.
// Commands is pure and deterministic.
func Commands(schema bot.Schema) []*discordgo.ApplicationCommand {
	out := make([]*discordgo.ApplicationCommand, 0, len(schema))
	guildOnly := []discordgo.InteractionContextType{discordgo.InteractionContextGuild}
	for i := range schema {
		c := &schema[i]
		cmd := &discordgo.ApplicationCommand{
			Type:        discordgo.ChatApplicationCommand,
			Name:        commandName(c.Name),
			Description: describe(c.Summary, c.Name),
			Contexts:    &guildOnly,
		}
		if len(c.Subs) == 1 && c.Subs[0].Name == "" {
			cmd.Options = options(schema, c, &c.Subs[0])
		} else {
			for j := range c.Subs {
				s := &c.Subs[j]
				desc := s.Summary
				if s.Role == bot.Organiser {
					desc += " (organisers)"
				}
				cmd.Options = append(cmd.Options, &discordgo.ApplicationCommandOption{
					Type:        discordgo.ApplicationCommandOptionSubCommand,
					Name:        commandName(s.Name),
					Description: describe(desc, s.Name),
					Options:     options(schema, c, s),
				})
			}
		}
		out = append(out, cmd)
	}
	return out
}

// commandName lowercases name and keeps it within 32 characters.
func commandName(name string) string {
	name = strings.ToLower(name)
	if r := []rune(name); len(r) > maxCommandName {
		name = string(r[:maxCommandName])
	}
	return name
}

// describe returns a 1–100 character description.
func describe(s, fallback string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		s = fallback
	}
	if r := []rune(s); len(r) > maxCommandDesc {
		s = string(r[:maxCommandDesc-1]) + "…"
	}
	return s
}

// options maps a subcommand's options, required ones first.
func options(schema bot.Schema, c *bot.Command, s *bot.Sub) []*discordgo.ApplicationCommandOption {
	var req, opt []*discordgo.ApplicationCommandOption
	for _, o := range s.Options {
		d := option(schema, c, o)
		if d.Required {
			req = append(req, d)
		} else {
			opt = append(opt, d)
		}
	}
	return append(req, opt...)
}

// option maps one option. What reaches the core: STRING as typed, USER as
// "<@ID|name>", CHANNEL as "<#ID|name>", INTEGER as decimal digits and
// BOOLEAN as "true"/"false" (the core's flag binding reads "true").
func option(schema bot.Schema, c *bot.Command, o bot.Option) *discordgo.ApplicationCommandOption {
	d := &discordgo.ApplicationCommandOption{
		Type:        discordgo.ApplicationCommandOptionString,
		Name:        commandName(o.Name),
		Description: describe(o.Description, o.Name),
		Required:    o.Required,
	}
	switch o.Kind {
	case bot.KindGoal, bot.KindOpp, bot.KindTarget:
		d.Autocomplete = true
	case bot.KindUser:
		d.Type = discordgo.ApplicationCommandOptionUser
	case bot.KindChannel:
		d.Type = discordgo.ApplicationCommandOptionChannel
		d.ChannelTypes = []discordgo.ChannelType{discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews}
	case bot.KindInt:
		d.Type = discordgo.ApplicationCommandOptionInteger
	case bot.KindID:
		d.Type = discordgo.ApplicationCommandOptionInteger
		one := 1.0
		d.MinValue = &one
	case bot.KindFlag:
		d.Type = discordgo.ApplicationCommandOptionBoolean
	case bot.KindOnOff:
		d.Choices = choices([]string{"on", "off"})
	case bot.KindChoice:
		d.Choices = choices(o.Choices)
	case bot.KindWord:
		// /missionbot help <command>: offer the command names.
		if c.Name == bot.Umbrella && o.Name == "command" {
			var names []string
			for _, other := range schema {
				if other.Name != bot.Umbrella {
					names = append(names, other.Name)
				}
			}
			if len(names) <= maxChoices {
				d.Choices = choices(names)
			}
		}
	}
	return d
}

func choices(vs []string) []*discordgo.ApplicationCommandOptionChoice {
	out := make([]*discordgo.ApplicationCommandOptionChoice, 0, min(len(vs), maxChoices))
	for _, v := range vs[:min(len(vs), maxChoices)] {
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: v, Value: v})
	}
	return out
}

// CommandsHash returns the hex SHA-256 of the JSON of cmds: what Ensure
// compares to know whether the registered commands are current.
func CommandsHash(cmds []*discordgo.ApplicationCommand) (string, error) {
	b, err := json.Marshal(cmds)
	if err != nil {
		return "", fmt.Errorf("hash commands: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// registerLease is how long one replica may hold the registration lease.
const registerLease = 2 * time.Minute

// Registrar registers missionbot's commands with Discord, globally or in one
// guild, only when they changed since the last registration (the hash is kept
// in the database), and under a lease so that replicas do not all register.
// It is safe for concurrent use.
type Registrar struct {
	s       *discordgo.Session
	appID   string
	guildID string
	state   StateStore
	coord   bot.Coordinator
	clock   bot.Clock
	log     *slog.Logger
	// Schema is the command table registered; NewRegistrar sets bot.Commands.
	Schema bot.Schema
	// Timeout bounds the registration request; NewRegistrar sets
	// DefaultRegisterTimeout.
	Timeout time.Duration
}

// DefaultRegisterTimeout bounds one registration request, well inside the
// registration lease.
const DefaultRegisterTimeout = 30 * time.Second

// NewRegistrar returns a registrar for application appID, registering in
// guildID when it is set (instant, for development) and globally otherwise.
func NewRegistrar(s *discordgo.Session, appID, guildID string, state StateStore, coord bot.Coordinator, clock bot.Clock, log *slog.Logger) *Registrar {
	return &Registrar{s: s, appID: appID, guildID: guildID, state: state, coord: coord, clock: clock, log: log, Schema: bot.Commands, Timeout: DefaultRegisterTimeout}
}

// StateKey is the state key holding the hash of the registered commands:
// "discord.commands.<appID>.<guild id or global>".
func (r *Registrar) StateKey() string {
	scope := r.guildID
	if scope == "" {
		scope = "global"
	}
	return "discord.commands." + r.appID + "." + scope
}

// Ensure registers the commands when their hash differs from the one
// stored, and reports whether it registered. When the hash is current it
// makes no call to Discord. When another replica holds the registration
// lease it returns (false, nil): that replica registers. Ensure never
// retries; a failed registration is registered by the next Ensure.
func (r *Registrar) Ensure(ctx context.Context) (bool, error) {
	return r.register(ctx, false)
}

// Register registers the commands now, whatever the stored hash says, and
// records the hash. It returns (false, nil) when another replica holds the
// registration lease.
func (r *Registrar) Register(ctx context.Context) (bool, error) {
	return r.register(ctx, true)
}

func (r *Registrar) register(ctx context.Context, force bool) (bool, error) {
	cmds := Commands(r.Schema)
	hash, err := CommandsHash(cmds)
	if err != nil {
		return false, err
	}
	key := r.StateKey()
	if !force {
		if cur, ok, err := r.state.State(ctx, key); err != nil {
			return false, fmt.Errorf("discord commands: %w", err)
		} else if ok && cur == hash {
			return false, nil
		}
	}
	lease, ok, err := r.coord.Acquire(ctx, r.coord.Keys().Lease("discord-register"), registerLease)
	if err != nil {
		return false, fmt.Errorf("discord commands: lease: %w", err)
	}
	if !ok {
		r.log.Info("discord commands: another replica is registering", "scope", key)
		return false, nil
	}
	defer func() {
		// Released with a fresh context: the caller's may be done.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = lease.Release(rctx)
	}()
	if !force {
		// Another replica may have registered while this one waited.
		if cur, ok, err := r.state.State(ctx, key); err != nil {
			return false, fmt.Errorf("discord commands: %w", err)
		} else if ok && cur == hash {
			return false, nil
		}
	}
	rctx := ctx
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	created, err := r.s.ApplicationCommandBulkOverwrite(r.appID, r.guildID, cmds, discordgo.WithContext(rctx),
		discordgo.WithRetryOnRatelimit(false), discordgo.WithRestRetries(0))
	if err != nil {
		return false, fmt.Errorf("discord commands: register %d in %s: %w", len(cmds), scopeName(r.guildID), classify(err, false))
	}
	if err := r.state.SetState(ctx, key, hash, r.clock.Now()); err != nil {
		return true, fmt.Errorf("discord commands: registered but not recorded: %w", err)
	}
	r.log.Info("discord commands registered", "scope", scopeName(r.guildID), "count", len(created), "hash", hash[:12])
	return true, nil
}

func scopeName(guildID string) string {
	if guildID == "" {
		return "global"
	}
	return "guild " + guildID
}
