package bot

import (
	"strings"
	"testing"
	"time"
)

// now is Tuesday 1 Dec 2026 09:00 UTC unless a case says otherwise.
var whenNow = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

// wantUserError fails unless err is a *UserError with an example whose
// message contains want.
func wantUserError(t *testing.T, err error, want string) {
	t.Helper()
	ue := wantUserErrorMsg(t, err, want)
	if ue != nil && ue.Example == "" {
		t.Errorf("error %q has no example", ue.Msg)
	}
}

// wantUserErrorMsg fails unless err is a *UserError whose message contains
// want, and returns it.
func wantUserErrorMsg(t *testing.T, err error, want string) *UserError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	ue, ok := AsUserError(err)
	if !ok {
		t.Fatalf("error %v is not a *UserError", err)
	}
	if !strings.Contains(ue.Msg, want) {
		t.Errorf("error %q does not contain %q", ue.Msg, want)
	}
	return ue
}

func TestParseWhenOneOff(t *testing.T) {
	london := mustZone(t, "Europe/London")
	ny := mustZone(t, "America/New_York")
	june := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in    string
		now   time.Time
		loc   *time.Location
		want  time.Time
		wantN int
	}{
		{in: "2026-12-01 18:00", want: utc(2026, 12, 1, 18, 0), wantN: 2},
		{in: "2026-12-01 18:00 Park cleanup", want: utc(2026, 12, 1, 18, 0), wantN: 2},
		{in: "2026-12-2 9:00", want: utc(2026, 12, 2, 9, 0), wantN: 2},
		{in: "2027-01-05 at 6pm", want: utc(2027, 1, 5, 18, 0), wantN: 3},
		{in: "today 18:00", want: utc(2026, 12, 1, 18, 0), wantN: 2},
		{in: "TODAY 9:01", want: utc(2026, 12, 1, 9, 1), wantN: 2},
		{in: "tomorrow 18:00", want: utc(2026, 12, 2, 18, 0), wantN: 2},
		{in: "Tomorrow 6pm", want: utc(2026, 12, 2, 18, 0), wantN: 2},
		{in: "tomorrow 6:30pm", want: utc(2026, 12, 2, 18, 30), wantN: 2},
		{in: "tomorrow 6:30 PM bring gloves", want: utc(2026, 12, 2, 18, 30), wantN: 3},
		{in: "tomorrow at 18:00", want: utc(2026, 12, 2, 18, 0), wantN: 3},
		{in: "tomorrow at 6 pm", want: utc(2026, 12, 2, 18, 0), wantN: 4},
		{in: "tomorrow 12am", want: utc(2026, 12, 2, 0, 0), wantN: 2},
		{in: "tomorrow 12pm", want: utc(2026, 12, 2, 12, 0), wantN: 2},
		{in: "tomorrow 9am", want: utc(2026, 12, 2, 9, 0), wantN: 2},
		{in: "tomorrow at the park", want: time.Time{}, wantN: 0},  // error, see TestParseWhenErrors
		{in: "tue 10:00", want: utc(2026, 12, 1, 10, 0), wantN: 2}, // today, still ahead
		{in: "tue 09:00", want: utc(2026, 12, 8, 9, 0), wantN: 2},  // today, not ahead: next week
		{in: "tuesday 08:00", want: utc(2026, 12, 8, 8, 0), wantN: 2},
		{in: "mon 09:00", want: utc(2026, 12, 7, 9, 0), wantN: 2},
		{in: "monday 9:00", want: utc(2026, 12, 7, 9, 0), wantN: 2},
		{in: "sat 10:00", want: utc(2026, 12, 5, 10, 0), wantN: 2},
		{in: "Thurs 7:15am", want: utc(2026, 12, 3, 7, 15), wantN: 2},
		{in: "in 2h", want: utc(2026, 12, 1, 11, 0), wantN: 2},
		{in: "IN 90M", want: utc(2026, 12, 1, 10, 30), wantN: 2},
		{in: "in 1h30m tea", want: utc(2026, 12, 1, 10, 30), wantN: 2},
		{in: "in 3d", want: utc(2026, 12, 4, 9, 0), wantN: 2},
		{in: "in 2 hours", want: utc(2026, 12, 1, 11, 0), wantN: 3},
		{in: "in 1.5 h", want: utc(2026, 12, 1, 10, 30), wantN: 3},
		{in: "2026-12-05 10:00", loc: london, want: utc(2026, 12, 5, 10, 0), wantN: 2},
		{in: "2026-06-05 10:00", now: june, loc: london, want: utc(2026, 6, 5, 9, 0), wantN: 2},
		{in: "2026-12-05 10:00", loc: ny, want: utc(2026, 12, 5, 15, 0), wantN: 2},
		// 1 Dec 09:00 UTC is 04:00 in New York: "today" is still 1 Dec there.
		{in: "today 05:00", loc: ny, want: utc(2026, 12, 1, 10, 0), wantN: 2},
		// 23:30 UTC on 1 Dec is already 2 Dec in Tokyo.
		{in: "tomorrow 08:00", now: utc(2026, 12, 1, 23, 30), loc: mustZone(t, "Asia/Tokyo"), want: utc(2026, 12, 2, 23, 0), wantN: 2},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = whenNow
			}
			w, n, err := ParseWhen(Tokenize(tt.in), now, tt.loc, true)
			if tt.wantN == 0 {
				if err == nil {
					t.Fatalf("got %v, want an error", w)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWhen: %v", err)
			}
			if !w.At.Equal(tt.want) || w.At.Location() != time.UTC {
				t.Errorf("At = %v, want %v in UTC", w.At, tt.want)
			}
			if n != tt.wantN {
				t.Errorf("n = %d, want %d", n, tt.wantN)
			}
			if w.IsRecurring() {
				t.Errorf("one-off reported as recurring: %+v", w.Rule)
			}
		})
	}
}

