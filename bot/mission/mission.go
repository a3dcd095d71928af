// Package mission is the community's mission and values, its organisers and
// its settings: /mission, /organisers and /settings.
package mission

import (
	"context"
	"errors"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// Limits on what organisers type.
const (
	// MaxValueLen is the longest single value, in characters.
	MaxValueLen = 200
	// MaxMissionLen is the longest mission statement, in characters.
	MaxMissionLen = 2000
	// MinRetentionDays and MaxRetentionDays bound /settings retention.
	MinRetentionDays, MaxRetentionDays = 1, 3650
	// MinKudosPerDay and MaxKudosPerDay bound /settings kudos-per-day.
	MinKudosPerDay, MaxKudosPerDay = 1, 100
)

// Errors the store returns for outcomes the person should read.
var (
	// ErrNoDigestChannel: the digest cannot be turned on before a channel is set.
	ErrNoDigestChannel = errors.New("no digest channel")
	// ErrNoAddedOrganiser: admins-are-organisers cannot be turned off while
	// no member has been added as an organiser.
	ErrNoAddedOrganiser = errors.New("no added organiser")
	// ErrLastOrganiser: the last added organiser cannot be removed while
	// admins-are-organisers is off.
	ErrLastOrganiser = errors.New("last organiser")
	// ErrNotOrganiser: the member was never added as an organiser.
	ErrNotOrganiser = errors.New("not an added organiser")
)

// Change is a change to a community's settings; nil fields stay as they are.
type Change struct {
	Mission             *string
	Values              []string // nil: unchanged
	Timezone            *string
	DigestChannel       *bot.ChannelRef
	DigestSchedule      *string
	DigestOn            *bool
	CelebrationsChannel *bot.ChannelRef
	WelcomeChannel      *bot.ChannelRef
	WelcomeOn           *bool
	RetentionDays       *int
	KudosPerDay         *int
	AdminsAreOrganisers *bool
	// Now is when the change is made. A timezone change re-times the
	// community's recurring schedules from it (their next run keeps its
	// local wall-clock time in the new zone).
	Now time.Time
}

// GoalSummary is an active goal as /mission shows it.
type GoalSummary struct {
	No       int64
	Slug     string
	Title    string
	Unit     string
	Target   bot.Amount
	Progress bot.Amount
	DueAt    time.Time // zero when none
}

// Opening is an open volunteering opportunity with places left.
type Opening struct {
	No        int64
	Slug      string
	Title     string
	Place     string
	StartsAt  time.Time
	Slots     int // 0: unlimited
	Confirmed int
}

// Organiser is a member who organises, by being added or by platform admin rights.
type Organiser struct {
	Member bot.Member
	// Added is true for members made organisers (/organisers add, install).
	Added bool
	// PlatformAdmin is true for workspace/server admins as last seen.
	PlatformAdmin bool
}

// Store is what this package needs from storage. Every method is scoped to
// community c, is safe for concurrent use, and changes nothing on error.
type Store interface {
	// ChangeSettings applies ch in one transaction and returns the new
	// settings. It returns ErrNoDigestChannel when ch turns the digest on
	// without a digest channel, and ErrNoAddedOrganiser when ch turns
	// admins-are-organisers off while no member is an added organiser.
	// When ch changes the timezone, active recurring announcements get
	// their next run after ch.Now recomputed in the new zone, in the same
	// transaction.
	ChangeSettings(ctx context.Context, c bot.CommunityID, ch Change) (bot.Settings, error)
	// MissionGoals returns up to limit active goals, oldest first, and how
	// many active goals there are.
	MissionGoals(ctx context.Context, c bot.CommunityID, limit int) ([]GoalSummary, int64, error)
	// MissionOpenings returns up to limit open opportunities starting after
	// now that have places left, soonest first.
	MissionOpenings(ctx context.Context, c bot.CommunityID, now time.Time, limit int) ([]Opening, error)
	// ListOrganisers returns added organisers and platform admins (present
	// members only), by name.
	ListOrganisers(ctx context.Context, c bot.CommunityID) ([]Organiser, error)
	// AddOrganiser makes m an added organiser; it reports false when m
	// already was one (nothing changes). Idempotent.
	AddOrganiser(ctx context.Context, c bot.CommunityID, m bot.MemberID) (bool, error)
	// RemoveOrganiser stops m being an added organiser. It returns
	// ErrNotOrganiser when m was not one, and ErrLastOrganiser when m is the
	// last one while admins-are-organisers is off.
	RemoveOrganiser(ctx context.Context, c bot.CommunityID, m bot.MemberID) error
	// MarkWelcomed records that m was welcomed and reports whether this
	// call did it; exactly one concurrent caller sees true.
	MarkWelcomed(ctx context.Context, c bot.CommunityID, m bot.MemberID, at time.Time) (bool, error)
}

// Register wires /mission, /organisers and /settings into e over s.
func Register(e *bot.Engine, s Store) {
	h := &handlers{store: s}
	e.Handle("mission", "show", h.show)
	e.Handle("mission", "set", h.set)
	e.Handle("mission", "values", h.values)
	e.HandleEvent(bot.EventJoined, h.greet)
	e.HandleEvent(bot.EventInstalled, h.installed)

	e.Handle("organisers", "list", h.listOrganisers)
	e.Handle("organisers", "add", h.addOrganiser)
	e.Handle("organisers", "remove", h.removeOrganiser)

	e.Handle("settings", "show", h.showSettings)
	e.Handle("settings", "timezone", h.timezone)
	e.Handle("settings", "digest-channel", h.digestChannel)
	e.Handle("settings", "digest-schedule", h.digestSchedule)
	e.Handle("settings", "digest", h.digest)
	e.Handle("settings", "celebrations-channel", h.celebrationsChannel)
	e.Handle("settings", "welcome-channel", h.welcomeChannel)
	e.Handle("settings", "welcome", h.welcome)
	e.Handle("settings", "retention", h.retention)
	e.Handle("settings", "kudos-per-day", h.kudosPerDay)
	e.Handle("settings", "admins-are-organisers", h.adminsAreOrganisers)
}

type handlers struct {
	store Store
}

// channelMention renders a channel as a mention, or "not set".
func channelMention(ch bot.ChannelRef) string {
	if ch.ID == "" {
		return "not set"
	}
	if ch.Name == "" {
		return "<#" + ch.ID + ">"
	}
	return "<#" + ch.ID + "|" + ch.Name + ">"
}

// localTime renders t in loc with the zone's name: "Mon 7 Dec 2026 09:00 (Europe/London)".
func localTime(t time.Time, loc *time.Location) string {
	return bot.When{At: t}.String(loc) + " (" + loc.String() + ")"
}

func onOffText(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
