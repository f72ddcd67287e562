package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/atrium-hq/atrium/agents"
)

// oaiResponsesRequest is a POST /responses body: OpenAI's Responses API,
// which the Vercel AI SDK's default model (createOpenAI(...)(modelId))
// speaks. Fields Atrium does not use (reasoning, include, text,
// truncation, service_tier, prompt_cache_key, ...) are accepted and
// ignored, as are unknown ones.
type oaiResponsesRequest struct {
	Model              string             `json:"model"`
	Input              json.RawMessage    `json:"input"`
	Instructions       *string            `json:"instructions"`
	Tools              []oaiResponsesTool `json:"tools"`
	ToolChoice         json.RawMessage    `json:"tool_choice"`
	ParallelToolCalls  *bool              `json:"parallel_tool_calls"`
	Temperature        *float64           `json:"temperature"`
	TopP               *float64           `json:"top_p"`
	MaxOutputTokens    *int               `json:"max_output_tokens"`
	Stream             bool               `json:"stream"`
	Store              *bool              `json:"store"`
	Metadata           map[string]string  `json:"metadata"`
	User               *string            `json:"user"`
	PreviousResponseID string             `json:"previous_response_id"`
	Conversation       json.RawMessage    `json:"conversation"`
	Background         bool               `json:"background"`
	Text               json.RawMessage    `json:"text"`
}

// oaiResponsesTool is a tool of a Responses request; only function tools
// are served (the hosted ones, web search and the like, are OpenAI's).
type oaiResponsesTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

// oaiInputItem is one item of "input": a message, a function call, a
// function call's output, or a reference to a stored item.
type oaiInputItem struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
}

// inputTurn is a checked input item: a conversation turn, or (ref set) a
// stored item to put in its place.
type inputTurn struct {
	msg   agents.ModelMessage
	ref   string
	param string
}

// stores reports whether the response is kept for later references
// (OpenAI's default).
func (b *oaiResponsesRequest) stores() bool { return b.Store == nil || *b.Store }

// check validates the request and returns what it asks the model, without
// its messages, and the input's turns, whose references are resolved once
// the caller is known (resolve).
func (b *oaiResponsesRequest) check() (agents.ModelRequest, []inputTurn, error) {
	var req agents.ModelRequest
	if strings.TrimSpace(b.Model) == "" {
		return req, nil, oaiInvalidParam("missing_parameter", "model", "You must provide a model parameter.")
	}
	if !rawNull(b.Conversation) {
		return req, nil, oaiInvalidParam("unsupported_parameter", "conversation", "Conversations are not supported: send the conversation in 'input', or chain responses with 'previous_response_id'.")
	}
	if b.Background {
		return req, nil, oaiInvalidParam("unsupported_parameter", "background", "Background responses are not supported: send the request without 'background' (stream it to see progress).")
	}
	if t := b.Temperature; t != nil {
		if *t < 0 || *t > 2 {
			return req, nil, oaiInvalidParam("invalid_value", "temperature", fmt.Sprintf("Invalid 'temperature': %g is out of range. Expected a value between 0 and 2.", *t))
		}
		req.Temperature = t
	}
	if t := b.TopP; t != nil {
		if *t < 0 || *t > 1 {
			return req, nil, oaiInvalidParam("invalid_value", "top_p", fmt.Sprintf("Invalid 'top_p': %g is out of range. Expected a value between 0 and 1.", *t))
		}
		req.TopP = t
	}
	if m := b.MaxOutputTokens; m != nil {
		if *m < 1 {
			return req, nil, oaiInvalidParam("invalid_value", "max_output_tokens", fmt.Sprintf("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 1, got %d.", *m))
		}
		req.MaxTokens = *m
	}
	if b.Instructions != nil {
		req.System = *b.Instructions
	}
	for i, t := range b.Tools {
		param := "tools[" + strconv.Itoa(i) + "]"
		if t.Type != "function" {
			return req, nil, oaiInvalidParam("invalid_value", param+".type", fmt.Sprintf("Invalid value for '%s.type': %q. Only 'function' tools are supported.", param, t.Type))
		}
		if t.Name == "" {
			return req, nil, oaiInvalidParam("missing_parameter", param+".name", "Missing required parameter: '"+param+".name'.")
		}
		if ps := bytes.TrimSpace(t.Parameters); !rawNull(ps) && ps[0] != '{' {
			return req, nil, oaiInvalidParam("invalid_type", param+".parameters", "Invalid type for '"+param+".parameters': expected a JSON Schema object.")
		}
		req.Tools = append(req.Tools, agents.ToolSpec{Name: t.Name, Description: t.Description, Parameters: t.Parameters})
	}
	choice, err := responsesToolChoice(b.ToolChoice, req.Tools)
	if err != nil {
		return req, nil, err
	}
	req.ToolChoice = choice
	turns, err := inputTurns(b.Input)
	if err != nil {
		return req, nil, err
	}
	if turns == nil && b.PreviousResponseID == "" {
		return req, nil, oaiInvalidParam("missing_parameter", "input", "Missing required parameter: 'input'.")
	}
	return req, turns, nil
}

