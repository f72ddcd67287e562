package gateway

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Seed 003's agent API (POST /create_agent, DELETE /delete_agent, POST
// /get_agent_details, PUT /update_agent) authenticates with "session_id"
// (here: a login JWT) or "api_key" (a user API key, seed 003's trust key)
// in the body; session_id wins when both are sent and it is valid. Its
// errors are {"error": "..."} with the messages the seed lists, word for
// word (they differ between endpoints).

const (
	seed003NoAuth        = "Not authenticated, invalid session id or api key"
	seed003NoAuthDetails = "Not authenticated, invalid session ID or API key"
)

// seed003Error writes {"error": msg}.
func seed003Error(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// seed003Body reads a seed 003 body and authenticates it. On failure it has
// answered and returns ok false.
func (s *server) seed003Body(w http.ResponseWriter, r *http.Request, unauthorized string) (object, workspaces.UserID, bool) {
	obj, err := s.readObject(w, r, true)
	if err != nil {
		status, _ := s.errorStatus(r, err, apiStatus, nil)
		seed003Error(w, status, workspaces.ErrorMessage(err))
		return nil, "", false
	}
	session, _ := obj.str("session_id")
	if session = strings.TrimSpace(session); session != "" {
		if user, _, err := s.Tokens.Verify(session); err == nil {
			return obj, user, true
		}
	}
	key, _ := obj.str("api_key")
	if key = strings.TrimSpace(key); key != "" && workspaces.IsKey(key, workspaces.UserKey) {
		if k, err := s.Workspaces.ResolveKey(r.Context(), key); err == nil {
			return obj, k.UserID, true
		}
	}
	seed003Error(w, http.StatusUnauthorized, unauthorized)
	return nil, "", false
}

// firstStr returns the first of keys present in obj as a string.
func firstStr(obj object, keys ...string) string {
	for _, k := range keys {
		if v, err := obj.str(k); err == nil && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// handleSeed003CreateAgent is POST /create_agent {agent_name, plan,
// region}. The agent uses the server's default model until a script or an
// update picks another. Atrium adds the new agent's id as "agent_id".
func (s *server) handleSeed003CreateAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, user, ok := s.seed003Body(w, r, seed003NoAuth)
		if !ok {
			return
		}
		name, nameErr := obj.str("agent_name")
		plan, planErr := obj.str("plan")
		if nameErr != nil || planErr != nil || strings.TrimSpace(name) == "" || strings.TrimSpace(plan) == "" {
			seed003Error(w, http.StatusBadRequest, "Agent name and plan are required")
			return
		}
		if plan != agents.PlanDecentralized && plan != agents.PlanDedicated {
			seed003Error(w, http.StatusBadRequest, "Invalid plan selection")
			return
		}
		region, err := obj.str("region")
		cfg := map[string]any{"plan": plan}
		if plan == agents.PlanDedicated {
			if err != nil || !slices.Contains(agents.Regions, region) {
				seed003Error(w, http.StatusBadRequest, "Invalid region selection")
				return
			}
			cfg["region"] = region
		}
		model := firstStr(obj, "model")
		if model == "" && s.Catalogue != nil {
			model = s.Catalogue.Default()
		}
		if model == "" {
			model = "echo"
		}
		raw, _ := json.Marshal(cfg)
		a, err := s.Agents.Create(r.Context(), user, agents.NewAgent{Name: name, ModelID: model, Config: string(raw)})
		if err != nil {
			if workspaces.ErrorKind(err) == workspaces.KindInvalid {
				seed003Error(w, http.StatusBadRequest, workspaces.ErrorMessage(err))
				return
			}
			s.errorStatus(r, err, apiStatus, nil)
			seed003Error(w, http.StatusInternalServerError, "Failed to create model")
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"message": "Agent created successfully", "agent_id": a.ID})
	})
}

// handleSeed003DeleteAgent is DELETE /delete_agent {agent_id} (the seed's
// examples also send model_id; both are read).
func (s *server) handleSeed003DeleteAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, user, ok := s.seed003Body(w, r, seed003NoAuth)
		if !ok {
			return
		}
		id := firstStr(obj, "agent_id", "model_id", "modelId")
		if id == "" {
			seed003Error(w, http.StatusBadRequest, "Model ID is required")
			return
		}
		err := s.Agents.Delete(r.Context(), user, agents.ID(id))
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, map[string]string{"message": "Agent deleted successfully"})
		case workspaces.ErrorKind(err) == workspaces.KindNotFound:
			seed003Error(w, http.StatusNotFound, "Model not found or does not belong to you")
		case workspaces.ErrorKind(err) == workspaces.KindInternal:
			s.errorStatus(r, err, apiStatus, nil)
			seed003Error(w, http.StatusInternalServerError, "Failed to delete model")
		default:
			seed003Error(w, http.StatusBadRequest, workspaces.ErrorMessage(err))
		}
	})
}

