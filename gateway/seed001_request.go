package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Limits of seed 001's requests, as OpenAI's.
const (
	maxOAIChoices = 8 // n
	maxOAIStops   = 4 // stop sequences
	// maxOAIJobs caps prompts × n of one /completions request: each
	// is an upstream call made at once.
	maxOAIJobs = 16
)

// oaiSampling is what /chat/completions and /completions share. Fields
// OpenAI has and Atrium does not use (seed, user, logprobs,
// presence_penalty, ...) are not listed, so they are accepted and ignored,
// as are unknown ones.
type oaiSampling struct {
	Model               string          `json:"model"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	N                   *int            `json:"n"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// oaiChatRequest is a POST /chat/completions body.
type oaiChatRequest struct {
	oaiSampling
	Messages   []oaiChatMessage `json:"messages"`
	Tools      []oaiTool        `json:"tools"`
	ToolChoice json.RawMessage  `json:"tool_choice"`
}

// oaiChatMessage is one message of a chat request. Content is a string, null,
// or an array of content parts.
type oaiChatMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []oaiToolCall   `json:"tool_calls"`
	ToolCallID string          `json:"tool_call_id"`
}

// oaiToolCall is a tool call, in an assistant message of a request and
// in a response.
type oaiToolCall struct {
	ID       string      `json:"id"`
	Type     string      `json:"type"`
	Function oaiFunction `json:"function"`
}

type oaiFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// oaiTool is a tool the client offers the model.
type oaiTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// oaiContentPart is one part of an array content.
type oaiContentPart struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Refusal string `json:"refusal"`
}

// oaiCompletionRequest is a POST /completions body. Prompt is a string or an
// array of strings.
type oaiCompletionRequest struct {
	oaiSampling
	Prompt json.RawMessage `json:"prompt"`
}

// oaiBodyBuffers hold request bodies while they are decoded; decoding copies
// what it keeps, so a buffer is reused at once.
var oaiBodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decodeOAI reads r's JSON body into v, with seed 001's errors: 413 past
// s.cfg.MaxBodyBytes, 400 for anything that is not JSON of v's shape.
func (s *server) decodeOAI(w http.ResponseWriter, r *http.Request, v any) error {
	buf := oaiBodyBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 256<<10 {
			oaiBodyBuffers.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &oaiError{Status: http.StatusRequestEntityTooLarge, Type: oaiInvalidRequest, Code: "request_too_large",
				Message: fmt.Sprintf("The request body is larger than this server accepts (%d bytes).", s.cfg.MaxBodyBytes)}
		}
		if errors.Is(err, ErrBodyStalled) {
			return workspaces.E(workspaces.KindInvalid, "Could not read the request body: "+err.Error()+".")
		}
		return workspaces.E(workspaces.KindInvalid, "Could not read the request body.")
	}
	body := bytes.TrimSpace(buf.Bytes())
	if len(body) == 0 {
		return oaiInvalidParam("invalid_json", "", "The request has no body. Send a JSON object (Content-Type: application/json).")
	}
	if body[0] != '{' {
		return oaiInvalidParam("invalid_json", "", "The request body must be a JSON object.")
	}
	if hasNULEscape(body) {
		return oaiInvalidParam("invalid_value", "", workspaces.ErrorMessage(errNUL)+".")
	}
	err := json.Unmarshal(body, v)
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typ):
		// The shared parameters are an embedded struct, which Go names in
		// the path; the client knows only the JSON field.
		field := strings.TrimPrefix(typ.Field, "oaiSampling.")
		if field == "" {
			field = "body"
		}
		return oaiInvalidParam("invalid_type", field, fmt.Sprintf("Invalid type for '%s': expected %s, got %s.", field, oaiJSONKind(typ.Type), typ.Value))
	default:
		return oaiInvalidParam("invalid_json", "", "We could not parse the JSON body of your request ("+err.Error()+"). The API expects a JSON object.")
	}
}

// oaiJSONKind names what JSON value a Go type takes.
func oaiJSONKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice:
		return "an array"
	case reflect.Pointer:
		return oaiJSONKind(t.Elem())
	}
	return "an object"
}

