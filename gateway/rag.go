package gateway

import (
	"net/http"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/rag"
	"github.com/atrium-hq/atrium/workspaces"
)

// An agent's training data and RAG index (seed 000 §9), for its owner:
// GET/POST /api/agents/{id}/training_data/ lists and adds documents ({title?,
// content} or {file_id, title?} naming one of the agent's files), DELETE
// /api/agents/{id}/training_data/{doc_id}/ removes one; POST
// /api/agents/{id}/index_rag/ (re)builds the index in the background, GET
// /api/agents/{id}/rag_status/ tells how that went.

func (s *server) ragReady(w http.ResponseWriter, r *http.Request) bool {
	if s.RAG == nil {
		s.writeAPIError(w, r, workspaces.E(workspaces.KindUnavailable, "RAG is not available on this server"))
		return false
	}
	return true
}

func trainingDocView(d rag.Document) map[string]any {
	return map[string]any{"id": d.ID, "agent_id": d.Agent, "title": d.Title, "file_id": d.FileID,
		"bytes": d.Bytes, "created_at": timestamp(d.CreatedAt)}
}

// handleListTrainingData is GET /api/agents/{id}/training_data/.
func (s *server) handleListTrainingData() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ragReady(w, r) {
			return
		}
		docs, err := s.RAG.Documents(r.Context(), userOf(r), agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]map[string]any, len(docs))
		for i, d := range docs {
			out[i] = trainingDocView(d)
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "results": out})
	})
}

// handleAddTrainingData is POST /api/agents/{id}/training_data/.
func (s *server) handleAddTrainingData() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ragReady(w, r) {
			return
		}
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var title, content, fileID string
		for key, dst := range map[string]*string{"title": &title, "content": &content, "file_id": &fileID} {
			if *dst, err = obj.str(key); err != nil {
				s.writeAPIError(w, r, err)
				return
			}
		}
		var d rag.Document
		switch {
		case fileID != "" && content != "":
			err = workspaces.E(workspaces.KindInvalid, "Give either 'content' or 'file_id', not both")
		case fileID != "":
			d, err = s.RAG.AddFile(r.Context(), userOf(r), agents.ID(r.PathValue("id")), fileID, title)
		default:
			d, err = s.RAG.AddDocument(r.Context(), userOf(r), agents.ID(r.PathValue("id")), title, content)
		}
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, trainingDocView(d))
	})
}

// handleDeleteTrainingData is DELETE /api/agents/{id}/training_data/{doc_id}/.
func (s *server) handleDeleteTrainingData() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ragReady(w, r) {
			return
		}
		if err := s.RAG.DeleteDocument(r.Context(), userOf(r), agents.ID(r.PathValue("id")), r.PathValue("doc_id")); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleIndexRAG is POST /api/agents/{id}/index_rag/: 202 while the index
// is built in the background.
func (s *server) handleIndexRAG() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ragReady(w, r) {
			return
		}
		st, err := s.RAG.Index(r.Context(), userOf(r), agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		body := s.ragStatusView(st)
		body["message"] = "Indexing started; GET /api/agents/" + string(st.Agent) + "/rag_status/ tells when it is done"
		writeJSON(w, http.StatusAccepted, body)
	})
}

// handleRAGStatus is GET /api/agents/{id}/rag_status/.
func (s *server) handleRAGStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ragReady(w, r) {
			return
		}
		st, err := s.RAG.Status(r.Context(), userOf(r), agents.ID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, s.ragStatusView(st))
	})
}

func (s *server) ragStatusView(st rag.Status) map[string]any {
	opt := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return timestamp(*t)
	}
	return map[string]any{"agent_id": st.Agent, "use_rag": st.UseRAG, "status": st.State, "version": st.Version,
		"documents": st.Documents, "chunks": st.Chunks, "embedding_model": st.Embedder, "vector_store": st.Backend, "error": st.Error,
		"started_at": opt(st.StartedAt), "indexed_at": opt(st.IndexedAt), "server_embedding_model": s.RAG.EmbedderName()}
}
