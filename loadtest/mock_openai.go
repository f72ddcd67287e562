package main

// A mock OpenAI-compatible upstream in the load generator's own process:
// the openai scenario points Atrium's OPENAI_BASE_URL at it, and sends the
// same requests to it directly, to see what Atrium adds.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// mockConfig is how the mock answers. The scenario changes it between
// measurements; every answer uses the one current when it was asked.
type mockConfig struct {
	model string // the answers' "model"
	// latency is the wait before the first byte of an answer.
	latency time.Duration
	tokens  int // content tokens in each answer
	// rate is the pieces (tokens, then tool-call pieces) streamed per
	// second; 0 sends them all at once. A non-streamed answer comes when
	// a streamed one would have sent its last piece, as a real model's
	// does.
	rate float64
	// toolCalls is how many tool calls follow the content in an answer to
	// a request that offers tools.
	toolCalls int
}

// A content token is a space and 19 digits. In a stream the digits are
// the Unix time in nanoseconds at which the mock wrote the chunk, so the
// client can tell how long each chunk took to reach it (the mock runs in
// the client's process, on the same clock); in a non-streamed answer they
// are the token's index.
const (
	stampDigits = 19
	tokenLen    = 1 + stampDigits
)

// Fixed parts of the answers.
const (
	mockID           = "chatcmpl-loadtestmock0000000000"
	mockCreated      = 1700000000
	mockFingerprint  = "fp_loadtest"
	mockPromptTokens = 12
	mockToolName     = "lookup"
	mockCallPieces   = 3 // a tool call streams as its head and two argument pieces
)

// mockArgs are tool call i's arguments, as mockCallPieces-1 pieces.
func mockArgs(i int) []string { return []string{`{"query":"item `, strconv.Itoa(i) + `"}`} }

// mockCallID is tool call i's id.
func mockCallID(i int) string { return "call_loadtest_" + strconv.Itoa(i) }

// mockAnswer is a mockConfig's answers, encoded once: a request costs no
// JSON encoding, only a stamp per streamed token.
type mockAnswer struct {
	cfg mockConfig
	// Stream events, each a whole "data: …\n\n"; index 1 has the
	// "usage":null that every chunk carries when include_usage is asked.
	role      [2][]byte
	tokenHead [2][]byte // a token's chunk is tokenHead, a stamp, tokenTail
	tokenTail [2][]byte
	usage     []byte
	done      []byte
	// plain and tools answer a request without and with tools offered.
	plain, tools mockVariant
}

// mockVariant is what differs between answers with and without tool calls.
type mockVariant struct {
	calls  [2][][]byte // tool-call chunks, in order
	finish [2][]byte   // the chunk with finish_reason
	whole  []byte      // the non-streamed chat.completion
}

// pieces is how many timed pieces a stream of v sends.
func (a *mockAnswer) pieces(v *mockVariant) int { return a.cfg.tokens + len(v.calls[0]) }

