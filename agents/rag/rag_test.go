package rag_test

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/rag"
	"github.com/atrium-hq/atrium/persistence/qdrant"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// words is a test embedder: words hashed into 64 dimensions. A fail
// makes it refuse; calls counts its calls.
type words struct {
	name  string
	mu    sync.Mutex
	fail  error
	calls int
}

func (w *words) Name() string { return w.name }

func (w *words) Embed(_ context.Context, texts []string) ([][]float32, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.fail != nil {
		return nil, w.fail
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 64)
		for _, f := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) }) {
			h := fnv.New32a()
			h.Write([]byte(f))
			v[h.Sum32()%64]++
		}
		var n float64
		for _, x := range v {
			n += float64(x * x)
		}
		for j := range v {
			if n > 0 {
				v[j] /= float32(math.Sqrt(n))
			}
		}
		out[i] = v
	}
	return out, nil
}

// notes records notifications.
type notes struct{ ch chan agents.Notification }

func (n *notes) Notify(_ context.Context, x agents.Notification) { n.ch <- x }

// next is the next notification, or a failure after 20 s.
func (n *notes) next(t *testing.T) agents.Notification {
	t.Helper()
	select {
	case x := <-n.ch:
		return x
	case <-time.After(20 * time.Second):
		t.Fatal("no notification of the build")
	}
	return agents.Notification{}
}

type env struct {
	db    *sqldb.DB
	svc   *rag.Service
	emb   *words
	notes *notes
	owner workspaces.UserID
	agent agents.ID
	ag    *agents.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	ag := agents.New(db, ws)
	u, err := ws.Register(context.Background(), "owner@x.io", "pw-owner")
	if err != nil {
		t.Fatal(err)
	}
	a, err := ag.Create(context.Background(), u.ID, agents.NewAgent{Name: "Helper", ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, emb: &words{name: "words-64"}, notes: &notes{ch: make(chan agents.Notification, 10)}, owner: u.ID, agent: a.ID, ag: ag}
	e.svc = rag.New(db, ag, nil, rag.Config{Embedder: e.emb, ChunkBytes: 120, ChunkOverlap: 20, Notify: e.notes})
	t.Cleanup(e.svc.Close)
	return e
}

// withQdrant is another Service on e's database, keeping vectors in store.
func (e *env) withQdrant(t *testing.T, store *qdrant.Store) *rag.Service {
	t.Helper()
	svc := rag.New(e.db, e.ag, nil, rag.Config{Embedder: e.emb, ChunkBytes: 120, ChunkOverlap: 20, Notify: e.notes, Qdrant: store})
	t.Cleanup(svc.Close)
	return svc
}

// index builds the index and waits for its notification.
func (e *env) index(t *testing.T) agents.Notification {
	t.Helper()
	st, err := e.svc.Index(context.Background(), e.owner, e.agent)
	if err != nil || st.State != rag.StateIndexing {
		t.Fatalf("index = %+v, %v", st, err)
	}
	return e.notes.next(t)
}

func TestIndexAndSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if v, err := e.svc.Version(ctx, e.agent); v != "" || err != nil {
		t.Fatalf("version before any index = %q, %v", v, err)
	}
	if _, err := e.svc.AddDocument(ctx, e.owner, e.agent, "Refunds", "Refunds are paid within fourteen days of the return. "+
		"The refund goes back to the card that paid.\n\nShipping is free above fifty euros."); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddDocument(ctx, e.owner, e.agent, "", "Our office is in Lisbon and opens at nine o'clock."); err != nil {
		t.Fatal(err)
	}
	n := e.index(t)
	if n.Event != rag.NotifyIndexed || n.Data["documents"] != 2 || n.Data["chunks"].(int) < 3 {
		t.Fatalf("notification %+v", n)
	}
	st, err := e.svc.Status(ctx, e.owner, e.agent)
	if err != nil || st.State != rag.StateIndexed || st.Version != 1 || st.Embedder != "words-64" || st.IndexedAt == nil {
		t.Fatalf("status = %+v, %v", st, err)
	}
	found, err := e.svc.Search(ctx, e.agent, "when are refunds paid", 2, 0.1)
	if err != nil || len(found) == 0 || !strings.Contains(found[0].Text, "Refunds are paid") || found[0].Title != "Refunds" {
		t.Fatalf("search = %+v, %v", found, err)
	}
	if found, _ := e.svc.Search(ctx, e.agent, "office Lisbon", 1, 0.1); len(found) != 1 || !strings.Contains(found[0].Text, "Lisbon") ||
		found[0].Title != "Our office is in Lisbon and opens at nine o'clock." {
		t.Fatalf("search by the untitled document = %+v", found)
	}
	if found, _ := e.svc.Search(ctx, e.agent, "quantum chromodynamics", 3, 0.5); len(found) != 0 {
		t.Fatalf("unrelated question found %+v", found)
	}
	v1, _ := e.svc.Version(ctx, e.agent)

	// A failed build keeps the index searched, and says why.
	e.emb.mu.Lock()
	e.emb.fail = errors.New("model overloaded")
	e.emb.mu.Unlock()
	if n := e.index(t); n.Event != rag.NotifyIndexFailed || !strings.Contains(n.Data["error"].(string), "model overloaded") {
		t.Fatalf("failure notification %+v", n)
	}
	st, _ = e.svc.Status(ctx, e.owner, e.agent)
	if st.State != rag.StateFailed || st.Version != 1 || !strings.Contains(st.Error, "model overloaded") {
		t.Fatalf("status after a failed build = %+v", st)
	}
	if v, _ := e.svc.Version(ctx, e.agent); v != v1 || v == "" {
		t.Fatalf("version after a failed build = %q, want %q", v, v1)
	}
}

