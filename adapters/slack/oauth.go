package slack

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/storage"
)

// StateTTL is how long an install link's state stays valid.
const StateTTL = 10 * time.Minute

// stateCookie binds an install's state to the browser that started it.
const stateCookie = "missionbot_slack_state"

var errState = errors.New("install state invalid, expired or not from this browser")

// redirectURI is where Slack sends the installer back.
func (a *Adapter) redirectURI() string {
	return strings.TrimSuffix(a.cfg.PublicURL, "/") + "/slack/oauth/callback"
}

// stateMAC signs install states with a key derived from the encryption key
// (never the key itself).
func (a *Adapter) stateMAC(payload []byte) []byte {
	k := sha256.Sum256([]byte("missionbot slack oauth state\x00" + a.cfg.EncryptionKey))
	mac := hmac.New(sha256.New, k[:])
	mac.Write(payload)
	return mac.Sum(nil)[:16]
}

// newState returns a signed state: issue time and a random nonce, with an
// HMAC, base64url.
func (a *Adapter) newState(now time.Time) (string, error) {
	p := make([]byte, 8+16)
	binary.BigEndian.PutUint64(p, uint64(now.Unix()))
	if _, err := rand.Read(p[8:]); err != nil {
		return "", fmt.Errorf("install state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(append(p, a.stateMAC(p)...)), nil
}

// checkState verifies state's HMAC and age and returns its nonce.
func (a *Adapter) checkState(state string, now time.Time) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil || len(b) != 8+16+16 {
		return "", errState
	}
	p, sig := b[:24], b[24:]
	if !hmac.Equal(sig, a.stateMAC(p)) {
		return "", errState
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(p)), 0)
	if now.Sub(issued) > StateTTL || issued.Sub(now) > time.Minute {
		return "", errState
	}
	return base64.RawURLEncoding.EncodeToString(p[8:]), nil
}

// serveInstall answers GET /slack/install: it sets the state cookie and
// redirects to Slack's authorize page with the bot scopes.
func (a *Adapter) serveInstall(w http.ResponseWriter, r *http.Request) {
	state, err := a.newState(a.clock.Now())
	if err != nil {
		a.log.ErrorContext(r.Context(), "slack install link failed", "err", err)
		page(w, http.StatusInternalServerError, "Something went wrong", "Please try again in a moment.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: "/slack/", MaxAge: int(StateTTL / time.Second),
		HttpOnly: true, Secure: strings.HasPrefix(a.cfg.PublicURL, "https://"), SameSite: http.SameSiteLaxMode})
	q := url.Values{"client_id": {a.cfg.ClientID}, "scope": {strings.Join(a.cfg.Scopes, ",")},
		"redirect_uri": {a.redirectURI()}, "state": {state}}
	http.Redirect(w, r, a.cfg.AuthorizeURL+"?"+q.Encode(), http.StatusFound)
}

// serveCallback answers GET /slack/oauth/callback: with a valid, unused
// state from this browser it exchanges the code (oauth.v2.access), stores
// the bot token sealed, makes the installer the community's first
// organiser (bot.EventInstalled) and says so; anything else is refused
// with a page saying what to do.
func (a *Adapter) serveCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	if q.Get("error") != "" {
		page(w, http.StatusOK, "Installation cancelled", "missionbot was not installed. You can start again from the install link.")
		return
	}
	state := q.Get("state")
	c, err := r.Cookie(stateCookie)
	if err != nil || state == "" || !hmac.Equal([]byte(c.Value), []byte(state)) {
		a.refuseState(w)
		return
	}
	nonce, err := a.checkState(state, a.clock.Now())
	if err != nil {
		a.refuseState(w)
		return
	}
	if first, err := a.coord.FirstSeen(ctx, a.coord.Keys().Dedup(bot.Slack, "oauth:"+nonce), StateTTL); err == nil && !first {
		a.refuseState(w)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: "/slack/", MaxAge: -1, HttpOnly: true})
	resp, err := slack.GetOAuthV2ResponseContext(ctx, a.http, a.cfg.ClientID, a.cfg.ClientSecret, q.Get("code"),
		a.redirectURI(), slack.OAuthOptionAPIURL(a.cfg.APIURL))
	if err != nil {
		a.log.WarnContext(ctx, "slack oauth.v2.access failed", "err", err)
		page(w, http.StatusBadGateway, "Slack did not confirm the installation", "Please start again from the install link.")
		return
	}
	if resp.Team.ID == "" || resp.AccessToken == "" || resp.IsEnterpriseInstall {
		page(w, http.StatusBadRequest, "This installation is not supported", "missionbot installs into one workspace at a time, not a whole Enterprise Grid organisation.")
		return
	}
	if err := a.saveInstall(ctx, resp); err != nil {
		a.log.ErrorContext(ctx, "slack install not stored", "team", resp.Team.ID, "err", err)
		page(w, http.StatusInternalServerError, "The installation could not be saved", "Nothing is lost on Slack's side; please start again from the install link in a moment.")
		return
	}
	a.log.InfoContext(ctx, "slack workspace installed", "team", resp.Team.ID, "by", resp.AuthedUser.ID)
	if resp.AuthedUser.ID != "" {
		req := bot.Request{EventID: deliveryID("install:", resp.Team.ID+":"+nonce),
			Community: bot.CommunityRef{Platform: bot.Slack, ID: resp.Team.ID}, CommunityName: resp.Team.Name,
			User: bot.UserRef{Platform: bot.Slack, Space: resp.Team.ID, ID: resp.AuthedUser.ID}, Event: bot.EventInstalled,
			Time: a.clock.Now()}
		a.enrich(ctx, &req)
		reply := a.do(ctx, req)
		if len(reply.Messages) > 0 {
			o := &origin{community: req.Community, user: req.User}
			a.background(ctx, func(ctx context.Context) { a.deliver(ctx, o, reply.Messages) })
		}
	}
	page(w, http.StatusOK, "missionbot is installed in "+resp.Team.Name,
		"You are its first organiser. Go back to Slack: missionbot sent you a message with where to start, and /missionbot help lists every command.")
}

// saveInstall stores resp's bot token sealed for its team.
func (a *Adapter) saveInstall(ctx context.Context, resp *slack.OAuthV2Response) error {
	sealed, err := a.sealer.seal(resp.Team.ID, []byte(resp.AccessToken))
	if err != nil {
		return err
	}
	err = a.installs.SaveInstall(ctx, storage.Install{Platform: bot.Slack, Team: resp.Team.ID, BotUserID: resp.BotUserID,
		SealedToken: sealed, Scopes: resp.Scope, InstalledBy: resp.AuthedUser.ID, At: a.clock.Now()})
	if err != nil {
		return err
	}
	a.tokens.forget(resp.Team.ID)
	return nil
}

func (a *Adapter) refuseState(w http.ResponseWriter) {
	if a.rejected != nil {
		a.rejected("oauth_state")
	}
	page(w, http.StatusBadRequest, "That install link expired or was not started here",
		"Start again from the install link (/slack/install) in this browser.")
}

// page writes a minimal HTML page.
func page(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>%s</title><h1>%s</h1><p>%s</p>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(text))
}
