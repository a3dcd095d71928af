package impact

import "time"

// Window is the half-open span of time [From, To), in UTC.
type Window struct {
	From, To time.Time
}

// MemberWindows are the bounds the member counts use, all in UTC:
//
//   - active: any activity in Period;
//   - new: first seen in Period;
//   - returning: active in Period and in [PrevFrom, Period.From);
//   - lapsed: active in [LapsedFrom, QuietFrom) but not in [QuietFrom, Period.To).
type MemberWindows struct {
	Period     Window
	PrevFrom   time.Time
	LapsedFrom time.Time
	QuietFrom  time.Time
}

// WeekStart returns the start of t's week, Monday 00:00 in loc, in UTC.
// Days are counted on the calendar in loc, so weeks across a DST change
// are 167 or 169 hours long.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	back := (int(l.Weekday()) + 6) % 7 // days since Monday
	return time.Date(l.Year(), l.Month(), l.Day()-back, 0, 0, 0, 0, loc).UTC()
}

// daysBefore returns the instant days calendar days before t in loc, same
// wall clock, in UTC.
func daysBefore(t time.Time, loc *time.Location, days int) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day()-days, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), loc).UTC()
}

// Weeks are the dashboard's windows: this week (Monday 00:00 in loc to the
// next Monday 00:00, so far only filled up to now) and the week before it.
type Weeks struct {
	This, Last Window
	Members    MemberWindows
}

// DashboardWeeks returns the windows for /impact at now in loc. The four
// weeks of "lapsed" are the current week and the three before it; the last
// two are this week and last week. So a lapsed member was active two or
// three weeks ago and has done nothing since last Monday.
func DashboardWeeks(now time.Time, loc *time.Location) Weeks {
	start := WeekStart(now, loc)
	lastStart := daysBefore(start, loc, 7)
	this := Window{From: start, To: daysBefore(start, loc, -7)}
	return Weeks{
		This: this,
		Last: Window{From: lastStart, To: start},
		Members: MemberWindows{
			Period:     this,
			PrevFrom:   lastStart,
			LapsedFrom: daysBefore(start, loc, 21),
			QuietFrom:  lastStart,
		},
	}
}

// RollingWeeks returns the digest's windows at now in loc: the period is
// the 7 days ending at now, the previous period the 7 days before that, and
// the member windows follow the same rule as DashboardWeeks with 7-day
// steps back from now. prev gives the member windows of the previous period,
// for ▲/▼.
func RollingWeeks(now time.Time, loc *time.Location) (cur, prev MemberWindows) {
	at := func(k int) time.Time { return daysBefore(now, loc, 7*k) }
	mw := func(k int) MemberWindows {
		return MemberWindows{
			Period:     Window{From: at(k + 1), To: at(k)},
			PrevFrom:   at(k + 2),
			LapsedFrom: at(k + 4),
			QuietFrom:  at(k + 2),
		}
	}
	return mw(0), mw(1)
}
