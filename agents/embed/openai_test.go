package embed_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents/embed"
)

// fakeOpenAI is an OpenAI-compatible embeddings API on a real socket. It
// records each request to POST /v1/embeddings and answers with answer.
type fakeOpenAI struct {
	srv  *httptest.Server
	reqs chan openAISeen
}

// openAISeen is a request as the fake received it.
type openAISeen struct {
	Path   string
	Header http.Header
	Body   map[string]any
	Input  []string
}

// newFakeOpenAI starts a fake that answers every request with answer,
// which gets the texts of the request.
func newFakeOpenAI(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, input []string)) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{reqs: make(chan openAISeen, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return // the client went away mid-request (a cancelled call)
		}
		var body map[string]any
		var typed struct {
			Input []string `json:"input"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("request body is not JSON: %v: %s", err, raw)
		}
		if err := json.Unmarshal(raw, &typed); err != nil {
			t.Errorf("input is not a list of strings: %v: %s", err, raw)
		}
		select {
		case f.reqs <- openAISeen{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Input: typed.Input}:
		default:
			t.Errorf("more requests than the test expected")
		}
		answer(w, r, typed.Input)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// embedder returns an embedder for the fake's /v1.
func (f *fakeOpenAI) embedder(key string, batch int) embed.Embedder {
	return embed.NewOpenAI(embed.OpenAIConfig{BaseURL: f.srv.URL + "/v1", APIKey: key, Model: "test-embed", Client: f.srv.Client(), Batch: batch})
}

// seen returns the requests the fake saw so far.
func (f *fakeOpenAI) seen() []openAISeen {
	var out []openAISeen
	for {
		select {
		case r := <-f.reqs:
			out = append(out, r)
		default:
			return out
		}
	}
}

// item is one element of a response's data.
type item struct {
	Object    string    `json:"object"`
	Index     int       `json:"index"`
	Embedding []float64 `json:"embedding"`
}

// writeData answers 200 with OpenAI's list of embeddings.
func writeData(w http.ResponseWriter, data []item) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"object": "list",
		"data":   data,
		"model":  "test-embed",
		"usage":  map[string]any{"prompt_tokens": 3, "total_tokens": 3},
	})
}

// textVector is the vector the fakes give a text "tN": 2 at N of 8, so
// the order of results shows and normalizing halves it.
func textVector(t *testing.T, text string) []float64 {
	v := make([]float64, 8)
	i := strings.IndexByte("01234567", text[len(text)-1])
	if i < 0 {
		t.Errorf("unexpected text %q", text)
		return v
	}
	v[i] = 2
	return v
}

// reversed answers each text with its textVector, listed last first.
func reversed(t *testing.T) func(http.ResponseWriter, *http.Request, []string) {
	return func(w http.ResponseWriter, r *http.Request, input []string) {
		var data []item
		for i := len(input) - 1; i >= 0; i-- {
			data = append(data, item{"embedding", i, textVector(t, input[i])})
		}
		writeData(w, data)
	}
}

// checkOneHot checks that vecs[i] is the normalized textVector of "ti".
func checkOneHot(t *testing.T, vecs [][]float32, n int) {
	t.Helper()
	if len(vecs) != n {
		t.Fatalf("%d vectors, want %d", len(vecs), n)
	}
	for i, v := range vecs {
		want := make([]float32, 8)
		want[i] = 1
		if !slices.Equal(v, want) {
			t.Errorf("vector %d = %v, want %v", i, v, want)
		}
	}
}

func TestOpenAIRequest(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t, reversed(t))
	e := f.embedder("sk-test", 0)
	if got := e.Name(); got != "openai:test-embed" {
		t.Errorf("Name() = %q", got)
	}
	vecs, err := e.Embed(context.Background(), []string{"t0", "t1", "t2"})
	if err != nil {
		t.Fatal(err)
	}
	checkOneHot(t, vecs, 3)
	reqs := f.seen()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if got := r.Header.Get("Authorization"); got != "Bearer sk-test" {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if r.Body["model"] != "test-embed" || r.Body["encoding_format"] != "float" {
		t.Errorf("body = %v", r.Body)
	}
	if !slices.Equal(r.Input, []string{"t0", "t1", "t2"}) {
		t.Errorf("input = %q", r.Input)
	}
}

func TestOpenAINoKey(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t, reversed(t))
	// A trailing slash on the base URL is not doubled.
	e := embed.NewOpenAI(embed.OpenAIConfig{BaseURL: f.srv.URL + "/v1/", Model: "nomic-embed-text"})
	if _, err := e.Embed(context.Background(), []string{"t0"}); err != nil {
		t.Fatal(err)
	}
	if h := f.seen()[0].Header; h.Get("Authorization") != "" {
		t.Errorf("Authorization sent without a key: %q", h.Get("Authorization"))
	}
}

func TestOpenAIBatches(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t, reversed(t))
	vecs, err := f.embedder("", 2).Embed(context.Background(), []string{"t0", "t1", "t2", "t3", "t4"})
	if err != nil {
		t.Fatal(err)
	}
	checkOneHot(t, vecs, 5)
	reqs := f.seen()
	want := [][]string{{"t0", "t1"}, {"t2", "t3"}, {"t4"}}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests, want %d", len(reqs), len(want))
	}
	for i, r := range reqs {
		if !slices.Equal(r.Input, want[i]) {
			t.Errorf("request %d input = %q, want %q", i, r.Input, want[i])
		}
	}
}

func TestOpenAIEmpty(t *testing.T) {
	t.Parallel()
	f := newFakeOpenAI(t, func(w http.ResponseWriter, r *http.Request, _ []string) {
		t.Error("a request for no texts")
	})
	vecs, err := f.embedder("", 0).Embed(context.Background(), nil)
	if err != nil || len(vecs) != 0 {
		t.Errorf("Embed(nil) = %v, %v; want no vectors", vecs, err)
	}
}
