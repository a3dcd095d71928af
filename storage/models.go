package storage

import "time"

// Row structs. Every row carries its community; every query filters by it.
// Amounts are integer hundredths; times are UTC. Migrations create these
// tables; a change to a row struct needs a new migration (migrate.go).

// Community is one Slack workspace, Discord guild or console space, with its settings.
type Community struct {
	ID                    int64     `gorm:"primaryKey"`
	Platform              string    `gorm:"size:16;not null;uniqueIndex:ux_communities_ext,priority:1"`
	ExternalID            string    `gorm:"size:64;not null;uniqueIndex:ux_communities_ext,priority:2"`
	Name                  string    `gorm:"size:200;not null;default:''"`
	Mission               string    `gorm:"size:2000;not null;default:''"`
	ValuesText            string    `gorm:"size:2000;not null;default:''"`
	Timezone              string    `gorm:"size:64;not null;default:'UTC'"`
	DigestChannelID       string    `gorm:"size:64;not null;default:''"`
	DigestChannelName     string    `gorm:"size:100;not null;default:''"`
	DigestSchedule        string    `gorm:"size:64;not null;default:'every mon 09:00'"`
	DigestOn              bool      `gorm:"not null;default:true"`
	CelebrationsChannelID string    `gorm:"size:64;not null;default:''"`
	CelebrationsChannel   string    `gorm:"size:100;not null;default:''"`
	WelcomeChannelID      string    `gorm:"size:64;not null;default:''"`
	WelcomeChannelName    string    `gorm:"size:100;not null;default:''"`
	WelcomeOn             bool      `gorm:"not null;default:true"`
	RetentionDays         int       `gorm:"not null;default:90"`
	KudosPerDay           int       `gorm:"not null;default:10"`
	AdminsAreOrganisers   bool      `gorm:"not null;default:true"`
	CreatedAt             time.Time `gorm:"not null"`
}

// Member is a person in a community.
type Member struct {
	ID            int64     `gorm:"primaryKey"`
	CommunityID   int64     `gorm:"not null;uniqueIndex:ux_members_ext,priority:1;index:ix_members_first_seen,priority:1"`
	Community     Community `gorm:"constraint:OnDelete:CASCADE"`
	ExternalID    string    `gorm:"size:64;not null;uniqueIndex:ux_members_ext,priority:2"`
	Name          string    `gorm:"size:200;not null;default:''"`
	Organiser     bool      `gorm:"not null;default:false"`
	PlatformAdmin bool      `gorm:"not null;default:false"`
	Hidden        bool      `gorm:"not null;default:false"`
	Left          bool      `gorm:"not null;default:false"`
	LeftAt        *time.Time
	Forgotten     bool      `gorm:"not null;default:false"`
	FirstSeenAt   time.Time `gorm:"not null;index:ix_members_first_seen,priority:2"`
	LastSeenAt    time.Time `gorm:"not null"`
	// WelcomedAt is when the member was welcomed; a member is welcomed once.
	WelcomedAt *time.Time
}

// Counter numbers things per community and kind (#1, #2 … for goals, pledges …).
type Counter struct {
	CommunityID int64  `gorm:"primaryKey;autoIncrement:false"`
	Kind        string `gorm:"primaryKey;size:32"`
	Value       int64  `gorm:"not null;default:0"`
}

// Goal is a campaign with a target in one unit. Progress is the sum of its
// contributions, kept as a counter in the same transaction as each change.
type Goal struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;uniqueIndex:ux_goals_no,priority:1;uniqueIndex:ux_goals_slug,priority:1;index:ix_goals_status,priority:1"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	No          int64     `gorm:"not null;uniqueIndex:ux_goals_no,priority:2"`
	Slug        string    `gorm:"size:64;not null;uniqueIndex:ux_goals_slug,priority:2"`
	Title       string    `gorm:"size:200;not null"`
	Unit        string    `gorm:"size:64;not null"`
	Target      int64     `gorm:"not null"`
	DueAt       *time.Time
	Status      string    `gorm:"size:16;not null;default:'active';index:ix_goals_status,priority:2"`
	Progress    int64     `gorm:"not null;default:0"`
	Pledged     int64     `gorm:"not null;default:0"`
	CreatedBy   int64     `gorm:"not null"`
	Creator     Member    `gorm:"foreignKey:CreatedBy"`
	CreatedAt   time.Time `gorm:"not null"`
}

