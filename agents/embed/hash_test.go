package embed_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/atrium-hq/atrium/agents/embed"
)

// dot is the dot product of two vectors: their cosine, when normalized.
func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// norm is the L2 length of v.
func norm(v []float32) float64 { return math.Sqrt(dot(v, v)) }

// embedAll embeds texts with e and fails the test on an error.
func embedAll(t *testing.T, e embed.Embedder, texts ...string) [][]float32 {
	t.Helper()
	vecs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatalf("Embed: %v", err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("Embed returned %d vectors for %d texts", len(vecs), len(texts))
	}
	return vecs
}

func TestHashName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dims int
		name string
		len  int
	}{
		{0, "hash-512", 512},
		{-7, "hash-512", 512},
		{64, "hash-64", 64},
		{1000, "hash-1000", 1000},
	} {
		e := embed.NewHash(tc.dims)
		if got := e.Name(); got != tc.name {
			t.Errorf("NewHash(%d).Name() = %q, want %q", tc.dims, got, tc.name)
		}
		if got := len(embedAll(t, e, "some words")[0]); got != tc.len {
			t.Errorf("NewHash(%d) vectors have %d dimensions, want %d", tc.dims, got, tc.len)
		}
	}
}

func TestHashVectors(t *testing.T) {
	t.Parallel()
	e := embed.NewHash(256)
	texts := []string{"The quick brown fox", "jumps over the lazy dog", "the the the", "日本語 テキスト"}
	first := embedAll(t, e, texts...)
	again := embedAll(t, e, texts...)
	for i, v := range first {
		if n := norm(v); math.Abs(n-1) > 1e-6 {
			t.Errorf("text %d: length %v, want 1", i, n)
		}
		for j := range v {
			if v[j] != again[i][j] {
				t.Fatalf("text %d: two calls differ at %d: %v and %v", i, j, v[j], again[i][j])
			}
		}
	}
}

func TestHashSameWords(t *testing.T) {
	t.Parallel()
	// Case, punctuation and one-letter words do not count; order does,
	// through the word pairs.
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"Hello, WORLD!", "hello world", true},
		{"hello world", "  hello\n\tworld ... a I x", true},
		{"Größe CAFÉ", "größe café", true},
		{"it's done", "it done", true},
		{"version 2.0 of v10", "version of v10", true},
		{"red car", "car red", false},
		{"hello world", "hello there", false},
	} {
		v := embedAll(t, embed.NewHash(512), tc.a, tc.b)
		if same := dot(v[0], v[1]) > 1-1e-6; same != tc.same {
			t.Errorf("%q and %q: cosine %v, same = %v, want %v", tc.a, tc.b, dot(v[0], v[1]), same, tc.same)
		}
	}
}

func TestHashBlank(t *testing.T) {
	t.Parallel()
	e := embed.NewHash(32)
	for _, text := range []string{"", "   ", "a b c", "!?,.", "\x00\xff"} {
		v := embedAll(t, e, text)[0]
		if len(v) != 32 {
			t.Fatalf("%q: %d dimensions, want 32", text, len(v))
		}
		for i, x := range v {
			if x != 0 {
				t.Fatalf("%q: value %d is %v, want a zero vector", text, i, x)
			}
		}
	}
	if vecs := embedAll(t, e); len(vecs) != 0 {
		t.Errorf("no texts gave %d vectors", len(vecs))
	}
}

func TestHashRetrieval(t *testing.T) {
	t.Parallel()
	e := embed.NewHash(512)
	v := embedAll(t, e,
		"How do I reset my password?",
		"To reset your password, open Settings and choose Reset password.",
		"The quarterly sales report shows revenue growth in Europe.",
	)
	related, unrelated := dot(v[0], v[1]), dot(v[0], v[2])
	if related <= unrelated || related < 0.2 {
		t.Errorf("cosine with the passage sharing words %v, with the unrelated one %v", related, unrelated)
	}
}

// TestHashStable pins vectors: stored indexes depend on them, so a change
// to tokenizing or hashing must fail here, and go with a new Name. The
// values are 1/√n for n features in distinct dimensions, with the signs
// the hash gave (two of the nine features of the second text cancel out).
func TestHashStable(t *testing.T) {
	t.Parallel()
	const (
		third   = 0.57735026 // 1/√3: hello, world, "hello world"
		seventh = 0.37796447 // 1/√7
		thirtn  = 0.2773501  // 1/√13: 7 words and 6 pairs
	)
	for _, tc := range []struct {
		dims int
		text string
		want map[int]float32 // every other value is 0
	}{
		{100, "hello world", map[int]float32{24: -third, 45: -third, 81: third}},
		{16, "Retrieval-augmented generation, with Atrium!", map[int]float32{
			1: seventh, 2: seventh, 4: -seventh, 6: seventh, 8: seventh, 13: seventh, 14: seventh,
		}},
		{512, "Die Größe des Café-Menüs: 12 Gerichte", map[int]float32{
			46: thirtn, 87: -thirtn, 132: thirtn, 140: thirtn, 161: thirtn, 230: -thirtn, 341: thirtn,
			391: -thirtn, 398: -thirtn, 424: thirtn, 433: -thirtn, 460: thirtn, 486: -thirtn,
		}},
	} {
		got := embedAll(t, embed.NewHash(tc.dims), tc.text)[0]
		if len(got) != tc.dims {
			t.Fatalf("%q: %d dimensions, want %d", tc.text, len(got), tc.dims)
		}
		for i, x := range got {
			if x != tc.want[i] {
				t.Errorf("%q: value %d is %v, want %v", tc.text, i, x, tc.want[i])
			}
		}
	}
}

func TestHashCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := embed.NewHash(0).Embed(ctx, []string{"text"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed with a cancelled context: %v, want context.Canceled", err)
	}
}
