package platformtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/adapters/slack"
	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/coordination/redis"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// keyed returns the messages of msgs whose metadata carries key.
func keyed(msgs []fakeslack.Message, key string) []fakeslack.Message {
	var out []fakeslack.Message
	for _, m := range msgs {
		if m.Metadata != nil && m.Metadata.EventType == slack.MetadataEventType && m.Metadata.EventPayload["key"] == key {
			out = append(out, m)
		}
	}
	return out
}

// callsTo counts fake Slack calls of method naming channel.
func callsTo(fake *fakeslack.Server, method, channel string) int {
	n := 0
	for _, c := range fake.Calls(method) {
		if c.Form.Get("channel") == channel {
			n++
		}
	}
	return n
}

// TestSlackCrashBetweenSendAndMark: replica A, with the Slack Poster on the
// fake Slack API, posts a digest and stalls before it can record the
// outcome; replica B takes the row over once A's claim expires and looks
// for the post's metadata key in the channel's recent history, once:
//   - the post landed and is in the recent history → the row is sent with
//     that message's timestamp, nothing is posted again;
//   - the post never landed → unknown, and each organiser gets one private
//     notice, delivered by the Slack Poster as a DM;
//   - the post landed but 60 members' messages pushed it out of the 50 that
//     Find reads → unknown plus the notices, and still never a second post.
//
// A, coming back, changes nothing.
func TestSlackCrashBetweenSendAndMark(t *testing.T) {
	for _, c := range []struct {
		name    string
		landed  bool
		chatter int // members' messages posted after ours, before B looks
		found   bool
	}{
		{"landed", true, 0, true},
		{"never landed", false, 0, false},
		{"landed, out of recent history", true, 60, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, s *storage.Store) {
				ctx := context.Background()
				const channel = "C0IMPACT"
				fake := fakeslack.New(t)
				clock := bot.NewManualClock(t0)
				fake.SetNow(clock.Now)
				people := organisersAndMember(bot.Slack)
				com := community(t, s, bot.CommunityRef{Platform: bot.Slack, ID: fakeslack.Team}, people, channel, "UTC", t0.Add(-time.Hour))
				r := enqueueDigest(t, s, com, channel, "2026-12-07 09:00", t0)
				key := scheduler.Key(r.ID)

				crash := newCrashingTransport(fake.Client().Transport, c.landed, isSlackPost)
				a := scheduler.New(s, slackPoster(t, fake, &http.Client{Transport: crash}, memory.New(memory.Options{}), clock), nil, clock, quiet())
				b := scheduler.New(s, slackPoster(t, fake, nil, memory.New(memory.Options{}), clock), nil, clock, quiet())
				for _, sc := range []*scheduler.Scheduler{a, b} {
					sc.ClaimFor = time.Minute
				}
				aDone := make(chan []bot.Message, 1)
				go func() {
					ms, err := a.RunDue(ctx, t0)
					if err != nil {
						t.Error(err)
					}
					aDone <- ms
				}()
				<-crash.entered

				if c.chatter > 0 {
					members := slackPoster(t, fake, nil, memory.New(memory.Options{}), clock)
					members.Rate = bot.Rate{Events: 1000, Per: time.Second, Burst: 1000}
					for i := range c.chatter {
						m := bot.Message{Visibility: bot.Public, Channel: bot.ChannelRef{ID: channel}, Text: fmt.Sprintf("chatter %d", i)}
						if _, err := members.Post(ctx, bot.CommunityRef{Platform: bot.Slack, ID: fakeslack.Team}, m, ""); err != nil {
							t.Fatal(err)
						}
					}
				}

				// While A's claim holds, B leaves the row alone.
				clock.Set(t0.Add(30 * time.Second))
				if ms := run(t, b, clock.Now()); len(ms) != 0 {
					t.Fatalf("B acted on a held row: %+v", ms)
				}
				if n := len(fake.Calls("conversations.history")); n != 0 {
					t.Fatalf("B read the history %d times while A held the row", n)
				}

				// Past the claim, B takes over and checks once.
				clock.Set(t0.Add(2 * time.Minute))
				ms := run(t, b, clock.Now())
				got := row(t, s, com, bot.PostDigest, r.SlotKey)
				ours := keyed(fake.Messages(channel), key)
				if c.found {
					if got.Status != storage.OutboxSent || len(ms) != 0 {
						t.Fatalf("row %s, shown %+v; want sent and nothing shown (A's post is the post)", got.Status, ms)
					}
					if len(ours) != 1 || got.SentRef != channel+"/"+ours[0].TS {
						t.Fatalf("sent ref %q; channel holds %d posts with our key", got.SentRef, len(ours))
					}
				} else {
					if got.Status != storage.OutboxUnknown {
						t.Fatalf("row %s (%s), want unknown", got.Status, got.LastError)
					}
					mustNotices(t, ms, people[:2], "may not have been posted", "interrupted")
				}
				if n := len(fake.Calls("conversations.history")); n != 1 {
					t.Fatalf("B read the history %d times, want once", n)
				}
				wantOurs := 0
				if c.landed {
					wantOurs = 1
				}
				if len(ours) != wantOurs {
					t.Fatalf("channel holds %d posts with our key, want %d", len(ours), wantOurs)
				}

				// A comes back: its late answer changes nothing.
				close(crash.release)
				if ms := <-aDone; len(ms) != 0 {
					t.Fatalf("A, back, showed %+v", ms)
				}
				if after := row(t, s, com, bot.PostDigest, r.SlotKey); after.Status != got.Status {
					t.Fatalf("A changed the row from %s to %s", got.Status, after.Status)
				}
				run(t, b, clock.Now().Add(time.Hour))

				if n := callsTo(fake, "chat.postMessage", channel) - c.chatter; n != wantOurs {
					t.Errorf("%d digest posts reached %s, want %d: it is never sent again", n, channel, wantOurs)
				}
				if n := len(keyed(fake.Messages(channel), key)); n != wantOurs {
					t.Errorf("after A came back the channel holds %d posts with our key, want %d", n, wantOurs)
				}
				for _, p := range people {
					dm := fake.Messages(fakeslack.DMChannel(p.id))
					want := 0
					if !c.found && (p.admin || p.added) {
						want = 1
					}
					if len(dm) != want {
						t.Errorf("%s's DMs hold %d messages, want %d", p.name, len(dm), want)
						continue
					}
					if want == 1 && !strings.Contains(dm[0].Text, "may not have been posted") {
						t.Errorf("%s's notice reads %q", p.name, dm[0].Text)
					}
				}
			})
		})
	}
}

