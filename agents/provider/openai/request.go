package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/atrium-hq/atrium/agents"
)

// encoding says how to write one request body.
type encoding struct {
	stream bool
	// maxCompletion names the token cap max_completion_tokens rather than
	// max_tokens (see Stream).
	maxCompletion bool
}

// body encodes req as a chat-completions request, appended to b[:0]. It
// appends the JSON by hand: with a reflection-based encoder building the
// body was a fifth of the cost of relaying a request.
func body(b []byte, req agents.ModelRequest, enc encoding) ([]byte, error) {
	b = slices.Grow(b[:0], 512+requestSize(req))
	b = append(b, `{"model":`...)
	b = agents.AppendJSONString(b, req.Model)
	b = append(b, `,"messages":[`...)
	n := 0
	if req.System != "" {
		b = appendText(b, agents.RoleSystem, req.System)
		n++
	}
	for i, m := range req.Messages {
		if n > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendMessage(b, m); err != nil {
			return nil, fmt.Errorf("openai: message %d: %w", i, err)
		}
		n++
	}
	b = append(b, ']')
	if enc.stream {
		// Without include_usage the stream carries no token counts at all.
		b = append(b, `,"stream":true,"stream_options":{"include_usage":true}`...)
	}
	if len(req.Tools) > 0 {
		b = append(b, `,"tools":[`...)
		for i, t := range req.Tools {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"function","function":{"name":`...)
			b = agents.AppendJSONString(b, t.Name)
			if t.Description != "" {
				b = append(b, `,"description":`...)
				b = agents.AppendJSONString(b, t.Description)
			}
			b = append(b, `,"parameters":`...)
			var err error
			if b, err = appendParameters(b, t.Parameters); err != nil {
				return nil, fmt.Errorf("openai: tool %q: %w", t.Name, err)
			}
			b = append(b, "}}"...)
		}
		b = append(b, ']')
		// OpenAI rejects a tool_choice without tools.
		switch req.ToolChoice {
		case "":
		case "auto", "none", "required":
			b = append(b, `,"tool_choice":`...)
			b = agents.AppendJSONString(b, req.ToolChoice)
		default:
			// Not in the contract, but the API can force one tool by name.
			b = append(b, `,"tool_choice":{"type":"function","function":{"name":`...)
			b = agents.AppendJSONString(b, req.ToolChoice)
			b = append(b, "}}"...)
		}
	}
	var err error
	if req.Temperature != nil {
		b = append(b, `,"temperature":`...)
		if b, err = appendFloat(b, *req.Temperature); err != nil {
			return nil, fmt.Errorf("openai: temperature: %w", err)
		}
	}
	if req.TopP != nil {
		b = append(b, `,"top_p":`...)
		if b, err = appendFloat(b, *req.TopP); err != nil {
			return nil, fmt.Errorf("openai: top_p: %w", err)
		}
	}
	if req.MaxTokens > 0 {
		// max_tokens, not max_completion_tokens: Ollama, vLLM, llama.cpp
		// and most gateways know only the older name. Stream falls back to
		// the newer one when OpenAI refuses it.
		if enc.maxCompletion {
			b = append(b, `,"max_completion_tokens":`...)
		} else {
			b = append(b, `,"max_tokens":`...)
		}
		b = strconv.AppendInt(b, int64(req.MaxTokens), 10)
	}
	if len(req.Stop) > 0 {
		b = append(b, `,"stop":[`...)
		for i, s := range req.Stop {
			if i > 0 {
				b = append(b, ',')
			}
			b = agents.AppendJSONString(b, s)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// requestSize guesses the bytes of req's texts, to size the body once.
func requestSize(req agents.ModelRequest) int {
	n := len(req.System)
	for _, m := range req.Messages {
		n += len(m.Content) + 32
		for _, tc := range m.ToolCalls {
			n += len(tc.ID) + len(tc.Name) + len(tc.Arguments) + 64
		}
	}
	for _, t := range req.Tools {
		n += len(t.Name) + len(t.Description) + len(t.Parameters) + 64
	}
	return n
}

// appendText appends a plain {"role","content"} message.
func appendText(b []byte, role, content string) []byte {
	b = append(b, `{"role":`...)
	b = agents.AppendJSONString(b, role)
	b = append(b, `,"content":`...)
	b = agents.AppendJSONString(b, content)
	return append(b, '}')
}

// appendMessage appends one turn of the conversation.
func appendMessage(b []byte, m agents.ModelMessage) ([]byte, error) {
	switch m.Role {
	case agents.RoleSystem, agents.RoleUser:
		return appendText(b, m.Role, m.Content), nil
	case agents.RoleAssistant:
		b = append(b, `{"role":"assistant"`...)
		// A turn that only called tools has no content: left out, not "".
		if m.Content != "" || len(m.ToolCalls) == 0 {
			b = append(b, `,"content":`...)
			b = agents.AppendJSONString(b, m.Content)
		}
		if len(m.ToolCalls) > 0 {
			b = append(b, `,"tool_calls":[`...)
			for i, tc := range m.ToolCalls {
				if i > 0 {
					b = append(b, ',')
				}
				args := tc.Arguments
				if strings.TrimSpace(args) == "" {
					// Servers that parse the arguments (Ollama, vLLM)
					// choke on an empty string; a call without arguments
					// took none.
					args = "{}"
				}
				b = append(b, `{"id":`...)
				b = agents.AppendJSONString(b, tc.ID)
				b = append(b, `,"type":"function","function":{"name":`...)
				b = agents.AppendJSONString(b, tc.Name)
				b = append(b, `,"arguments":`...)
				b = agents.AppendJSONString(b, args)
				b = append(b, "}}"...)
			}
			b = append(b, ']')
		}
		return append(b, '}'), nil
	case agents.RoleTool:
		content := m.Content
		// The API has no error flag on tool results, so the text says it.
		if m.IsError && !strings.HasPrefix(strings.ToLower(content), "error") {
			content = "Error: " + content
		}
		b = append(b, `{"role":"tool","tool_call_id":`...)
		b = agents.AppendJSONString(b, m.ToolCallID)
		b = append(b, `,"content":`...)
		b = agents.AppendJSONString(b, content)
		return append(b, '}'), nil
	}
	return b, fmt.Errorf("unknown role %q", m.Role)
}

// appendParameters appends a tool's JSON Schema as written (compacted).
// A tool without one takes none, which OpenAI still wants as an object
// schema; an object schema without properties gets empty ones, because
// OpenAI has rejected those ("object schema missing properties").
func appendParameters(b []byte, raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return append(b, `{"type":"object","properties":{}}`...), nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return b, errors.New("parameters are not a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return b, errors.New("parameters are not a JSON object")
	}
	b = append(b, buf.Bytes()...)
	if _, ok := fields["properties"]; !ok && bytes.Equal(bytes.TrimSpace(fields["type"]), []byte(`"object"`)) {
		// The compacted object ends in '}': open it again for one more key.
		b = append(b[:len(b)-1], `,"properties":{}}`...)
	}
	return b, nil
}

// appendFloat appends f as a JSON number.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("%v is not a number JSON can carry", f)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64), nil
}
