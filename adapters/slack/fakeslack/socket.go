package fakeslack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
)

// Socket is a fake Socket Mode endpoint: apps.connections.open answers its
// ws:// URL, a client that dials it (with Slack's Origin) gets "hello", and
// Send delivers envelopes to the client and returns its acks. Safe for
// concurrent use.
type Socket struct {
	s        *Server
	upgrader websocket.Upgrader
	ready    chan struct{}
	once     sync.Once

	mu     sync.Mutex
	conn   *websocket.Conn
	wmu    sync.Mutex // gorilla connections allow one writer at a time
	acks   map[string]chan json.RawMessage
	dialed int
}

// ServeSocket serves Socket Mode on s (path /socket) and makes
// apps.connections.open answer its URL.
func (s *Server) ServeSocket() *Socket {
	k := &Socket{s: s, ready: make(chan struct{}), acks: map[string]chan json.RawMessage{}}
	k.upgrader = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
		return r.Header.Get("Origin") == "https://api.slack.com"
	}}
	s.Handle("/socket", http.HandlerFunc(k.serve))
	s.SetSocketURL("ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket")
	return k
}

// Dials returns how many connections the client opened.
func (k *Socket) Dials() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dialed
}

func (k *Socket) serve(w http.ResponseWriter, r *http.Request) {
	conn, err := k.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	hello := map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": AppID}, "debug_info": map[string]any{"host": "fake"}}
	k.wmu.Lock()
	err = conn.WriteJSON(hello)
	k.wmu.Unlock()
	if err != nil {
		_ = conn.Close()
		return
	}
	k.mu.Lock()
	k.conn = conn
	k.dialed++
	k.mu.Unlock()
	k.once.Do(func() { close(k.ready) })
	go func() {
		<-k.s.closing
		_ = conn.Close()
	}()
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			return
		}
		k.mu.Lock()
		ch := k.acks[ack.EnvelopeID]
		delete(k.acks, ack.EnvelopeID)
		k.mu.Unlock()
		if ch != nil {
			ch <- ack.Payload
		}
	}
}

// Send waits for a client to be connected, sends envelope (a Socket Mode
// message with an envelope_id, such as Slack's slash_commands example)
// and returns the payload of the client's ack for it (null or absent: an
// empty ack), or ctx's error.
func (k *Socket) Send(ctx context.Context, envelope []byte) (json.RawMessage, error) {
	var head struct {
		EnvelopeID string `json:"envelope_id"`
	}
	if err := json.Unmarshal(envelope, &head); err != nil || head.EnvelopeID == "" {
		return nil, errors.New("fakeslack: envelope without envelope_id")
	}
	select {
	case <-k.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("fakeslack: no socket mode client connected: %w", ctx.Err())
	}
	ch := make(chan json.RawMessage, 1)
	k.mu.Lock()
	k.acks[head.EnvelopeID] = ch
	conn := k.conn
	k.mu.Unlock()
	k.wmu.Lock()
	err := conn.WriteMessage(websocket.TextMessage, envelope)
	k.wmu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("fakeslack: send envelope: %w", err)
	}
	select {
	case p := <-ch:
		return p, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("fakeslack: no ack for %s: %w", head.EnvelopeID, ctx.Err())
	}
}
