package scheduler

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/impact"
	"github.com/missionbot/missionbot/bot/recognition"
)

var _ Producer = (*Recognitions)(nil)

// RecognitionWindow is how long after Monday 09:00 a recognition post is
// still worth posting.
const RecognitionWindow = 12 * time.Hour

// RecognitionKeyLayout formats a recognition post's slot key: the local
// date of the Monday that starts the week it recognises.
const RecognitionKeyLayout = "2006-01-02"

// Sizes of a recognition post.
const (
	recognitionTop = 5
	// StreakWeeks is how many weeks back a streak is counted; a longer one
	// shows as this many.
	StreakWeeks = 104
	// minStreak is the shortest streak worth naming.
	minStreak     = 2
	streaksShown  = 5
	recognitionAt = 9 // local hour on Monday
)

// Streak is a member's run of consecutive active weeks.
type Streak struct {
	Member bot.Member
	Weeks  int
}

// RecognitionStore is what the recognition producer reads.
type RecognitionStore interface {
	// RecognitionCommunities returns every community with a celebrations
	// channel set, with at least Timezone and CelebrationsChannel of its
	// settings.
	RecognitionCommunities(ctx context.Context) (map[bot.CommunityID]bot.Settings, error)
	// Leaders ranks c's members in p as /leaderboard does (goalID 0: by
	// impact actions, then hours, then kudos received), leaving out hidden,
	// departed and forgotten members, anonymous contributions and members
	// with nothing.
	Leaders(ctx context.Context, c bot.CommunityID, goalID int64, p recognition.Period, limit int) ([]recognition.Leader, error)
	// Streaks returns up to limit of c's members whose streak of consecutive
	// active weeks, ending with weeks[0] and counted back through weeks
	// (each the UTC start of a week, newest first, consecutive), is at least
	// min weeks: longest first, then by member id. Hidden, departed and
	// forgotten members are left out. It only reads.
	Streaks(ctx context.Context, c bot.CommunityID, weeks []time.Time, min, limit int) ([]Streak, error)
}

// Recognitions produces each community's weekly recognition post in its
// celebrations channel: at Monday 09:00 local, the previous week's top
// contributors (ranked as /leaderboard week ranks them) and the current
// streaks of consecutive active weeks ending with that week (the new week
// has only begun and does not count yet). A week in which nobody is on the
// board and nobody has a streak gets no post.
//
// The post is keyed by the recognised week's Monday (RecognitionKeyLayout),
// due at 09:00 local on the following Monday (a spring-forward gap moves it
// to the next valid instant) and relevant for RecognitionWindow after. Only
// the latest slot at or before now is looked at: a slot found after its
// window (the service was down) is enqueued with a placeholder message and
// NotAfter already past, so the dispatcher records it skipped, never
// silently lost.
//
// Recognitions remembers which slots it has handled, so the post is built at
// most once per slot and process; it must therefore be used with one Outbox.
// Several replicas may each build it once; the outbox keeps one. It is safe
// for concurrent use.
type Recognitions struct {
	store RecognitionStore

	mu   sync.Mutex
	done map[bot.CommunityID]string // the latest slot key handled, per community
}

// NewRecognitions returns the weekly recognition producer over store.
func NewRecognitions(store RecognitionStore) *Recognitions {
	return &Recognitions{store: store, done: map[bot.CommunityID]string{}}
}

// Produce enqueues into out the latest recognition slot at or before now of
// every community with a celebrations channel, unless the week had nobody
// to recognise. It carries on past one community's failure and returns all
// failures joined.
func (p *Recognitions) Produce(ctx context.Context, now time.Time, out bot.Outbox) error {
	comms, err := p.store.RecognitionCommunities(ctx)
	if err != nil {
		return fmt.Errorf("recognitions: %w", err)
	}
	err = eachCommunity(ctx, comms, "recognition", func(id bot.CommunityID, st bot.Settings) error {
		return p.community(ctx, now, out, id, st)
	})
	p.mu.Lock()
	for c := range p.done {
		if _, ok := comms[c]; !ok {
			delete(p.done, c)
		}
	}
	p.mu.Unlock()
	return err
}

