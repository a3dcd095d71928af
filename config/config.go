// Package config loads missionbot's configuration.
//
// A configuration is built in this order: the YAML file (strict: an unknown key
// fails), ${NAME} references in string values expanded from the environment,
// MISSIONBOT_<SECTION>_<KEY> environment overrides, defaults for every key left
// zero or empty, and finally Validate. Every error names the key it is about,
// as "config: <section>.<key>: <what is wrong>", and never contains a secret.
//
// Secrets (the fields tagged secret:"true") come only from the environment: a
// secret written literally in the YAML fails Load. The database DSN is not a
// secret field, but a password in it belongs in a ${NAME} reference too.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Database drivers accepted in database.driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Discord connection modes accepted in discord.mode.
const (
	DiscordGateway = "gateway"
	DiscordHTTP    = "http"
)

// EnvPrefix starts the name of every environment override.
const EnvPrefix = "MISSIONBOT_"

// PathEnv is the one MISSIONBOT_ variable that names no key: cmd/missionbot may
// read the configuration file's path from it, so LoadEnviron accepts it.
const PathEnv = EnvPrefix + "CONFIG"

// Config is missionbot's whole configuration. Load returns it with defaults
// applied and validated; the zero value is not valid.
type Config struct {
	Database  Database  `yaml:"database"`
	Log       Log       `yaml:"log"`
	Community Community `yaml:"community"`
	HTTP      HTTP      `yaml:"http"`
	Redis     Redis     `yaml:"redis"`
	Slack     Slack     `yaml:"slack"`
	Discord   Discord   `yaml:"discord"`
	Security  Security  `yaml:"security"`
}

// Database selects and sizes the store.
type Database struct {
	// Driver is DriverSQLite (default) or DriverPostgres.
	Driver string `yaml:"driver"`
	// Path is the SQLite file, default "./missionbot.db".
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string, required for postgres. A
	// password in it belongs in a ${NAME} reference, not in the file.
	DSN string `yaml:"dsn"`
	// MaxOpenConns caps open connections, default 10.
	MaxOpenConns int `yaml:"max_open_conns"`
}

// Log configures the process logger.
type Log struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is json (default) or text.
	Format string `yaml:"format"`
}

// Community holds the settings a new community starts with.
type Community struct {
	// DefaultTimezone is an IANA zone name, default "UTC".
	DefaultTimezone string `yaml:"default_timezone"`
	// DefaultKudosPerDay is how many kudos a member may give a day, default 10.
	DefaultKudosPerDay int `yaml:"default_kudos_per_day"`
	// DefaultRetentionDays is how long history is kept, default 90.
	DefaultRetentionDays int `yaml:"default_retention_days"`
}

// HTTP configures the listener for platform webhooks and health checks.
type HTTP struct {
	// Addr is the listen address, default ":8080".
	Addr string `yaml:"addr"`
	// DrainTimeout bounds how long shutdown waits for in-flight requests, as
	// a Go duration ("20s"); empty means the server's default, 20s.
	DrainTimeout string `yaml:"drain_timeout"`
}

// Redis configures cross-replica coordination.
type Redis struct {
	// URL is a redis://, rediss:// or unix:// URL; empty means in-process
	// coordination (one replica only).
	URL string `yaml:"url"`
	// Prefix starts every Redis key, default "missionbot:".
	Prefix string `yaml:"prefix"`
}

// Slack configures the Slack adapter.
type Slack struct {
	Enabled       bool   `yaml:"enabled"`
	BotToken      string `yaml:"bot_token" secret:"true"`
	SigningSecret string `yaml:"signing_secret" secret:"true"`
	AppToken      string `yaml:"app_token" secret:"true"`
	// SocketMode connects over Socket Mode with AppToken instead of
	// receiving signed HTTP requests.
	SocketMode bool `yaml:"socket_mode"`
	// ClientID and ClientSecret enable the OAuth v2 install flow
	// (/slack/install), storing each workspace's bot token encrypted with
	// security.encryption_key; BotToken is then optional.
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret" secret:"true"`
	// PublicURL is the https base URL Slack reaches this service on, used
	// for the OAuth redirect URL.
	PublicURL string `yaml:"public_url"`
	// APIURL replaces https://slack.com/api/ (a local fake for tests and
	// the load tool); empty means the real Slack.
	APIURL string `yaml:"api_url"`
}

