package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Seed 003's query APIs: the transactional POST /v1/{agent_id} (the whole
// conversation in every request) and the threaded POST /v2/{agent_id} (one
// message; the "session" header keeps the thread). The key is sent bare,
// "Authorization: <key>" (no "Bearer"): the agent's API key, or a user key
// of the agent's owner (seed 003's trust keys). Errors are {"error": "..."}.

// seed003Agent authenticates a v1/v2 request for agent id.
func (s *server) seed003Agent(r *http.Request, id agents.ID) (agents.Agent, error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if scheme, rest, ok := strings.Cut(h, " "); ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "ApiKey")) {
		h = strings.TrimSpace(rest)
	}
	if h == "" {
		h = strings.TrimSpace(r.Header.Get("X-API-Key"))
	}
	switch {
	case h == "":
		return agents.Agent{}, workspaces.E(workspaces.KindUnauthenticated, "Missing API key: send 'Authorization: <your-api-key>'")
	case workspaces.IsKey(h, workspaces.UserKey):
		k, err := s.Workspaces.ResolveKey(r.Context(), h)
		if err != nil {
			return agents.Agent{}, err
		}
		return s.Agents.Owned(r.Context(), k.UserID, id)
	default:
		a, _, err := s.Agents.ResolveKey(r.Context(), h)
		if err != nil {
			return agents.Agent{}, err
		}
		if a.ID != id {
			return agents.Agent{}, workspaces.E(workspaces.KindForbidden, "This API key belongs to another agent")
		}
		return a, nil
	}
}

// seed003Fail writes err as {"error": message}.
func (s *server) seed003Fail(w http.ResponseWriter, r *http.Request, err error) {
	status, _ := s.errorStatus(r, err, apiStatus, nil)
	seed003Error(w, status, workspaces.ErrorMessage(err))
}

// seed003Message reads one {role, content} message.
func seed003Message(raw json.RawMessage, where string) (agents.ModelMessage, error) {
	var m struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return agents.ModelMessage{}, workspaces.E(workspaces.KindInvalid, "Invalid "+where+": expected {\"role\": \"user\", \"content\": \"...\"}")
	}
	switch m.Role {
	case agents.RoleUser, agents.RoleAssistant, agents.RoleSystem:
	default:
		return agents.ModelMessage{}, workspaces.E(workspaces.KindInvalid, "Invalid "+where+": role must be system, user or assistant")
	}
	if strings.TrimSpace(m.Content) == "" {
		return agents.ModelMessage{}, workspaces.E(workspaces.KindInvalid, "Invalid "+where+": content must be non-empty text")
	}
	return agents.ModelMessage{Role: m.Role, Content: m.Content}, nil
}

// handleSeed003Transactional is POST /v1/{agent_id} {conversation: [...]}:
// the last message is the user's question, the ones before it the context.
func (s *server) handleSeed003Transactional() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.seed003Agent(r, agents.ID(r.PathValue("agent_id")))
		if err != nil {
			s.seed003Fail(w, r, err)
			return
		}
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.seed003Fail(w, r, err)
			return
		}
		var raws []json.RawMessage
		if raw, ok := obj["conversation"]; !ok || json.Unmarshal(raw, &raws) != nil || len(raws) == 0 {
			seed003Error(w, http.StatusBadRequest, "conversation is required: a list of {role, content} messages")
			return
		}
		msgs := make([]agents.ModelMessage, len(raws))
		for i, raw := range raws {
			if msgs[i], err = seed003Message(raw, "conversation message"); err != nil {
				s.seed003Fail(w, r, err)
				return
			}
		}
		last := msgs[len(msgs)-1]
		if last.Role != agents.RoleUser {
			seed003Error(w, http.StatusBadRequest, "The last message of the conversation must be the user's")
			return
		}
		s.seed003Answer(w, r, agents.Ask{Agent: a, Preamble: msgs[:len(msgs)-1], Content: last.Content, Source: agents.SourceV1})
	})
}

// handleSeed003Threaded is POST /v2/{agent_id} {message: {role, content}}
// with the "session" header naming the thread (none: a new thread).
func (s *server) handleSeed003Threaded() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.seed003Agent(r, agents.ID(r.PathValue("agent_id")))
		if err != nil {
			s.seed003Fail(w, r, err)
			return
		}
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.seed003Fail(w, r, err)
			return
		}
		raw, ok := obj["message"]
		if !ok {
			seed003Error(w, http.StatusBadRequest, "message is required: {\"role\": \"user\", \"content\": \"...\"}")
			return
		}
		m, err := seed003Message(raw, "message")
		if err != nil {
			s.seed003Fail(w, r, err)
			return
		}
		if m.Role != agents.RoleUser {
			seed003Error(w, http.StatusBadRequest, "Invalid message: role must be user")
			return
		}
		s.seed003Answer(w, r, agents.Ask{Agent: a, Session: strings.TrimSpace(r.Header.Get("session")), Content: m.Content, Source: "v2"})
	})
}

