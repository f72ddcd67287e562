package gateway

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Seed 003's tool API: POST /create_tool, POST /get_tools, DELETE
// /delete_tool/<id>, PUT /update_tool, POST /get_tool_details, with the
// credentials in the body as its agent API. Tools belong to the user; an
// agent gets them by naming them in update_agent's "tools" (or with
// Atrium's "agent_id" here, or /api/agents/{id}/tools/). Atrium adds what
// makes a Custom tool an HTTP tool Atrium calls itself: "endpoint",
// "method", "headers" and "timeout" (seconds). Without an endpoint the
// caller runs the tool: answers say "Tool call(s) initiated".

// seed003Tool is a tool as get_tools lists it.
type seed003Tool struct {
	ID          int64           `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Type        string          `json:"type"`
	ToolSchema  json.RawMessage `json:"tool_schema"`
	// Atrium's additions.
	Parameters []agents.ToolParameter `json:"parameters"`
	Endpoint   string                 `json:"endpoint,omitempty"`
	Method     string                 `json:"method,omitempty"`
	Headers    map[string]string      `json:"headers,omitempty"`
	Timeout    float64                `json:"timeout,omitempty"`
	Indexed    *bool                  `json:"indexed,omitempty"`
	CreatedAt  string                 `json:"created_at"`
	UpdatedAt  string                 `json:"updated_at"`
}

func toSeed003Tool(t agents.CustomTool) seed003Tool {
	out := seed003Tool{ID: t.ID, Name: t.Name, Description: t.Description, Type: t.Type, ToolSchema: t.Schema,
		Parameters: t.Parameters, Endpoint: t.Endpoint, Method: t.Method, Headers: maskHeaders(t.Headers),
		Timeout: t.Timeout.Seconds(), CreatedAt: timestamp(t.CreatedAt), UpdatedAt: timestamp(t.UpdatedAt)}
	if out.ToolSchema == nil {
		out.ToolSchema = json.RawMessage("null")
	}
	if out.Parameters == nil {
		out.Parameters = []agents.ToolParameter{}
	}
	if t.Type == agents.ToolTypeFileSearch {
		// File search is answered once documents are indexed (RAG).
		no := false
		out.Indexed = &no
	}
	return out
}

// maskHeaders shows which headers a tool sends, not their secrets.
func maskHeaders(h map[string]string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) > 8 {
			out[k] = v[:4] + "…(hidden)"
		} else {
			out[k] = "(hidden)"
		}
	}
	return out
}

// toolID reads an integer tool id from obj's key: a JSON number or a
// numeric string. ok is false when it is absent.
func toolID(obj object, key string) (id int64, ok bool) {
	raw, present := obj[key]
	if !present || string(raw) == "null" {
		return 0, false
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if v, err := n.Int64(); err == nil {
			return v, true
		}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return v, true
		}
	}
	return -1, true
}

// toolHTTP reads Atrium's HTTP fields into t: endpoint, method, headers,
// timeout.
func toolHTTP(obj object, p *agents.ToolPatch) error {
	var err error
	if p.Endpoint, err = obj.optStr("endpoint"); err != nil {
		return err
	}
	if p.Method, err = obj.optStr("method"); err != nil {
		return err
	}
	if raw, ok := obj["headers"]; ok && string(raw) != "null" {
		var h map[string]string
		if json.Unmarshal(raw, &h) != nil {
			return workspaces.E(workspaces.KindInvalid, "Invalid value for 'headers': expected an object of strings")
		}
		p.Headers = &h
	}
	if raw, ok := obj["timeout"]; ok && string(raw) != "null" {
		var sec float64
		if json.Unmarshal(raw, &sec) != nil || sec <= 0 {
			return workspaces.Errorf(workspaces.KindInvalid, "Invalid value for 'timeout': expected 1 to %d seconds", int(agents.MaxToolTimeout/time.Second))
		}
		d := time.Duration(sec * float64(time.Second))
		p.Timeout = &d
	}
	return nil
}

// toolSchemaOf reads a tool_schema (an object, or null).
func toolSchemaOf(obj object) (*json.RawMessage, error) {
	raw, ok := obj["tool_schema"]
	if !ok {
		return nil, nil
	}
	if string(raw) == "null" {
		var none json.RawMessage
		return &none, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, workspaces.E(workspaces.KindInvalid, "Invalid value for 'tool_schema': expected a JSON schema object")
	}
	return &raw, nil
}

// toolParameters reads seed 003's parameters list.
func toolParameters(obj object) (*[]agents.ToolParameter, error) {
	raw, ok := obj["parameters"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var ps []agents.ToolParameter
	if json.Unmarshal(raw, &ps) != nil {
		return nil, workspaces.E(workspaces.KindInvalid, "Invalid value for 'parameters': expected a list of {name, type, description, required}")
	}
	return &ps, nil
}

// handleSeed003CreateTool is POST /create_tool {name, description, type,
// tool_schema?}, plus Atrium's parameters, endpoint, method, headers,
// timeout and agent_id.
func (s *server) handleSeed003CreateTool() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, user, ok := s.seed003Body(w, r, seed003NoAuth)
		if !ok {
			return
		}
		var fields [3]string
		for i, k := range []string{"name", "description", "type"} {
			raw, present := obj[k]
			if !present || string(raw) == "null" {
				seed003Error(w, http.StatusBadRequest, "Tool name, description, and type are required")
				return
			}
			if json.Unmarshal(raw, &fields[i]) != nil {
				seed003Error(w, http.StatusBadRequest, "Tool name, description, and type must be strings")
				return
			}
		}
		for _, f := range fields {
			if strings.TrimSpace(f) == "" {
				seed003Error(w, http.StatusBadRequest, "Tool name, description, and type cannot be empty")
				return
			}
		}
		// The three are strings now; the rest as /api/agents/{id}/tools/
		// reads them.
		t, err := newToolOf(obj)
		if err != nil {
			seed003Error(w, http.StatusBadRequest, workspaces.ErrorMessage(err))
			return
		}
		var agent *agents.Agent
		if id := firstStr(obj, "agent_id"); id != "" {
			a, err := s.Agents.Owned(r.Context(), user, agents.ID(id))
			if err != nil {
				s.seed003ToolFail(w, r, err, "Agent not found", "Failed to create tool")
				return
			}
			agent = &a
		}
		t, err = s.CustomTools.Create(r.Context(), user, t)
		if err == nil && agent != nil {
			if err = s.CustomTools.Attach(r.Context(), *agent, t.ID); err != nil {
				s.CustomTools.Delete(r.Context(), user, t.ID)
			}
		}
		if err != nil {
			s.seed003ToolFail(w, r, err, "Tool not found", "Failed to create tool")
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"message": "Tool created successfully", "tool_id": t.ID})
	})
}

// seed003ToolFail answers err: invalid input 400 with its message, not
// found 404 with notFound, anything else 500 with internal.
func (s *server) seed003ToolFail(w http.ResponseWriter, r *http.Request, err error, notFound, internal string) {
	switch workspaces.ErrorKind(err) {
	case workspaces.KindInvalid:
		seed003Error(w, http.StatusBadRequest, workspaces.ErrorMessage(err))
	case workspaces.KindTooLarge:
		seed003Error(w, http.StatusRequestEntityTooLarge, workspaces.ErrorMessage(err))
	case workspaces.KindNotFound:
		seed003Error(w, http.StatusNotFound, notFound)
	default:
		s.errorStatus(r, err, apiStatus, nil)
		seed003Error(w, http.StatusInternalServerError, internal)
	}
}

// handleSeed003GetTools is POST /get_tools.
func (s *server) handleSeed003GetTools() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, user, ok := s.seed003Body(w, r, seed003NoAuth)
		if !ok {
			return
		}
		list, err := s.CustomTools.List(r.Context(), user)
		if err != nil {
			s.seed003ToolFail(w, r, err, "Tool not found", "Failed to fetch tools")
			return
		}
		out := make([]seed003Tool, len(list))
		for i, t := range list {
			out[i] = toSeed003Tool(t)
		}
		writeJSON(w, http.StatusOK, map[string]any{"tools": out})
	})
}

// handleSeed003DeleteTool is DELETE /delete_tool/{tool_id}.
func (s *server) handleSeed003DeleteTool() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, user, ok := s.seed003Body(w, r, seed003NoAuth)
		if !ok {
			return
		}
		id, err := strconv.ParseInt(r.PathValue("tool_id"), 10, 64)
		if err == nil {
			err = s.CustomTools.Delete(r.Context(), user, id)
		} else {
			err = workspaces.E(workspaces.KindNotFound, "Tool not found")
		}
		if err != nil {
			s.seed003ToolFail(w, r, err, "Tool not found or unauthorized", "Failed to delete tool")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"message": "Tool deleted successfully"})
	})
}

// handleSeed003UpdateTool is PUT /update_tool {toolId, toolName?,
// toolDescription?, type?, parameters?, file?, tool_schema?}: a partial
// update.
func (s *server) handleSeed003UpdateTool() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, user, ok := s.seed003Body(w, r, seed003NoAuth)
		if !ok {
			return
		}
		id, present := toolID(obj, "toolId")
		if !present {
			seed003Error(w, http.StatusBadRequest, "Tool ID is required")
			return
		}
		p, err := toolPatchOf(obj)
		if err != nil {
			seed003Error(w, http.StatusBadRequest, workspaces.ErrorMessage(err))
			return
		}
		if id < 0 {
			err = workspaces.E(workspaces.KindNotFound, "Tool not found")
		} else {
			_, err = s.CustomTools.Update(r.Context(), user, id, p)
		}
		if err != nil {
			s.seed003ToolFail(w, r, err, "Tool not found or unauthorized", "Failed to update tool")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"message": "Tool updated successfully"})
	})
}

// toolPatchOf reads update_tool's fields.
func toolPatchOf(obj object) (agents.ToolPatch, error) {
	var p agents.ToolPatch
	var err error
	for key, dst := range map[string]**string{"toolName": &p.Name, "toolDescription": &p.Description, "type": &p.Type} {
		if *dst, err = obj.optStr(key); err != nil {
			return p, err
		}
	}
	if p.Schema, err = toolSchemaOf(obj); err != nil {
		return p, err
	}
	if p.Parameters, err = toolParameters(obj); err != nil {
		return p, err
	}
	if f, err := obj.optStr("file"); err != nil {
		return p, err
	} else if f != nil {
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(*f))
		if err != nil {
			return p, workspaces.E(workspaces.KindInvalid, "Invalid value for 'file': expected base64")
		}
		p.File = &data
	}
	if p.FileName, err = obj.optStr("file_name"); err != nil {
		return p, err
	}
	return p, toolHTTP(obj, &p)
}

// handleSeed003ToolDetails is POST /get_tool_details {toolId}.
func (s *server) handleSeed003ToolDetails() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, user, ok := s.seed003Body(w, r, seed003NoAuth)
		if !ok {
			return
		}
		id, present := toolID(obj, "toolId")
		if !present {
			seed003Error(w, http.StatusBadRequest, "Tool ID is required")
			return
		}
		t, err := s.CustomTools.Get(r.Context(), user, id)
		if err != nil {
			s.seed003ToolFail(w, r, err, "Tool not found", "Failed to get tool details")
			return
		}
		v := toSeed003Tool(t)
		writeJSON(w, http.StatusOK, map[string]any{
			"name": v.Name, "description": v.Description, "type": v.Type,
			"file": base64.StdEncoding.EncodeToString(t.File), "tool_schema": v.ToolSchema, "parameters": v.Parameters,
			"id": v.ID, "endpoint": v.Endpoint, "method": v.Method, "headers": v.Headers, "timeout": v.Timeout, "indexed": v.Indexed,
		})
	})
}

// seed003Needs serves h when ok, else 503 with msg in seed 003's format.
func seed003Needs(ok bool, msg string, h http.Handler) http.Handler {
	if ok {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seed003Error(w, http.StatusServiceUnavailable, msg)
	})
}
