package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Seed 000's agent interaction (§5.2.2, §5.3): synchronous chat and query,
// REST v1, the asynchronous conversation API and the agent webhook. Each
// request is a message in one of the agent's API conversations (a chat of
// its API workspace), answered by a run like any chat message.

// syncAnswerTimeout bounds how long a synchronous call waits for the
// answer; after it the client gets the request_id to poll.
const syncAnswerTimeout = 5 * time.Minute

// keyAgent returns the published agent the request's agent API key reaches.
func (s *server) keyAgent(r *http.Request) (agents.Agent, error) {
	key := agentKey(r)
	if key == "" {
		return agents.Agent{}, workspaces.E(workspaces.KindUnauthenticated, "Missing agent API key: send 'Authorization: ApiKey <key>' or 'X-API-Key: <key>'")
	}
	a, _, err := s.Agents.ResolveKey(r.Context(), key)
	return a, err
}

// askBody reads seed 000's {message, conversation_id}; text is an alias of
// message (the webhook's).
type askBody struct {
	message      string
	conversation workspaces.ChatID
	obj          object
}

func (s *server) readAsk(w http.ResponseWriter, r *http.Request, needMessage bool) (askBody, error) {
	obj, err := s.readObject(w, r, false)
	if err != nil {
		return askBody{}, err
	}
	var b askBody
	b.obj = obj
	for _, k := range []string{"message", "text", "query", "input"} {
		v, err := obj.str(k)
		if err != nil {
			return askBody{}, err
		}
		if strings.TrimSpace(v) != "" && b.message == "" {
			b.message = v
		}
	}
	conv, err := obj.str("conversation_id")
	if err != nil {
		return askBody{}, err
	}
	b.conversation = workspaces.ChatID(strings.TrimSpace(conv))
	if needMessage && strings.TrimSpace(b.message) == "" {
		return askBody{}, workspaces.E(workspaces.KindInvalid, "message is required")
	}
	return b, nil
}

// toolCallsView is seed 000's tool_calls list.
func toolCallsView(calls []agents.ToolCallRecord) []map[string]any {
	out := make([]map[string]any, 0, len(calls))
	for _, c := range calls {
		v := map[string]any{"tool_name": c.Name, "parameters": c.Parameters, "result": c.Result, "duration_ms": c.Duration.Milliseconds()}
		if c.Error != "" {
			v["error"] = c.Error
		}
		if c.Pending {
			// Left to the caller, or waiting for the user's answer.
			v["status"] = "pending"
			delete(v, "result")
			if c.Question != "" {
				v["question"] = c.Question
			}
		}
		out = append(out, v)
	}
	return out
}

// answerSync asks and waits for the answer: seed 000's {response,
// tool_calls, iterations, conversation_id}.
func (s *server) answerSync(w http.ResponseWriter, r *http.Request, q agents.Ask, fee float64) {
	if fee > 0 {
		if err := s.Workspaces.CheckCreditsFor(r.Context(), q.Agent.Owner, fee); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
	}
	asked, err := s.Conversations.Ask(r.Context(), q)
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	s.charge(r, q.Agent.Owner, fee, "api_call", "")
	ctx, cancel := context.WithTimeout(r.Context(), syncAnswerTimeout)
	defer cancel()
	res, err := s.Conversations.Await(ctx, q.Agent.ID, asked.Workspace, asked.Conversation, asked.Request, asked.Seq, nil)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			writeJSON(w, http.StatusGatewayTimeout, map[string]any{
				"error": "The agent is still answering", "detail": "Poll GET /api/get_answer?request_id=" + string(asked.Request),
				"request_id": asked.Request, "conversation_id": asked.Conversation,
			})
			return
		}
		if r.Context().Err() != nil {
			return // the client left; the run goes on and its answer stays retrievable
		}
		s.writeAPIError(w, r, workspaces.Internal("await answer", err))
		return
	}
	if res.Status != agents.RunCompleted {
		writeJSON(w, http.StatusBadGateway, map[string]any{
			"error": "The agent could not answer: " + res.Error, "detail": string(res.Status),
			"request_id": asked.Request, "conversation_id": asked.Conversation, "response": res.Answer,
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"response": res.Answer, "tool_calls": toolCallsView(res.ToolCalls), "iterations": res.Iterations,
		"conversation_id": asked.Conversation, "request_id": asked.Request,
	})
}

