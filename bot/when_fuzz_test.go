package bot

import (
	"testing"
	"time"
)

func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{
		"2026-12-01 18:00", "tomorrow 6:30 pm note", "mon 09:00", "in 1h30m", "in 2 hours",
		"every sat at 10am", "cron 0 9 * * 1", "cron */0 * * * *", "cron TZ=x", "2026-02-30 10:00",
		"today 25:00", `"every" mon`, "at at at", "in 99999999999999999999d", "",
	} {
		f.Add(s, true, int64(0), uint8(0))
	}
	zones := []string{"UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu"}
	f.Fuzz(func(t *testing.T, s string, allow bool, offset int64, zone uint8) {
		loc, err := time.LoadLocation(zones[int(zone)%len(zones)])
		if err != nil {
			t.Fatal(err)
		}
		// now ranges over 2000..2100.
		now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(uint64(offset)%(100*365*24*3600)) * time.Second)
		toks := Tokenize(s)
		w, n, err := ParseWhen(toks, now, loc, allow)
		if err != nil {
			if _, ok := AsUserError(err); !ok {
				t.Fatalf("%q: error %v is not a *UserError", s, err)
			}
			if n != 0 {
				t.Fatalf("%q: error with n = %d", s, n)
			}
			return
		}
		if n <= 0 || n > len(toks) {
			t.Fatalf("%q: n = %d with %d tokens", s, n, len(toks))
		}
		if w.IsRecurring() {
			if !allow {
				t.Fatalf("%q: recurring when not allowed", s)
			}
			r, err := ParseRecurrence(w.Rule.String())
			if err != nil || r != w.Rule {
				t.Fatalf("%q: rule %q does not round-trip: %+v, %v", s, w.Rule.String(), r, err)
			}
			if next := w.Rule.Next(now, loc); !next.After(now) {
				t.Fatalf("%q: Next(%v) = %v", s, now, next)
			}
			return
		}
		if !w.At.After(now) || w.At.Location() != time.UTC {
			t.Fatalf("%q: At = %v, now %v", s, w.At, now)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"2h", "1h30m", "1.5h", "2 hours", "-1m", "1e9h", "30d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if _, ok := AsUserError(err); !ok {
				t.Fatalf("%q: error %v is not a *UserError", s, err)
			}
			return
		}
		if d < time.Minute || d > MaxDuration {
			t.Fatalf("%q: %v out of range", s, d)
		}
	})
}
