package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/missionbot/missionbot/bot"
	"github.com/missionbot/missionbot/storage"
)

// ErrNoToken says no bot token is known for a workspace: it never
// installed the app, or uninstalled it. It wraps bot.ErrPermanent, so a post
// for such a workspace is not retried.
var ErrNoToken = fmt.Errorf("no slack bot token for this workspace: %w", bot.ErrPermanent)

// Installs is the store of OAuth installations the adapter uses
// (*storage.Store implements it).
type Installs interface {
	SaveInstall(ctx context.Context, in storage.Install) error
	LoadInstall(ctx context.Context, p bot.Platform, team string) (storage.Install, error)
	DeleteInstall(ctx context.Context, p bot.Platform, team string) error
}

// DefaultTokenCacheTTL is how long a workspace's opened token is kept in memory.
const DefaultTokenCacheTTL = time.Minute

// tokenCache answers bot tokens: a workspace's own installation from the
// store (opened with the sealer and kept in memory for ttl), else the static
// token when one is configured. It is safe for concurrent use.
type tokenCache struct {
	static   string
	installs Installs
	sealer   *sealer
	ttl      time.Duration
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]cachedToken
}

type cachedToken struct {
	token string
	until time.Time
}

// maxCachedTokens bounds the cache; beyond it expired entries are dropped
// and, failing that, the cache starts afresh.
const maxCachedTokens = 10000

// token returns team's bot token, or an error wrapping ErrNoToken.
func (c *tokenCache) token(ctx context.Context, team string) (string, error) {
	if c.installs == nil || c.sealer == nil {
		if c.static == "" {
			return "", ErrNoToken
		}
		return c.static, nil
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[team]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.token, nil
	}
	in, err := c.installs.LoadInstall(ctx, bot.Slack, team)
	if errors.Is(err, storage.ErrNotInstalled) {
		if c.static != "" {
			return c.static, nil
		}
		return "", fmt.Errorf("team %s: %w", team, ErrNoToken)
	}
	if err != nil {
		return "", fmt.Errorf("bot token for %s: %w", team, err)
	}
	plain, err := c.sealer.open(team, in.SealedToken)
	if err != nil {
		return "", fmt.Errorf("bot token for %s: %w", team, err)
	}
	tok := string(plain)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedTokens {
		for k, v := range c.entries {
			if !now.Before(v.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedTokens {
			c.entries = map[string]cachedToken{}
		}
	}
	c.entries[team] = cachedToken{token: tok, until: now.Add(c.ttl)}
	return tok, nil
}

// forget drops team's cached token (after an uninstall or a new install).
func (c *tokenCache) forget(team string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, team)
}

// StaticToken returns a TokenSource that answers token for every
// workspace, or ErrNoToken when token is empty.
func StaticToken(token string) TokenSource {
	return func(context.Context, string) (string, error) {
		if token == "" {
			return "", ErrNoToken
		}
		return token, nil
	}
}