func TestParseWhenRecurring(t *testing.T) {
	tests := []struct {
		in    string
		want  Recurrence
		wantN int
		text  string
	}{
		{"every mon 09:00", Recurrence{Kind: RecurWeekly, Weekday: time.Monday, Hour: 9}, 3, "every mon 09:00"},
		{"every day 08:30 stretch", Recurrence{Kind: RecurDaily, Hour: 8, Minute: 30}, 3, "every day 08:30"},
		{"Every SATURDAY 10am", Recurrence{Kind: RecurWeekly, Weekday: time.Saturday, Hour: 10}, 3, "every sat 10:00"},
		{"every sat at 10:00", Recurrence{Kind: RecurWeekly, Weekday: time.Saturday, Hour: 10}, 4, "every sat 10:00"},
		{"every sun 7:05 pm", Recurrence{Kind: RecurWeekly, Weekday: time.Sunday, Hour: 19, Minute: 5}, 4, "every sun 19:05"},
		{"cron 0 9 * * 1 Weekly check-in 🌱", Recurrence{Kind: RecurCron, Cron: "0 9 * * 1"}, 6, "cron 0 9 * * 1"},
		{"CRON 30 8 1-7 * MON", Recurrence{Kind: RecurCron, Cron: "30 8 1-7 * mon"}, 6, "cron 30 8 1-7 * mon"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			w, n, err := ParseWhen(Tokenize(tt.in), whenNow, nil, true)
			if err != nil {
				t.Fatalf("ParseWhen: %v", err)
			}
			if !w.IsRecurring() || w.Rule != tt.want || !w.At.IsZero() {
				t.Errorf("got %+v, want rule %+v", w, tt.want)
			}
			if n != tt.wantN {
				t.Errorf("n = %d, want %d", n, tt.wantN)
			}
			if got := w.String(nil); got != tt.text {
				t.Errorf("String = %q, want %q", got, tt.text)
			}
		})
	}
}

