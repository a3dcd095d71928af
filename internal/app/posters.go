package app

import (
	"context"
	"fmt"

	"github.com/missionbot/missionbot/bot"
)

// Posters sends each post through the adapter of its community's platform.
type Posters map[bot.Platform]bot.Poster

var _ bot.Poster = Posters(nil)

// Post sends m through community's platform adapter. A platform with no
// adapter enabled on this replica is a transient error: the outbox retries
// later, and a replica that has the adapter may take the row.
func (p Posters) Post(ctx context.Context, community bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, error) {
	poster, err := p.poster(community)
	if err != nil {
		return bot.MessageRef{}, err
	}
	return poster.Post(ctx, community, m, key)
}

// Find looks for key through community's platform adapter.
func (p Posters) Find(ctx context.Context, community bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, bool, error) {
	poster, err := p.poster(community)
	if err != nil {
		return bot.MessageRef{}, false, err
	}
	return poster.Find(ctx, community, m, key)
}

func (p Posters) poster(community bot.CommunityRef) (bot.Poster, error) {
	poster, ok := p[community.Platform]
	if !ok || poster == nil {
		return nil, fmt.Errorf("post to %s: no %s adapter is enabled on this replica", community, community.Platform)
	}
	return poster, nil
}
