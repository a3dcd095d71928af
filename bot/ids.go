package bot

import "fmt"

// Platform names where a request came from.
type Platform string

// The platforms missionbot serves.
const (
	Slack   Platform = "slack"
	Discord Platform = "discord"
	Console Platform = "console"
)

// CommunityRef names a community as its platform knows it: a Slack team id, a
// Discord guild id, or the console's space.
type CommunityRef struct {
	Platform Platform
	ID       string
}

func (c CommunityRef) String() string { return fmt.Sprintf("%s:%s", c.Platform, c.ID) }

// UserRef names a person as their platform knows them, within a space (team
// or guild). It is never a bare string that could be either platform's id.
type UserRef struct {
	Platform Platform
	Space    string
	ID       string
}

func (u UserRef) String() string { return fmt.Sprintf("%s:%s:%s", u.Platform, u.Space, u.ID) }

// ChannelRef names a channel by its platform id, with a display name when known.
type ChannelRef struct {
	ID   string
	Name string
}

// CommunityID is the store's id of a community.
type CommunityID int64

// MemberID is the store's id of a member within a community.
type MemberID int64

// Member is a person in a community.
type Member struct {
	ID   MemberID
	Ref  UserRef
	Name string
}
