package safehttp

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// newServer starts a server on 127.0.0.1 answering "hello" and counting
// the requests it gets, so tests can show a refused request never arrived.
func newServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "hello")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// viaLocalhost is srv's URL with the host name localhost instead of the IP.
func viaLocalhost(srv *httptest.Server) string {
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
}

func get(t *testing.T, c *Client, url string) (string, error) {
	t.Helper()
	resp, err := c.Get(t.Context(), url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestRefusesLoopbackByDefault(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t)
	c := New(Config{})

	_, err := get(t, c, srv.URL)
	if !errors.Is(err, ErrBlocked) {
		t.Fatalf("Get(%s) error = %v, want ErrBlocked", srv.URL, err)
	}
	want := "refusing to connect to 127.0.0.1: loopback address (allow it with ATRIUM_TOOLS_ALLOW_HOSTS)"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
	var be *BlockedError
	if !errors.As(err, &be) || be.Reason != "loopback address" || be.Addr.String() != "127.0.0.1" {
		t.Errorf("BlockedError = %+v", be)
	}

	// A name resolving to loopback is refused on its address.
	_, err = get(t, c, viaLocalhost(srv))
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "refusing to connect to localhost (") {
		t.Errorf("Get(localhost) error = %v, want ErrBlocked naming localhost", err)
	}

	// HTTPClient, for SDKs, is guarded the same way.
	resp, err := c.HTTPClient().Get(srv.URL)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrBlocked) {
		t.Errorf("HTTPClient().Get error = %v, want ErrBlocked", err)
	}

	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests, want none", n)
	}
}

func TestOperatorAllows(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t)
	tests := []struct {
		allow, url string
		ok         bool
	}{
		{"127.0.0.1", srv.URL, true},
		{"127.0.0.0/8", srv.URL, true},
		{"127.0.0.0/8", viaLocalhost(srv), true}, // prefixes match the address, whatever the name
		{"localhost", viaLocalhost(srv), true},
		{"LOCALHOST", viaLocalhost(srv), true},
		{"localhost", srv.URL, false}, // a name matches only that name
		{"127.0.0.2", srv.URL, false},
		{"10.0.0.0/8", srv.URL, false},
	}
	for _, tt := range tests {
		c := New(Config{Allow: []string{tt.allow}})
		body, err := get(t, c, tt.url)
		switch {
		case tt.ok && (err != nil || body != "hello"):
			t.Errorf("allow %q, Get(%s) = %q, %v; want hello", tt.allow, tt.url, body, err)
		case !tt.ok && !errors.Is(err, ErrBlocked):
			t.Errorf("allow %q, Get(%s) error = %v; want ErrBlocked", tt.allow, tt.url, err)
		}
	}
}

func TestRedirectToBlockedAddress(t *testing.T) {
	t.Parallel()
	target, targetHits := newServer(t)
	redirect := func(to string) *httptest.Server {
		srv := httptest.NewServer(http.RedirectHandler(to, http.StatusFound))
		t.Cleanup(srv.Close)
		return srv
	}

	// Allowed by IP, redirecting to the metadata address: refused before
	// any packet leaves.
	c := New(Config{Allow: []string{"127.0.0.1"}})
	_, err := get(t, c, redirect("http://169.254.169.254/latest/meta-data/").URL)
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "cloud metadata address") {
		t.Errorf("redirect to metadata: error = %v, want ErrBlocked for the metadata address", err)
	}

	// Allowed by name, redirecting to the same host by IP.
	c = New(Config{Allow: []string{"localhost"}})
	_, err = get(t, c, viaLocalhost(redirect(target.URL)))
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "127.0.0.1: loopback address") {
		t.Errorf("redirect to 127.0.0.1: error = %v, want ErrBlocked", err)
	}
	if n := targetHits.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests, want none", n)
	}

	// A redirect to another scheme.
	c = New(Config{Allow: []string{"127.0.0.1"}})
	_, err = get(t, c, redirect("file:///etc/passwd").URL)
	if !errors.Is(err, ErrBadURL) {
		t.Errorf("redirect to file: error = %v, want ErrBadURL", err)
	}
}