func TestParseWhenErrors(t *testing.T) {
	tests := []struct {
		in        string
		recurring bool
		want      string
	}{
		{"", true, "Say when"},
		{`"tomorrow" 18:00`, true, "without quotes"},
		{"2026-12-01 08:00", true, "is in the past"},
		{"2026-12-01 09:00", true, "is in the past"}, // exactly now
		{"today 08:00", true, "is in the past"},
		{"2025-06-01 10:00", true, "is in the past"},
		{"2026-02-30 10:00", true, `"2026-02-30" is not a real date`},
		{"2026-13-01 10:00", true, "is not a real date"},
		{"2026-00-10 10:00", true, "is not a real date"},
		{"2026-12-05", true, "2026-12-05 needs a time too"},
		{"2026-12-05 Park cleanup", true, `needs a time; "Park" is not one`},
		{"tomorrow", true, "tomorrow needs a time too"},
		{`tomorrow "18:00"`, true, "tomorrow needs a time too"},
		{"tomorrow at the park", true, `"at" is not one`},
		{"tomorrow 1800", true, `"1800" is not one`},
		{"mnday 09:00", true, `"mnday" is not a day I know`},
		{"every mnday 09:00", true, `"mnday" is not a day I know`},
		{"every", true, `"every" needs a day and a time`},
		{"every mon", true, "every mon needs a time too"},
		{"tomorrow 25:00", true, `"25:00" is not a real time`},
		{"tomorrow 24:00", true, "is not a real time"},
		{"tomorrow 18:60", true, "is not a real time"},
		{"tomorrow 13pm", true, "is not a real time"},
		{"tomorrow 0am", true, "is not a real time"},
		{"every day 99:99", true, "is not a real time"},
		{"every mon 09:00", false, "repeats"},
		{"every day 08:30", false, "repeats"},
		{"cron 0 9 * * 1", false, "repeats"},
		{"cron 0 9 * *", true, "exactly 5 fields"},
		{`cron 0 9 * "*" 1`, true, "exactly 5 fields"},
		{"cron 0 9 * * x", true, "not a cron schedule"},
		{"cron 0 25 * * *", true, "not a cron schedule"},
		{"cron */0 * * * *", true, "not a cron schedule"},
		{"cron TZ=UTC 9 * * *", true, "not a cron schedule"},
		{"cron @daily 1 2 3 4", true, "not a cron schedule"},
		{"cron 0 0 30 2 *", true, "never happens"},
		{"in", true, `"in" needs a duration`},
		{"in 0m", true, "is zero"},
		{"in -2h", true, "is negative"},
		{"in 31d", true, "too long"},
		{"in soon", true, "not a duration I understand"},
		{"18:00", true, "needs a day before it"},
		{"6pm", true, "needs a day before it"},
		{"01/12/2026 10:00", true, "could be read two ways"},
		{"party at 5", true, `"party" is not a time I understand`},
		{"next week", true, "is not a time I understand"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			w, n, err := ParseWhen(Tokenize(tt.in), whenNow, nil, tt.recurring)
			wantUserError(t, err, tt.want)
			if n != 0 || w != (When{}) {
				t.Errorf("on error got %+v, n = %d; want zero", w, n)
			}
		})
	}
}

// TestParseWhenErrorExamplesParse checks that the example a one-off error
// offers is itself accepted.
func TestParseWhenErrorExamplesParse(t *testing.T) {
	for _, in := range []string{"2026-12-01 08:00", "2026-02-30 10:00", "tomorrow", "every mon 09:00", "party at 5"} {
		_, _, err := ParseWhen(Tokenize(in), whenNow, nil, false)
		ue, ok := AsUserError(err)
		if !ok {
			t.Fatalf("%q: %v is not a *UserError", in, err)
		}
		ex, _, _ := strings.Cut(ue.Example, ",")
		if _, _, err := ParseWhen(Tokenize(ex), whenNow, nil, false); err != nil {
			t.Errorf("%q: example %q does not parse: %v", in, ex, err)
		}
	}
}

