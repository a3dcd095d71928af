package impact

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/missionbot/missionbot/bot"
)

// Record types in the export's type column.
const (
	TypePledge       = "pledge"
	TypeContribution = "contribution"
	TypeSignup       = "signup"
	TypeWin          = "win"
	TypeKudos        = "kudos"
)

// Record is one exported row. The store fills Member and To with display
// names as stored; Anonymous and Forgotten flags say when they must not be
// shown, and the export leaves them out.
type Record struct {
	Type string
	// No is the per-community number (#12) where the type has one.
	No int64
	At time.Time
	// Kind is a contribution's kind (pledge, log, hours, attended).
	Kind   string
	Member string
	// Forgotten is true when the member asked to be forgotten.
	Forgotten bool
	// Anonymous is true for anonymous pledges and contributions.
	Anonymous   bool
	Goal        string
	Amount      bot.Amount
	HasAmount   bool
	Unit        string
	Status      string
	Opportunity string
	// To is the kudos recipient, ToForgotten whether they were forgotten.
	To          string
	ToForgotten bool
	// Text is a win's text, a kudos reason or a contribution's note.
	Text string
}

var exportHeader = []string{"type", "id", "time_utc", "kind", "member", "goal", "amount", "unit", "status", "opportunity", "to", "text"}

func (h handlers) export(ctx context.Context, c *bot.Call) (bot.Reply, error) {
	recs, err := h.s.ImpactRecords(ctx, c.Actor.Community)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("impact export: %w", err)
	}
	data, err := CSV(recs)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("impact export: %w", err)
	}
	name := "impact-" + c.Now.In(c.Loc).Format("2006-01-02") + ".csv"
	return bot.Reply{Messages: []bot.Message{{
		Text: fmt.Sprintf("Your export: %d rows of pledges, contributions (hours included), sign-ups, wins and kudos. Anonymous rows and forgotten members have no name.", len(recs)),
		File: &bot.File{Name: name, ContentType: "text/csv", Data: data},
	}}}, nil
}

// CSV writes recs as one CSV file with a header and a type column. Names of
// anonymous rows and forgotten members are left empty, and every cell that
// a spreadsheet could read as a formula is escaped (see SafeCell).
func CSV(recs []Record) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(exportHeader); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	for _, r := range recs {
		member := r.Member
		if r.Anonymous || r.Forgotten {
			member = ""
		}
		to := r.To
		if r.ToForgotten {
			to = ""
		}
		no, amount := "", ""
		if r.No > 0 {
			no = "#" + strconv.FormatInt(r.No, 10)
		}
		if r.HasAmount {
			amount = plainAmount(r.Amount)
		}
		row := []string{r.Type, no, r.At.UTC().Format(time.RFC3339), r.Kind, member, r.Goal, amount, r.Unit, r.Status, r.Opportunity, to, r.Text}
		for i := range row {
			row[i] = SafeCell(row[i])
		}
		if err := w.Write(row); err != nil {
			return nil, fmt.Errorf("write csv: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	return buf.Bytes(), nil
}

// plainAmount writes a without thousands separators, for spreadsheets: 1000.5.
func plainAmount(a bot.Amount) string {
	return strings.ReplaceAll(a.String(), ",", "")
}

// SafeCell escapes a cell a spreadsheet would run as a formula: one that
// starts with =, +, -, @, a tab or a carriage return gets a single quote in
// front. Other cells are returned unchanged.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
