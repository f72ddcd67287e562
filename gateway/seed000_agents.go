package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// seed000Agent is an agent as seed 000's REST API shows it.
type seed000Agent struct {
	ID            agents.ID         `json:"id"`
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	ModelID       string            `json:"model_id"`
	AgentType     string            `json:"agent_type"`
	Status        agents.Status     `json:"status"`
	IsPublished   bool              `json:"is_published"`
	Owner         workspaces.UserID `json:"owner"`
	Configuration json.RawMessage   `json:"configuration"`
	Script        string            `json:"script"`
	Version       int               `json:"version"`
	PublishedAt   *string           `json:"published_at"`
	CreatedAt     string            `json:"created_at"`
	UpdatedAt     string            `json:"updated_at"`
}

func toSeed000Agent(a agents.Agent) seed000Agent {
	cfg := json.RawMessage(a.Config)
	if !json.Valid(cfg) {
		cfg = json.RawMessage("{}")
	}
	out := seed000Agent{
		ID: a.ID, Name: a.Name, Description: a.Description, ModelID: a.ModelID, AgentType: a.Type,
		Status: a.Status, IsPublished: a.Status == agents.StatusPublished, Owner: a.Owner, Configuration: cfg,
		Script: a.Script, Version: a.Version, CreatedAt: timestamp(a.CreatedAt), UpdatedAt: timestamp(a.UpdatedAt),
	}
	if a.PublishedAt != nil {
		t := timestamp(*a.PublishedAt)
		out.PublishedAt = &t
	}
	return out
}

// handleCreateAgent is POST /api/agents/. model_id is a catalogue model's
// name (such as "echo") or its catalogue number.
func (s *server) handleCreateAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var a agents.NewAgent
		for key, dst := range map[string]*string{"name": &a.Name, "description": &a.Description, "agent_type": &a.Type, "script": &a.Script} {
			if *dst, err = obj.str(key); err != nil {
				s.writeAPIError(w, r, err)
				return
			}
		}
		if a.ModelID, err = modelID(obj); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if raw, ok := obj["configuration"]; ok && string(raw) != "null" {
			if _, err := configPatch(raw); err != nil {
				s.writeAPIError(w, r, err)
				return
			}
			a.Config = string(raw)
		}
		created, err := s.Agents.Create(r.Context(), userOf(r), a)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, toSeed000Agent(created))
	})
}

// configPatch reads a configuration object.
func configPatch(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var cfg map[string]json.RawMessage
	if json.Unmarshal(raw, &cfg) != nil || cfg == nil {
		return nil, workspaces.E(workspaces.KindInvalid, "Invalid value for 'configuration': expected an object")
	}
	return cfg, nil
}

// modelID reads model_id as a string or a whole number.
func modelID(obj object) (string, error) {
	raw, ok := obj["model_id"]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if _, err := strconv.ParseUint(n.String(), 10, 64); err == nil {
			return n.String(), nil
		}
	}
	s, err := obj.str("model_id")
	if err != nil {
		return "", workspaces.E(workspaces.KindInvalid, "Invalid value for 'model_id': expected a model name or id")
	}
	return strings.TrimSpace(s), nil
}

// handleListAgents is GET /api/agents/: the caller's agents, in the shape
// of Django REST framework's paginated lists ({count, next, previous,
// results}), as seed 000's server is a DRF one.
func (s *server) handleListAgents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := s.Agents.List(r.Context(), userOf(r))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]seed000Agent, len(list))
		for i, a := range list {
			out[i] = toSeed000Agent(a)
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "next": nil, "previous": nil, "results": out})
	})
}

// handleGetAgent is GET /api/agents/{id}/: the caller's own agent.
func (s *server) handleGetAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.Agents.Owned(r.Context(), userOf(r), agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toSeed000Agent(a))
	})
}

// handleUpdateAgent is PATCH /api/agents/{id}/. configuration is merged key
// by key (a null removes a key), so seed 000 §4.2.2's examples change only
// the tool lists they send.
func (s *server) handleUpdateAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var u agents.AgentUpdate
		for key, dst := range map[string]**string{"name": &u.Name, "description": &u.Description, "agent_type": &u.Type, "script": &u.Script} {
			if *dst, err = obj.optStr(key); err != nil {
				s.writeAPIError(w, r, err)
				return
			}
		}
		if _, ok := obj["model_id"]; ok {
			m, err := modelID(obj)
			if err != nil {
				s.writeAPIError(w, r, err)
				return
			}
			u.ModelID = &m
		}
		if raw, ok := obj["configuration"]; ok && string(raw) != "null" {
			if u.Config, err = configPatch(raw); err != nil {
				s.writeAPIError(w, r, err)
				return
			}
		}
		st, err := obj.optStr("status")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if st != nil {
			status := agents.Status(*st)
			u.Status = &status
		}
		a, err := s.Agents.Update(r.Context(), userOf(r), agents.ID(r.PathValue("id")), u)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, toSeed000Agent(a))
	})
}

