package bot_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreKnowsNoPlatform fails if bot/ or any package under it depends on
// gorm, slack-go, discordgo, go-redis, or the project's storage and adapters.
func TestCoreKnowsNoPlatform(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "github.com/missionbot/missionbot/bot/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"gorm.io/", "github.com/slack-go/", "github.com/bwmarrin/discordgo", "github.com/redis/go-redis",
		"github.com/missionbot/missionbot/storage", "github.com/missionbot/missionbot/adapters", "github.com/glebarez/", "github.com/jackc/pgx"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("bot/ depends on %s", dep)
			}
		}
	}
}