// rawNull reports whether raw is absent or JSON null.
func rawNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// params checks the shared parameters and returns the request they make
// (without its messages), how many choices each prompt gets, and whether
// the stream reports usage.
func (p *oaiSampling) params() (agents.ModelRequest, int, error) {
	var req agents.ModelRequest
	if strings.TrimSpace(p.Model) == "" {
		return req, 0, oaiInvalidParam("missing_parameter", "model", "You must provide a model parameter.")
	}
	if t := p.Temperature; t != nil {
		if *t < 0 || *t > 2 {
			return req, 0, oaiInvalidParam("invalid_value", "temperature", fmt.Sprintf("Invalid 'temperature': %g is out of range. Expected a value between 0 and 2.", *t))
		}
		req.Temperature = t
	}
	if t := p.TopP; t != nil {
		if *t < 0 || *t > 1 {
			return req, 0, oaiInvalidParam("invalid_value", "top_p", fmt.Sprintf("Invalid 'top_p': %g is out of range. Expected a value between 0 and 1.", *t))
		}
		req.TopP = t
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"max_tokens", p.MaxTokens}, {"max_completion_tokens", p.MaxCompletionTokens}} {
		if f.v == nil {
			continue
		}
		if *f.v < 1 {
			return req, 0, oaiInvalidParam("invalid_value", f.name, fmt.Sprintf("Invalid '%s': integer below minimum value. Expected a value >= 1, got %d.", f.name, *f.v))
		}
		// The newer name wins when both are sent.
		req.MaxTokens = *f.v
	}
	n := 1
	if p.N != nil {
		n = *p.N
		if n < 1 || n > maxOAIChoices {
			return req, 0, oaiInvalidParam("invalid_value", "n", fmt.Sprintf("Invalid 'n': %d is out of range. Expected a value between 1 and %d.", n, maxOAIChoices))
		}
	}
	stop, err := stopList(p.Stop)
	if err != nil {
		return req, 0, err
	}
	req.Stop = stop
	return req, n, nil
}

// includeUsage reports whether a stream ends with a usage chunk.
func (p *oaiSampling) includeUsage() bool {
	return p.StreamOptions != nil && p.StreamOptions.IncludeUsage
}

// stopList reads "stop": a string, an array of strings, or null.
func stopList(raw json.RawMessage) ([]string, error) {
	if rawNull(raw) {
		return nil, nil
	}
	var one string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, oaiInvalidParam("invalid_type", "stop", "Invalid type for 'stop': expected a string or an array of strings.")
		}
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, oaiInvalidParam("invalid_type", "stop", "Invalid type for 'stop': expected a string or an array of strings.")
	}
	if len(list) > maxOAIStops {
		return nil, oaiInvalidParam("invalid_value", "stop", fmt.Sprintf("Invalid 'stop': array too long. Expected an array with maximum length %d, but got an array with length %d instead.", maxOAIStops, len(list)))
	}
	return list, nil
}