// Discord configures the Discord adapter.
type Discord struct {
	Enabled       bool   `yaml:"enabled"`
	BotToken      string `yaml:"bot_token" secret:"true"`
	ApplicationID string `yaml:"application_id"`
	// PublicKey is the hex Ed25519 key that verifies HTTP interactions.
	PublicKey string `yaml:"public_key"`
	// Mode is DiscordGateway (default) or DiscordHTTP.
	Mode string `yaml:"mode"`
	// ShardID and ShardCount shard the gateway; ShardCount defaults to 1.
	ShardID    int `yaml:"shard_id"`
	ShardCount int `yaml:"shard_count"`
	// GuildID, when set, registers commands in that guild only (instant,
	// for development) instead of globally.
	GuildID string `yaml:"guild_id"`
	// MembersIntent asks for the privileged server members intent, needed
	// to welcome members who join and drop those who leave from boards.
	MembersIntent bool `yaml:"members_intent"`
	// APIURL sends Discord REST calls to another base URL (a local fake
	// for tests and the load tool); empty means the real Discord.
	APIURL string `yaml:"api_url"`
}

// Security holds the keys that protect stored data.
type Security struct {
	// EncryptionKey encrypts sensitive columns at rest.
	EncryptionKey string `yaml:"encryption_key" secret:"true"`
}

// Load builds the configuration from the YAML file at path ("" means none:
// defaults and environment only), looking variables up with env (nil means an
// empty environment), and validates it. Load cannot list the environment, so it
// does not notice a misspelt MISSIONBOT_ variable; LoadEnviron does.
func Load(path string, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	var c Config
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decode(data, &c); err != nil {
			return nil, err
		}
		if err := c.expand(env); err != nil {
			return nil, err
		}
	}
	if err := c.override(env); err != nil {
		return nil, err
	}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadEnviron is Load over environ, a list of "NAME=value" entries as returned
// by os.Environ. It also fails, naming each, on any MISSIONBOT_ variable that
// names no key (other than PathEnv), so a misspelt override is never ignored.
func LoadEnviron(path string, environ []string) (*Config, error) {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if _, dup := vars[name]; !dup {
			vars[name] = value
		}
	}
	if err := checkEnvNames(vars); err != nil {
		return nil, err
	}
	return Load(path, func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
}

// Secrets returns every non-empty secret value in c, and the passwords written
// in database.dsn and redis.url, for a logger to redact.
func (c *Config) Secrets() []string {
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	v := reflect.ValueOf(c).Elem()
	for _, f := range fields() {
		if f.secret {
			add(v.FieldByIndex(f.index).String())
		}
	}
	add(dsnPassword(c.Database.DSN))
	add(urlPassword(c.Redis.URL))
	return out
}

