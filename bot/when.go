package bot

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // LoadZone works in minimal images without /usr/share/zoneinfo.

	"github.com/robfig/cron/v3"
)

// Recurrence kinds.
const (
	RecurWeekly = "weekly"
	RecurDaily  = "daily"
	RecurCron   = "cron"
)

// Examples shown in error messages.
const (
	exampleRecurring = "every mon 09:00"
	exampleCron      = "cron 0 9 * * 1"
	exampleDuration  = "2h, 90m or 1h30m"
	exampleZone      = "Europe/London"
	whenLayout       = "Mon 2 Jan 2006 15:04"
	isoDateLayout    = "2006-01-02"
	// MaxDuration is the longest duration ParseDuration accepts.
	MaxDuration = 30 * 24 * time.Hour
)

// When is a parsed time: either one instant or a recurrence rule.
type When struct {
	At   time.Time  // one-off instant in UTC; zero when recurring
	Rule Recurrence // zero when one-off
}

// IsRecurring reports whether w repeats.
func (w When) IsRecurring() bool { return w.Rule.Kind != "" }

// String renders w for people: a one-off as "Sat 5 Dec 2026 10:00" in loc
// (UTC when loc is nil), a recurring one as its canonical rule text. The zero
// When renders as "".
func (w When) String(loc *time.Location) string {
	if w.IsRecurring() {
		return w.Rule.String()
	}
	if w.At.IsZero() {
		return ""
	}
	return w.At.In(locOrUTC(loc)).Format(whenLayout)
}

// Recurrence is a repeating time, evaluated in a community's timezone.
// Weekly uses Weekday, Hour and Minute; daily uses Hour and Minute; cron uses
// Cron, a standard five-field spec (minute hour day-of-month month
// day-of-week) in canonical form: lower case, single spaces.
type Recurrence struct {
	Kind         string // RecurWeekly, RecurDaily or RecurCron
	Weekday      time.Weekday
	Hour, Minute int
	Cron         string
}

// String returns r's canonical text, which ParseRecurrence reads back:
// "every mon 09:00", "every day 08:30" or "cron 0 9 * * 1". The zero
// Recurrence renders as "".
func (r Recurrence) String() string {
	switch r.Kind {
	case RecurWeekly:
		return fmt.Sprintf("every %s %02d:%02d", weekdayShort(r.Weekday), r.Hour, r.Minute)
	case RecurDaily:
		return fmt.Sprintf("every day %02d:%02d", r.Hour, r.Minute)
	case RecurCron:
		return "cron " + r.Cron
	}
	return ""
}