func TestParseWhenDST(t *testing.T) {
	london := mustZone(t, "Europe/London")
	ny := mustZone(t, "America/New_York")
	early2026 := utc(2026, 1, 1, 0, 0)
	tests := []struct {
		name string
		in   string
		loc  *time.Location
		want time.Time
	}{
		// New York springs forward at 02:00 EST on 8 Mar 2026: 02:30 does not exist.
		{"ny gap moves to 03:00 EDT", "2026-03-08 02:30", ny, utc(2026, 3, 8, 7, 0)},
		{"ny gap start", "2026-03-08 02:00", ny, utc(2026, 3, 8, 7, 0)},
		{"ny before gap", "2026-03-08 01:59", ny, utc(2026, 3, 8, 6, 59)},
		{"ny after gap", "2026-03-08 03:00", ny, utc(2026, 3, 8, 7, 0)},
		// New York falls back at 02:00 EDT on 1 Nov 2026: 01:30 happens twice.
		{"ny overlap takes first (EDT)", "2026-11-01 01:30", ny, utc(2026, 11, 1, 5, 30)},
		{"ny after overlap", "2026-11-01 02:00", ny, utc(2026, 11, 1, 7, 0)},
		// London springs forward at 01:00 GMT on 29 Mar 2026: 01:30 does not exist.
		{"london gap moves to 02:00 BST", "2026-03-29 01:30", london, utc(2026, 3, 29, 1, 0)},
		{"london after gap", "2026-03-29 03:00", london, utc(2026, 3, 29, 2, 0)},
		// London falls back at 02:00 BST on 25 Oct 2026: 01:30 happens twice.
		{"london overlap takes first (BST)", "2026-10-25 01:30", london, utc(2026, 10, 25, 0, 30)},
		{"london overlap start", "2026-10-25 01:00", london, utc(2026, 10, 25, 0, 0)},
		{"london after overlap", "2026-10-25 02:00", london, utc(2026, 10, 25, 2, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _, err := ParseWhen(Tokenize(tt.in), early2026, tt.loc, false)
			if err != nil {
				t.Fatalf("ParseWhen: %v", err)
			}
			if !w.At.Equal(tt.want) {
				t.Errorf("At = %v (%v local), want %v", w.At, w.At.In(tt.loc), tt.want)
			}
		})
	}
}

