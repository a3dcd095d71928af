package slack

import (
	"context"
	"encoding/json"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Reconnection backoff of Socket Mode.
const (
	socketRetryMin = time.Second
	socketRetryMax = 30 * time.Second
)

// runSocket receives slash commands, events and interactions over Socket
// Mode until ctx ends, reconnecting with backoff when the connection
// cannot be opened. Socket Mode needs no signature: the websocket is
// opened with the app token. Each envelope is acknowledged: slash
// commands with their reply when it is ready within Config.AckWithin,
// modal submissions with their answer, the rest at once.
func (a *Adapter) runSocket(ctx context.Context) {
	api := slack.New(a.cfg.BotToken, slack.OptionAppLevelToken(a.cfg.AppToken),
		slack.OptionAPIURL(a.cfg.APIURL), slack.OptionHTTPClient(a.cfg.HTTPClient))
	client := socketmode.New(api)
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		wait := socketRetryMin
		for ctx.Err() == nil {
			err := client.RunContext(ctx)
			if ctx.Err() != nil {
				return
			}
			a.log.WarnContext(ctx, "slack socket mode disconnected; reconnecting", "err", err, "in", wait)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(wait*2, socketRetryMax)
		}
	}()
	for {
		select {
		case <-ctx.Done():
			<-runDone
			return
		case evt := <-client.Events:
			a.socketEvent(ctx, client, evt)
		}
	}
}

// socketEvent handles one event from the Socket Mode client.
func (a *Adapter) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		a.log.InfoContext(ctx, "slack socket mode connected")
		return
	case socketmode.EventTypeInvalidAuth:
		a.log.ErrorContext(ctx, "slack socket mode: the app token was refused")
		return
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage,
		socketmode.EventTypeErrorWriteFailed:
		a.log.WarnContext(ctx, "slack socket mode problem", "type", string(evt.Type))
		return
	}
	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		return
	}
	req := *evt.Request
	ack := func(payload any) {
		if err := client.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
			a.log.WarnContext(ctx, "slack socket mode ack failed", "type", req.Type, "err", err)
		}
	}
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		ack(nil)
		if challenge := a.event(ctx, req.Payload); challenge != "" {
			a.log.DebugContext(ctx, "slack url_verification over socket mode ignored")
		}
	case socketmode.EventTypeSlashCommand:
		sc, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			ack(unreadable)
			return
		}
		a.track(func() {
			if resp := a.command(ctx, sc); resp != nil {
				ack(resp)
			} else {
				ack(nil)
			}
		})
	case socketmode.EventTypeInteractive:
		var cb slack.InteractionCallback
		if err := json.Unmarshal(req.Payload, &cb); err != nil {
			ack(nil)
			return
		}
		a.track(func() {
			if resp := a.interaction(ctx, cb); resp != nil {
				ack(resp)
			} else {
				ack(nil)
			}
		})
	default:
		ack(nil)
	}
}
