package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
)

// pgProxy forwards PostgreSQL connections to an upstream server and counts
// the statements clients run: each simple Query ('Q') and each extended
// protocol Execute ('E') message. Safe for concurrent use.
type pgProxy struct {
	ln       net.Listener
	upstream string
	stmts    atomic.Int64
	wg       sync.WaitGroup
}

// startPGProxy listens on a free loopback port and forwards to upstream
// ("host:port") until Close.
func startPGProxy(upstream string) (*pgProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pg proxy: %w", err)
	}
	p := &pgProxy{ln: ln, upstream: upstream}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the proxy's "host:port".
func (p *pgProxy) Addr() string { return p.ln.Addr().String() }

// Statements is how many statements have gone through so far.
func (p *pgProxy) Statements() int64 { return p.stmts.Load() }

// Close stops accepting; open connections end when either side closes.
func (p *pgProxy) Close() error { return p.ln.Close() }

func (p *pgProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *pgProxy) serve(client net.Conn) {
	defer client.Close()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		_, _ = io.Copy(client, up)
		client.Close()
	}()
	_ = countMessages(bufio.NewReader(client), up, &p.stmts)
}

// Startup-phase request codes that are followed by another untyped message.
const (
	pgSSLRequest = 80877103
	pgGSSRequest = 80877104
)

// countMessages copies the client's side of a PostgreSQL session from r to
// w, adding one to n for each Query or Execute message, until r ends.
func countMessages(r *bufio.Reader, w io.Writer, n *atomic.Int64) error {
	// Untyped startup messages: length, then payload whose first int32 is
	// a protocol version or a request code.
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		size := int(binary.BigEndian.Uint32(hdr[:4]))
		if size < 8 {
			return errors.New("pg proxy: bad startup message")
		}
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(w, r, int64(size-8)); err != nil {
			return err
		}
		code := binary.BigEndian.Uint32(hdr[4:])
		if code != pgSSLRequest && code != pgGSSRequest {
			break
		}
	}
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		size := int(binary.BigEndian.Uint32(hdr[1:]))
		if size < 4 {
			return errors.New("pg proxy: bad message length")
		}
		if hdr[0] == 'Q' || hdr[0] == 'E' {
			n.Add(1)
		}
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(w, r, int64(size-4)); err != nil {
			return err
		}
	}
}

// proxyDSN is dsn with its host and port replaced by addr. It handles URL
// DSNs ("postgres://…@host:port/db?…").
func proxyDSN(dsn, addr string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "", errors.New("pg proxy: the DSN must be a postgres:// URL")
	}
	u.Host = addr
	return u.String(), nil
}
