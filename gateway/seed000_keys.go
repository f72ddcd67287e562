package gateway

import (
	"net/http"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// keyView is an API key as its owner sees it (seed 003's trust-keys page:
// name, created, last used). The key itself is in "key", in the answer
// that creates it only.
func keyView(k workspaces.APIKey) map[string]any {
	v := map[string]any{"id": k.ID, "name": k.Name, "prefix": k.Prefix, "created_at": timestamp(k.CreatedAt), "last_used_at": nil}
	if k.AgentID != "" {
		v["agent_id"] = k.AgentID
	}
	if k.LastUsedAt != nil {
		v["last_used_at"] = timestamp(*k.LastUsedAt)
	}
	if k.Secret != "" {
		v["key"] = k.Secret
	}
	return v
}

func keyList(keys []workspaces.APIKey) map[string]any {
	out := make([]map[string]any, len(keys))
	for i, k := range keys {
		out[i] = keyView(k)
	}
	return map[string]any{"count": len(out), "next": nil, "previous": nil, "results": out}
}

// keyName reads the optional "name" of a new key.
func (s *server) keyName(w http.ResponseWriter, r *http.Request) (string, error) {
	obj, err := s.readObject(w, r, true)
	if err != nil {
		return "", err
	}
	return obj.str("name")
}

// handleCreateUserKey is POST /api/keys/: a new user API key, shown once.
func (s *server) handleCreateUserKey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := s.keyName(w, r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		k, err := s.Workspaces.CreateKey(r.Context(), userOf(r), workspaces.UserKey, "", name)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, keyView(k))
	})
}

// handleListUserKeys is GET /api/keys/.
func (s *server) handleListUserKeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys, err := s.Workspaces.Keys(r.Context(), userOf(r), workspaces.UserKey, "")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, keyList(keys))
	})
}

// handleDeleteUserKey is DELETE /api/keys/{id}/: revoked at once.
func (s *server) handleDeleteUserKey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Workspaces.DeleteKey(r.Context(), userOf(r), workspaces.UserKey, "", r.PathValue("id")); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleCreateAgentKey is POST /api/agents/{id}/api-keys/: published agents
// only (seed 000 §5.5.2).
func (s *server) handleCreateAgentKey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := s.keyName(w, r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		k, err := s.Agents.CreateKey(r.Context(), userOf(r), agents.ID(r.PathValue("id")), name)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, keyView(k))
	})
}

// handleListAgentKeys is GET /api/agents/{id}/api-keys/.
func (s *server) handleListAgentKeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys, err := s.Agents.Keys(r.Context(), userOf(r), agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, keyList(keys))
	})
}

// handleDeleteAgentKey is DELETE /api/agents/{id}/api-keys/{key_id}/.
func (s *server) handleDeleteAgentKey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Agents.DeleteKey(r.Context(), userOf(r), agents.ID(r.PathValue("id")), r.PathValue("key_id")); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
