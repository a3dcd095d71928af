package fakeslack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func client(s *Server, token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(s.URL()), slack.OptionHTTPClient(s.Client()))
}

func TestTokens(t *testing.T) {
	s := New(t)
	if _, err := client(s, Token).AuthTestContext(t.Context()); err != nil {
		t.Fatalf("auth.test with the bot token: %v", err)
	}
	for _, tc := range []struct{ token, want string }{{"", "not_authed"}, {"xoxb-wrong", "invalid_auth"}} {
		token, want := tc.token, tc.want
		_, _, err := client(s, token).PostMessageContext(t.Context(), "C1", slack.MsgOptionText("hi", false))
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != want {
			t.Errorf("token %q: err = %v, want %s", token, err, want)
		}
	}
	if len(s.Messages("C1")) != 0 {
		t.Error("a post without a valid token landed")
	}
	calls := s.Calls("chat.postMessage")
	if len(calls) != 2 || calls[1].Error != "invalid_auth" || calls[1].Status != http.StatusOK {
		t.Errorf("calls = %+v", calls)
	}
}

func TestFailuresHaveSlackShapes(t *testing.T) {
	s := New(t)
	api := client(s, Token)
	s.Fail("chat.postMessage", Failure{Status: http.StatusTooManyRequests, RetryAfter: 7}, Failure{Error: "ratelimited"}, Failure{Status: http.StatusBadGateway})
	_, _, err := api.PostMessageContext(t.Context(), "C1", slack.MsgOptionText("1", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Errorf("429: err = %v, want slack.RateLimitedError of 7s", err)
	}
	_, _, err = api.PostMessageContext(t.Context(), "C1", slack.MsgOptionText("2", false))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "ratelimited" {
		t.Errorf("200 ratelimited: err = %v", err)
	}
	_, _, err = api.PostMessageContext(t.Context(), "C1", slack.MsgOptionText("3", false))
	var sc slack.StatusCodeError
	if !errors.As(err, &sc) || sc.Code != http.StatusBadGateway {
		t.Errorf("502: err = %v", err)
	}
	if _, _, err := api.PostMessageContext(t.Context(), "C1", slack.MsgOptionText("4", false)); err != nil {
		t.Errorf("after the queued failures: %v", err)
	}
	if n := len(s.Messages("C1")); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestChannelRateAnswers429(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := New(t)
	s.SetNow(func() time.Time { return now })
	s.LimitChannels(Rate{Events: 1, Per: time.Second, Burst: 3})
	api := client(s, Token)
	var limited int
	for range 5 {
		_, _, err := api.PostMessageContext(t.Context(), "C1", slack.MsgOptionText("x", false))
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			limited++
		}
	}
	if limited != 2 || s.Violations() != 2 || len(s.Messages("C1")) != 3 {
		t.Errorf("limited %d, violations %d, messages %d; want 2, 2, 3", limited, s.Violations(), len(s.Messages("C1")))
	}
	if _, _, err := api.PostMessageContext(t.Context(), "C2", slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("another channel has its own limit: %v", err)
	}
}

func TestHistoryShowsMetadataOnlyWhenAsked(t *testing.T) {
	s := New(t)
	api := client(s, Token)
	meta := slack.SlackMetadata{EventType: "missionbot_post", EventPayload: map[string]any{"key": "k1"}}
	for _, text := range []string{"first", "second"} {
		if _, _, err := api.PostMessageContext(t.Context(), "C1", slack.MsgOptionText(text, false), slack.MsgOptionMetadata(meta)); err != nil {
			t.Fatal(err)
		}
	}
	for _, all := range []bool{false, true} {
		h, err := api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{ChannelID: "C1", Limit: 1, IncludeAllMetadata: all})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Messages) != 1 || h.Messages[0].Text != "second" || !h.HasMore {
			t.Fatalf("history = %+v, want the newest message and more", h.Messages)
		}
		if got := h.Messages[0].Metadata.EventType; (got == "missionbot_post") != all {
			t.Errorf("include_all_metadata=%v: metadata %q", all, got)
		}
	}
}

