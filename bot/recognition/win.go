package recognition

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/missionbot/missionbot/bot"
)

// maxText is the longest win text or kudos reason, in characters.
const maxText = bot.MaxTextLen

// checkText refuses an empty or overlong text.
func checkText(c *bot.Call, what, text string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", bot.Userf(c.Example(), "Missing %s.", what)
	}
	if n := utf8.RuneCountInString(text); n > maxText {
		return "", bot.Userf(c.Example(), "The %s is %d characters long; the most is %d.", what, n, maxText)
	}
	return text, nil
}

// win posts a win publicly with a 🎉 button.
func (h *handlers) win(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	text, err := checkText(c, "win (what happened)", c.Text("text"))
	if err != nil {
		return bot.Reply{}, err
	}
	no, err := h.s.PostWin(ctx, c.Actor.Community, c.Actor.Member.ID, text, c.Now)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("post win: %w", err)
	}
	return bot.Reply{}.Add(
		bot.Message{Text: "🎉 Your win is posted. Everyone can cheer it with the 🎉 button."},
		bot.Message{Visibility: bot.Public, Kind: bot.PostCelebration,
			Text:    "🎉 " + bot.UserMention(c.Actor.Member) + ": " + text,
			Buttons: []bot.Button{{Label: "🎉", Action: "win.cheer:" + strconv.FormatInt(no, 10), Style: bot.ButtonPrimary}}},
	), nil
}

// cheer counts the presser's 🎉 on a win once.
func (h *handlers) cheer(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	no, err := strconv.ParseInt(c.Value, 10, 64)
	if err != nil || no <= 0 {
		return bot.Reply{}, bot.Userf("", "That win doesn't exist any more.")
	}
	n, added, err := h.s.Cheer(ctx, c.Actor.Community, no, c.Actor.Member.ID, c.Now)
	if errors.Is(err, ErrNoWin) {
		return bot.Reply{}, bot.Userf("", "That win doesn't exist any more.")
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("cheer win %d: %w", no, err)
	}
	if !added {
		return bot.Say(fmt.Sprintf("You already cheered this win (%s).", cheers(n))), nil
	}
	return bot.Say(fmt.Sprintf("🎉 Cheered! This win has %s now.", cheers(n))), nil
}

func cheers(n int) string {
	if n == 1 {
		return "1 cheer"
	}
	return fmt.Sprintf("%d cheers", n)
}

// kudos recognises another member publicly, within the daily limit.
//
// Kudos to a member who chose /myimpact hide are stored (they count on
// their own /myimpact) and told to them privately, but the public post says
// "someone who prefers not to be named" instead of naming them: hiding means
// leaving public shout-outs, and the giver should not be able to undo that.
func (h *handlers) kudos(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	to := c.Member("member")
	if to.ID == c.Actor.Member.ID {
		return bot.Reply{}, bot.Userf(c.Example(), "Kudos are for someone else; you can't give them to yourself.")
	}
	reason, err := checkText(c, "reason (what the kudos are for)", c.Text("reason"))
	if err != nil {
		return bot.Reply{}, err
	}
	limit := c.Actor.Settings.KudosPerDay
	if limit <= 0 {
		limit = 10
	}
	hidden, err := h.s.GiveKudos(ctx, c.Actor.Community, Kudos{From: c.Actor.Member.ID, To: to.ID, Reason: reason, At: c.Now}, DayOf(c.Now, c.Loc), limit)
	if errors.Is(err, ErrKudosLimit) {
		return bot.Reply{}, bot.Userf("", "You've given today's %d kudos already (the community's daily limit); you can give more tomorrow.", limit)
	}
	if errors.Is(err, ErrNoMember) {
		return bot.Reply{}, bot.Userf(c.Example(), "I couldn't find that member here.")
	}
	if err != nil {
		return bot.Reply{}, fmt.Errorf("give kudos: %w", err)
	}
	giver := bot.UserMention(c.Actor.Member)
	sep := ": "
	if strings.HasPrefix(strings.ToLower(reason), "for ") {
		sep = " "
	}
	if hidden {
		return bot.Reply{}.Add(
			bot.Message{Text: fmt.Sprintf("🙌 Kudos sent to %s. They prefer not to be named in public, so the post doesn't name them; they were told privately.", bot.UserMention(to))},
			bot.Message{Visibility: bot.Public, Kind: bot.PostCelebration,
				Text: fmt.Sprintf("🙌 %s gave kudos to someone who prefers not to be named%s%s", giver, sep, reason)},
			bot.Message{Visibility: bot.Direct, To: to,
				Text: fmt.Sprintf("🙌 %s gave you kudos: %s\n(The public post doesn't name you, as you chose with /myimpact hide.)", giver, reason)},
		), nil
	}
	return bot.Reply{}.Add(
		bot.Message{Text: fmt.Sprintf("🙌 Kudos sent to %s.", bot.UserMention(to))},
		bot.Message{Visibility: bot.Public, Kind: bot.PostCelebration,
			Text: fmt.Sprintf("🙌 %s gave kudos to %s%s%s", giver, bot.UserMention(to), sep, reason)},
	), nil
}
