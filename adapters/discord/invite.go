package discord

import (
	"net/url"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

// InvitePermissions is every permission the bot needs in a server, and no
// more: see channels and post in them (View Channels, Send Messages), draw
// embeds (Embed Links), attach exports (Attach Files), and Use Application
// Commands. It never reads message history: an uncertain post is checked by
// resending with its nonce, not by reading the channel.
const InvitePermissions int64 = discordgo.PermissionViewChannel | discordgo.PermissionSendMessages |
	discordgo.PermissionEmbedLinks | discordgo.PermissionAttachFiles | discordgo.PermissionUseApplicationCommands

// InviteURL returns the OAuth2 URL that adds the bot to a server with its
// slash commands (scopes bot and applications.commands) and
// InvitePermissions. A non-empty guildID preselects that server.
func InviteURL(applicationID, guildID string) string {
	q := url.Values{}
	q.Set("client_id", applicationID)
	q.Set("scope", "bot applications.commands")
	q.Set("permissions", strconv.FormatInt(InvitePermissions, 10))
	if guildID != "" {
		q.Set("guild_id", guildID)
		q.Set("disable_guild_select", "true")
	}
	return "https://discord.com/oauth2/authorize?" + q.Encode()
}