func TestRedirectLimit(t *testing.T) {
	t.Parallel()
	// /n redirects to /n-1; /0 answers.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/0" {
			io.WriteString(w, "arrived")
			return
		}
		n := strings.TrimPrefix(r.URL.Path, "/")
		http.Redirect(w, r, "/"+string(rune(n[0]-1)), http.StatusMovedPermanently)
	}))
	t.Cleanup(srv.Close)

	c := New(Config{Allow: []string{"127.0.0.1"}, MaxRedirects: 2})
	if body, err := get(t, c, srv.URL+"/2"); err != nil || body != "arrived" {
		t.Errorf("2 redirects with MaxRedirects 2: %q, %v", body, err)
	}
	if _, err := get(t, c, srv.URL+"/3"); err == nil || !strings.Contains(err.Error(), "stopped after 2 redirects") {
		t.Errorf("3 redirects with MaxRedirects 2: error = %v", err)
	}
	if body, err := get(t, New(Config{Allow: []string{"127.0.0.1"}}), srv.URL+"/5"); err != nil || body != "arrived" {
		t.Errorf("5 redirects by default: %q, %v", body, err)
	}

	c = New(Config{Allow: []string{"127.0.0.1"}, MaxRedirects: -1})
	resp, err := c.Get(t.Context(), srv.URL+"/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Errorf("MaxRedirects -1: status %d, want the redirect itself", resp.StatusCode)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/100":
			w.Write(bytes.Repeat([]byte("a"), 100))
		case "/101":
			w.Write(bytes.Repeat([]byte("a"), 101))
		case "/bomb":
			// Small on the wire, huge once the transport decompresses it.
			if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				http.Error(w, "want gzip", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(make([]byte, 1<<20))
			zw.Close()
		}
	}))
	t.Cleanup(srv.Close)
	c := New(Config{Allow: []string{"127.0.0.1"}, MaxBodyBytes: 100})

	if body, err := get(t, c, srv.URL+"/100"); err != nil || len(body) != 100 {
		t.Errorf("100 bytes with a 100-byte limit: %d bytes, %v", len(body), err)
	}
	body, err := get(t, c, srv.URL+"/101")
	if !errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Errorf("101 bytes with a 100-byte limit: error = %v, want ErrBodyTooLarge", err)
	}
	if len(body) != 100 {
		t.Errorf("101 bytes with a 100-byte limit: kept %d bytes, want the first 100", len(body))
	}
	if _, err := get(t, c, srv.URL+"/bomb"); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("gzip bomb: error = %v, want ErrBodyTooLarge", err)
	}
}

func TestBadURLs(t *testing.T) {
	t.Parallel()
	c := New(Config{Allow: []string{"127.0.0.0/8"}})
	for _, u := range []string{
		"ftp://127.0.0.1/",
		"file:///etc/passwd",
		"gopher://127.0.0.1:70/",
		"http://user:pass@127.0.0.1/",
		"https://trusted.example@127.0.0.1/",
		"http:///path",
	} {
		if _, err := get(t, c, u); !errors.Is(err, ErrBadURL) {
			t.Errorf("Get(%q) error = %v, want ErrBadURL", u, err)
		}
	}
}

func TestMetadataHostRefusedByName(t *testing.T) {
	t.Parallel()
	c := New(Config{})
	_, err := get(t, c, "http://Metadata.Google.Internal./computeMetadata/v1/")
	var be *BlockedError
	if !errors.As(err, &be) || be.Reason != "cloud metadata host" || be.Addr.IsValid() {
		t.Errorf("error = %v, want a BlockedError by name", err)
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	got := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("User-Agent")
	}))
	t.Cleanup(srv.Close)
	c := New(Config{Allow: []string{"127.0.0.1"}})

	if _, err := get(t, c, srv.URL); err != nil {
		t.Fatal(err)
	}
	if ua := <-got; ua != DefaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", ua, DefaultUserAgent)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	req.Header.Set("User-Agent", "custom")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ua := <-got; ua != "custom" {
		t.Errorf("User-Agent = %q, want the request's own", ua)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answer only once the client has given up
	}))
	t.Cleanup(srv.Close)
	c := New(Config{Allow: []string{"127.0.0.1"}, Timeout: 50 * time.Millisecond})
	_, err := get(t, c, srv.URL)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want a timeout", err)
	}
}

func TestNoProxyFromEnvironment(t *testing.T) {
	t.Parallel()
	// A proxy would be the address dialed and checked, hiding the target;
	// the transport must not consult HTTP_PROXY and friends.
	tr := New(Config{}).HTTPClient().Transport.(*guard).next.(*http.Transport)
	if tr.Proxy != nil {
		t.Error("the transport has a Proxy function")
	}
}

func TestFormatSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0 bytes", 1: "1 byte", 1023: "1023 bytes", 1024: "1 KiB", 1536: "1.5 KiB",
		5 << 20: "5 MiB", 3 << 30: "3 GiB",
	} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
