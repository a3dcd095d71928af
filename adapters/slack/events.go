package slack

import (
	"context"
	"net/http"

	"github.com/missionbot/missionbot/bot"
)

// serveEvent answers POST /slack/events (signature already verified):
// url_verification with its challenge, everything else 200 at once, the
// event itself handled in the background. A delivery Slack repeats (retry
// headers or not) has the same event id and is handled once.
func (a *Adapter) serveEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	challenge := a.event(r.Context(), body)
	if challenge != "" {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(challenge))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// event handles one Events API body (from HTTP or Socket Mode) and returns
// the url_verification challenge, if that is what it was. It never blocks
// on the engine or Slack: the work runs in the background.
func (a *Adapter) event(ctx context.Context, body []byte) (challenge string) {
	env, in, err := parseEnvelope(body)
	if err != nil {
		a.log.WarnContext(ctx, "slack event unreadable", "err", err)
		return ""
	}
	switch env.Type {
	case "url_verification":
		return env.Challenge
	case "app_rate_limited":
		a.log.WarnContext(ctx, "slack is rate limiting this app's events", "team", env.TeamID, "minute", env.MinuteRateLimited)
		return ""
	case "event_callback":
	default:
		return ""
	}
	req, act := eventRequest(env, in, a.clock.Now())
	switch act {
	case eventUninstall:
		a.background(ctx, func(ctx context.Context) { a.uninstall(ctx, req) })
	case eventRun, eventMention:
		a.background(ctx, func(ctx context.Context) { a.runEvent(ctx, req, act) })
	}
	return ""
}

// runEvent runs a membership event or a mention through the engine and
// delivers the reply: a mention's help privately to the mentioner in the
// channel, a welcome as the core addressed it.
func (a *Adapter) runEvent(ctx context.Context, req bot.Request, act eventAction) {
	if u := a.enrich(ctx, &req); u.bot && req.Event != bot.EventLeft {
		return
	}
	reply := a.do(ctx, req)
	if reply.Duplicate {
		return
	}
	o := &origin{community: req.Community, user: req.User, channel: req.Channel.ID}
	if act == eventMention {
		for i := range reply.Messages {
			if reply.Messages[i].Visibility == bot.Public && reply.Messages[i].Channel.ID == "" {
				reply.Messages[i].Visibility = bot.Private
			}
		}
	}
	a.deliverLater(ctx, o, reply.Messages)
}

// uninstall forgets a workspace's installation once per event id
// (app_uninstalled, tokens_revoked); the deletion itself is idempotent.
func (a *Adapter) uninstall(ctx context.Context, req bot.Request) {
	if first, err := a.coord.FirstSeen(ctx, a.coord.Keys().Dedup(bot.Slack, req.EventID), bot.DedupTTL); err == nil && !first {
		return
	}
	team := req.Community.ID
	a.tokens.forget(team)
	if a.installs == nil {
		return
	}
	if err := a.installs.DeleteInstall(ctx, bot.Slack, team); err != nil {
		a.log.ErrorContext(ctx, "slack uninstall not recorded", "team", team, "err", err)
		return
	}
	a.log.InfoContext(ctx, "slack workspace uninstalled", "team", team)
}