// responsesToolChoice reads "tool_choice": "auto", "none", "required", or
// {"type": "function", "name"}, which becomes the tool's name (see
// oaiToolChoice).
func responsesToolChoice(raw json.RawMessage, tools []agents.ToolSpec) (string, error) {
	if rawNull(raw) || raw[0] == '"' {
		return oaiToolChoice(raw, tools)
	}
	var named struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || named.Type != "function" || named.Name == "" && named.Function.Name == "" {
		return "", oaiInvalidParam("invalid_value", "tool_choice", `Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or {"type": "function", "name": "..."} (hosted tools and allowed_tools are not supported).`)
	}
	name := named.Name
	if name == "" {
		name = named.Function.Name
	}
	for _, t := range tools {
		if t.Name == name {
			return t.Name, nil
		}
	}
	return "", oaiInvalidParam("invalid_value", "tool_choice", fmt.Sprintf("Invalid value for 'tool_choice': no tool named %q is in 'tools'.", name))
}

// inputTurns reads "input": a string (one user message) or an array of
// items. It returns nil when input is absent.
func inputTurns(raw json.RawMessage) ([]inputTurn, error) {
	if rawNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, oaiInvalidParam("invalid_type", "input", "Invalid type for 'input': expected a string or an array of input items.")
		}
		return []inputTurn{{msg: agents.ModelMessage{Role: agents.RoleUser, Content: s}, param: "input"}}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, oaiInvalidParam("invalid_type", "input", "Invalid type for 'input': expected a string or an array of input items.")
	}
	if len(items) == 0 {
		return nil, oaiInvalidParam("invalid_value", "input", "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.")
	}
	turns := make([]inputTurn, 0, len(items))
	for i, rawItem := range items {
		param := "input[" + strconv.Itoa(i) + "]"
		turn, skip, err := inputItemTurn(rawItem, param)
		if err != nil {
			return nil, err
		}
		if !skip {
			turns = append(turns, turn)
		}
	}
	return turns, nil
}

// inputItemTurn reads one input item. Reasoning items are skipped: they are
// a reasoning model's own notes, which no model behind Atrium reads back.
func inputItemTurn(raw json.RawMessage, param string) (inputTurn, bool, error) {
	turn := inputTurn{param: param}
	var it oaiInputItem
	if err := json.Unmarshal(raw, &it); err != nil {
		// Name the field at fault, not Go's types.
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			field := param + "." + typ.Field
			return turn, false, oaiInvalidParam("invalid_type", field, fmt.Sprintf("Invalid type for '%s': expected %s, got %s.", field, oaiJSONKind(typ.Type), typ.Value))
		}
		return turn, false, oaiInvalidParam("invalid_type", param, "Invalid type for '"+param+"': expected an input item object.")
	}
	switch it.Type {
	case "", "message":
		content, err := responsesText(it.Content, param+".content")
		if err != nil {
			return turn, false, err
		}
		switch it.Role {
		case "user":
			turn.msg.Role = agents.RoleUser
		case "system", "developer":
			turn.msg.Role = agents.RoleSystem
		case "assistant":
			turn.msg.Role = agents.RoleAssistant
		case "":
			if it.Type == "" {
				return turn, false, oaiInvalidParam("missing_parameter", param+".type", "Missing required parameter: '"+param+".type'.")
			}
			return turn, false, oaiInvalidParam("missing_parameter", param+".role", "Missing required parameter: '"+param+".role'.")
		default:
			return turn, false, oaiInvalidParam("invalid_value", param+".role", fmt.Sprintf("Invalid value for '%s.role': %q. Supported values are: 'user', 'system', 'developer' and 'assistant'.", param, it.Role))
		}
		if rawNull(it.Content) {
			return turn, false, oaiInvalidParam("missing_parameter", param+".content", "Missing required parameter: '"+param+".content'.")
		}
		turn.msg.Content = content
	case "function_call":
		if it.CallID == "" {
			return turn, false, oaiInvalidParam("missing_parameter", param+".call_id", "Missing required parameter: '"+param+".call_id'.")
		}
		if it.Name == "" {
			return turn, false, oaiInvalidParam("missing_parameter", param+".name", "Missing required parameter: '"+param+".name'.")
		}
		turn.msg = agents.ModelMessage{Role: agents.RoleAssistant, ToolCalls: []agents.ToolCall{{ID: it.CallID, Name: it.Name, Arguments: it.Arguments}}}
	case "function_call_output":
		if it.CallID == "" {
			return turn, false, oaiInvalidParam("missing_parameter", param+".call_id", "Missing required parameter: '"+param+".call_id'.")
		}
		if rawNull(it.Output) {
			return turn, false, oaiInvalidParam("missing_parameter", param+".output", "Missing required parameter: '"+param+".output'.")
		}
		out, err := responsesText(it.Output, param+".output")
		if err != nil {
			return turn, false, err
		}
		turn.msg = agents.ModelMessage{Role: agents.RoleTool, ToolCallID: it.CallID, Content: out}
	case "item_reference":
		if it.ID == "" {
			return turn, false, oaiInvalidParam("missing_parameter", param+".id", "Missing required parameter: '"+param+".id'.")
		}
		turn.ref = it.ID
	case "reasoning":
		return turn, true, nil
	default:
		return turn, false, oaiInvalidParam("invalid_value", param+".type", fmt.Sprintf("Invalid value for '%s.type': %q. Supported item types are: 'message', 'function_call', 'function_call_output' and 'item_reference'.", param, it.Type))
	}
	return turn, false, nil
}

