package openai

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Sizes and times of the direct client's connections.
const (
	directMaxIdle     = 1024
	directIdleTimeout = 60 * time.Second
	directDialTimeout = 30 * time.Second
)

// direct is a minimal HTTP/1.1 client for one server, used when
// Config.HTTPClient is nil and no proxy is configured for the server. It
// writes the request and reads the response on the caller's goroutine,
// where net/http's Transport hands each request to a writing goroutine and
// each response back from a reading one: two goroutine switches (and
// often two thread wake-ups) per request, which were most of the latency
// Atrium added to a model call. Connections are kept alive and reused.
type direct struct {
	addr   string // host:port to dial
	host   string // the Host header
	uri    string // the request target: path and query
	tls    *tls.Config
	dialer net.Dialer
	mu     sync.Mutex
	idle   []*directConn // most recently used last
}

// directConn is one connection with its buffers.
type directConn struct {
	nc        net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

// newDirect returns a direct client for endpoint (http or https), or nil
// when one cannot serve it (another scheme, or a proxy to go through).
func newDirect(endpoint string) *direct {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil
	}
	if proxy, err := http.ProxyFromEnvironment(&http.Request{URL: u}); err != nil || proxy != nil {
		return nil
	}
	d := &direct{host: u.Host, uri: u.RequestURI(), dialer: net.Dialer{Timeout: directDialTimeout, KeepAlive: 30 * time.Second}}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	d.addr = net.JoinHostPort(u.Hostname(), port)
	if u.Scheme == "https" {
		d.tls = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
	}
	return d
}

// Do posts body with header and returns the response. Its Body must be
// closed; read to its end first, the connection is used again. ctx ends
// the request at any point, the body's reads included.
func (d *direct) Do(ctx context.Context, header http.Header, body []byte) (*http.Response, error) {
	for try := 0; ; try++ {
		conn, reused, err := d.get(ctx)
		if err != nil {
			return nil, err
		}
		stop := context.AfterFunc(ctx, func() { conn.nc.SetDeadline(time.Unix(1, 0)) })
		res, err := d.roundTrip(conn, header, body)
		if err == nil {
			res.Body = &directBody{body: res.Body, d: d, conn: conn, stop: stop, keep: !res.Close}
			return res, nil
		}
		stop()
		conn.nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// A kept connection the server had closed fails at once, before
		// the server read anything: once more on a new one.
		if reused && try == 0 && stale(err) {
			continue
		}
		return nil, err
	}
}

// roundTrip writes the request on conn and reads the response's head.
func (d *direct) roundTrip(conn *directConn, header http.Header, body []byte) (*http.Response, error) {
	bw := conn.bw
	bw.WriteString("POST ")
	bw.WriteString(d.uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(d.host)
	bw.WriteString("\r\nContent-Length: ")
	bw.WriteString(strconv.Itoa(len(body)))
	bw.WriteString("\r\n")
	if err := header.WriteSubset(bw, framing); err != nil {
		return nil, err
	}
	bw.WriteString("\r\n")
	bw.Write(body)
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	for {
		res, err := http.ReadResponse(conn.br, nil)
		if err != nil {
			return nil, err
		}
		// Informational answers (103 Early Hints) come before the real one.
		if res.StatusCode >= 100 && res.StatusCode < 200 && res.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		return res, nil
	}
}

// framing are the headers the client writes itself.
var framing = map[string]bool{"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true}

// stale reports whether err is how a connection the server closed while
// it was idle fails.
func stale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// get returns an idle connection, or dials a new one.
func (d *direct) get(ctx context.Context) (*directConn, bool, error) {
	now := time.Now()
	d.mu.Lock()
	for n := len(d.idle); n > 0; n = len(d.idle) {
		conn := d.idle[n-1]
		d.idle[n-1] = nil
		d.idle = d.idle[:n-1]
		if now.Sub(conn.idleSince) < directIdleTimeout {
			d.mu.Unlock()
			return conn, true, nil
		}
		// The newest is too old: so are the others.
		old := append([]*directConn{conn}, d.idle...)
		clear(d.idle)
		d.idle = d.idle[:0]
		d.mu.Unlock()
		for _, c := range old {
			c.nc.Close()
		}
		d.mu.Lock()
	}
	d.mu.Unlock()

	nc, err := d.dialer.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, false, err
	}
	if d.tls != nil {
		tc := tls.Client(nc, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, false, err
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
			tc.Close()
			return nil, false, fmt.Errorf("%s negotiated %q, not HTTP/1.1", d.addr, p)
		}
		nc = tc
	}
	return &directConn{nc: nc, br: bufio.NewReaderSize(nc, 8<<10), bw: bufio.NewWriterSize(nc, 4<<10)}, false, nil
}

// put keeps conn for the next request.
func (d *direct) put(conn *directConn) {
	conn.nc.SetDeadline(time.Time{})
	conn.idleSince = time.Now()
	d.mu.Lock()
	if len(d.idle) >= directMaxIdle {
		d.mu.Unlock()
		conn.nc.Close()
		return
	}
	d.idle = append(d.idle, conn)
	d.mu.Unlock()
}

// directBody is a response's body: read to its end and closed, its
// connection goes back to the pool; closed before, the connection is
// closed (the only way to stop a server mid-answer).
type directBody struct {
	body io.ReadCloser
	d    *direct
	conn *directConn
	stop func() bool
	keep bool // the server did not ask to close
	eof  bool
	done bool
}

func (b *directBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, errors.New("read on a closed body")
	}
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *directBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	// stop reports false when ctx ended first and cut the connection.
	if b.stop() && b.eof && b.keep {
		b.d.put(b.conn)
		return nil
	}
	return b.conn.nc.Close()
}
