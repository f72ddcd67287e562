package rag_test

import (
	"context"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents/rag"
	"github.com/atrium-hq/atrium/persistence/qdrant"
	"github.com/atrium-hq/atrium/persistence/qdrant/qdranttest"
)

// TestIndexInQdrant checks the indexes' vectors kept in Qdrant (its REST
// API, served by qdranttest): built, searched, the old version's points
// deleted by the next build; an index whose vectors are elsewhere is
// refused until it is built again.
func TestIndexInQdrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	url, srv := qdranttest.New(t)
	store, err := qdrant.New(qdrant.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	// The same data, on the SQL-backed service first.
	if _, err := e.svc.AddDocument(ctx, e.owner, e.agent, "Refunds", "Refunds are paid within fourteen days of the return.\n\nShipping is free above fifty euros."); err != nil {
		t.Fatal(err)
	}
	e.index(t)
	q := e.withQdrant(t, store)
	if _, err := q.Search(ctx, e.agent, "when are refunds paid", 2, 0.1); err == nil || !strings.Contains(err.Error(), "index the agent again") {
		t.Fatalf("search of an index kept in SQL, from a Qdrant server: %v", err)
	}
	for range 2 { // built twice: the first version's points go
		if st, err := q.Index(ctx, e.owner, e.agent); err != nil || st.State != rag.StateIndexing {
			t.Fatalf("index = %+v, %v", st, err)
		}
		if n := e.notes.next(t); n.Event != rag.NotifyIndexed {
			t.Fatalf("notification %+v", n)
		}
	}
	st, err := q.Status(ctx, e.owner, e.agent)
	if err != nil || st.State != rag.StateIndexed || st.Backend != "qdrant" || st.Version != 3 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if n := srv.Points("atrium_rag"); n != st.Chunks {
		t.Fatalf("%d points in Qdrant, want the current version's %d", n, st.Chunks)
	}
	found, err := q.Search(ctx, e.agent, "when are refunds paid", 2, 0.1)
	if err != nil || len(found) == 0 || !strings.Contains(found[0].Text, "Refunds are paid") || found[0].Title != "Refunds" {
		t.Fatalf("search = %+v, %v", found, err)
	}
	if found, err := q.Search(ctx, e.agent, "quantum chromodynamics", 2, 0.5); err != nil || len(found) != 0 {
		t.Fatalf("unrelated search = %+v, %v", found, err)
	}
}
