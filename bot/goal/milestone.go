package goal

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/missionbot/missionbot/bot"
)

// postChannelKey keys the command's channel in a context.
type postChannelKey struct{}

// WithPostChannel returns ctx carrying ch, the channel the command came
// from. Storage reads it (PostChannel) when a change made under ctx records
// a milestone: the celebration is enqueued in the outbox, in the same
// transaction, for the community's celebrations channel or, when it has
// none, for ch.
func WithPostChannel(ctx context.Context, ch bot.ChannelRef) context.Context {
	return context.WithValue(ctx, postChannelKey{}, ch)
}

// PostChannel returns the channel WithPostChannel put in ctx, and whether
// there is one.
func PostChannel(ctx context.Context) (bot.ChannelRef, bool) {
	ch, ok := ctx.Value(postChannelKey{}).(bot.ChannelRef)
	return ch, ok && ch.ID != ""
}

// MilestoneSlot is the outbox slot key of goal goalID's celebration of
// threshold percent: one post per goal and threshold, ever.
func MilestoneSlot(goalID int64, threshold int) string {
	return strconv.FormatInt(goalID, 10) + ":" + strconv.Itoa(threshold)
}

// Unlocked is the private line telling the member who acted which
// milestones of g they unlocked (thresholds ascending), and where the
// celebration goes: the community's celebrations channel, else the
// channel they acted in. It is "" when thresholds is empty.
func Unlocked(g Goal, thresholds []int, celebrations bot.ChannelRef) string {
	if len(thresholds) == 0 {
		return ""
	}
	pcts := make([]string, len(thresholds))
	for i, t := range thresholds {
		pcts[i] = strconv.Itoa(t) + "%"
	}
	where := "this channel"
	if celebrations.ID != "" {
		name := celebrations.Name
		if name == "" {
			name = celebrations.ID
		}
		where = "<#" + celebrations.ID + "|" + name + ">"
	}
	word := "milestone"
	if len(thresholds) > 1 {
		word = "milestones"
	}
	return fmt.Sprintf("🎉 You unlocked the %s %s of %s! The celebration is posted in %s.", strings.Join(pcts, ", "), word, g.Title, where)
}
