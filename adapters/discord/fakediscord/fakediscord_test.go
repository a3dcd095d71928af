package fakediscord_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/adapters/discord/fakediscord"
)

func session(t *testing.T, srv *fakediscord.Server) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New("Bot test-token")
	if err != nil {
		t.Fatal(err)
	}
	s.Client = srv.Client()
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	return s
}

func TestMessagesAndRateLimitHeaders(t *testing.T) {
	srv := fakediscord.New(t)
	s := session(t, srv)
	m, err := s.ChannelMessageSendComplex("100", &discordgo.MessageSend{Content: "hello", Embeds: []*discordgo.MessageEmbed{{Title: "t"}}})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == "" || m.ChannelID != "100" || m.Content != "hello" || len(m.Embeds) != 1 || m.Author.ID != fakediscord.BotUserID {
		t.Fatalf("message = %+v", m)
	}
	c := srv.Calls(fakediscord.RouteCreateMessage)
	if len(c) != 1 || c[0].Status != 200 || !strings.HasPrefix(c[0].Path, "/api/v") {
		t.Fatalf("calls = %+v", c)
	}
	if got := srv.Messages("100"); len(got) != 1 || got[0].ID != m.ID {
		t.Fatalf("messages = %+v", got)
	}
}

func TestBucketExhaustedGives429WithDiscordsBody(t *testing.T) {
	srv := fakediscord.New(t)
	srv.SetLimit(fakediscord.RouteCreateMessage, fakediscord.Limit{Requests: 1, Per: time.Hour})
	s := session(t, srv)
	if _, err := s.ChannelMessageSend("100", "one"); err != nil {
		t.Fatal(err)
	}
	// A fresh session does not know the bucket is empty, and hits the 429.
	_, err := session(t, srv).ChannelMessageSend("100", "two")
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Fatalf("second send = %v, want a rate limit error with retry_after", err)
	}
	c := srv.Calls(fakediscord.RouteCreateMessage)[1]
	if c.Status != 429 {
		t.Fatalf("status %d", c.Status)
	}
	// Another channel has its own bucket.
	if _, err := session(t, srv).ChannelMessageSend("200", "three"); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsAndValidation(t *testing.T) {
	srv := fakediscord.New(t)
	s := session(t, srv)
	srv.SetChannelError("404", 404, 10003, "Unknown Channel")
	_, err := s.ChannelMessageSend("404", "x")
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Message == nil || re.Message.Code != 10003 {
		t.Fatalf("send to unknown channel = %v", err)
	}
	_, err = s.ChannelMessageSend("100", "")
	if !errors.As(err, &re) || re.Message.Code != 50006 {
		t.Fatalf("empty message = %v, want 50006", err)
	}
	_, err = s.ChannelMessageSend("100", strings.Repeat("x", 2001))
	if !errors.As(err, &re) || re.Message.Code != 50035 {
		t.Fatalf("2001-character message = %v, want 50035", err)
	}
	srv.FailNext(fakediscord.RouteCreateMessage, 500, 0, "500: Internal Server Error")
	if _, err = s.ChannelMessageSend("100", "x"); !errors.As(err, &re) || re.Response.StatusCode != 500 {
		t.Fatalf("injected 500 = %v", err)
	}
	s2, _ := discordgo.New("")
	s2.Client = srv.Client()
	if _, err := s2.ChannelMessageSend("100", "x"); err == nil {
		t.Fatal("a request without a bot token was accepted")
	}
}

func TestNonceIsEnforcedInsideTheWindow(t *testing.T) {
	srv := fakediscord.New(t)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	srv.Now = func() time.Time { return now }
	s := session(t, srv)
	body := map[string]any{"content": "digest", "nonce": "mbo-1", "enforce_nonce": true}
	send := func() string {
		t.Helper()
		raw, err := s.RequestWithBucketID("POST", discordgo.EndpointChannelMessages("100"), body, discordgo.EndpointChannelMessages("100"))
		if err != nil {
			t.Fatal(err)
		}
		var m discordgo.Message
		if err := discordgo.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	first := send()
	now = now.Add(time.Minute)
	if again := send(); again != first || len(srv.Messages("100")) != 1 {
		t.Fatalf("resend inside the window made %s (first %s); channel holds %d", again, first, len(srv.Messages("100")))
	}
	now = now.Add(fakediscord.DefaultNonceWindow)
	if late := send(); late == first || len(srv.Messages("100")) != 2 {
		t.Fatalf("resend past the window returned the first message; Discord would post again")
	}
	body["nonce"] = strings.Repeat("n", 26)
	if _, err := s.RequestWithBucketID("POST", discordgo.EndpointChannelMessages("100"), body, ""); err == nil {
		t.Fatal("a 26-character nonce was accepted")
	}
}

func TestDMAndInteractions(t *testing.T) {
	srv := fakediscord.New(t)
	s := session(t, srv)
	ch, err := s.UserChannelCreate("555")
	if err != nil || ch.ID != srv.DMChannel("555") {
		t.Fatalf("DM channel = %+v, %v", ch, err)
	}
	i := &discordgo.Interaction{ID: "1", AppID: "800", Token: "tok"}
	if err := s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}}); err != nil {
		t.Fatal(err)
	}
	err = s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource})
	var re *discordgo.RESTError
	if !errors.As(err, &re) || re.Message.Code != 40060 {
		t.Fatalf("second response = %v, want 40060 already acknowledged", err)
	}
	content := "done"
	if _, err := s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &content}); err != nil {
		t.Fatal(err)
	}
	if o, ok := srv.Original("tok"); !ok || o.Msg.Content != "done" {
		t.Fatalf("original = %+v", o)
	}
	f, err := s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: "your export", Flags: discordgo.MessageFlagsEphemeral,
		Files: []*discordgo.File{{Name: "impact.csv", ContentType: "text/csv", Reader: bytes.NewReader([]byte("a,b\n"))}}})
	if err != nil {
		t.Fatal(err)
	}
	fs := srv.Followups("tok")
	if len(fs) != 1 || fs[0].ID != f.ID || len(fs[0].Files) != 1 || string(fs[0].Files[0].Data) != "a,b\n" {
		t.Fatalf("followups = %+v", fs)
	}
	if c := srv.Calls(fakediscord.RouteCallback); len(c) != 2 || c[0].Status != http.StatusNoContent {
		t.Fatalf("callback calls = %+v", c)
	}
}

func TestCommandsAreValidated(t *testing.T) {
	srv := fakediscord.New(t)
	s := session(t, srv)
	bad := []*discordgo.ApplicationCommand{{Name: "Pledge", Description: "x", Options: []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionString, Name: "a", Description: "a"},
		{Type: discordgo.ApplicationCommandOptionString, Name: "b", Description: "b", Required: true},
	}}}
	if p := fakediscord.CheckCommands(bad); len(p) != 2 {
		t.Fatalf("problems = %v, want the uppercase name and the required option after an optional one", p)
	}
	if _, err := s.ApplicationCommandBulkOverwrite("800", "", bad); err == nil {
		t.Fatal("invalid commands accepted")
	}
	good := []*discordgo.ApplicationCommand{{Name: "pledge", Description: "Commit"}}
	if _, err := s.ApplicationCommandBulkOverwrite("800", "900", good); err != nil {
		t.Fatal(err)
	}
	if got := srv.Commands("800", "900"); len(got) != 1 || got[0].ID == "" {
		t.Fatalf("commands = %+v", got)
	}
}
