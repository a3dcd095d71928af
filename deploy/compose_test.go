package deploy

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/missionbot/missionbot/config"
)

// replicas are the compose services that run missionbot serve.
var replicas = []string{"bot1", "bot2"}

// stack is deploy/ laid out as an operator has it: compose.yaml and
// nginx.conf beside a .env copied from .env.example, and ../Dockerfile as
// the build context.
type stack struct {
	root string // the repository root's stand-in: the build context
	dir  string // its deploy/
}

// newStack copies deploy/ into a temporary directory, .env.example as .env.
func newStack(t *testing.T) stack {
	t.Helper()
	s := stack{root: t.TempDir()}
	s.dir = filepath.Join(s.root, "deploy")
	if err := os.Mkdir(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{
		"compose.yaml":  "deploy/compose.yaml",
		"nginx.conf":    "deploy/nginx.conf",
		".env.example":  "deploy/.env",
		"../Dockerfile": "Dockerfile",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.root, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// load reads the stack as `docker compose` would with env as the shell's
// environment (and nothing else of the test's), .env filling the rest.
func (s stack) load(t *testing.T, env ...string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(s.dir, "compose.yaml")},
		cli.WithWorkingDirectory(s.dir),
		cli.WithEnv(env),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
	)
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

// secret returns a made-up URL-safe password.
func secret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// loaded loads the stack with both passwords set and returns it and them.
func loaded(t *testing.T) (*types.Project, string, string) {
	t.Helper()
	pg, rd := secret(t), secret(t)
	p, err := newStack(t).load(t, "POSTGRES_PASSWORD="+pg, "REDIS_PASSWORD="+rd)
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	return p, pg, rd
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return s
}

// envList turns a service's resolved environment into NAME=value pairs.
func envList(m types.MappingWithEquals) []string {
	var out []string
	for k, v := range m {
		if v != nil {
			out = append(out, k+"="+*v)
		}
	}
	slices.Sort(out)
	return out
}

func TestComposeServices(t *testing.T) {
	p, _, _ := loaded(t)
	got := p.ServiceNames()
	slices.Sort(got)
	want := []string{"bot1", "bot2", "postgres", "proxy", "redis"}
	if !slices.Equal(got, want) {
		t.Fatalf("compose services = %v, want %v", got, want)
	}
	for _, name := range []string{"postgres", "redis"} {
		if s := service(t, p, name); s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 || s.HealthCheck.Disable {
			t.Errorf("%s has no healthcheck, so replicas cannot wait for it", name)
		}
	}
}

// TestComposeReplicasAreIdentical checks that the two replicas are one
// service twice: the same image built from ../Dockerfile, the same command,
// configuration and dependencies.
func TestComposeReplicasAreIdentical(t *testing.T) {
	p, _, _ := loaded(t)
	b1, b2 := service(t, p, "bot1"), service(t, p, "bot2")
	if b1.Build == nil || b1.Image == "" {
		t.Fatalf("bot1 has build %+v image %q, want both (built once, tagged)", b1.Build, b1.Image)
	}
	root, err := filepath.Abs(filepath.Dir(p.WorkingDir))
	if err != nil {
		t.Fatal(err)
	}
	if b1.Build.Context != root || b1.Build.Dockerfile != "Dockerfile" {
		t.Errorf("bot1 builds %s with %s, want the repository root (%s) with its Dockerfile", b1.Build.Context, b1.Build.Dockerfile, root)
	}
	b1.Name, b2.Name = "", ""
	v1, v2 := reflect.ValueOf(b1), reflect.ValueOf(b2)
	for i := range v1.NumField() {
		if !reflect.DeepEqual(v1.Field(i).Interface(), v2.Field(i).Interface()) {
			t.Errorf("bot1 and bot2 differ in %s: %+v and %+v", v1.Type().Field(i).Name, v1.Field(i).Interface(), v2.Field(i).Interface())
		}
	}
}

func TestComposeReplicaConfiguration(t *testing.T) {
	p, pg, rd := loaded(t)
	for _, name := range replicas {
		t.Run(name, func(t *testing.T) {
			s := service(t, p, name)
			if !slices.Equal(s.Command, types.ShellCommand{"serve"}) {
				t.Errorf("command %q, want [serve]", s.Command)
			}
			if len(s.Ports) != 0 {
				t.Errorf("publishes %+v: only the proxy may publish a port", s.Ports)
			}
			for _, dep := range []string{"postgres", "redis"} {
				if d, ok := s.DependsOn[dep]; !ok || d.Condition != types.ServiceConditionHealthy {
					t.Errorf("depends_on %s = %+v, want condition service_healthy", dep, d)
				}
			}
			if hc := s.HealthCheck; hc == nil || !slices.Equal([]string(hc.Test), []string{"CMD", imageBinary, "healthcheck"}) {
				t.Errorf("healthcheck %+v, want CMD %s healthcheck", hc, imageBinary)
			}
			if len(s.EnvFiles) != 1 || filepath.Base(s.EnvFiles[0].Path) != ".env" || !bool(s.EnvFiles[0].Required) {
				t.Errorf("env_file %+v, want .env, required", s.EnvFiles)
			}
			if !s.ReadOnly {
				t.Error("root filesystem is writable (read_only: true expected)")
			}

			// What the replica's environment makes of missionbot's
			// configuration: valid, on PostgreSQL and Redis with the
			// passwords from .env, on the port nginx and the healthcheck use.
			cfg, err := config.LoadEnviron("", envList(s.Environment))
			if err != nil {
				t.Fatalf("the replica's environment is not a valid missionbot configuration: %v", err)
			}
			if cfg.Database.Driver != "postgres" || !strings.Contains(cfg.Database.DSN, ":"+pg+"@postgres:5432/") {
				t.Errorf("database = %s %q, want postgres at postgres:5432 with POSTGRES_PASSWORD", cfg.Database.Driver, redact(cfg.Database.DSN, pg))
			}
			if !strings.HasPrefix(cfg.Redis.URL, "redis://:"+rd+"@redis:6379/") {
				t.Errorf("redis.url = %q, want redis:6379 with REDIS_PASSWORD", redact(cfg.Redis.URL, rd))
			}
			if cfg.HTTP.Addr != ":8080" || !slices.Contains([]string(s.Expose), "8080") {
				t.Errorf("http.addr %q, expose %v: want :8080, exposed", cfg.HTTP.Addr, s.Expose)
			}
			if cfg.Log.Level != "info" {
				t.Errorf("log.level = %q: env_file .env was not applied", cfg.Log.Level)
			}
		})
	}
}

func redact(s, secret string) string { return strings.ReplaceAll(s, secret, "<secret>") }

func TestComposeProxyPublishesOnePort(t *testing.T) {
	p, _, _ := loaded(t)
	var publishers []string
	for _, s := range p.Services {
		if len(s.Ports) > 0 {
			publishers = append(publishers, s.Name)
		}
	}
	if !slices.Equal(publishers, []string{"proxy"}) {
		t.Fatalf("services publishing ports: %v, want only proxy", publishers)
	}
	proxy := service(t, p, "proxy")
	if len(proxy.Ports) != 1 || proxy.Ports[0].Target != 8080 || proxy.Ports[0].Published != "8080" {
		t.Errorf("proxy ports %+v, want one, 8080 (PROXY_PORT) to 8080", proxy.Ports)
	}
	if !strings.HasPrefix(proxy.Image, "nginx:") || !strings.Contains(proxy.Image, "bookworm") {
		t.Errorf("proxy image %q, want nginx on Debian (the nginx.conf checked here is for it)", proxy.Image)
	}
	mounted := false
	for _, v := range proxy.Volumes {
		if v.Target == "/etc/nginx/nginx.conf" && v.ReadOnly && v.Source == filepath.Join(p.WorkingDir, "nginx.conf") {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("proxy volumes %+v, want ./nginx.conf mounted read-only at /etc/nginx/nginx.conf", proxy.Volumes)
	}
	for _, r := range replicas {
		if _, ok := proxy.DependsOn[r]; !ok {
			t.Errorf("proxy does not depend on %s", r)
		}
	}
	// The proxy's port follows PROXY_PORT.
	p2, err := newStack(t).load(t, "POSTGRES_PASSWORD=x", "REDIS_PASSWORD=y", "PROXY_PORT=9443")
	if err != nil {
		t.Fatal(err)
	}
	if got := service(t, p2, "proxy").Ports; len(got) != 1 || got[0].Published != "9443" {
		t.Errorf("with PROXY_PORT=9443 proxy ports = %+v", got)
	}
}

// TestComposeNeedsThePasswords checks that a .env left as the example does
// not start a stack without passwords: loading fails naming the variable.
func TestComposeNeedsThePasswords(t *testing.T) {
	_, err := newStack(t).load(t)
	if err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD") && !strings.Contains(err.Error(), "REDIS_PASSWORD") {
		t.Fatalf("loading with the example .env = %v, want an error naming POSTGRES_PASSWORD or REDIS_PASSWORD", err)
	}
	_, err = newStack(t).load(t, "POSTGRES_PASSWORD=x")
	if err == nil || !strings.Contains(err.Error(), "REDIS_PASSWORD") {
		t.Fatalf("loading without REDIS_PASSWORD = %v, want an error naming it", err)
	}
}

// TestComposeNeedsTheEnvFile checks that the replicas do not start with
// their secrets silently missing when .env was never created.
func TestComposeNeedsTheEnvFile(t *testing.T) {
	s := newStack(t)
	if err := os.Remove(filepath.Join(s.dir, ".env")); err != nil {
		t.Fatal(err)
	}
	_, err := s.load(t, "POSTGRES_PASSWORD=x", "REDIS_PASSWORD=y")
	if err == nil || !strings.Contains(err.Error(), ".env") {
		t.Fatalf("loading without deploy/.env = %v, want an error naming .env", err)
	}
}

// secretWords name a value that must come from the environment.
var secretWords = regexp.MustCompile(`(?i)password|secret|token|_key\b|dsn|redis_url|requirepass|auth`)

// tokenShapes are credentials that must never be written in a file.
var tokenShapes = regexp.MustCompile(`xox[abeoprs]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}`)

// urlPassword matches the password of a URL with user information.
var urlPassword = regexp.MustCompile(`://[^/\s:@]*:([^@\s]*)@`)

// TestComposeHasNoSecretLiteral checks compose.yaml's text: every value of a
// secret-named key and every password in a URL is a ${…} reference (or a
// $$ container-side one), and nothing token-shaped appears.
func TestComposeHasNoSecretLiteral(t *testing.T) {
	text, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(text)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if tokenShapes.MatchString(line) {
			t.Errorf("compose.yaml:%d: a token-shaped literal: %s", n, line)
		}
		for _, m := range urlPassword.FindAllStringSubmatch(line, -1) {
			if !strings.HasPrefix(m[1], "${") {
				t.Errorf("compose.yaml:%d: a URL with a literal password: %s", n, line)
			}
		}
		key, value, ok := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		if ok && value != "" && secretWords.MatchString(key) && !strings.Contains(value, "${") {
			t.Errorf("compose.yaml:%d: %s is set literally; reference a variable from .env", n, key)
		}
		if strings.Contains(line, "requirepass") && !strings.Contains(line, "$$") && !strings.Contains(line, "${") {
			t.Errorf("compose.yaml:%d: requirepass with a literal password", n)
		}
	}
}

// envExampleVars returns every NAME=value line of .env.example, set or
// commented out, in order.
func envExampleVars(t *testing.T) [][2]string {
	t.Helper()
	text, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^#? ?([A-Z][A-Z0-9_]*)=(.*)$`)
	var out [][2]string
	for _, m := range re.FindAllStringSubmatch(string(text), -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

// TestEnvExample checks deploy/.env.example: no secret value in it, every
// variable compose.yaml references is there, every MISSIONBOT_ variable in
// it is one missionbot knows (an unknown one fails start), and every
// variable has a comment.
func TestEnvExample(t *testing.T) {
	vars := envExampleVars(t)
	names := map[string]bool{}
	for _, v := range vars {
		names[v[0]] = true
		if secretWords.MatchString(v[0]) && strings.TrimSpace(v[1]) != "" {
			t.Errorf(".env.example sets secret %s to %q; leave it empty", v[0], v[1])
		}
		if tokenShapes.MatchString(v[1]) {
			t.Errorf(".env.example %s holds a token-shaped value", v[0])
		}
	}

	compose, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(string(compose), -1) {
		if !names[m[1]] {
			t.Errorf("compose.yaml references ${%s}, which .env.example does not document", m[1])
		}
	}

	for name := range names {
		if !strings.HasPrefix(name, config.EnvPrefix) {
			continue
		}
		_, err := config.LoadEnviron("", []string{name + "=1"})
		if err != nil && strings.Contains(err.Error(), name+": unknown variable") {
			t.Errorf(".env.example names %s, which is no missionbot key: %v", name, err)
		}
	}

	// Every variable line is preceded, within its paragraph, by a comment.
	text, _ := os.ReadFile(".env.example")
	commented := false
	for _, line := range strings.Split(string(text), "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			commented = false
		case regexp.MustCompile(`^#? ?[A-Z][A-Z0-9_]*=`).MatchString(line):
			if !commented {
				t.Errorf(".env.example: %s has no comment saying what it is", line)
			}
		case strings.HasPrefix(line, "#"):
			commented = true
		}
	}
}

// TestEnvFileIsIgnored checks that git ignores deploy/.env, where the real
// secrets go.
func TestEnvFileIsIgnored(t *testing.T) {
	text, err := os.ReadFile(".gitignore")
	if errors.Is(err, os.ErrNotExist) {
		t.Fatal("deploy/.gitignore is missing: deploy/.env would be committed")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Fields(string(text)), ".env") {
		t.Errorf("deploy/.gitignore does not list .env:\n%s", text)
	}
}
