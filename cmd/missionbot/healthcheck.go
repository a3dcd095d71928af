package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/missionbot/missionbot/config"
	"github.com/missionbot/missionbot/server"
)

// healthcheckTimeout bounds the whole readiness request of `missionbot
// healthcheck`, below the usual container HEALTHCHECK timeout.
const healthcheckTimeout = 2 * time.Second

// healthcheckMaxBody is the most of a /readyz answer that is read.
const healthcheckMaxBody = 64 << 10

// errNotReady is returned by the healthcheck when the service answered, but
// not with 200.
var errNotReady = errors.New("not ready")

// healthcheckCmd is `missionbot healthcheck`, the image's HEALTHCHECK: it
// exits 0 when the local serve process is ready and 1 otherwise.
func healthcheckCmd(load func() (*config.Config, error)) *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Ask the local serve process whether it is ready (for container health checks)",
		Long: `healthcheck GETs /readyz of the serve process on this machine, at
http://127.0.0.1:<port of http.addr>/readyz (or http.addr's host when it names
one other than a wildcard), with a 2 s timeout. It exits 0 when the answer is
200 (printing "ready", or "degraded: <checks>" when a dependency runs on its
fallback), and 1 otherwise with one line naming the failing checks or the
connection error. --url asks another address and then needs no configuration.
The image has no curl: its HEALTHCHECK runs this.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			target := url
			if target == "" {
				cfg, err := load()
				if err != nil {
					return err
				}
				if target, err = readyzURL(cfg.HTTP.Addr); err != nil {
					return err
				}
			}
			msg, err := healthcheck(cmd.Context(), &http.Client{Timeout: healthcheckTimeout}, target)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "the readiness URL to ask instead of the one derived from http.addr")
	return cmd
}

// readyzURL returns the /readyz URL of a server listening on addr
// (host:port): on 127.0.0.1 when the host is empty or a wildcard, else on
// that host.
func readyzURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("config: http.addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}

// healthcheck GETs url with client and returns the line to print when the
// answer is 200: "ready", or "degraded: <checks>" when some checks are
// degraded. Any other outcome is an error whose text is one line naming the
// failing checks (from the /readyz body), the status, or the request error.
// It does not retry.
func healthcheck(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("healthcheck: %w", err)
	}
	res, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, healthcheckMaxBody))
	if err != nil {
		return "", fmt.Errorf("healthcheck: read %s: %w", url, err)
	}
	msg, ok := describeReadiness(res.StatusCode, body)
	if !ok {
		return "", fmt.Errorf("healthcheck: %s: %w: %s", url, errNotReady, msg)
	}
	return msg, nil
}

// describeReadiness reads a /readyz answer. It reports whether the service
// is ready (status 200), with one line saying how: "ready", "degraded:
// redis", or for a failure "failing: database (HTTP 503)". A body that is not
// the server.Readiness JSON is quoted, shortened, on the same line.
func describeReadiness(code int, body []byte) (string, bool) {
	var r server.Readiness
	parsed := json.Unmarshal(body, &r) == nil && r.Status != ""
	if code == http.StatusOK {
		if parsed && r.Status == server.StatusDegraded {
			if names := checksWith(r, server.StatusDegraded); len(names) > 0 {
				return "degraded: " + strings.Join(names, ", "), true
			}
			return "degraded", true
		}
		return "ready", true
	}
	if parsed {
		failing := r.Failing
		if len(failing) == 0 {
			failing = checksWith(r, server.StatusFailing)
		}
		if len(failing) > 0 {
			return fmt.Sprintf("failing: %s (HTTP %d)", strings.Join(failing, ", "), code), false
		}
		return fmt.Sprintf("status %q (HTTP %d)", oneLine(r.Status), code), false
	}
	if text := oneLine(string(body)); text != "" {
		return fmt.Sprintf("HTTP %d: %q", code, text), false
	}
	return fmt.Sprintf("HTTP %d", code), false
}

// checksWith returns the names of r's checks whose status is status, sorted.
func checksWith(r server.Readiness, status string) []string {
	var names []string
	for name, st := range r.Checks {
		if st == status {
			names = append(names, oneLine(name))
		}
	}
	slices.Sort(names)
	return names
}

// oneLine returns s with its whitespace runs collapsed to single spaces,
// cut to at most 120 bytes on a rune boundary.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 120
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