// Next returns r's first occurrence strictly after after, in UTC, with r read
// in loc (UTC when nil). Weekly and daily rules keep their local wall-clock
// time across DST changes; a local time that does not exist that day (spring
// forward) fires at the next valid instant, and an ambiguous one (fall back)
// fires once, at the first instant. Cron specs follow robfig/cron/v3's DST
// behaviour instead: a time inside a spring-forward gap is skipped that day,
// and one inside a fall-back overlap fires at its first instant. Next returns
// the zero Time when r is invalid or (cron only) has no occurrence in the
// next five years.
func (r Recurrence) Next(after time.Time, loc *time.Location) time.Time {
	loc = locOrUTC(loc)
	switch r.Kind {
	case RecurDaily, RecurWeekly:
		if !validClock(r.Hour, r.Minute) || r.Weekday < time.Sunday || r.Weekday > time.Saturday {
			return time.Time{}
		}
		y, m, d := after.In(loc).Date()
		// Start a day early in case a gap pushed an occurrence past midnight.
		for i := -1; i <= 8; i++ {
			day := time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC)
			if r.Kind == RecurWeekly && day.Weekday() != r.Weekday {
				continue
			}
			t := resolveLocal(day.Year(), day.Month(), day.Day(), r.Hour, r.Minute, loc)
			if t.After(after) {
				return t.UTC()
			}
		}
	case RecurCron:
		sched, ok := cronSchedule(r.Cron)
		if !ok {
			return time.Time{}
		}
		// A spec without CRON_TZ is evaluated in the location of the time given.
		t := sched.Next(after.In(loc))
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

// ParseRecurrence reads r.String() back, as stored in the database or typed in
// a setting ("every mon 09:00", "every day 08:30", "cron 0 9 * * 1"). The
// whole text must be the rule.
func ParseRecurrence(s string) (Recurrence, error) {
	toks := Tokenize(s)
	if len(toks) == 0 {
		return Recurrence{}, Userf(exampleRecurring, "Say when it repeats.")
	}
	r, n, err := parseRecurring(toks)
	if err != nil {
		return Recurrence{}, err
	}
	if n != len(toks) {
		return Recurrence{}, Userf(r.String(), "I did not understand %q after %q.", JoinTokens(toks[n:]), r.String())
	}
	return r, nil
}

// ParseWhen reads a time from the start of toks and returns it with the number
// of tokens it used; the caller treats the rest as further arguments. Times
// are typed in loc (UTC when nil) and relative to now:
//
//	2026-12-01 18:00 · today 18:00 · tomorrow 6pm · mon 09:00 · monday 9:30am
//	in 2h · in 90m · in 1h30m · in 3d · in 2 hours
//	every mon 09:00 · every day 08:30 · cron 0 9 * * 1   (only when allowRecurring)
//
// Clock times are 18:00, 9:00, 6pm, 6:30pm or 6:30 pm, optionally after "at".
// A weekday means its next occurrence: today if the time is still ahead. A
// date needs a time; a one-off at or before now, an impossible date
// (2026-02-30) or clock time (25:00), and a recurring time when
// allowRecurring is false are refused with a *UserError. On error the count
// is 0.
func ParseWhen(toks []Token, now time.Time, loc *time.Location, allowRecurring bool) (When, int, error) {
	loc = locOrUTC(loc)
	ex := exampleAt(now, loc)
	first, ok := whenWord(toks, 0)
	if len(toks) == 0 || (ok && first == "") {
		return When{}, 0, Userf(ex, "Say when.")
	}
	if !ok {
		return When{}, 0, Userf(ex, "%q is not a time I understand; write it without quotes.", toks[0].Text)
	}
	switch first {
	case "every", "cron":
		if !allowRecurring {
			return When{}, 0, Userf(ex, "%q repeats, but this needs one date and time.", JoinTokens(toks[:min(len(toks), 3)]))
		}
		r, n, err := parseRecurring(toks)
		if err != nil {
			return When{}, 0, err
		}
		if r.Next(now, loc).IsZero() {
			return When{}, 0, Userf(exampleCron, "%q never happens.", r.String())
		}
		return When{Rule: r}, n, nil
	case "in":
		return parseIn(toks, now)
	}

	y, m, d, isWeekday, err := parseDay(first, now, loc, ex)
	if err != nil {
		return When{}, 0, err
	}
	if y == 0 {
		return When{}, 0, noMatch(toks, ex)
	}
	h, mi, n, err := parseClockAt(toks, 1, first)
	if err != nil {
		return When{}, 0, err
	}
	at := resolveLocal(y, m, d, h, mi, loc)
	if isWeekday && !at.After(now) {
		at = resolveLocal(y, m, d+7, h, mi, loc)
	}
	if !at.After(now) {
		return When{}, 0, Userf(ex, "%s is in the past; it is now %s.",
			at.In(loc).Format(whenLayout), now.In(loc).Format(whenLayout))
	}
	return When{At: at.UTC()}, 1 + n, nil
}

// ParseDate reads a due date for "by <date>": 2026-12-31, today, tomorrow or
// a weekday (its next occurrence, today included), in loc (UTC when nil).
// "by 2026-12-31" means by the end of Dec 31 local time, so ParseDate returns
// the instant that day ends: the start of the next local day, in UTC. A goal
// is overdue when now is at or after it. Impossible dates and days already
// over are refused with a *UserError.
func ParseDate(tok string, now time.Time, loc *time.Location) (time.Time, error) {
	loc = locOrUTC(loc)
	ex := now.In(loc).AddDate(0, 1, 0).Format(isoDateLayout)
	w := strings.ToLower(strings.TrimSpace(tok))
	if w == "" {
		return time.Time{}, Userf(ex, "Say which date, as YYYY-MM-DD.")
	}
	y, m, d, _, err := parseDay(w, now, loc, ex)
	if err != nil {
		return time.Time{}, err
	}
	if y == 0 {
		return time.Time{}, Userf(ex, "%q is not a date I understand; write it as YYYY-MM-DD.", tok)
	}
	end := resolveLocal(y, m, d+1, 0, 0, loc)
	if !end.After(now) {
		return time.Time{}, Userf(ex, "%s is in the past.", time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(isoDateLayout))
	}
	return end.UTC(), nil
}

// ParseDuration reads a positive duration of at most MaxDuration: 2h, 90m,
// 1h30m, 1.5h, 3d, 45min, 2hours, 1w, "2 hours". Units are w, d, h and m in
// short or long form; the result is rounded to the second and must be at
// least a minute.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return 0, Userf(exampleDuration, "Say how long.")
	}
	if strings.HasPrefix(in, "-") {
		return 0, Userf(exampleDuration, "%q is negative; a duration must be positive.", s)
	}
	bad := Userf(exampleDuration, "%q is not a duration I understand.", s)
	tooLong := Userf("30d", "%q is too long; the most is 30 days.", s)
	var minutes float64
	for rest := in; rest != ""; rest = strings.TrimLeft(rest, " ") {
		j := 0
		for dot := false; j < len(rest) && (whenDigit(rest[j]) || (rest[j] == '.' && !dot)); j++ {
			dot = dot || rest[j] == '.'
		}
		num := rest[:j]
		rest = strings.TrimLeft(rest[j:], " ")
		k := 0
		for k < len(rest) && rest[k] >= 'a' && rest[k] <= 'z' {
			k++
		}
		unit := rest[:k]
		rest = rest[k:]
		if num == "" || num == "." {
			return 0, bad
		}
		if unit == "" {
			if rest == "" && j == len(in) {
				return 0, Userf(num+"m or "+num+"h", "%q needs a unit.", s)
			}
			return 0, bad
		}
		per, ok := unitMinutes(unit)
		if !ok {
			return 0, Userf(exampleDuration, "%q is not a unit of time I know (in %q).", unit, s)
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsInf(v, 0) {
			return 0, tooLong
		}
		minutes += v * per
		if minutes > MaxDuration.Minutes() {
			return 0, tooLong
		}
	}
	d := time.Duration(math.Round(minutes*60)) * time.Second
	switch {
	case d <= 0:
		return 0, Userf(exampleDuration, "%q is zero; a duration must be positive.", s)
	case d < time.Minute:
		return 0, Userf(exampleDuration, "%q is too short; the least is 1 minute.", s)
	}
	return d, nil
}

