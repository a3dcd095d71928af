package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "missionbot-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "missionbot")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// console pipes script into the real binary's console on a fresh database
// and returns what it printed on stdout and stderr.
func console(t *testing.T, script string, args ...string) (string, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "e2e.db")
	cmd := exec.Command(binary, append([]string{"console", "--now", "2026-12-01T09:00", "--db", db}, args...)...)
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "MISSIONBOT_LOG_LEVEL=debug")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("console: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return stdout.String(), stderr.String()
}

func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "missionbot ") {
		t.Fatalf("version: %v %s", err, out)
	}
}

func TestMigrateStatus(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	cmd := exec.Command(binary, "migrate")
	cmd.Env = append(os.Environ(), "MISSIONBOT_DATABASE_PATH="+db)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "migration(s)") || !strings.Contains(string(out), "initial schema") || strings.Contains(string(out), "pending") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	cmd = exec.Command(binary, "migrate", "--status")
	cmd.Env = append(os.Environ(), "MISSIONBOT_DATABASE_PATH="+db)
	out, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "applied 20") {
		t.Fatalf("migrate --status: %v\n%s", err, out)
	}
}

func TestBadConfigFailsNamingTheKey(t *testing.T) {
	cmd := exec.Command(binary, "console")
	cmd.Env = append(os.Environ(), "MISSIONBOT_DATABASE_DRIVER=oracle")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "database.driver") {
		t.Fatalf("want a failure naming database.driver, got %v\n%s", err, out)
	}
	cmd = exec.Command(binary, "console")
	cmd.Env = append(os.Environ(), "MISSIONBOT_DATABSE_DRIVER=sqlite")
	cmd.Stdin = strings.NewReader("")
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "MISSIONBOT_DATABSE_DRIVER") {
		t.Fatalf("want a failure naming the misspelt variable, got %v\n%s", err, out)
	}
}

// TestConsoleScenario plays a community's first week through the real
// binary and checks what each member sees.
func TestConsoleScenario(t *testing.T) {
	out, stderr := console(t, `/mission set Every street green by 2030
/goal create "Plant 1000 trees" 1000 trees by 2026-12-31
/volunteer create "Park cleanup" 2026-12-05 10:00 for 2h slots 2 at "Riverside Park"
!as alice
/pledge 10 trees to plant-1000-trees
/pledge done #1
/log 240 trees planted by the river
/volunteer join park-cleanup
/win We planted our first 250 trees!
!as bob
!click 🎉
!click 🎉
/kudos @alice for getting us started
/kudos @bob for me
/volunteer join park-cleanup
!as carol
/volunteer join park-cleanup
!as alice
/volunteer leave park-cleanup
/goal create "X" 10 trees
/pledge 2,5 trees
!advance 2h
/leaderboard
/goal
`)
	mustContain(t, out,
		"[private → you]\n*Goal created: Plant 1000 trees*",
		"[#general]\n*🙌 Volunteers wanted: Park cleanup*",
		"[private → alice]\nPledged 10 trees to Plant 1000 trees",
		"Logged 240 trees to Plant 1000 trees",
		"Plant 1000 trees reached 25%",
		"[#general]\n🎉 @alice: We planted our first 250 trees!",
		"[private → bob]\n🎉 Cheered! This win has 1 cheer now.",
		"You already cheered this win (1 cheer).",
		"[#general]\n🙌 @bob gave kudos to @alice for getting us started",
		"you can't give them to yourself",
		"is full, so you're on the waitlist at position 1",
		"[private → carol]\nGood news: a place opened up",
		"Only organisers can use /goal create",
		`"2,5" uses a comma as a decimal point; write 2.5.`,
		"The clock is now Tue 2026-12-01 11:00 UTC.",
		"1. @alice",
		"25%  250 / 1,000 trees",
	)
	if strings.Contains(out, "Something went wrong") {
		t.Errorf("an unexpected error reached a member:\n%s", out)
	}
	if strings.Contains(stderr, "level=ERROR") {
		t.Errorf("errors logged:\n%s", stderr)
	}
}

