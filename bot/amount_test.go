package bot

import (
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
		unit string
	}{
		{"10", 1000, ""},
		{"2.5", 250, ""},
		{"2.50", 250, ""},
		{".5", 50, ""},
		{"1,000", 100000, ""},
		{"1,000,000.25", 100000025, ""},
		{"£10", 1000, "£"},
		{"$2.5", 250, "$"},
		{"10kg", 1000, "kg"},
		{"2h", 200, "h"},
		{"+3", 300, ""},
		{"1000000000000", 100000000000000, ""},
	}
	for _, tt := range tests {
		got, unit, err := ParseAmount(tt.in)
		if err != nil || got != tt.want || unit != tt.unit {
			t.Errorf("ParseAmount(%q) = %d %q %v, want %d %q", tt.in, got, unit, err, tt.want, tt.unit)
		}
	}
}

func TestParseAmountErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "zero"},
		{"0.00", "zero"},
		{"-5", "negative"},
		{"NaN", "not a number"},
		{"Inf", "not a number"},
		{"1e999", "not a number"},
		{"1e3", "not a number"},
		{"2,5", "write 2.5"},
		{"1,0000", "thousands"},
		{"2.555", "two decimal places"},
		{"1000000000001", "too large"},
		{"99999999999999999999999", "too large"},
		{"£", "no number"},
		{"1.2.3", "not a number"},
		{"0x10", "not a number"},
		{"abc", "not a number"},
	}
	for _, tt := range tests {
		_, _, err := ParseAmount(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseAmount(%q) err = %v, want %q", tt.in, err, tt.want)
			continue
		}
		if ue, ok := AsUserError(err); !ok || ue.Example == "" {
			t.Errorf("ParseAmount(%q): %v is not a user error with an example", tt.in, err)
		}
	}
}

func TestAmountString(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{{1000, "10"}, {250, "2.5"}, {1025, "10.25"}, {100000, "1,000"}, {123456789, "1,234,567.89"}, {5, "0.05"}}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%d.String() = %q, want %q", tt.a, got, tt.want)
		}
	}
	if got := Amount(1000).WithUnit("£"); got != "£10" {
		t.Errorf("WithUnit £ = %q", got)
	}
}

func TestUnitMatches(t *testing.T) {
	tests := []struct {
		typed, unit string
		want        bool
	}{
		{"trees", "trees", true}, {"tree", "trees", true}, {"Trees", "tree", true},
		{"h", "hours", true}, {"hour", "hours", true}, {"hrs", "h", true},
		{"£", "£", true}, {"gbp", "£", true}, {"kg", "kg of litter", true},
		{"kg", "trees", false}, {"hours", "trees", false}, {"", "trees", true},
	}
	for _, tt := range tests {
		if got := UnitMatches(tt.typed, tt.unit); got != tt.want {
			t.Errorf("UnitMatches(%q, %q) = %v", tt.typed, tt.unit, got)
		}
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []Token
	}{
		{`a "b c" d`, []Token{{"a", false}, {"b c", true}, {"d", false}}},
		{`“curly quotes” ok`, []Token{{"curly quotes", true}, {"ok", false}}},
		{`don't split`, []Token{{"don't", false}, {"split", false}}},
		{`"unterminated here`, []Token{{"unterminated here", true}}},
		{"  spaced\tout  ", []Token{{"spaced", false}, {"out", false}}},
		{`'single quoted' x`, []Token{{"single quoted", true}, {"x", false}}},
	}
	for _, tt := range tests {
		got := Tokenize(tt.in)
		if len(got) != len(tt.want) {
			t.Errorf("Tokenize(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("Tokenize(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"10", "2.5", "1,000", "£10", "2,5", "NaN", "1e999", "-1", "10kg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, _, err := ParseAmount(s)
		if err != nil {
			if _, ok := AsUserError(err); !ok {
				t.Fatalf("non-user error %v", err)
			}
			return
		}
		if a <= 0 || a > MaxAmount {
			t.Fatalf("ParseAmount(%q) = %d out of range", s, a)
		}
	})
}

func FuzzTokenize(f *testing.F) {
	f.Add(`a "b c" 'd' “e”`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range Tokenize(s) {
			if !tok.Quoted && (tok.Text == "" || strings.ContainsAny(tok.Text, " \t\n")) {
				t.Fatalf("bad token %q from %q", tok.Text, s)
			}
		}
	})
}

func TestIsHoursUnit(t *testing.T) {
	for unit, want := range map[string]bool{"hours": true, "h": true, "Hours of service": true, "trees": false, "hour-long walks": false} {
		if got := IsHoursUnit(unit); got != want {
			t.Errorf("IsHoursUnit(%q) = %v", unit, got)
		}
	}
}
