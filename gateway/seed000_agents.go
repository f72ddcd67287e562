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
	Owner         workspaces.UserID `json:"owner"`
	Configuration json.RawMessage   `json:"configuration"`
	CreatedAt     string            `json:"created_at"`
	UpdatedAt     string            `json:"updated_at"`
}

func toSeed000Agent(a agents.Agent) seed000Agent {
	cfg := json.RawMessage(a.Config)
	if !json.Valid(cfg) {
		cfg = json.RawMessage("{}")
	}
	return seed000Agent{
		ID: a.ID, Name: a.Name, Description: a.Description, ModelID: a.ModelID, AgentType: a.Type,
		Status: a.Status, Owner: a.Owner, Configuration: cfg,
		CreatedAt: timestamp(a.CreatedAt), UpdatedAt: timestamp(a.UpdatedAt),
	}
}

// handleCreateAgent is POST /api/agents/. model_id is a model's name (such
// as "echo"); a number is read as its decimal name.
func (s *server) handleCreateAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var a agents.NewAgent
		for key, dst := range map[string]*string{"name": &a.Name, "description": &a.Description, "agent_type": &a.Type} {
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
			var cfg map[string]any
			if json.Unmarshal(raw, &cfg) != nil || cfg == nil {
				s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "Invalid value for 'configuration': expected an object"))
				return
			}
			a.Config = string(raw)
		}
		if a.ModelID != "" && s.Models != nil {
			if _, _, ok := s.Models.Provider(a.ModelID); !ok {
				s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "Unknown model_id '"+a.ModelID+"'"))
				return
			}
		}
		created, err := s.Agents.Create(r.Context(), userOf(r), a)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, toSeed000Agent(created))
	})
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
