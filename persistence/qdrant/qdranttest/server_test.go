package qdranttest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/persistence/qdrant/qdranttest"
)

// do sends body (JSON, "" for none) and returns the status and the
// answer's body.
func do(t *testing.T, method, url, key, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// errorOf is status.error of a Qdrant error answer, "" when body is not one.
func errorOf(body string) string {
	var a struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	json.Unmarshal([]byte(body), &a)
	return a.Status.Error
}

// TestRefusals checks that requests the server does not understand get
// Qdrant's error answer.
func TestRefusals(t *testing.T) {
	t.Parallel()
	url, _ := qdranttest.New(t)
	c := url + "/collections/c"
	if code, body := do(t, "PUT", c, "", `{"vectors":{"size":2,"distance":"Cosine"}}`); code != 200 || !strings.Contains(body, `"result":true`) {
		t.Fatalf("create: %d %s", code, body)
	}
	for _, tc := range []struct {
		method, url, body string
		code              int
		want              string
	}{
		{"GET", url + "/cluster", "", 404, "Not found"},
		{"PATCH", c, `{}`, 404, "Not found"},
		{"GET", url + "/collections/nope", "", 404, "Not found: Collection `nope` doesn't exist!"},
		{"PUT", c, `{"vectors":{"size":2,"distance":"Cosine"}}`, 409, "Wrong input: Collection `c` already exists!"},
		{"PUT", url + "/collections/d", `{"vectors":{"size":2,"distance":"Cosine","on_disk":true}}`, 400, "Format error in JSON body"},
		{"PUT", url + "/collections/d", `{"vectors":{"size":0,"distance":"Cosine"}}`, 422, "Validation error"},
		{"PUT", c + "/points?wait=true", `{"points":[{"id":1,"vector":[1,2]}],"extra":1}`, 400, "unknown field"},
		{"PUT", c + "/points?wait=maybe", `{"points":[]}`, 400, "Query deserialize error"},
		{"PUT", c + "/points?sync=1", `{"points":[]}`, 400, "Query deserialize error"},
		{"PUT", c + "/points", `{"points":[{"id":"not-a-uuid","vector":[1,2]}]}`, 400, "not a valid point ID"},
		{"PUT", c + "/points", `{"points":[{"id":1,"vector":[1,2,3]}]}`, 400, "Vector dimension error: expected dim: 2, got 3"},
		{"POST", c + "/points/query", `{"query":[1,0],"filter":{"must":[{"key":"v","range":{"gt":1}}]}}`, 400, "unknown field"},
		{"POST", c + "/points/query", `{"query":[1,0],"filter":{"must":[{"key":"v","match":{"value":1.5}}]}}`, 400, "not a string, an integer or a boolean"},
		{"POST", c + "/points/query", `{"query":{"recommend":{"positive":[1]}}}`, 400, "nearest-vector queries only"},
		{"POST", c + "/points/query", `{"query":[1,0],"limit":0}`, 422, "Validation error"},
		{"POST", c + "/points/delete", `{}`, 400, "either points or filter"},
	} {
		code, body := do(t, tc.method, tc.url, "", tc.body)
		if code != tc.code || !strings.Contains(errorOf(body), tc.want) {
			t.Errorf("%s %s %s: %d %s; want %d with %q", tc.method, tc.url, tc.body, code, body, tc.code, tc.want)
		}
	}
}

// TestQueryAnswer checks the query API's answer shape and filters.
func TestQueryAnswer(t *testing.T) {
	t.Parallel()
	url, srv := qdranttest.New(t)
	c := url + "/collections/c"
	do(t, "PUT", c, "", `{"vectors":{"size":2,"distance":"Cosine"}}`)
	code, body := do(t, "PUT", c+"/points?wait=true", "", `{"points":[
		{"id":"5C56C793-69F3-4FBF-87E6-C4BF54C28C26","vector":[3,4],"payload":{"tag":["x","y"],"n":7}},
		{"id":2,"vector":[1,0],"payload":{"tag":"z","n":8}}]}`)
	if code != 200 || !strings.Contains(body, `"status":"completed"`) || srv.Points("c") != 2 {
		t.Fatalf("upsert: %d %s", code, body)
	}
	code, body = do(t, "POST", c+"/points/query", "", `{"query":{"nearest":[0,1]},"filter":{"must":[{"key":"tag","match":{"value":"y"}}],"must_not":[{"key":"n","match":{"value":8}}]},"with_payload":["n"]}`)
	want := `{"result":{"points":[{"id":"5c56c793-69f3-4fbf-87e6-c4bf54c28c26","version":1,"score":0.8,"payload":{"n":7}}]},"status":"ok","time":0.000042}`
	if code != 200 || body != want {
		t.Fatalf("query: %d %s\nwant %s", code, body, want)
	}
	code, body = do(t, "POST", c+"/points/delete?wait=true", "", `{"points":[2]}`)
	if code != 200 || srv.Points("c") != 1 {
		t.Fatalf("delete by id: %d %s", code, body)
	}
	if code, body := do(t, "GET", c+"/exists", "", ""); code != 200 || !strings.Contains(body, `{"exists":true}`) {
		t.Fatalf("exists: %d %s", code, body)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	url, _ := qdranttest.NewWithKey(t, "k")
	if code, body := do(t, "GET", url+"/collections", "", ""); code != 401 || !strings.Contains(body, "Must provide an API key") {
		t.Fatalf("without key: %d %s", code, body)
	}
	if code, body := do(t, "GET", url+"/collections", "k", ""); code != 200 || !strings.Contains(body, `"collections":[]`) {
		t.Fatalf("with bearer key: %d %s", code, body)
	}
	if code, _ := do(t, "GET", url+"/readyz", "", ""); code != 200 {
		t.Fatalf("readyz without key: %d", code)
	}
}