func TestRecurrenceNext(t *testing.T) {
	london := mustZone(t, "Europe/London")
	ny := mustZone(t, "America/New_York")
	monday9 := Recurrence{Kind: RecurWeekly, Weekday: time.Monday, Hour: 9}
	tests := []struct {
		name  string
		r     Recurrence
		loc   *time.Location
		after time.Time
		want  time.Time
	}{
		{"weekly utc nil loc", monday9, nil, utc(2026, 12, 1, 9, 0), utc(2026, 12, 7, 9, 0)},
		{"weekly strictly after", monday9, nil, utc(2026, 12, 7, 9, 0), utc(2026, 12, 14, 9, 0)},
		{"weekly just before", monday9, nil, utc(2026, 12, 7, 8, 59), utc(2026, 12, 7, 9, 0)},
		{"weekly ny winter", monday9, ny, utc(2026, 3, 1, 0, 0), utc(2026, 3, 2, 14, 0)},
		{"weekly ny across spring forward stays 09:00", monday9, ny, utc(2026, 3, 2, 14, 0), utc(2026, 3, 9, 13, 0)},
		{"weekly ny across fall back stays 09:00", monday9, ny, utc(2026, 10, 26, 13, 0), utc(2026, 11, 2, 14, 0)},
		{"weekly london across spring forward", monday9, london, utc(2026, 3, 23, 9, 0), utc(2026, 3, 30, 8, 0)},
		{"weekly london across fall back", monday9, london, utc(2026, 10, 19, 8, 0), utc(2026, 10, 26, 9, 0)},
		{"weekly sunday in local date", Recurrence{Kind: RecurWeekly, Weekday: time.Sunday, Hour: 23, Minute: 30}, ny,
			utc(2026, 12, 6, 12, 0), utc(2026, 12, 7, 4, 30)},
		{"daily", Recurrence{Kind: RecurDaily, Hour: 8, Minute: 30}, nil, utc(2026, 12, 1, 9, 0), utc(2026, 12, 2, 8, 30)},
		{"daily same day", Recurrence{Kind: RecurDaily, Hour: 8, Minute: 30}, nil, utc(2026, 12, 1, 8, 0), utc(2026, 12, 1, 8, 30)},
		{"daily ny gap moves to 03:00", Recurrence{Kind: RecurDaily, Hour: 2, Minute: 30}, ny, utc(2026, 3, 7, 8, 0), utc(2026, 3, 8, 7, 0)},
		{"daily ny after gap", Recurrence{Kind: RecurDaily, Hour: 2, Minute: 30}, ny, utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)},
		{"daily ny overlap first", Recurrence{Kind: RecurDaily, Hour: 1, Minute: 30}, ny, utc(2026, 10, 31, 12, 0), utc(2026, 11, 1, 5, 30)},
		{"daily ny overlap fires once", Recurrence{Kind: RecurDaily, Hour: 1, Minute: 30}, ny, utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)},
		{"daily london gap moves to 02:00", Recurrence{Kind: RecurDaily, Hour: 1, Minute: 30}, london, utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 1, 0)},
		{"daily london overlap first", Recurrence{Kind: RecurDaily, Hour: 1, Minute: 30}, london, utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 0, 30)},
		{"daily london overlap fires once", Recurrence{Kind: RecurDaily, Hour: 1, Minute: 30}, london, utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)},
		{"cron utc", Recurrence{Kind: RecurCron, Cron: "0 9 * * 1"}, nil, utc(2026, 12, 1, 9, 0), utc(2026, 12, 7, 9, 0)},
		{"cron ny across spring forward stays 09:00", Recurrence{Kind: RecurCron, Cron: "0 9 * * 1"}, ny, utc(2026, 3, 2, 14, 0), utc(2026, 3, 9, 13, 0)},
		{"cron london across fall back", Recurrence{Kind: RecurCron, Cron: "0 9 * * 1"}, london, utc(2026, 10, 19, 8, 0), utc(2026, 10, 26, 9, 0)},
		// robfig skips a cron time that falls in a gap, unlike weekly/daily rules.
		{"cron ny gap skipped (robfig)", Recurrence{Kind: RecurCron, Cron: "30 2 * * *"}, ny, utc(2026, 3, 7, 8, 0), utc(2026, 3, 9, 6, 30)},
		{"cron never", Recurrence{Kind: RecurCron, Cron: "0 0 30 2 *"}, nil, whenNow, time.Time{}},
		{"cron invalid", Recurrence{Kind: RecurCron, Cron: "nonsense"}, nil, whenNow, time.Time{}},
		{"cron tz prefix refused", Recurrence{Kind: RecurCron, Cron: "TZ=x"}, nil, whenNow, time.Time{}},
		{"zero rule", Recurrence{}, nil, whenNow, time.Time{}},
		{"bad hour", Recurrence{Kind: RecurDaily, Hour: 24}, nil, whenNow, time.Time{}},
		{"bad weekday", Recurrence{Kind: RecurWeekly, Weekday: 9, Hour: 9}, nil, whenNow, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.r.Next(tt.after, tt.loc)
			if !got.Equal(tt.want) {
				t.Errorf("Next(%v) = %v, want %v", tt.after, got, tt.want)
			}
			if !got.IsZero() && got.Location() != time.UTC {
				t.Errorf("Next returned %v, not in UTC", got.Location())
			}
		})
	}
}

// TestRecurrenceNextKeepsLocalTime walks two years of a weekly rule through
// several zones and checks each occurrence is Monday 09:00 local, a week apart.
func TestRecurrenceNextKeepsLocalTime(t *testing.T) {
	r := Recurrence{Kind: RecurWeekly, Weekday: time.Monday, Hour: 9}
	for _, name := range []string{"Europe/London", "America/New_York", "Australia/Sydney", "UTC"} {
		loc := mustZone(t, name)
		at := utc(2026, 1, 1, 0, 0)
		var prev time.Time
		for i := 0; i < 104; i++ {
			at = r.Next(at, loc)
			l := at.In(loc)
			if l.Weekday() != time.Monday || l.Hour() != 9 || l.Minute() != 0 {
				t.Fatalf("%s: occurrence %d is %v", name, i, l)
			}
			if !prev.IsZero() {
				if d := l.YearDay() - prev.In(loc).YearDay(); d != 7 && d != 7-365 {
					t.Fatalf("%s: %v follows %v", name, l, prev.In(loc))
				}
			}
			prev = at
		}
	}
}

