package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/workspaces"
)

// /mcp offers published agents as tools of an MCP server (Streamable
// HTTP), so any MCP client can call them: with an agent API key, that
// agent; with a user API key or a login token, each of the user's
// published agents. Every request is authenticated on its own.

// handleMCP is /mcp.
func (s *server) handleMCP() http.Handler {
	inner := mcp.NewAgentServer(mcpAsker{s}, s.Logger)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Conversations == nil {
			s.writeAPIError(w, r, workspaces.E(workspaces.KindUnavailable, "Agents are not served by this node"))
			return
		}
		list, err := s.mcpAgents(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="atrium"`)
			s.writeAPIError(w, r, err)
			return
		}
		inner.ServeHTTP(w, r.WithContext(mcp.WithAgents(r.Context(), list)))
	})
}

// mcpAgents returns the published agents r's credentials reach.
func (s *server) mcpAgents(r *http.Request) ([]agents.Agent, error) {
	if key := agentKey(r); key != "" {
		a, _, err := s.Agents.ResolveKey(r.Context(), key)
		if err != nil {
			return nil, err
		}
		return []agents.Agent{a}, nil
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, workspaces.E(workspaces.KindUnauthenticated, "Missing credentials: send 'Authorization: Bearer <API key or token>' or an agent's 'X-API-Key'")
	}
	user, err := s.bearerUser(r, strings.TrimSpace(token))
	if err != nil {
		return nil, err
	}
	all, err := s.Agents.List(r.Context(), user)
	if err != nil {
		return nil, err
	}
	var out []agents.Agent
	for _, a := range all {
		if a.Status == agents.StatusPublished {
			out = append(out, a)
		}
	}
	return out, nil
}

// mcpAsker answers /mcp's tool calls with the agents' API conversations.
type mcpAsker struct{ s *server }

// Ask sends message to a (continuing conversation when set) and waits for
// the answer.
func (m mcpAsker) Ask(ctx context.Context, a agents.Agent, conversation, message string) (mcp.Answer, error) {
	asked, err := m.s.Conversations.Ask(ctx, agents.Ask{Agent: a, Conversation: workspaces.ChatID(conversation), Content: message, Source: "mcp"})
	if err != nil {
		return mcp.Answer{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, syncAnswerTimeout)
	defer cancel()
	res, err := m.s.Conversations.Await(ctx, a.ID, asked.Workspace, asked.Conversation, asked.Request, asked.Seq, nil)
	if err != nil {
		return mcp.Answer{}, workspaces.E(workspaces.KindUnavailable, "The agent is still answering; request "+string(asked.Request))
	}
	if res.Status != agents.RunCompleted {
		return mcp.Answer{}, workspaces.E(workspaces.KindUnavailable, "The agent could not answer: "+res.Error)
	}
	return mcp.Answer{Text: res.Answer, ConversationID: string(asked.Conversation)}, nil
}
