package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/workspaces"
)

// Seed 000 §5.4 and §9: the caller's MCP servers, with a user API key or
// a session. Secrets in env and headers are shown masked; sending a masked
// value back keeps the secret. POST …/test_connection/ connects afresh and
// lists the tools; GET …/list_tools/?agent_id= lists what an agent gets,
// named mcp_<server>_<tool>.

func (s *server) mcpReady(w http.ResponseWriter, r *http.Request) bool {
	if s.MCP == nil || s.MCPServers == nil {
		s.writeAPIError(w, r, workspaces.E(workspaces.KindUnavailable, "MCP servers are not available on this server"))
		return false
	}
	return true
}

// mcpServerView is a server as the API shows it.
type mcpServerView struct {
	ID            mcp.ServerID      `json:"id"`
	Agent         *agents.ID        `json:"agent"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	TransportType string            `json:"transport_type"`
	Command       string            `json:"command"`
	Args          []string          `json:"args"`
	Env           map[string]string `json:"env"`
	URL           string            `json:"url"`
	Headers       map[string]string `json:"headers"`
	AutoConnect   bool              `json:"auto_connect"`
	IsActive      bool              `json:"is_active"`
	CreatedAt     string            `json:"created_at"`
	UpdatedAt     string            `json:"updated_at"`
}

func toMCPServerView(srv mcp.Server) mcpServerView {
	m := srv.Masked()
	v := mcpServerView{ID: m.ID, Name: m.Name, Description: m.Description, TransportType: m.Transport, Command: m.Command,
		Args: m.Args, Env: m.Env, URL: m.URL, Headers: m.Headers, AutoConnect: m.AutoConnect, IsActive: m.Active,
		CreatedAt: timestamp(m.CreatedAt), UpdatedAt: timestamp(m.UpdatedAt)}
	if m.Agent != "" {
		a := m.Agent
		v.Agent = &a
	}
	if v.Args == nil {
		v.Args = []string{}
	}
	if v.Env == nil {
		v.Env = map[string]string{}
	}
	if v.Headers == nil {
		v.Headers = map[string]string{}
	}
	return v
}

// mcpToolView is a tool of an MCP server.
type mcpToolView struct {
	Name         string          `json:"name"`
	OriginalName string          `json:"original_name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
}

func toMCPToolViews(tools []mcp.ToolInfo) []mcpToolView {
	out := make([]mcpToolView, len(tools))
	for i, t := range tools {
		out[i] = mcpToolView{Name: t.Name, OriginalName: t.OriginalName, Description: t.Description, InputSchema: t.InputSchema}
	}
	return out
}

// agentRef reads the "agent" field: an agent id, as a string or (seed 000's
// example) a number; nil when absent, "" when null.
func agentRef(obj object, key string) (*agents.ID, error) {
	raw, ok := obj[key]
	if !ok {
		return nil, nil
	}
	var id agents.ID
	if string(raw) != "null" {
		var s string
		var n json.Number
		switch {
		case json.Unmarshal(raw, &s) == nil:
			id = agents.ID(strings.TrimSpace(s))
		case json.Unmarshal(raw, &n) == nil:
			id = agents.ID(n.String())
		default:
			return nil, workspaces.Errorf(workspaces.KindInvalid, "Invalid value for '%s': expected an agent id", key)
		}
	}
	return &id, nil
}

// mcpFields reads a server's fields: every one optional, so it serves
// create (then checked by the store) and update alike.
func mcpFields(obj object) (mcp.ServerUpdate, error) {
	var u mcp.ServerUpdate
	var err error
	if u.Agent, err = agentRef(obj, "agent"); err != nil {
		return u, err
	}
	if u.Agent == nil {
		if u.Agent, err = agentRef(obj, "agent_id"); err != nil {
			return u, err
		}
	}
	for key, dst := range map[string]**string{"name": &u.Name, "description": &u.Description, "transport_type": &u.Transport,
		"command": &u.Command, "url": &u.URL} {
		if *dst, err = obj.optStr(key); err != nil {
			return u, err
		}
	}
	if raw, ok := obj["args"]; ok && string(raw) != "null" {
		var args []string
		if json.Unmarshal(raw, &args) != nil {
			return u, workspaces.E(workspaces.KindInvalid, "Invalid value for 'args': expected a list of strings")
		}
		u.Args = &args
	}
	for key, dst := range map[string]**map[string]string{"env": &u.Env, "headers": &u.Headers} {
		if raw, ok := obj[key]; ok && string(raw) != "null" {
			var m map[string]string
			if json.Unmarshal(raw, &m) != nil {
				return u, workspaces.Errorf(workspaces.KindInvalid, "Invalid value for '%s': expected an object of strings", key)
			}
			*dst = &m
		}
	}
	for key, dst := range map[string]**bool{"auto_connect": &u.AutoConnect, "is_active": &u.Active} {
		if raw, ok := obj[key]; ok && string(raw) != "null" {
			var b bool
			if json.Unmarshal(raw, &b) != nil {
				return u, workspaces.Errorf(workspaces.KindInvalid, "Invalid value for '%s': expected true or false", key)
			}
			*dst = &b
		}
	}
	return u, nil
}

