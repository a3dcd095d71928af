package main

import (
	"errors"
	"fmt"

	"github.com/bwmarrin/discordgo"
	"github.com/spf13/cobra"

	"github.com/missionbot/missionbot/adapters/discord"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/config"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/storage"
)

func discordCmd(load func() (*config.Config, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "discord",
		Short: "Discord set-up: the invite URL and slash-command registration",
	}
	cmd.AddCommand(discordInviteCmd(load), discordRegisterCmd(load))
	return cmd
}

func discordInviteCmd(load func() (*config.Config, error)) *cobra.Command {
	var guild string
	cmd := &cobra.Command{
		Use:   "invite-url",
		Short: "Print the URL that adds the bot to a server with only the permissions it needs",
		Long: `invite-url prints the OAuth2 authorize URL for discord.application_id with the
scopes bot and applications.commands and the permissions the bot needs: View
Channels, Send Messages, Embed Links, Attach Files and Use Application Commands.
Open it as a member with Manage Server on the server to add the bot there.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			if cfg.Discord.ApplicationID == "" {
				return errors.New("config: discord.application_id: required to build the invite URL")
			}
			if guild == "" {
				guild = cfg.Discord.GuildID
			}
			fmt.Fprintln(cmd.OutOrStdout(), discord.InviteURL(cfg.Discord.ApplicationID, guild))
			return nil
		},
	}
	cmd.Flags().StringVar(&guild, "guild", "", "preselect this server (default: discord.guild_id, if set)")
	return cmd
}

func discordRegisterCmd(load func() (*config.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "register",
		Short: "Register the slash commands with Discord now, even when unchanged",
		Long: `register overwrites the application's slash commands with missionbot's (in
discord.guild_id when it is set, otherwise globally) and records their hash, so
that serve does not register them again. serve registers on its own whenever
the commands changed; use this after deleting commands by hand.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			d := cfg.Discord
			if d.BotToken == "" || d.ApplicationID == "" {
				return errors.New("config: discord.bot_token and discord.application_id are required to register commands")
			}
			log := newLogger(cmd.ErrOrStderr(), cfg, true)
			session, err := discordgo.New("Bot " + d.BotToken)
			if err != nil {
				return fmt.Errorf("discord session: %w", err)
			}
			if d.APIURL != "" {
				if session.Client, err = rebasedClient(d.APIURL); err != nil {
					return fmt.Errorf("config: discord.api_url: %w", err)
				}
			}
			store, err := storage.Open(cmd.Context(), storageOptions(cfg))
			if err != nil {
				return err
			}
			defer store.Close()
			coord, _, err := app.Coordination(cfg.Redis, log, nil)
			if err != nil {
				return err
			}
			defer coord.Close()
			r := discord.NewRegistrar(session, d.ApplicationID, d.GuildID, store, coord, bot.SystemClock{}, log)
			did, err := r.Register(cmd.Context())
			if err != nil {
				return err
			}
			scope := "globally"
			if d.GuildID != "" {
				scope = "in server " + d.GuildID
			}
			if !did {
				fmt.Fprintln(cmd.OutOrStdout(), "another replica is registering the commands right now; try again in a minute")
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered %d commands %s\n", len(bot.Commands), scope)
			return nil
		},
	}
}
