package impact

import "testing"

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"":         "",
		"plain":    "plain",
		"=1+2":     "'=1+2",
		"+44 20":   "'+44 20",
		"-3":       "'-3",
		"@SUM(A1)": "'@SUM(A1)",
		"\tx":      "'\tx",
		"\rx":      "'\rx",
		"a=b":      "a=b",
		"'already": "'already",
	} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