func TestRecurrenceRoundTrip(t *testing.T) {
	for _, r := range []Recurrence{
		{Kind: RecurWeekly, Weekday: time.Monday, Hour: 9},
		{Kind: RecurWeekly, Weekday: time.Sunday, Hour: 23, Minute: 59},
		{Kind: RecurDaily, Hour: 8, Minute: 30},
		{Kind: RecurDaily},
		{Kind: RecurCron, Cron: "0 9 * * 1"},
		{Kind: RecurCron, Cron: "*/15 9-17 * * mon-fri"},
	} {
		got, err := ParseRecurrence(r.String())
		if err != nil {
			t.Errorf("ParseRecurrence(%q): %v", r.String(), err)
			continue
		}
		if got != r {
			t.Errorf("ParseRecurrence(%q) = %+v, want %+v", r.String(), got, r)
		}
	}
}

func TestParseRecurrenceErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "Say when it repeats"},
		{"every mon 09:00 extra", `"extra" after "every mon 09:00"`},
		{"weekly", "is not a repeating time"},
		{"tomorrow 09:00", "is not a repeating time"},
		{"cron 1 2 3", "exactly 5 fields"},
		{"every blursday 09:00", "is not a day I know"},
	}
	for _, tt := range tests {
		_, err := ParseRecurrence(tt.in)
		wantUserError(t, err, tt.want)
	}
}

func TestWhenString(t *testing.T) {
	london := mustZone(t, "Europe/London")
	tests := []struct {
		w    When
		loc  *time.Location
		want string
	}{
		{When{At: utc(2026, 12, 5, 10, 0)}, london, "Sat 5 Dec 2026 10:00"},
		{When{At: utc(2026, 6, 5, 9, 0)}, london, "Fri 5 Jun 2026 10:00"},
		{When{At: utc(2026, 12, 5, 10, 0)}, nil, "Sat 5 Dec 2026 10:00"},
		{When{Rule: Recurrence{Kind: RecurWeekly, Weekday: time.Saturday, Hour: 10}}, london, "every sat 10:00"},
		{When{Rule: Recurrence{Kind: RecurCron, Cron: "0 9 * * 1"}}, nil, "cron 0 9 * * 1"},
		{When{}, nil, ""},
	}
	for _, tt := range tests {
		if got := tt.w.String(tt.loc); got != tt.want {
			t.Errorf("String(%+v) = %q, want %q", tt.w, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	london := mustZone(t, "Europe/London")
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		in   string
		loc  *time.Location
		want time.Time
	}{
		{"2026-12-31", nil, utc(2027, 1, 1, 0, 0)},
		{"2026-12-31", london, utc(2027, 1, 1, 0, 0)},
		{"2027-06-30", london, utc(2027, 6, 30, 23, 0)},
		{"2026-12-31", ny, utc(2027, 1, 1, 5, 0)},
		{"2027-2-28", nil, utc(2027, 3, 1, 0, 0)},
		{"2028-02-29", nil, utc(2028, 3, 1, 0, 0)},
		{"today", nil, utc(2026, 12, 2, 0, 0)},
		{"Tomorrow", nil, utc(2026, 12, 3, 0, 0)},
		{"tue", nil, utc(2026, 12, 2, 0, 0)}, // today counts
		{"fri", nil, utc(2026, 12, 5, 0, 0)},
		{"monday", nil, utc(2026, 12, 8, 0, 0)},
		// The day before New York falls back ends at midnight EDT.
		{"2027-11-06", ny, utc(2027, 11, 7, 4, 0)},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in, whenNow, tt.loc)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseDate(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDateErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "Say which date"},
		{"2026-02-30", `"2026-02-30" is not a real date`},
		{"2027-02-29", "is not a real date"},
		{"2026-11-30", "2026-11-30 is in the past"},
		{"1999-01-01", "is in the past"},
		{"soon", `"soon" is not a date I understand`},
		{"31/12/2026", "could be read two ways"},
		{"2026-12-31T00:00", "is not a date I understand"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseDate(tt.in, whenNow, nil)
			wantUserError(t, err, tt.want)
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"2h", 2 * time.Hour},
		{"90m", 90 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"1.5h", 90 * time.Minute},
		{".5h", 30 * time.Minute},
		{"3d", 72 * time.Hour},
		{"45min", 45 * time.Minute},
		{"2hours", 2 * time.Hour},
		{"2 hours", 2 * time.Hour},
		{"1 hour 15 mins", 75 * time.Minute},
		{"1H", time.Hour},
		{"1w", 7 * 24 * time.Hour},
		{"30d", 30 * 24 * time.Hour},
		{"1m", time.Minute},
		{"1.25m", 75 * time.Second},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "Say how long"},
		{"0h", "is zero"},
		{"0m0h", "is zero"},
		{"-2h", "is negative"},
		{"0.5m", "too short"},
		{"31d", "too long"},
		{"30d1m", "too long"},
		{"5w", "too long"},
		{"99999999999999999999999999999999999999999h", "too long"},
		{strings.Repeat("9", 400) + "h", "too long"},
		{"90", `"90" needs a unit`},
		{"2x", `"x" is not a unit of time`},
		{"30s", `"s" is not a unit of time`},
		{"1h30", "not a duration I understand"},
		{"h", "not a duration I understand"},
		{"1..5h", "not a duration I understand"},
		{"1e3m", `"e" is not a unit of time`},
		{"NaNh", "not a duration I understand"},
		{"infh", "not a duration I understand"},
		{"0x10h", `"x" is not a unit of time`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseDuration(tt.in)
			wantUserError(t, err, tt.want)
		})
	}
}

