package fault

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Gate is a TCP proxy on 127.0.0.1 in front of one server. While open it
// forwards bytes both ways; while held it accepts connections and reads what
// arrives but forwards nothing, so every query through it stalls (nothing
// fails) until the gate opens again. Its methods are safe for concurrent use.
type Gate struct {
	t      testing.TB
	target string
	ln     net.Listener

	mu     sync.Mutex
	opened chan struct{} // closed while the gate is open
	closed chan struct{} // closed when the gate shuts down
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// StartGate listens on a free port and forwards to target, open. It shuts
// down (closing every connection) when the test ends.
func StartGate(t testing.TB, target string) *Gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &Gate{t: t, target: target, ln: ln, opened: make(chan struct{}), closed: make(chan struct{}),
		conns: map[net.Conn]struct{}{}}
	close(g.opened)
	g.wg.Add(1)
	go g.accept()
	t.Cleanup(g.shutdown)
	return g
}

// Addr is the gate's host:port: point clients here instead of at the target.
func (g *Gate) Addr() string { return g.ln.Addr().String() }

// Hold stops forwarding: bytes already sent are delivered, later ones wait.
func (g *Gate) Hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.opened:
		g.opened = make(chan struct{})
	default:
	}
}

// Open forwards again, releasing everything held.
func (g *Gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.opened:
	default:
		close(g.opened)
	}
}

// wait blocks until the gate is open; it reports false when the gate shut down.
func (g *Gate) wait() bool {
	g.mu.Lock()
	opened := g.opened
	g.mu.Unlock()
	select {
	case <-opened:
		return true
	case <-g.closed:
		return false
	}
}

func (g *Gate) accept() {
	defer g.wg.Done()
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.wg.Add(1)
		go g.serve(c)
	}
}

// serve connects c to the target and copies both ways through the gate.
func (g *Gate) serve(c net.Conn) {
	defer g.wg.Done()
	if !g.track(c) {
		c.Close()
		return
	}
	defer g.untrack(c)
	up, err := net.Dial("tcp", g.target)
	if err != nil {
		c.Close()
		return
	}
	if !g.track(up) {
		up.Close()
		c.Close()
		return
	}
	defer g.untrack(up)
	done := make(chan struct{}, 2)
	go func() { g.copy(up, c); done <- struct{}{} }()
	go func() { g.copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
}

// copy forwards src to dst chunk by chunk, each chunk only while open.
func (g *Gate) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !g.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
	}
}

func (g *Gate) track(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.closed:
		return false
	default:
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *Gate) untrack(c net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.conns, c)
}

func (g *Gate) shutdown() {
	g.mu.Lock()
	select {
	case <-g.closed:
		g.mu.Unlock()
		return
	default:
	}
	close(g.closed)
	_ = g.ln.Close()
	for c := range g.conns {
		_ = c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}
