package gateway_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// TestRAGTrainingDataIndexAndAnswers drives seed 000 §9 over HTTP: training
// data written and read from an uploaded file (HTML), POST index_rag, GET
// rag_status until indexed, and an agent with use_rag answering with the
// passages its question finds (the echo model counts the words it was
// given, so the request log shows them).
func TestRAGTrainingDataIndexAndAnswers(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, ownerID := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{"use_rag": true}`)
	base := "/api/agents/" + id + "/"

	st, body := e.do(t, "GET", base+"rag_status/", owner, "")
	if st != 200 || body["status"] != "not_indexed" || body["use_rag"] != true || body["server_embedding_model"] != "hash-512" {
		t.Fatalf("status before = %d %v", st, body)
	}
	st, body = e.do(t, "POST", base+"training_data/", owner, `{"title":"Refund policy","content":"Refunds are paid within fourteen days of the return, to the card that paid."}`)
	if st != 201 || body["title"] != "Refund policy" || body["bytes"] != float64(75) {
		t.Fatalf("add text = %d %v", st, body)
	}
	// A file uploaded with the agent's key, added by its id.
	hdr := map[string]string{"Authorization": "ApiKey " + key, "Content-Type": "text/html"}
	resp, up := e.raw(t, "PUT", "/api/upload_file?filename=hours.html", hdr,
		`<html><head><title>x</title><style>p{}</style></head><body><h1>Opening hours</h1><p>The shop opens at nine &amp; closes at six.</p></body></html>`)
	if resp.StatusCode != 201 {
		t.Fatalf("upload = %d %v", resp.StatusCode, up)
	}
	fileID := str(t, obj(t, up, "data"), "file_id")
	st, body = e.do(t, "POST", base+"training_data/", owner, `{"file_id":"`+fileID+`"}`)
	if st != 201 || body["title"] != "hours.html" || body["file_id"] != fileID {
		t.Fatalf("add file = %d %v", st, body)
	}
	for _, bad := range []struct {
		body string
		code int
		want string
	}{
		{`{"content":""}`, 400, "non-empty"},
		{`{"content":"x","file_id":"` + fileID + `"}`, 400, "either"},
		{`{"file_id":"0123456789abcdef0123456789abcdef"}`, 404, "File not found"},
		{`{"content":5}`, 400, "expected a string"},
		{`{"title":"a\u0000b","content":"x"}`, 400, "NUL"},
	} {
		st, body := e.do(t, "POST", base+"training_data/", owner, bad.body)
		wantAPIError(t, bad.body, st, body, bad.code, bad.want)
	}
	// An id that is no id (a NUL byte was a 500: Bun refuses it).
	for _, id := range []string{"a%00b", "%00", "x%27%3B--"} {
		st, body := e.do(t, "DELETE", base+"training_data/"+id+"/", owner, "")
		wantAPIError(t, "DELETE training_data/"+id, st, body, 404, "not found")
	}
	stranger, _ := e.user(t, "stranger@x.io")
	for _, path := range []string{"training_data/", "rag_status/"} {
		st, body := e.do(t, "GET", base+path, stranger, "")
		wantAPIError(t, "a stranger's "+path, st, body, 404, "Agent not found")
	}
	if st, body := e.do(t, "POST", base+"index_rag/", stranger, ""); st != 404 {
		t.Fatalf("a stranger's index_rag = %d %v", st, body)
	}

	st, body = e.do(t, "POST", base+"index_rag/", owner, "")
	if st != 202 || body["status"] != "indexing" {
		t.Fatalf("index_rag = %d %v", st, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for body["status"] == "indexing" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		_, body = e.do(t, "GET", base+"rag_status/", owner, "")
	}
	if body["status"] != "indexed" || body["documents"] != float64(2) || body["chunks"] != float64(2) || body["embedding_model"] != "hash-512" ||
		body["version"] != float64(1) || body["indexed_at"] == nil {
		t.Fatalf("rag_status = %v", body)
	}
	st, list := e.do(t, "GET", base+"training_data/", owner, "")
	if st != 200 || list["count"] != float64(2) {
		t.Fatalf("list = %d %v", st, list)
	}

	// A question that shares words with a document gets its passage: the
	// model is given far more words than the question has.
	ctx := context.Background()
	a, err := e.ag.Agent(ctx, workspaces.UserID(ownerID), agents.ID(id))
	if err != nil {
		t.Fatal(err)
	}
	words := func(q string) int {
		t.Helper()
		if st, body := e.withKey(t, "POST", "/api/v1/query", key, `{"message":"`+q+`"}`); st != 200 {
			t.Fatalf("query = %d %v", st, body)
		}
		logs, _, err := e.ag.History(ctx, a, "", 1)
		if err != nil || len(logs) != 1 || logs[0].Prompt != q {
			t.Fatalf("history = %+v, %v", logs, err)
		}
		return logs[0].Usage.InputTokens
	}
	if n := words("When are refunds paid?"); n < 20 {
		t.Fatalf("the model got %d words: no passage", n)
	}
	if n := words("shop hours"); n < 15 {
		t.Fatalf("the model got %d words for the file's question: no passage", n)
	}

	// Seed 003's File Search tool searches the same documents, and the
	// answer names it in data.file_searches.
	if st, body := e.do(t, "POST", base+"tools/", owner, `{"name":"Terms_Search","description":"Search the policies","type":"File Search"}`); st != 201 {
		t.Fatalf("add a File Search tool = %d %v", st, body)
	}
	st, raw, _ := e.send(t, "POST", "/v2/"+id, map[string]string{"Authorization": key, "Content-Type": "application/json"},
		`{"message":{"role":"user","content":"/tool Terms_Search {\"query\":\"refunds paid\"}"}}`)
	var v2 struct {
		Status string
		Data   struct {
			Response     string
			FileSearches []string `json:"file_searches"`
		}
	}
	if err := json.Unmarshal([]byte(raw), &v2); err != nil || st != 200 || !slices.Equal(v2.Data.FileSearches, []string{"Terms_Search"}) ||
		!strings.Contains(v2.Data.Response, "Refunds are paid within fourteen days") {
		t.Fatalf("v2 with a file search = %d %s", st, raw)
	}
	// Without a File Search call, no file_searches.
	st, raw, _ = e.send(t, "POST", "/v2/"+id, map[string]string{"Authorization": key, "Content-Type": "application/json"}, `{"message":{"role":"user","content":"hello"}}`)
	if st != 200 || strings.Contains(raw, "file_searches") {
		t.Fatalf("v2 without a file search = %d %s", st, raw)
	}

	// Deleting a document leaves the index as it is until it is rebuilt.
	docID := str(t, list["results"].([]any)[0].(map[string]any), "id")
	if st, _, _ := e.send(t, "DELETE", base+"training_data/"+docID+"/", map[string]string{"Authorization": "Bearer " + owner}, ""); st != 204 {
		t.Fatalf("delete = %d", st)
	}
	if st, body := e.do(t, "GET", base+"rag_status/", owner, ""); st != 200 || body["documents"] != float64(2) || body["status"] != "indexed" {
		t.Fatalf("status after a delete = %v", body)
	}
}
