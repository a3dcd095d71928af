package discord

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// component answers a button press. A button that asks for input first
// (custom_id with InputPrefix) opens its modal at once, without the engine;
// any other press runs its action through the engine like a command. An id
// the core no longer knows gets the engine's polite private answer.
func (a *Adapter) component(ctx context.Context, i *discordgo.Interaction, respond respondFunc, viaHTTP bool) {
	data, ok := i.Data.(discordgo.MessageComponentInteractionData)
	if ok {
		if _, wantsInput := ButtonAction(data.CustomID); wantsInput {
			label := buttonLabel(i.Message, data.CustomID)
			modal := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal,
				Data: InputModal(data.CustomID, bot.Input{Label: label})}
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
