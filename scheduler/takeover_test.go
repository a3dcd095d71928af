package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// platform is a fake platform shared by replicas: it keeps what was posted
// by key, and Find looks there. A replica's poster can be made to hang in
// its first Post, before or after the platform took the message, until
// released, and then to fail as a crashed process would.
type platform struct {
	mu    sync.Mutex
	posts map[string]int
	finds int
}

type hangingPoster struct {
	p *platform
	// arrived says whether the hung post reached the platform.
	arrived bool
	entered chan struct{}
	release chan struct{}
	// never: this poster never hangs.
	never bool
	once  sync.Once
}

func (h *hangingPoster) Post(_ context.Context, _ bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, error) {
	hang := false
	if !h.never {
		h.once.Do(func() { hang = true })
	}
	if hang && !h.arrived {
		close(h.entered)
		<-h.release
		return bot.MessageRef{}, errors.New("process crashed")
	}
	h.p.mu.Lock()
	h.p.posts[key]++
	h.p.mu.Unlock()
	if hang {
		close(h.entered)
		<-h.release
		return bot.MessageRef{}, errors.New("process crashed")
	}
	return bot.MessageRef{Channel: m.Channel.ID, ID: key}, nil
}

func (h *hangingPoster) Find(_ context.Context, _ bot.CommunityRef, m bot.Message, key string) (bot.MessageRef, bool, error) {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	h.p.finds++
	if h.p.posts[key] > 0 {
		return bot.MessageRef{Channel: m.Channel.ID, ID: key}, true, nil
	}
	return bot.MessageRef{}, false, nil
}

// TestTakeoverOfAHungSendChecksNeverResends: replica A begins a post and
// hangs (after the platform took it, or before it arrived) past its claim;
// replica B takes the row over and checks the platform once: found → the
// row is sent; not found → unknown, and the organiser is told privately.
// Nobody posts the row a second time, and A, coming back, changes nothing.
func TestTakeoverOfAHungSendChecksNeverResends(t *testing.T) {
	for _, arrived := range []bool{true, false} {
		t.Run(fmt.Sprint("arrived=", arrived), func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, s *storage.Store) {
				ctx := context.Background()
				c := dispCommunity(t, s, "a")
				r := dispEnqueue(t, s, c, "slot", dispT0, time.Time{})
				p := &platform{posts: map[string]int{}}
				hung := &hangingPoster{p: p, arrived: arrived, entered: make(chan struct{}), release: make(chan struct{})}
				clock := bot.NewManualClock(dispT0)
				a := scheduler.New(s, hung, nil, clock, dispLog())
				a.ClaimFor = time.Minute
				aDone := make(chan []bot.Message, 1)
				go func() {
					ms, err := a.RunDue(ctx, dispT0)
					if err != nil {
						t.Error(err)
					}
					aDone <- ms
				}()
				<-hung.entered

				// B runs while A's claim holds: it leaves the row alone.
				b := scheduler.New(s, &hangingPoster{p: p, never: true}, nil, clock, dispLog())
				clock.Set(dispT0.Add(30 * time.Second))
				if ms := dispRun(t, b, clock.Now()); len(ms) != 0 {
					t.Fatalf("B acted on a held row: %+v", ms)
				}
				// Past the claim, B takes over and checks.
				clock.Set(dispT0.Add(2 * time.Minute))
				ms := dispRun(t, b, clock.Now())
				got := dispRow(t, s, c, "slot")
				if arrived {
					if got.Status != storage.OutboxSent || len(ms) != 0 {
						t.Fatalf("status %s, shown %+v; want sent, nothing shown (A's post is the post)", got.Status, ms)
					}
				} else {
					if got.Status != storage.OutboxUnknown {
						t.Fatalf("status %s, want unknown", got.Status)
					}
					mustNotices(t, ms, "a", []string{"olive"}, "may not have been posted", "interrupted")
				}
				close(hung.release)
				if ms := <-aDone; len(ms) != 0 {
					t.Fatalf("A, back, showed %+v", ms)
				}
				if after := dispRow(t, s, c, "slot"); after.Status != got.Status {
					t.Fatalf("A changed the row to %s", after.Status)
				}
				dispRun(t, b, clock.Now().Add(time.Hour))
				p.mu.Lock()
				defer p.mu.Unlock()
				want := 0
				if arrived {
					want = 1
				}
				if n := p.posts[scheduler.Key(r.ID)]; n != want || p.finds != 1 {
					t.Fatalf("posted %d times with %d finds; want %d and 1", n, p.finds, want)
				}
			})
		})
	}
}
