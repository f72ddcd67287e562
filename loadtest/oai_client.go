package main

// A cheap client of OpenAI-compatible chat completions: keep-alive
// connections, request bodies encoded once, answers checked by a few byte
// searches (and decoded in full only for a sample).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// oaiClient sends chat completions to one API.
type oaiClient struct {
	url string // …/chat/completions
	hc  *http.Client
	// Header values, shared by every request and never written.
	contentType, auth []string
}

// newOAIClient talks to the API at base (…/v1) with key, keeping up to
// conns connections open.
func newOAIClient(base, key string, conns int) *oaiClient {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // no limit but MaxIdleConnsPerHost's
		MaxIdleConnsPerHost: conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &oaiClient{
		url:         strings.TrimRight(base, "/") + "/chat/completions",
		hc:          &http.Client{Transport: tr, Timeout: 2 * time.Minute},
		contentType: []string{"application/json"},
		auth:        []string{"Bearer " + key},
	}
}

// closeIdle closes the client's idle connections.
func (c *oaiClient) closeIdle() { c.hc.CloseIdleConnections() }

// oaiShape is the answer a request should get.
type oaiShape struct {
	tokens    int
	toolCalls int  // when the request offers tools
	usage     bool // streams: a usage chunk before [DONE]
}

// oaiRequestBody is a chat completion request for model, streamed or not,
// offering a tool when tools.
func oaiRequestBody(model string, stream, tools bool) []byte {
	body := map[string]any{
		"model":    model,
		"messages": []map[string]any{{"role": "system", "content": "You are a load test."}, {"role": "user", "content": "Say something, please."}},
	}
	if stream {
		body["stream"] = true
		body["stream_options"] = map[string]any{"include_usage": true}
	}
	if tools {
		body["tools"] = []map[string]any{{"type": "function", "function": map[string]any{
			"name": mockToolName, "description": "Looks something up.",
			"parameters": map[string]any{"type": "object", "properties": map[string]any{"query": map[string]any{"type": "string"}}, "required": []string{"query"}},
		}}}
	}
	b, _ := json.Marshal(body)
	return b
}

func (c *oaiClient) post(ctx context.Context, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = http.Header{"Content-Type": c.contentType, "Authorization": c.auth}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	return resp, nil
}

// complete sends a non-streamed request and reads the answer into buf.
// full decodes and checks all of it; otherwise a few byte searches do.
func (c *oaiClient) complete(ctx context.Context, body []byte, buf *bytes.Buffer, want oaiShape, full bool) error {
	resp, err := c.post(ctx, body)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	b := buf.Bytes()
	if full {
		return checkCompletion(b, want)
	}
	if !bytes.Contains(b, []byte(`"chat.completion"`)) || !bytes.Contains(b, []byte(`"finish_reason":"`)) {
		return fmt.Errorf("not a chat.completion: %.300s", b)
	}
	return nil
}