// mcpRequest reads a server's fields from r's body. On failure it has
// answered and returns ok false.
func (s *server) mcpRequest(w http.ResponseWriter, r *http.Request) (mcp.ServerUpdate, bool) {
	if !s.mcpReady(w, r) {
		return mcp.ServerUpdate{}, false
	}
	obj, err := s.readObject(w, r, false)
	if err == nil {
		var u mcp.ServerUpdate
		if u, err = mcpFields(obj); err == nil {
			return u, true
		}
	}
	s.writeAPIError(w, r, err)
	return mcp.ServerUpdate{}, false
}

// handleCreateMCPServer is POST /api/mcp-servers/.
func (s *server) handleCreateMCPServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.mcpRequest(w, r)
		if !ok {
			return
		}
		n := mcp.NewServer{AutoConnect: u.AutoConnect, Active: u.Active}
		if u.Agent != nil {
			n.Agent = *u.Agent
		}
		for dst, v := range map[*string]*string{&n.Name: u.Name, &n.Description: u.Description, &n.Transport: u.Transport, &n.Command: u.Command, &n.URL: u.URL} {
			if v != nil {
				*dst = *v
			}
		}
		if u.Args != nil {
			n.Args = *u.Args
		}
		if u.Env != nil {
			n.Env = *u.Env
		}
		if u.Headers != nil {
			n.Headers = *u.Headers
		}
		srv, err := s.MCPServers.Create(r.Context(), userOf(r), n)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, toMCPServerView(srv))
	})
}

// handleListMCPServers is GET /api/mcp-servers/.
func (s *server) handleListMCPServers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.mcpReady(w, r) {
			return
		}
		list, err := s.MCPServers.List(r.Context(), userOf(r))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]mcpServerView, len(list))
		for i, srv := range list {
			out[i] = toMCPServerView(srv)
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "next": nil, "previous": nil, "results": out})
	})
}

// handleGetMCPServer is GET /api/mcp-servers/{id}/.
func (s *server) handleGetMCPServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.mcpReady(w, r) {
			return
		}
		srv, err := s.MCPServers.Get(r.Context(), userOf(r), mcp.ServerID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toMCPServerView(srv))
	})
}

// handleUpdateMCPServer is PUT (or PATCH) /api/mcp-servers/{id}/: the
// fields sent change, the others stay.
func (s *server) handleUpdateMCPServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.mcpRequest(w, r)
		if !ok {
			return
		}
		id := mcp.ServerID(r.PathValue("id"))
		srv, err := s.MCPServers.Update(r.Context(), userOf(r), id, u)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.MCP.Forget(id)
		writeJSON(w, http.StatusOK, toMCPServerView(srv))
	})
}

// handleDeleteMCPServer is DELETE /api/mcp-servers/{id}/.
func (s *server) handleDeleteMCPServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.mcpReady(w, r) {
			return
		}
		id := mcp.ServerID(r.PathValue("id"))
		if err := s.MCPServers.Delete(r.Context(), userOf(r), id); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.MCP.Forget(id)
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleTestMCPServer is POST /api/mcp-servers/{id}/test_connection/: a
// fresh connection, its tools listed. A server that cannot be reached is a
// test that ran: 200 with success false and why.
func (s *server) handleTestMCPServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.mcpReady(w, r) {
			return
		}
		srv, err := s.MCPServers.Get(r.Context(), userOf(r), mcp.ServerID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		tools, err := s.MCP.Test(r.Context(), srv)
		if err != nil {
			if workspaces.ErrorKind(err) == workspaces.KindInternal {
				s.writeAPIError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"success": false, "status": "error", "error": workspaces.ErrorMessage(err), "tools": []mcpToolView{}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "status": "connected",
			"message": "Connected to " + srv.Name + ": " + strconv.Itoa(len(tools)) + " tools", "tools": toMCPToolViews(tools)})
	})
}

// handleListMCPTools is GET /api/mcp-servers/list_tools/?agent_id=: per
// server its state and tools, and every tool in one list.
func (s *server) handleListMCPTools() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.mcpReady(w, r) {
			return
		}
		list, err := s.MCP.ListTools(r.Context(), userOf(r), agents.ID(strings.TrimSpace(r.URL.Query().Get("agent_id"))))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		servers := make([]map[string]any, len(list))
		all := []mcpToolView{}
		for i, st := range list {
			tools := toMCPToolViews(st.Tools)
			servers[i] = map[string]any{"id": st.Server.ID, "name": st.Server.Name, "transport_type": st.Server.Transport,
				"status": st.Status, "error": st.Error, "tools": tools}
			all = append(all, tools...)
		}
		writeJSON(w, http.StatusOK, map[string]any{"servers": servers, "tools": all, "count": len(all)})
	})
}