// seed003Answer asks and answers in seed 003's format: {"status":
// "success", "data": {"response": ...}}, or, when the agent's stream
// setting is on, a stream of seed 001-style events ({"type": "content",
// "delta"} … {"type": "done"}).
func (s *server) seed003Answer(w http.ResponseWriter, r *http.Request, q agents.Ask) {
	asked, err := s.Conversations.Ask(r.Context(), q)
	if err != nil {
		s.seed003Fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), syncAnswerTimeout)
	defer cancel()
	if q.Agent.Settings().Stream {
		s.seed003Stream(ctx, w, q, asked)
		return
	}
	res, err := s.Conversations.Await(ctx, q.Agent.ID, asked.Workspace, asked.Conversation, asked.Request, asked.Seq, nil)
	if err != nil {
		if r.Context().Err() == nil {
			seed003Error(w, http.StatusGatewayTimeout, "The agent is still answering; request "+string(asked.Request))
		}
		return
	}
	if res.Status != agents.RunCompleted {
		seed003Error(w, http.StatusBadGateway, "The agent could not answer: "+res.Error)
		return
	}
	if calls := seed003PendingCalls(res.ToolCalls); len(calls) > 0 {
		writeJSON(w, http.StatusOK, map[string]any{
			"status": "success", "message": "Tool call(s) initiated", "tool_calls": calls,
			"conversation_id": asked.Conversation, "request_id": asked.Request,
		})
		return
	}
	data := map[string]any{"response": res.Answer}
	if names := s.fileSearches(r.Context(), q.Agent, res.ToolCalls); len(names) > 0 {
		data["file_searches"] = names
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "success", "data": data,
		"conversation_id": asked.Conversation, "request_id": asked.Request,
	})
}

// fileSearches names the File Search tools of a that calls used, once
// each, in order: seed 003's "file_searches".
func (s *server) fileSearches(ctx context.Context, a agents.Agent, calls []agents.ToolCallRecord) []string {
	if len(calls) == 0 || s.CustomTools == nil {
		return nil
	}
	defs, err := s.CustomTools.OfAgent(ctx, a)
	if err != nil {
		return nil
	}
	byName := map[string]string{}
	for _, d := range defs {
		if d.Type == agents.ToolTypeFileSearch {
			byName[d.ModelName()], byName[d.Name] = d.Name, d.Name
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range calls {
		if name, ok := byName[c.Name]; ok && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// seed003PendingCalls are the calls an answer stopped at, as seed 003
// shows them: {"name", "parameters"} for the caller to run, or {"name",
// "question"} when the user must say more.
func seed003PendingCalls(calls []agents.ToolCallRecord) []map[string]any {
	var out []map[string]any
	for _, c := range calls {
		if !c.Pending {
			continue
		}
		if c.Question != "" {
			out = append(out, map[string]any{"name": c.Name, "question": c.Question})
			continue
		}
		params := c.Parameters
		if len(params) == 0 {
			params = json.RawMessage("{}")
		}
		out = append(out, map[string]any{"name": c.Name, "parameters": params})
	}
	return out
}

// seed003Stream streams the answer: the status at once, then ": ping"
// comments while the agent is slow (it may run tools for long), so
// proxies keep the connection open.
func (s *server) seed003Stream(ctx context.Context, w http.ResponseWriter, q agents.Ask, asked agents.Asked) {
	sse := newSSEStream(w, "text/event-stream", s.streamPing())
	defer sse.close()
	sse.open()
	res, err := s.Conversations.Await(ctx, q.Agent.ID, asked.Workspace, asked.Conversation, asked.Request, asked.Seq, func(text string) error {
		return sse.event(map[string]string{"type": "content", "delta": text})
	})
	switch {
	case err != nil:
		sse.event(map[string]any{"type": "error", "error": "the stream was interrupted", "execution_id": asked.Request})
	case res.Status != agents.RunCompleted:
		sse.event(map[string]any{"type": "error", "error": res.Error, "execution_id": asked.Request})
	default:
		done := map[string]any{"type": "done", "execution_id": asked.Request, "conversation_id": asked.Conversation}
		if calls := seed003PendingCalls(res.ToolCalls); len(calls) > 0 {
			done["message"], done["tool_calls"] = "Tool call(s) initiated", calls
		}
		if names := s.fileSearches(ctx, q.Agent, res.ToolCalls); len(names) > 0 {
			done["file_searches"] = names
		}
		sse.event(done)
	}
}