// handleSeed003AgentDetails is POST /get_agent_details {modelId}.
func (s *server) handleSeed003AgentDetails() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, user, ok := s.seed003Body(w, r, seed003NoAuthDetails)
		if !ok {
			return
		}
		id := firstStr(obj, "modelId", "model_id", "agent_id")
		if id == "" {
			seed003Error(w, http.StatusBadRequest, "Model ID is required")
			return
		}
		a, err := s.Agents.Owned(r.Context(), user, agents.ID(id))
		if workspaces.ErrorKind(err) == workspaces.KindNotFound {
			seed003Error(w, http.StatusNotFound, "Model not found")
			return
		}
		if err != nil {
			s.errorStatus(r, err, apiStatus, nil)
			seed003Error(w, http.StatusInternalServerError, "Failed to fetch model details")
			return
		}
		cfg := a.Settings()
		var apiKey any
		if cfg.APIKeyID != "" {
			keys, err := s.Workspaces.Keys(r.Context(), user, workspaces.UserKey, "")
			if err == nil {
				for _, k := range keys {
					if k.ID == cfg.APIKeyID {
						apiKey = k.Prefix + "…"
					}
				}
			}
		}
		var temp, topP any
		if cfg.Temperature != nil {
			temp = *cfg.Temperature
		}
		if cfg.TopP != nil {
			topP = *cfg.TopP
		}
		var region any
		if cfg.Region != "" {
			region = cfg.Region
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"modelName": a.Name, "creationDate": a.CreatedAt.UTC().Format("2006-01-02 15:04:05"),
			"modelType": nil, "modelProvider": nil, "modelScript": a.Script,
			"plan": cfg.Plan, "region": region, "apiKey": apiKey, "tools": strings.Join(cfg.EnabledTools, ", "),
			"topP": topP, "temperature": temp, "system": cfg.SystemPrompt, "stream": cfg.Stream,
			"agentId": a.ID, "model": a.ModelID, "status": a.Status,
		})
	})
}

// handleSeed003UpdateAgent is PUT /update_agent {modelId, modelName?,
// modelScript?, region?, plan?, tools?, topP?, apiKey?, temperature?,
// system?, stream?}. tools become the agent's enabled_tools; apiKey is one
// of the caller's user keys (the key itself or its id). Atrium also reads
// "model", the catalogue model to answer with.
func (s *server) handleSeed003UpdateAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, user, ok := s.seed003Body(w, r, seed003NoAuth)
		if !ok {
			return
		}
		id := firstStr(obj, "modelId", "model_id", "agent_id")
		if id == "" {
			seed003Error(w, http.StatusBadRequest, "Model ID is required")
			return
		}
		u, err := s.seed003Update(r, user, obj)
		if err != nil {
			seed003Error(w, http.StatusBadRequest, workspaces.ErrorMessage(err))
			return
		}
		// The tools are checked before anything is saved: a refused update
		// changes nothing.
		var toolIDs []int64
		setTools := false
		if raw, ok := u.Config["enabled_tools"]; ok && s.CustomTools != nil {
			var names []string
			json.Unmarshal(raw, &names)
			if toolIDs, err = s.CustomTools.Named(r.Context(), user, names); err != nil {
				seed003Error(w, http.StatusBadRequest, workspaces.ErrorMessage(err))
				return
			}
			setTools = true
		}
		a, err := s.Agents.Update(r.Context(), user, agents.ID(id), u)
		if err == nil && setTools {
			err = s.CustomTools.SetIDs(r.Context(), a, toolIDs)
		}
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, map[string]string{"message": "Model updated successfully"})
		case workspaces.ErrorKind(err) == workspaces.KindNotFound:
			seed003Error(w, http.StatusNotFound, "Model not found or does not belong to you")
		case workspaces.ErrorKind(err) == workspaces.KindInternal:
			s.errorStatus(r, err, apiStatus, nil)
			seed003Error(w, http.StatusInternalServerError, "Failed to update model")
		default:
			seed003Error(w, http.StatusBadRequest, workspaces.ErrorMessage(err))
		}
	})
}

// seed003Update turns update_agent's fields into an agent update.
func (s *server) seed003Update(r *http.Request, user workspaces.UserID, obj object) (agents.AgentUpdate, error) {
	var u agents.AgentUpdate
	var err error
	if u.Name, err = obj.optStr("modelName"); err != nil {
		return u, err
	}
	if u.Script, err = obj.optStr("modelScript"); err != nil {
		return u, err
	}
	if u.ModelID, err = obj.optStr("model"); err != nil {
		return u, err
	}
	cfg := map[string]json.RawMessage{}
	for from, to := range map[string]string{"region": "region", "plan": "plan", "topP": "top_p", "temperature": "temperature", "system": "system_prompt", "stream": "stream"} {
		if raw, ok := obj[from]; ok {
			cfg[to] = raw
		}
	}
	if raw, ok := obj["tools"]; ok && string(raw) != "null" {
		var tools []string
		if json.Unmarshal(raw, &tools) != nil {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				return u, workspaces.E(workspaces.KindInvalid, "Invalid value for 'tools': expected a list of tool names")
			}
			for _, t := range strings.Split(one, ",") {
				if t = strings.TrimSpace(t); t != "" {
					tools = append(tools, t)
				}
			}
		}
		b, _ := json.Marshal(tools)
		cfg["enabled_tools"] = b
	}
	if key, err := obj.optStr("apiKey"); err != nil {
		return u, err
	} else if key != nil {
		keyID, err := s.userKeyID(r, user, strings.TrimSpace(*key))
		if err != nil {
			return u, err
		}
		b, _ := json.Marshal(keyID)
		cfg["api_key_id"] = b
	}
	if len(cfg) > 0 {
		u.Config = cfg
	}
	return u, nil
}

// userKeyID finds one of user's keys by its secret or its id.
func (s *server) userKeyID(r *http.Request, user workspaces.UserID, key string) (string, error) {
	if workspaces.IsKey(key, workspaces.UserKey) {
		k, err := s.Workspaces.ResolveKey(r.Context(), key)
		if err != nil || k.UserID != user {
			return "", workspaces.E(workspaces.KindInvalid, "Invalid value for 'apiKey': not one of your API keys")
		}
		return k.ID, nil
	}
	keys, err := s.Workspaces.Keys(r.Context(), user, workspaces.UserKey, "")
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		if k.ID == key {
			return k.ID, nil
		}
	}
	return "", workspaces.E(workspaces.KindInvalid, "Invalid value for 'apiKey': not one of your API keys")
}
