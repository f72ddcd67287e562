package bedrock_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/bedrock"
)

// fakeBedrock is a Bedrock runtime on a real socket. It answers
// POST /model/{modelId}/converse-stream as the service does, with AWS
// event-stream frames, and records each request it saw.
type fakeBedrock struct {
	srv  *httptest.Server
	reqs chan seenRequest
}

// seenRequest is a request as the fake received it.
type seenRequest struct {
	Model  string
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// newFake starts a fake whose answer to every request is answer.
func newFake(t testing.TB, answer http.HandlerFunc) *fakeBedrock {
	t.Helper()
	f := &fakeBedrock{reqs: make(chan seenRequest, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /model/{modelId}/converse-stream", func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read request body: %v", err)
		}
		// Numbers stay as written: a schema may hold ones no float64 can.
		var body map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Errorf("request body is not JSON: %v: %s", err, raw)
		}
		select {
		case f.reqs <- seenRequest{Model: r.PathValue("modelId"), Header: r.Header.Clone(), Raw: raw, Body: body}:
		default:
			t.Errorf("more requests than the test expected")
		}
		answer(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// provider returns a Provider talking to f with static credentials, two
// attempts per call and no backoff, so retried errors stay fast.
func (f *fakeBedrock) provider(cfg bedrock.Config) *bedrock.Provider {
	cfg.Endpoint = f.srv.URL
	return bedrock.NewFromConfig(testAWSConfig(), cfg)
}

// testAWSConfig has static credentials, a region, and two attempts per
// call without backoff.
func testAWSConfig() aws.Config {
	return aws.Config{
		Region:      "us-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 2
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

// request returns the next request the fake saw.
func (f *fakeBedrock) request(t *testing.T) seenRequest {
	t.Helper()
	select {
	case r := <-f.reqs:
		return r
	default:
		t.Fatal("the fake saw no request")
		return seenRequest{}
	}
}

// requests counts the requests the fake saw and not yet returned.
func (f *fakeBedrock) requests() int { return len(f.reqs) }

// frame is one event-stream message as Bedrock sends it.
type frame struct {
	messageType string // "event" or "exception"
	typ         string // the :event-type or :exception-type
	payload     string
}

func event(typ, payload string) frame { return frame{"event", typ, payload} }
func exception(typ, message string) frame {
	return frame{"exception", typ, jsonText(map[string]any{"message": message})}
}

func messageStart() frame { return event("messageStart", `{"role":"assistant"}`) }

func text(block int, s string) frame {
	return event("contentBlockDelta", jsonText(map[string]any{"contentBlockIndex": block, "delta": map[string]any{"text": s}}))
}

func toolStart(block int, id, name string) frame {
	return event("contentBlockStart", jsonText(map[string]any{"contentBlockIndex": block, "start": map[string]any{"toolUse": map[string]any{"toolUseId": id, "name": name}}}))
}

func toolInput(block int, piece string) frame {
	return event("contentBlockDelta", jsonText(map[string]any{"contentBlockIndex": block, "delta": map[string]any{"toolUse": map[string]any{"input": piece}}}))
}

func blockStop(block int) frame {
	return event("contentBlockStop", jsonText(map[string]any{"contentBlockIndex": block}))
}

func messageStop(reason string) frame {
	return event("messageStop", jsonText(map[string]any{"stopReason": reason}))
}

func metadata(in, out int) frame {
	return event("metadata", jsonText(map[string]any{
		"usage":   map[string]any{"inputTokens": in, "outputTokens": out, "totalTokens": in + out},
		"metrics": map[string]any{"latencyMs": 100},
	}))
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// encode is f as bytes on the wire.
func (f frame) encode() []byte {
	var m eventstream.Message
	m.Headers.Set(":message-type", eventstream.StringValue(f.messageType))
	if f.messageType == "exception" {
		m.Headers.Set(":exception-type", eventstream.StringValue(f.typ))
	} else {
		m.Headers.Set(":event-type", eventstream.StringValue(f.typ))
	}
	m.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	m.Payload = []byte(f.payload)
	var buf bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&buf, m); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// startStream answers 200 with the event-stream content type.
func startStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.Header().Set("X-Amzn-Requestid", "fake-request")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
}

// send writes frames, each flushed so the client sees them one by one as
// from the service. Write errors are ignored: some tests leave mid-stream.
func send(w http.ResponseWriter, frames ...frame) {
	for _, f := range frames {
		w.Write(f.encode())
		w.(http.Flusher).Flush()
	}
}

// script answers with frames and ends the stream.
func script(frames ...frame) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		startStream(w)
		send(w, frames...)
	}
}

// apiError answers as Bedrock refuses a request before streaming.
func apiError(status int, code, message string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", code+":http://internal.amazon.com/coral/com.amazon.bedrock/")
		w.WriteHeader(status)
		io.WriteString(w, jsonText(map[string]any{"message": message}))
	}
}

// recorder collects the deltas Stream emits.
type recorder struct{ deltas []agents.Delta }

func (r *recorder) emit(d agents.Delta) error {
	r.deltas = append(r.deltas, d)
	return nil
}

// text is the emitted text, concatenated.
func (r *recorder) text() string {
	var b strings.Builder
	for _, d := range r.deltas {
		b.WriteString(d.Text)
	}
	return b.String()
}

// hello is a request with one user message.
func hello() agents.ModelRequest {
	return agents.ModelRequest{Model: "anthropic.claude-3-haiku-20240307-v1:0", Messages: []agents.ModelMessage{{Role: agents.RoleUser, Content: "Hi"}}}
}

// path returns the value at a path of keys and indexes in decoded JSON.
func path(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %d: not a long enough array: %v", k, v)
			}
			v = l[k]
		}
	}
	return v
}
