package gateway

import (
	"net/http"

	"github.com/atrium-hq/atrium/agents"
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

// handleListModels is GET /v1/models: the model catalogue as OpenAI's
// list of models. It needs no credentials: it lists no one's data.
func (s *server) handleListModels() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data := []map[string]any{}
		if s.Catalogue != nil {
			for _, m := range s.Catalogue.Models() {
				data = append(data, modelView(s.Catalogue, m))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
	})
}

// handleGetModel is GET /v1/models/{model}.
func (s *server) handleGetModel() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Catalogue != nil {
			if m, ok := s.Catalogue.Lookup(r.PathValue("model")); ok {
				writeJSON(w, http.StatusOK, modelView(s.Catalogue, m))
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"message": "The model '" + r.PathValue("model") + "' does not exist", "type": "invalid_request_error", "param": "model", "code": "model_not_found",
		}})
	})
}
