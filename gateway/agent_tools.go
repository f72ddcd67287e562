package gateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// An agent's custom tools in seed 000's REST style (its dashboard's
// "Custom Tools"; at most 10 per agent): GET /api/agents/{id}/tools/ lists
// them, POST attaches one of the owner's tools ({"tool_id"}) or creates
// and attaches a new one (the fields of seed 003's create_tool, with
// endpoint, method, headers and timeout for an HTTP tool), DELETE
// /api/agents/{id}/tools/{tool_id}/ detaches one.

func (s *server) customToolsReady(w http.ResponseWriter, r *http.Request) bool {
	if s.CustomTools == nil {
		s.writeAPIError(w, r, workspaces.E(workspaces.KindUnavailable, "Custom tools are not available on this server"))
		return false
	}
	return true
}

// handleListAgentTools is GET /api/agents/{id}/tools/.
func (s *server) handleListAgentTools() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.customToolsReady(w, r) {
			return
		}
		a, err := s.Agents.Owned(r.Context(), userOf(r), agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		list, err := s.CustomTools.OfAgent(r.Context(), a)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]seed003Tool, len(list))
		for i, t := range list {
			out[i] = toSeed003Tool(t)
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "results": out})
	})
}

// handleAddAgentTool is POST /api/agents/{id}/tools/.
func (s *server) handleAddAgentTool() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.customToolsReady(w, r) {
			return
		}
		user := userOf(r)
		a, err := s.Agents.Owned(r.Context(), user, agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var t agents.CustomTool
		if id, ok := toolID(obj, "tool_id"); ok {
			if t, err = s.CustomTools.Get(r.Context(), user, id); err == nil {
				err = s.CustomTools.Attach(r.Context(), a, id)
			}
			if err != nil {
				s.writeAPIError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, toSeed003Tool(t))
			return
		}
		if t, err = newToolOf(obj); err == nil {
			t, err = s.CustomTools.Create(r.Context(), user, t)
		}
		if err == nil {
			if err = s.CustomTools.Attach(r.Context(), a, t.ID); err != nil {
				s.CustomTools.Delete(r.Context(), user, t.ID)
			}
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, toSeed003Tool(t))
	})
}

// newToolOf reads a new tool: seed 003's create_tool fields and Atrium's.
func newToolOf(obj object) (agents.CustomTool, error) {
	var t agents.CustomTool
	var err error
	for key, dst := range map[string]*string{"name": &t.Name, "description": &t.Description, "type": &t.Type} {
		if *dst, err = obj.str(key); err != nil {
			return t, err
		}
	}
	if t.Type == "" {
		t.Type = agents.ToolTypeCustom
	}
	schema, err := toolSchemaOf(obj)
	if err != nil {
		return t, err
	}
	if schema != nil {
		t.Schema = *schema
	}
	params, err := toolParameters(obj)
	if err != nil {
		return t, err
	}
	if params != nil {
		t.Parameters = *params
	}
	var p agents.ToolPatch
	if err := toolHTTP(obj, &p); err != nil {
		return t, err
	}
	if p.Endpoint != nil {
		t.Endpoint = *p.Endpoint
	}
	if p.Method != nil {
		t.Method = *p.Method
	}
	if p.Headers != nil {
		t.Headers = *p.Headers
	}
	if p.Timeout != nil {
		t.Timeout = *p.Timeout
	}
	return t, nil
}

// handleRemoveAgentTool is DELETE /api/agents/{id}/tools/{tool_id}/.
func (s *server) handleRemoveAgentTool() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.customToolsReady(w, r) {
			return
		}
		a, err := s.Agents.Owned(r.Context(), userOf(r), agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		id, err := strconv.ParseInt(strings.TrimSpace(r.PathValue("tool_id")), 10, 64)
		if err == nil {
			err = s.CustomTools.Detach(r.Context(), a, id)
		} else {
			err = workspaces.E(workspaces.KindNotFound, "Tool not found")
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