// community enqueues community c's latest slot at or before now.
func (p *Recognitions) community(ctx context.Context, now time.Time, out bot.Outbox, c bot.CommunityID, s bot.Settings) error {
	if s.CelebrationsChannel.ID == "" {
		return nil
	}
	loc, err := bot.LoadZone(s.Timezone)
	if err != nil {
		loc = time.UTC
	}
	slot, week := RecognitionSlot(now, loc)
	key := week.From.In(loc).Format(RecognitionKeyLayout)
	p.mu.Lock()
	handled := p.done[c] == key
	p.mu.Unlock()
	if handled {
		return nil
	}
	leaders, err := p.store.Leaders(ctx, c, 0, week, recognitionTop)
	if err != nil {
		return fmt.Errorf("week %s: %w", key, err)
	}
	streaks, err := p.store.Streaks(ctx, c, StreakStarts(week, loc), minStreak, streaksShown)
	if err != nil {
		return fmt.Errorf("week %s: %w", key, err)
	}
	if len(leaders) > 0 || len(streaks) > 0 {
		post := bot.Post{Community: c, Kind: bot.PostRecognition, SlotKey: key, DueAt: slot, NotAfter: slot.Add(RecognitionWindow)}
		post.Message = recognitionMessage(s.CelebrationsChannel, week, loc, leaders, streaks)
		if now.After(post.NotAfter) {
			post.Message.Items, post.Message.Fields, post.Message.Footer = nil, nil, ""
			post.Message.Text = "recognition for the week of " + key + " skipped: service was down past the 12-hour window"
		}
		if _, err := out.Enqueue(ctx, post); err != nil {
			return fmt.Errorf("enqueue week %s: %w", key, err)
		}
	}
	p.mu.Lock()
	p.done[c] = key
	p.mu.Unlock()
	return nil
}

// RecognitionSlot returns the latest recognition slot at or before now in
// loc (Monday 09:00 local, in UTC) and the week it recognises: the Monday
// 00:00 to Monday 00:00 before it.
func RecognitionSlot(now time.Time, loc *time.Location) (slot time.Time, week recognition.Period) {
	monday := impact.WeekStart(now, loc)
	slot = mondayAt(monday, loc)
	if slot.After(now) {
		monday = impact.WeekStart(monday.Add(-time.Nanosecond), loc)
		slot = mondayAt(monday, loc)
	}
	return slot.UTC(), recognition.Period{From: impact.WeekStart(monday.Add(-time.Nanosecond), loc), To: monday.UTC()}
}

// mondayAt is recognitionAt o'clock local on the day of monday.
func mondayAt(monday time.Time, loc *time.Location) time.Time {
	l := monday.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), recognitionAt, 0, 0, 0, loc)
}

// StreakStarts returns the UTC starts of week and the StreakWeeks-1 weeks
// before it in loc, newest first: the weeks a streak ending with week is
// counted over.
func StreakStarts(week recognition.Period, loc *time.Location) []time.Time {
	out := make([]time.Time, 0, StreakWeeks)
	for t := week.From; len(out) < StreakWeeks; t = impact.WeekStart(t.Add(-time.Nanosecond), loc) {
		out = append(out, t.UTC())
	}
	return out
}

// recognitionMessage is the public recognition post for week.
func recognitionMessage(ch bot.ChannelRef, week recognition.Period, loc *time.Location, leaders []recognition.Leader, streaks []Streak) bot.Message {
	span := fmt.Sprintf("%s – %s", week.From.In(loc).Format("Mon 2 Jan"), week.To.In(loc).AddDate(0, 0, -1).Format("Sun 2 Jan"))
	m := bot.Message{Visibility: bot.Public, Kind: bot.PostRecognition, Channel: ch, Title: "🌟 Last week's recognition: " + span,
		Footer: "Impact actions are fulfilled pledges, logs and attended shifts. Opt out with /myimpact hide."}
	if len(leaders) == 0 {
		m.Text = "Nobody was on the leaderboard last week, but these streaks carry on."
	} else {
		m.Text = "Thank you to last week's top contributors:"
	}
	for i, l := range leaders {
		m.Items = append(m.Items, fmt.Sprintf("%d. %s: %s · %s · %s", i+1, bot.UserMention(l.Member),
			count(l.Actions, "action"), l.Hours.String()+" "+plural(l.Hours == 100, "hour"), count(l.Kudos, "kudos")))
	}
	if len(streaks) > 0 {
		parts := make([]string, len(streaks))
		for i, s := range streaks {
			weeks := count(int64(s.Weeks), "week")
			if s.Weeks >= StreakWeeks {
				weeks = fmt.Sprintf("%d+ weeks", StreakWeeks)
			}
			parts[i] = fmt.Sprintf("%s %s", bot.UserMention(s.Member), weeks)
		}
		m.Fields = append(m.Fields, bot.Field{Label: "🔥 Streaks (weeks in a row)", Value: strings.Join(parts, " · ")})
	}
	return m
}

// count is n with word, plural unless n is 1 ("kudos" stays as it is).
func count(n int64, word string) string { return fmt.Sprintf("%d %s", n, plural(n == 1, word)) }

func plural(one bool, word string) string {
	if one || strings.HasSuffix(word, "s") {
		return word
	}
	return word + "s"
}