// checkCompletion checks a whole chat.completion against want.
func checkCompletion(b []byte, want oaiShape) error {
	var c struct {
		Object  string `json:"object"`
		Choices []struct {
			Index   int `json:"index"`
			Message struct {
				Role      string  `json:"role"`
				Content   *string `json:"content"`
				ToolCalls []struct {
					ID       string `json:"id"`
					Type     string `json:"type"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage *struct {
			Total int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("decode the answer: %v: %.300s", err, b)
	}
	if c.Object != "chat.completion" || len(c.Choices) != 1 || c.Choices[0].Index != 0 || c.Choices[0].Message.Role != "assistant" {
		return fmt.Errorf("not a chat.completion with one assistant choice: %.300s", b)
	}
	ch := c.Choices[0]
	text := ""
	if ch.Message.Content != nil {
		text = *ch.Message.Content
	}
	if n, err := countTokens(text); err != nil || n != want.tokens {
		return fmt.Errorf("content %.80q: %d tokens (%v), want %d", text, n, err, want.tokens)
	}
	if len(ch.Message.ToolCalls) != want.toolCalls {
		return fmt.Errorf("%d tool calls, want %d", len(ch.Message.ToolCalls), want.toolCalls)
	}
	for _, tc := range ch.Message.ToolCalls {
		if tc.ID == "" || tc.Type != "function" || tc.Function.Name != mockToolName || !json.Valid([]byte(tc.Function.Arguments)) {
			return fmt.Errorf("bad tool call %+v", tc)
		}
	}
	if want := finishOf(want); ch.FinishReason != want {
		return fmt.Errorf("finish_reason %q, want %q", ch.FinishReason, want)
	}
	if c.Usage == nil || c.Usage.Total <= 0 {
		return fmt.Errorf("no usage: %.300s", b)
	}
	return nil
}

func finishOf(want oaiShape) string {
	if want.toolCalls > 0 {
		return "tool_calls"
	}
	return "stop"
}

// countTokens counts the mock's tokens (a space and stampDigits digits
// each) in text, which must hold nothing else.
func countTokens(text string) (int, error) {
	if len(text)%tokenLen != 0 {
		return 0, errors.New("not whole tokens")
	}
	for i := 0; i < len(text); i += tokenLen {
		if text[i] != ' ' {
			return 0, errors.New("not a token")
		}
		for _, d := range text[i+1 : i+tokenLen] {
			if d < '0' || d > '9' {
				return 0, errors.New("not a token")
			}
		}
	}
	return len(text) / tokenLen, nil
}

// streamObserver is told about a stream's content chunks as they arrive.
type streamObserver interface {
	// first is the first chunk with content, ttft after the request was
	// sent.
	first(ttft time.Duration)
	// chunk is every content chunk: its stamps' ages when it arrived (one
	// per token it holds), and the gap since the previous content chunk
	// (negative for the first).
	chunk(now time.Time, ages []time.Duration, gap time.Duration)
}

// stream sends a streamed request and reads it to its end with rd,
// telling obs (if not nil) about its content. full decodes every chunk
// and checks the whole answer; otherwise byte searches count tokens, tool
// calls, the finish and the usage chunk.
func (c *oaiClient) stream(ctx context.Context, body []byte, rd *bufio.Reader, want oaiShape, full bool, obs streamObserver) error {
	start := time.Now()
	resp, err := c.post(ctx, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return fmt.Errorf("Content-Type %q, want text/event-stream", ct)
	}
	rd.Reset(resp.Body)
	var (
		s     streamTally
		last  time.Time
		ages  []time.Duration
		whole *streamWhole
	)
	if full {
		whole = new(streamWhole)
	}
	for {
		line, err := rd.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return fmt.Errorf("a line longer than %d bytes", rd.Size())
		}
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read the stream: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 || line[0] == ':' {
			continue // between events; a comment (": ping")
		}
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			return fmt.Errorf("not an SSE data line: %.200q", line)
		}
		if s.done {
			return fmt.Errorf("data after [DONE]: %.200s", data)
		}
		if string(data) == "[DONE]" {
			s.done = true
			continue
		}
		if bytes.HasPrefix(data, []byte(`{"error"`)) {
			return fmt.Errorf("error event: %.300s", data)
		}
		now := time.Now()
		ages = s.add(data, now, ages[:0])
		if len(ages) > 0 && obs != nil {
			gap := time.Duration(-1)
			if last.IsZero() {
				obs.first(now.Sub(start))
			} else {
				gap = now.Sub(last)
			}
			obs.chunk(now, ages, gap)
		}
		if len(ages) > 0 {
			last = now
		}
		if whole != nil {
			if err := whole.add(data); err != nil {
				return err
			}
		}
	}
	if err := s.check(want); err != nil {
		return err
	}
	if whole != nil {
		return whole.check(want)
	}
	return nil
}

// streamTally is what byte searches found in a stream.
type streamTally struct {
	tokens, callHeads int
	finish            string
	usage, done       bool
}

var (
	contentKey = []byte(`"content":"`)
	finishKey  = []byte(`"finish_reason":"`)
	toolKey    = []byte(`"tool_calls":[`)
	callHead   = []byte(`"type":"function"`)
	usageKey   = []byte(`"usage":{`)
)

// add tallies one chunk's data, appending the ages of its tokens' stamps
// at now to ages.
func (s *streamTally) add(data []byte, now time.Time, ages []time.Duration) []time.Duration {
	if i := bytes.Index(data, contentKey); i >= 0 {
		text := data[i+len(contentKey):]
		ns := now.UnixNano()
		for len(text) >= tokenLen && text[0] == ' ' {
			v, ok := parseStamp(text[1:tokenLen])
			if !ok {
				break
			}
			ages = append(ages, time.Duration(ns-v))
			s.tokens++
			text = text[tokenLen:]
		}
	}
	if bytes.Contains(data, toolKey) && bytes.Contains(data, callHead) {
		s.callHeads++
	}
	if i := bytes.Index(data, finishKey); i >= 0 {
		rest := data[i+len(finishKey):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			s.finish = string(rest[:j])
		}
	}
	if bytes.Contains(data, usageKey) {
		s.usage = true
	}
	return ages
}

// parseStamp reads stampDigits digits.
func parseStamp(b []byte) (int64, bool) {
	var v int64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		v = v*10 + int64(d-'0')
	}
	return v, true
}

func (s *streamTally) check(want oaiShape) error {
	switch {
	case !s.done:
		return errors.New("the stream ended without [DONE]")
	case s.tokens != want.tokens:
		return fmt.Errorf("%d content tokens, want %d", s.tokens, want.tokens)
	case s.callHeads != want.toolCalls:
		return fmt.Errorf("%d tool calls, want %d", s.callHeads, want.toolCalls)
	case s.finish != finishOf(want):
		return fmt.Errorf("finish_reason %q, want %q", s.finish, finishOf(want))
	case want.usage && !s.usage:
		return errors.New("no usage chunk")
	}
	return nil
}

// streamWhole decodes every chunk of a stream and puts the answer
// together, to check a sample of streams in full.
type streamWhole struct {
	text   strings.Builder
	calls  map[int]*strings.Builder
	names  map[int]string
	finish string
	usage  bool
	role   bool
}

func (w *streamWhole) add(data []byte) error {
	var c struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Index int `json:"index"`
			Delta struct {
				Role      string  `json:"role"`
				Content   *string `json:"content"`
				ToolCalls []struct {
					Index    int    `json:"index"`
					ID       string `json:"id"`
					Type     string `json:"type"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"delta"`
			FinishReason *string `json:"finish_reason"`
		} `json:"choices"`
		Usage *struct {
			Total int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("decode a chunk: %v: %.300s", err, data)
	}
	if c.Object != "chat.completion.chunk" || c.ID == "" || c.Created == 0 || c.Model == "" {
		return fmt.Errorf("not a chat.completion.chunk: %.300s", data)
	}
	if c.Usage != nil {
		if len(c.Choices) != 0 || c.Usage.Total <= 0 {
			return fmt.Errorf("bad usage chunk: %.300s", data)
		}
		w.usage = true
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			return fmt.Errorf("choice %d: %.300s", ch.Index, data)
		}
		if ch.Delta.Role == "assistant" {
			w.role = true
		}
		if ch.Delta.Content != nil {
			w.text.WriteString(*ch.Delta.Content)
		}
		for _, tc := range ch.Delta.ToolCalls {
			if w.calls == nil {
				w.calls, w.names = map[int]*strings.Builder{}, map[int]string{}
			}
			if w.calls[tc.Index] == nil {
				if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" {
					return fmt.Errorf("a tool call's first piece without id, type or name: %.300s", data)
				}
				w.calls[tc.Index], w.names[tc.Index] = new(strings.Builder), tc.Function.Name
			}
			w.calls[tc.Index].WriteString(tc.Function.Arguments)
		}
		if ch.FinishReason != nil {
			w.finish = *ch.FinishReason
		}
	}
	return nil
}

func (w *streamWhole) check(want oaiShape) error {
	if !w.role {
		return errors.New("no chunk has the assistant role")
	}
	if n, err := countTokens(w.text.String()); err != nil || n != want.tokens {
		return fmt.Errorf("content %.80q: %d tokens (%v), want %d", w.text.String(), n, err, want.tokens)
	}
	if len(w.calls) != want.toolCalls {
		return fmt.Errorf("%d tool calls, want %d", len(w.calls), want.toolCalls)
	}
	for i, args := range w.calls {
		if w.names[i] != mockToolName || !json.Valid([]byte(args.String())) {
			return fmt.Errorf("tool call %d: %s(%s)", i, w.names[i], args.String())
		}
	}
	if w.finish != finishOf(want) {
		return fmt.Errorf("finish_reason %q, want %q", w.finish, finishOf(want))
	}
	if want.usage && !w.usage {
		return errors.New("no usage chunk")
	}
	return nil
}
