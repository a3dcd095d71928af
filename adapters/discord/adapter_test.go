package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/internal/app"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

const (
	testApp     = "800000000000000001"
	testGuild   = "810000000000000001"
	testChannel = "820000000000000001"
	testToken   = "test-bot-token-not-secret"
	olive       = "830000000000000001" // organiser: Manage Server
	alice       = "830000000000000002"
	bob         = "830000000000000003"
)

// env is one Discord application wired to a real engine over a real store,
// with Discord's REST API played by fakediscord and Discord's side of the
// HTTP endpoint played by the test (signing with a generated key).
type env struct {
	t        testing.TB
	store    *storage.Store
	fake     *fakediscord.Server
	a        *Adapter
	mux      *http.ServeMux
	priv     ed25519.PrivateKey
	clock    *bot.ManualClock
	engine   *bot.Engine
	gate     *gateCoord
	rejected *reasons
	logs     *lockedBuffer
	n        atomic.Int64
}

type reasons struct {
	mu sync.Mutex
	rs []string
}

func (r *reasons) add(s string) { r.mu.Lock(); r.rs = append(r.rs, s); r.mu.Unlock() }
func (r *reasons) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.rs...)
}

// gateCoord holds the engine at its first step (delivery dedup) until the
// test opens the gate: a slow engine without sleeping.
type gateCoord struct {
	bot.Coordinator
	mu   sync.Mutex
	gate chan struct{}
}

func (g *gateCoord) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
}

func (g *gateCoord) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = make(chan struct{})
}

func (g *gateCoord) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return g.Coordinator.FirstSeen(ctx, key, ttl)
}

type envOption func(*Config)

func withAck(d time.Duration) envOption { return func(c *Config) { c.AckWithin = d } }

func newEnv(t testing.TB, driver string, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, testdb.Open(t, driver), opts...)
}

