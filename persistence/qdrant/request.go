package qdrant

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Limits on what is read from Qdrant.
const (
	maxAnswer     = 32 << 20 // bytes of a successful answer
	maxErrorBody  = 64 << 10 // bytes of an error answer read
	maxMessageLen = 300      // bytes of an error message kept
)

// envelope is the frame of Qdrant's successful answers:
// {"result": ..., "status": "ok", "time": 0.001}.
type envelope struct {
	Status json.RawMessage `json:"status"`
	Result json.RawMessage `json:"result"`
}

// errorAnswer is the frame of Qdrant's error answers:
// {"status": {"error": "..."}, "time": 0.001}.
type errorAnswer struct {
	Status struct {
		Error string `json:"error"`
	} `json:"status"`
}

// call sends body (nil: none) as JSON to path and decodes the answer's
// "result" into result (nil: only the envelope is checked). op names the
// operation in errors. Non-2xx answers become *Error.
func (s *Store) call(ctx context.Context, op, method, path string, body, result any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("qdrant: %s: encode request: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return fmt.Errorf("qdrant: %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.apiKey != "" {
		req.Header.Set("api-key", s.apiKey)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("qdrant: %s: %w", op, err) // http.Client strips passwords from URLs
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return &Error{Op: op, Status: resp.StatusCode, Message: errorMessage(b)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("qdrant: %s: read answer: %w", op, err)
	}
	if len(b) > maxAnswer {
		return fmt.Errorf("qdrant: %s: answer larger than %d bytes", op, maxAnswer)
	}
	return decodeAnswer(op, b, result)
}

// decodeAnswer checks Qdrant's envelope in b and decodes its result into
// result (nil: not decoded).
func decodeAnswer(op string, b []byte, result any) error {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("qdrant: %s: unexpected answer: %w", op, err)
	}
	var status string
	if err := json.Unmarshal(env.Status, &status); err != nil || status != "ok" {
		return fmt.Errorf("qdrant: %s: unexpected answer: status %s, want \"ok\"", op, cut(string(env.Status)))
	}
	if result == nil {
		return nil
	}
	if len(env.Result) == 0 || string(env.Result) == "null" {
		return fmt.Errorf("qdrant: %s: unexpected answer: no result", op)
	}
	if err := json.Unmarshal(env.Result, result); err != nil {
		return fmt.Errorf("qdrant: %s: unexpected answer: %w", op, err)
	}
	return nil
}

// errorMessage is the message of an error answer: Qdrant's status.error
// when the body has one, else the body's text; cut when long.
func errorMessage(body []byte) string {
	var a errorAnswer
	if json.Unmarshal(body, &a) == nil && a.Status.Error != "" {
		return cut(a.Status.Error)
	}
	return cut(string(body))
}

// cut is s on one line, without invalid UTF-8, at most maxMessageLen bytes
// (plus an ellipsis when cut).
func cut(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " ")
	if len(s) <= maxMessageLen {
		return s
	}
	n := maxMessageLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
