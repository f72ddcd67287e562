package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/gateway"
)

// bodyEcho answers with the request body's length, or with the error that
// reading it gave (400). After reading, it waits for hold, so that a test
// can see the request outlive the idle limit once the body has ended.
func bodyEcho(hold time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			stalled := errors.Is(err, gateway.ErrBodyStalled)
			http.Error(w, fmt.Sprintf("stalled=%v %v", stalled, err), http.StatusBadRequest)
			return
		}
		if hold > 0 {
			select {
			case <-time.After(hold):
			case <-r.Context().Done():
				http.Error(w, "request cancelled", http.StatusInternalServerError)
				return
			}
		}
		fmt.Fprintf(w, "read %d", len(b))
	})
}

// rawRequest writes head and then body's pieces to a new connection to
// srv, each piece after pause, and returns the response.
func rawRequest(t *testing.T, srv *httptest.Server, head string, pause time.Duration, pieces ...string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	for _, p := range pieces {
		time.Sleep(pause)
		if _, err := io.WriteString(c, p); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestABodyThatStopsArrivingFailsTheRequest(t *testing.T) {
	const idle = 200 * time.Millisecond
	srv := httptest.NewServer(gateway.LimitBodyIdle(bodyEcho(0), idle))
	defer srv.Close()

	// Half a body, then nothing: the connection is not held for ever.
	start := time.Now()
	resp, body := rawRequest(t, srv, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789", 0)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "stalled=true") || !strings.Contains(body, "nothing arrived for 200ms") {
		t.Fatalf("half a body: %d %q", resp.StatusCode, body)
	}
	if d := time.Since(start); d < idle {
		t.Fatalf("failed after %v, before the idle limit", d)
	}

	// The same for a chunked body that stops between chunks.
	resp, body = rawRequest(t, srv, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 0)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "stalled=true") {
		t.Fatalf("chunked: %d %q", resp.StatusCode, body)
	}
}

func TestASlowBodyThatKeepsArrivingIsRead(t *testing.T) {
	const idle = time.Second
	srv := httptest.NewServer(gateway.LimitBodyIdle(bodyEcho(0), idle))
	defer srv.Close()

	// Ten pieces 150 ms apart: the body takes longer than the idle limit,
	// but no single wait does.
	pieces := strings.Split("abcdefghij", "")
	resp, body := rawRequest(t, srv, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n", 150*time.Millisecond, pieces...)
	if resp.StatusCode != http.StatusOK || body != "read 10" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}

func TestTheIdleLimitEndsWithTheBody(t *testing.T) {
	const idle = 200 * time.Millisecond
	srv := httptest.NewServer(gateway.LimitBodyIdle(bodyEcho(3*idle), idle))
	defer srv.Close()

	// A handler that answers long after the body ended (a streamed answer)
	// is neither cut nor cancelled, and the connection stays usable.
	for i := range 2 {
		resp, err := srv.Client().Post(srv.URL, "text/plain", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "read 5" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, b)
		}
	}

	// A request without a body, and a handler's own deadlines, are left
	// alone.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "read 0" {
		t.Fatalf("GET: %d %q", resp.StatusCode, b)
	}
}
