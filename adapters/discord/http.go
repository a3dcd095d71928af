package discord

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

// serveInteractions is POST /discord/interactions: it verifies Discord's
// signature and timestamp (401 otherwise, as Discord's own probes expect),
// answers PING with PONG, and answers every other interaction in the HTTP
// response within about Config.AckWithin (see answer). Work that outlives
// the response continues in the background.
func (a *Adapter) serveInteractions(w http.ResponseWriter, r *http.Request) {
	body, err := a.verify.read(r)
	if err != nil {
		var rej *errRejected
		if errors.As(err, &rej) {
			a.reject(rej.reason)
			http.Error(w, http.StatusText(rej.status), rej.status)
			return
		}
		a.reject(RejectMalformed)
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil || !known(&i) {
		a.reject(RejectMalformed)
		http.Error(w, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
		return
	}
	written := false
	respond := func(v any) error {
		if written {
			return errors.New("interaction already answered")
		}
		written = true
		b, err := json.Marshal(v)
		if err != nil {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		_, err = w.Write(b)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		return err
	}
	a.interaction(r.Context(), &i, respond, true)
	if !written {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// known reports whether i is an interaction this adapter answers, with the
// data its type needs.
func known(i *discordgo.Interaction) bool {
	switch i.Type {
	case discordgo.InteractionPing:
		return true
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete,
		discordgo.InteractionMessageComponent, discordgo.InteractionModalSubmit:
		return i.ID != "" && i.Token != "" && i.Data != nil
	}
	return false
}
