package embed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go"

	"github.com/atrium-hq/atrium/agents/provider/bedrock"
)

// defaultTitanModel is the model NewBedrockTitan calls when given none.
const defaultTitanModel = "amazon.titan-embed-text-v2:0"

// titanParallel is how many Titan calls one Embed has in flight. Titan
// takes one text per call, so calling one after another would make
// indexing a document slow; a few at a time stay well inside Bedrock's
// default request quotas (and the SDK retries the throttled ones).
const titanParallel = 4

// titanEmbedder is the Embedder NewBedrockTitan returns. Its fields are set
// once, and the SDK client is safe for concurrent use, so it is too.
type titanEmbedder struct {
	client    *bedrockruntime.Client
	model     string
	name      string
	normalize bool
}

var _ Embedder = (*titanEmbedder)(nil)

// NewBedrockTitan returns an embedder calling Amazon Titan Text Embeddings on Bedrock
// (InvokeModel with body {"inputText": "...", "normalize": true} for each text — Titan
// takes one text per call; answer {"embedding":[...], "inputTextTokenCount": n}).
// Name() "bedrock:<model>". model "" means "amazon.titan-embed-text-v2:0".
//
// Titan Text Embeddings v1 rejects "normalize", so it is left out for
// models named "titan-embed-text-v1" or "titan-embed-g1"; Embed normalizes
// every vector itself anyway.
func NewBedrockTitan(client *bedrockruntime.Client, model string) Embedder {
	if model == "" {
		model = defaultTitanModel
	}
	return &titanEmbedder{
		client:    client,
		model:     model,
		name:      "bedrock:" + model,
		normalize: !strings.Contains(model, "titan-embed-text-v1") && !strings.Contains(model, "titan-embed-g1"),
	}
}

// Name is "bedrock:<model>".
func (e *titanEmbedder) Name() string { return e.name }

// Embed calls Titan once per text, a few calls at a time, and fails with the
// first call that fails; the calls still running are then cancelled.
func (e *titanEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([][]float32, len(texts))
	sem := make(chan struct{}, titanParallel)
	var wg sync.WaitGroup
start:
	for i, text := range texts {
		select {
		case sem <- struct{}{}:
		case <-callCtx.Done():
			break start
		}
		wg.Go(func() {
			defer func() { <-sem }()
			v, err := e.one(callCtx, text)
			if err != nil {
				cancel(fmt.Errorf("text %d: %w", i, err))
				return
			}
			out[i] = v
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := context.Cause(callCtx); err != nil {
		return nil, fmt.Errorf("%s: %w", e.name, err)
	}
	// Each vector passed its own checks; Titan answers a model's fixed
	// size, but a vector of another length must not slip into an index.
	for i, v := range out {
		if len(v) != len(out[0]) {
			return nil, fmt.Errorf("%s: text %d: vector of %d dimensions among vectors of %d", e.name, i, len(v), len(out[0]))
		}
	}
	return out, nil
}

// titanRequest is the body of a Titan Text Embeddings InvokeModel call.
type titanRequest struct {
	InputText string `json:"inputText"`
	Normalize bool   `json:"normalize,omitempty"`
}

// titanResponse is the part of Titan's answer Embed reads.
type titanResponse struct {
	Embedding []float64 `json:"embedding"`
}

// one embeds one text.
func (e *titanEmbedder) one(ctx context.Context, text string) ([]float32, error) {
	body, err := json.Marshal(titanRequest{InputText: text, Normalize: e.normalize})
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	out, err := e.client.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{
		ModelId:     aws.String(e.model),
		Body:        body,
		ContentType: aws.String("application/json"),
		Accept:      aws.String("application/json"),
	}, func(o *bedrockruntime.Options) {
		o.HTTPClient = bedrock.ReadOnlyBodies(o.HTTPClient)
	})
	if err != nil {
		return nil, titanError(err)
	}
	var resp titanResponse
	if err := json.Unmarshal(out.Body, &resp); err != nil {
		return nil, fmt.Errorf("decode response: %w: %s", err, clip(out.Body))
	}
	return vector(resp.Embedding, 0)
}

// titanError makes what the SDK returned readable: an error Bedrock
// answered ("ValidationException (400): Malformed input request: ...")
// keeps its code, status and message up front, with the SDK's error
// wrapped for errors.As; anything else (no credentials, a dropped
// connection) is returned as it is.
func titanError(err error) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err
	}
	code := api.ErrorCode()
	var resp interface{ HTTPStatusCode() int }
	if errors.As(err, &resp) {
		code = fmt.Sprintf("%s (%d)", code, resp.HTTPStatusCode())
	}
	return &apiError{text: code + ": " + clip([]byte(api.ErrorMessage())), err: err}
}

// apiError is an error Bedrock answered, described by text, wrapping the
// SDK's error.
type apiError struct {
	text string
	err  error
}

// Error is the code, status and message.
func (e *apiError) Error() string { return e.text }

// Unwrap is the SDK's error, for errors.As with smithy.APIError.
func (e *apiError) Unwrap() error { return e.err }
