package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3"

	"github.com/atrium-hq/atrium/agents"
)

// params encodes req as a chat-completions request.
func (p *Provider) params(req agents.ModelRequest) (openai.ChatCompletionNewParams, error) {
	params := openai.ChatCompletionNewParams{
		Model: req.Model,
		// Without it the stream carries no token counts at all.
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}

	if req.System != "" {
		params.Messages = append(params.Messages, openai.SystemMessage(req.System))
	}
	for i, m := range req.Messages {
		msg, err := message(m)
		if err != nil {
			return params, fmt.Errorf("openai: message %d: %w", i, err)
		}
		params.Messages = append(params.Messages, msg)
	}

	for _, t := range req.Tools {
		schema, err := parameters(t.Parameters)
		if err != nil {
			return params, fmt.Errorf("openai: tool %q: %w", t.Name, err)
		}
		fn := openai.FunctionDefinitionParam{Name: t.Name, Parameters: schema}
		if t.Description != "" {
			fn.Description = openai.String(t.Description)
		}
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(fn))
	}
	// OpenAI rejects a tool_choice without tools.
	if len(req.Tools) > 0 {
		switch req.ToolChoice {
		case "":
		case "auto", "none", "required":
			params.ToolChoice.OfAuto = openai.String(req.ToolChoice)
		default:
			// Not in the contract, but the API can force one tool by name.
			params.ToolChoice.OfFunctionToolChoice = &openai.ChatCompletionNamedToolChoiceParam{
				Function: openai.ChatCompletionNamedToolChoiceFunctionParam{Name: req.ToolChoice},
			}
		}
	}

	if req.Temperature != nil {
		params.Temperature = openai.Float(*req.Temperature)
	}
	if req.TopP != nil {
		params.TopP = openai.Float(*req.TopP)
	}
	if req.MaxTokens > 0 {
		// max_tokens, not max_completion_tokens: Ollama, vLLM, llama.cpp
		// and most gateways know only the older name. Stream falls back to
		// the newer one when OpenAI refuses it.
		params.MaxTokens = openai.Int(int64(req.MaxTokens))
	}
	if len(req.Stop) > 0 {
		params.Stop.OfStringArray = req.Stop
	}
	return params, nil
}

// message encodes one turn of the conversation.
func message(m agents.ModelMessage) (openai.ChatCompletionMessageParamUnion, error) {
	switch m.Role {
	case agents.RoleSystem:
		return openai.SystemMessage(m.Content), nil
	case agents.RoleUser:
		return openai.UserMessage(m.Content), nil
	case agents.RoleAssistant:
		var a openai.ChatCompletionAssistantMessageParam
		// A turn that only called tools has no content: null, not "".
		if m.Content != "" || len(m.ToolCalls) == 0 {
			a.Content.OfString = openai.String(m.Content)
		}
		for _, tc := range m.ToolCalls {
			args := tc.Arguments
			if strings.TrimSpace(args) == "" {
				// Servers that parse the arguments (Ollama, vLLM) choke
				// on an empty string; a call without arguments took none.
				args = "{}"
			}
			a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
					ID:       tc.ID,
					Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: args},
				},
			})
		}
		return openai.ChatCompletionMessageParamUnion{OfAssistant: &a}, nil
	case agents.RoleTool:
		content := m.Content
		// The API has no error flag on tool results, so the text says it.
		if m.IsError && !strings.HasPrefix(strings.ToLower(content), "error") {
			content = "Error: " + content
		}
		return openai.ToolMessage(content, m.ToolCallID), nil
	}
	return openai.ChatCompletionMessageParamUnion{}, fmt.Errorf("unknown role %q", m.Role)
}

// emptySchema is the parameters of a tool that takes none; OpenAI wants
// an object schema even then.
func emptySchema() openai.FunctionParameters {
	return openai.FunctionParameters{"type": "object", "properties": map[string]any{}}
}

// parameters returns a tool's JSON Schema as the SDK wants it, a map. Its
// values stay raw JSON so that the schema reaches the server as written
// (numbers, nesting), only its top-level keys reordered.
func parameters(raw json.RawMessage) (openai.FunctionParameters, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return emptySchema(), nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, errors.New("parameters are not a JSON object")
	}
	schema := make(openai.FunctionParameters, len(fields)+1)
	for k, v := range fields {
		schema[k] = v
	}
	// OpenAI has rejected object schemas without properties ("object
	// schema missing properties"); an empty one costs nothing.
	if _, ok := schema["properties"]; !ok && bytes.Equal(bytes.TrimSpace(fields["type"]), []byte(`"object"`)) {
		schema["properties"] = map[string]any{}
	}
	return schema, nil
}
