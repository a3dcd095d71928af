// Package app wires the core: the engine with every area's handlers over
// one store. cmd/missionbot and the end-to-end tests build on it.
package app

import (
	"log/slog"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/bot/announce"
	"github.com/missionbot/missionbot/bot/digest"
	"github.com/missionbot/missionbot/bot/goal"
	"github.com/missionbot/missionbot/bot/impact"
	"github.com/missionbot/missionbot/bot/mission"
	"github.com/missionbot/missionbot/bot/pledge"
	"github.com/missionbot/missionbot/bot/recognition"
	"github.com/missionbot/missionbot/bot/volunteer"
	"github.com/missionbot/missionbot/scheduler"
	"github.com/missionbot/missionbot/storage"
)

// Engine returns the engine with every command's handler registered.
func Engine(s *storage.Store, clock bot.Clock, log *slog.Logger) *bot.Engine {
	e := bot.NewEngine(bot.Commands, s, clock, log)
	mission.Register(e, s)
	goal.Register(e, s)
	pledge.Register(e, s)
	volunteer.Register(e, s)
	recognition.Register(e, s)
	impact.Register(e, s)
	digest.Register(e, s)
	announce.Register(e, s)
	return e
}

// Producers returns every scheduled job over the store: weekly digests,
// organisers' announcements, volunteer and pledge reminders, recurring
// occurrences a week ahead, the weekly recognition post and retention
// erasure.
func Producers(s *storage.Store) []scheduler.Producer {
	return []scheduler.Producer{
		scheduler.NewOccurrences(s),
		scheduler.NewDigests(s),
		scheduler.NewAnnouncements(s, 0),
		scheduler.NewVolunteerReminders(s),
		scheduler.NewPledgeReminders(s),
		scheduler.NewRecognitions(s),
		scheduler.NewRetention(s),
	}
}

// Kicker is what KickAfterCommands needs of the scheduler.
type Kicker interface{ Kick() }

// KickAfterCommands returns an engine observer that passes each
// observation to next (when set) and then, after a command that succeeded,
// kicks k, so what the command enqueued in the outbox (a milestone
// celebration) is posted within moments rather than at the next minute's
// tick. It never blocks: kicks merge while one is pending.
//
//	engine.Observe(app.KickAfterCommands(observe(m), sched))
func KickAfterCommands(next bot.Observer, k Kicker) bot.Observer {
	return func(o bot.Observation) {
		if next != nil {
			next(o)
		}
		if o.Outcome == bot.OutcomeOK {
			k.Kick()
		}
	}
}
