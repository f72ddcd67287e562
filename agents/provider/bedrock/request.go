package bedrock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	smithydocument "github.com/aws/smithy-go/document"

	"github.com/atrium-hq/atrium/agents"
)

// input translates req into a ConverseStream request.
func (p *Provider) input(req agents.ModelRequest) (*bedrockruntime.ConverseStreamInput, error) {
	tools, err := p.toolConfig(req)
	if err != nil {
		return nil, err
	}
	system, msgs, err := p.messages(req, tools != nil)
	if err != nil {
		return nil, err
	}
	return &bedrockruntime.ConverseStreamInput{
		ModelId:         aws.String(req.Model),
		System:          system,
		Messages:        msgs,
		ToolConfig:      tools,
		InferenceConfig: inference(req),
	}, nil
}

// toolConfig offers req's tools, or nil when there are none to offer.
func (p *Provider) toolConfig(req agents.ModelRequest) (*types.ToolConfiguration, error) {
	if len(req.Tools) == 0 || req.ToolChoice == "none" {
		return nil, nil
	}
	tc := &types.ToolConfiguration{}
	for _, t := range req.Tools {
		schema, err := schemaValue(t.Parameters)
		if err != nil {
			return nil, fmt.Errorf("%s: tool %q: parameters: %w", p.name, t.Name, err)
		}
		spec := types.ToolSpecification{
			Name:        aws.String(t.Name),
			InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(schema)},
		}
		// Bedrock rejects an empty description; an absent one is fine.
		if t.Description != "" {
			spec.Description = aws.String(t.Description)
		}
		tc.Tools = append(tc.Tools, &types.ToolMemberToolSpec{Value: spec})
	}
	// "auto" is Bedrock's default and is sent as nothing, because models
	// without tool-choice support (Llama, Cohere, ...) reject the field.
	if req.ToolChoice == "required" {
		tc.ToolChoice = &types.ToolChoiceMemberAny{}
	}
	return tc, nil
}

// messages translates the conversation. Bedrock wants it to alternate user
// and assistant, so consecutive messages of a role are merged (tool results
// are the user's). withTools says whether a toolConfig is sent: without
// one Bedrock rejects toolUse and toolResult blocks, so they become text.
func (p *Provider) messages(req agents.ModelRequest, withTools bool) ([]types.SystemContentBlock, []types.Message, error) {
	var system []types.SystemContentBlock
	if req.System != "" {
		system = append(system, &types.SystemContentBlockMemberText{Value: req.System})
	}
	var msgs []types.Message
	for i, m := range req.Messages {
		var role types.ConversationRole
		var blocks []types.ContentBlock
		switch m.Role {
		case agents.RoleSystem:
			if m.Content != "" {
				system = append(system, &types.SystemContentBlockMemberText{Value: m.Content})
			}
			continue
		case agents.RoleUser:
			role, blocks = types.ConversationRoleUser, textBlock(m.Content)
		case agents.RoleAssistant:
			role, blocks = types.ConversationRoleAssistant, textBlock(m.Content)
			for _, c := range m.ToolCalls {
				blocks = append(blocks, toolUse(c, withTools))
			}
		case agents.RoleTool:
			role, blocks = types.ConversationRoleUser, []types.ContentBlock{toolResult(m, withTools)}
		default:
			return nil, nil, fmt.Errorf("%s: message %d: unknown role %q", p.name, i, m.Role)
		}
		// Bedrock rejects blank text blocks and empty messages.
		if len(blocks) == 0 {
			continue
		}
		if n := len(msgs); n > 0 && msgs[n-1].Role == role {
			msgs[n-1].Content = append(msgs[n-1].Content, blocks...)
			continue
		}
		msgs = append(msgs, types.Message{Role: role, Content: blocks})
	}
	return system, msgs, nil
}

// textBlock is text as content, or nothing when it is blank.
func textBlock(s string) []types.ContentBlock {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return []types.ContentBlock{&types.ContentBlockMemberText{Value: s}}
}

// toolUse is an assistant's earlier tool call.
func toolUse(c agents.ToolCall, withTools bool) types.ContentBlock {
	if !withTools {
		return &types.ContentBlockMemberText{Value: fmt.Sprintf("(called the tool %s with %s)", c.Name, c.Arguments)}
	}
	return &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
		ToolUseId: aws.String(c.ID),
		Name:      aws.String(c.Name),
		Input:     document.NewLazyDocument(argumentsValue(c.Arguments)),
	}}
}

// toolResult is a tool's answer to an earlier call.
func toolResult(m agents.ModelMessage, withTools bool) types.ContentBlock {
	content := m.Content
	// A tool may rightly return nothing, but Bedrock rejects blank text.
	if strings.TrimSpace(content) == "" {
		content = "(no output)"
	}
	if !withTools {
		verb := "returned"
		if m.IsError {
			verb = "failed"
		}
		return &types.ContentBlockMemberText{Value: fmt.Sprintf("(the tool %s %s: %s)", m.ToolName, verb, content)}
	}
	r := types.ToolResultBlock{
		ToolUseId: aws.String(m.ToolCallID),
		Content:   []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: content}},
	}
	// Only Anthropic models know the status field; success is its default,
	// so it is sent only when it matters.
	if m.IsError {
		r.Status = types.ToolResultStatusError
	}
	return &types.ContentBlockMemberToolResult{Value: r}
}

// inference is req's sampling settings, or nil when all are defaults.
func inference(req agents.ModelRequest) *types.InferenceConfiguration {
	if req.Temperature == nil && req.TopP == nil && req.MaxTokens <= 0 && len(req.Stop) == 0 {
		return nil
	}
	ic := &types.InferenceConfiguration{StopSequences: req.Stop}
	if req.Temperature != nil {
		ic.Temperature = aws.Float32(float32(*req.Temperature))
	}
	if req.TopP != nil {
		ic.TopP = aws.Float32(float32(*req.TopP))
	}
	if req.MaxTokens > 0 {
		ic.MaxTokens = aws.Int32(int32(min(req.MaxTokens, math.MaxInt32)))
	}
	return ic
}

// schemaValue is a tool's JSON Schema as a document value; no schema means
// an object without properties, which is how Bedrock spells "no
// parameters".
func schemaValue(raw json.RawMessage) (any, error) {
	if s := bytes.TrimSpace(raw); len(s) == 0 || bytes.Equal(s, []byte("null")) {
		return map[string]any{"type": "object", "properties": map[string]any{}}, nil
	}
	return jsonValue(raw)
}

// argumentsValue is a tool call's arguments as a document value. Bedrock
// requires an object; the model may have written anything (the loop has
// already told it so), and {} keeps the conversation acceptable.
func argumentsValue(args string) any {
	v, err := jsonValue([]byte(args))
	if _, ok := v.(map[string]any); err != nil || !ok {
		return map[string]any{}
	}
	return v
}

// jsonValue decodes JSON for the SDK's document encoder, keeping numbers
// exact: it encodes document.Number as written, where a float64 would
// round large integers.
func jsonValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return numbers(v), nil
}

// numbers replaces json.Number (which the document encoder would quote as a
// string) with document.Number throughout v.
func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		return smithydocument.Number(x)
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}
