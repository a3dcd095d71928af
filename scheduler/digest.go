package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/digest"
)

var _ Producer = (*Digests)(nil)

// DigestWindow is how long after its slot a digest is still worth posting.
const DigestWindow = 12 * time.Hour

// digestLookback is how far back Produce looks for slots: one week, so a
// weekly digest missed while the service was down for up to a week is
// recorded as skipped. Slots older than that are not looked for.
const digestLookback = 7 * 24 * time.Hour

// maxDigestSlots bounds the slots one community can have in the lookback
// (a cron schedule could fire every minute); the latest are kept.
const maxDigestSlots = 8

// SlotKeyLayout formats a digest's slot key: its local slot time in the
// community's timezone.
const SlotKeyLayout = bot.DigestSlotLayout

// DigestStore is what the digest producer reads.
type DigestStore interface {
	digest.Store
	// DigestCommunities returns every community whose digest is on and has
	// a digest channel, with at least Timezone, DigestChannel and
	// DigestSchedule of its settings.
	DigestCommunities(ctx context.Context) (map[bot.CommunityID]bot.Settings, error)
	// Enqueued reports whether community c's outbox already holds the post
	// of kind for slot (whatever its status). It only reads.
	Enqueued(ctx context.Context, c bot.CommunityID, kind bot.PostKind, slot string) (bool, error)
}

// Digests produces each community's weekly impact digest: one outbox post
// per slot of the community's digest schedule, read in its timezone, so a
// "every mon 09:00" digest is due at 09:00 local across DST changes (a slot
// in a spring-forward gap is due when the gap ends; see bot.Recurrence.Next).
//
// Each slot is keyed by its local time (SlotKeyLayout), so a slot is
// enqueued at most once however often and on however many replicas Produce
// runs. A slot is due at its time and relevant for DigestWindow after it.
// A slot that passed more than DigestWindow before now (the service was
// down) is still enqueued, with NotAfter already past and a placeholder
// message saying why, so the dispatcher records it as skipped: it is never
// silently lost. Slots further back than a week are not looked for.
//
// Digests remembers which slots it has handed to the outbox, and asks the
// store before building a slot's digest (the costly part), so a digest is
// built once per slot across replicas, short of a race; it must therefore be
// used with the store's own outbox. It is safe for concurrent use.
type Digests struct {
	store DigestStore

	mu    sync.Mutex
	done  map[bot.CommunityID]map[string]bool // slot keys enqueued, per community, within the lookback
	zones map[string]*time.Location           // loaded timezones by setting
}

// NewDigests returns the digest producer over store.
func NewDigests(store DigestStore) *Digests {
	return &Digests{store: store, done: map[bot.CommunityID]map[string]bool{}, zones: map[string]*time.Location{}}
}

// Produce enqueues into out every digest slot at or before now (within the
// last week) of every community with the digest on and a channel set. It
// carries on past one community's failure and returns all failures joined.
func (p *Digests) Produce(ctx context.Context, now time.Time, out bot.Outbox) error {
	comms, err := p.store.DigestCommunities(ctx)
	if err != nil {
		return fmt.Errorf("digests: %w", err)
	}
	err = eachCommunity(ctx, comms, "digest", func(id bot.CommunityID, st bot.Settings) error {
		return p.community(ctx, now, out, id, st)
	})
	p.forget(comms)
	return err
}

// community enqueues community c's slots at or before now.
func (p *Digests) community(ctx context.Context, now time.Time, out bot.Outbox, c bot.CommunityID, s bot.Settings) error {
	if s.DigestChannel.ID == "" {
		return nil
	}
	rule, err := bot.ParseRecurrence(s.DigestSchedule)
	if err != nil {
		return fmt.Errorf("schedule %q: %w", s.DigestSchedule, err)
	}
	loc := p.zone(s.Timezone)
	slots := DigestSlots(rule, loc, now.Add(-digestLookback), now)
	if len(slots) > maxDigestSlots {
		slots = slots[len(slots)-maxDigestSlots:]
	}
	keep := make(map[string]bool, len(slots))
	for _, slot := range slots {
		key := slot.In(loc).Format(SlotKeyLayout)
		keep[key] = true
		if p.enqueued(c, key) {
			continue
		}
		// Another replica may have enqueued it: then it is not built again.
		if had, err := p.store.Enqueued(ctx, c, bot.PostDigest, key); err != nil {
			return fmt.Errorf("slot %s: %w", key, err)
		} else if had {
			p.remember(c, key)
			continue
		}
		post := bot.Post{Community: c, Kind: bot.PostDigest, SlotKey: key, DueAt: slot, NotAfter: slot.Add(DigestWindow)}
		if now.After(post.NotAfter) {
			post.Message = skippedDigest(s.DigestChannel, slot, loc)
		} else {
			m, err := digest.Build(ctx, p.store, c, loc, slot)
			if err != nil {
				return fmt.Errorf("slot %s: %w", key, err)
			}
			m.Visibility, m.Kind, m.Channel = bot.Public, bot.PostDigest, s.DigestChannel
			post.Message = m
		}
		if _, err := out.Enqueue(ctx, post); err != nil {
			return fmt.Errorf("enqueue slot %s: %w", key, err)
		}
		p.remember(c, key)
	}
	p.mu.Lock()
	for key := range p.done[c] {
		if !keep[key] {
			delete(p.done[c], key)
		}
	}
	p.mu.Unlock()
	return nil
}

// DigestSlots returns rule's occurrences in loc in (from, to], oldest first.
func DigestSlots(rule bot.Recurrence, loc *time.Location, from, to time.Time) []time.Time {
	var slots []time.Time
	for t := rule.Next(from, loc); !t.IsZero() && !t.After(to); t = rule.Next(t, loc) {
		slots = append(slots, t)
	}
	return slots
}

// skippedDigest is the message stored for a slot missed past DigestWindow.
// It is never sent; it tells whoever reads the outbox what happened.
func skippedDigest(ch bot.ChannelRef, slot time.Time, loc *time.Location) bot.Message {
	local := slot.In(loc).Format("Mon 2 Jan 2006 15:04")
	return bot.Message{Visibility: bot.Public, Kind: bot.PostDigest, Channel: ch,
		Title: "Impact digest for " + local + " (" + loc.String() + ")",
		Text:  "digest for " + local + " skipped: service was down past the 12-hour window"}
}

func (p *Digests) enqueued(c bot.CommunityID, key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done[c][key]
}

func (p *Digests) remember(c bot.CommunityID, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done[c] == nil {
		p.done[c] = map[string]bool{}
	}
	p.done[c][key] = true
}

// forget drops what it remembers of communities no longer in comms.
func (p *Digests) forget(comms map[bot.CommunityID]bot.Settings) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.done {
		if _, ok := comms[c]; !ok {
			delete(p.done, c)
		}
	}
}

// zone loads a community's timezone setting, UTC when it does not load (as
// the engine does), remembering what it loaded.
func (p *Digests) zone(name string) *time.Location {
	p.mu.Lock()
	defer p.mu.Unlock()
	if loc, ok := p.zones[name]; ok {
		return loc
	}
	loc, err := bot.LoadZone(name)
	if err != nil {
		loc = time.UTC
	}
	p.zones[name] = loc
	return loc
}
