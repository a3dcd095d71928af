package discord

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

func TestPingAnswersPong(t *testing.T) {
	e := newEnv(t, "sqlite")
	ping, err := os.ReadFile("../../testdata/platforms/discord/discord_ping.json")
	if err != nil {
		t.Skipf("testdata: %v", err)
	}
	want, err := os.ReadFile("../../testdata/platforms/discord/discord_pong_response.json")
	if err != nil {
		t.Skipf("testdata: %v", err)
	}
	r := e.send(ping)
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200", r.Status)
	}
	var got, exp any
	_ = json.Unmarshal(r.Raw, &got)
	_ = json.Unmarshal(want, &exp)
	if g, w := must(json.Marshal(got)), must(json.Marshal(exp)); !bytes.Equal(g, w) {
		t.Fatalf("pong = %s, want %s", g, w)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestPledgeOverHTTPIsStoredAndPrivate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnvOn(t, s)
		e.createGoal()
		r := e.run(aliceM, command("pledge", sub("add", str("amount", "10"), str("unit", "trees"), str("goal", "plant-1000-trees"))))
		if r.Type != 4 || !r.private() {
			t.Fatalf("pledge answered type %d flags %d, want 4 with the ephemeral flag", r.Type, r.Data.Flags)
		}
		mustContain(t, "pledge reply", r.text(), "10 trees")
		if n := e.count("pledges"); n != 1 {
			t.Fatalf("%d pledges stored, want 1", n)
		}
	})
}

func TestRefusedRequestsStoreNothing(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.createGoal()
	_, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM,
		command("pledge", sub("add", str("amount", "10"), str("goal", "plant-1000-trees"))))

	bad := e.sign(body, e.clock.Now())
	sig := []byte(bad.Get("X-Signature-Ed25519"))
	sig[0] ^= 1
	if sig[0] > 'f' || (sig[0] > '9' && sig[0] < 'a') {
		sig[0] = '0'
	}
	bad.Set("X-Signature-Ed25519", string(sig))
	tampered := bytes.Replace(body, []byte(`"10"`), []byte(`"99"`), 1)
	unsigned := e.sign(body, e.clock.Now())
	unsigned.Del("X-Signature-Ed25519")

	cases := []struct {
		name   string
		body   []byte
		header http.Header
		status int
		reason string
	}{
		{"bad signature", body, bad, http.StatusUnauthorized, RejectBadSig},
		{"body changed after signing", tampered, e.sign(body, e.clock.Now()), http.StatusUnauthorized, RejectBadSig},
		{"no signature", body, unsigned, http.StatusUnauthorized, RejectNoSignature},
		{"stale timestamp", body, e.sign(body, e.clock.Now().Add(-6*time.Minute)), http.StatusUnauthorized, RejectStale},
		{"timestamp from the future", body, e.sign(body, e.clock.Now().Add(6*time.Minute)), http.StatusUnauthorized, RejectStale},
		{"malformed JSON", []byte(`{"type":2,"id":`), e.sign([]byte(`{"type":2,"id":`), e.clock.Now()), http.StatusBadRequest, RejectMalformed},
		{"unknown type", []byte(`{"type":42,"id":"1","token":"x"}`), e.sign([]byte(`{"type":42,"id":"1","token":"x"}`), e.clock.Now()), http.StatusBadRequest, RejectMalformed},
		{"too large", bytes.Repeat([]byte(" "), MaxBodyBytes+1), e.sign(bytes.Repeat([]byte(" "), MaxBodyBytes+1), e.clock.Now()), http.StatusRequestEntityTooLarge, RejectTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.rejected.all())
			r := e.post(c.body, c.header)
			e.a.inflight.Wait()
			if r.Status != c.status {
				t.Fatalf("status %d, want %d", r.Status, c.status)
			}
			got := e.rejected.all()
			if len(got) != before+1 || got[len(got)-1] != c.reason {
				t.Fatalf("rejections %v, want one more: %s", got[before:], c.reason)
			}
		})
	}
	if n := e.count("pledges"); n != 0 {
		t.Fatalf("%d pledges stored from refused requests, want 0", n)
	}
	// The same body, signed properly, goes through: the refusals were about
	// the signature, not the content.
	if r := e.send(body); r.Type != 4 {
		t.Fatalf("good request answered %d", r.Type)
	}
	e.a.inflight.Wait()
	if n := e.count("pledges"); n != 1 {
		t.Fatalf("%d pledges stored, want 1", n)
	}
}

func TestUnknownCommandGetsPolitePrivateReply(t *testing.T) {
	e := newEnv(t, "sqlite")
	r := e.run(aliceM, command("frobnicate", str("x", "1")))
	if r.Type != 4 || !r.private() {
		t.Fatalf("answered type %d flags %d, want a private message", r.Type, r.Data.Flags)
	}
	mustContain(t, "reply", r.text(), "There is no /frobnicate command")
}

func TestOptionOfWrongTypeGetsClearPrivateMessage(t *testing.T) {
	e := newEnv(t, "sqlite")
	r := e.run(oliveM, command("settings", sub("kudos-per-day", opt("n", discordgo.ApplicationCommandOptionInteger, "ten"))))
	if !r.private() {
		t.Fatalf("flags %d, want private", r.Data.Flags)
	}
	mustContain(t, "reply", r.text(), `"ten" is not a whole number`)

	r = e.run(oliveM, command("organisers", sub("add", opt("member", discordgo.ApplicationCommandOptionUser, map[string]any{"id": "1"}))))
	if !r.private() {
		t.Fatalf("flags %d, want private", r.Data.Flags)
	}
	mustContain(t, "reply", r.text(), "I couldn't read <member>")

	r = e.run(aliceM, command("pledge", sub("add", str("amount", "lots"))))
	mustContain(t, "reply", r.text(), "lots")
	if n := e.count("pledges"); n != 0 {
		t.Fatalf("%d pledges stored, want 0", n)
	}
}

