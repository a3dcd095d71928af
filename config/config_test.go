package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const examplePath = "../config.example.yaml"

// envOf returns a lookup over m.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// writeYAML writes body to a file in a fresh temporary directory.
func writeYAML(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "missionbot.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// defaults is the configuration with nothing set.
func defaults(t *testing.T) *Config {
	t.Helper()
	c, err := Load("", nil)
	if err != nil {
		t.Fatalf("Load(\"\", nil) = %v", err)
	}
	return c
}

// wantErr fails unless err is non-nil and contains every fragment.
func wantErr(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", fragments)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err, f)
		}
	}
}

func TestDefaults(t *testing.T) {
	want := Config{
		Database:  Database{Driver: "sqlite", Path: "./missionbot.db", MaxOpenConns: 10},
		Log:       Log{Level: "info", Format: "json"},
		Community: Community{DefaultTimezone: "UTC", DefaultKudosPerDay: 10, DefaultRetentionDays: 90},
		HTTP:      HTTP{Addr: ":8080"},
		Redis:     Redis{Prefix: "missionbot:"},
		Discord:   Discord{Mode: "gateway", ShardCount: 1},
	}
	if got := defaults(t); *got != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", *got, want)
	}
	for _, body := range []string{"", "# only a comment\n", "database:\nlog: ~\n"} {
		c, err := Load(writeYAML(t, body), nil)
		if err != nil {
			t.Fatalf("Load(%q) = %v", body, err)
		}
		if *c != want {
			t.Errorf("Load(%q) = %+v, want the defaults", body, *c)
		}
	}
}

func TestExampleLoadsWithEmptyEnvironment(t *testing.T) {
	c, err := Load(examplePath, nil)
	if err != nil {
		t.Fatalf("Load(example, no env) = %v", err)
	}
	if _, err := LoadEnviron(examplePath, nil); err != nil {
		t.Fatalf("LoadEnviron(example, no env) = %v", err)
	}
	// The values written in the example are the real defaults.
	if want := defaults(t); *c != *want {
		t.Errorf("example differs from the defaults:\n got %+v\nwant %+v", *c, *want)
	}
}

// uncommentKeys turns "  # key: value" lines back into "  key: value", so the
// keys the example leaves commented out (secrets) can be checked too.
func uncommentKeys(s string) string {
	return regexp.MustCompile(`(?m)^(\s*)# ([a-z_]+: )`).ReplaceAllString(s, "$1$2")
}

func TestExampleDocumentsEveryKey(t *testing.T) {
	raw, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	full := uncommentKeys(string(raw))

	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(full), &doc); err != nil {
		t.Fatalf("example with every key uncommented does not parse: %v", err)
	}
	keys := map[string]*yaml.Node{}
	values := map[string]*yaml.Node{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind == yaml.DocumentNode {
			walk(n.Content[0], path)
			return
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			keys[p], values[p] = n.Content[i], n.Content[i+1]
			walk(n.Content[i+1], p)
		}
	}
	walk(&doc, "")

	// Walk Config itself, not fields(), so the test does not trust the code
	// under test for what the keys are.
	var want []string
	for _, s := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		want = append(want, yamlName(s))
		for _, k := range reflect.VisibleFields(s.Type) {
			want = append(want, yamlName(s)+"."+yamlName(k))
		}
	}
	for _, p := range want {
		k, ok := keys[p]
		if !ok {
			t.Errorf("config.example.yaml does not mention %s", p)
			continue
		}
		if strings.TrimSpace(k.HeadComment+k.LineComment) == "" {
			t.Errorf("config.example.yaml: %s (line %d) has no comment", p, k.Line)
		}
	}
	for p := range keys {
		if !slices.Contains(want, p) {
			t.Errorf("config.example.yaml has %s, which is not a key", p)
		}
	}

	// Uncommented and with every referenced variable set, the example still
	// loads: the commented lines are real keys with well-formed values.
	env := func(name string) (string, bool) {
		return "set-by-test", !strings.HasPrefix(name, EnvPrefix)
	}
	if _, err := Load(writeYAML(t, full), env); err != nil {
		t.Errorf("example with every key uncommented: %v", err)
	}

	// Secrets appear only as ${NAME} references.
	for _, f := range fields() {
		if !f.secret {
			continue
		}
		v, ok := values[f.path]
		if !ok || v.Value == "" {
			continue
		}
		if parts, err := splitRefs(v.Value); err != nil || !refsOnly(parts) {
			t.Errorf("config.example.yaml: %s = %q, want a ${NAME} reference", f.path, v.Value)
		}
	}
}

func TestDecodeErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown section", "database:\n  driver: sqlite\nloggin:\n  level: info\n",
			[]string{"config: loggin: unknown key (line 3)", "top-level keys are database, log,"}},
		{"unknown key", "log:\n  level: info\n  levle: debug\n",
			[]string{"config: log.levle: unknown key (line 3)", "log keys are level, format"}},
		{"Go field name instead of yaml key", "database:\n  MaxOpenConns: 3\n",
			[]string{"config: database.MaxOpenConns: unknown key (line 2)"}},
		{"word for int", "database:\n  max_open_conns: ten\n",
			[]string{"config: database.max_open_conns: line 2: want a whole number"}},
		{"fraction for int", "community:\n  default_kudos_per_day: 2.5\n",
			[]string{"config: community.default_kudos_per_day: line 2: want a whole number"}},
		{"word for bool", "slack:\n  enabled: maybe\n",
			[]string{"config: slack.enabled: line 2: want true or false"}},
		{"list for string", "log:\n  level: [debug]\n",
			[]string{"config: log.level: line 2: want a single value"}},
		{"value for section", "log: debug\n",
			[]string{"config: log: line 1: want a mapping of keys (level, format)"}},
		{"list at top", "- log\n",
			[]string{"config: line 1: want a mapping of sections"}},
		{"duplicate key", "log:\n  level: info\n  level: debug\n",
			[]string{"config: log.level: line 3: already set at line 2"}},
		{"two documents", "log:\n  level: info\n---\nlog:\n  level: debug\n",
			[]string{"more than one YAML document"}},
		{"syntax", "log:\n  level: info\n format: json\n",
			[]string{"config: yaml: line"}},
		{"every problem at once", "log:\n  levle: x\nhttp:\n  adr: x\n",
			[]string{"config: log.levle: unknown key", "config: http.adr: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeYAML(t, tt.yaml), nil)
			wantErr(t, err, tt.want...)
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	wantErr(t, err, "config: ", "absent.yaml")
}

func TestLiteralSecretsFail(t *testing.T) {
	tests := []struct {
		yaml string
		want string
	}{
		{"slack:\n  bot_token: xoxb-123-456\n",
			"config: slack.bot_token: secrets must come from the environment, write ${SLACK_BOT_TOKEN} or set MISSIONBOT_SLACK_BOT_TOKEN"},
		{"slack:\n  signing_secret: 8f742231b10e8888abcd99yyyzzz85a5\n",
			"config: slack.signing_secret: secrets must come from the environment, write ${SLACK_SIGNING_SECRET} or set MISSIONBOT_SLACK_SIGNING_SECRET"},
		{"slack:\n  app_token: xapp-1-A0-99\n",
			"config: slack.app_token: secrets must come from the environment"},
		{"discord:\n  bot_token: MTA.Gx.abc\n",
			"config: discord.bot_token: secrets must come from the environment, write ${DISCORD_BOT_TOKEN} or set MISSIONBOT_DISCORD_BOT_TOKEN"},
		{"security:\n  encryption_key: c2VjcmV0\n",
			"config: security.encryption_key: secrets must come from the environment, write ${SECURITY_ENCRYPTION_KEY} or set MISSIONBOT_SECURITY_ENCRYPTION_KEY"},
		{"slack:\n  bot_token: xoxb-${SLACK_BOT_TOKEN_TAIL}\n",
			"config: slack.bot_token: secrets must come from the environment"},
		{"slack:\n  bot_token: 12345\n",
			"config: slack.bot_token: secrets must come from the environment"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			env := envOf(map[string]string{"SLACK_BOT_TOKEN_TAIL": "tail"})
			_, err := Load(writeYAML(t, tt.yaml), env)
			wantErr(t, err, tt.want)
			_, literal, _ := strings.Cut(strings.TrimSpace(tt.yaml), ": ")
			if strings.Contains(err.Error(), literal) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
}

func TestExpansion(t *testing.T) {
	env := envOf(map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-from-env",
		"SIGNING":         "sign-from-env",
		"PG_PASSWORD":     "p@ss",
		"PG_HOST":         "db.internal",
		"EMPTY":           "",
		"DOLLAR":          "${NOT_EXPANDED_TWICE}",
	})
	body := `
database:
  driver: postgres
  dsn: postgres://bot:${PG_PASSWORD}@${PG_HOST}:5432/missionbot
log:
  level: info${EMPTY}
redis:
  prefix: ${DOLLAR}
slack:
  enabled: true
  bot_token: ${SLACK_BOT_TOKEN}
  signing_secret: "${SIGNING}"
`
	c, err := Load(writeYAML(t, body), env)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ key, got, want string }{
		{"database.dsn", c.Database.DSN, "postgres://bot:p@ss@db.internal:5432/missionbot"},
		{"log.level", c.Log.Level, "info"},
		{"redis.prefix", c.Redis.Prefix, "${NOT_EXPANDED_TWICE}"},
		{"slack.bot_token", c.Slack.BotToken, "xoxb-from-env"},
		{"slack.signing_secret", c.Slack.SigningSecret, "sign-from-env"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.key, ch.got, ch.want)
		}
	}
}

func TestExpansionErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unset secret variable", "slack:\n  bot_token: ${SLACK_BOT_TOKEN}\n",
			[]string{"config: slack.bot_token: environment variable SLACK_BOT_TOKEN is not set"}},
		{"unset variable in a plain value", "database:\n  dsn: postgres://u:${PGPASS}@h/db\n",
			[]string{"config: database.dsn: environment variable PGPASS is not set"}},
		{"unterminated", "database:\n  dsn: postgres://u:${PGPASS@h/db\n",
			[]string{"config: database.dsn: ${ without a closing }"}},
		{"not a name", "log:\n  level: ${LOG LEVEL}\n",
			[]string{"config: log.level: ${...} must hold a variable name"}},
		{"every unset variable at once", "slack:\n  bot_token: ${A}\n  app_token: ${B}\n",
			[]string{"slack.bot_token: environment variable A", "slack.app_token: environment variable B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeYAML(t, tt.yaml), nil)
			wantErr(t, err, tt.want...)
			if strings.Contains(err.Error(), "postgres://") {
				t.Errorf("error %q quotes the DSN", err)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	body := "log:\n  level: warn\ndatabase:\n  max_open_conns: 3\n"
	tests := []struct {
		name  string
		env   map[string]string
		check func(c *Config) bool
	}{
		{"string over file", map[string]string{"MISSIONBOT_LOG_LEVEL": "debug"},
			func(c *Config) bool { return c.Log.Level == "debug" }},
		{"string over default", map[string]string{"MISSIONBOT_REDIS_URL": "redis://127.0.0.1:6379/0"},
			func(c *Config) bool { return c.Redis.URL == "redis://127.0.0.1:6379/0" }},
		{"empty string takes the default", map[string]string{"MISSIONBOT_LOG_LEVEL": ""},
			func(c *Config) bool { return c.Log.Level == "info" }},
		{"values are not expanded", map[string]string{"MISSIONBOT_REDIS_PREFIX": "${X}"},
			func(c *Config) bool { return c.Redis.Prefix == "${X}" }},
		{"int over file", map[string]string{"MISSIONBOT_DATABASE_MAX_OPEN_CONNS": " 25 "},
			func(c *Config) bool { return c.Database.MaxOpenConns == 25 }},
		{"int over default", map[string]string{"MISSIONBOT_DISCORD_SHARD_COUNT": "4", "MISSIONBOT_DISCORD_SHARD_ID": "3"},
			func(c *Config) bool { return c.Discord.ShardCount == 4 && c.Discord.ShardID == 3 }},
		{"bool and secrets", map[string]string{
			"MISSIONBOT_SLACK_ENABLED":           "true",
			"MISSIONBOT_SLACK_SOCKET_MODE":       "1",
			"MISSIONBOT_SLACK_BOT_TOKEN":         "xoxb-1",
			"MISSIONBOT_SLACK_APP_TOKEN":         "xapp-1",
			"MISSIONBOT_DATABASE_DRIVER":         "postgres",
			"MISSIONBOT_DATABASE_DSN":            "host=db password=pw",
			"MISSIONBOT_SECURITY_ENCRYPTION_KEY": "k",
		}, func(c *Config) bool {
			return c.Slack.Enabled && c.Slack.SocketMode && c.Slack.BotToken == "xoxb-1" &&
				c.Slack.AppToken == "xapp-1" && c.Database.Driver == "postgres" &&
				c.Database.DSN == "host=db password=pw" && c.Security.EncryptionKey == "k"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(writeYAML(t, body), envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("override %v not applied: %+v", tt.env, *c)
			}
		})
	}
}

func TestEnvOverrideOverridesExpandedSecret(t *testing.T) {
	body := "discord:\n  bot_token: ${DISCORD_BOT_TOKEN}\n"
	c, err := Load(writeYAML(t, body), envOf(map[string]string{
		"DISCORD_BOT_TOKEN":            "from-reference",
		"MISSIONBOT_DISCORD_BOT_TOKEN": "from-override",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Discord.BotToken != "from-override" {
		t.Errorf("discord.bot_token = %q, want the MISSIONBOT_ override", c.Discord.BotToken)
	}
}

func TestEnvOverrideErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"MISSIONBOT_SLACK_ENABLED": "yes please"},
			[]string{`config: MISSIONBOT_SLACK_ENABLED: want true or false for slack.enabled, got "yes please"`}},
		{map[string]string{"MISSIONBOT_SLACK_SOCKET_MODE": ""},
			[]string{"config: MISSIONBOT_SLACK_SOCKET_MODE: want true or false"}},
		{map[string]string{"MISSIONBOT_DATABASE_MAX_OPEN_CONNS": "10.5"},
			[]string{"config: MISSIONBOT_DATABASE_MAX_OPEN_CONNS: want a whole number for database.max_open_conns"}},
		{map[string]string{"MISSIONBOT_COMMUNITY_DEFAULT_KUDOS_PER_DAY": "ten", "MISSIONBOT_DISCORD_ENABLED": "on"},
			[]string{"MISSIONBOT_COMMUNITY_DEFAULT_KUDOS_PER_DAY", "MISSIONBOT_DISCORD_ENABLED"}},
		{map[string]string{"MISSIONBOT_LOG_LEVEL": "verbose"},
			[]string{`config: log.level: must be debug, info, warn or error, got "verbose"`}},
	}
	for _, tt := range tests {
		t.Run(tt.want[0], func(t *testing.T) {
			_, err := Load("", envOf(tt.env))
			wantErr(t, err, tt.want...)
		})
	}
}

func TestLoadEnvironRejectsUnknownVariables(t *testing.T) {
	tests := []struct {
		environ []string
		want    []string
	}{
		{[]string{"MISSIONBOT_SLACK_BOT_TOKN=xoxb-1"},
			[]string{"config: MISSIONBOT_SLACK_BOT_TOKN: unknown variable", "did you mean MISSIONBOT_SLACK_BOT_TOKEN?"}},
		{[]string{"MISSIONBOT_LOGLEVEL=debug"},
			[]string{"config: MISSIONBOT_LOGLEVEL: unknown variable", "did you mean MISSIONBOT_LOG_LEVEL?"}},
		{[]string{"MISSIONBOT_WHATEVER=1", "MISSIONBOT_DEBUG=1"},
			[]string{"config: MISSIONBOT_DEBUG: unknown variable", "config: MISSIONBOT_WHATEVER: unknown variable"}},
	}
	for _, tt := range tests {
		t.Run(tt.environ[0], func(t *testing.T) {
			_, err := LoadEnviron("", tt.environ)
			wantErr(t, err, tt.want...)
			if strings.Contains(err.Error(), "xoxb-1") {
				t.Errorf("error %q repeats the value", err)
			}
		})
	}
}

func TestLoadEnviron(t *testing.T) {
	c, err := LoadEnviron(examplePath, []string{
		"PATH=/usr/bin",
		"MISSIONBOT_CONFIG=/etc/missionbot.yaml",
		"MISSIONBOT_LOG_FORMAT=text",
		"MISSIONBOT_LOG_FORMAT=json", // the first entry wins, as in os.Getenv
		"MISSIONBOT_HTTP_ADDR=127.0.0.1:9000",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Format != "text" || c.HTTP.Addr != "127.0.0.1:9000" {
		t.Errorf("got log.format %q, http.addr %q", c.Log.Format, c.HTTP.Addr)
	}
}

func TestEnvNames(t *testing.T) {
	seen := map[string]string{}
	for _, f := range fields() {
		if other, dup := seen[f.env]; dup {
			t.Errorf("%s and %s share the variable %s", f.path, other, f.env)
		}
		seen[f.env] = f.path
		switch f.kind {
		case reflect.String, reflect.Bool, reflect.Int:
		default:
			t.Errorf("%s has kind %s; override handles string, bool and int", f.path, f.kind)
		}
		if f.secret && f.kind != reflect.String {
			t.Errorf("secret %s is not a string", f.path)
		}
	}
	for env, path := range map[string]string{
		"MISSIONBOT_DATABASE_DRIVER":            "database.driver",
		"MISSIONBOT_DATABASE_MAX_OPEN_CONNS":    "database.max_open_conns",
		"MISSIONBOT_SLACK_BOT_TOKEN":            "slack.bot_token",
		"MISSIONBOT_REDIS_URL":                  "redis.url",
		"MISSIONBOT_LOG_LEVEL":                  "log.level",
		"MISSIONBOT_COMMUNITY_DEFAULT_TIMEZONE": "community.default_timezone",
	} {
		if seen[env] != path {
			t.Errorf("%s sets %q, want %q", env, seen[env], path)
		}
	}
	if _, clash := seen[PathEnv]; clash {
		t.Errorf("%s is reserved for the file path but names a key", PathEnv)
	}
}

func TestValidate(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // each an exact key; none means valid
	}{
		{"defaults", func(c *Config) {}, nil},
		{"driver", func(c *Config) { c.Database.Driver = "mysql" }, []string{"database.driver"}},
		{"postgres without dsn", func(c *Config) { c.Database.Driver = "postgres" }, []string{"database.dsn"}},
		{"postgres with dsn", func(c *Config) { c.Database.Driver, c.Database.DSN = "postgres", "host=db" }, nil},
		{"sqlite without path", func(c *Config) { c.Database.Path = "" }, []string{"database.path"}},
		{"negative conns", func(c *Config) { c.Database.MaxOpenConns = -1 }, []string{"database.max_open_conns"}},
		{"level", func(c *Config) { c.Log.Level = "trace" }, []string{"log.level"}},
		{"format", func(c *Config) { c.Log.Format = "xml" }, []string{"log.format"}},
		{"timezone", func(c *Config) { c.Community.DefaultTimezone = "Mars/Olympus" }, []string{"community.default_timezone"}},
		{"local timezone", func(c *Config) { c.Community.DefaultTimezone = "Local" }, []string{"community.default_timezone"}},
		{"real timezone", func(c *Config) { c.Community.DefaultTimezone = "America/Sao_Paulo" }, nil},
		{"negative kudos", func(c *Config) { c.Community.DefaultKudosPerDay = -5 }, []string{"community.default_kudos_per_day"}},
		{"negative retention", func(c *Config) { c.Community.DefaultRetentionDays = -1 }, []string{"community.default_retention_days"}},
		{"addr", func(c *Config) { c.HTTP.Addr = "8080" }, []string{"http.addr"}},
		{"redis scheme", func(c *Config) { c.Redis.URL = "http://h:6379" }, []string{"redis.url"}},
		{"redis url", func(c *Config) { c.Redis.URL = "rediss://:pw@h:6380/1" }, nil},
		{"slack without tokens", func(c *Config) { c.Slack.Enabled = true },
			[]string{"slack.bot_token", "slack.signing_secret"}},
		{"slack http", func(c *Config) {
			c.Slack = Slack{Enabled: true, BotToken: "b", SigningSecret: "s"}
		}, nil},
		{"slack socket mode with app token needs no signing secret", func(c *Config) {
			c.Slack = Slack{Enabled: true, BotToken: "b", AppToken: "a", SocketMode: true}
		}, nil},
		{"slack socket mode without app token", func(c *Config) {
			c.Slack = Slack{Enabled: true, BotToken: "b", SigningSecret: "s", SocketMode: true}
		}, []string{"slack.app_token"}},
		{"slack disabled needs nothing", func(c *Config) { c.Slack.SocketMode = true }, nil},
		{"discord mode", func(c *Config) { c.Discord.Mode = "webhook" }, []string{"discord.mode"}},
		{"discord without token and id", func(c *Config) { c.Discord.Enabled = true },
			[]string{"discord.bot_token", "discord.application_id"}},
		{"discord gateway", func(c *Config) {
			c.Discord.Enabled, c.Discord.BotToken, c.Discord.ApplicationID = true, "t", "1234567890"
		}, nil},
		{"discord http without public key", func(c *Config) {
			c.Discord.Enabled, c.Discord.BotToken, c.Discord.ApplicationID = true, "t", "1234567890"
			c.Discord.Mode = "http"
		}, []string{"discord.public_key"}},
		{"discord http", func(c *Config) {
			c.Discord.Enabled, c.Discord.BotToken, c.Discord.ApplicationID = true, "t", "1234567890"
			c.Discord.Mode, c.Discord.PublicKey = "http", key
		}, nil},
		{"discord application id", func(c *Config) { c.Discord.ApplicationID = "my-app" }, []string{"discord.application_id"}},
		{"discord public key", func(c *Config) { c.Discord.PublicKey = "abc" }, []string{"discord.public_key"}},
		{"shard id equals count", func(c *Config) { c.Discord.ShardID, c.Discord.ShardCount = 2, 2 }, []string{"discord.shard_id"}},
		{"last shard", func(c *Config) { c.Discord.ShardID, c.Discord.ShardCount = 1, 2 }, nil},
		{"negative shard id", func(c *Config) { c.Discord.ShardID = -1 }, []string{"discord.shard_id"}},
		{"negative shard count", func(c *Config) { c.Discord.ShardCount = -2 }, []string{"discord.shard_count"}},
		{"every error at once", func(c *Config) {
			c.Database.Driver, c.Log.Level, c.Discord.Mode = "x", "x", "x"
		}, []string{"database.driver", "log.level", "discord.mode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaults(t)
			tt.mutate(c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors for %v", tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("Validate() = %q, want %d errors", err, len(tt.want))
			}
			for _, k := range tt.want {
				wantErr(t, err, "config: "+k+": ")
			}
		})
	}
}

func TestValidationErrorsThroughLoad(t *testing.T) {
	body := "database:\n  driver: postgres\ncommunity:\n  default_timezone: Europe/Atlantis\n"
	_, err := Load(writeYAML(t, body), nil)
	wantErr(t, err, "config: database.dsn: required", `config: community.default_timezone: unknown time zone "Europe/Atlantis"`)
}

func TestValidationNeverQuotesSecrets(t *testing.T) {
	c := defaults(t)
	c.Redis.URL = "ftp://user:hunter2@h"
	err := c.Validate()
	wantErr(t, err, "config: redis.url: ")
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q quotes the password", err)
	}
}

func TestSecrets(t *testing.T) {
	c := defaults(t)
	if got := c.Secrets(); len(got) != 0 {
		t.Errorf("Secrets() of the defaults = %q, want none", got)
	}
	c.Slack.BotToken = "xoxb-1"
	c.Slack.SigningSecret = "sign"
	c.Slack.AppToken = "xoxb-1" // duplicates are listed once
	c.Discord.BotToken = "disc"
	c.Discord.PublicKey = "not-a-secret"
	c.Security.EncryptionKey = "enc"
	c.Database.DSN = "host=db user=bot password='p w\\'d' dbname=missionbot"
	c.Redis.URL = "redis://:redispw@127.0.0.1:6379/0"
	want := []string{"xoxb-1", "sign", "disc", "enc", "p w'd", "redispw"}
	if got := c.Secrets(); !reflect.DeepEqual(got, want) {
		t.Errorf("Secrets() = %q, want %q", got, want)
	}
}

func TestDSNPassword(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"", ""},
		{"host=db user=bot dbname=m", ""},
		{"host=db password=secret dbname=m", "secret"},
		{"password = 'a b' host=db", "a b"},
		{"postgres://bot:s%40cret@db:5432/m?sslmode=disable", "s@cret"},
		{"postgres://bot@db/m", ""},
	}
	for _, tt := range tests {
		if got := dsnPassword(tt.dsn); got != tt.want {
			t.Errorf("dsnPassword(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}