func TestInvalidBlocksRefused(t *testing.T) {
	s := New(t)
	long := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", 3001), false, false), nil, nil)
	_, _, err := client(s, Token).PostMessageContext(t.Context(), "C1", slack.MsgOptionBlocks(long))
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "invalid_blocks" {
		t.Errorf("err = %v, want invalid_blocks", err)
	}
}

func TestViewsOpenTriggerIsSingleUse(t *testing.T) {
	s := New(t)
	api := client(s, Token)
	view := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "Pledge", false, false)}
	if _, err := api.OpenViewContext(t.Context(), "trig-1", view); err != nil {
		t.Fatal(err)
	}
	_, err := api.OpenViewContext(t.Context(), "trig-1", view)
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "expired_trigger_id" {
		t.Errorf("second use: err = %v, want expired_trigger_id", err)
	}
	if v := s.Views(); len(v) != 1 || v[0].TriggerID != "trig-1" {
		t.Errorf("views = %+v", v)
	}
	if c := s.Calls("views.open"); len(c) != 2 || c[0].Token != Token {
		t.Errorf("views.open calls = %+v (token sent as Bearer)", c)
	}
}

func TestViewsOpenAppliesModalLimits(t *testing.T) {
	s := New(t)
	api := client(s, Token)
	modal := func(title, label, placeholder string) slack.ModalViewRequest {
		var ph *slack.TextBlockObject
		if placeholder != "" {
			ph = slack.NewTextBlockObject(slack.PlainTextType, placeholder, false, false)
		}
		in := slack.NewInputBlock("input", slack.NewTextBlockObject(slack.PlainTextType, label, false, false), nil,
			slack.NewPlainTextInputBlockElement(ph, "value"))
		return slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
			Blocks: slack.Blocks{BlockSet: []slack.Block{in}}}
	}
	for i, c := range []struct {
		view slack.ModalViewRequest
		ok   bool
	}{
		{modal("Pledge", "How much?", "e.g. 10 trees"), true},
		{modal(strings.Repeat("t", 25), "How much?", ""), false},
		{modal("Pledge", strings.Repeat("l", 2001), ""), false},
		{modal("Pledge", "How much?", strings.Repeat("p", 151)), false},
	} {
		_, err := api.OpenViewContext(t.Context(), fmt.Sprintf("trig-%d", i), c.view)
		if (err == nil) != c.ok {
			t.Errorf("modal %d: err = %v, want ok %v", i, err, c.ok)
		}
	}
}

func TestResponseURLAndOAuth(t *testing.T) {
	s := New(t)
	err := slack.PostWebhookContext(t.Context(), s.ResponseURL("r1"), &slack.WebhookMessage{Text: "done", ResponseType: "ephemeral"})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Responses("r1"); len(r) != 1 || !strings.Contains(string(r[0].Body), `"done"`) {
		t.Errorf("responses = %+v", r)
	}
	s.AddOAuthCode("code-1", OAuthGrant{ClientID: "cid", ClientSecret: "sec", Token: "xoxb-new", Team: "T2", AuthedUser: "U0OWNER", Scope: "commands,chat:write"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	resp, err := slack.GetOAuthV2ResponseContext(ctx, s.Client(), "cid", "sec", "code-1", "", slack.OAuthOptionAPIURL(s.URL()))
	if err != nil {
		t.Fatal(err)
	}
	if resp.AccessToken != "xoxb-new" || resp.Team.ID != "T2" || resp.AuthedUser.ID != "U0OWNER" || resp.BotUserID != BotUserID {
		t.Errorf("oauth answer = %+v", resp)
	}
	if _, err := client(s, "xoxb-new").AuthTestContext(t.Context()); err != nil {
		t.Errorf("the granted token does not work: %v", err)
	}
	if _, err := slack.GetOAuthV2ResponseContext(ctx, s.Client(), "cid", "sec", "code-1", "", slack.OAuthOptionAPIURL(s.URL())); err == nil {
		t.Error("a code worked twice")
	}
}
