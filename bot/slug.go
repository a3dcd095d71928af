package bot

import "strings"

// MaxSlugLen is the longest slug made from a title. It leaves room for a
// "-2" … "-999" suffix within the 64-character columns that store slugs.
const MaxSlugLen = 60

// Slug derives a reference from a title: lower-case ASCII letters and
// digits, runs of anything else as one hyphen ("Park cleanup!" →
// "park-cleanup"), at most MaxSlugLen long; fallback when nothing is left.
func Slug(title, fallback string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
			continue
		}
		hyphen = true
	}
	s := b.String()
	if len(s) > MaxSlugLen {
		s = strings.TrimRight(s[:MaxSlugLen], "-")
	}
	if s == "" {
		return fallback
	}
	return s
}
