package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/missionbot/missionbot/bot"
)

// Interaction endpoints (the callback, @original and follow-ups) are called
// here rather than through discordgo: they carry the interaction token in
// their path, and discordgo keeps a rate-limit bucket per path forever (one
// per interaction: unbounded memory) and holds its lock for the whole
// request (a shared bucket would make every interaction wait for the others).
// They are authorised by that token, so the bot token is not sent either, and
// the errors returned name the route, never the URL.

// hookTimeout bounds one request to an interaction endpoint.
const hookTimeout = 10 * time.Second

// maxHookAnswer is the most of an answer read back.
const maxHookAnswer = 1 << 20

// hook sends body (JSON, or multipart with files) to an interaction
// endpoint and returns Discord's answer. Errors are *bot.RateLimitedError
// for a 429, *APIError for other error answers, and transport errors
// (wrapping context errors) without the URL.
func (a *Adapter) hook(ctx context.Context, what, method, endpoint string, body any, files []*discordgo.File) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, hookTimeout)
	defer cancel()
	var (
		payload []byte
		ctype   = "application/json"
		err     error
	)
	if len(files) > 0 {
		ctype, payload, err = discordgo.MultipartBodyWithJSON(body, files)
	} else {
		payload, err = json.Marshal(body)
	}
	if err != nil {
		return nil, fmt.Errorf("discord %s: encode: %w", what, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("discord %s: bad request URL", what) // its error would show the token
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", a.session.UserAgent)
	client := a.session.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the interaction token
		}
		return nil, fmt.Errorf("discord %s: %w", what, err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxHookAnswer))
	if err != nil {
		return nil, fmt.Errorf("discord %s: read answer: %w", what, err)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return answer, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("discord %s: %w", what, &bot.RateLimitedError{RetryAfter: retryAfter(resp.Header, answer)})
	}
	ae := &APIError{Status: resp.StatusCode}
	var m struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &m) == nil {
		ae.Code, ae.Message = m.Code, m.Message
	}
	if ae.Message == "" {
		ae.Message = http.StatusText(resp.StatusCode)
	}
	return nil, fmt.Errorf("discord %s: %w", what, ae)
}

// retryAfter reads a 429's wait: the body's retry_after (float seconds),
// else the Retry-After header, else one second.
func retryAfter(h http.Header, body []byte) time.Duration {
	var v struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &v) == nil && v.RetryAfter > 0 {
		return max(time.Duration(v.RetryAfter*float64(time.Second)), time.Millisecond)
	}
	if s, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	return time.Second
}

// hookRetries is how many times an idempotent interaction request (editing
// @original) is tried in all, and hookBackoff the first wait between tries.
const (
	hookRetries = 4
	hookBackoff = 250 * time.Millisecond
)

// hookRetrying is hook with retries: it tries again after a 429 (waiting
// retry_after) or another error retryable accepts, with growing waits,
// at most hookRetries times in all and within ctx, as long as retryable
// says the error is worth it (see idempotentRetry and doneNothing).
func (a *Adapter) hookRetrying(ctx context.Context, what, method, endpoint string, body any, files func() []*discordgo.File, retryable func(error) bool) ([]byte, error) {
	wait := hookBackoff
	for try := 1; ; try++ {
		var fs []*discordgo.File
		if files != nil {
			fs = files()
		}
		answer, err := a.hook(ctx, what, method, endpoint, body, fs)
		if err == nil || try == hookRetries || !retryable(err) {
			return answer, err
		}
		d := wait
		var rl *bot.RateLimitedError
		if errors.As(err, &rl) {
			d = rl.RetryAfter
		}
		wait *= 2
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// idempotentRetry says an error of an idempotent request is worth another
// try: a 429, a 404 (see notYet), a 5xx, or no answer at all.
func idempotentRetry(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || notYet(ae)
	}
	return !errors.Is(err, context.Canceled)
}

// doneNothing says an error of a request that is not idempotent is worth
// another try: a 429 or a 404 (see notYet), after which Discord did nothing.
func doneNothing(err error) bool {
	var rl *bot.RateLimitedError
	var ae *APIError
	return errors.As(err, &rl) || (errors.As(err, &ae) && notYet(ae))
}

// notYet reports Discord's 404 for an interaction's message or webhook
// that it has not made yet: over HTTP the deferred response is the HTTP
// answer, and an edit sent right after it can overtake it.
func notYet(ae *APIError) bool {
	return ae.Status == http.StatusNotFound && (ae.Code == 10008 || ae.Code == 10015 || ae.Code == 0)
}

// callback sends an interaction's initial response over REST (gateway
// mode). It does not retry: a second callback is refused once the first
// landed, and the answer is due within 3 seconds.
func (a *Adapter) callback(ctx context.Context, i *discordgo.Interaction, v any) error {
	ctx, cancel := context.WithTimeout(ctx, callbackTimeout)
	defer cancel()
	_, err := a.hook(ctx, "interaction callback", http.MethodPost, discordgo.EndpointInteractionResponse(i.ID, i.Token), v, nil)
	return err
}

// callbackTimeout bounds the initial response's request: past 3 seconds
// Discord has given up on the interaction anyway.
const callbackTimeout = 3 * time.Second

// editOriginal replaces the interaction's original response, retrying
// after a 429 or a 404 (not there yet), and after a 5xx or no answer when
// it attaches no files (the edit is then idempotent).
func (a *Adapter) editOriginal(ctx context.Context, i *discordgo.Interaction, edit *discordgo.WebhookEdit, files []*bot.File) error {
	endpoint := discordgo.EndpointWebhookMessage(a.cfg.ApplicationID, i.Token, "@original")
	retry := idempotentRetry
	if len(files) > 0 {
		// New files are added to a message's attachments: a resend after an
		// unknown outcome could attach them twice.
		retry = doneNothing
	}
	_, err := a.hookRetrying(ctx, "edit @original", http.MethodPatch, endpoint, edit, func() []*discordgo.File { return discordFiles(files) }, retry)
	return err
}

// followup sends an ephemeral follow-up message. It is retried only after
// a 429 or a 404 (not there yet): any other failure may have posted it.
func (a *Adapter) followup(ctx context.Context, i *discordgo.Interaction, params *discordgo.WebhookParams) error {
	endpoint := discordgo.EndpointWebhookToken(a.cfg.ApplicationID, i.Token) + "?wait=true"
	_, err := a.hookRetrying(ctx, "follow-up", http.MethodPost, endpoint, params, nil, doneNothing)
	return err
}

// discordFiles returns fresh readers for fs (each try reads them again).
func discordFiles(fs []*bot.File) []*discordgo.File {
	out := make([]*discordgo.File, 0, len(fs))
	for _, f := range fs {
		out = append(out, &discordgo.File{Name: f.Name, ContentType: f.ContentType, Reader: bytes.NewReader(f.Data)})
	}
	return out
}