// Validate reports every invalid value in c, each error naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, keyErr(key, format, args...))
	}
	notNegative := func(key string, n int) {
		if n < 0 {
			bad(key, "must not be negative, got %d", n)
		}
	}

	switch c.Database.Driver {
	case DriverSQLite:
		if c.Database.Path == "" {
			bad("database.path", "required when database.driver is %q", DriverSQLite)
		}
	case DriverPostgres:
		if c.Database.DSN == "" {
			bad("database.dsn", "required when database.driver is %q; write ${DATABASE_DSN} to keep the password out of the file", DriverPostgres)
		}
	default:
		bad("database.driver", "must be %q or %q, got %q", DriverSQLite, DriverPostgres, c.Database.Driver)
	}
	notNegative("database.max_open_conns", c.Database.MaxOpenConns)

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		bad("log.format", "must be json or text, got %q", c.Log.Format)
	}

	switch tz := c.Community.DefaultTimezone; tz {
	case "", "Local":
		bad("community.default_timezone", "must name a zone such as \"Europe/Paris\" or \"UTC\", got %q", tz)
	default:
		if _, err := time.LoadLocation(tz); err != nil {
			bad("community.default_timezone", "unknown time zone %q (want a name such as \"Europe/Paris\")", tz)
		}
	}
	notNegative("community.default_kudos_per_day", c.Community.DefaultKudosPerDay)
	notNegative("community.default_retention_days", c.Community.DefaultRetentionDays)

	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr", "want host:port such as \":8080\", got %q", c.HTTP.Addr)
	}
	if d := c.HTTP.DrainTimeout; d != "" {
		if t, err := time.ParseDuration(d); err != nil || t <= 0 {
			bad("http.drain_timeout", "want a positive duration such as \"20s\", got %q", d)
		}
	}

	if c.Redis.URL != "" {
		// The URL may hold a password, so it is never quoted back.
		u, err := url.Parse(c.Redis.URL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			bad("redis.url", "want a redis://, rediss:// or unix:// URL")
		}
	}

	if s := c.Slack; s.Enabled {
		oauth := s.ClientID != ""
		if s.BotToken == "" && !oauth {
			bad("slack.bot_token", "required when slack.enabled is true, unless slack.client_id is set for OAuth installs")
		}
		if oauth {
			if s.ClientSecret == "" {
				bad("slack.client_secret", "required when slack.client_id is set")
			}
			if c.Security.EncryptionKey == "" {
				bad("security.encryption_key", "required when slack.client_id is set: installed workspaces' tokens are stored encrypted")
			}
			if u, err := url.Parse(s.PublicURL); s.PublicURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad("slack.public_url", "required when slack.client_id is set: the https base URL Slack reaches, such as https://bot.example.org")
			}
		}
		if s.SocketMode {
			if s.AppToken == "" {
				bad("slack.app_token", "required when slack.socket_mode is true")
			}
		} else if s.SigningSecret == "" {
			bad("slack.signing_secret", "required when slack.enabled is true, unless slack.socket_mode is true with slack.app_token")
		}
	}

	d := c.Discord
	switch d.Mode {
	case DiscordGateway, DiscordHTTP:
	default:
		bad("discord.mode", "must be %q or %q, got %q", DiscordGateway, DiscordHTTP, d.Mode)
	}
	if d.Enabled {
		if d.BotToken == "" {
			bad("discord.bot_token", "required when discord.enabled is true")
		}
		if d.ApplicationID == "" {
			bad("discord.application_id", "required when discord.enabled is true")
		}
		if d.Mode == DiscordHTTP && d.PublicKey == "" {
			bad("discord.public_key", "required when discord.mode is %q", DiscordHTTP)
		}
	}
	if d.GuildID != "" && !isDigits(d.GuildID) {
		bad("discord.guild_id", "must be a numeric guild id, got %q", d.GuildID)
	}
	if d.ApplicationID != "" && !isDigits(d.ApplicationID) {
		bad("discord.application_id", "must be the numeric application id, got %q", d.ApplicationID)
	}
	if d.PublicKey != "" && !isHex(d.PublicKey, 64) {
		bad("discord.public_key", "must be the 64-character hex public key from the developer portal")
	}
	switch {
	case d.ShardID < 0:
		bad("discord.shard_id", "must not be negative, got %d", d.ShardID)
	case d.ShardCount < 1:
		bad("discord.shard_count", "must be at least 1, got %d", d.ShardCount)
	case d.ShardID >= d.ShardCount:
		bad("discord.shard_id", "must be less than discord.shard_count (%d), got %d", d.ShardCount, d.ShardID)
	}

	return errors.Join(errs...)
}

// setDefaults fills every key left zero or empty that has a default.
func (c *Config) setDefaults() {
	str := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	num := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	str(&c.Database.Driver, DriverSQLite)
	str(&c.Database.Path, "./missionbot.db")
	num(&c.Database.MaxOpenConns, 10)
	str(&c.Log.Level, "info")
	str(&c.Log.Format, "json")
	str(&c.Community.DefaultTimezone, "UTC")
	num(&c.Community.DefaultKudosPerDay, 10)
	num(&c.Community.DefaultRetentionDays, 90)
	str(&c.HTTP.Addr, ":8080")
	str(&c.Redis.Prefix, "missionbot:")
	str(&c.Discord.Mode, DiscordGateway)
	num(&c.Discord.ShardCount, 1)
}

// field is one leaf key of Config, found by reflection.
type field struct {
	path   string // "slack.bot_token"
	env    string // "MISSIONBOT_SLACK_BOT_TOKEN"
	secret bool
	kind   reflect.Kind
	index  []int
}

