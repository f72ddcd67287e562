package embed

import (
	"context"
	"fmt"
	"math"
)

// Embedder turns texts into vectors.
type Embedder interface {
	// Name identifies the model, e.g. "hash-512" or "openai:text-embedding-3-small";
	// an index remembers it, since vectors of different models do not mix.
	Name() string
	// Embed returns one vector per text, in order, each L2-normalized (so a dot
	// product is the cosine similarity), all of the same length. It splits
	// large inputs into batches itself.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// normalize scales v in place to unit length. A zero vector stays zero:
// it has no direction, and dividing by its length would fill it with NaN.
func normalize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
}

// vector converts a vector as an upstream sent it to a normalized float32
// vector. want is the length every vector of the call must have, or 0 when
// this is the first; it fails on an empty vector, a length other than want,
// and a value that is not finite as a float32 (1e39 is a fine float64).
func vector(raw []float64, want int) ([]float32, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("empty vector")
	}
	if want != 0 && len(raw) != want {
		return nil, fmt.Errorf("vector of %d dimensions among vectors of %d", len(raw), want)
	}
	v := make([]float32, len(raw))
	for i, x := range raw {
		f := float32(x)
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("value %d of the vector is not a finite number: %v", i, x)
		}
		v[i] = f
	}
	normalize(v)
	return v, nil
}
