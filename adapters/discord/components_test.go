package discord

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

// buttons lists the (label, custom_id) of every button in rows.
func buttons(t testing.TB, rows []json.RawMessage) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, raw := range rows {
		var row struct {
			Components []struct {
				Label    string `json:"label"`
				CustomID string `json:"custom_id"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &row); err != nil {
			t.Fatalf("row %s: %v", raw, err)
		}
		for _, b := range row.Components {
			out[b.Label] = b.CustomID
		}
	}
	return out
}

// messageButtons is buttons for a message the fake holds.
func messageButtons(m *discordgo.Message) map[string]string {
	out := map[string]string{}
	var walk func(cs []discordgo.MessageComponent)
	walk = func(cs []discordgo.MessageComponent) {
		for _, c := range cs {
			switch c := c.(type) {
			case *discordgo.ActionsRow:
				walk(c.Components)
			case *discordgo.Button:
				out[c.Label] = c.CustomID
			}
		}
	}
	if m != nil {
		walk(m.Components)
	}
	return out
}

func click(customID string) map[string]any {
	return map[string]any{"custom_id": customID, "component_type": 2}
}

func TestJoinButtonPressedTwiceSignsUpOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnvOn(t, s)
		r := e.run(oliveM, command("volunteer", sub("create", str("title", "Park cleanup"), str("when", "2030-12-05 10:00"),
			str("duration", "2h"), opt("slots", discordgo.ApplicationCommandOptionInteger, 12))))
		join := buttons(t, r.Data.Components)["Join"]
		for _, m := range e.fake.Messages(testChannel) {
			if id := messageButtons(m.Msg)["Join"]; id != "" {
				join = id
			}
		}
		if join == "" {
			t.Fatalf("no Join button after /volunteer create (reply %q, channel %d messages)", r.text(), len(e.fake.Messages(testChannel)))
		}
		first := e.do(discordgo.InteractionMessageComponent, aliceM, click(join))
		second := e.do(discordgo.InteractionMessageComponent, aliceM, click(join))
		if !first.private() || !second.private() {
			t.Fatalf("flags %d and %d, want private answers", first.Data.Flags, second.Data.Flags)
		}
		if n := e.count("signups"); n != 1 {
			t.Fatalf("%d signups after two presses, want 1 (answers %q, %q)", n, first.text(), second.text())
		}
		if first.text() == second.text() {
			t.Fatalf("both presses answered %q; the second should say alice is already signed up", first.text())
		}
	})
}

func TestPledgeButtonOpensModalAndSubmitPledges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		e := newEnvOn(t, s)
		e.createGoal()
		show := e.run(aliceM, command("goal", sub("show", str("goal", "plant-1000-trees"))))
		pledge := buttons(t, show.Data.Components)["Pledge"]
		if !strings.HasPrefix(pledge, InputPrefix) {
			t.Fatalf("Pledge button id %q, want an input button (%s…)", pledge, InputPrefix)
		}
		_, body := e.interaction(discordgo.InteractionMessageComponent, aliceM, click(pledge))
		var withMessage map[string]any
		_ = json.Unmarshal(body, &withMessage)
		withMessage["message"] = map[string]any{"id": "850000000000000001", "channel_id": testChannel, "content": "",
			"components": []any{map[string]any{"type": 1, "components": []any{map[string]any{"type": 2, "style": 1, "label": "Pledge", "custom_id": pledge}}}}}
		body, _ = json.Marshal(withMessage)
		modal := e.send(body)
		e.a.inflight.Wait()
		if modal.Type != 9 || modal.Data.CustomID != pledge || modal.Data.Title == "" {
			t.Fatalf("press answered type %d custom_id %q title %q, want the modal (9) for %q", modal.Type, modal.Data.CustomID, modal.Data.Title, pledge)
		}
		if n := e.count("pledges"); n != 0 {
			t.Fatalf("opening the modal stored %d pledges", n)
		}
		submit := map[string]any{"custom_id": modal.Data.CustomID, "components": []any{
			map[string]any{"type": 1, "components": []any{map[string]any{"type": 4, "custom_id": InputFieldID, "value": "5 trees"}}}}}
		r := e.do(discordgo.InteractionModalSubmit, aliceM, submit)
		if r.Type != 4 || !r.private() {
			t.Fatalf("submit answered type %d flags %d, want a private message", r.Type, r.Data.Flags)
		}
		mustContain(t, "submit reply", r.text(), "5 trees")
		if n := e.count("pledges"); n != 1 {
			t.Fatalf("%d pledges stored, want 1", n)
		}
	})
}

func TestStaleButtonGetsPolitePrivateReply(t *testing.T) {
	e := newEnv(t, "sqlite")
	for _, id := range []string{"retired.action:12", "", "input|"} {
		r := e.do(discordgo.InteractionMessageComponent, aliceM, click(id))
		if id == "input|" {
			// An input button whose action is gone still opens a modal; its
			// submit is what meets the engine.
			if r.Type != 9 {
				t.Fatalf("%q answered type %d, want a modal", id, r.Type)
			}
			submit := map[string]any{"custom_id": id, "components": []any{}}
			r = e.do(discordgo.InteractionModalSubmit, aliceM, submit)
		}
		if r.Type != 4 || !r.private() {
			t.Fatalf("%q answered type %d flags %d, want a private message", id, r.Type, r.Data.Flags)
		}
		mustContain(t, "stale reply", r.text(), "That button no longer works")
	}
}