// LoadZone returns the IANA timezone called name. Known zone names match
// ignoring case, with spaces for underscores (europe/london, America/New York);
// any other name time.LoadLocation accepts is accepted as is, except "Local".
// An unknown name gets a *UserError suggesting the closest known zone.
func LoadZone(name string) (*time.Location, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return nil, Userf(exampleZone, "Say which timezone, by its IANA name.")
	}
	key := strings.ReplaceAll(n, " ", "_")
	for _, z := range zoneNames() {
		if strings.EqualFold(z, key) {
			if loc, err := time.LoadLocation(z); err == nil {
				return loc, nil
			}
		}
	}
	if strings.EqualFold(key, "local") {
		return nil, Userf(exampleZone, "\"Local\" would be the server's timezone; name your community's IANA timezone instead.")
	}
	if loc, err := time.LoadLocation(key); err == nil {
		return loc, nil
	}
	if s := suggestZone(key); s != "" {
		return nil, Userf("", "%q is not a timezone I know. Did you mean %s?", n, s)
	}
	return nil, Userf(exampleZone, "%q is not a timezone I know; use an IANA name such as Europe/London or America/New_York.", n)
}

// parseRecurring reads "every <day> <time>" or "cron" and five fields from the
// start of toks.
func parseRecurring(toks []Token) (Recurrence, int, error) {
	first, _ := whenWord(toks, 0)
	if first == "cron" {
		if len(toks) < 6 {
			return Recurrence{}, 0, Userf(exampleCron, "cron needs exactly 5 fields: minute hour day-of-month month day-of-week.")
		}
		fields := make([]string, 5)
		for i := range fields {
			f, ok := whenWord(toks, 1+i)
			if !ok {
				return Recurrence{}, 0, Userf(exampleCron, "cron needs exactly 5 fields: minute hour day-of-month month day-of-week.")
			}
			fields[i] = f
		}
		spec := strings.Join(fields, " ")
		if _, ok := cronSchedule(spec); !ok {
			return Recurrence{}, 0, Userf(exampleCron, "%q is not a cron schedule I understand (minute hour day-of-month month day-of-week).", spec)
		}
		return Recurrence{Kind: RecurCron, Cron: spec}, 6, nil
	}
	if first != "every" {
		return Recurrence{}, 0, Userf(exampleRecurring, "%q is not a repeating time; start with \"every\" or \"cron\".", JoinTokens(toks[:min(len(toks), 3)]))
	}
	dayWord, ok := whenWord(toks, 1)
	if !ok || dayWord == "" {
		return Recurrence{}, 0, Userf(exampleRecurring, "\"every\" needs a day and a time.")
	}
	r := Recurrence{Kind: RecurDaily}
	if dayWord != "day" {
		wd, ok := parseWeekday(dayWord)
		if !ok {
			return Recurrence{}, 0, Userf("every mon 09:00 or every day 08:30", "%q is not a day I know.", toks[1].Text)
		}
		r = Recurrence{Kind: RecurWeekly, Weekday: wd}
	}
	h, mi, n, err := parseClockAt(toks, 2, "every "+dayWord)
	if err != nil {
		return Recurrence{}, 0, err
	}
	r.Hour, r.Minute = h, mi
	return r, 2 + n, nil
}

