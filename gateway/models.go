package gateway

import (
	"net/http"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// modelView is a catalogue model in OpenAI's model object shape, with the
// catalogue's fields added (seed 003's availability and prices).
func modelView(c *agents.Catalogue, m agents.Model) map[string]any {
	return map[string]any{
		"id": m.Name, "object": "model", "created": 0, "owned_by": m.Upstream,
		"catalogue_id": m.ID, "provider": m.Upstream, "availability": m.Availability, "available": c.Available(m.Name),
		"description": m.Description,
		"pricing": map[string]any{
			"decentralized_per_hundred_queries": m.DecentralizedPrice,
			"input_per_million_tokens":          m.InputPrice, "output_per_million_tokens": m.OutputPrice, "unit": "credits",
		},
	}
}

// agentModelView is an agent as an OpenAI model: "model" may name it.
func agentModelView(a agents.Agent) map[string]any {
	return map[string]any{"id": a.ID, "object": "model", "created": a.CreatedAt.Unix(), "owned_by": "atrium", "agent": true, "name": a.Name}
}

// modelsCaller authenticates a models request and returns the agents its
// credentials may ask as models: a user's own, or an agent key's one
// agent. Like every request of seed 001, listing needs credentials (and
// clients check a key by listing the models); it does not count against
// the rate limit, so a client that lists the models first does not spend
// its requests on it.
func (s *server) modelsCaller(r *http.Request) ([]agents.Agent, error) {
	c, err := s.oaiIdentity(r)
	if err != nil || s.Agents == nil {
		return nil, err
	}
	if c.AgentKey != "" {
		a, _, err := s.Agents.ResolveKey(r.Context(), c.AgentKey)
		if err != nil {
			return nil, &oaiError{Status: http.StatusUnauthorized, Type: oaiAuthentication, Code: "invalid_api_key",
				Message: "Incorrect API key provided: " + workspaces.ErrorMessage(err) + "."}
		}
		return []agents.Agent{a}, nil
	}
	list, err := s.Agents.List(r.Context(), c.User)
	if err != nil {
		s.Logger.Warn("list agents as models", "err", err)
		return nil, nil
	}
	return list, nil
}

// handleListModels is GET /v1/models: the model catalogue as OpenAI's
// list of models, and the agents the caller may ask by id.
func (s *server) handleListModels() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mine, err := s.modelsCaller(r)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		data := []map[string]any{}
		if s.Catalogue != nil {
			for _, m := range s.Catalogue.Models() {
				data = append(data, modelView(s.Catalogue, m))
			}
		}
		for _, a := range mine {
			data = append(data, agentModelView(a))
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
	})
}

// handleGetModel is GET /v1/models/{model}: a catalogue model, or one of
// the caller's agents.
func (s *server) handleGetModel() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mine, err := s.modelsCaller(r)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		if s.Catalogue != nil {
			if m, ok := s.Catalogue.Lookup(r.PathValue("model")); ok {
				writeJSON(w, http.StatusOK, modelView(s.Catalogue, m))
				return
			}
		}
		for _, a := range mine {
			if string(a.ID) == r.PathValue("model") {
				writeJSON(w, http.StatusOK, agentModelView(a))
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"message": "The model '" + r.PathValue("model") + "' does not exist", "type": oaiInvalidRequest, "param": "model", "code": "model_not_found",
		}})
	})
}
