package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/internal/testdb"
	"github.com/missionbot/missionbot/storage"
)

const (
	installedToken = "xoxb-installed-workspace-token"
	installTeam    = "T0INSTALL"
	installer      = "U0INSTALLER"
)

func oauthHarness(t *testing.T, s *storage.Store) *harness {
	return newHarness(t, s, func(c *Config) {
		c.BotToken = ""
		c.ClientID, c.ClientSecret = "123.456", "client-secret-value"
		c.PublicURL = "https://bot.example.org"
		c.EncryptionKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	})
}

// noRedirect is a client that shows redirects instead of following them.
func noRedirect(h *harness) *http.Client {
	c := *h.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// startInstall follows /slack/install and returns its state and cookie.
func startInstall(t *testing.T, h *harness) (string, *http.Cookie) {
	t.Helper()
	res, err := noRedirect(h).Get(h.srv.URL + "/slack/install")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("install: status %d", res.StatusCode)
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), DefaultAuthorizeURL) || q.Get("client_id") != "123.456" ||
		q.Get("redirect_uri") != "https://bot.example.org/slack/oauth/callback" || !strings.Contains(q.Get("scope"), "commands") {
		t.Fatalf("redirect to %s", loc)
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == stateCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != q.Get("state") || !cookie.HttpOnly {
		t.Fatalf("state cookie %+v for state %q", cookie, q.Get("state"))
	}
	return q.Get("state"), cookie
}

func callback(t *testing.T, h *harness, state, code string, cookie *http.Cookie) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/slack/oauth/callback?"+url.Values{"code": {code}, "state": {state}}.Encode(), nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, err := noRedirect(h).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

func TestOAuthInstallSealsTokenAndMakesInstallerOrganiser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, s *storage.Store) {
		h := oauthHarness(t, s)
		h.fake.AddOAuthCode("code-1", fakeslack.OAuthGrant{ClientID: "123.456", ClientSecret: "client-secret-value",
			RedirectURI: "https://bot.example.org/slack/oauth/callback", Token: installedToken, Team: installTeam,
			TeamName: "Greens", Scope: "commands,chat:write", AuthedUser: installer})
		h.fake.AddUser(fakeslack.User{ID: installer, Team: installTeam, Name: "ivy"})

		state, cookie := startInstall(t, h)
		status, body := callback(t, h, state, "code-1", cookie)
		if status != 200 || !strings.Contains(body, "installed in Greens") {
			t.Fatalf("callback: %d %s", status, body)
		}
		h.idle()
		in, err := s.LoadInstall(t.Context(), bot.Slack, installTeam)
		if err != nil {
			t.Fatal(err)
		}
		if in.InstalledBy != installer || len(in.SealedToken) == 0 || bytes.Contains(in.SealedToken, []byte(installedToken)) {
			t.Fatalf("stored install %+v", in)
		}
		var raw []byte
		if err := s.DB().Table("installations").Select("sealed_token").Row().Scan(&raw); err != nil || bytes.Contains(raw, []byte(installedToken)) {
			t.Fatalf("the plain token is in the database (%v)", err)
		}
		if n := h.count("members", "external_id = ? AND organiser = ?", installer, true); n != 1 {
			t.Fatalf("installer is not an organiser (%d)", n)
		}
		// The installer is told where to start, by DM with the installed token.
		dms := h.fake.Messages(fakeslack.DMChannel(installer))
		if len(dms) != 1 || dms[0].Team != installTeam {
			t.Fatalf("installer DMs %+v", dms)
		}
		// The workspace's calls use its own token.
		if c := h.fake.Calls("users.info"); len(c) == 0 || c[0].Token != installedToken {
			t.Fatalf("users.info calls %+v", c)
		}
		body2 := url.Values{"team_id": {installTeam}, "user_id": {installer}, "command": {"/mission"}, "channel_id": {"C1"},
			"trigger_id": {"t.oauth.1"}, "response_url": {h.fake.ResponseURL("o1")}}.Encode()
		status, out := h.post("/slack/commands", "application/x-www-form-urlencoded", []byte(body2), nil)
		if status != 200 || !strings.Contains(string(out), "mission") {
			t.Fatalf("/mission after install: %d %s", status, out)
		}
		// The same callback link cannot be used twice.
		if status, _ := callback(t, h, state, "code-1", cookie); status != http.StatusBadRequest {
			t.Fatalf("replayed callback: %d", status)
		}
		// A user token revoked (the bot's is not) keeps the installation.
		ev, _ := json.Marshal(map[string]any{"type": "event_callback", "team_id": installTeam, "event_id": "Ev0USERTOK",
			"event": map[string]any{"type": "tokens_revoked", "tokens": map[string]any{"oauth": []string{installer}}}})
		h.post("/slack/events", "application/json", ev, nil)
		h.idle()
		if _, err := s.LoadInstall(t.Context(), bot.Slack, installTeam); err != nil {
			t.Fatalf("a revoked user token uninstalled the bot: %v", err)
		}
		// Uninstalling forgets the token.
		ev, _ = json.Marshal(map[string]any{"type": "event_callback", "team_id": installTeam, "event_id": "Ev0UNINST",
			"event": map[string]any{"type": "app_uninstalled"}})
		h.post("/slack/events", "application/json", ev, nil)
		h.idle()
		if _, err := s.LoadInstall(t.Context(), bot.Slack, installTeam); !errors.Is(err, storage.ErrNotInstalled) {
			t.Fatalf("after uninstall: %v", err)
		}
		if _, err := h.a.tokens.token(t.Context(), installTeam); !errors.Is(err, ErrNoToken) || !errors.Is(err, bot.ErrPermanent) {
			t.Fatalf("token after uninstall: %v", err)
		}
	})
}

