package openai

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
)

// upstreamError is what a server said about a failure, from an error
// response's body or an error event inside a stream.
type upstreamError struct {
	Status  int
	Code    string
	Type    string
	Param   string
	Message string
}

// errorObject is the error as OpenAI writes it, {"message", "type",
// "param", "code"}, plus Google's "status". Every field is raw because the
// copies disagree on types (vLLM's code is a number, some send nulls).
type errorObject struct {
	Message json.RawMessage `json:"message"`
	Type    json.RawMessage `json:"type"`
	Param   json.RawMessage `json:"param"`
	Code    json.RawMessage `json:"code"`
	Status  json.RawMessage `json:"status"`
}

// parseError reads an error body in any of the shapes OpenAI-compatible
// servers use: {"error": {...}} (OpenAI, Ollama, LiteLLM), {"error": "..."}
// (proxies), a bare object (older vLLM), a one-element array (Gemini), or
// anything else, plain text and HTML pages included. It never fails: the
// worst body still yields the status's text.
func parseError(status int, body []byte) *upstreamError {
	e := &upstreamError{Status: status}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(trimmed, &list) == nil && len(list) > 0 {
			trimmed = bytes.TrimSpace(list[0])
		}
	}
	var outer struct {
		Error json.RawMessage `json:"error"`
		errorObject
	}
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &outer) == nil {
		obj := outer.errorObject
		switch {
		case len(outer.Error) > 0 && outer.Error[0] == '"':
			obj = errorObject{Message: outer.Error}
		case len(outer.Error) > 0 && outer.Error[0] == '{':
			obj = errorObject{}
			_ = json.Unmarshal(outer.Error, &obj)
		}
		e.Message, _ = text(obj.Message)
		e.Type, _ = text(obj.Type)
		e.Param, _ = text(obj.Param)
		// A string code is a real code ("rate_limit_exceeded"); a number
		// is only the HTTP status again.
		if len(obj.Code) > 0 && obj.Code[0] == '"' {
			e.Code, _ = text(obj.Code)
		}
		if e.Type == "" {
			e.Type, _ = text(obj.Status)
		}
	} else if len(trimmed) > 0 && trimmed[0] != '<' {
		// Plain text, as some gateways answer; an HTML error page says
		// nothing its status does not.
		e.Message = clip(string(trimmed))
	}
	if e.Message == "" && status != 0 {
		e.Message = http.StatusText(status)
		if e.Message == "" {
			e.Message = "status " + strconv.Itoa(status)
		}
	}
	return e
}

// text returns a JSON string's value, or a number's text.
func text(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return clip(s), true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(raw), true
	}
	return "", false
}

// clip keeps a message shown to users to a readable length.
func clip(s string) string {
	const max = 2000
	s = strings.TrimSpace(s)
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// fill copies e into me: the status, the most specific code the server
// gave, and its message.
func (e *upstreamError) fill(me *agents.ModelError) {
	me.Status = e.Status
	me.Code = e.Code
	if me.Code == "" {
		me.Code = e.Type
	}
	me.Message = e.Message
}

// wantsMaxCompletionTokens reports whether e is OpenAI refusing max_tokens
// (its reasoning models take only max_completion_tokens).
func (e *upstreamError) wantsMaxCompletionTokens() bool {
	return e != nil && e.Status == http.StatusBadRequest &&
		(e.Param == "max_tokens" || strings.Contains(e.Message, "max_completion_tokens"))
}