// parseIn reads "in <duration>" or "in <number> <unit>".
func parseIn(toks []Token, now time.Time) (When, int, error) {
	durTok, ok := whenWord(toks, 1)
	if !ok || durTok == "" {
		return When{}, 0, Userf("in 2h", "\"in\" needs a duration.")
	}
	n := 2
	if unit, ok := whenWord(toks, 2); ok && whenNumber(durTok) {
		if _, isUnit := unitMinutes(unit); isUnit {
			durTok += unit
			n = 3
		}
	}
	d, err := ParseDuration(durTok)
	if err != nil {
		return When{}, 0, err
	}
	return When{At: now.Add(d).UTC()}, n, nil
}

// parseDay reads a day word: an ISO date, today, tomorrow or a weekday. It
// returns y == 0 without error when w is none of these.
func parseDay(w string, now time.Time, loc *time.Location, ex string) (y int, m time.Month, d int, isWeekday bool, err error) {
	ny, nm, nd := now.In(loc).Date()
	switch w {
	case "today":
		return ny, nm, nd, false, nil
	case "tomorrow":
		t := time.Date(ny, nm, nd+1, 0, 0, 0, 0, time.UTC)
		return t.Year(), t.Month(), t.Day(), false, nil
	}
	if wd, ok := parseWeekday(w); ok {
		t := time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)
		t = t.AddDate(0, 0, (int(wd)-int(t.Weekday())+7)%7)
		return t.Year(), t.Month(), t.Day(), true, nil
	}
	parts := strings.Split(w, "-")
	if len(parts) == 3 && len(parts[0]) == 4 && whenDigits(parts[0]) &&
		len(parts[1]) <= 2 && whenDigits(parts[1]) && len(parts[2]) <= 2 && whenDigits(parts[2]) {
		y, _ := strconv.Atoi(parts[0])
		mo, _ := strconv.Atoi(parts[1])
		d, _ := strconv.Atoi(parts[2])
		t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if y == 0 || t.Year() != y || int(t.Month()) != mo || t.Day() != d {
			return 0, 0, 0, false, Userf(ex, "%q is not a real date.", w)
		}
		return y, time.Month(mo), d, false, nil
	}
	if strings.Count(w, "/") == 2 && whenDigits(strings.ReplaceAll(w, "/", "")) {
		return 0, 0, 0, false, Userf(ex, "%q could be read two ways; write dates as YYYY-MM-DD.", w)
	}
	return 0, 0, 0, false, nil
}

// parseClockAt reads a clock time at toks[i], optionally after "at" and
// optionally followed by a separate am/pm word, and returns the number of
// tokens used. what names the day ("tomorrow", "every mon") in errors.
func parseClockAt(toks []Token, i int, what string) (h, m, n int, err error) {
	ex := what + " 18:00"
	skip := 0
	if w, _ := whenWord(toks, i); w == "at" {
		if c, _ := clockWord(toks, i+1); clockShaped(c) {
			skip = 1
		}
	}
	w, n := clockWord(toks, i+skip)
	if n == 0 || w == "" {
		return 0, 0, 0, Userf(ex, "%s needs a time too.", what)
	}
	if !clockShaped(w) {
		return 0, 0, 0, Userf(ex, "%s needs a time; %q is not one.", what, toks[i+skip].Text)
	}
	h, m, ok := parseClock(w)
	if !ok {
		return 0, 0, 0, Userf("18:00 or 6pm", "%q is not a real time.", w)
	}
	return h, m, n + skip, nil
}

// clockWord returns the lower-cased word at toks[i], joined with a following
// am/pm word when that makes a clock time ("6 pm"), and how many tokens that
// is; 0 when toks[i] is missing or quoted.
func clockWord(toks []Token, i int) (string, int) {
	w, ok := whenWord(toks, i)
	if !ok {
		return "", 0
	}
	if s, ok := whenWord(toks, i+1); ok && (s == "am" || s == "pm") &&
		!strings.HasSuffix(w, "am") && !strings.HasSuffix(w, "pm") && clockShaped(w+s) {
		return w + s, 2
	}
	return w, 1
}

