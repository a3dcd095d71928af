package scheduler_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/missionbot/missionbot/bot"
)

// recordingOutbox is a bot.Outbox that keeps posts in memory, unique per
// (community, kind, slot key) like the real one, and counts Enqueue calls.
type recordingOutbox struct {
	mu    sync.Mutex
	posts []bot.Post
	keys  map[string]bool
	calls int
}

func newRecordingOutbox() *recordingOutbox { return &recordingOutbox{keys: map[string]bool{}} }

func (o *recordingOutbox) Enqueue(_ context.Context, p bot.Post) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls++
	k := fmt.Sprintf("%d|%s|%s", p.Community, p.Kind, p.SlotKey)
	if o.keys[k] {
		return false, nil
	}
	o.keys[k] = true
	o.posts = append(o.posts, p)
	return true, nil
}

// of returns the posts of community c and kind, in enqueue order.
func (o *recordingOutbox) of(c bot.CommunityID, kind bot.PostKind) []bot.Post {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []bot.Post
	for _, p := range o.posts {
		if p.Community == c && p.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

func (o *recordingOutbox) stats() (posts, calls int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.posts), o.calls
}