// handleAgentChat is POST /api/agents/{id}/chat/ (conversation_id
// continues a conversation) and, with stateless true, /query/ and
// /invoke/ (a new conversation each time). It takes the agent's API key, or
// its owner's bearer credential (the dashboard's test path, which also
// reaches an agent that is not published yet).
func (s *server) handleAgentChat(stateless bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.agentAccess(r, agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.chatWith(w, r, a, stateless, "api", 0)
	})
}

// v1CallCredits is what each REST v1 call (/api/v1/chat, /api/v1/query)
// costs the agent's owner, besides the run's own price (seed 000 §13.3.1:
// "0.08 credits per /api/v1/chat or /api/v1/query call").
const v1CallCredits = 0.08

// chatWith answers a's message synchronously; fee is a fixed price of the
// call, charged to a's owner once the message is accepted (an owner with
// less left gets 402).
func (s *server) chatWith(w http.ResponseWriter, r *http.Request, a agents.Agent, stateless bool, source string, fee float64) {
	b, err := s.readAsk(w, r, true)
	if err != nil {
		s.writeAPIError(w, r, err)
		return
	}
	q := agents.Ask{Agent: a, Conversation: b.conversation, Content: b.message, Source: source}
	if stateless {
		q.Conversation = ""
		if raw, ok := b.obj["parameters"]; ok && string(raw) != "null" {
			q.Content += "\n\n[Parameters]\n" + string(raw)
		}
	}
	s.answerSync(w, r, q, fee)
}

// charge takes credits from user for what r used (batched when the server
// has a Charger, else in a transaction of its own; a failure is logged).
func (s *server) charge(r *http.Request, user workspaces.UserID, credits float64, reason, ref string) {
	if credits <= 0 {
		return
	}
	if s.Charger != nil {
		s.Charger.Charge(user, credits, reason, ref)
		return
	}
	ctx := context.WithoutCancel(r.Context())
	if err := s.Workspaces.Charge(ctx, user, credits, reason, ref); err != nil {
		s.Logger.ErrorContext(ctx, "charge credits", "user", user, "credits", credits, "reason", reason, "err", err)
	}
}

// handleV1Chat is REST v1's POST /api/v1/chat (stateless false) and
// /api/v1/query: the agent is the one the key reaches.
func (s *server) handleV1Chat(stateless bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		s.chatWith(w, r, a, stateless, "v1", v1CallCredits)
	})
}

// v1Agent is an agent as REST v1 shows it to key holders.
func v1Agent(a agents.Agent) map[string]any {
	return map[string]any{"id": a.ID, "name": a.Name, "description": a.Description, "model_id": a.ModelID,
		"agent_type": a.Type, "status": a.Status, "created_at": timestamp(a.CreatedAt)}
}

// handleV1Agents is GET /api/v1/agents: the agents the key reaches (one).
func (s *server) handleV1Agents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": 1, "results": []any{v1Agent(a)}})
	})
}

// handleV1Agent is GET /api/v1/agents/{id}.
func (s *server) handleV1Agent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if string(a.ID) != r.PathValue("id") {
			s.writeAPIError(w, r, workspaces.E(workspaces.KindNotFound, "Agent not found"))
			return
		}
		writeJSON(w, http.StatusOK, v1Agent(a))
	})
}

// asyncMessage is §5.6.3's message.
const asyncMessage = "Request queued for processing. Use /api/get_answer with request_id to get results. Use conversation_id to continue the conversation."

// handleCreateConversation is POST /api/create_conversation (continuing
// false) and /api/continue_conversation: 202 at once with request_id and
// conversation_id; the answer is polled with get_answer.
func (s *server) handleCreateConversation(continuing bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		b, err := s.readAsk(w, r, true)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if continuing && b.conversation == "" {
			s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "conversation_id is required"))
			return
		}
		if !continuing {
			b.conversation = ""
		}
		asked, err := s.Conversations.Ask(r.Context(), agents.Ask{Agent: a, Conversation: b.conversation, Content: b.message, Source: "async"})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{
			"request_id": asked.Request, "conversation_id": asked.Conversation, "status": "pending", "message": asyncMessage,
		})
	})
}