func TestOAuthStateMismatchRefused(t *testing.T) {
	h := oauthHarness(t, testdb.Open(t, "sqlite"))
	h.fake.AddOAuthCode("code-2", fakeslack.OAuthGrant{Token: installedToken, Team: installTeam, AuthedUser: installer})
	state, cookie := startInstall(t, h)
	other, _ := startInstall(t, h)
	forged := state[:len(state)-2] + "AA"
	expired, _ := h.a.newState(h.clock.Now().Add(-StateTTL - time.Minute))
	cases := map[string]struct {
		state  string
		cookie *http.Cookie
	}{
		"no cookie":         {state, nil},
		"another browser's": {other, cookie},
		"forged":            {forged, &http.Cookie{Name: stateCookie, Value: forged}},
		"expired":           {expired, &http.Cookie{Name: stateCookie, Value: expired}},
		"empty":             {"", &http.Cookie{Name: stateCookie, Value: ""}},
	}
	for name, c := range cases {
		if status, _ := callback(t, h, c.state, "code-2", c.cookie); status != http.StatusBadRequest {
			t.Errorf("%s: status %d", name, status)
		}
	}
	if n := len(h.fake.Calls("oauth.v2.access")); n != 0 {
		t.Fatalf("oauth.v2.access called %d times for refused states", n)
	}
	if n := h.count("installations", ""); n != 0 {
		t.Fatalf("%d installs stored", n)
	}
}

func TestInstallAsksForTheManifestsScopes(t *testing.T) {
	h := oauthHarness(t, testdb.Open(t, "sqlite"))
	res, err := noRedirect(h).Get(h.srv.URL + "/slack/install")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	asked := strings.Split(loc.Query().Get("scope"), ",")
	m, err := Manifest(bot.Commands, ManifestOptions{URL: "https://bot.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	var mf struct {
		OAuthConfig struct {
			Scopes struct {
				Bot []string `json:"bot"`
			} `json:"scopes"`
		} `json:"oauth_config"`
	}
	if err := json.Unmarshal(m, &mf); err != nil {
		t.Fatal(err)
	}
	slices.Sort(asked)
	want := slices.Sorted(slices.Values(mf.OAuthConfig.Scopes.Bot))
	// A scope the app's configuration lacks fails the install; one the
	// install lacks (im:history) makes Find fail for every uncertain DM.
	if !slices.Equal(asked, want) {
		t.Fatalf("install asks for %v, the manifest declares %v", asked, want)
	}
}
