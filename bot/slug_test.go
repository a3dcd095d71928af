package bot

import (
	"strings"
	"testing"
)

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Plant 1000 trees", "plant-1000-trees"},
		{"  Park cleanup! ", "park-cleanup"},
		{"Café & Co.", "caf-co"},
		{"🌱🌱", "goal"},
		{strings.Repeat("a", 70), strings.Repeat("a", 60)},
		{strings.Repeat("a", 59) + " b", strings.Repeat("a", 59)},
	}
	for _, tt := range tests {
		if got := Slug(tt.in, "goal"); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
