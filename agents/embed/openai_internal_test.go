package embed

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestOpenAIMaxBody checks that a response over the cap fails rather than
// being read whole; the cap is lowered, since 64 MiB would slow the test.
func TestOpenAIMaxBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data":[{"index":0,"embedding":[` + strings.Repeat("1,", 1000) + `1]}]}`))
	}))
	t.Cleanup(srv.Close)
	e := NewOpenAI(OpenAIConfig{BaseURL: srv.URL, Model: "m"}).(*openAIEmbedder)
	if _, err := e.Embed(context.Background(), []string{"x"}); err != nil {
		t.Fatalf("under the default cap: %v", err)
	}
	e.maxBody = 1024
	if _, err := e.Embed(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Errorf("over the cap: %v", err)
	}
}

func TestOpenAIDefaults(t *testing.T) {
	t.Parallel()
	e := NewOpenAI(OpenAIConfig{Model: "text-embedding-3-small"}).(*openAIEmbedder)
	if e.url != "https://api.openai.com/v1/embeddings" || e.batch != 64 || e.client == nil || e.client.Timeout != defaultOpenAITimeout {
		t.Errorf("defaults: url %q, batch %d, client %v", e.url, e.batch, e.client)
	}
}

// FuzzDecodeOpenAI checks that no response body makes decodeOpenAI panic,
// and that what it accepts is n unit vectors of one length.
func FuzzDecodeOpenAI(f *testing.F) {
	f.Add([]byte(`{"data":[{"index":1,"embedding":[3,4]},{"index":0,"embedding":[0,1]}]}`), 2)
	f.Add([]byte(`{"data":[{"index":0,"embedding":[1e39]}]}`), 1)
	f.Add([]byte(`{"data":[{"index":0,"embedding":[0,0]}]}`), 1)
	f.Add([]byte(`{"data":null}`), 0)
	f.Add([]byte(`[]`), 1)
	f.Fuzz(func(t *testing.T, raw []byte, n int) {
		if n < 0 || n > 64 {
			return
		}
		vecs, err := decodeOpenAI(raw, n, 0)
		if err != nil {
			return
		}
		if len(vecs) != n {
			t.Fatalf("%d vectors for %d texts", len(vecs), n)
		}
		for i, v := range vecs {
			if len(v) == 0 || len(v) != len(vecs[0]) {
				t.Fatalf("vector %d has %d dimensions, vector 0 %d", i, len(v), len(vecs[0]))
			}
			var sum float64
			for _, x := range v {
				sum += float64(x) * float64(x)
			}
			if math.IsNaN(sum) || (sum != 0 && math.Abs(sum-1) > 1e-4) {
				t.Fatalf("vector %d has length² %v", i, sum)
			}
		}
	})
}

func TestClip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 400) // two bytes each: a cut must not split one
	got := clip([]byte(long))
	if !strings.HasSuffix(got, "…") || len(got) > clipLen+len("…") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("clip of a long text = %q", got)
	}
	if got := clip([]byte("  short \xff ")); got != "short \uFFFD" {
		t.Errorf("clip(short) = %q", got)
	}
}

// TestParseOpenAIDefaultURL checks that a key alone means OpenAI itself.
func TestParseOpenAIDefaultURL(t *testing.T) {
	t.Parallel()
	e, err := Parse("openai:text-embedding-3-small", ParseConfig{OpenAIAPIKey: "sk-test"})
	if err != nil {
		t.Fatal(err)
	}
	if o := e.(*openAIEmbedder); o.url != "https://api.openai.com/v1/embeddings" || o.key != "sk-test" {
		t.Errorf("url %q, key %q", o.url, o.key)
	}
}
