package embed

import (
	"context"
	"hash/fnv"
	"math"
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"Hello, World!", []string{"hello", "world"}},
		{"a I x 42 ok", []string{"42", "ok"}},
		{"it's state-of-the-art", []string{"it", "state", "of", "the", "art"}},
		{"snake_case and dot.separated", []string{"snake", "case", "and", "dot", "separated"}},
		{"ÉCOLE Größe ΑΘΗΝΑ", []string{"école", "größe", "αθηνα"}},
		{"日本語 テキスト", []string{"日本語", "テキスト"}},
		{"tab\tnew\nline\u00a0nbsp", []string{"tab", "new", "line", "nbsp"}},
		{"emoji 🙂🙂 ok", []string{"emoji", "ok"}},
		{"bad \xff\xfe utf8", []string{"bad", "utf8"}},
	} {
		if got := tokens(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("tokens(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestFNV checks the written-out FNV-1a against the standard library's.
func TestFNV(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "hello", "hello world", "größe", "日本語"} {
		h := fnv.New64a()
		h.Write([]byte(s))
		if got, want := fnvAdd(fnvOffset, s), h.Sum64(); got != want {
			t.Errorf("fnvAdd(%q) = %#x, want %#x", s, got, want)
		}
	}
	// A pair hashes as the words with a space between them.
	if got, want := fnvAdd(fnvAdd(fnvAdd(fnvOffset, "hello"), " "), "world"), fnvAdd(fnvOffset, "hello world"); got != want {
		t.Errorf("pair hash %#x, want %#x", got, want)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want []float32
	}{
		{[]float32{3, 4}, []float32{0.6, 0.8}},
		{[]float32{0, 0, 0}, []float32{0, 0, 0}},
		{[]float32{-2}, []float32{-1}},
		{[]float32{3e38, 3e38}, []float32{float32(math.Sqrt2 / 2), float32(math.Sqrt2 / 2)}},
		{[]float32{1e-45, 0}, []float32{1, 0}},
	} {
		got := slices.Clone(tc.in)
		normalize(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("normalize(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzHash checks that any text gets a vector of the right size that is
// of unit length, or zero when the text has no words.
func FuzzHash(f *testing.F) {
	for _, s := range []string{"", "hello world", "a", "Größe 日本語 \xff", "x y z aa"} {
		f.Add(s)
	}
	e := NewHash(64).(hashEmbedder)
	f.Fuzz(func(t *testing.T, text string) {
		v := e.vector(text)
		if len(v) != 64 {
			t.Fatalf("%d dimensions", len(v))
		}
		var sum float64
		for _, x := range v {
			sum += float64(x) * float64(x)
		}
		words := len(tokens(text))
		switch {
		case words == 0 && sum != 0:
			t.Fatalf("no words, length² %v", sum)
		case sum != 0 && math.Abs(sum-1) > 1e-5:
			t.Fatalf("length² %v", sum)
		}
		if _, err := e.Embed(context.Background(), []string{text}); err != nil {
			t.Fatal(err)
		}
	})
}
