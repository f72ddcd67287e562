package qdrant

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/persistence/qdrant/qdranttest"
)

// newStore is a Store for the Qdrant at url, failing t on a bad config.
func newStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, bad := range []Config{
		{},
		{URL: "127.0.0.1:6333"},
		{URL: "ftp://qdrant:6333"},
		{URL: "http://"},
		{URL: "http://qdrant:6333/?x=1"},
		{URL: "http://qdrant:6333", Collection: "a/b"},
		{URL: "http://qdrant:6333", Collection: " rag"},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
	s := newStore(t, Config{URL: "https://qdrant.example:6333/"})
	if s.base != "https://qdrant.example:6333" || s.Collection() != DefaultCollection || s.client.Timeout != 30*time.Second {
		t.Fatalf("defaults: base %q, collection %q, timeout %v", s.base, s.Collection(), s.client.Timeout)
	}
	c := &http.Client{}
	if s := newStore(t, Config{URL: "http://q/prefix", Collection: "c", Client: c}); s.client != c || s.base+s.path("") != "http://q/prefix/collections/c" {
		t.Fatalf("explicit config not kept: %q", s.base+s.path(""))
	}
}

func TestAPIKey(t *testing.T) {
	t.Parallel()
	const key = "s3cret-key"
	url, srv := qdranttest.NewWithKey(t, key)
	ctx := context.Background()
	if err := newStore(t, Config{URL: url, APIKey: key}).Ensure(ctx, 3); err != nil {
		t.Fatalf("with the key: %v", err)
	}
	for _, tc := range []struct{ key, want string }{
		{"", "Must provide an API key"},
		{"wrong", "Invalid API key"},
	} {
		err := newStore(t, Config{URL: url, APIKey: tc.key}).Ping(ctx)
		var qe *Error
		if !errors.As(err, &qe) || qe.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("key %q: %v, want a 401 saying %q", tc.key, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("error shows the key: %v", err)
		}
	}
	want := []string{
		"GET /collections/atrium_rag",
		"PUT /collections/atrium_rag",
		"PUT /collections/atrium_rag/index",
		"PUT /collections/atrium_rag/index",
		"GET /collections",
		"GET /collections",
	}
	if got := srv.Requests(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests %q, want %q", got, want)
	}
}

func TestErrorAnswers(t *testing.T) {
	t.Parallel()
	url, _ := qdranttest.New(t)
	s := newStore(t, Config{URL: url})
	ctx := context.Background()

	_, err := s.Search(ctx, "a", 1, []float32{1, 0, 0}, 3, 0)
	if !NotFound(err) || !strings.Contains(err.Error(), "query points: 404 Not Found: Not found: Collection `atrium_rag` doesn't exist!") {
		t.Fatalf("search of a missing collection: %v", err)
	}
	if err := s.Ensure(ctx, 3); err != nil {
		t.Fatal(err)
	}
	err = s.Upsert(ctx, []Point{{Agent: "a", Version: 1, Vector: []float32{1, 2}}})
	var qe *Error
	if !errors.As(err, &qe) || qe.Status != http.StatusBadRequest || qe.Op != "upsert points" ||
		qe.Message != "Wrong input: Vector dimension error: expected dim: 3, got 2" {
		t.Fatalf("upsert of a short vector: %#v", err)
	}

	// A proxy's long HTML page: cut, on one line.
	page := "<html>\n<body>" + strings.Repeat("Bad gateway. ", 2000) + "</body></html>"
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, page, http.StatusBadGateway)
	}))
	t.Cleanup(proxy.Close)
	err = newStore(t, Config{URL: proxy.URL}).Ping(ctx)
	if !errors.As(err, &qe) || qe.Status != http.StatusBadGateway || !strings.HasPrefix(qe.Message, "<html> <body>Bad gateway.") ||
		len(qe.Message) > maxMessageLen+len("…") || !strings.HasSuffix(qe.Message, "…") {
		t.Fatalf("502 with a long body: %v", err)
	}
}

// TestWrongAnswers checks that answers of another shape are errors, not
// empty results.
func TestWrongAnswers(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`not json`,
		`{"result":{"points":[]},"status":{"error":"x"}}`,
		`{"result":{"points":[]}}`,
		`{"result":null,"status":"ok"}`,
		`{"result":[],"status":"ok"}`,
		`{"result":{"pts":[]},"status":"ok"}`,
		`{"result":{"points":[{"id":1,"score":0.9,"payload":{"title":"t","text":"x"}}]},"status":"ok"}`,
		`{"result":{"points":[{"id":1,"payload":{"idx":0,"title":"t","text":"x"}}]},"status":"ok"}`,
		`{"result":{"points":[{"id":1,"score":"high","payload":{"idx":0,"title":"t","text":"x"}}]},"status":"ok"}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(body))
		}))
		hits, err := newStore(t, Config{URL: srv.URL}).Search(context.Background(), "a", 1, []float32{1}, 3, 0)
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "unexpected answer") {
			t.Errorf("answer %s: hits %v, error %v", body, hits, err)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	t.Parallel()
	url, srv := qdranttest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := newStore(t, Config{URL: url}).Ensure(ctx, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("ensure with a canceled context: %v", err)
	}
	if r := srv.Requests(); len(r) != 0 {
		t.Fatalf("requests sent with a canceled context: %q", r)
	}

	// Canceled while Qdrant is answering.
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := newStore(t, Config{URL: slow.URL}).Search(ctx, "a", 1, []float32{1}, 3, 0)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "query points") {
		t.Fatalf("search canceled midway: %v", err)
	}
}

func TestPointID(t *testing.T) {
	t.Parallel()
	id := pointID("agent", 7, 3)
	if id != pointID("agent", 7, 3) {
		t.Fatal("pointID is not deterministic")
	}
	if len(id) != 36 || id[8] != '-' || id[14] != '5' || !strings.ContainsRune("89ab", rune(id[19])) {
		t.Fatalf("pointID = %q, not a version 5 UUID", id)
	}
	seen := map[string]bool{}
	for _, c := range [][3]any{{"agent", int64(7), 3}, {"agent", int64(7), 4}, {"agent", int64(8), 3}, {"agent1", int64(7), 3}, {"agent:1", int64(7), 3}} {
		id := pointID(c[0].(string), c[1].(int64), c[2].(int))
		if seen[id] {
			t.Fatalf("pointID(%v) repeats %s", c, id)
		}
		seen[id] = true
	}
}

func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"status":{"error":"Not found: Collection ` + "`x`" + ` doesn't exist!"},"time":0.1}`))
	f.Add([]byte("Must provide an API key or an Authorization bearer token"))
	f.Add([]byte("\xff\xfe<html>\n\t</html>"))
	f.Add([]byte(`{"status":"ok"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m := errorMessage(body)
		if !utf8.ValidString(m) || strings.ContainsAny(m, "\n\r\t") || len(m) > maxMessageLen+len("…") {
			t.Fatalf("errorMessage(%q) = %q", body, m)
		}
	})
}
