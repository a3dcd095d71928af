package discord

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/coordination/memory"
	"github.com/missionbot/missionbot/internal/testdb"
)

// modalInput is the first text input of a modal response.
func modalInput(t *testing.T, r response) (label, placeholder string) {
	t.Helper()
	if len(r.Data.Components) == 0 {
		t.Fatalf("modal without components: %s", r.Raw)
	}
	var row struct {
		Components []struct {
			Label       string `json:"label"`
			Placeholder string `json:"placeholder"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.Data.Components[0], &row); err != nil || len(row.Components) == 0 {
		t.Fatalf("modal row %s: %v", r.Data.Components[0], err)
	}
	return row.Components[0].Label, row.Components[0].Placeholder
}

// pressWithMessage presses customID on a message that shows it with label,
// as Discord sends a component interaction.
func (e *env) pressWithMessage(who member, customID, label string) response {
	e.t.Helper()
	_, body := e.interaction(discordgo.InteractionMessageComponent, who, click(customID))
	var withMessage map[string]any
	_ = json.Unmarshal(body, &withMessage)
	withMessage["message"] = map[string]any{"id": "850000000000000001", "channel_id": testChannel, "content": "",
		"components": []any{map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 1, "label": label, "custom_id": customID}}}}}
	body, _ = json.Marshal(withMessage)
	r := e.send(body)
	e.a.inflight.Wait()
	return r
}

// The core's Pledge button asks "How much will you pledge?" with an example
// amount in the goal's unit; the modal Discord shows must ask the same, not
// just repeat the button's label.
func TestPledgeModalAsksTheCoresQuestion(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.createGoal()
	show := e.run(aliceM, command("goal", sub("show", str("goal", "plant-1000-trees"))))
	pledge := buttons(t, show.Data.Components)["Pledge"]
	modal := e.pressWithMessage(aliceM, pledge, "Pledge")
	if modal.Type != 9 {
		t.Fatalf("press answered type %d, want a modal", modal.Type)
	}
	label, placeholder := modalInput(t, modal)
	if label != "How much will you pledge?" || !strings.Contains(placeholder, "10 trees") {
		t.Fatalf("modal asks %q (placeholder %q), want the core's question and an example in trees", label, placeholder)
	}
	// A button whose input was never rendered here (another replica's cache
	// lost, an old message) still opens a modal named after the button.
	modal = e.pressWithMessage(aliceM, InputPrefix+"pledge {input} to #99", "Give")
	if label, _ := modalInput(t, modal); modal.Type != 9 || label != "Give" {
		t.Fatalf("unknown input button answered type %d label %q, want a modal labelled Give", modal.Type, label)
	}
}

// failInteractions fails every request to an interaction endpoint (callback,
// @original, follow-ups) as a reset connection would.
type failInteractions struct{ next http.RoundTripper }

func (f failInteractions) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, "/interactions/") || strings.Contains(r.URL.Path, "/webhooks/") {
		return nil, errors.New("connection reset by peer")
	}
	return f.next.RoundTrip(r)
}

// An interaction token lets anyone answer as the bot for 15 minutes: like
// the bot token it must never reach the logs, even when the request that
// carried it in its URL fails.
func TestInteractionTokensNeverReachTheLogs(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *Config) { c.Mode = ModeGateway })
	e.createGoal()
	e.a.session.Client = &http.Client{Transport: failInteractions{next: e.fake.Client().Transport}}
	fast, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM, command("missionbot", sub("help")))
	e.gatewayInteraction(body)

	e.a.ackWithin = time.Millisecond
	e.gate.hold()
	slow, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM,
		command("pledge", sub("add", str("amount", "10"), str("goal", "plant-1000-trees"))))
	var ic discordgo.InteractionCreate
	if err := json.Unmarshal(body, &ic); err != nil {
		t.Fatal(err)
	}
	e.a.onInteraction(context.Background(), &ic)
	e.gate.close()
	e.a.inflight.Wait()

	logs := e.logs.String()
	if !strings.Contains(logs, "failed") {
		t.Fatalf("the failed responses were not logged:\n%s", logs)
	}
	for _, id := range []string{fast, slow} {
		if strings.Contains(logs, "tok-"+id) {
			t.Fatalf("interaction token tok-%s in the logs:\n%s", id, logs)
		}
	}
}

// bucketKeys lists discordgo's rate-limit buckets of the adapter's session.
func bucketKeys(a *Adapter) []string {
	m := reflect.ValueOf(a.session.Ratelimiter).Elem().FieldByName("buckets")
	var out []string
	for _, k := range m.MapKeys() {
		out = append(out, k.String())
	}
	return out
}

// discordgo keeps a rate-limit bucket per key forever and holds a bucket's
// lock for the whole request. Interaction endpoints carry a fresh token in
// their path, so through discordgo every interaction would leave a bucket
// behind (unbounded memory on a long-running bot) or, keyed on a shared
// bucket, wait for every other interaction's request (missing 3 s).
func TestInteractionsLeaveNoRateLimitBuckets(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *Config) { c.Mode = ModeGateway })
	e.createGoal()
	for range 3 {
		_, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM, command("missionbot", sub("help")))
		e.gatewayInteraction(body)
	}
	e.a.ackWithin = time.Millisecond
	e.gate.hold()
	_, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM,
		command("pledge", sub("add", str("amount", "10"), str("goal", "plant-1000-trees"))))
	var ic discordgo.InteractionCreate
	_ = json.Unmarshal(body, &ic)
	e.a.onInteraction(context.Background(), &ic)
	e.gate.close()
	e.a.inflight.Wait()
	if n := len(e.fake.Calls(fakediscord.RouteEditOriginal)); n != 1 {
		t.Fatalf("@original edited %d times, want 1", n)
	}
	for _, k := range bucketKeys(e.a) {
		if strings.Contains(k, "/interactions/") || strings.Contains(k, "/webhooks/") {
			t.Fatalf("rate-limit bucket %q kept for an interaction endpoint", k)
		}
	}
}

// A public post an interaction produced is not lost to a Discord hiccup: a
// 5xx (whether or not the message landed) or a run of 429s still ends with
// the win in the channel exactly once.
func TestPublicPostOfAnInteractionSurvivesDiscordHiccups(t *testing.T) {
	for _, c := range []struct {
		name   string
		faults []fakediscord.Fault
	}{
		{"500 before posting", []fakediscord.Fault{{Status: 500}}},
		{"500 after posting", []fakediscord.Fault{{Status: 500, AfterEffect: true}}},
		{"timeout after posting", []fakediscord.Fault{{Status: 502, AfterEffect: true}, {Status: 503, AfterEffect: true}}},
		{"four 429s", []fakediscord.Fault{{Status: 429, RetryAfter: 0.01}, {Status: 429, RetryAfter: 0.01}, {Status: 429, RetryAfter: 0.01}, {Status: 429, RetryAfter: 0.01}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "sqlite")
			for _, f := range c.faults {
				e.fake.Inject(fakediscord.RouteCreateMessage, f)
			}
			r := e.run(aliceM, command("win", str("text", "The council approved our bike lane!")))
			mustContain(t, "note", r.text(), "Your win is posted")
			if got := e.fake.Messages(testChannel); len(got) != 1 || !strings.Contains(messageText(got[0].Msg), "bike lane") {
				t.Fatalf("%d messages in the channel, want the win once\nlogs:\n%s", len(got), e.logs.String())
			}
		})
	}
}

// Editing @original is idempotent: a 5xx on the edit that completes a
// deferred answer is retried, so the member is not left with "thinking…".
func TestDeferredAnswerSurvivesA5xxOnTheEdit(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.createGoal()
	e.a.ackWithin = time.Millisecond
	e.gate.hold()
	e.fake.FailNext(fakediscord.RouteEditOriginal, http.StatusInternalServerError, 0, "Internal Server Error")
	id, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM,
		command("pledge", sub("add", str("amount", "10"), str("goal", "plant-1000-trees"))))
	if r := e.send(body); r.Type != 5 {
		t.Fatalf("answered %d, want deferred", r.Type)
	}
	e.gate.close()
	e.a.inflight.Wait()
	orig, _ := e.fake.Original("tok-" + id)
	mustContain(t, "edited original", messageText(orig.Msg), "10 trees")
}

// A 429 on the guild look-up must not hold the interaction: discordgo would
// sleep out retry_after, ignoring every deadline, and the answer would be
// deferred (or, over the gateway, late).
func TestGuildLookupRateLimitDoesNotHoldTheAnswer(t *testing.T) {
	e := newEnv(t, "sqlite", withAck(3*time.Second))
	e.fake.RateLimitNext(fakediscord.RouteGetGuild, 6)
	r := e.run(aliceM, command("missionbot", sub("help")))
	if r.Type != 4 {
		t.Fatalf("answered type %d, want the help at once (4)", r.Type)
	}
}

// A send Discord never answers ends as an unknown outcome after the
// Poster's own timeout, even when the caller's context has no deadline and
// the HTTP client none either (a client built for a local API URL).
func TestPostThatDiscordNeverAnswersIsUncertain(t *testing.T) {
	e := newPosterEnv(t)
	e.p.SendTimeout = 50 * time.Millisecond
	e.srv.Inject(fakediscord.RouteCreateMessage, fakediscord.Fault{Hang: true, AfterEffect: true})
	done := make(chan error, 1)
	go func() {
		_, err := e.p.Post(context.Background(), guild, public("100"), "mbo-12")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, bot.ErrUncertain) {
			t.Fatalf("Post = %v, want ErrUncertain", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Post is still waiting for an answer that never comes")
	}
}

// The core's text is plain: what members type must show as typed, not as
// Discord markdown. A masked link in a win would otherwise put a phishing
// link under the bot's name, "# " a banner-sized heading, and snake_case
// would lose its underscores — while the core's mentions and bare links
// keep working.
func TestMemberTextIsShownAsTypedNotAsMarkdown(t *testing.T) {
	typed := "[Verify your account](https://evil.example/login) for snake_case_names **now** ~~x~~ `y` ||z||"
	for name, m := range map[string]bot.Message{
		"content":     {Text: typed},
		"description": {Title: "Win", Text: typed},
		"item":        {Title: "Wins", Items: []string{typed}},
		"field":       {Title: "Win", Fields: []bot.Field{{Label: "What", Value: typed}}},
	} {
		t.Run(name, func(t *testing.T) {
			r := render(m)
			got := r.Content
			for _, e := range r.Embeds {
				got += e.Description
				for _, f := range e.Fields {
					got += f.Value
				}
			}
			for _, raw := range []string{"[Verify your account](", "snake_case", "**now**", "~~x~~", "`y`", "||z||"} {
				if strings.Contains(got, raw) {
					t.Errorf("%q left as markdown in %q", raw, got)
				}
			}
			if !strings.Contains(got, `\[Verify your account\]`) || !strings.Contains(got, "https://evil.example/login") {
				t.Errorf("rendered %q, want the brackets escaped and the address shown as is", got)
			}
		})
	}
	if got := Content(bot.Message{Text: "# Huge\n> quoted\n- listed, thanks <@123|sam_x> see https://x.example/a_b_c"}); got != `\# Huge`+"\n"+`\> quoted`+"\n"+`\- listed, thanks <@123> see https://x.example/a_b_c` {
		t.Errorf("line starts, mention and link rendered %q", got)
	}
}

// Over HTTP, an export is answered with a deferred response and the file is
// attached by editing @original at once; the edit can reach Discord before
// Discord has made the deferred response the interaction's message (404
// Unknown Message). The edit is tried again, so the export still arrives.
func TestExportOverHTTPSurvivesAnEditThatOvertakesTheResponse(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.createGoal()
	e.run(aliceM, command("log", sub("add", str("amount", "5"), str("goal", "plant-1000-trees"))))
	e.fake.FailNext(fakediscord.RouteEditOriginal, http.StatusNotFound, 10008, "Unknown Message")
	id, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM, command("myimpact", sub("export")))
	if r := e.send(body); r.Type != 5 || !r.private() {
		t.Fatalf("export answered type %d flags %d, want a private deferred response", r.Type, r.Data.Flags)
	}
	e.a.inflight.Wait()
	orig, _ := e.fake.Original("tok-" + id)
	if len(orig.Files) != 1 || orig.Files[0].Name != "missionbot-my-data.json" {
		t.Fatalf("original has %d files, want the export attached", len(orig.Files))
	}
}

