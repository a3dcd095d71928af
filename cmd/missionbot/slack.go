package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/missionbot/missionbot/adapters/slack"
	"github.com/missionbot/missionbot/bot"
)

func slackCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "slack",
		Short: "Slack app tools",
	}
	cmd.AddCommand(slackManifestCmd())
	return cmd
}

func slackManifestCmd() *cobra.Command {
	var (
		opts   slack.ManifestOptions
		asYAML bool
	)
	cmd := &cobra.Command{
		Use:   "manifest",
		Short: "Print the Slack app manifest to paste into \"Create an app → From a manifest\"",
		Long: `manifest prints the Slack app manifest generated from the command table: every
command and /missionbot, the bot scopes and events missionbot uses, and the request
URLs under --url (https://bot.example.org → /slack/commands, /slack/events,
/slack/interactivity, /slack/oauth/callback). With --socket it prints the Socket Mode
form instead, with no URLs: create an app-level token with connections:write for it.`,
		Example: "  missionbot slack manifest --url https://bot.example.org\n  missionbot slack manifest --socket --yaml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.URL == "" && !opts.SocketMode {
				return errors.New("give --url https://your-bot.example.org, or --socket for Socket Mode")
			}
			render := slack.Manifest
			if asYAML {
				render = slack.ManifestYAML
			}
			out, err := render(bot.Commands, opts)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&opts.URL, "url", "", "public https base URL Slack reaches the bot on")
	cmd.Flags().BoolVar(&opts.SocketMode, "socket", false, "Socket Mode: no request URLs (needs an app-level token)")
	cmd.Flags().StringVar(&opts.Name, "name", "", `app name shown in Slack (default "missionbot")`)
	cmd.Flags().BoolVar(&asYAML, "yaml", false, "print YAML instead of JSON")
	return cmd
}
