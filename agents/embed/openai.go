package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Defaults of OpenAIConfig.
const (
	defaultOpenAIBaseURL = "https://api.openai.com/v1"
	defaultOpenAIBatch   = 64
	defaultOpenAITimeout = 60 * time.Second
)

// maxResponse caps how much of an embeddings response is read: 64 texts of
// 3,072 dimensions are about 4 MiB of JSON, so 64 MiB leaves room for large
// batches and models while a broken server cannot exhaust memory.
const maxResponse = 64 << 20

// OpenAIConfig configures an OpenAI-compatible embeddings API (OpenAI, Ollama's /v1, vLLM, LM Studio).
type OpenAIConfig struct {
	BaseURL string       // …/v1; POST BaseURL+"/embeddings". Empty means "https://api.openai.com/v1".
	APIKey  string       // sent as "Authorization: Bearer <key>" when not empty
	Model   string       // e.g. "text-embedding-3-small", "nomic-embed-text"
	Client  *http.Client // nil: a client with a 60 s timeout
	Batch   int          // texts per request; 0 means 64
}

// openAIEmbedder is the Embedder NewOpenAI returns. Its fields are set once,
// so it is safe for concurrent use.
type openAIEmbedder struct {
	name   string
	url    string
	key    string
	model  string
	client *http.Client
	batch  int
	// maxBody is maxResponse, but for tests that check the cap.
	maxBody int64
}

var _ Embedder = (*openAIEmbedder)(nil)

// NewOpenAI returns an embedder for the OpenAI-compatible embeddings API that
// cfg describes. Name() is "openai:<model>". It asks for float vectors and
// normalizes them itself, since not every compatible server does.
func NewOpenAI(cfg OpenAIConfig) Embedder {
	e := &openAIEmbedder{
		name:    "openai:" + cfg.Model,
		url:     strings.TrimRight(cfg.BaseURL, "/") + "/embeddings",
		key:     cfg.APIKey,
		model:   cfg.Model,
		client:  cfg.Client,
		batch:   cfg.Batch,
		maxBody: maxResponse,
	}
	if cfg.BaseURL == "" {
		e.url = defaultOpenAIBaseURL + "/embeddings"
	}
	if e.client == nil {
		e.client = &http.Client{Timeout: defaultOpenAITimeout}
	}
	if e.batch <= 0 {
		e.batch = defaultOpenAIBatch
	}
	return e
}

// Name is "openai:<model>".
func (e *openAIEmbedder) Name() string { return e.name }

// Embed sends texts in batches of cfg.Batch, one request after another, and
// fails on the first batch that fails.
func (e *openAIEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	dims := 0
	for start := 0; start < len(texts); start += e.batch {
		batch := texts[start:min(start+e.batch, len(texts))]
		vecs, err := e.call(ctx, batch, dims)
		if err != nil {
			if len(texts) > len(batch) {
				return nil, fmt.Errorf("%s: texts %d to %d: %w", e.name, start, start+len(batch)-1, err)
			}
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		dims = len(vecs[0])
		out = append(out, vecs...)
	}
	return out, nil
}

// openAIRequest is the body of POST /embeddings.
type openAIRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
}

// call embeds one batch; dims is the length the vectors must have, or 0
// when this is the first batch.
func (e *openAIEmbedder) call(ctx context.Context, batch []string, dims int) ([][]float32, error) {
	body, err := json.Marshal(openAIRequest{Model: e.model, Input: batch, EncodingFormat: "float"})
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("post %s: %w", e.url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, e.maxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("post %s: %w", e.url, statusError(resp.StatusCode, raw))
	}
	if int64(len(raw)) > e.maxBody {
		return nil, fmt.Errorf("response larger than %d bytes", e.maxBody)
	}
	return decodeOpenAI(raw, len(batch), dims)
}

// openAIResponse is the part of an embeddings response Embed reads.
type openAIResponse struct {
	Data []struct {
		Index     *int      `json:"index"`
		Embedding []float64 `json:"embedding"`
	} `json:"data"`
}

// decodeOpenAI reads the vectors of an embeddings response to n texts, in
// the order their indexes give (a server may list them in any order), each
// of dims dimensions (any, when 0, but all alike) and normalized.
func decodeOpenAI(raw []byte, n, dims int) ([][]float32, error) {
	var resp openAIResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, fmt.Errorf("decode response: %w: %s", err, clip(raw))
	}
	if len(resp.Data) != n {
		return nil, fmt.Errorf("%d vectors for %d texts", len(resp.Data), n)
	}
	out := make([][]float32, n)
	for _, d := range resp.Data {
		if d.Index == nil {
			return nil, errors.New("a vector without an index")
		}
		i := *d.Index
		if i < 0 || i >= n {
			return nil, fmt.Errorf("vector index %d for %d texts", i, n)
		}
		if out[i] != nil {
			return nil, fmt.Errorf("two vectors for index %d", i)
		}
		v, err := vector(d.Embedding, dims)
		if err != nil {
			return nil, fmt.Errorf("vector %d: %w", i, err)
		}
		dims = len(v)
		out[i] = v
	}
	return out, nil
}

// statusError explains a non-2xx answer: the status, and the message of
// OpenAI's {"error": {"message": ...}} (or a proxy's {"error": "..."}) when
// the body has one, else the start of the body.
func statusError(status int, body []byte) error {
	var withObject struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	var withString struct {
		Error string `json:"error"`
	}
	msg := ""
	switch {
	case json.Unmarshal(body, &withObject) == nil && withObject.Error.Message != "":
		msg = withObject.Error.Message
	case json.Unmarshal(body, &withString) == nil && withString.Error != "":
		msg = withString.Error
	default:
		msg = clip(body)
	}
	text := fmt.Sprintf("status %d %s", status, http.StatusText(status))
	if msg = strings.TrimSpace(msg); msg != "" {
		text += ": " + clip([]byte(msg))
	}
	return errors.New(text)
}

// clipLen is how much of an upstream's text goes into an error.
const clipLen = 300

// clip is the start of b as text, cut at a character boundary, for
// errors: a whole HTML page or vector would drown the message.
func clip(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) <= clipLen {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	cut := clipLen
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return strings.ToValidUTF8(string(b[:cut]), "\uFFFD") + "…"
}