// fields lists Config's leaf keys in declaration order. Config is two levels
// deep: sections, then string, bool or int keys.
func fields() []field {
	var out []field
	t := reflect.TypeFor[Config]()
	for _, s := range reflect.VisibleFields(t) {
		sname := yamlName(s)
		for _, k := range reflect.VisibleFields(s.Type) {
			kname := yamlName(k)
			out = append(out, field{
				path:   sname + "." + kname,
				env:    EnvPrefix + strings.ToUpper(sname+"_"+kname),
				secret: k.Tag.Get("secret") == "true",
				kind:   k.Type.Kind(),
				index:  []int{s.Index[0], k.Index[0]},
			})
		}
	}
	return out
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// decode parses data strictly into c. Unknown keys, duplicate keys and values
// of the wrong type are reported with their key path and line.
func decode(data []byte, c *Config) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if doc.Kind == 0 {
		return nil // empty file
	}
	if errs := checkNode(&doc, reflect.TypeFor[Config](), ""); len(errs) > 0 {
		return errors.Join(errs...)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return errors.New("config: the file holds more than one YAML document; keep one")
	case !errors.Is(err, io.EOF):
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// checkNode checks n against t, the type it will be decoded into, at the key
// path. It finds what yaml.v3 would also reject but names the key.
func checkNode(n *yaml.Node, t reflect.Type, path string) []error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return checkNode(n.Content[0], t, path)
	case yaml.AliasNode:
		return checkNode(n.Alias, t, path)
	}
	if n.ShortTag() == "!!null" {
		return nil
	}
	if t.Kind() != reflect.Struct {
		return checkLeaf(n, t, path)
	}
	if n.Kind != yaml.MappingNode {
		if path == "" {
			return []error{fmt.Errorf("config: line %d: want a mapping of sections (%s)", n.Line, keyNames(t))}
		}
		return []error{keyErr(path, "line %d: want a mapping of keys (%s)", n.Line, keyNames(t))}
	}
	var errs []error
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			errs = append(errs, keyErr(join(path, k.Value), "line %d: want a plain key name (merge keys are not supported)", k.Line))
			continue
		}
		kp := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			errs = append(errs, keyErr(kp, "line %d: already set at line %d", k.Line, line))
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fieldByYAML(t, k.Value)
		if !ok {
			where := "top-level keys"
			if path != "" {
				where = path + " keys"
			}
			errs = append(errs, keyErr(kp, "unknown key (line %d); %s are %s", k.Line, where, keyNames(t)))
			continue
		}
		errs = append(errs, checkNode(v, f.Type, kp)...)
	}
	return errs
}

// checkLeaf checks that scalar n decodes into a t without loss.
func checkLeaf(n *yaml.Node, t reflect.Type, path string) []error {
	if n.Kind != yaml.ScalarNode {
		return []error{keyErr(path, "line %d: want a single value, not a list or mapping", n.Line)}
	}
	var want string
	switch t.Kind() {
	case reflect.String:
		return nil
	case reflect.Bool:
		want = "true or false"
		if n.ShortTag() == "!!bool" {
			return nil
		}
	case reflect.Int:
		want = "a whole number"
		var i int
		if n.ShortTag() == "!!int" && n.Decode(&i) == nil {
			return nil
		}
	}
	return []error{keyErr(path, "line %d: want %s", n.Line, want)}
}