// handleDeleteAgent is DELETE /api/agents/{id}/: 204 as DRF answers.
func (s *server) handleDeleteAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Agents.Delete(r.Context(), userOf(r), agents.ID(r.PathValue("id"))); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handlePublishAgent is POST /api/agents/{id}/publish/ (on is true) and
// /unpublish/, in seed 000's success envelope.
func (s *server) handlePublishAgent(on bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := agents.ID(r.PathValue("id"))
		var a agents.Agent
		var err error
		msg := "Agent published successfully"
		if on {
			a, err = s.Agents.Publish(r.Context(), userOf(r), id)
		} else {
			a, err = s.Agents.Unpublish(r.Context(), userOf(r), id)
			msg = "Agent unpublished successfully"
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": toSeed000Agent(a), "message": msg})
	})
}

// handleAgentStatus is GET /api/agents/{id}/status/, with the agent's API
// key or its owner's credentials.
func (s *server) handleAgentStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.agentAccess(r, agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		st, err := s.Agents.Status(r.Context(), a)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var last *string
		if st.LastRequestAt != nil {
			t := timestamp(*st.LastRequestAt)
			last = &t
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": a.ID, "name": a.Name, "status": a.Status, "is_published": a.Status == agents.StatusPublished,
			"model_id": a.ModelID, "model_available": st.ModelAvailable, "version": a.Version,
			"active_runs": st.ActiveRuns, "total_requests": st.Requests, "last_request_at": last,
		})
	})
}

// handleAgentHistory is GET /api/agents/{id}/history/?limit=&before=: the
// agent's interactions, newest first, with seed 003's log fields.
func (s *server) handleAgentHistory() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.agentAccess(r, agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		limit := 50
		if v := r.URL.Query().Get("limit"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 200 {
				s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "limit must be a number from 1 to 200"))
				return
			}
		}
		logs, more, err := s.Agents.History(r.Context(), a, r.URL.Query().Get("before"), limit)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]map[string]any, len(logs))
		for i, l := range logs {
			out[i] = map[string]any{
				"id": l.ID, "agent_id": l.AgentID, "agent_name": a.Name, "run_id": l.RunID, "chat_id": l.ChatID, "source": l.Source,
				"timestamp": timestamp(l.CreatedAt), "model": l.Model, "prompt": l.Prompt, "response": l.Response,
				"status": l.Status, "error": l.Error, "credits": l.Credits, "cached": l.Cached,
				"input_tokens": l.Usage.InputTokens, "output_tokens": l.Usage.OutputTokens,
				"iterations": l.Iterations, "tool_calls": l.ToolCalls, "tool_used": l.ToolCalls > 0,
				"response_time_ms": l.ResponseTime.Milliseconds(), "tool_call_time_ms": l.ToolCallTime.Milliseconds(),
				"tool_parameterization_time_ms": l.ToolParamTime.Milliseconds(),
			}
		}
		resp := map[string]any{"count": len(out), "results": out, "has_more": more}
		if more {
			resp["next_before"] = logs[len(logs)-1].ID
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// handleChatMessages is GET /chat/{chat_id}/messages?before=&limit=: the
// chat's stored history, a page at a time, oldest first within the page.
func (s *server) handleChatMessages() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit := 50
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 200 {
				s.writeMsgError(w, r, workspaces.E(workspaces.KindInvalid, "limit must be a number from 1 to 200"))
				return
			}
			limit = n
		}
		if s.Conversations == nil {
			s.writeMsgError(w, r, workspaces.E(workspaces.KindUnavailable, "Chat history is not served by this node"))
			return
		}
		msgs, more, err := s.Conversations.Messages(r.Context(), userOf(r), workspaces.ChatID(r.PathValue("chat_id")), agents.MessageID(q.Get("before")), limit)
		if err != nil {
			s.writeMsgError(w, r, err, forbiddenIs401)
			return
		}
		out := make([]map[string]any, len(msgs))
		for i, m := range msgs {
			out[i] = agents.MessageView(m)
		}
		resp := map[string]any{"messages": out, "has_more": more}
		if more && len(msgs) > 0 {
			resp["next_before"] = msgs[0].ID
		}
		writeJSON(w, http.StatusOK, resp)
	})
}
