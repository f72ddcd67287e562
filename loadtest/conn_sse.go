package main

// Atrium's server-sent events transport, GET /chat/{id}/events: the join
// is the request itself, "event: ready" carries the join ack, then every
// event comes as "id: <seq>" and "data: <envelope>". It is read-only.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type sseConn struct {
	nc   net.Conn
	body io.ReadCloser
	s    sink

	stopping  atomic.Bool
	closeOnce sync.Once
	doneCh    chan struct{}
	mu        sync.Mutex
	err       error
}

// connectSSE speaks HTTP/1.1 on a plain TCP connection: one goroutine per
// stream and no pooling between the load generator and the server.
func connectSSE(ctx context.Context, base, token, chat string, s sink) (conn, uint64, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, 0, err
	}
	nc, err := (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, 0, err
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	path := "/chat/" + url.PathEscape(chat) + "/events?token=" + url.QueryEscape(token)
	if _, err := io.WriteString(nc, "GET "+path+" HTTP/1.1\r\nHost: "+u.Host+"\r\nAccept: text/event-stream\r\n\r\n"); err != nil {
		nc.Close()
		return nil, 0, err
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		nc.Close()
		return nil, 0, fmt.Errorf("GET /chat/…/events: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	c := &sseConn{nc: nc, body: resp.Body, s: s, doneCh: make(chan struct{})}
	// The chunked body reads through br; lines are read from it.
	lines := bufio.NewReaderSize(resp.Body, 4096)
	ready, err := c.readEvent(lines, nil)
	if err != nil || ready.name != "ready" {
		nc.Close()
		if err == nil {
			err = fmt.Errorf("first event %q, want ready", ready.name)
		}
		return nil, 0, err
	}
	if err := checkAck(ready.data); err != nil {
		nc.Close()
		return nil, 0, err
	}
	seq, _ := ackSeq(ready.data)
	s.joined(seq)
	nc.SetDeadline(time.Time{})
	go c.readLoop(lines)
	return c, seq, nil
}

// sseEvent is one parsed event; data is only valid until the next read.
type sseEvent struct {
	name string
	data []byte
}

// readEvent reads lines up to the blank line ending an event. Comments
// (": ping") are skipped. buf is reused for data.
func (c *sseConn) readEvent(r *bufio.Reader, buf []byte) (sseEvent, error) {
	ev := sseEvent{data: buf[:0]}
	var line []byte
	for {
		l, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			line = append(line[:0], l...)
			for err == bufio.ErrBufferFull {
				l, err = r.ReadSlice('\n')
				line = append(line, l...)
			}
			l = line
		}
		if err != nil {
			return ev, err
		}
		l = bytes.TrimRight(l, "\r\n")
		if len(l) == 0 {
			if ev.name == "" && len(ev.data) == 0 {
				continue // a comment's blank line
			}
			return ev, nil
		}
		if l[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(l, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			ev.name = string(value)
		case "data":
			if len(ev.data) > 0 {
				ev.data = append(ev.data, '\n')
			}
			ev.data = append(ev.data, value...)
		}
	}
}

func (c *sseConn) readLoop(r *bufio.Reader) {
	defer close(c.doneCh)
	buf := make([]byte, 0, 1024)
	for {
		ev, err := c.readEvent(r, buf)
		if err != nil {
			c.fail(err)
			return
		}
		buf = ev.data
		switch ev.name {
		case "", "message":
			c.s.event(ev.data, time.Now())
		case "disconnect_reason":
			c.fail(fmt.Errorf("disconnected by the server: %s", ev.data))
		}
	}
}

func (c *sseConn) send(context.Context, string, string, string, string) ([]string, error) {
	return nil, errors.New("SSE is read-only: send over ws or sio")
}

func (c *sseConn) fail(err error) {
	if c.stopping.Load() {
		return
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

func (c *sseConn) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *sseConn) done() <-chan struct{} { return c.doneCh }

func (c *sseConn) close() {
	c.closeOnce.Do(func() {
		c.stopping.Store(true)
		c.nc.Close()
	})
	<-c.doneCh
}
