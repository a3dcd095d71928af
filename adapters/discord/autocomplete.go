package discord

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// maxChoiceLen is Discord's limit on an autocomplete choice's name and value.
const maxChoiceLen = 100

// autocompleteResponse is a type 8 response. discordgo's
// InteractionResponseData drops an empty choice list (omitempty), which
// Discord needs to show "no options".
type autocompleteResponse struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data struct {
		Choices []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
	} `json:"data"`
}

// autocomplete answers an APPLICATION_COMMAND_AUTOCOMPLETE interaction with
// the engine's suggestions for the focused option (goals, opportunities),
// within a.ackWithin; on any failure it answers with no suggestions.
func (a *Adapter) autocomplete(ctx context.Context, i *discordgo.Interaction, respond respondFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.ackWithin)
	defer cancel()
	resp := &autocompleteResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult}
	resp.Data.Choices = []*discordgo.ApplicationCommandOptionChoice{}
	req, focus, err := commandRequest(i, a.guildInfo(ctx, i.GuildID), a.clock.Now())
	if err == nil && focus != "" {
		var cs []bot.Choice
		cs, err = a.engine.Complete(ctx, req, focus, req.Options[focus])
		for _, c := range cs {
			if len(resp.Data.Choices) == bot.MaxChoices {
				break
			}
			if c.Value == "" || textLen(c.Value) > maxChoiceLen {
				continue
			}
			name := cut(c.Name, maxChoiceLen)
			if name == "" {
				name = c.Value
			}
			resp.Data.Choices = append(resp.Data.Choices, &discordgo.ApplicationCommandOptionChoice{Name: name, Value: c.Value})
		}
	}
	if err != nil {
		a.log.Warn("discord autocomplete failed", "interaction", i.ID, "err", err)
	}
	a.logRespond(i, respond(resp))
}
