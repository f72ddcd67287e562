package embed_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go"

	"github.com/atrium-hq/atrium/agents/embed"
)

// fakeBedrock is a Bedrock runtime on a real socket answering
// POST /model/{modelId}/invoke as the service does for Titan Text
// Embeddings. It records each request it saw.
type fakeBedrock struct {
	srv  *httptest.Server
	reqs chan bedrockSeen
}

// bedrockSeen is an InvokeModel request as the fake received it.
type bedrockSeen struct {
	Model  string
	Header http.Header
	Body   map[string]any
}

// newFakeBedrock starts a fake whose answer to every request is answer,
// which gets the request's inputText.
func newFakeBedrock(t *testing.T, answer func(w http.ResponseWriter, text string)) *fakeBedrock {
	t.Helper()
	f := &fakeBedrock{reqs: make(chan bedrockSeen, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /model/{modelId}/invoke", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			// The client went away mid-request: Embed cancels the calls
			// still in flight when one of them fails.
			return
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("request body is not JSON: %v: %s", err, raw)
		}
		select {
		case f.reqs <- bedrockSeen{Model: r.PathValue("modelId"), Header: r.Header.Clone(), Body: body}:
		default:
			t.Errorf("more requests than the test expected")
		}
		text, _ := body["inputText"].(string)
		answer(w, text)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// client is a Bedrock runtime client for the fake, built as the Bedrock
// chat provider's tests build theirs: static credentials, a region, and
// two attempts per call without backoff.
func (f *fakeBedrock) client() *bedrockruntime.Client {
	return bedrockruntime.NewFromConfig(aws.Config{
		Region:      "us-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 2
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}, func(o *bedrockruntime.Options) {
		o.BaseEndpoint = aws.String(f.srv.URL)
	})
}

// seen returns the requests the fake saw so far.
func (f *fakeBedrock) seen() []bedrockSeen {
	var out []bedrockSeen
	for {
		select {
		case r := <-f.reqs:
			out = append(out, r)
		default:
			return out
		}
	}
}

// titan answers as Titan does, with the text's textVector.
func titan(t *testing.T) func(http.ResponseWriter, string) {
	return func(w http.ResponseWriter, text string) {
		writeJSON(w, 200, map[string]any{"embedding": textVector(t, text), "inputTextTokenCount": 2})
	}
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// bedrockError answers as Bedrock refuses a call.
func bedrockError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-Errortype", code+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	writeJSON(w, status, map[string]any{"message": message})
}

func TestTitanRequest(t *testing.T) {
	t.Parallel()
	f := newFakeBedrock(t, titan(t))
	e := embed.NewBedrockTitan(f.client(), "")
	if got := e.Name(); got != "bedrock:amazon.titan-embed-text-v2:0" {
		t.Errorf("Name() = %q", got)
	}
	texts := []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6"}
	vecs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	checkOneHot(t, vecs, len(texts))
	reqs := f.seen()
	if len(reqs) != len(texts) {
		t.Fatalf("%d requests, want one per text (%d)", len(reqs), len(texts))
	}
	var got []string
	for _, r := range reqs {
		got = append(got, r.Body["inputText"].(string))
		if r.Model != "amazon.titan-embed-text-v2:0" {
			t.Errorf("model %q", r.Model)
		}
		if r.Body["normalize"] != true || len(r.Body) != 2 {
			t.Errorf("body %v, want inputText and normalize", r.Body)
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
			t.Errorf("Authorization %q, want a SigV4 signature", r.Header.Get("Authorization"))
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Accept") != "application/json" {
			t.Errorf("Content-Type %q, Accept %q", r.Header.Get("Content-Type"), r.Header.Get("Accept"))
		}
	}
	slices.Sort(got) // the calls run side by side
	if !slices.Equal(got, texts) {
		t.Errorf("texts sent %q, want %q", got, texts)
	}
}

func TestTitanV1(t *testing.T) {
	t.Parallel()
	f := newFakeBedrock(t, titan(t))
	e := embed.NewBedrockTitan(f.client(), "amazon.titan-embed-text-v1")
	if _, err := e.Embed(context.Background(), []string{"t0"}); err != nil {
		t.Fatal(err)
	}
	r := f.seen()[0]
	if r.Model != "amazon.titan-embed-text-v1" || len(r.Body) != 1 {
		t.Errorf("model %q, body %v; want v1 and only inputText", r.Model, r.Body)
	}
}

func TestTitanEmpty(t *testing.T) {
	t.Parallel()
	f := newFakeBedrock(t, func(http.ResponseWriter, string) { t.Error("a call for no texts") })
	vecs, err := embed.NewBedrockTitan(f.client(), "").Embed(context.Background(), []string{})
	if err != nil || len(vecs) != 0 {
		t.Errorf("Embed of no texts = %v, %v", vecs, err)
	}
}

func TestTitanErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, text string)
		want   []string
		api    bool // whether the error wraps a smithy.APIError
	}{
		{"validation", func(w http.ResponseWriter, text string) {
			if text == "t1" {
				bedrockError(w, 400, "ValidationException", "Malformed input request: expected minLength: 1, actual: 0, please reformat your input and try again.")
				return
			}
			titan(t)(w, text)
		}, []string{"bedrock:amazon.titan-embed-text-v2:0: text 1: ValidationException (400): Malformed input request"}, true},
		{"access", func(w http.ResponseWriter, text string) {
			bedrockError(w, 403, "AccessDeniedException", "You don't have access to the model with the specified model ID.")
		}, []string{"AccessDeniedException (403): You don't have access"}, true},
		{"not json", func(w http.ResponseWriter, text string) {
			io.WriteString(w, "<html>")
		}, []string{"decode response", "<html>"}, false},
		{"empty", func(w http.ResponseWriter, text string) {
			writeJSON(w, 200, map[string]any{"embedding": []float64{}, "inputTextTokenCount": 0})
		}, []string{"empty vector"}, false},
		{"not float32", func(w http.ResponseWriter, text string) {
			writeJSON(w, 200, map[string]any{"embedding": []float64{1, -1e300}})
		}, []string{"not a finite number"}, false},
		{"mixed lengths", func(w http.ResponseWriter, text string) {
			writeJSON(w, 200, map[string]any{"embedding": make([]float64, 4+len(text))})
		}, []string{"dimensions among vectors of"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeBedrock(t, tc.answer)
			texts := []string{"t0", "t1", "t2"}
			if tc.name == "mixed lengths" {
				texts = []string{"t0", "long t1"}
			}
			vecs, err := embed.NewBedrockTitan(f.client(), "").Embed(context.Background(), texts)
			if err == nil {
				t.Fatalf("no error; vectors %v", vecs)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var api smithy.APIError
			if errors.As(err, &api) != tc.api {
				t.Errorf("errors.As(%v, smithy.APIError) = %v", err, !tc.api)
			}
		})
	}
}

// TestTitanCancel cancels calls the server is holding.
func TestTitanCancel(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 16)
	release := make(chan struct{})
	f := newFakeBedrock(t, func(w http.ResponseWriter, _ string) {
		arrived <- struct{}{}
		<-release
	})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := embed.NewBedrockTitan(f.client(), "").Embed(ctx, []string{"t0", "t1", "t2", "t3", "t4", "t5"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}
