package platformtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// failingPlatform is one platform's fake with a digest channel that is gone.
type failingPlatform struct {
	ref     bot.CommunityRef
	channel string
	// poster returns the platform's Poster on its fake.
	poster func(t *testing.T, clock bot.Clock) bot.Poster
	// posts counts the posts the fake received for channel.
	posts func() int
	// calls counts every request the fake received.
	calls func() int
	// dms returns the texts of the DMs a person received.
	dms func(user string) []string
	// code is the platform's error the reason names.
	code string
}

func slackGone(t *testing.T) failingPlatform {
	fake := fakeslack.New(t)
	const channel = "C0GONE"
	fake.SetChannelError(channel, "channel_not_found")
	return failingPlatform{
		ref: bot.CommunityRef{Platform: bot.Slack, ID: fakeslack.Team}, channel: channel, code: "channel_not_found",
		poster: func(t *testing.T, clock bot.Clock) bot.Poster {
			fake.SetNow(clock.Now)
			return slackPoster(t, fake, nil, memory.New(memory.Options{}), clock)
		},
		posts: func() int { return callsTo(fake, "chat.postMessage", channel) },
		calls: func() int { return len(fake.Calls("")) },
		dms: func(user string) []string {
			var out []string
			for _, m := range fake.Messages(fakeslack.DMChannel(user)) {
				out = append(out, m.Text)
			}
			return out
		},
	}
}

func discordGone(t *testing.T) failingPlatform {
	fake := fakediscord.New(t)
	fake.Token = discordToken
	const channel = "800000000000000404"
	fake.SetChannelError(channel, 404, 10003, "Unknown Channel")
	return failingPlatform{
		ref: bot.CommunityRef{Platform: bot.Discord, ID: "700000000000000007"}, channel: channel, code: "10003",
		poster: func(t *testing.T, clock bot.Clock) bot.Poster {
			fake.Now = clock.Now
			return discordPoster(t, fake, nil, memory.New(memory.Options{}), clock)
		},
		posts: func() int { return discordCreates(fake, channel) },
		calls: func() int { return len(fake.Calls("")) },
		dms: func(user string) []string {
			var out []string
			for _, m := range fake.Messages(fake.DMChannel(user)) {
				out = append(out, discordText(m))
			}
			return out
		},
	}
}

// TestFailingChannelIsToldOnceWithoutRetryStorm: a community's digest
// channel is gone (Slack channel_not_found, Discord 404 code 10003). Two
// replicas tick from Sunday noon to the next Sunday, every 5 simulated
// minutes for the four hours around the slot and hourly otherwise: the
// Monday digest is attempted once, its row is failed with the platform's
// reason (what /digest shows), each organiser gets one private notice
// through the platform's DM path, and nothing is tried again.
func TestFailingChannelIsToldOnceWithoutRetryStorm(t *testing.T) {
	for name, platform := range map[string]func(*testing.T) failingPlatform{"slack": slackGone, "discord": discordGone} {
		t.Run(name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, s *storage.Store) {
				ctx := context.Background()
				p := platform(t)
				start := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) // Sunday
				clock := bot.NewManualClock(start)
				people := organisersAndMember(p.ref.Platform)
				com := community(t, s, p.ref, people, p.channel, "Europe/London", start)
				var replicas []*scheduler.Scheduler
				for range 2 {
					replicas = append(replicas, scheduler.New(s, p.poster(t, clock), []scheduler.Producer{scheduler.NewDigests(s)}, clock, quiet()))
				}
				var shown []bot.Message
				slot := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
				for now := start; now.Before(start.Add(7 * 24 * time.Hour)); now = now.Add(tickAfter(now, slot)) {
					clock.Set(now)
					for _, sc := range replicas {
						shown = append(shown, run(t, sc, now)...)
					}
				}

				if n := p.posts(); n != 1 {
					t.Errorf("the gone channel got %d posts over the week, want 1 (no retries)", n)
				}
				mustNotices(t, shown, people[:2], "could not be posted and will not be retried", p.code)
				for _, who := range people {
					dms := p.dms(who.id)
					want := 0
					if who.admin || who.added {
						want = 1
					}
					if len(dms) != want {
						t.Errorf("%s got %d DMs, want %d", who.name, len(dms), want)
					}
				}
				// One post, two DM channels opened and two notices on Slack
				// (Discord: the DM channels are opened once each too).
				if n := p.calls(); n > 5 {
					t.Errorf("the fake got %d calls in a week; want the post, and a DM channel and a notice per organiser", n)
				}
				f, ok, err := s.LastFailure(ctx, com)
				if err != nil || !ok {
					t.Fatalf("LastFailure = %v, %v", ok, err)
				}
				if f.Status != storage.OutboxFailed || f.Kind != bot.PostDigest || !strings.Contains(f.Reason, p.code) {
					t.Errorf("/digest would show %+v; want the digest failed naming %s", f, p.code)
				}
				var rows []storage.OutboxPost
				if err := s.DB().Where("community_id = ? AND kind = ?", com, string(bot.PostDigest)).Find(&rows).Error; err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					switch {
					case r.DueAt.Equal(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)) && r.Status == storage.OutboxFailed && r.Attempts == 0:
					case r.DueAt.Before(start) && r.Status == storage.OutboxSkipped:
					default:
						t.Errorf("digest row due %s: %s after %d attempts (%s)", r.DueAt, r.Status, r.Attempts, r.LastError)
					}
				}
			})
		})
	}
}

// tickAfter is the step to the next tick after now: 5 minutes from an hour
// before slot to three hours after, an hour otherwise.
func tickAfter(now, slot time.Time) time.Duration {
	if !now.Before(slot.Add(-time.Hour)) && now.Before(slot.Add(3*time.Hour)) {
		return 5 * time.Minute
	}
	return time.Hour
}