func newMockAnswer(cfg mockConfig) *mockAnswer {
	a := &mockAnswer{cfg: cfg}
	str := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	head := `{"id":` + str(mockID) + `,"object":"chat.completion.chunk","created":` + strconv.Itoa(mockCreated) +
		`,"model":` + str(cfg.model) + `,"service_tier":"default","system_fingerprint":` + str(mockFingerprint) + `,"choices":[`
	tails := [2]string{"}\n\n", `,"usage":null}` + "\n\n"}
	chunk := func(u int, choice string) []byte { return []byte("data: " + head + choice + "]" + tails[u]) }
	for u := range 2 {
		a.role[u] = chunk(u, `{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}`)
		a.tokenHead[u] = []byte("data: " + head + `{"index":0,"delta":{"content":" `)
		a.tokenTail[u] = []byte(`"},"logprobs":null,"finish_reason":null}]` + tails[u])
	}
	completion := cfg.tokens
	for i := range cfg.toolCalls {
		completion += 2 + len(mockArgs(i))
	}
	usage := fmt.Sprintf(`"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,`+
		`"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},`+
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`,
		mockPromptTokens, completion, mockPromptTokens+completion)
	a.usage = []byte("data: " + head + "]," + usage + "}\n\n")
	a.done = []byte("data: [DONE]\n\n")

	var content bytes.Buffer
	for i := range cfg.tokens {
		fmt.Fprintf(&content, " %0*d", stampDigits, i)
	}
	for _, v := range []*mockVariant{&a.plain, &a.tools} {
		finish, calls := "stop", 0
		if v == &a.tools && cfg.toolCalls > 0 {
			finish, calls = "tool_calls", cfg.toolCalls
		}
		type function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		}
		type toolCall struct {
			ID       string   `json:"id"`
			Type     string   `json:"type"`
			Function function `json:"function"`
		}
		var whole []toolCall
		for i := range calls {
			args := mockArgs(i)
			for u := range 2 {
				v.calls[u] = append(v.calls[u], chunk(u, fmt.Sprintf(
					`{"index":0,"delta":{"tool_calls":[{"index":%d,"id":%s,"type":"function","function":{"name":%s,"arguments":""}}]},"logprobs":null,"finish_reason":null}`,
					i, str(mockCallID(i)), str(mockToolName))))
				for _, p := range args {
					v.calls[u] = append(v.calls[u], chunk(u, fmt.Sprintf(
						`{"index":0,"delta":{"tool_calls":[{"index":%d,"function":{"arguments":%s}}]},"logprobs":null,"finish_reason":null}`, i, str(p))))
				}
			}
			joined := ""
			for _, p := range args {
				joined += p
			}
			whole = append(whole, toolCall{ID: mockCallID(i), Type: "function", Function: function{Name: mockToolName, Arguments: joined}})
		}
		for u := range 2 {
			v.finish[u] = chunk(u, `{"index":0,"delta":{},"logprobs":null,"finish_reason":`+str(finish)+`}`)
		}
		msg := `{"role":"assistant","content":`
		if cfg.tokens == 0 && calls > 0 {
			msg += "null"
		} else {
			msg += str(content.String())
		}
		if calls > 0 {
			b, _ := json.Marshal(whole)
			msg += `,"tool_calls":` + string(b)
		}
		msg += `,"refusal":null,"annotations":[]}`
		v.whole = []byte(`{"id":` + str(mockID) + `,"object":"chat.completion","created":` + strconv.Itoa(mockCreated) +
			`,"model":` + str(cfg.model) + `,"choices":[{"index":0,"message":` + msg + `,"logprobs":null,"finish_reason":` + str(finish) + `}],` +
			usage + `,"service_tier":"default","system_fingerprint":` + str(mockFingerprint) + "}")
	}
	return a
}

// mockOpenAI is the mock upstream: an http.Handler for POST
// /v1/chat/completions (and /chat/completions), on its own listener.
type mockOpenAI struct {
	url string // http://host:port, without /v1
	// key, when not empty, is the API key requests must bear.
	key    string
	srv    *http.Server
	answer atomic.Pointer[mockAnswer]
	bodies sync.Pool // *bytes.Buffer for request bodies

	requests     atomic.Uint64
	streams      atomic.Uint64
	conns        atomic.Uint64 // connections accepted
	unauthorized atomic.Uint64
	refused      atomic.Uint64 // requests for another path or method
}

// startMockOpenAI listens on addr (host:port; port 0 picks one) and
// serves the mock there until close.
func startMockOpenAI(addr, key string, cfg mockConfig) (*mockOpenAI, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mock upstream: %w", err)
	}
	m := &mockOpenAI{url: "http://" + ln.Addr().String(), key: key}
	m.bodies.New = func() any { return new(bytes.Buffer) }
	m.set(cfg)
	m.srv = &http.Server{
		Handler:           m,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				m.conns.Add(1)
			}
		},
	}
	go m.srv.Serve(ln)
	return m, nil
}

// set makes cfg the way the next requests are answered.
func (m *mockOpenAI) set(cfg mockConfig) { m.answer.Store(newMockAnswer(cfg)) }

// close stops the mock and drops its connections.
func (m *mockOpenAI) close() { m.srv.Close() }

func (m *mockOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" && r.URL.Path != "/chat/completions" {
		m.refused.Add(1)
		mockError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "Unknown request URL: "+r.Method+" "+r.URL.Path+".")
		return
	}
	if m.key != "" && r.Header.Get("Authorization") != "Bearer "+m.key {
		m.unauthorized.Add(1)
		mockError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.")
		return
	}
	m.requests.Add(1)
	a := m.answer.Load()
	body := m.bodies.Get().(*bytes.Buffer)
	body.Reset()
	_, err := body.ReadFrom(io.LimitReader(r.Body, 1<<20))
	b := body.Bytes()
	stream, usage := jsonTrue(b, `"stream"`), jsonTrue(b, `"include_usage"`)
	v := &a.plain
	if bytes.Contains(b, []byte(`"tools"`)) {
		v = &a.tools
	}
	m.bodies.Put(body)
	if err != nil {
		return
	}
	wait := a.cfg.latency
	if !stream && a.cfg.rate > 0 {
		if n := a.pieces(v); n > 1 {
			wait += time.Duration(float64(n-1) / a.cfg.rate * float64(time.Second))
		}
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if !stream {
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{strconv.Itoa(len(v.whole))}
		w.WriteHeader(http.StatusOK)
		w.Write(v.whole)
		return
	}
	m.streams.Add(1)
	m.stream(w, a, v, usage)
}

// stream writes a streamed answer: the role and the first piece at once,
// the others at a.cfg.rate, then the finish, usage (when asked) and
// [DONE] together.
func (m *mockOpenAI) stream(w http.ResponseWriter, a *mockAnswer, v *mockVariant, withUsage bool) {
	u := 0
	if withUsage {
		u = 1
	}
	h := w.Header()
	h["Content-Type"] = []string{"text/event-stream"}
	h["Cache-Control"] = []string{"no-cache"}
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if _, err := w.Write(a.role[u]); err != nil {
		return
	}
	var interval time.Duration
	if a.cfg.rate > 0 {
		interval = time.Duration(float64(time.Second) / a.cfg.rate)
	}
	start := time.Now()
	buf := make([]byte, 0, len(a.tokenHead[u])+tokenLen+len(a.tokenTail[u]))
	n := a.pieces(v)
	for i := range n {
		if i > 0 && interval > 0 {
			if flusher != nil {
				flusher.Flush()
			}
			if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		var out []byte
		if i < a.cfg.tokens {
			buf = append(buf[:0], a.tokenHead[u]...)
			buf = appendStamp(buf, time.Now().UnixNano())
			out = append(buf, a.tokenTail[u]...)
		} else {
			out = v.calls[u][i-a.cfg.tokens]
		}
		if _, err := w.Write(out); err != nil {
			return
		}
	}
	w.Write(v.finish[u])
	if withUsage {
		w.Write(a.usage)
	}
	w.Write(a.done)
	if flusher != nil {
		flusher.Flush()
	}
}

// appendStamp appends ns as stampDigits digits.
func appendStamp(b []byte, ns int64) []byte {
	var d [stampDigits]byte
	for i := stampDigits - 1; i >= 0; i-- {
		d[i] = byte('0' + ns%10)
		ns /= 10
	}
	return append(b, d[:]...)
}

// jsonTrue reports whether key (quoted) is followed by `: true` in b. It
// does not parse b: a key of that name inside a nested object (a tool's
// schema) would count too, which a mock can live with. A key inside a
// string is escaped (\"stream\") and does not match.
func jsonTrue(b []byte, key string) bool {
	for {
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			return false
		}
		b = b[i+len(key):]
		j := 0
		for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
			j++
		}
		if j < len(b) && b[j] == ':' {
			rest := bytes.TrimLeft(b[j+1:], " \t\r\n")
			if bytes.HasPrefix(rest, []byte("true")) {
				return true
			}
		}
	}
}

// mockError answers with OpenAI's error shape.
func mockError(w http.ResponseWriter, status int, typ, code, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
