package qdrant

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/atrium-hq/atrium/persistence/qdrant/qdranttest"
)

func TestEnsure(t *testing.T) {
	t.Parallel()
	url, srv := qdranttest.New(t)
	s := newStore(t, Config{URL: url})
	ctx := context.Background()
	if err := s.Ensure(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if ix := srv.PayloadIndexes(DefaultCollection); ix["agent_id"] != "keyword" || ix["version"] != "integer" || len(ix) != 2 {
		t.Fatalf("payload indexes %v", ix)
	}
	n := len(srv.Requests())
	if err := s.Ensure(ctx, 4); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	if got := srv.Requests()[n:]; len(got) != 1 || got[0] != "GET /collections/atrium_rag" {
		t.Fatalf("second Ensure sent %q, want only the collection's GET", got)
	}

	err := s.Ensure(ctx, 5)
	if !errors.Is(err, ErrVectorSize) || !strings.Contains(err.Error(), "size 4") || !strings.Contains(err.Error(), "gives 5") {
		t.Fatalf("Ensure with another size: %v", err)
	}
	if err := s.Ensure(ctx, 0); err == nil {
		t.Fatal("Ensure(0) accepted")
	}
	// Another collection is independent.
	if err := newStore(t, Config{URL: url, Collection: "rag_5"}).Ensure(ctx, 5); err != nil {
		t.Fatal(err)
	}
}

// TestEnsureRepairs checks Ensure on collections it did not create: missing
// payload indexes are added, another distance is refused.
func TestEnsureRepairs(t *testing.T) {
	t.Parallel()
	url, srv := qdranttest.New(t)
	ctx := context.Background()
	s := newStore(t, Config{URL: url, Collection: "bare"})
	if err := s.call(ctx, "create", http.MethodPut, s.path(""), createCollection{Vectors: vectorParams{Size: 2, Distance: "Cosine"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Ensure(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if ix := srv.PayloadIndexes("bare"); len(ix) != 2 {
		t.Fatalf("payload indexes %v", ix)
	}
	d := newStore(t, Config{URL: url, Collection: "dot"})
	if err := d.call(ctx, "create", http.MethodPut, d.path(""), createCollection{Vectors: vectorParams{Size: 2, Distance: "Dot"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Ensure(ctx, 2); err == nil || !strings.Contains(err.Error(), "Dot distance") {
		t.Fatalf("Ensure of a Dot collection: %v", err)
	}
}

// TestEnsureCreatedMeanwhile checks Ensure when another process creates the
// collection between its GET and its PUT (Qdrant answers 409).
func TestEnsureCreatedMeanwhile(t *testing.T) {
	t.Parallel()
	qurl, srv := qdranttest.New(t)
	ctx := context.Background()
	if err := newStore(t, Config{URL: qurl}).Ensure(ctx, 3); err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(qurl)
	if err != nil {
		t.Fatal(err)
	}
	var first atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(target)
	race := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && first.CompareAndSwap(false, true) { // as seen before the other process
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"status":{"error":"Not found: Collection ` + "`atrium_rag`" + ` doesn't exist!"},"time":0.0}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(race.Close)
	n := len(srv.Requests())
	if err := newStore(t, Config{URL: race.URL}).Ensure(ctx, 3); err != nil {
		t.Fatalf("Ensure racing another process: %v", err)
	}
	if got := srv.Requests()[n:]; strings.Join(got, ",") != "PUT /collections/atrium_rag,GET /collections/atrium_rag" {
		t.Fatalf("requests %q", got)
	}
	if err := newStore(t, Config{URL: race.URL}).Ensure(ctx, 4); !errors.Is(err, ErrVectorSize) {
		t.Fatalf("Ensure with another size after the race: %v", err)
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	url, _ := qdranttest.New(t)
	if err := newStore(t, Config{URL: url}).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if err := newStore(t, Config{URL: dead.URL}).Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "list collections") {
		t.Fatalf("ping of a closed server: %v", err)
	}
}
