package mcp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atrium-hq/atrium/agents"
)

// maxToolName is the longest tool name models accept (OpenAI's limit).
const maxToolName = 64

// ToolName returns the name an agent sees for tool of server: mcp_, the
// server's name, _, the tool's name, with every character outside
// [A-Za-z0-9_-] replaced by '_'. A name longer than 64 characters is cut
// and ends with '_' and 8 hex digits of a hash of the whole name, so
// different long names stay different and the same name is always cut
// the same way.
func ToolName(server, tool string) string {
	return fitName("mcp_" + server + "_" + tool)
}

// fitName sanitizes raw and shortens it to maxToolName as ToolName says.
func fitName(raw string) string {
	var b strings.Builder
	for _, r := range raw {
		if r < 0x80 && isNameByte(byte(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) <= maxToolName {
		return name
	}
	return name[:maxToolName-9] + "_" + shortHash(raw)
}

// shortHash is 8 hex digits of the SHA-256 of s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// uniqueName returns name, or when seen already has it, name made
// distinct with a hash of salt; it records the result in seen.
func uniqueName(name, salt string, seen map[string]bool) string {
	for i := 0; seen[name]; i++ {
		h := shortHash(fmt.Sprint(salt, "\x00", i))
		if len(name)+9 > maxToolName {
			name = name[:maxToolName-9]
		}
		name += "_" + h
	}
	seen[name] = true
	return name
}

// ToolInfo describes one tool of an MCP server.
type ToolInfo struct {
	// Name is what agents see (see ToolName); OriginalName is the
	// server's own.
	Name         string
	OriginalName string
	Description  string
	// InputSchema is the JSON schema of the tool's arguments, an object.
	InputSchema json.RawMessage
}

// toolInfos describes tools of server srv, naming them uniquely in seen.
func toolInfos(srv Server, tools []*sdk.Tool, seen map[string]bool) []ToolInfo {
	out := make([]ToolInfo, 0, len(tools))
	for _, t := range tools {
		desc := t.Description
		if desc == "" {
			desc = t.Title
		}
		out = append(out, ToolInfo{
			Name:         uniqueName(ToolName(srv.Name, t.Name), string(srv.ID)+"\x00"+t.Name, seen),
			OriginalName: t.Name,
			Description:  desc,
			InputSchema:  inputSchema(t.InputSchema),
		})
	}
	return out
}

// inputSchema returns s as a JSON object schema, or an empty object
// schema when the server gave none that models would accept.
func inputSchema(s any) json.RawMessage {
	const empty = `{"type":"object","properties":{}}`
	if s == nil {
		return json.RawMessage(empty)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return json.RawMessage(empty)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil || obj == nil {
		return json.RawMessage(empty)
	}
	if _, ok := obj["properties"]; !ok {
		// OpenAI refuses an object schema without properties.
		obj["properties"] = json.RawMessage(`{}`)
		if b, err = json.Marshal(obj); err != nil {
			return json.RawMessage(empty)
		}
	}
	return b
}

// tool is one MCP server's tool offered to an agent.
type tool struct {
	m    *Manager
	srv  Server
	info ToolInfo
}

var _ agents.Tool = (*tool)(nil)

// Spec describes the tool with the server's description and schema.
func (t *tool) Spec() agents.ToolSpec {
	desc := t.info.Description
	if desc == "" {
		desc = fmt.Sprintf("The %s tool of the MCP server %s.", t.info.OriginalName, t.srv.Name)
	}
	return agents.ToolSpec{Name: t.info.Name, Description: desc, Parameters: t.info.InputSchema}
}

// Call calls the tool on the server. A result the server marks as an
// error is returned as an error with its text.
func (t *tool) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	c := t.m.current(t.srv)
	if c == nil {
		return agents.ToolOutput{}, fmt.Errorf("the MCP server %s was changed or removed during this run; its tools are offered again from the next message", t.srv.Name)
	}
	args := in.Arguments
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	res, err := c.call(ctx, t.info.OriginalName, args)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	text := resultText(res)
	if res.IsError {
		if text == "" {
			text = "the tool reported an error without a message"
		}
		return agents.ToolOutput{}, errors.New(text)
	}
	return agents.ToolOutput{Content: text}, nil
}

// resultText is what the model reads of a tool result: text content
// joined, other content described briefly, structured content when
// nothing else was given.
func resultText(res *sdk.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		switch c := c.(type) {
		case *sdk.TextContent:
			parts = append(parts, c.Text)
		case *sdk.ImageContent:
			parts = append(parts, fmt.Sprintf("[image: %s, %d bytes]", orUnknown(c.MIMEType), len(c.Data)))
		case *sdk.AudioContent:
			parts = append(parts, fmt.Sprintf("[audio: %s, %d bytes]", orUnknown(c.MIMEType), len(c.Data)))
		case *sdk.ResourceLink:
			parts = append(parts, fmt.Sprintf("[resource link: %s %s]", c.URI, strings.TrimSpace(c.Name+" "+c.Description)))
		case *sdk.EmbeddedResource:
			parts = append(parts, embeddedText(c.Resource))
		default:
			parts = append(parts, "[content of an unknown kind]")
		}
	}
	if len(parts) == 0 && res.StructuredContent != nil {
		if b, err := json.Marshal(res.StructuredContent); err == nil {
			parts = append(parts, string(b))
		}
	}
	return strings.Join(parts, "\n")
}

func embeddedText(r *sdk.ResourceContents) string {
	switch {
	case r == nil:
		return "[resource]"
	case r.Text != "":
		return fmt.Sprintf("[resource %s]\n%s", r.URI, r.Text)
	default:
		return fmt.Sprintf("[resource %s: %s, %d bytes]", r.URI, orUnknown(r.MIMEType), len(r.Blob))
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown type"
	}
	return s
}