var unescape = regexp.MustCompile(`\\([\\*_~` + "`" + `|\[\]#>\-])`)

// FuzzEscapeMarkdown checks that escaping only adds backslashes Discord
// hides: taking them away gives back exactly what was typed.
func FuzzEscapeMarkdown(f *testing.F) {
	for _, s := range []string{"# a\n> b\n- c\n-# d", `a\b*c_d~e` + "`f`" + `|g[h]`, "snake_case", "[x](y)", "  # indented", ">>> quote", "#1 goal", "-5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.Contains(s, "<") || strings.Contains(s, "http") || !utf8.ValidString(s) {
			t.Skip("mentions and links are left as they are; Discord takes only UTF-8")
		}
		e := escapeMarkdown(s)
		if got := unescape.ReplaceAllString(e, "$1"); got != s {
			t.Fatalf("escapeMarkdown(%q) = %q, which reads back as %q", s, e, got)
		}
		for _, raw := range []string{"**", "__", "~~", "||", "](", "``"} {
			if strings.Contains(strings.ReplaceAll(e, `\`+raw[:1], ""), raw) {
				t.Fatalf("escapeMarkdown(%q) = %q still has %q", s, e, raw)
			}
		}
	})
}

// Several private messages share one response when they fit; Discord
// refuses a whole message whose buttons repeat a custom_id, so two messages
// with the same button never share one.
func TestMessagesSharingAResponseNeverRepeatAButton(t *testing.T) {
	join := bot.Button{Label: "Join", Action: "cmd:volunteer join park-cleanup"}
	p := &plan{private: []bot.Message{
		{Title: "Park cleanup", Text: "Sat 10:00", Buttons: []bot.Button{join}},
		{Title: "Park cleanup (again)", Text: "Sat 10:00", Buttons: []bot.Button{join}},
	}}
	resp := p.initial()
	body, err := json.Marshal(resp.Data)
	if err != nil {
		t.Fatal(err)
	}
	if problems := fakediscord.CheckMessage(body, 0); len(problems) > 0 {
		t.Fatalf("Discord would refuse the response: %v", problems)
	}
	if len(p.private) != 1 {
		t.Fatalf("%d messages left for a follow-up, want the second one", len(p.private))
	}
}

// A registration Discord never answers ends with an error (the next start
// registers), rather than holding Run's start-up and the lease for ever.
func TestRegistrationThatDiscordNeverAnswersEnds(t *testing.T) {
	srv := fakediscord.New(t)
	srv.Inject(fakediscord.RouteGlobalCommands, fakediscord.Fault{Hang: true})
	r := NewRegistrar(fakeSession(t, srv, "Bot test-token"), testAppID, "", testdb.Open(t, "sqlite"), memory.New(memory.Options{}),
		bot.NewManualClock(time.Now()), quietLog())
	r.Timeout = 50 * time.Millisecond
	done := make(chan error, 1)
	go func() {
		_, err := r.Ensure(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Ensure succeeded without an answer")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ensure is still waiting for an answer that never comes")
	}
}