// clockShaped reports whether w looks like a clock time: H:MM or HH:MM with
// an optional am/pm, or H/HH with am/pm. Its values may still be out of range.
func clockShaped(w string) bool {
	w, suffixed := strings.CutSuffix(w, "am")
	if !suffixed {
		w, suffixed = strings.CutSuffix(w, "pm")
	}
	hh, mm, colon := strings.Cut(w, ":")
	if len(hh) < 1 || len(hh) > 2 || !whenDigits(hh) {
		return false
	}
	if !colon {
		return suffixed
	}
	return len(mm) == 2 && whenDigits(mm)
}

// parseClock returns the hour and minute of a clockShaped word, and false
// when they are out of range (25:00, 18:60, 13pm, 0am).
func parseClock(w string) (h, m int, ok bool) {
	pm := strings.HasSuffix(w, "pm")
	ampm := pm || strings.HasSuffix(w, "am")
	if ampm {
		w = w[:len(w)-2]
	}
	hh, mm, _ := strings.Cut(w, ":")
	h, _ = strconv.Atoi(hh)
	if mm != "" {
		m, _ = strconv.Atoi(mm)
	}
	if ampm {
		if h < 1 || h > 12 {
			return 0, 0, false
		}
		h %= 12
		if pm {
			h += 12
		}
	}
	return h, m, validClock(h, m)
}

// noMatch builds the error for text that is no time form at all.
func noMatch(toks []Token, ex string) error {
	if w, _ := whenWord(toks, 0); clockShaped(w) {
		return Userf("today "+toks[0].Text, "%q needs a day before it.", toks[0].Text)
	}
	if next, ok := whenWord(toks, 1); ok && clockShaped(next) && whenLetters(toks[0].Text) {
		return Userf("mon 09:00", "%q is not a day I know.", toks[0].Text)
	}
	return Userf(ex+", tomorrow 18:00, mon 09:00 or in 2h", "%q is not a time I understand.", toks[0].Text)
}

// resolveLocal returns the instant the wall clock in loc reads y-m-d h:mi
// (the date is normalised like time.Date). A wall time that does not exist
// (spring forward) gives the instant the gap ends; one that exists twice
// (fall back) gives the first. Unlike time.Date, the choice is guaranteed.
func resolveLocal(y int, m time.Month, d, h, mi int, loc *time.Location) time.Time {
	wall := time.Date(y, m, d, h, mi, 0, 0, time.UTC)
	var best time.Time
	for k := -4; k <= 4; k++ {
		_, off := wall.Add(time.Duration(k) * 6 * time.Hour).In(loc).Zone()
		u := wall.Add(-time.Duration(off) * time.Second)
		if wallClock(u, loc).Equal(wall) && (best.IsZero() || u.Before(best)) {
			best = u
		}
	}
	if !best.IsZero() {
		return best
	}
	// In a gap: find the transition that jumps over wall.
	for k := -4; k <= 4; k++ {
		_, off := wall.Add(time.Duration(k) * 6 * time.Hour).In(loc).Zone()
		start, _ := wall.Add(-time.Duration(off) * time.Second).In(loc).ZoneBounds()
		if start.IsZero() {
			continue
		}
		if wallClock(start, loc).After(wall) && wallClock(start.Add(-time.Nanosecond), loc).Before(wall) &&
			(best.IsZero() || start.Before(best)) {
			best = start
		}
	}
	if !best.IsZero() {
		return best
	}
	return time.Date(y, m, d, h, mi, 0, 0, loc)
}

// wallClock returns the reading of t's wall clock in loc as a UTC time, for
// comparing wall clocks.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// cronSchedule parses a five-field spec. CRON_TZ/TZ prefixes and @descriptors
// are refused: the community's timezone applies.
func cronSchedule(spec string) (cron.Schedule, bool) {
	fields := strings.Fields(spec)
	if len(fields) != 5 || strings.ContainsAny(spec, "=@") {
		return nil, false
	}
	s, err := cron.ParseStandard(strings.Join(fields, " "))
	return s, err == nil
}

// exampleAt is an example one-off time a week after now, so examples never
// show a past date.
func exampleAt(now time.Time, loc *time.Location) string {
	return now.In(loc).AddDate(0, 0, 7).Format(isoDateLayout) + " 10:00"
}

