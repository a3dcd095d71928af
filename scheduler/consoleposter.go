package scheduler

import (
	"context"
	"sync"

	"github.com/missionbot/missionbot/bot"
)

var _ bot.Poster = (*ConsolePoster)(nil)

// ConsolePoster is the console's Poster: it never fails, and records each
// post in memory (RunDue returns what was posted, and the console prints
// it). Find always reports not found, since nothing is ever lost between
// the console and itself. It is safe for concurrent use.
type ConsolePoster struct {
	mu    sync.Mutex
	posts []bot.Message
}

// NewConsolePoster returns a ConsolePoster with nothing posted.
func NewConsolePoster() *ConsolePoster { return &ConsolePoster{} }

// Post records m and returns a reference named after key.
func (p *ConsolePoster) Post(_ context.Context, _ bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, m)
	return bot.MessageRef{Channel: m.Channel.ID, ID: key}, nil
}

// Find reports not found.
func (p *ConsolePoster) Find(context.Context, bot.CommunityRef, bot.Message, string) (bot.MessageRef, bool, error) {
	return bot.MessageRef{}, false, nil
}

// Take returns the posts recorded since the last Take, in order, and forgets them.
func (p *ConsolePoster) Take() []bot.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.posts
	p.posts = nil
	return out
}
