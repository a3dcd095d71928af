package bot

import "strings"

// Percent returns done as a whole percentage of target, rounded down; a goal
// past its target reports more than 100.
func Percent(done, target Amount) int {
	if target <= 0 {
		return 0
	}
	return int(int64(done) * 100 / int64(target))
}

// Bar draws a text progress bar of width cells: ▓▓▓░░░░░░░.
func Bar(done, target Amount, width int) string {
	filled := 0
	if target > 0 {
		filled = int(int64(done) * int64(width) / int64(target))
	}
	filled = max(0, min(width, filled))
	return strings.Repeat("▓", filled) + strings.Repeat("░", width-filled)
}