// whenWord returns the lower-cased text of toks[i] and true when it exists and
// is not quoted.
func whenWord(toks []Token, i int) (string, bool) {
	if i < 0 || i >= len(toks) || toks[i].Quoted {
		return "", false
	}
	return strings.ToLower(toks[i].Text), true
}

func locOrUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func validClock(h, m int) bool { return h >= 0 && h <= 23 && m >= 0 && m <= 59 }

func whenDigit(c byte) bool { return c >= '0' && c <= '9' }

// whenDigits reports whether s is one or more ASCII digits.
func whenDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !whenDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// whenNumber reports whether s is digits with at most one decimal point.
func whenNumber(s string) bool {
	a, b, _ := strings.Cut(s, ".")
	return (a == "" || whenDigits(a)) && (b == "" || whenDigits(b)) && a+b != ""
}

func whenLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

// unitMinutes returns the length of a duration unit in minutes.
func unitMinutes(u string) (float64, bool) {
	switch u {
	case "m", "min", "mins", "minute", "minutes":
		return 1, true
	case "h", "hr", "hrs", "hour", "hours":
		return 60, true
	case "d", "day", "days":
		return 24 * 60, true
	case "w", "wk", "wks", "week", "weeks":
		return 7 * 24 * 60, true
	}
	return 0, false
}

func parseWeekday(w string) (time.Weekday, bool) {
	switch w {
	case "sun", "sunday":
		return time.Sunday, true
	case "mon", "monday":
		return time.Monday, true
	case "tue", "tues", "tuesday":
		return time.Tuesday, true
	case "wed", "weds", "wednesday":
		return time.Wednesday, true
	case "thu", "thur", "thurs", "thursday":
		return time.Thursday, true
	case "fri", "friday":
		return time.Friday, true
	case "sat", "saturday":
		return time.Saturday, true
	}
	return 0, false
}

func weekdayShort(d time.Weekday) string {
	if d < time.Sunday || d > time.Saturday {
		return "?"
	}
	return strings.ToLower(d.String()[:3])
}

// suggestZone returns the known zone closest to name, or "" when none is close.
func suggestZone(name string) string {
	key := strings.ToLower(name)
	switch key {
	case "pst", "pdt", "pacific":
		return "America/Los_Angeles"
	case "est", "edt", "eastern":
		return "America/New_York"
	case "cst", "cdt", "central":
		return "America/Chicago"
	case "mst", "mdt", "mountain":
		return "America/Denver"
	case "bst", "uk", "britain", "gb":
		return "Europe/London"
	case "ist", "india":
		return "Asia/Kolkata"
	case "aest", "aedt":
		return "Australia/Sydney"
	case "jst", "japan":
		return "Asia/Tokyo"
	}
	if len(key) > 64 {
		return ""
	}
	best, bestDist := "", math.MaxInt
	for _, z := range zoneNames() {
		lz := strings.ToLower(z)
		d := zoneEditDistance(key, lz)
		if i := strings.LastIndexByte(lz, '/'); i >= 0 && !strings.Contains(key, "/") {
			d = min(d, zoneEditDistance(key, lz[i+1:]))
		}
		if d < bestDist {
			best, bestDist = z, d
		}
	}
	if bestDist > max(2, len(key)/3) {
		return ""
	}
	return best
}

// zoneEditDistance is the Levenshtein distance between a and b, in bytes.
func zoneEditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// zoneNames lists the IANA zones used for case-insensitive matching and
// suggestions: every zone in tzdata's zone.tab, UTC and a few common links.
func zoneNames() []string { return strings.Fields(knownZones) }