func fieldByYAML(t reflect.Type, name string) (reflect.StructField, bool) {
	for _, f := range reflect.VisibleFields(t) {
		if yamlName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func keyNames(t reflect.Type) string {
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		names = append(names, yamlName(f))
	}
	return strings.Join(names, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// expand replaces ${NAME} references in every string value from env, after
// checking that secret values are made of references only.
func (c *Config) expand(env func(string) (string, bool)) error {
	var errs []error
	v := reflect.ValueOf(c).Elem()
	for _, f := range fields() {
		if f.kind != reflect.String {
			continue
		}
		fv := v.FieldByIndex(f.index)
		s := fv.String()
		if s == "" {
			continue
		}
		parts, err := splitRefs(s)
		if err != nil {
			errs = append(errs, keyErr(f.path, "%v", err))
			continue
		}
		if f.secret && !refsOnly(parts) {
			name := strings.TrimPrefix(f.env, EnvPrefix)
			errs = append(errs, keyErr(f.path, "secrets must come from the environment, write ${%s} or set %s", name, f.env))
			continue
		}
		var b strings.Builder
		for _, p := range parts {
			if !p.ref {
				b.WriteString(p.text)
				continue
			}
			val, ok := env(p.text)
			if !ok {
				errs = append(errs, keyErr(f.path, "environment variable %s is not set (referenced as ${%s})", p.text, p.text))
				continue
			}
			b.WriteString(val)
		}
		fv.SetString(b.String())
	}
	return errors.Join(errs...)
}

// part is a piece of a string value: literal text, or the name in a ${NAME}
// reference.
type part struct {
	text string
	ref  bool
}

// splitRefs splits s into literal text and ${NAME} references. "${" always
// starts a reference; there is no escape. The error never quotes s, which may
// hold a password.
func splitRefs(s string) ([]part, error) {
	var parts []part
	for s != "" {
		i := strings.Index(s, "${")
		if i < 0 {
			parts = append(parts, part{text: s})
			break
		}
		if i > 0 {
			parts = append(parts, part{text: s[:i]})
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, errors.New("${ without a closing }")
		}
		name := s[i+2 : i+end]
		if !isVarName(name) {
			return nil, errors.New("${...} must hold a variable name: letters, digits and _, not starting with a digit")
		}
		parts = append(parts, part{text: name, ref: true})
		s = s[i+end+1:]
	}
	return parts, nil
}

func refsOnly(parts []part) bool {
	for _, p := range parts {
		if !p.ref {
			return false
		}
	}
	return len(parts) > 0
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// override applies every MISSIONBOT_<SECTION>_<KEY> variable env has. Values
// are taken literally: no ${NAME} expansion.
func (c *Config) override(env func(string) (string, bool)) error {
	var errs []error
	v := reflect.ValueOf(c).Elem()
	for _, f := range fields() {
		s, ok := env(f.env)
		if !ok {
			continue
		}
		fv := v.FieldByIndex(f.index)
		switch f.kind {
		case reflect.String:
			fv.SetString(s)
		case reflect.Bool:
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				errs = append(errs, fmt.Errorf("config: %s: want true or false for %s, got %q", f.env, f.path, s))
				continue
			}
			fv.SetBool(b)
		case reflect.Int:
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				errs = append(errs, fmt.Errorf("config: %s: want a whole number for %s, got %q", f.env, f.path, s))
				continue
			}
			fv.SetInt(int64(n))
		default:
			panic("config: unsupported field kind " + f.kind.String() + " at " + f.path)
		}
	}
	return errors.Join(errs...)
}

// checkEnvNames fails on every MISSIONBOT_ variable in vars that names no key.
func checkEnvNames(vars map[string]string) error {
	known := map[string]bool{PathEnv: true}
	for _, f := range fields() {
		known[f.env] = true
	}
	var unknown []string
	for name := range vars {
		if strings.HasPrefix(name, EnvPrefix) && !known[name] {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	var errs []error
	for _, name := range unknown {
		msg := "unknown variable: no key has this name (MISSIONBOT_<SECTION>_<KEY>, see config.example.yaml)"
		if near := nearest(name, known); near != "" {
			msg += "; did you mean " + near + "?"
		}
		errs = append(errs, fmt.Errorf("config: %s: %s", name, msg))
	}
	return errors.Join(errs...)
}

// nearest returns the known name within two edits of name, or "".
func nearest(name string, known map[string]bool) string {
	best, bestDist := "", 3
	for k := range known {
		if d := editDistance(name, k); d < bestDist || (d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func keyErr(key, format string, args ...any) error {
	return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
}

// dsnPassword returns the password in a PostgreSQL DSN, in URL form
// (postgres://user:pw@host/db) or key=value form (password=pw or
// password='p w').
func dsnPassword(dsn string) string {
	if strings.Contains(dsn, "://") {
		return urlPassword(dsn)
	}
	for s := dsn; s != ""; {
		s = strings.TrimLeft(s, " \t\n")
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			return ""
		}
		key = strings.TrimSpace(key)
		rest = strings.TrimLeft(rest, " \t")
		var val strings.Builder
		if strings.HasPrefix(rest, "'") {
			rest = rest[1:]
			for rest != "" && rest[0] != '\'' {
				if rest[0] == '\\' && len(rest) > 1 {
					rest = rest[1:]
				}
				val.WriteByte(rest[0])
				rest = rest[1:]
			}
			rest = strings.TrimPrefix(rest, "'")
		} else {
			end := strings.IndexAny(rest, " \t\n")
			if end < 0 {
				end = len(rest)
			}
			val.WriteString(rest[:end])
			rest = rest[end:]
		}
		if key == "password" {
			return val.String()
		}
		s = rest
	}
	return ""
}

func urlPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F') {
			return false
		}
	}
	return true
}
