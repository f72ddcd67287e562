package qdrant

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/persistence/qdrant/qdranttest"
)

// ensured is a Store on a new qdranttest server with a collection of dims.
func ensured(t *testing.T, dims int) (*Store, *qdranttest.Server) {
	t.Helper()
	url, srv := qdranttest.New(t)
	s := newStore(t, Config{URL: url})
	if err := s.Ensure(context.Background(), dims); err != nil {
		t.Fatal(err)
	}
	return s, srv
}

// count is the number of requests "METHOD path" in srv's log.
func count(srv *qdranttest.Server, req string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r == req {
			n++
		}
	}
	return n
}

func TestUpsertBatches(t *testing.T) {
	t.Parallel()
	s, srv := ensured(t, 2)
	ctx := context.Background()
	points := make([]Point, 600)
	for i := range points {
		points[i] = Point{Agent: "a", Version: 1, Idx: i, Title: "doc", Text: fmt.Sprint("passage ", i), Vector: []float32{1, float32(i)}}
	}
	if err := s.Upsert(ctx, points); err != nil {
		t.Fatal(err)
	}
	const put = "PUT /collections/atrium_rag/points"
	if n := count(srv, put); n != 3 {
		t.Fatalf("%d upsert requests for 600 points, want 3", n)
	}
	if n := srv.Points(DefaultCollection); n != 600 {
		t.Fatalf("%d points stored, want 600", n)
	}
	// Storing again replaces: same ids, new contents.
	points[0].Text, points[0].Vector = "replaced", []float32{-1, 0}
	if err := s.Upsert(ctx, points); err != nil {
		t.Fatal(err)
	}
	if n := srv.Points(DefaultCollection); n != 600 {
		t.Fatalf("%d points after storing again, want 600", n)
	}
	hits, err := s.Search(ctx, "a", 1, []float32{-1, 0}, 1, 0.99)
	if err != nil || len(hits) != 1 || hits[0].Text != "replaced" || hits[0].Idx != 0 {
		t.Fatalf("search of the replaced point: %+v, %v", hits, err)
	}
	if err := s.Upsert(ctx, nil); err != nil || count(srv, put) != 6 {
		t.Fatalf("upsert of nothing: %v, %d requests", err, count(srv, put))
	}
	if err := s.Upsert(ctx, []Point{{Agent: "a", Vector: []float32{float32(math.NaN()), 0}}}); err == nil {
		t.Fatal("NaN accepted")
	}
	if err := s.Upsert(ctx, []Point{{Vector: []float32{1, 0}}}); err == nil {
		t.Fatal("point without agent accepted")
	}
}

// searchFixture stores agent a's versions 1 and 2 and agent b's version 1.
func searchFixture(t *testing.T) (*Store, *qdranttest.Server) {
	t.Helper()
	s, srv := ensured(t, 3)
	err := s.Upsert(context.Background(), []Point{
		{Agent: "a", Version: 1, Idx: 0, Title: "same", Text: "a1-0", Vector: []float32{2, 0, 0}},
		{Agent: "a", Version: 1, Idx: 1, Title: "diagonal", Text: "a1-1", Vector: []float32{1, 1, 0}},
		{Agent: "a", Version: 1, Idx: 2, Title: "orthogonal", Text: "a1-2", Vector: []float32{0, 1, 0}},
		{Agent: "a", Version: 1, Idx: 3, Title: "opposite", Text: "a1-3", Vector: []float32{-1, 0, 0}},
		{Agent: "a", Version: 2, Idx: 0, Title: "new", Text: "a2-0", Vector: []float32{1, 0, 0}},
		{Agent: "b", Version: 1, Idx: 0, Title: "other agent", Text: "b1-0", Vector: []float32{1, 0, 0}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, srv
}

// texts is the hits' texts, with their scores rounded.
func texts(hits []Hit) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "%s:%.2f ", h.Text, h.Score)
	}
	return strings.TrimSpace(b.String())
}

func TestSearch(t *testing.T) {
	t.Parallel()
	s, _ := searchFixture(t)
	ctx := context.Background()
	q := []float32{1, 0, 0}
	for _, tc := range []struct {
		agent     string
		version   int64
		limit     int
		threshold float64
		want      string
	}{
		{"a", 1, 10, -2, "a1-0:1.00 a1-1:0.71 a1-2:0.00 a1-3:-1.00"},
		{"a", 1, 10, 0.5, "a1-0:1.00 a1-1:0.71"},
		{"a", 1, 10, 0, "a1-0:1.00 a1-1:0.71"}, // Qdrant keeps scores above the threshold
		{"a", 1, 2, -2, "a1-0:1.00 a1-1:0.71"},
		{"a", 1, 1, -2, "a1-0:1.00"},
		{"a", 2, 10, 0, "a2-0:1.00"},
		{"b", 1, 10, 0, "b1-0:1.00"},
		{"a", 3, 10, 0, ""},
		{"c", 1, 10, -2, ""},
	} {
		hits, err := s.Search(ctx, tc.agent, tc.version, q, tc.limit, tc.threshold)
		if err != nil || hits == nil || texts(hits) != tc.want {
			t.Errorf("Search(%s, %d, limit %d, threshold %v) = %q, %v; want %q",
				tc.agent, tc.version, tc.limit, tc.threshold, texts(hits), err, tc.want)
		}
	}
	hits, err := s.Search(ctx, "a", 1, q, 1, 0)
	if err != nil || len(hits) != 1 || hits[0] != (Hit{Title: "same", Text: "a1-0", Idx: 0, Score: hits[0].Score}) {
		t.Fatalf("hit %+v, %v", hits, err)
	}
	if _, err := s.Search(ctx, "a", 1, q, 0, 0); err == nil {
		t.Fatal("limit 0 accepted")
	}
	if _, err := s.Search(ctx, "a", 1, nil, 1, 0); err == nil {
		t.Fatal("empty vector accepted")
	}
}

func TestDeleteOthers(t *testing.T) {
	t.Parallel()
	s, srv := searchFixture(t)
	ctx := context.Background()
	q := []float32{1, 0, 0}
	if err := s.DeleteOthers(ctx, "a", 2); err != nil {
		t.Fatal(err)
	}
	if n := srv.Points(DefaultCollection); n != 2 {
		t.Fatalf("%d points after keeping a's version 2, want 2", n)
	}
	for _, tc := range []struct {
		agent   string
		version int64
		want    int
	}{{"a", 1, 0}, {"a", 2, 1}, {"b", 1, 1}} {
		if hits, err := s.Search(ctx, tc.agent, tc.version, q, 10, -2); err != nil || len(hits) != tc.want {
			t.Errorf("%s version %d: %d hits, %v; want %d", tc.agent, tc.version, len(hits), err, tc.want)
		}
	}
	if err := s.DeleteOthers(ctx, "a", 0); err != nil {
		t.Fatal(err)
	}
	if n := srv.Points(DefaultCollection); n != 1 {
		t.Fatalf("%d points after deleting all of a's, want b's 1", n)
	}
	if err := s.DeleteOthers(ctx, "", 0); err == nil {
		t.Fatal("delete without agent accepted")
	}
	if err := newStore(t, Config{URL: srv.URL(), Collection: "missing"}).DeleteOthers(ctx, "a", 0); !NotFound(err) {
		t.Fatalf("delete in a missing collection: %v", err)
	}
}
