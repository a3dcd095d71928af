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
	if err != nil || !strings.Contains(string(out), "applied 2 migration(s)") || !strings.Contains(string(out), "initial schema") {
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