// Pledge is a member's commitment to a goal; Fulfilled of Amount is done,
// Cancelled of it withdrawn.
type Pledge struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;uniqueIndex:ux_pledges_no,priority:1;index:ix_pledges_member,priority:1"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	No          int64     `gorm:"not null;uniqueIndex:ux_pledges_no,priority:2"`
	GoalID      int64     `gorm:"not null;index"`
	Goal        Goal      `gorm:"constraint:OnDelete:CASCADE"`
	MemberID    int64     `gorm:"not null;index:ix_pledges_member,priority:2"`
	Member      Member    `gorm:"constraint:OnDelete:CASCADE"`
	Amount      int64     `gorm:"not null"`
	Fulfilled   int64     `gorm:"not null;default:0"`
	Cancelled   int64     `gorm:"not null;default:0"`
	Status      string    `gorm:"size:16;not null;default:'open'"`
	Anonymous   bool      `gorm:"not null;default:false"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

// Contribution kinds.
const (
	ContribPledge   = "pledge"   // a fulfilled (part of a) pledge
	ContribLog      = "log"      // logged directly
	ContribHours    = "hours"    // self-logged volunteer hours
	ContribAttended = "attended" // hours credited by an organiser's attendance
)

// Contribution is one recorded piece of impact: the ledger that progress,
// leaderboards and the impact dashboard sum in SQL.
type Contribution struct {
	ID            int64     `gorm:"primaryKey"`
	CommunityID   int64     `gorm:"not null;index:ix_contrib_time,priority:1;index:ix_contrib_member,priority:1;index:ix_contrib_goal,priority:1"`
	Community     Community `gorm:"constraint:OnDelete:CASCADE"`
	Kind          string    `gorm:"size:16;not null"`
	GoalID        *int64    `gorm:"index:ix_contrib_goal,priority:2"`
	Goal          *Goal     `gorm:"constraint:OnDelete:SET NULL"`
	MemberID      int64     `gorm:"not null;index:ix_contrib_member,priority:2"`
	Member        Member    `gorm:"constraint:OnDelete:CASCADE"`
	PledgeID      *int64    `gorm:"index"`
	OpportunityID *int64    `gorm:"index"`
	Amount        int64     `gorm:"not null"`
	Note          string    `gorm:"size:2000;not null;default:''"`
	Anonymous     bool      `gorm:"not null;default:false"`
	CreatedAt     time.Time `gorm:"not null;index:ix_contrib_time,priority:2;index:ix_contrib_goal,priority:3;index:ix_contrib_member,priority:3"`
}

// Milestone records that a goal crossed a threshold (25/50/75/100), once.
type Milestone struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;index"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	GoalID      int64     `gorm:"not null;uniqueIndex:ux_milestones,priority:1"`
	Goal        Goal      `gorm:"constraint:OnDelete:CASCADE"`
	Threshold   int       `gorm:"not null;uniqueIndex:ux_milestones,priority:2"`
	ReachedAt   time.Time `gorm:"not null"`
}

// Series is a recurring opportunity's definition; its occurrences are Opportunities.
type Series struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;index"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	Title       string    `gorm:"size:200;not null"`
	Rule        string    `gorm:"size:64;not null"`
	Minutes     int       `gorm:"not null;default:0"`
	Slots       int       `gorm:"not null;default:0"`
	Place       string    `gorm:"size:200;not null;default:''"`
	Status      string    `gorm:"size:16;not null;default:'active'"`
	CreatedAt   time.Time `gorm:"not null"`
}

// Opportunity is one volunteering occasion. Slots 0 means unlimited.
type Opportunity struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;uniqueIndex:ux_opps_no,priority:1;index:ix_opps_starts,priority:1"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	No          int64     `gorm:"not null;uniqueIndex:ux_opps_no,priority:2"`
	SeriesID    *int64    `gorm:"index"`
	Series      *Series   `gorm:"constraint:OnDelete:SET NULL"`
	Slug        string    `gorm:"size:64;not null;default:''"`
	Title       string    `gorm:"size:200;not null"`
	StartsAt    time.Time `gorm:"not null;index:ix_opps_starts,priority:2"`
	Minutes     int       `gorm:"not null;default:0"`
	Slots       int       `gorm:"not null;default:0"`
	Place       string    `gorm:"size:200;not null;default:''"`
	Status      string    `gorm:"size:16;not null;default:'open'"`
	Confirmed   int       `gorm:"not null;default:0"`
	Waitlisted  int       `gorm:"not null;default:0"`
	ChannelID   string    `gorm:"size:64;not null;default:''"`
	CreatedBy   int64     `gorm:"not null"`
	CreatedAt   time.Time `gorm:"not null"`
}

// Signup statuses.
const (
	SignupConfirmed  = "confirmed"
	SignupWaitlisted = "waitlisted"
	SignupLeft       = "left"
)

// Signup is a member's place on an opportunity: confirmed, or waitlisted at
// Position (1 = next to be promoted).
type Signup struct {
	ID            int64       `gorm:"primaryKey"`
	CommunityID   int64       `gorm:"not null;index"`
	Community     Community   `gorm:"constraint:OnDelete:CASCADE"`
	OpportunityID int64       `gorm:"not null;uniqueIndex:ux_signups,priority:1"`
	Opportunity   Opportunity `gorm:"constraint:OnDelete:CASCADE"`
	MemberID      int64       `gorm:"not null;uniqueIndex:ux_signups,priority:2;index"`
	Member        Member      `gorm:"constraint:OnDelete:CASCADE"`
	Status        string      `gorm:"size:16;not null"`
	Position      int         `gorm:"not null;default:0"`
	Attended      bool        `gorm:"not null;default:false"`
	CreatedAt     time.Time   `gorm:"not null"`
	UpdatedAt     time.Time   `gorm:"not null"`
}

// Win is a celebrated success; Cheers counts the distinct cheering members.
type Win struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;uniqueIndex:ux_wins_no,priority:1;index:ix_wins_time,priority:1"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	No          int64     `gorm:"not null;uniqueIndex:ux_wins_no,priority:2"`
	MemberID    int64     `gorm:"not null;index"`
	Member      Member    `gorm:"constraint:OnDelete:CASCADE"`
	Text        string    `gorm:"size:2000;not null"`
	Cheers      int       `gorm:"not null;default:0"`
	CreatedAt   time.Time `gorm:"not null;index:ix_wins_time,priority:2"`
}

// Cheer is one member's 🎉 on a win, counted once.
type Cheer struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;index"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	WinID       int64     `gorm:"not null;uniqueIndex:ux_cheers,priority:1"`
	Win         Win       `gorm:"constraint:OnDelete:CASCADE"`
	MemberID    int64     `gorm:"not null;uniqueIndex:ux_cheers,priority:2"`
	Member      Member    `gorm:"constraint:OnDelete:CASCADE"`
	CreatedAt   time.Time `gorm:"not null"`
}

// Kudos is public recognition from one member to another.
type Kudos struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;index:ix_kudos_from,priority:1;index:ix_kudos_to,priority:1"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	FromID      int64     `gorm:"not null;index:ix_kudos_from,priority:2"`
	From        Member    `gorm:"foreignKey:FromID;constraint:OnDelete:CASCADE"`
	ToID        int64     `gorm:"not null;index:ix_kudos_to,priority:2"`
	To          Member    `gorm:"foreignKey:ToID;constraint:OnDelete:CASCADE"`
	Reason      string    `gorm:"size:2000;not null"`
	CreatedAt   time.Time `gorm:"not null;index:ix_kudos_from,priority:3;index:ix_kudos_to,priority:3"`
}

// Announcement is an organiser's scheduled message, one-off (At) or recurring (Rule).
type Announcement struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;uniqueIndex:ux_ann_no,priority:1"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	No          int64     `gorm:"not null;uniqueIndex:ux_ann_no,priority:2"`
	At          *time.Time
	Rule        string     `gorm:"size:64;not null;default:''"`
	NextAt      *time.Time `gorm:"index"`
	Message     string     `gorm:"size:2000;not null"`
	ChannelID   string     `gorm:"size:64;not null;default:''"`
	ChannelName string     `gorm:"size:100;not null;default:''"`
	Status      string     `gorm:"size:16;not null;default:'active'"`
	CreatedBy   int64      `gorm:"not null"`
	CreatedAt   time.Time  `gorm:"not null"`
}

// Activity kinds: what made a member active.
const (
	ActPledge = "pledge"
	ActLog    = "log"
	ActHours  = "hours"
	ActSignup = "signup"
	ActWin    = "win"
	ActKudos  = "kudos"
	ActFulfil = "fulfil"
)

// Activity is one thing a member did, for active/new/returning/lapsed and streaks.
type Activity struct {
	ID          int64     `gorm:"primaryKey"`
	CommunityID int64     `gorm:"not null;index:ix_activity_time,priority:1;index:ix_activity_member,priority:1"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	MemberID    int64     `gorm:"not null;index:ix_activity_member,priority:2"`
	Member      Member    `gorm:"constraint:OnDelete:CASCADE"`
	Kind        string    `gorm:"size:16;not null"`
	At          time.Time `gorm:"not null;index:ix_activity_time,priority:2;index:ix_activity_member,priority:3"`
}

