package bot

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Amount is a quantity in integer hundredths: 10 trees is 1000, 2.5 hours is 250.
// Amounts are never floats.
type Amount int64

// MaxAmount is the largest amount accepted from a person (1e12).
const MaxAmount Amount = 1e12 * 100

// String formats a as people write it: 1,000 or 2.5 or 10.25.
func (a Amount) String() string {
	neg := a < 0
	if neg {
		a = -a
	}
	whole, frac := int64(a)/100, int64(a)%100
	s := groupThousands(strconv.FormatInt(whole, 10))
	switch {
	case frac == 0:
	case frac%10 == 0:
		s += fmt.Sprintf(".%d", frac/10)
	default:
		s += fmt.Sprintf(".%02d", frac)
	}
	if neg {
		s = "-" + s
	}
	return s
}

func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead > 0 {
		b.WriteString(digits[:lead])
	}
	for i := lead; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// WithUnit formats a followed by unit, or with a currency symbol in front.
func (a Amount) WithUnit(unit string) string {
	switch unit {
	case "":
		return a.String()
	case "£", "$", "€":
		return unit + a.String()
	}
	return a.String() + " " + unit
}

const amountExample = "/pledge 10 trees to plant-1000-trees"

// ParseAmount reads a positive amount with at most two decimal places, as
// typed: 10, 2.5, 1,000, £10, 10kg. A currency symbol in front or letters
// right after the number come back as unit. Commas count only before exactly
// three digits. Zero, negative, NaN, Inf, exponents and amounts over 1e12 are
// refused with a *UserError.
func ParseAmount(tok string) (Amount, string, error) {
	s := strings.TrimSpace(tok)
	unit := ""
	for _, sym := range []string{"£", "$", "€"} {
		if strings.HasPrefix(s, sym) {
			unit, s = sym, strings.TrimPrefix(s, sym)
			break
		}
	}
	if s == "" {
		return 0, "", Userf(amountExample, "%q has no number in it.", tok)
	}
	// Letters after the number are a unit: 10kg, 2h.
	end := strings.IndexFunc(s, func(r rune) bool { return !(unicode.IsDigit(r) || r == '.' || r == ',' || r == '-' || r == '+') })
	if end > 0 && unit == "" {
		if strings.ContainsFunc(s[end:], unicode.IsDigit) {
			return 0, "", Userf(amountExample, "%q is not a number; amounts are like 10 or 2.5.", tok)
		}
		unit, s = s[end:], s[:end]
	}
	lower := strings.ToLower(s)
	switch {
	case strings.Contains(lower, "nan") || strings.Contains(lower, "inf"):
		return 0, "", Userf(amountExample, "%q is not a number; amounts are like 10 or 2.5.", tok)
	case strings.HasPrefix(s, "-"):
		return 0, "", Userf(amountExample, "%q is negative; amounts must be more than zero.", tok)
	}
	s = strings.TrimPrefix(s, "+")
	if strings.ContainsAny(s, "eE") || end == 0 {
		return 0, "", Userf(amountExample, "%q is not a number; amounts are like 10 or 2.5.", tok)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		ok := len(groups[0]) >= 1 && len(groups[0]) <= 3
		for _, g := range groups[1:] {
			ok = ok && len(g) == 3
		}
		if !ok {
			if len(groups) == 2 && len(groups[1]) <= 2 && !hasDot {
				return 0, "", Userf(amountExample, "%q uses a comma as a decimal point; write %s.%s.", tok, groups[0], groups[1])
			}
			return 0, "", Userf(amountExample, "%q is not a number: a comma may only separate thousands (1,000).", tok)
		}
		whole = strings.Join(groups, "")
	}
	if whole == "" {
		whole = "0"
	}
	if !allDigits(whole) || !allDigits(frac) || (hasDot && frac == "") {
		return 0, "", Userf(amountExample, "%q is not a number; amounts are like 10 or 2.5.", tok)
	}
	if len(frac) > 2 {
		return 0, "", Userf(amountExample, "%q has more than two decimal places.", tok)
	}
	if len(strings.TrimLeft(whole, "0")) > 13 {
		return 0, "", Userf(amountExample, "%q is too large; the most is 1,000,000,000,000.", tok)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, "", Userf(amountExample, "%q is not a number; amounts are like 10 or 2.5.", tok)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	a := Amount(w*100 + f)
	switch {
	case a == 0:
		return 0, "", Userf(amountExample, "%q is zero; amounts must be more than zero.", tok)
	case a > MaxAmount || w > math.MaxInt64/100:
		return 0, "", Userf(amountExample, "%q is too large; the most is 1,000,000,000,000.", tok)
	}
	return a, unit, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// unitSynonyms maps spellings to one canonical unit.
var unitSynonyms = map[string]string{
	"h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour",
	"£": "£", "gbp": "£", "pound": "£", "pounds": "£",
	"$": "$", "usd": "$", "dollar": "$", "dollars": "$",
	"€": "€", "eur": "€", "euro": "€", "euros": "€",
}

func canonicalUnit(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	if c, ok := unitSynonyms[u]; ok {
		return c
	}
	if len(u) > 2 && strings.HasSuffix(u, "s") {
		u = strings.TrimSuffix(u, "s")
	}
	return u
}

// UnitMatches reports whether a unit typed after an amount means the goal's
// unit: case and a plural s are ignored, h/hour/hours and currency names are
// the same, and the first word of a multi-word unit stands for it
// ("kg" for "kg of litter").
func UnitMatches(typed, goalUnit string) bool {
	if strings.TrimSpace(typed) == "" {
		return true
	}
	t, g := canonicalUnit(typed), canonicalUnit(goalUnit)
	if t == g {
		return true
	}
	if first, _, ok := strings.Cut(strings.TrimSpace(goalUnit), " "); ok {
		return t == canonicalUnit(first)
	}
	return false
}

// IsHoursUnit reports whether unit is hours, so volunteer hours count toward
// it; like UnitMatches, the first word of a multi-word unit stands for it
// ("hours of service").
func IsHoursUnit(unit string) bool { return UnitMatches("hours", unit) }
