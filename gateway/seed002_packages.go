package gateway

import (
	"net/http"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// handleDownloadPackage is seed 002's GET /agent/download?query=&version=:
// it installs the package's agent (latest version when version is omitted)
// into the caller's account as a draft. The answers are seed 002's: bare
// JSON strings, except the missing-query error. The new agent is named in
// the Location header.
func (s *server) handleDownloadPackage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		name, version := strings.TrimSpace(q.Get("query")), strings.TrimSpace(q.Get("version"))
		if name == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Missing param 'query'"})
			return
		}
		ref := name + ":" + version
		if version == "" {
			ref = name + ":latest"
		}
		p, err := s.Agents.FindPackage(r.Context(), name, version)
		if workspaces.ErrorKind(err) == workspaces.KindNotFound {
			writeJSON(w, http.StatusNotFound, "Package not found: "+ref)
			return
		}
		if err == nil {
			var a agents.Agent
			if a, err = s.Agents.Install(r.Context(), userOf(r), p); err == nil {
				w.Header().Set("Location", "/api/agents/"+string(a.ID)+"/")
				writeJSON(w, http.StatusOK, "Successfully installed "+p.Name+":"+p.Version)
				return
			}
		}
		status, _ := s.errorStatus(r, err, msgStatus, nil)
		writeJSON(w, status, "Failed to download package: "+ref+", "+workspaces.ErrorMessage(err))
	})
}

// handlePublishPackage is POST /api/agents/{id}/packages/ {version, name?}:
// Atrium's way to publish what /agent/download installs.
func (s *server) handlePublishPackage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		name, err := obj.str("name")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		version, err := obj.str("version")
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		p, err := s.Agents.PublishPackage(r.Context(), userOf(r), agents.ID(r.PathValue("id")), name, version)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{
			"name": p.Name, "version": p.Version, "agent_id": p.AgentID, "created_at": timestamp(p.CreatedAt),
			"download": "/agent/download?query=" + p.Name + "&version=" + p.Version,
		})
	})
}
