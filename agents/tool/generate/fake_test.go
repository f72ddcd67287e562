package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// fakeAWS is Bedrock Runtime and S3 on one real socket, speaking their
// wire protocols: Bedrock's REST-JSON (POST /model/{modelId}/invoke,
// POST /async-invoke, GET /async-invoke/{invocationArn}) and S3's
// path-style GetObject (GET /{bucket}/{key}). It records what it saw.
type fakeAWS struct {
	t   *testing.T
	srv *httptest.Server

	// Set before the first request.
	invoke   http.HandlerFunc // answers InvokeModel; the body is re-readable
	statuses []string         // GetAsyncInvoke's answers in turn; the last repeats
	failure  string           // failureMessage of a Failed job
	output   string           // the job's output S3 URI
	objects  map[string][]byte
	polled   chan int // gets poll numbers when not nil, without blocking

	mu       sync.Mutex // guards the following fields
	requests []seen
	polls    int
}

// seen is a request as the fake received it.
type seen struct {
	Op     string // "InvokeModel", "StartAsyncInvoke", "GetAsyncInvoke", "GetObject"
	Path   string // the model id, the invocation ARN or "bucket/key"
	Header http.Header
	Body   map[string]any
}

const testARN = "arn:aws:bedrock:us-east-1:123456789012:async-invoke/job42"

func newFakeAWS(t *testing.T) *fakeAWS {
	t.Helper()
	f := &fakeAWS{t: t, statuses: []string{"InProgress", "InProgress", "Completed"},
		output: "s3://atrium-videos/out/job42", objects: map[string][]byte{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /model/{modelId}/invoke", func(w http.ResponseWriter, r *http.Request) {
		raw := f.record(r, "InvokeModel", r.PathValue("modelId"))
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("InvokeModel Content-Type = %q", ct)
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if f.invoke == nil {
			t.Errorf("unexpected InvokeModel")
			http.Error(w, "unexpected", http.StatusInternalServerError)
			return
		}
		f.invoke(w, r)
	})
	mux.HandleFunc("POST /async-invoke", func(w http.ResponseWriter, r *http.Request) {
		f.record(r, "StartAsyncInvoke", "")
		writeJSON(w, http.StatusOK, map[string]any{"invocationArn": testARN})
	})
	mux.HandleFunc("GET /async-invoke/{arn}", func(w http.ResponseWriter, r *http.Request) {
		arn := r.PathValue("arn")
		f.record(r, "GetAsyncInvoke", arn)
		if arn != testARN {
			apiError(w, http.StatusNotFound, "ResourceNotFoundException", "no such invocation "+arn)
			return
		}
		f.mu.Lock()
		n := f.polls
		f.polls++
		f.mu.Unlock()
		status := f.statuses[min(n, len(f.statuses)-1)]
		job := map[string]any{
			"invocationArn":    testARN,
			"modelArn":         "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-reel-v1:1",
			"status":           status,
			"submitTime":       "2026-01-02T03:04:05Z",
			"outputDataConfig": map[string]any{"s3OutputDataConfig": map[string]any{"s3Uri": f.output}},
		}
		if status == "Failed" {
			job["failureMessage"] = f.failure
		}
		writeJSON(w, http.StatusOK, job)
		if f.polled != nil {
			select {
			case f.polled <- n + 1:
			default:
			}
		}
	})
	mux.HandleFunc("GET /{bucket}/{key...}", func(w http.ResponseWriter, r *http.Request) {
		path := r.PathValue("bucket") + "/" + r.PathValue("key")
		f.record(r, "GetObject", path)
		body, ok := f.objects[path]
		if !ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("ETag", `"fake"`)
		w.Write(body)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// record notes a request, checking that the SDK signed it with SigV4, and
// returns its body.
func (f *fakeAWS) record(r *http.Request, op, path string) []byte {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("%s: read body: %v", op, err)
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		f.t.Errorf("%s is not signed with SigV4: Authorization = %q", op, auth)
	}
	var body map[string]any
	if len(raw) > 0 && op != "GetObject" {
		if err := json.Unmarshal(raw, &body); err != nil {
			f.t.Errorf("%s body is not a JSON object: %v: %.200s", op, err, raw)
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, seen{Op: op, Path: path, Header: r.Header.Clone(), Body: body})
	f.mu.Unlock()
	return raw
}

// seen returns the requests of op so far.
func (f *fakeAWS) seen(op string) []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []seen
	for _, s := range f.requests {
		if s.Op == op {
			out = append(out, s)
		}
	}
	return out
}

// total counts every request so far.
func (f *fakeAWS) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", "fake-request")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiError answers as Bedrock refuses a request.
func apiError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-Errortype", code+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	writeJSON(w, status, map[string]any{"message": message})
}

// testAWS has a region, static credentials and no retries, so refused
// calls fail at once.
func testAWS() *aws.Config {
	return &aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// env is a real file store with one agent and one conversation.
type env struct {
	files *agents.Files
	agent agents.Agent
	chat  workspaces.ChatID
}

func newEnv(t *testing.T) env {
	t.Helper()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	owner, err := ws.Register(ctx, "owner@x.io", "pw")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agents.New(db, ws).Create(ctx, owner.ID, agents.NewAgent{Name: "Painter", ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	files := agents.NewFiles(db, agents.FilesConfig{Dir: t.TempDir(), Secret: []byte("test file key")})
	return env{files: files, agent: a, chat: workspaces.ChatID(workspaces.NewID())}
}

// tools returns the three tools talking to f (nil: no AWS) with a tiny
// poll interval, and cfg's other settings.
func (e env) tools(f *fakeAWS, cfg Config) (*TextToImage, *TextToVideo, *ImageToVideo) {
	var awsCfg *aws.Config
	if f != nil {
		awsCfg = testAWS()
		cfg.BedrockEndpoint, cfg.S3Endpoint, cfg.S3PathStyle = f.srv.URL, f.srv.URL, true
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Millisecond
	}
	ts := New(cfg, awsCfg, e.files, safehttp.New(safehttp.Config{Allow: []string{"127.0.0.1"}}))
	return ts[0].(*TextToImage), ts[1].(*TextToVideo), ts[2].(*ImageToVideo)
}

// input is a call of the env's agent in its conversation.
func (e env) input(args string) agents.ToolInput {
	return agents.ToolInput{Agent: e.agent, ChatID: e.chat, Arguments: json.RawMessage(args)}
}

// stored reads back the file id through the real store.
func (e env) stored(t *testing.T, id string) (agents.File, []byte) {
	t.Helper()
	f, err := e.files.File(context.Background(), e.agent.ID, id)
	if err != nil {
		t.Fatalf("file %s: %v", id, err)
	}
	r, err := e.files.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return f, data
}

// picture is an encoded w x h image with a gradient, "png" or "jpeg".
func picture(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			copy(img.Pix[i:i+4], []byte{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	var err error
	if format == "jpeg" {
		err = jpeg.Encode(&buf, img, nil)
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func contains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%q lacks %q", got, w)
		}
	}
}

// dig follows keys into nested JSON objects.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