// SchemaMigration records an applied migration version.
type SchemaMigration struct {
	Version   int       `gorm:"primaryKey;autoIncrement:false"`
	Name      string    `gorm:"size:200;not null"`
	AppliedAt time.Time `gorm:"not null"`
}

// Delivery records a platform delivery (event or interaction id) once: the
// database's unique key behind deduplication of retries and redeliveries.
type Delivery struct {
	ID       int64     `gorm:"primaryKey"`
	Platform string    `gorm:"size:16;not null;uniqueIndex:ux_deliveries,priority:1"`
	EventID  string    `gorm:"size:128;not null;uniqueIndex:ux_deliveries,priority:2"`
	SeenAt   time.Time `gorm:"not null;index"`
}

// MemberWeek records that a member did something in a week: the rollup
// behind the dashboard's active, returning and lapsed counts, written in
// the same transaction as each activity (recordActivity), one row per
// member and week. Week is the UTC instant of Monday 00:00 in the
// community's timezone at the time of the activity (impact.WeekStart).
type MemberWeek struct {
	CommunityID int64     `gorm:"primaryKey;autoIncrement:false;index:ix_member_weeks_member,priority:1"`
	Community   Community `gorm:"constraint:OnDelete:CASCADE"`
	Week        time.Time `gorm:"primaryKey;not null;index:ix_member_weeks_member,priority:3"`
	MemberID    int64     `gorm:"primaryKey;autoIncrement:false;index:ix_member_weeks_member,priority:2"`
	Member      Member    `gorm:"constraint:OnDelete:CASCADE"`
}

