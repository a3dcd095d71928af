package deploy

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, …
	Args string // the rest, trimmed
	Line int    // where it starts
}

// stage is one FROM and the instructions under it.
type stage struct {
	From  string // the image
	Name  string // after AS, lower case; "" if unnamed
	Flags []string
	Body  []instruction
}

// parseDockerfile reads the instructions of a Dockerfile: comments and
// blank lines dropped, backslash continuations joined.
func parseDockerfile(t *testing.T, text string) []instruction {
	t.Helper()
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		} else if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continuation
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(strings.TrimSpace(s) + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Fatalf("Dockerfile ends inside a continuation starting at line %d", start)
	}
	return out
}

// stages splits instructions into build stages.
func stages(t *testing.T, ins []instruction) []stage {
	t.Helper()
	var out []stage
	for _, in := range ins {
		if in.Cmd == "FROM" {
			var st stage
			fields := strings.Fields(in.Args)
			for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
				st.Flags = append(st.Flags, fields[0])
				fields = fields[1:]
			}
			if len(fields) == 0 {
				t.Fatalf("line %d: FROM without an image", in.Line)
			}
			st.From = fields[0]
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.Name = strings.ToLower(fields[2])
			}
			out = append(out, st)
			continue
		}
		if len(out) == 0 {
			if in.Cmd != "ARG" {
				t.Fatalf("line %d: %s before the first FROM", in.Line, in.Cmd)
			}
			continue
		}
		out[len(out)-1].Body = append(out[len(out)-1].Body, in)
	}
	return out
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.Body {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// execForm parses a JSON array argument (exec form), failing the test on
// shell form.
func execForm(t *testing.T, in instruction, args string) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(args), &v); err != nil {
		t.Fatalf("line %d: %s %s is not in exec form (a JSON array): %v", in.Line, in.Cmd, args, err)
	}
	return v
}

// repoFile reads a file of the repository, path relative to its root.
func repoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const imageBinary = "/usr/local/bin/missionbot"

