package qdranttest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Server is an in-memory Qdrant. Its methods may be called from any
// goroutine, during requests too.
type Server struct {
	key string // "" means no api-key check
	url string

	mu          sync.Mutex // guards the following fields
	collections map[string]*collection
	requests    []string // "METHOD path" of every request, in order
	ops         uint64   // the last update operation's id
}

// New starts a Server without an API key on an httptest server closed when
// t ends, and returns its URL (like http://127.0.0.1:6333).
func New(t testing.TB) (url string, srv *Server) {
	return NewWithKey(t, "")
}

// NewWithKey is New with an API key: requests without it (in the "api-key"
// header, or as "Authorization: Bearer key") get Qdrant's 401, except the
// health checks /healthz, /livez and /readyz, as in Qdrant.
func NewWithKey(t testing.TB, key string) (url string, srv *Server) {
	t.Helper()
	srv = &Server{key: key, collections: make(map[string]*collection)}
	hs := httptest.NewServer(srv.routes())
	t.Cleanup(hs.Close)
	srv.url = hs.URL
	return hs.URL, srv
}

// URL is the server's URL, as returned by New.
func (s *Server) URL() string { return s.url }

// Points is the number of points in collection (0 when it does not exist).
func (s *Server) Points(collection string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.collections[collection]; c != nil {
		return len(c.points)
	}
	return 0
}

// PayloadIndexes maps the indexed payload fields of collection to their
// types ("keyword", "integer", ...); nil when the collection does not exist.
func (s *Server) PayloadIndexes(collection string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.collections[collection]
	if c == nil {
		return nil
	}
	m := make(map[string]string, len(c.indexes))
	for k, v := range c.indexes {
		m[k] = v
	}
	return m
}

// Requests returns "METHOD path" (no query) of every request received so
// far, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// routes is every endpoint served, behind the request log and the api-key
// check.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"GET /healthz", "GET /livez", "GET /readyz"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "healthz check passed")
		})
	}
	mux.HandleFunc("GET /collections", s.listCollections)
	mux.HandleFunc("GET /collections/{name}", s.getCollection)
	mux.HandleFunc("GET /collections/{name}/exists", s.collectionExists)
	mux.HandleFunc("PUT /collections/{name}", s.createCollection)
	mux.HandleFunc("PUT /collections/{name}/index", s.createIndex)
	mux.HandleFunc("PUT /collections/{name}/points", s.upsertPoints)
	mux.HandleFunc("POST /collections/{name}/points/query", s.queryPoints)
	mux.HandleFunc("POST /collections/{name}/points/delete", s.deletePoints)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Not found: qdranttest does not serve %s %s", r.Method, r.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		if !s.authorized(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// authorized checks the API key as Qdrant does, answering 401 (in plain
// text, like Qdrant) when it is missing or wrong.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/livez", "/readyz":
		return true
	}
	if s.key == "" {
		return true
	}
	got := r.Header.Get("api-key")
	if got == "" {
		got, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if got == "" {
		http.Error(w, "Must provide an API key or an Authorization bearer token", http.StatusUnauthorized)
		return false
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.key)) != 1 {
		http.Error(w, "Invalid API key or JWT", http.StatusUnauthorized)
		return false
	}
	return true
}

// answer is the frame of Qdrant's answers.
type answer struct {
	Result any     `json:"result,omitempty"`
	Status any     `json:"status"`
	Time   float64 `json:"time"`
}

// writeResult answers 200 with result in Qdrant's frame.
func writeResult(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, answer{Result: result, Status: "ok", Time: 0.000042})
}

// writeError answers code with msg in Qdrant's error frame.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, answer{Status: map[string]string{"error": msg}, Time: 0.000011})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"status":{"error":"Service internal error: encode answer"},"time":0}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// decodeBody decodes r's JSON body into v strictly (unknown fields, trailing
// data and other content types are refused), answering 400 and returning
// false when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		writeError(w, http.StatusBadRequest, "Format error in JSON body: Content type error: want application/json")
		return false
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<20))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = fmt.Errorf("trailing data after the JSON value")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Format error in JSON body: "+err.Error())
		return false
	}
	return true
}

// strictUnmarshal decodes raw into v, refusing unknown fields.
func strictUnmarshal(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	return dec.Decode(v)
}

// queryParams checks r's query parameters: only those in allowed, and
// "wait" a boolean. It answers 400 and returns false when they are wrong.
func queryParams(w http.ResponseWriter, r *http.Request, allowed ...string) (wait, ok bool) {
	q := r.URL.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			writeError(w, http.StatusBadRequest, "Query deserialize error: unknown field `"+k+"`")
			return false, false
		}
	}
	switch v := q.Get("wait"); v {
	case "", "false":
	case "true":
		wait = true
	default:
		writeError(w, http.StatusBadRequest, "Query deserialize error: provided string was not `true` or `false`: "+v)
		return false, false
	}
	return wait, true
}
