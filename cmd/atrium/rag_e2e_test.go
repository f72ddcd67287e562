package main

import (
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/qdrant/qdranttest"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

// TestServeRAGWithQdrant runs atrium with QDRANT_URL: readiness checks
// Qdrant, an agent's training data is indexed into it, and its status says
// where the vectors are, and a question to the agent is searched there.
func TestServeRAGWithQdrant(t *testing.T) {
	t.Parallel()
	qurl, qsrv := qdranttest.NewWithKey(t, "q-secret")
	n := startNode(t, []string{
		"ATRIUM_ADDR=127.0.0.1:0",
		"ATRIUM_DATA_DIR=" + t.TempDir(),
		"DATABASE_URL=" + sqldbtest.URL(t),
		"ATRIUM_LOG_LEVEL=warn",
		"QDRANT_URL=" + qurl,
		"QDRANT_API_KEY=q-secret",
	})
	st, body := call(t, "GET", n.url+"/readyz", "", "")
	if checks, _ := body["checks"].(map[string]any); st != 200 || checks["qdrant"] != "ok" {
		t.Fatalf("readyz = %d %v", st, body)
	}
	call(t, "POST", n.url+"/register", "", `{"email":"rag@example.com","password":"securepassword123"}`)
	_, body = call(t, "POST", n.url+"/auth/login", "", `{"email":"rag@example.com","password":"securepassword123"}`)
	token, _ := body["access_token"].(string)
	st, body = call(t, "POST", n.url+"/api/agents/", token, `{"name":"Docs","model_id":"echo","configuration":{"use_rag":true}}`)
	id, _ := body["id"].(string)
	if st != 201 || id == "" {
		t.Fatalf("create agent = %d %v", st, body)
	}
	base := n.url + "/api/agents/" + id + "/"
	if st, body := call(t, "POST", base+"training_data/", token, `{"title":"Hours","content":"The shop opens at nine and closes at six."}`); st != 201 {
		t.Fatalf("training data = %d %v", st, body)
	}
	if st, body := call(t, "POST", base+"index_rag/", token, ""); st != 202 {
		t.Fatalf("index_rag = %d %v", st, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for body["status"] != "indexed" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		_, body = call(t, "GET", base+"rag_status/", token, "")
	}
	if body["status"] != "indexed" || body["vector_store"] != "qdrant" || body["embedding_model"] != "hash-512" || qsrv.Points("atrium_rag") != 1 {
		t.Fatalf("rag_status = %v (%d points in Qdrant)", body, qsrv.Points("atrium_rag"))
	}
	// A question to the agent is searched in Qdrant.
	if st, body := call(t, "POST", base+"chat/", token, `{"message":"when does the shop open"}`); st != 200 || body["response"] == "" {
		t.Fatalf("chat = %d %v", st, body)
	}
	var searched bool
	for _, r := range qsrv.Requests() {
		searched = searched || strings.HasSuffix(r, "/points/query")
	}
	if !searched {
		t.Fatalf("the question was not searched in Qdrant: %q", qsrv.Requests())
	}
}
