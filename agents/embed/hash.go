package embed

import (
	"context"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// defaultHashDims is the size of NewHash's vectors when none is given.
const defaultHashDims = 512

// FNV-1a, 64-bit. Written out rather than taken from hash/fnv so hashing a
// word pair allocates nothing; the constants are the published ones, and
// TestHashStable pins the outcome.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// hashEmbedder is the offline embedder NewHash returns. It holds no state
// but its size, so it is safe for concurrent use.
type hashEmbedder struct {
	dims int
}

var _ Embedder = hashEmbedder{}

// NewHash returns the built-in offline embedder: feature hashing of lowercase word
// unigrams and bigrams (FNV-1a, signed) into dims dimensions, L2-normalized.
// Name() is "hash-<dims>". It is lexical, not semantic: it finds passages that share
// words with the query. It exists so RAG works with no embedding model; docs say so.
//
// A dims of 0 or less means 512. The vectors depend only on the text and
// dims, on every platform and in every run, so indexes built with them stay
// valid; a text without words gets a zero vector.
func NewHash(dims int) Embedder {
	if dims <= 0 {
		dims = defaultHashDims
	}
	return hashEmbedder{dims: dims}
}

// Name is "hash-<dims>".
func (h hashEmbedder) Name() string { return "hash-" + strconv.Itoa(h.dims) }

// Embed hashes each text; it fails only when ctx is done.
func (h hashEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, text := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out[i] = h.vector(text)
	}
	return out, nil
}

// vector is the feature-hashed vector of text. Each word and each pair of
// consecutive words adds ±1 to one dimension: its mixed hash modulo dims
// picks the dimension, the top bit the sign, so collisions tend to cancel
// out rather than pile up.
func (h hashEmbedder) vector(text string) []float32 {
	acc := make([]float64, h.dims)
	add := func(sum uint64) {
		sum = mix(sum)
		i := sum % uint64(h.dims)
		if sum>>63 == 0 {
			acc[i]++
		} else {
			acc[i]--
		}
	}
	words := tokens(text)
	for i, w := range words {
		add(fnvAdd(fnvOffset, w))
		if i > 0 {
			// A space cannot occur in a word, so "ab c" and "a bc" differ.
			add(fnvAdd(fnvAdd(fnvAdd(fnvOffset, words[i-1]), " "), w))
		}
	}
	v := make([]float32, h.dims)
	for i, x := range acc {
		v[i] = float32(x)
	}
	normalize(v)
	return v
}

// fnvAdd continues the FNV-1a hash sum over the bytes of s.
func fnvAdd(sum uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		sum ^= uint64(s[i])
		sum *= fnvPrime
	}
	return sum
}

// mix is MurmurHash3's 64-bit finalizer. FNV-1a alone will not do for
// picking a dimension: its low bits depend only on the low bits of each
// byte ("cat" and "cqt" agree modulo 16), and power-of-two sizes use only
// those. After mix, every bit depends on every bit of the sum.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// tokens splits text into lowercase words: runs of letters and digits (in
// any script), of at least two characters. One-character words ("a", "I",
// the "s" of "it's") carry little meaning and would only add noise.
func tokens(text string) []string {
	fields := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	words := fields[:0]
	for _, f := range fields {
		if utf8.RuneCountInString(f) > 1 {
			words = append(words, f)
		}
	}
	return words
}