// TestConsoleBadInputStoresNothing runs every kind of bad input through the
// binary and checks that each gets a private line with an example, and that
// the database is unchanged afterwards.
func TestConsoleBadInputStoresNothing(t *testing.T) {
	setup := `/goal create "Plant 1000 trees" 1000 trees by 2026-12-31
/goal create "Volunteer hours" 500 hours
/volunteer create "Park cleanup" 2026-12-05 10:00 for 2h slots 1
`
	organiserBad := []string{
		`/goal create "Old" 10 trees by 2020-01-01`, `/goal create "Bad" 10 trees by 2026-02-30`,
		"/settings timezone Mars/Base", `/volunteer create "Past" 2020-01-01 10:00`, "/settings kudos-per-day 0",
		"/announce 2026-02-30 10:00 hello",
	}
	bad := []string{
		"/pledge", "/pledge 10 trees to nowhere", "/pledge 10 trees", "/pledge 0 trees to plant-1000-trees",
		"/pledge -5 trees to plant-1000-trees", "/pledge 1e999 trees to plant-1000-trees", "/pledge NaN to plant-1000-trees",
		"/pledge 2,5 trees to plant-1000-trees", "/pledge 10 kg to plant-1000-trees", "/pledge 99999999999999 to plant-1000-trees",
		"/goal close plant-1000-trees", "/win " + strings.Repeat("long ", 450), "/kudos you for everything",
		"/kudos @bob", "/pledge cancel #99", "/volunteer join nothing-here", "/log 5 trees to",
	}
	exportLine := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "Your export:") || strings.HasPrefix(l, "📎") {
				return l
			}
		}
		t.Fatalf("no export in:\n%s", out)
		return ""
	}
	clean, _ := console(t, setup+"!as you\n/impact export\n")
	script := setup + strings.Join(organiserBad, "\n") + "\n!as alice\n" + strings.Join(bad, "\n") + "\n"
	out, _ := console(t, script)
	after, _ := console(t, script+"!as you\n/impact export\n")
	bad = append(organiserBad, bad...)
	if exportLine(after) != exportLine(clean) {
		t.Errorf("bad input changed what the export holds: %q vs %q", exportLine(after), exportLine(clean))
	}
	blocks := strings.Split(strings.TrimSpace(out), "\n\n")
	var replies []string
	for _, b := range blocks {
		if strings.HasPrefix(b, "[private → alice]") || (strings.HasPrefix(b, "[private → you]") && !strings.Contains(b, "created") && !strings.Contains(b, "Created")) {
			replies = append(replies, b)
		}
	}
	if len(replies) != len(bad) {
		t.Fatalf("%d bad inputs got %d private replies:\n%s", len(bad), len(replies), out)
	}
	for i, r := range replies {
		lines := strings.Split(r, "\n")
		if len(lines) != 2 {
			t.Errorf("%s: want one line, got:\n%s", bad[i], r)
		}
		if strings.Contains(r, "Something went wrong") {
			t.Errorf("%s: %s", bad[i], r)
		}
		if !strings.Contains(r, "Example: ") && !strings.Contains(r, "the most a command takes") && !strings.Contains(r, "Only organisers") {
			t.Errorf("%s: no example in %q", bad[i], r)
		}
	}
}

// TestConsoleScheduledPosts scripts two weeks: !advance runs what fell due
// in time order, each post once, at its local time.
func TestConsoleScheduledPosts(t *testing.T) {
	out, _ := console(t, `/settings timezone America/New_York
/settings digest-channel #impact
/goal create "Plant 1000 trees" 1000 trees
/announce every mon 09:00 Weekly check-in
/announce tomorrow 18:00 Cleanup starts at the gate
/log 300 trees
!advance 14d
`)
	mustContain(t, out,
		"[#general]\nCleanup starts at the gate",
		"[#impact]\n*Impact digest: Mon 30 Nov – Mon 7 Dec*",
		"[#impact]\n*Impact digest: Mon 7 Dec – Mon 14 Dec*",
		"The clock is now Tue 2026-12-15 09:00 UTC.",
	)
	if n := strings.Count(out, "[#general]\nWeekly check-in"); n != 2 {
		t.Errorf("weekly announcement posted %d times in two weeks, want 2:\n%s", n, out)
	}
	if n := strings.Count(out, "Impact digest"); n != 2 {
		t.Errorf("%d digests in two weeks, want 2:\n%s", n, out)
	}
	first, second := strings.Index(out, "Cleanup starts"), strings.Index(out, "Impact digest: Mon 30 Nov")
	if first < 0 || second < 0 || first > second {
		t.Errorf("posts out of time order:\n%s", out)
	}
}

// TestConsoleRemindersAndOccurrences: a volunteer is reminded the day
// before (with a Leave button) and an hour before; a weekly series gets its
// next occurrence a week ahead; the week's top contributors are recognised.
func TestConsoleRemindersAndOccurrences(t *testing.T) {
	out, _ := console(t, `/settings timezone Europe/London
/settings celebrations-channel #wins
/goal create "Plant 1000 trees" 1000 trees
/volunteer create "Park cleanup" 2026-12-05 10:00 for 2h slots 2
/volunteer create "Litter pick" every sat 10:00 for 1h slots 5
!as alice
/volunteer join park-cleanup
/log 5 trees
!advance 8d
/volunteer
`)
	mustContain(t, out,
		"[private → alice]\n*Reminder: Park cleanup*",
		"[ Leave ]",
		"[private → alice]\n*Starting soon: Park cleanup*",
		"[#wins]\n*🌟 Last week's recognition",
		"Litter pick · Sat 12 Dec 2026 10:00",
	)
	if n := strings.Count(out, "*Reminder: Park cleanup*"); n != 1 {
		t.Errorf("day-before reminder sent %d times", n)
	}
}

// TestConsoleDigestNowTakesTheNextSlot: /digest now posts at once and
// counts as the next scheduled digest, which is not posted again.
func TestConsoleDigestNowTakesTheNextSlot(t *testing.T) {
	out, _ := console(t, `/settings digest-channel #impact
/log 0 trees
/digest now
/digest now
!advance 14d
`)
	mustContain(t, out,
		"It counts as the digest of Mon 7 Dec 09:00, which will not be posted again.",
		"was already posted with /digest now",
		"*Impact digest: Mon 7 Dec – Mon 14 Dec*",
	)
	if n := strings.Count(out, "[#impact]\n*Impact digest"); n != 2 {
		t.Errorf("%d digests posted, want 2 (now, and 14 Dec):\n%s", n, out)
	}
}