// responsesText returns a content's text: a string, or the text parts of
// an array (input_text, output_text, refusal) joined by newlines. Images,
// files and audio are refused: no model behind Atrium takes them yet.
func responsesText(raw json.RawMessage, param string) (string, error) {
	if rawNull(raw) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, nil
		}
	case '[':
		var parts []struct {
			Type    string `json:"type"`
			Text    string `json:"text"`
			Refusal string `json:"refusal"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			break
		}
		var b strings.Builder
		for j, p := range parts {
			text := p.Text
			switch p.Type {
			case "input_text", "output_text", "text":
			case "refusal":
				text = p.Refusal
			case "input_image", "input_file", "input_audio":
				return "", oaiInvalidParam("unsupported_content", fmt.Sprintf("%s[%d]", param, j), "Image, file and audio inputs are not supported yet: send text content only.")
			default:
				return "", oaiInvalidParam("unsupported_content", fmt.Sprintf("%s[%d].type", param, j), fmt.Sprintf("Invalid value for '%s[%d].type': %q. Only 'input_text' and 'output_text' content parts are supported.", param, j, p.Type))
			}
			if j > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(text)
		}
		return b.String(), nil
	}
	return "", oaiInvalidParam("invalid_type", param, "Invalid type for '"+param+"': expected a string or an array of content parts.")
}

// resolve builds the conversation: previous (a stored response's, or nil),
// then the turns, each reference replaced by the stored item of owner.
// Consecutive assistant turns become one message (the Responses API lists
// an answer's text and each of its calls as separate items; chat models
// take them as one turn), and every function output must follow its call.
func resolve(ctx context.Context, store *responseStore, owner string, previous []agents.ModelMessage, turns []inputTurn) ([]agents.ModelMessage, error) {
	msgs := make([]agents.ModelMessage, 0, len(previous)+len(turns))
	// names finds a call's tool by its id, for its output (some providers
	// want the name, and the echo model shows it).
	names := make(map[string]string)
	add := func(m agents.ModelMessage, param string) error {
		for _, tc := range m.ToolCalls {
			names[tc.ID] = tc.Name
		}
		if m.Role == agents.RoleTool && m.ToolName == "" {
			name, ok := names[m.ToolCallID]
			if !ok {
				return oaiInvalidParam("invalid_value", param+".call_id", fmt.Sprintf("Invalid '%s.call_id': no function call with call_id %q comes before this output.", param, m.ToolCallID))
			}
			m.ToolName = name
		}
		if n := len(msgs); n > 0 && m.Role == agents.RoleAssistant && msgs[n-1].Role == agents.RoleAssistant {
			last := &msgs[n-1]
			switch {
			case last.Content == "":
				last.Content = m.Content
			case m.Content != "":
				last.Content += "\n" + m.Content
			}
			// Clipped, so a stored entry's calls are copied, never
			// appended to in place.
			last.ToolCalls = append(slices.Clip(last.ToolCalls), m.ToolCalls...)
			return nil
		}
		msgs = append(msgs, m)
		return nil
	}
	for _, m := range previous {
		if err := add(m, "previous_response_id"); err != nil {
			return nil, err
		}
	}
	for _, t := range turns {
		if t.ref == "" {
			if err := add(t.msg, t.param); err != nil {
				return nil, err
			}
			continue
		}
		stored, ok := store.get(ctx, owner, t.ref)
		if !ok {
			return nil, oaiInvalidParam("item_not_found", t.param+".id", fmt.Sprintf("Item with id %q not found: this server keeps the items of stored responses for a while. Send the item's content instead of a reference (with the AI SDK: providerOptions: {openai: {store: false}}).", t.ref))
		}
		for _, m := range stored {
			if err := add(m, t.param); err != nil {
				return nil, err
			}
		}
	}
	if len(msgs) == 0 {
		return nil, oaiInvalidParam("invalid_value", "input", "Invalid 'input': it has no message for the model to answer.")
	}
	return msgs, nil
}