// TestThresholdOfALexicalEmbedder checks rag_threshold with a lexical
// embedder (hash-*): unset, a low floor finds the passages that share
// words with the question; set, it applies as it is (seed 000 §8: a
// "similarity threshold for retrieval").
func TestThresholdOfALexicalEmbedder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.emb.name = "hash-64" // before anything is indexed or searched
	ctx := context.Background()
	if _, err := e.svc.AddDocument(ctx, e.owner, e.agent, "Refunds", "Refunds are paid within fourteen days of the return."); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddDocument(ctx, e.owner, e.agent, "Shipping", "Shipping to Portugal takes three working days."); err != nil {
		t.Fatal(err)
	}
	if n := e.index(t); n.Event != rag.NotifyIndexed {
		t.Fatalf("notification %+v", n)
	}
	question := "How many days until refunds are paid?"
	found, err := e.svc.Search(ctx, e.agent, question, 5, -1)
	if err != nil || len(found) == 0 || found[0].Title != "Refunds" {
		t.Fatalf("search with the default threshold = %+v, %v", found, err)
	}
	for _, p := range found {
		if p.Score < 0.05 {
			t.Errorf("passage %q scored %v, under the lexical floor", p.Title, p.Score)
		}
	}
	if found, _ := e.svc.Search(ctx, e.agent, question, 5, 1.0); len(found) != 0 {
		t.Errorf("rag_threshold 1.0 found %+v", found)
	}
	strict := found[0].Score + 0.01
	if found, _ := e.svc.Search(ctx, e.agent, question, 5, strict); len(found) != 0 {
		t.Errorf("a threshold above the best score (%v) found %+v", strict, found)
	}
}

func TestTrainingDataIsTheOwners(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Index(ctx, e.owner, e.agent); err != nil {
		t.Fatal(err)
	}
	if n := e.notes.next(t); n.Event != rag.NotifyIndexFailed || !strings.Contains(n.Data["error"].(string), "no training data") {
		t.Fatalf("indexing nothing: %+v", n)
	}
	for _, tc := range []struct{ title, content, want string }{
		{"", "   ", "non-empty"},
		{strings.Repeat("t", 201), "x", "title"},
		{"", strings.Repeat("x", 1<<20+1), "at most 1 MiB"},
	} {
		if _, err := e.svc.AddDocument(ctx, e.owner, e.agent, tc.title, tc.content); err == nil || !strings.Contains(workspaces.ErrorMessage(err), tc.want) {
			t.Errorf("add %q: %v, want %q", tc.content[:min(len(tc.content), 10)], err, tc.want)
		}
	}
	d, err := e.svc.AddDocument(ctx, e.owner, e.agent, "Doc", "text")
	if err != nil {
		t.Fatal(err)
	}
	stranger := workspaces.UserID(workspaces.NewID())
	if _, err := e.svc.Documents(ctx, stranger, e.agent); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("a stranger listed the training data: %v", err)
	}
	if err := e.svc.DeleteDocument(ctx, stranger, e.agent, d.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("a stranger deleted a document: %v", err)
	}
	if _, err := e.svc.Index(ctx, stranger, e.agent); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("a stranger indexed: %v", err)
	}
	if err := e.svc.DeleteDocument(ctx, e.owner, e.agent, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteDocument(ctx, e.owner, e.agent, d.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("deleting twice: %v", err)
	}
}

// TestOneBuildAtATime checks that asking for an index while one is being
// built does not start a second build.
func TestOneBuildAtATime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.AddDocument(ctx, e.owner, e.agent, "Doc", "some words to index"); err != nil {
		t.Fatal(err)
	}
	e.emb.mu.Lock() // the first build waits in Embed
	first, err := e.svc.Index(ctx, e.owner, e.agent)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.Index(ctx, e.owner, e.agent)
	e.emb.mu.Unlock()
	if err != nil || second.State != rag.StateIndexing || second.StartedAt == nil || !second.StartedAt.Equal(*first.StartedAt) {
		t.Fatalf("second index = %+v, %v; first %+v", second, err, first)
	}
	if n := e.notes.next(t); n.Event != rag.NotifyIndexed || n.Data["version"] != int64(1) {
		t.Fatalf("notification %+v", n)
	}
	select {
	case n := <-e.notes.ch:
		t.Fatalf("a second build ran: %+v", n)
	case <-time.After(100 * time.Millisecond):
	}
	e.emb.mu.Lock()
	calls := e.emb.calls
	e.emb.mu.Unlock()
	if calls != 1 {
		t.Fatalf("%d embedding calls, want the one build's", calls)
	}
}
