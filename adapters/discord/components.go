package discord

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// component answers a button press. A button that asks for input first
// (custom_id with InputPrefix) opens its modal at once, without the engine,
// asking the question remembered when the button was drawn (see
// rememberInputs);
// any other press runs its action through the engine like a command. An id
// the core no longer knows gets the engine's polite private answer.
func (a *Adapter) component(ctx context.Context, i *discordgo.Interaction, respond respondFunc, viaHTTP bool) {
	data, ok := i.Data.(discordgo.MessageComponentInteractionData)
	if ok {
		if _, wantsInput := ButtonAction(data.CustomID); wantsInput {
			modal := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal,
				Data: a.inputModal(ctx, data.CustomID, buttonLabel(i.Message, data.CustomID))}
			a.logRespond(i, respond(modal))
			return
		}
	}
	a.answer(ctx, i, respond, viaHTTP, func(ctx context.Context) (bot.Request, bot.Reply) {
		req, _, err := componentRequest(i, a.guildInfo(ctx, i.GuildID), a.clock.Now())
		if err != nil {
			return req, bot.Say(userMessage(err))
		}
		return req, a.engine.Do(ctx, req)
	})
}

// modal runs a submitted input modal: the typed value goes into the
// button's action (bot.SubmitAction) and the engine runs it.
func (a *Adapter) modal(ctx context.Context, i *discordgo.Interaction, respond respondFunc, viaHTTP bool) {
	a.answer(ctx, i, respond, viaHTTP, func(ctx context.Context) (bot.Request, bot.Reply) {
		req, err := modalRequest(i, a.guildInfo(ctx, i.GuildID), a.clock.Now())
		if err != nil {
			return req, bot.Say(userMessage(err))
		}
		return req, a.engine.Do(ctx, req)
	})
}

// command runs an application command through the engine.
func (a *Adapter) command(ctx context.Context, i *discordgo.Interaction, respond respondFunc, viaHTTP bool) {
	a.answer(ctx, i, respond, viaHTTP, func(ctx context.Context) (bot.Request, bot.Reply) {
		req, _, err := commandRequest(i, a.guildInfo(ctx, i.GuildID), a.clock.Now())
		if err != nil {
			return req, bot.Say(userMessage(err))
		}
		return req, a.engine.Do(ctx, req)
	})
}

// inputTTL is how long the question of an input button is remembered after
// it was last drawn; a press after that asks with the button's label.
const inputTTL = 30 * 24 * time.Hour

// inputLookup bounds the look-up of a question before the modal opens,
// which must happen within the interaction's 3 seconds, and the writes that
// remember questions.
const inputLookup = 500 * time.Millisecond

// inputQuestion is what the modal of an input button asks, kept in the
// coordination cache under the button's custom_id: Discord's 100-character
// custom_id has no room for the core's bot.Input.
type inputQuestion struct {
	Button      string `json:"b,omitempty"`
	Label       string `json:"l,omitempty"`
	Placeholder string `json:"p,omitempty"`
}

func inputKey(c bot.Coordinator, customID string) string {
	return c.Keys().Cache("discord-input", customID)
}

// rememberInputs records, for every drawn button of ms that asks for input,
// its label and bot.Input under its custom_id, for inputTTL, so that a press
// on any replica opens the modal the core described. It takes at most
// inputLookup and is best effort: a failure is logged and the press falls
// back to the button's label.
func rememberInputs(ctx context.Context, c bot.Coordinator, log *slog.Logger, ms []bot.Message) {
	ctx, cancel := context.WithTimeout(ctx, inputLookup)
	defer cancel()
	for _, m := range ms {
		for _, b := range m.Buttons {
			id, ok := ButtonID(b)
			if !ok || b.Input == nil {
				continue
			}
			v, err := json.Marshal(inputQuestion{Button: b.Label, Label: b.Input.Label, Placeholder: b.Input.Placeholder})
			if err == nil {
				err = c.Set(ctx, inputKey(c, id), v, inputTTL)
			}
			if err != nil {
				log.Warn("discord: input button question not remembered; its modal will ask with the button's label", "custom_id", id, "err", err)
			}
		}
	}
}

// inputModal is the modal for a press on the input button customID: the
// remembered question, or else one labelled with the button's label as
// drawn on the message (label; "" when unknown).
func (a *Adapter) inputModal(ctx context.Context, customID, label string) *discordgo.InteractionResponseData {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), inputLookup)
	defer cancel()
	q := inputQuestion{Button: label, Label: label}
	if raw, ok, err := a.coord.Get(ctx, inputKey(a.coord, customID)); err != nil {
		a.log.Warn("discord: input button question look-up failed", "custom_id", customID, "err", err)
	} else if ok {
		var got inputQuestion
		if json.Unmarshal(raw, &got) == nil && got.Label != "" {
			q = got
			if label != "" {
				q.Button = label
			}
		}
	}
	d := InputModal(customID, bot.Input{Label: q.Label, Placeholder: q.Placeholder})
	if t := cut(plainMentions(q.Button), maxModalTitle); t != "" {
		d.Title = t
	}
	return d
}