func newEnvOn(t testing.TB, s *storage.Store, opts ...envOption) *env {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{b: &bytes.Buffer{}}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := bot.NewManualClock(time.Now())
	fake := fakediscord.New(t)
	fake.SetGuild(&discordgo.Guild{ID: testGuild, Name: "Green Streets", OwnerID: olive})
	engine := app.Engine(s, clock, log)
	coord := memory.New(memory.Options{})
	t.Cleanup(func() { _ = coord.Close() })
	gate := &gateCoord{Coordinator: coord}
	engine.UseCoordination(gate, s, bot.Rate{})
	cfg := Config{BotToken: testToken, ApplicationID: testApp, PublicKey: hex.EncodeToString(pub), Mode: ModeHTTP, AckWithin: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	rej := &reasons{}
	a, err := New(cfg, Deps{Engine: engine, Coord: coord, Clock: clock, Log: log, Rejected: rej.add, State: s, HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Routes(func(p string, h http.Handler) { mux.Handle(p, h) })
	e := &env{t: t, store: s, fake: fake, a: a, mux: mux, priv: priv, clock: clock, engine: engine, gate: gate, rejected: rej, logs: logs}
	t.Cleanup(a.inflight.Wait)
	return e
}

// member describes who acts.
type member struct {
	id, name string
	perms    int64
}

var (
	oliveM = member{olive, "olive", discordgo.PermissionManageGuild}
	aliceM = member{alice, "alice", 0}
	bobM   = member{bob, "bob", 0}
)

// interaction builds an interaction payload as Discord sends it.
func (e *env) interaction(typ discordgo.InteractionType, who member, data any) (id string, body []byte) {
	id = strconv.FormatInt(1_300_000_000_000_000_000+e.n.Add(1), 10)
	m := map[string]any{
		"id": id, "application_id": testApp, "type": int(typ), "token": "tok-" + id, "version": 1,
		"guild_id": testGuild, "channel_id": testChannel, "locale": "en-GB",
		"member": map[string]any{
			"user":        map[string]any{"id": who.id, "username": who.name, "global_name": strings.ToUpper(who.name[:1]) + who.name[1:], "discriminator": "0"},
			"nick":        nil,
			"roles":       []string{},
			"joined_at":   "2026-01-01T10:00:00.000000+00:00",
			"permissions": strconv.FormatInt(who.perms, 10),
		},
		"data": data,
	}
	b, err := json.Marshal(m)
	if err != nil {
		e.t.Fatal(err)
	}
	return id, b
}

// opt builds a command option; sub wraps options in a subcommand.
func opt(name string, typ discordgo.ApplicationCommandOptionType, v any) map[string]any {
	return map[string]any{"name": name, "type": int(typ), "value": v}
}

func str(name string, v any) map[string]any {
	return opt(name, discordgo.ApplicationCommandOptionString, v)
}

func sub(name string, opts ...map[string]any) map[string]any {
	return map[string]any{"name": name, "type": int(discordgo.ApplicationCommandOptionSubCommand), "options": opts}
}

func command(name string, opts ...map[string]any) map[string]any {
	if opts == nil {
		opts = []map[string]any{}
	}
	return map[string]any{"id": "840000000000000001", "name": name, "type": 1, "options": opts}
}

// response is what Discord received back on the HTTP endpoint.
type response struct {
	Status int
	Type   int
	Data   struct {
		Content    string                    `json:"content"`
		Flags      int                       `json:"flags"`
		Embeds     []*discordgo.MessageEmbed `json:"embeds"`
		Components []json.RawMessage         `json:"components"`
		CustomID   string                    `json:"custom_id"`
		Title      string                    `json:"title"`
		Choices    []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"choices"`
	}
	Raw []byte
}

// text is everything the response shows, flattened for assertions.
func (r response) text() string {
	var b strings.Builder
	b.WriteString(r.Data.Content)
	for _, em := range r.Data.Embeds {
		b.WriteString("\n" + em.Title + "\n" + em.Description)
		for _, f := range em.Fields {
			b.WriteString("\n" + f.Name + ": " + f.Value)
		}
	}
	return b.String()
}

func (r response) private() bool { return r.Data.Flags&int(discordgo.MessageFlagsEphemeral) != 0 }

// sign returns the headers Discord sends with body at ts.
func (e *env) sign(body []byte, ts time.Time) http.Header {
	s := strconv.FormatInt(ts.Unix(), 10)
	h := http.Header{}
	h.Set("X-Signature-Timestamp", s)
	h.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(e.priv, append([]byte(s), body...))))
	h.Set("Content-Type", "application/json")
	return h
}

// post sends body to the endpoint with headers h, as Discord would, and then
// records the interaction's original response on the fake (Discord turns a
// type 4/5 HTTP answer into the message that @original edits address).
func (e *env) post(body []byte, h http.Header) response {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/discord/interactions", bytes.NewReader(body))
	req.Header = h
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	r := response{Status: rec.Code, Raw: rec.Body.Bytes()}
	if rec.Code == http.StatusOK {
		var v struct {
			Type int             `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(r.Raw, &v); err != nil {
			e.t.Fatalf("response %q: %v", r.Raw, err)
		}
		r.Type = v.Type
		if len(v.Data) > 0 {
			if err := json.Unmarshal(v.Data, &r.Data); err != nil {
				e.t.Fatalf("response data %q: %v", v.Data, err)
			}
		}
		if v.Type == 4 || v.Type == 5 {
			e.recordOriginal(body, r.Raw)
		}
	}
	return r
}

// send signs body now and posts it.
func (e *env) send(body []byte) response {
	e.t.Helper()
	return e.post(body, e.sign(body, e.clock.Now()))
}

// do sends an interaction and waits for everything it started.
func (e *env) do(typ discordgo.InteractionType, who member, data any) response {
	e.t.Helper()
	_, body := e.interaction(typ, who, data)
	r := e.send(body)
	e.a.inflight.Wait()
	return r
}

func (e *env) run(who member, data any) response {
	e.t.Helper()
	return e.do(discordgo.InteractionApplicationCommand, who, data)
}

func (e *env) recordOriginal(body, resp []byte) {
	var i struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	_ = json.Unmarshal(body, &i)
	req, _ := http.NewRequest(http.MethodPost, "https://discord.com/api/v10/interactions/"+i.ID+"/"+i.Token+"/callback", bytes.NewReader(resp))
	req.Header.Set("Content-Type", "application/json")
	res, err := e.fake.Client().Do(req)
	if err != nil {
		e.t.Fatalf("record original: %v", err)
	}
	_ = res.Body.Close()
}

func (e *env) count(table string) int64 {
	e.t.Helper()
	var n int64
	if err := e.store.DB().Table(table).Count(&n).Error; err != nil {
		e.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// createGoal has olive create "Plant 1000 trees" (plant-1000-trees).
func (e *env) createGoal() {
	e.t.Helper()
	r := e.run(oliveM, command("goal", sub("create", str("title", "Plant 1000 trees"), str("target", "1000"), str("unit", "trees"))))
	if !strings.Contains(r.text(), "Plant 1000 trees") {
		e.t.Fatalf("goal create answered %q", r.text())
	}
}

func mustContain(t testing.TB, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s = %q, want it to contain %q", what, got, want)
	}
}