func TestLoadZone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Europe/London", "Europe/London"},
		{"europe/london", "Europe/London"},
		{" EUROPE/LONDON ", "Europe/London"},
		{"America/New York", "America/New_York"},
		{"america/new_york", "America/New_York"},
		{"UTC", "UTC"},
		{"utc", "UTC"},
		{"Etc/GMT+5", "Etc/GMT+5"}, // accepted by time.LoadLocation though not listed
		{"EST", "EST"},
		{"us/eastern", "US/Eastern"},
		{"asia/kolkata", "Asia/Kolkata"},
	}
	for _, tt := range tests {
		loc, err := LoadZone(tt.in)
		if err != nil {
			t.Errorf("LoadZone(%q): %v", tt.in, err)
			continue
		}
		if loc.String() != tt.want {
			t.Errorf("LoadZone(%q) = %s, want %s", tt.in, loc, tt.want)
		}
	}
}

func TestLoadZoneErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"London", "Did you mean Europe/London?"},
		{"london", "Did you mean Europe/London?"},
		{"Europe/Londn", "Did you mean Europe/London?"},
		{"Europe/Paris2", "Did you mean Europe/Paris?"},
		{"new york", "Did you mean America/New_York?"},
		{"Tokio", "Did you mean Asia/Tokyo?"},
		{"PST", "Did you mean America/Los_Angeles?"},
		{"Local", "server's timezone"}, // never what a community means
		{"", "Say which timezone"},
		{"xyzzy-plugh-frobnicate", "use an IANA name such as Europe/London"},
		{"../../etc/passwd", "not a timezone I know"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := LoadZone(tt.in)
			wantUserErrorMsg(t, err, tt.want)
		})
	}
}

func TestKnownZonesLoad(t *testing.T) {
	names := zoneNames()
	if len(names) < 400 {
		t.Fatalf("only %d known zones", len(names))
	}
	for _, want := range []string{"UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Sao_Paulo",
		"Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney", "Africa/Lagos", "Africa/Nairobi", "Pacific/Auckland"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("%s is not a known zone", want)
		}
	}
	for _, n := range names {
		if _, err := time.LoadLocation(n); err != nil {
			t.Errorf("known zone %s does not load: %v", n, err)
		}
	}
}
