package volunteer

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// resolve returns the opportunity ref means in community c: #<no>, the slug
// or a unique case-insensitive title prefix. A slug or title of a recurring
// series means its next open occurrence (or, when none is ahead, the latest
// one); with past (attendance, hours) it means the latest occurrence that has
// started, when there is one. Unknown and ambiguous references are
// *bot.UserError listing what there is; ex is the example to show.
func resolve(ctx context.Context, s Store, c bot.CommunityID, ref string, now time.Time, past bool, loc *time.Location, ex string) (Opportunity, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return Opportunity{}, bot.Userf(ex, "Say which opportunity, by #id or title.")
	}
	found, err := s.FindOpportunities(ctx, c, ref)
	if err != nil {
		return Opportunity{}, fmt.Errorf("find opportunity %q: %w", ref, err)
	}
	if strings.HasPrefix(ref, "#") {
		if n, err := strconv.ParseInt(ref[1:], 10, 64); err == nil {
			for _, o := range found {
				if o.No == n {
					return o, nil
				}
			}
			return Opportunity{}, notFound(ctx, s, c, ref, now, loc, ex)
		}
	}
	groups := group(found, now, past)
	var exact []Opportunity
	for _, g := range groups {
		if strings.EqualFold(g.Slug, ref) {
			exact = append(exact, g)
		}
	}
	cands := groups
	if len(exact) > 0 {
		cands = exact
	}
	switch len(cands) {
	case 0:
		return Opportunity{}, notFound(ctx, s, c, ref, now, loc, ex)
	case 1:
		return cands[0], nil
	}
	return Opportunity{}, bot.Userf(ex, "%q could mean %s. Use the #id.", ref, labels(cands, loc))
}

// group keeps one opportunity per series (see resolve) and every one-off,
// ordered by start.
func group(found []Opportunity, now time.Time, past bool) []Opportunity {
	best := map[int64]Opportunity{}
	var out []Opportunity
	for _, o := range found {
		if o.SeriesID == 0 {
			out = append(out, o)
			continue
		}
		cur, ok := best[o.SeriesID]
		if !ok || better(o, cur, now, past) {
			best[o.SeriesID] = o
		}
	}
	for _, o := range best {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].StartsAt.Before(out[j].StartsAt) || (out[i].StartsAt.Equal(out[j].StartsAt) && out[i].No < out[j].No)
	})
	return out
}

// better reports whether a is a better stand-in for its series than b.
func better(a, b Opportunity, now time.Time, past bool) bool {
	if past {
		pa, pb := !a.Cancelled && !a.StartsAt.After(now), !b.Cancelled && !b.StartsAt.After(now)
		switch {
		case pa && pb:
			return a.StartsAt.After(b.StartsAt)
		case pa != pb:
			return pa
		}
	}
	ua, ub := !a.Cancelled && a.StartsAt.After(now), !b.Cancelled && b.StartsAt.After(now)
	switch {
	case ua && ub:
		return a.StartsAt.Before(b.StartsAt)
	case ua != ub:
		return ua
	}
	return a.StartsAt.After(b.StartsAt)
}

func notFound(ctx context.Context, s Store, c bot.CommunityID, ref string, now time.Time, loc *time.Location, ex string) error {
	open, err := s.UpcomingOpportunities(ctx, c, now, 10)
	if err != nil {
		return fmt.Errorf("open opportunities: %w", err)
	}
	if len(open) == 0 {
		return bot.Userf("/volunteer", "No opportunity matches %q, and none are open right now.", ref)
	}
	return bot.Userf(ex, "No opportunity matches %q. Open ones: %s.", ref, labels(open, loc))
}

func labels(os []Opportunity, loc *time.Location) string {
	parts := make([]string, len(os))
	for i, o := range os {
		parts[i] = label(o, loc)
	}
	return strings.Join(parts, ", ")
}

// label names an opportunity in replies: "#4 Park cleanup (Sat 5 Dec 2026 10:00)".
func label(o Opportunity, loc *time.Location) string {
	return fmt.Sprintf("#%d %s (%s)", o.No, o.Title, when(o.StartsAt, loc))
}

func when(t time.Time, loc *time.Location) string { return bot.When{At: t}.String(loc) }

// duration renders d as people write it: 2h, 90m → 1h30m, 45m.
func duration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	m := int(d.Round(time.Minute) / time.Minute)
	h, m := m/60, m%60
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}
