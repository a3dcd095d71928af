package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"

	goslack "github.com/slack-go/slack"

	"github.com/missionbot/missionbot/bot"
)

// Upload sends f privately to user with Slack's external upload flow:
// files.getUploadURLExternal, the bytes POSTed to the URL it returns, then
// files.completeUploadExternal sharing the file into the user's DM channel
// (conversations.open). channel is used only when user is empty. It needs
// the files:write and im:write scopes. It never retries; errors are
// classified as Post's (a file that could not be shared wraps
// bot.ErrPermanent when Slack says why).
func (p *Poster) Upload(ctx context.Context, team, channel, user string, f bot.File) error {
	if len(f.Data) == 0 {
		return fmt.Errorf("slack upload %q: empty file: %w", f.Name, bot.ErrPermanent)
	}
	name := f.Name
	if name == "" {
		name = "missionbot-export"
	}
	api, err := p.client(ctx, team)
	if err != nil {
		return fmt.Errorf("slack upload: %w", err)
	}
	target := channel
	if user != "" {
		if target, _, err = p.openDM(ctx, api, team, user); err != nil {
			return fmt.Errorf("slack upload: %w", err)
		}
	}
	if target == "" {
		return fmt.Errorf("slack upload %q: no user or channel: %w", name, bot.ErrPermanent)
	}
	u, err := api.GetUploadURLExternalContext(ctx, goslack.GetUploadURLExternalParameters{FileName: name, FileSize: len(f.Data)})
	if err != nil {
		return classify("slack files.getUploadURLExternal", err, false)
	}
	if err := api.UploadToURL(ctx, goslack.UploadToURLParameters{UploadURL: u.UploadURL, Reader: bytes.NewReader(f.Data), Filename: name}); err != nil {
		// The upload URL lets anyone write this file: errors never carry it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s upload URL: %w", ue.Op, ue.Err)
		}
		return classify("slack upload of "+name, err, false)
	}
	_, err = api.CompleteUploadExternalContext(ctx, goslack.CompleteUploadExternalParameters{
		Files:   []goslack.FileSummary{{ID: u.FileID, Title: name}},
		Channel: target,
	})
	if err != nil {
		return classify("slack files.completeUploadExternal to "+target, err, false)
	}
	return nil
}