const knownZones = `
	Africa/Abidjan Africa/Accra Africa/Addis_Ababa Africa/Algiers Africa/Asmara Africa/Bamako Africa/Bangui
	Africa/Banjul Africa/Bissau Africa/Blantyre Africa/Brazzaville Africa/Bujumbura Africa/Cairo
	Africa/Casablanca Africa/Ceuta Africa/Conakry Africa/Dakar Africa/Dar_es_Salaam Africa/Djibouti
	Africa/Douala Africa/El_Aaiun Africa/Freetown Africa/Gaborone Africa/Harare Africa/Johannesburg
	Africa/Juba Africa/Kampala Africa/Khartoum Africa/Kigali Africa/Kinshasa Africa/Lagos Africa/Libreville
	Africa/Lome Africa/Luanda Africa/Lubumbashi Africa/Lusaka Africa/Malabo Africa/Maputo Africa/Maseru
	Africa/Mbabane Africa/Mogadishu Africa/Monrovia Africa/Nairobi Africa/Ndjamena Africa/Niamey
	Africa/Nouakchott Africa/Ouagadougou Africa/Porto-Novo Africa/Sao_Tome Africa/Tripoli Africa/Tunis
	Africa/Windhoek America/Adak America/Anchorage America/Anguilla America/Antigua America/Araguaina
	America/Argentina/Buenos_Aires America/Argentina/Catamarca America/Argentina/Cordoba America/Argentina/Jujuy
	America/Argentina/La_Rioja America/Argentina/Mendoza America/Argentina/Rio_Gallegos America/Argentina/Salta
	America/Argentina/San_Juan America/Argentina/San_Luis America/Argentina/Tucuman America/Argentina/Ushuaia
	America/Aruba America/Asuncion America/Atikokan America/Bahia America/Bahia_Banderas America/Barbados
	America/Belem America/Belize America/Blanc-Sablon America/Boa_Vista America/Bogota America/Boise
	America/Buenos_Aires America/Cambridge_Bay America/Campo_Grande America/Cancun America/Caracas
	America/Cayenne America/Cayman America/Chicago America/Chihuahua America/Ciudad_Juarez America/Costa_Rica
	America/Coyhaique America/Creston America/Cuiaba America/Curacao America/Danmarkshavn America/Dawson
	America/Dawson_Creek America/Denver America/Detroit America/Dominica America/Edmonton America/Eirunepe
	America/El_Salvador America/Fort_Nelson America/Fortaleza America/Glace_Bay America/Goose_Bay
	America/Grand_Turk America/Grenada America/Guadeloupe America/Guatemala America/Guayaquil America/Guyana
	America/Halifax America/Havana America/Hermosillo America/Indiana/Indianapolis America/Indiana/Knox
	America/Indiana/Marengo America/Indiana/Petersburg America/Indiana/Tell_City America/Indiana/Vevay
	America/Indiana/Vincennes America/Indiana/Winamac America/Indianapolis America/Inuvik America/Iqaluit
	America/Jamaica America/Juneau America/Kentucky/Louisville America/Kentucky/Monticello America/Kralendijk
	America/La_Paz America/Lima America/Los_Angeles America/Lower_Princes America/Maceio America/Managua
	America/Manaus America/Marigot America/Martinique America/Matamoros America/Mazatlan America/Menominee
	America/Merida America/Metlakatla America/Mexico_City America/Miquelon America/Moncton America/Monterrey
	America/Montevideo America/Montserrat America/Nassau America/New_York America/Nome America/Noronha
	America/North_Dakota/Beulah America/North_Dakota/Center America/North_Dakota/New_Salem America/Nuuk
	America/Ojinaga America/Panama America/Paramaribo America/Phoenix America/Port-au-Prince America/Port_of_Spain
	America/Porto_Velho America/Puerto_Rico America/Punta_Arenas America/Rankin_Inlet America/Recife
	America/Regina America/Resolute America/Rio_Branco America/Santarem America/Santiago America/Santo_Domingo
	America/Sao_Paulo America/Scoresbysund America/Sitka America/St_Barthelemy America/St_Johns
	America/St_Kitts America/St_Lucia America/St_Thomas America/St_Vincent America/Swift_Current
	America/Tegucigalpa America/Thule America/Tijuana America/Toronto America/Tortola America/Vancouver
	America/Whitehorse America/Winnipeg America/Yakutat Antarctica/Casey Antarctica/Davis Antarctica/DumontDUrville
	Antarctica/Macquarie Antarctica/Mawson Antarctica/McMurdo Antarctica/Palmer Antarctica/Rothera
	Antarctica/Syowa Antarctica/Troll Antarctica/Vostok Arctic/Longyearbyen Asia/Aden Asia/Almaty
	Asia/Amman Asia/Anadyr Asia/Aqtau Asia/Aqtobe Asia/Ashgabat Asia/Atyrau Asia/Baghdad Asia/Bahrain
	Asia/Baku Asia/Bangkok Asia/Barnaul Asia/Beirut Asia/Bishkek Asia/Brunei Asia/Calcutta Asia/Chita
	Asia/Colombo Asia/Damascus Asia/Dhaka Asia/Dili Asia/Dubai Asia/Dushanbe Asia/Famagusta Asia/Gaza
	Asia/Hebron Asia/Ho_Chi_Minh Asia/Hong_Kong Asia/Hovd Asia/Irkutsk Asia/Jakarta Asia/Jayapura
	Asia/Jerusalem Asia/Kabul Asia/Kamchatka Asia/Karachi Asia/Kathmandu Asia/Katmandu Asia/Khandyga
	Asia/Kolkata Asia/Krasnoyarsk Asia/Kuala_Lumpur Asia/Kuching Asia/Kuwait Asia/Macau Asia/Magadan
	Asia/Makassar Asia/Manila Asia/Muscat Asia/Nicosia Asia/Novokuznetsk Asia/Novosibirsk Asia/Omsk
	Asia/Oral Asia/Phnom_Penh Asia/Pontianak Asia/Pyongyang Asia/Qatar Asia/Qostanay Asia/Qyzylorda
	Asia/Rangoon Asia/Riyadh Asia/Saigon Asia/Sakhalin Asia/Samarkand Asia/Seoul Asia/Shanghai Asia/Singapore
	Asia/Srednekolymsk Asia/Taipei Asia/Tashkent Asia/Tbilisi Asia/Tehran Asia/Thimphu Asia/Tokyo
	Asia/Tomsk Asia/Ulaanbaatar Asia/Urumqi Asia/Ust-Nera Asia/Vientiane Asia/Vladivostok Asia/Yakutsk
	Asia/Yangon Asia/Yekaterinburg Asia/Yerevan Atlantic/Azores Atlantic/Bermuda Atlantic/Canary
	Atlantic/Cape_Verde Atlantic/Faroe Atlantic/Madeira Atlantic/Reykjavik Atlantic/South_Georgia
	Atlantic/St_Helena Atlantic/Stanley Australia/Adelaide Australia/Brisbane Australia/Broken_Hill
	Australia/Darwin Australia/Eucla Australia/Hobart Australia/Lindeman Australia/Lord_Howe Australia/Melbourne
	Australia/Perth Australia/Sydney Etc/UTC Europe/Amsterdam Europe/Andorra Europe/Astrakhan Europe/Athens
	Europe/Belgrade Europe/Berlin Europe/Bratislava Europe/Brussels Europe/Bucharest Europe/Budapest
	Europe/Busingen Europe/Chisinau Europe/Copenhagen Europe/Dublin Europe/Gibraltar Europe/Guernsey
	Europe/Helsinki Europe/Isle_of_Man Europe/Istanbul Europe/Jersey Europe/Kaliningrad Europe/Kiev
	Europe/Kirov Europe/Kyiv Europe/Lisbon Europe/Ljubljana Europe/London Europe/Luxembourg Europe/Madrid
	Europe/Malta Europe/Mariehamn Europe/Minsk Europe/Monaco Europe/Moscow Europe/Oslo Europe/Paris
	Europe/Podgorica Europe/Prague Europe/Riga Europe/Rome Europe/Samara Europe/San_Marino Europe/Sarajevo
	Europe/Saratov Europe/Simferopol Europe/Skopje Europe/Sofia Europe/Stockholm Europe/Tallinn
	Europe/Tirane Europe/Ulyanovsk Europe/Vaduz Europe/Vatican Europe/Vienna Europe/Vilnius Europe/Volgograd
	Europe/Warsaw Europe/Zagreb Europe/Zurich GMT Indian/Antananarivo Indian/Chagos Indian/Christmas
	Indian/Cocos Indian/Comoro Indian/Kerguelen Indian/Mahe Indian/Maldives Indian/Mauritius Indian/Mayotte
	Indian/Reunion Pacific/Apia Pacific/Auckland Pacific/Bougainville Pacific/Chatham Pacific/Chuuk
	Pacific/Easter Pacific/Efate Pacific/Fakaofo Pacific/Fiji Pacific/Funafuti Pacific/Galapagos
	Pacific/Gambier Pacific/Guadalcanal Pacific/Guam Pacific/Honolulu Pacific/Kanton Pacific/Kiritimati
	Pacific/Kosrae Pacific/Kwajalein Pacific/Majuro Pacific/Marquesas Pacific/Midway Pacific/Nauru
	Pacific/Niue Pacific/Norfolk Pacific/Noumea Pacific/Pago_Pago Pacific/Palau Pacific/Pitcairn
	Pacific/Pohnpei Pacific/Port_Moresby Pacific/Rarotonga Pacific/Saipan Pacific/Tahiti Pacific/Tarawa
	Pacific/Tongatapu Pacific/Wake Pacific/Wallis US/Alaska US/Central US/Eastern US/Hawaii US/Mountain
	US/Pacific UTC
`