// modelRequest checks a chat request and returns what it asks the model,
// and n.
func (c *oaiChatRequest) modelRequest() (agents.ModelRequest, int, error) {
	req, n, err := c.params()
	if err != nil {
		return req, 0, err
	}
	if len(c.Messages) == 0 {
		if c.Messages == nil {
			return req, 0, oaiInvalidParam("missing_parameter", "messages", "Missing required parameter: 'messages'.")
		}
		return req, 0, oaiInvalidParam("invalid_value", "messages", "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	// names finds a tool result's tool by its call (some providers want
	// the name, and the echo model shows it).
	var names map[string]string
	req.Messages = make([]agents.ModelMessage, 0, len(c.Messages))
	for i, m := range c.Messages {
		param := "messages[" + strconv.Itoa(i) + "]"
		content, err := oaiMessageText(m.Content, param+".content")
		if err != nil {
			return req, 0, err
		}
		mm := agents.ModelMessage{Content: content}
		switch m.Role {
		case "system", "developer":
			mm.Role = agents.RoleSystem
		case "user":
			mm.Role = agents.RoleUser
			if rawNull(m.Content) {
				return req, 0, oaiInvalidParam("missing_parameter", param+".content", "Missing required parameter: '"+param+".content'.")
			}
		case "assistant":
			mm.Role = agents.RoleAssistant
			for j, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Function.Name == "" {
					return req, 0, oaiInvalidParam("missing_parameter", fmt.Sprintf("%s.tool_calls[%d]", param, j), fmt.Sprintf("Invalid '%s.tool_calls[%d]': a tool call needs an 'id' and a 'function.name'.", param, j))
				}
				if tc.Type != "" && tc.Type != "function" {
					return req, 0, oaiInvalidParam("invalid_value", fmt.Sprintf("%s.tool_calls[%d].type", param, j), fmt.Sprintf("Invalid '%s.tool_calls[%d].type': only 'function' tool calls are supported.", param, j))
				}
				mm.ToolCalls = append(mm.ToolCalls, agents.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
				if names == nil {
					names = make(map[string]string)
				}
				names[tc.ID] = tc.Function.Name
			}
		case "tool":
			mm.Role = agents.RoleTool
			if m.ToolCallID == "" {
				return req, 0, oaiInvalidParam("missing_parameter", param+".tool_call_id", "Missing required parameter: '"+param+".tool_call_id'.")
			}
			mm.ToolCallID, mm.ToolName = m.ToolCallID, names[m.ToolCallID]
		case "":
			return req, 0, oaiInvalidParam("missing_parameter", param+".role", "Missing required parameter: '"+param+".role'.")
		default:
			return req, 0, oaiInvalidParam("invalid_value", param+".role", fmt.Sprintf("Invalid value for '%s.role': %q. Supported values are: 'system', 'developer', 'user', 'assistant' and 'tool'.", param, m.Role))
		}
		req.Messages = append(req.Messages, mm)
	}
	for i, t := range c.Tools {
		param := "tools[" + strconv.Itoa(i) + "]"
		if t.Type != "function" {
			return req, 0, oaiInvalidParam("invalid_value", param+".type", fmt.Sprintf("Invalid value for '%s.type': %q. Only 'function' tools are supported.", param, t.Type))
		}
		if t.Function.Name == "" {
			return req, 0, oaiInvalidParam("missing_parameter", param+".function.name", "Missing required parameter: '"+param+".function.name'.")
		}
		if ps := bytes.TrimSpace(t.Function.Parameters); !rawNull(ps) && ps[0] != '{' {
			return req, 0, oaiInvalidParam("invalid_type", param+".function.parameters", "Invalid type for '"+param+".function.parameters': expected a JSON Schema object.")
		}
		req.Tools = append(req.Tools, agents.ToolSpec{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	choice, err := oaiToolChoice(c.ToolChoice, req.Tools)
	if err != nil {
		return req, 0, err
	}
	req.ToolChoice = choice
	return req, n, nil
}

// oaiMessageText returns a message's text: a string content, or the text
// parts of an array content joined by newlines. Other parts (images,
// audio, files) are refused: no model behind Atrium takes them yet.
func oaiMessageText(raw json.RawMessage, param string) (string, error) {
	if rawNull(raw) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", oaiInvalidParam("invalid_type", param, "Invalid type for '"+param+"': expected a string or an array of content parts.")
		}
		return s, nil
	case '[':
		var parts []oaiContentPart
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", oaiInvalidParam("invalid_type", param, "Invalid type for '"+param+"': expected a string or an array of content parts.")
		}
		if len(parts) == 1 && parts[0].Type == "text" {
			return parts[0].Text, nil
		}
		var b strings.Builder
		for j, p := range parts {
			var text string
			switch p.Type {
			case "text":
				text = p.Text
			case "refusal":
				text = p.Refusal
			case "image_url", "input_image", "image":
				return "", oaiInvalidParam("unsupported_content", fmt.Sprintf("%s[%d]", param, j), "Image inputs are not supported yet: send text content only.")
			default:
				return "", oaiInvalidParam("unsupported_content", fmt.Sprintf("%s[%d].type", param, j), fmt.Sprintf("Invalid value for '%s[%d].type': %q. Only 'text' content parts are supported.", param, j, p.Type))
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(text)
		}
		return b.String(), nil
	}
	return "", oaiInvalidParam("invalid_type", param, "Invalid type for '"+param+"': expected a string or an array of content parts.")
}

// oaiToolChoice reads "tool_choice": "auto", "none", "required", or
// {"type": "function", "function": {"name"}}, which becomes the tool's
// name (agents.ModelRequest's ToolChoice; the OpenAI provider forces that
// tool).
func oaiToolChoice(raw json.RawMessage, tools []agents.ToolSpec) (string, error) {
	if rawNull(raw) {
		return "", nil
	}
	const param = "tool_choice"
	if raw[0] == '"' {
		var s string
		_ = json.Unmarshal(raw, &s)
		switch s {
		case "auto", "none", "required":
			if s == "required" && len(tools) == 0 {
				return "", oaiInvalidParam("invalid_value", param, "Invalid value for 'tool_choice': 'required' needs 'tools'.")
			}
			return s, nil
		}
		return "", oaiInvalidParam("invalid_value", param, fmt.Sprintf("Invalid value for 'tool_choice': %q. Supported values are: 'none', 'auto', 'required' and a function.", s))
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
		return "", oaiInvalidParam("invalid_value", param, `Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or {"type": "function", "function": {"name": "..."}}.`)
	}
	for _, t := range tools {
		if t.Name == named.Function.Name {
			return t.Name, nil
		}
	}
	return "", oaiInvalidParam("invalid_value", param, fmt.Sprintf("Invalid value for 'tool_choice': no tool named %q is in 'tools'.", named.Function.Name))
}

// promptList reads "prompt": a string or an array of strings.
func promptList(raw json.RawMessage) ([]string, error) {
	if rawNull(raw) {
		return nil, oaiInvalidParam("missing_parameter", "prompt", "Missing required parameter: 'prompt'.")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return []string{s}, nil
		}
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, oaiInvalidParam("invalid_type", "prompt", "Invalid type for 'prompt': expected a string or an array of strings (token arrays are not supported).")
	}
	if len(list) == 0 {
		return nil, oaiInvalidParam("invalid_value", "prompt", "Invalid 'prompt': empty array. Expected at least one prompt.")
	}
	return list, nil
}