// asyncStatus maps a run's status to §7.3's request statuses.
func asyncStatus(s agents.RunStatus) string {
	switch s {
	case agents.RunQueued:
		return "pending"
	case agents.RunRunning:
		return "processing"
	case agents.RunCompleted:
		return "completed"
	}
	return "failed"
}

// handleGetAnswer is GET /api/get_answer?request_id=: pending →
// processing → completed | failed, with the answer (as "answer" and, for
// seed 000's JavaScript example, "response"), tool_calls, iterations,
// conversation_id and error_message.
func (s *server) handleGetAnswer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		id := strings.TrimSpace(r.URL.Query().Get("request_id"))
		if id == "" {
			s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "request_id is required"))
			return
		}
		res, err := s.Conversations.RunResult(r.Context(), a.ID, agents.RunID(id))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := map[string]any{
			"request_id": res.Request, "conversation_id": res.Conversation, "agent_id": a.ID, "status": asyncStatus(res.Status),
			"answer": nil, "response": nil, "tool_calls": []any{}, "iterations": 0, "error_message": nil,
			"created_at": timestamp(res.CreatedAt), "completed_at": nil,
		}
		if res.FinishedAt != nil {
			out["completed_at"] = timestamp(*res.FinishedAt)
			out["answer"], out["response"] = res.Answer, res.Answer
			out["tool_calls"], out["iterations"] = toolCallsView(res.ToolCalls), res.Iterations
			out["usage"] = map[string]int{"input_tokens": res.Usage.InputTokens, "output_tokens": res.Usage.OutputTokens}
		}
		if res.Error != "" && res.Status != agents.RunCompleted {
			out["error_message"] = res.Error
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// handleFindConversation is POST /api/find_conversation {conversation_id}:
// the conversation's messages, oldest first.
func (s *server) handleFindConversation() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		b, err := s.readAsk(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if b.conversation == "" {
			s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "conversation_id is required"))
			return
		}
		chat, msgs, err := s.Conversations.Conversation(r.Context(), a, b.conversation, 200)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]map[string]any, len(msgs))
		for i, m := range msgs {
			out[i] = map[string]any{"id": m.ID, "role": m.Role, "content": m.Content, "status": m.Status, "created_at": timestamp(m.CreatedAt)}
			if m.RunID != "" {
				out[i]["request_id"] = m.RunID
			}
			if m.Error != "" {
				out[i]["error"] = m.Error
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"conversation_id": chat.ID, "agent_id": a.ID, "created_at": timestamp(chat.CreatedAt),
			"message_count": len(out), "messages": out,
		})
	})
}

// handleAgentWebhook is POST /api/webhook/agent/ (§5.3.5): published agents
// only (the key says so); message or text, and payload appended under a
// "[Webhook payload]" section; metadata never reaches the model and is
// echoed in the 202; every call starts a new conversation.
func (s *server) handleAgentWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.keyAgent(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		b, err := s.readAsk(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		content := strings.TrimSpace(b.message)
		if raw, ok := b.obj["payload"]; ok && string(raw) != "null" {
			var p map[string]any
			if json.Unmarshal(raw, &p) != nil || p == nil {
				s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "Invalid value for 'payload': expected a JSON object"))
				return
			}
			pretty, _ := json.MarshalIndent(p, "", "  ")
			if content != "" {
				content += "\n\n"
			}
			content += "[Webhook payload]\n" + string(pretty)
		}
		if content == "" {
			s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "At least one of 'message', 'text' or 'payload' is required"))
			return
		}
		var metadata any
		if raw, ok := b.obj["metadata"]; ok && string(raw) != "null" {
			var m map[string]any
			if json.Unmarshal(raw, &m) != nil || m == nil {
				s.writeAPIError(w, r, workspaces.E(workspaces.KindInvalid, "Invalid value for 'metadata': expected a JSON object"))
				return
			}
			metadata = json.RawMessage(raw)
		}
		asked, err := s.Conversations.Ask(r.Context(), agents.Ask{Agent: a, Content: content, Source: "webhook"})
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]any{
			"request_id": asked.Request, "conversation_id": asked.Conversation, "agent_id": a.ID, "status": "pending",
			"metadata": metadata, "message": "Queued. Poll GET /api/get_answer with request_id for the result.",
		})
	})
}