func TestSameInteractionTwiceHasOneEffect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnvOn(t, s)
		e.createGoal()
		_, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM,
			command("pledge", sub("add", str("amount", "10"), str("goal", "plant-1000-trees"))))
		first := e.send(body)
		e.a.inflight.Wait()
		second := e.send(body)
		e.a.inflight.Wait()
		if first.Type != 4 {
			t.Fatalf("first delivery answered %d, want 4", first.Type)
		}
		if second.Status != http.StatusOK || second.Type != 5 || second.text() != "" {
			t.Fatalf("repeat answered %d type %d %q, want a silent acknowledgement", second.Status, second.Type, second.text())
		}
		if n := e.count("pledges"); n != 1 {
			t.Fatalf("%d pledges stored, want 1", n)
		}
	})
}

func TestSlowEngineDefersThenEditsOriginal(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.createGoal()
	// From now on the engine is held at the gate, so it cannot answer
	// within even a short wait.
	e.a.ackWithin = 20 * time.Millisecond
	e.gate.hold()
	id, body := e.interaction(discordgo.InteractionApplicationCommand, aliceM,
		command("pledge", sub("add", str("amount", "10"), str("goal", "plant-1000-trees"))))
	r := e.send(body)
	if r.Type != 5 || !r.private() {
		t.Fatalf("answered type %d flags %d, want a deferred ephemeral response (5, 64)", r.Type, r.Data.Flags)
	}
	if _, ok := e.fake.Original("tok-" + id); !ok {
		t.Fatal("the deferred response was not recorded")
	}
	e.gate.close()
	e.a.inflight.Wait()
	orig, _ := e.fake.Original("tok-" + id)
	if len(e.fake.Calls(fakediscord.RouteEditOriginal)) != 1 {
		t.Fatalf("@original edited %d times, want 1", len(e.fake.Calls(fakediscord.RouteEditOriginal)))
	}
	mustContain(t, "edited original", messageText(orig.Msg), "10 trees")
	if n := e.count("pledges"); n != 1 {
		t.Fatalf("%d pledges stored, want 1", n)
	}
}

func messageText(m *discordgo.Message) string {
	if m == nil {
		return ""
	}
	out := m.Content
	for _, em := range m.Embeds {
		out += "\n" + em.Title + "\n" + em.Description
		for _, f := range em.Fields {
			out += "\n" + f.Name + ": " + f.Value
		}
	}
	return out
}

func TestAutocompleteSuggestsTheCommunitysGoals(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.createGoal()
	e.run(oliveM, command("goal", sub("create", str("title", "Food drive"), str("target", "500"), str("unit", "£"))))
	focused := str("goal", "pl")
	focused["focused"] = true
	r := e.do(discordgo.InteractionApplicationCommandAutocomplete, aliceM,
		command("pledge", sub("add", str("amount", "10"), focused)))
	if r.Type != 8 {
		t.Fatalf("answered type %d, want 8", r.Type)
	}
	var values []string
	for _, c := range r.Data.Choices {
		values = append(values, c.Value)
	}
	if !slices.Contains(values, "plant-1000-trees") || slices.Contains(values, "food-drive") {
		t.Fatalf("choices %v, want plant-1000-trees and not food-drive", values)
	}
}

func TestAutocompleteWithNothingToSuggestSendsEmptyChoices(t *testing.T) {
	e := newEnv(t, "sqlite")
	focused := str("goal", "zz")
	focused["focused"] = true
	r := e.do(discordgo.InteractionApplicationCommandAutocomplete, aliceM, command("pledge", sub("add", focused)))
	if r.Type != 8 || !bytes.Contains(r.Raw, []byte(`"choices":[]`)) {
		t.Fatalf("answered %s, want type 8 with an empty choices list", r.Raw)
	}
}

func TestWinIsPostedPubliclyAndTheAuthorToldPrivately(t *testing.T) {
	e := newEnv(t, "sqlite")
	r := e.run(aliceM, command("win", str("text", "The council approved our bike lane!")))
	if r.Type != 4 || !r.private() {
		t.Fatalf("win answered type %d flags %d, want a private note (4, ephemeral)", r.Type, r.Data.Flags)
	}
	mustContain(t, "note", r.text(), "Your win is posted")
	here := e.fake.Messages(testChannel)
	if len(here) != 1 || !strings.Contains(messageText(here[0].Msg), "bike lane") || messageButtons(here[0].Msg)["🎉"] == "" {
		t.Fatalf("%d messages in the channel, want the win with its 🎉 button", len(here))
	}

	// With a celebrations channel elsewhere the win goes there.
	const wins = "820000000000000099"
	e.run(oliveM, command("settings", sub("celebrations-channel", opt("channel", discordgo.ApplicationCommandOptionChannel, wins))))
	r = e.run(aliceM, command("win", str("text", "Second win")))
	if !r.private() {
		t.Fatalf("flags %d, want a private note to the author", r.Data.Flags)
	}
	posted := e.fake.Messages(wins)
	if len(posted) != 1 || !strings.Contains(messageText(posted[0].Msg), "Second win") {
		t.Fatalf("%d messages in the celebrations channel, want the win", len(posted))
	}
	if len(e.fake.Messages(testChannel)) != 1 {
		t.Fatal("the second win was also posted in the command's channel")
	}
}
