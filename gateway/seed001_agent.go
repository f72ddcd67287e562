package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// The OpenAI-compatible API's agent path: "model" names an agent (seed
// 001: "your agent or model id"). The agent answers as it does everywhere
// — its system prompt, memory, tools, script — in a new API conversation
// per request (the request carries the whole conversation, as OpenAI's
// does), through the run queue. A client that leaves stops waiting; the
// run goes on and its answer stays in the conversation. The owner pays for
// the run, as for every run of the agent.

// agentTarget resolves model to an agent the caller may use: the agent
// of an agent API key, or an agent the user owns.
func (s *server) agentTarget(r *http.Request, c apiCaller, model string) (modelTarget, bool, error) {
	if c.AgentKey != "" {
		a, _, err := s.Agents.ResolveKey(r.Context(), c.AgentKey)
		if err != nil {
			return modelTarget{}, true, &oaiError{Status: http.StatusUnauthorized, Type: oaiAuthentication, Code: "invalid_api_key",
				Message: "Incorrect API key provided: " + workspaces.ErrorMessage(err) + "."}
		}
		if model != string(a.ID) && !strings.EqualFold(model, a.Name) {
			// The key is valid; the model is not one it reaches: OpenAI's
			// 404 for a model the caller has no access to, not a 401 that
			// makes clients think the key is wrong.
			return modelTarget{}, true, &oaiError{Status: http.StatusNotFound, Type: oaiInvalidRequest, Code: "model_not_found", Param: "model",
				Message: "The model '" + model + "' does not exist or you do not have access to it: an agent API key (ata_…) reaches only its own agent (model '" + string(a.ID) + "')."}
		}
		return s.agentModel(a), true, nil
	}
	if !workspaces.ValidID(model) || s.Conversations == nil {
		return modelTarget{}, false, nil
	}
	if s.Catalogue != nil {
		// A catalogue model's name is no agent's id (those are generated):
		// no need to look.
		if _, ok := s.Catalogue.Lookup(model); ok {
			return modelTarget{}, false, nil
		}
	}
	a, err := s.Agents.Owned(r.Context(), c.User, agents.ID(model))
	if err != nil {
		return modelTarget{}, false, nil // not the caller's agent: the catalogue decides
	}
	return s.agentModel(a), true, nil
}

func (s *server) agentModel(a agents.Agent) modelTarget {
	return modelTarget{Name: string(a.ID), Provider: agentProvider{conv: s.Conversations, agent: a}, Upstream: string(a.ID), Agent: true}
}

// askedKey is the context key of a func(agents.RunID) that agentProvider
// calls with the request id of the run answering: the completion takes it
// as its id ("chatcmpl-<request id>"), so that a client that leaves can
// fetch the answer, which the run goes on to store, with
// GET /api/get_answer?request_id=.
type askedKey struct{}

// agentCompletionID is the id of a completion that run answers.
func agentCompletionID(chat bool, run agents.RunID) string {
	if chat {
		return "chatcmpl-" + string(run)
	}
	return "cmpl-" + string(run)
}

// agentProvider answers OpenAI requests with an agent, as a Provider so
// the OpenAI handlers stream it like a model.
type agentProvider struct {
	conv  *agents.Conversations
	agent agents.Agent
}

var _ agents.Provider = agentProvider{}

func (p agentProvider) Stream(ctx context.Context, req agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	var msgs []agents.ModelMessage
	for _, m := range req.Messages {
		if (m.Role == agents.RoleUser || m.Role == agents.RoleAssistant || m.Role == agents.RoleSystem) && strings.TrimSpace(m.Content) != "" {
			msgs = append(msgs, agents.ModelMessage{Role: m.Role, Content: m.Content})
		}
	}
	if req.System != "" {
		msgs = append([]agents.ModelMessage{{Role: agents.RoleSystem, Content: req.System}}, msgs...)
	}
	if len(msgs) == 0 || msgs[len(msgs)-1].Role != agents.RoleUser {
		return agents.ModelResponse{}, workspaces.E(workspaces.KindInvalid, "An agent answers a conversation that ends with a user message")
	}
	asked, err := p.conv.Ask(ctx, agents.Ask{Agent: p.agent, Preamble: msgs[:len(msgs)-1], Content: msgs[len(msgs)-1].Content, Source: agents.SourceOpenAI})
	if err != nil {
		return agents.ModelResponse{}, err
	}
	if fn, ok := ctx.Value(askedKey{}).(func(agents.RunID)); ok {
		fn(asked.Request)
	}
	res, err := p.conv.Await(ctx, p.agent.ID, asked.Workspace, asked.Conversation, asked.Request, asked.Seq, func(text string) error {
		return emit(agents.Delta{Text: text})
	})
	if err != nil {
		return agents.ModelResponse{}, err
	}
	if res.Status != agents.RunCompleted {
		return agents.ModelResponse{Text: res.Answer}, &agents.ModelError{Provider: "agent", Code: string(res.Status), Message: res.Error}
	}
	return agents.ModelResponse{Text: res.Answer, FinishReason: agents.FinishStop, Usage: res.Usage}, nil
}
