package slack

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/missionbot/missionbot/adapters/slack/fakeslack"
	"github.com/missionbot/missionbot/bot"
)

func TestUploadSharesPrivatelyInDM(t *testing.T) {
	s := fakeslack.New(t)
	p := newTestPoster(t, s)
	data := []byte("date,goal,amount\n2026-12-01,plant-1000-trees,10\n")
	f := bot.File{Name: "myimpact.csv", ContentType: "text/csv", Data: data}
	if err := p.Upload(t.Context(), fakeslack.Team, "C0GENERAL", "U0ALICE", f); err != nil {
		t.Fatal(err)
	}
	files := s.Files()
	if len(files) != 1 {
		t.Fatalf("%d files, want 1", len(files))
	}
	got := files[0]
	dm := fakeslack.DMChannel("U0ALICE")
	if !bytes.Equal(got.Data, data) || got.Name != "myimpact.csv" || got.Title != "myimpact.csv" || len(got.Channels) != 1 || got.Channels[0] != dm {
		t.Errorf("file = %+v, want the CSV shared to %s only", got, dm)
	}
	req := s.Calls("files.getUploadURLExternal")
	if len(req) != 1 || req[0].Form.Get("filename") != "myimpact.csv" || req[0].Form.Get("length") != "48" {
		t.Errorf("getUploadURLExternal calls = %+v", req)
	}
	if len(s.Messages("C0GENERAL")) != 0 {
		t.Error("the export was posted in the channel")
	}
}

func TestUploadFailures(t *testing.T) {
	f := bot.File{Name: "export.csv", Data: []byte("a,b\n")}
	t.Run("empty file", func(t *testing.T) {
		s := fakeslack.New(t)
		err := newTestPoster(t, s).Upload(t.Context(), fakeslack.Team, "C1", "U1", bot.File{Name: "x.csv"})
		if !errors.Is(err, bot.ErrPermanent) || len(s.Calls("")) != 0 {
			t.Errorf("err = %v with %d calls; want ErrPermanent and no call", err, len(s.Calls("")))
		}
	})
	t.Run("upload URL refuses", func(t *testing.T) {
		s := fakeslack.New(t)
		s.Fail("upload", fakeslack.Failure{Status: http.StatusInternalServerError})
		if err := newTestPoster(t, s).Upload(t.Context(), fakeslack.Team, "C1", "U1", f); err == nil {
			t.Fatal("want an error")
		}
		if len(s.Calls("files.completeUploadExternal")) != 0 {
			t.Error("completed an upload whose bytes were refused")
		}
	})
	t.Run("upload URL drops the connection", func(t *testing.T) {
		s := fakeslack.New(t)
		s.Fail("upload", fakeslack.Failure{Reset: true})
		err := newTestPoster(t, s).Upload(t.Context(), fakeslack.Team, "C1", "U1", f)
		// The upload URL is a short-lived credential to write the file:
		// it never reaches an error (and so a log line).
		if err == nil || strings.Contains(err.Error(), "/upload/") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("DM closed", func(t *testing.T) {
		s := fakeslack.New(t)
		s.SetChannelError(fakeslack.DMChannel("U1"), "messages_tab_disabled")
		err := newTestPoster(t, s).Upload(t.Context(), fakeslack.Team, "C1", "U1", f)
		if !errors.Is(err, bot.ErrPermanent) {
			t.Errorf("err = %v, want ErrPermanent", err)
		}
	})
}