// TestDockerfile checks the image the Dockerfile describes, as far as text
// can: a multi-stage static build, a non-root runtime with its data in a
// volume, the healthcheck subcommand, and serve as the default command.
func TestDockerfile(t *testing.T) {
	sts := stages(t, parseDockerfile(t, repoFile(t, "Dockerfile")))
	if len(sts) < 2 {
		t.Fatalf("Dockerfile has %d stage(s), want a multi-stage build", len(sts))
	}
	build, final := sts[0], sts[len(sts)-1]
	if build.Name == "" {
		t.Errorf("the build stage FROM %s is not named (FROM … AS build)", build.From)
	}

	t.Run("static build", func(t *testing.T) {
		var goBuild string
		for _, in := range build.all("RUN") {
			if strings.Contains(in.Args, "go build") {
				goBuild = in.Args
			}
		}
		if goBuild == "" {
			t.Fatal("the build stage has no RUN … go build")
		}
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/missionbot", "-X main.version="} {
			if !strings.Contains(goBuild, want) {
				t.Errorf("go build step lacks %q: %s", want, goBuild)
			}
		}
		// The Go of the build image matches go.mod's go line (major.minor).
		goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(repoFile(t, "go.mod"))
		if goLine == nil || !strings.Contains(build.From, "golang:"+goLine[1]) {
			t.Errorf("build stage FROM %s, want golang:%s (go.mod)", build.From, goLine)
		}
	})

	t.Run("runtime", func(t *testing.T) {
		// distroless/static brings CA certificates and /etc/passwd; no libc,
		// no shell, so the binary must be static (TestStaticBinary).
		if !strings.HasPrefix(final.From, "gcr.io/distroless/static") {
			t.Errorf("final stage FROM %s, want gcr.io/distroless/static (CA certificates, no libc)", final.From)
		}
		copied := false
		for _, in := range final.all("COPY") {
			if strings.Contains(in.Args, "--from="+build.Name) && strings.HasSuffix(in.Args, " "+imageBinary) {
				copied = true
			}
		}
		if !copied {
			t.Errorf("final stage does not COPY --from=%s … %s", build.Name, imageBinary)
		}
		users := final.all("USER")
		if len(users) == 0 {
			t.Fatal("final stage has no USER: the container would run as root")
		}
		user, group, _ := strings.Cut(users[len(users)-1].Args, ":")
		if n, err := strconv.Atoi(user); err != nil || n == 0 || group == "0" {
			t.Errorf("USER %s, want a numeric non-root uid (and gid), so Kubernetes runAsNonRoot can verify it", users[len(users)-1].Args)
		}
		volumes := final.all("VOLUME")
		if len(volumes) != 1 || (volumes[0].Args != "/data" && volumes[0].Args != `["/data"]`) {
			t.Errorf("VOLUME = %v, want one VOLUME /data", volumes)
		}
		env := strings.Join(argsOf(final.all("ENV")), " ")
		if !strings.Contains(env, "MISSIONBOT_DATABASE_PATH=/data/") {
			t.Errorf("ENV does not put the SQLite file in /data: %s", env)
		}
		owned := false
		for _, in := range final.all("COPY") {
			if strings.Contains(in.Args, "--chown="+user) && strings.HasSuffix(in.Args, " /data") {
				owned = true
			}
		}
		if !owned {
			t.Errorf("/data is not created owned by the USER %s (COPY --chown=%s… /data)", user, user)
		}
	})

	t.Run("healthcheck", func(t *testing.T) {
		hcs := final.all("HEALTHCHECK")
		if len(hcs) != 1 {
			t.Fatalf("final stage has %d HEALTHCHECK, want 1", len(hcs))
		}
		_, cmd, ok := strings.Cut(hcs[0].Args, "CMD ")
		if !ok {
			t.Fatalf("HEALTHCHECK %s has no CMD", hcs[0].Args)
		}
		if got, want := execForm(t, hcs[0], strings.TrimSpace(cmd)), []string{imageBinary, "healthcheck"}; !slices.Equal(got, want) {
			t.Errorf("HEALTHCHECK CMD %q, want %q", got, want)
		}
	})

	t.Run("entrypoint", func(t *testing.T) {
		eps, cmds := final.all("ENTRYPOINT"), final.all("CMD")
		if len(eps) != 1 || len(cmds) != 1 {
			t.Fatalf("final stage has %d ENTRYPOINT and %d CMD, want one each", len(eps), len(cmds))
		}
		if got := execForm(t, eps[0], eps[0].Args); !slices.Equal(got, []string{imageBinary}) {
			t.Errorf("ENTRYPOINT %q, want [%q]", got, imageBinary)
		}
		if got := execForm(t, cmds[0], cmds[0].Args); !slices.Equal(got, []string{"serve"}) {
			t.Errorf("CMD %q, want [\"serve\"]", got)
		}
	})

	t.Run("copied files exist", func(t *testing.T) {
		for _, st := range sts {
			for _, in := range st.all("COPY") {
				if strings.Contains(in.Args, "--from=") {
					continue
				}
				fields := strings.Fields(in.Args)
				for _, src := range fields[:len(fields)-1] {
					if strings.HasPrefix(src, "--") || src == "." {
						continue
					}
					if _, err := os.Stat(filepath.Join("..", src)); err != nil {
						t.Errorf("line %d: COPY source %s: %v", in.Line, src, err)
					}
				}
			}
		}
	})
}

func argsOf(ins []instruction) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Args)
	}
	return out
}

// TestTimezoneDataEmbedded checks that the binary carries its own timezone
// database, since the runtime image has none for Go to rely on.
func TestTimezoneDataEmbedded(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/missionbot/missionbot/cmd/missionbot").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if !slices.Contains(strings.Fields(string(out)), "time/tzdata") {
		t.Error("cmd/missionbot does not import time/tzdata: community timezones would fail in the distroless image")
	}
}

func TestParseDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "# c\nARG X=1\nFROM --platform=$P a:1 AS Build\nRUN a \\\n  # inner\n  b \\\n  c\n\nFROM b\nUSER 1:1\n")
	sts := stages(t, ins)
	if len(sts) != 2 || sts[0].Name != "build" || sts[0].From != "a:1" || !slices.Equal(sts[0].Flags, []string{"--platform=$P"}) {
		t.Fatalf("stages = %+v", sts)
	}
	if run := sts[0].all("RUN"); len(run) != 1 || run[0].Args != "a b c" || run[0].Line != 4 {
		t.Errorf("RUN = %+v, want one joined instruction at line 4", run)
	}
}
