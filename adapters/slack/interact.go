package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
)

// viewResponse answers a view_submission: nil closes the modal; errors
// keeps it open with a message under the field.
type viewResponse struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors,omitempty"`
}

// serveInteraction answers POST /slack/interactivity (signature already
// verified): 200 at once for button clicks (the reply goes through
// response_url), 200 with no body to close a submitted modal, or the
// modal's field errors.
func (a *Adapter) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte) {
	cb, err := parseInteraction(body)
	if err != nil {
		a.log.WarnContext(r.Context(), "slack interaction unreadable", "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, a.interaction(r.Context(), cb))
}

// parseInteraction reads the payload field of an interactivity form body.
func parseInteraction(body []byte) (slack.InteractionCallback, error) {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.InteractionCallback{}, errMalformed
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(f.Get("payload")), &cb); err != nil {
		return slack.InteractionCallback{}, errMalformed
	}
	return cb, nil
}

// interaction handles one interaction (from HTTP or Socket Mode) and
// returns the immediate answer, nil for an empty acknowledgement.
func (a *Adapter) interaction(ctx context.Context, cb slack.InteractionCallback) *viewResponse {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		a.blockAction(ctx, cb)
	case slack.InteractionTypeViewSubmission:
		return a.viewSubmission(ctx, cb)
	}
	return nil
}

// blockAction runs a clicked button: an action runs in the background with
// its reply through response_url; a button with an Input opens a modal
// first (views.open with the click's trigger_id, which lives 3 s, so it
// happens before the acknowledgement).
func (a *Adapter) blockAction(ctx context.Context, cb slack.InteractionCallback) {
	if len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	ba := cb.ActionCallback.BlockActions[0]
	req, err := interactionRequest(cb, a.clock.Now())
	if err != nil {
		a.log.WarnContext(ctx, "slack click unreadable", "err", err)
		return
	}
	if req.Channel.ID == "" {
		req.Channel.ID = cb.Container.ChannelID
	}
	action, wantsInput := ButtonAction(ba.ActionID)
	o := &origin{community: req.Community, user: req.User, channel: req.Channel.ID, responseURL: cb.ResponseURL}
	if wantsInput {
		in := readInputButton(ba.Value, action)
		meta := inputMeta{Action: action, Channel: req.Channel.ID, ChannelName: req.Channel.Name, ResponseURL: cb.ResponseURL}
		if err := a.openInput(ctx, req.Community.ID, cb.TriggerID, ba.Text.Text, in, meta); err != nil {
			a.log.WarnContext(ctx, "slack views.open failed", "team", req.Community.ID, "err", err)
			a.background(ctx, func(ctx context.Context) {
				a.deliver(ctx, o, []bot.Message{{Text: "I couldn't open the form just now. Type the command instead; /missionbot help lists them."}})
			})
		}
		return
	}
	req.Action = action
	a.background(ctx, func(ctx context.Context) {
		a.enrich(ctx, &req)
		if reply := a.do(ctx, req); !reply.Duplicate {
			a.deliverLater(ctx, o, reply.Messages)
		}
	})
}

// openInputWithin bounds views.open: the trigger id expires after 3 s.
const openInputWithin = 2500 * time.Millisecond

// openInput opens the one-field modal for a button's Input, titled with
// the button's label (title), its field labelled and hinted as the core's
// Input said (in; "Your answer" when the button did not carry it),
// carrying meta through to the submission.
func (a *Adapter) openInput(ctx context.Context, team, triggerID, title string, in inputButton, meta inputMeta) error {
	ctx, cancel := context.WithTimeout(ctx, openInputWithin)
	defer cancel()
	api, err := a.api(ctx, team)
	if err != nil {
		return err
	}
	pm, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	title = strings.TrimSpace(title)
	if title == "" || utf8.RuneCountInString(title) > maxModalTitleLen {
		title = "missionbot"
	}
	label := in.Label
	if label == "" {
		label = "Your answer"
	}
	var placeholder *slack.TextBlockObject
	if in.Placeholder != "" {
		placeholder = slack.NewTextBlockObject(slack.PlainTextType, in.Placeholder, false, false)
	}
	input := slack.NewPlainTextInputBlockElement(placeholder, inputActionID)
	input.MaxLength = bot.MaxInputLen
	block := slack.NewInputBlock(inputBlockID, slack.NewTextBlockObject(slack.PlainTextType, label, false, false), nil, input)
	view := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      inputCallbackID,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Submit", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		PrivateMetadata: string(pm),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{block}},
	}
	if _, err := api.OpenViewContext(ctx, triggerID, view); err != nil {
		return err
	}
	return nil
}

// viewSubmission runs the action of a submitted Input modal with the typed
// value: an empty value keeps the modal open with an error; otherwise the
// modal closes and the reply goes to the channel the button was in
// (response_url, else chat.postEphemeral).
func (a *Adapter) viewSubmission(ctx context.Context, cb slack.InteractionCallback) *viewResponse {
	if cb.View.CallbackID != inputCallbackID {
		return nil
	}
	var meta inputMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil || meta.Action == "" {
		a.log.WarnContext(ctx, "slack modal without its action")
		return nil
	}
	value := inputValue(cb.View)
	if value == "" {
		return &viewResponse{ResponseAction: "errors", Errors: map[string]string{inputBlockID: "Please type a value."}}
	}
	req, err := interactionRequest(cb, a.clock.Now())
	if err != nil {
		a.log.WarnContext(ctx, "slack submission unreadable", "err", err)
		return nil
	}
	req.Channel = bot.ChannelRef{ID: meta.Channel, Name: meta.ChannelName}
	req.Action = bot.SubmitAction(meta.Action, value)
	o := &origin{community: req.Community, user: req.User, channel: meta.Channel, responseURL: meta.ResponseURL}
	a.background(ctx, func(ctx context.Context) {
		a.enrich(ctx, &req)
		if reply := a.do(ctx, req); !reply.Duplicate {
			a.deliverLater(ctx, o, reply.Messages)
		}
	})
	return nil
}