// discordMessages returns the messages the fake Discord holds in channel
// whose nonce is key.
func discordMessages(fake *fakediscord.Server, channel, key string) []fakediscord.Message {
	var out []fakediscord.Message
	for _, m := range fake.Messages(channel) {
		if m.Nonce == key {
			out = append(out, m)
		}
	}
	return out
}

// discordCreates counts message creations sent to channel.
func discordCreates(fake *fakediscord.Server, channel string) int {
	n := 0
	for _, c := range fake.Calls(fakediscord.RouteCreateMessage) {
		if strings.Contains(c.Path, "/channels/"+channel+"/") {
			n++
		}
	}
	return n
}

// TestDiscordCrashBetweenSendAndMark: replica A, with the Discord Poster on
// the fake Discord API, sends a digest with its outbox key as nonce and
// enforce_nonce, the message is created, and A stalls before recording the
// outcome. The replicas share Redis, where the Poster keeps the time of the
// send. Replica B takes the row over when A's claim expires:
//   - inside the nonce window → B resends with the same nonce and Discord
//     answers with the existing message: sent, one message on the channel;
//   - outside the window → B sends nothing: unknown, and one private notice
//     to each organiser, delivered by the Discord Poster as a DM.
func TestDiscordCrashBetweenSendAndMark(t *testing.T) {
	testdb.RequireRedis(t)
	for _, c := range []struct {
		name  string
		after time.Duration // when B takes over, after A's send
		found bool
	}{
		{"inside the nonce window", 25 * time.Second, true},
		{"outside the nonce window", 2 * time.Minute, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, s *storage.Store) {
				ctx := context.Background()
				const (
					guild   = "700000000000000007"
					channel = "800000000000000008"
				)
				fake := fakediscord.New(t)
				fake.Token = discordToken
				clock := bot.NewManualClock(t0)
				fake.Now = clock.Now
				people := organisersAndMember(bot.Discord)
				com := community(t, s, bot.CommunityRef{Platform: bot.Discord, ID: guild}, people, channel, "UTC", t0.Add(-time.Hour))
				r := enqueueDigest(t, s, com, channel, "2026-12-07 09:00", t0)
				key := scheduler.Key(r.ID)

				prefix := fmt.Sprintf("mbtest-platform-%d:", time.Now().UnixNano())
				coord := func() *redis.Coordinator {
					co, err := redis.New(redis.Options{URL: "redis://" + testdb.RedisAddr + "/0", Prefix: prefix})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { _ = co.Close() })
					return co
				}
				t.Cleanup(func() {
					// The Poster caches DM channels for a day: leave nothing behind.
					co := coord()
					for _, p := range people {
						_ = co.Delete(context.Background(), co.Keys().Cache("discord-dm", p.id))
					}
				})
				crash := newCrashingTransport(fake.Client().Transport, true, isDiscordPost)
				a := scheduler.New(s, discordPoster(t, fake, &http.Client{Transport: crash}, coord(), clock), nil, clock, quiet())
				b := scheduler.New(s, discordPoster(t, fake, nil, coord(), clock), nil, clock, quiet())
				for _, sc := range []*scheduler.Scheduler{a, b} {
					sc.ClaimFor = 20 * time.Second
					sc.PostTimeout = 10 * time.Second
				}
				aDone := make(chan []bot.Message, 1)
				go func() {
					ms, err := a.RunDue(ctx, t0)
					if err != nil {
						t.Error(err)
					}
					aDone <- ms
				}()
				<-crash.entered
				if n := len(fake.Messages(channel)); n != 1 {
					t.Fatalf("channel holds %d messages after A's send, want 1", n)
				}

				clock.Set(t0.Add(10 * time.Second))
				if ms := run(t, b, clock.Now()); len(ms) != 0 {
					t.Fatalf("B acted on a held row: %+v", ms)
				}
				clock.Set(t0.Add(c.after))
				ms := run(t, b, clock.Now())
				got := row(t, s, com, bot.PostDigest, r.SlotKey)
				ours := discordMessages(fake, channel, key)
				if len(ours) != 1 || len(fake.Messages(channel)) != 1 {
					t.Fatalf("channel holds %d messages, %d with our nonce; want exactly the one A sent", len(fake.Messages(channel)), len(ours))
				}
				if c.found {
					if got.Status != storage.OutboxSent || len(ms) != 0 {
						t.Fatalf("row %s (%s), shown %+v; want sent, nothing shown", got.Status, got.LastError, ms)
					}
					if got.SentRef != channel+"/"+ours[0].ID {
						t.Fatalf("sent ref %q, want %s/%s (the message A created)", got.SentRef, channel, ours[0].ID)
					}
					if n := discordCreates(fake, channel); n != 2 {
						t.Fatalf("%d creates on the channel, want A's and B's resend with the same nonce", n)
					}
				} else {
					if got.Status != storage.OutboxUnknown {
						t.Fatalf("row %s (%s), want unknown", got.Status, got.LastError)
					}
					mustNotices(t, ms, people[:2], "may not have been posted", "interrupted")
					if n := discordCreates(fake, channel); n != 1 {
						t.Fatalf("%d creates on the channel; outside the window B must not resend", n)
					}
				}

				close(crash.release)
				if ms := <-aDone; len(ms) != 0 {
					t.Fatalf("A, back, showed %+v", ms)
				}
				if after := row(t, s, com, bot.PostDigest, r.SlotKey); after.Status != got.Status {
					t.Fatalf("A changed the row from %s to %s", got.Status, after.Status)
				}
				run(t, b, clock.Now().Add(time.Hour))
				if n := len(fake.Messages(channel)); n != 1 {
					t.Errorf("channel holds %d messages at the end, want 1", n)
				}
				for _, p := range people {
					dm := fake.Messages(fake.DMChannel(p.id))
					want := 0
					if !c.found && (p.admin || p.added) {
						want = 1
					}
					if len(dm) != want {
						t.Errorf("%s's DMs hold %d messages, want %d", p.name, len(dm), want)
						continue
					}
					if want == 1 && !strings.Contains(discordText(dm[0]), "may not have been posted") {
						t.Errorf("%s's notice reads %s", p.name, discordText(dm[0]))
					}
				}
			})
		})
	}
}

// discordText is a message's content and embeds as JSON, to search in.
func discordText(m fakediscord.Message) string {
	b, _ := json.Marshal(struct {
		C string
		E any
	}{m.Msg.Content, m.Msg.Embeds})
	return string(b)
}
