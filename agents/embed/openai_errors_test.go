package embed_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents/embed"
)

// respond answers every request with status and body.
func respond(status int, body string) func(http.ResponseWriter, *http.Request, []string) {
	return func(w http.ResponseWriter, r *http.Request, _ []string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// vectors answers each request with the vectors given, in order.
func vectors(vs ...[]float64) func(http.ResponseWriter, *http.Request, []string) {
	return func(w http.ResponseWriter, r *http.Request, _ []string) {
		var data []item
		for i, v := range vs {
			data = append(data, item{"embedding", i, v})
		}
		writeData(w, data)
	}
}

func TestOpenAIErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("<p>Bad gateway</p>", 500)
	for _, tc := range []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request, []string)
		texts  int
		want   []string // parts of the error
	}{
		{"openai error", respond(401, `{"error":{"message":"Incorrect API key provided: sk-te***","type":"invalid_request_error","code":"invalid_api_key"}}`), 1,
			[]string{"openai:test-embed", "/v1/embeddings", "status 401 Unauthorized", "Incorrect API key provided"}},
		{"proxy error", respond(429, `{"error":"too many requests"}`), 1,
			[]string{"status 429", "too many requests"}},
		{"plain text", respond(404, "404 page not found\n"), 1,
			[]string{"status 404 Not Found: 404 page not found"}},
		{"long html", respond(502, long), 1,
			[]string{"status 502 Bad Gateway: <p>Bad gateway</p>", "…"}},
		{"not json", respond(200, `{"data": [`), 1, []string{"decode response"}},
		{"base64", respond(200, `{"data":[{"index":0,"embedding":"AACAPw=="}]}`), 1, []string{"decode response"}},
		{"too few", vectors([]float64{1, 2}), 2, []string{"1 vectors for 2 texts"}},
		{"too many", vectors([]float64{1}, []float64{2}), 1, []string{"2 vectors for 1 texts"}},
		{"mixed lengths", vectors([]float64{1, 2}, []float64{1, 2, 3}), 2, []string{"vector 1", "3 dimensions among vectors of 2"}},
		{"empty vector", vectors([]float64{}), 1, []string{"vector 0: empty vector"}},
		{"null vector", respond(200, `{"data":[{"index":0,"embedding":null}]}`), 1, []string{"empty vector"}},
		{"not float32", vectors([]float64{1, 1e39}), 1, []string{"value 1", "not a finite number"}},
		{"no index", respond(200, `{"data":[{"embedding":[1]}]}`), 1, []string{"without an index"}},
		{"index too big", respond(200, `{"data":[{"index":1,"embedding":[1]}]}`), 1, []string{"index 1 for 1 texts"}},
		{"negative index", respond(200, `{"data":[{"index":-1,"embedding":[1]}]}`), 1, []string{"index -1"}},
		{"same index", respond(200, `{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}`), 2, []string{"two vectors for index 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeOpenAI(t, tc.answer)
			texts := []string{"t0", "t1", "t2"}[:tc.texts]
			vecs, err := f.embedder("sk-test", 0).Embed(context.Background(), texts)
			if err == nil {
				t.Fatalf("no error; vectors %v", vecs)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if len(err.Error()) > 500 {
				t.Errorf("error of %d bytes: %q", len(err.Error()), err)
			}
		})
	}
}

// TestOpenAIBatchError checks that a failing later batch names its texts,
// and that vectors must agree in length across batches too.
func TestOpenAIBatchError(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t, func(w http.ResponseWriter, r *http.Request, input []string) {
		if input[0] == "t0" {
			vectors([]float64{1, 0})(w, r, input)
			return
		}
		vectors([]float64{1, 0, 0})(w, r, input)
	})
	_, err := f.embedder("", 1).Embed(context.Background(), []string{"t0", "t1"})
	if err == nil || !strings.Contains(err.Error(), "texts 1 to 1") || !strings.Contains(err.Error(), "3 dimensions among vectors of 2") {
		t.Errorf("error %v, want one about text 1's length", err)
	}
}

// TestOpenAICancel cancels a call the server is holding.
func TestOpenAICancel(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	release := make(chan struct{})
	f := newFakeOpenAI(t, func(w http.ResponseWriter, r *http.Request, _ []string) {
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := f.embedder("", 0).Embed(ctx, []string{"t0"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestOpenAIUnreachable(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t, respond(200, "{}"))
	url := f.srv.URL
	f.srv.Close()
	_, err := embed.NewOpenAI(embed.OpenAIConfig{BaseURL: url, Model: "m"}).Embed(context.Background(), []string{"x"})
	if err == nil || !strings.Contains(err.Error(), "openai:m: post "+url+"/embeddings") {
		t.Errorf("error %v, want one naming the URL", err)
	}
}