// MemberDay is one member's activity on one UTC day: the rollup behind the
// digest's active, returning and lapsed counts over rolling windows. Times
// are Unix microseconds (UTC), so the digest compares integers: Day is the
// day's midnight, FirstAt and LastAt the day's first and last activity, and
// NextAt the FirstAt of the member's next active day (nil when there is
// none), so the member's latest activity before any instant y is in the one
// row with FirstAt < y <= NextAt. Database triggers on activities keep it in
// the same transaction as every insert and delete (migration 7,
// memberDaysDDL).
type MemberDay struct {
	CommunityID int64 `gorm:"primaryKey;autoIncrement:false"`
	Day         int64 `gorm:"primaryKey;autoIncrement:false"`
	MemberID    int64 `gorm:"primaryKey;autoIncrement:false"`
	FirstAt     int64 `gorm:"not null"`
	LastAt      int64 `gorm:"not null"`
	NextAt      *int64
}

// Outbox statuses. A row is pending until one dispatcher, under its claim,
// records the outcome; the other statuses are final.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
	OutboxUnknown = "unknown"
	OutboxSkipped = "skipped"
)

// OutboxPost is one scheduled post, unique per (community, kind, slot key).
// A dispatcher sends it only while it holds the claim (ClaimToken, valid
// until ClaimedUntil); every change of outcome is conditional on that token.
// Sending is set just before the platform is called and cleared when the
// row goes back to waiting, so a claim taken over with Sending set means the
// previous holder may have posted it.
type OutboxPost struct {
	ID           int64     `gorm:"primaryKey"`
	CommunityID  int64     `gorm:"not null;uniqueIndex:ux_outbox_slot,priority:1;index:ix_outbox_community_status,priority:1"`
	Community    Community `gorm:"constraint:OnDelete:CASCADE"`
	Kind         string    `gorm:"size:32;not null;uniqueIndex:ux_outbox_slot,priority:2"`
	SlotKey      string    `gorm:"size:200;not null;uniqueIndex:ux_outbox_slot,priority:3"`
	DueAt        time.Time `gorm:"not null;index:ix_outbox_due,priority:2"`
	NotAfter     *time.Time
	Status       string `gorm:"size:16;not null;default:'pending';index:ix_outbox_due,priority:1;index:ix_outbox_community_status,priority:2"`
	ClaimToken   string `gorm:"size:64;not null;default:''"`
	ClaimedUntil *time.Time
	Sending      bool   `gorm:"not null;default:false"`
	Attempts     int    `gorm:"not null;default:0"`
	LastError    string `gorm:"size:2000;not null;default:''"`
	Payload      string `gorm:"type:text;not null"`
	SentRef      string `gorm:"size:200;not null;default:''"`
	SentAt       *time.Time
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null;index:ix_outbox_community_status,priority:3"`
}

// Installation is one workspace's OAuth install of the app: its bot token,
// sealed (AES-GCM) by the adapter before it reaches the database.
type Installation struct {
	ID          int64     `gorm:"primaryKey"`
	Platform    string    `gorm:"size:16;not null;uniqueIndex:ux_installations,priority:1"`
	ExternalID  string    `gorm:"size:64;not null;uniqueIndex:ux_installations,priority:2"`
	BotUserID   string    `gorm:"size:64;not null;default:''"`
	SealedToken []byte    `gorm:"not null"`
	Scopes      string    `gorm:"size:2000;not null;default:''"`
	InstalledBy string    `gorm:"size:64;not null;default:''"`
	CreatedAt   time.Time `gorm:"not null"`
	UpdatedAt   time.Time `gorm:"not null"`
}

// AppState is a small named value shared by every replica, such as the hash
// of the command schema last registered with Discord.
type AppState struct {
	Key       string    `gorm:"primaryKey;size:100"`
	Value     string    `gorm:"type:text;not null"`
	UpdatedAt time.Time `gorm:"not null"`
}
