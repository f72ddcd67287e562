package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/atrium-hq/atrium/gateway"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	served := 0
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		w.WriteHeader(http.StatusTeapot)
	})
	only := func(r *http.Request, origin string) bool { return origin == "https://app.example.com" }
	do := func(h http.Handler, method, origin string, preflight bool) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, "/v1/chat/completions", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if preflight {
			r.Header.Set("Access-Control-Request-Method", "POST")
			r.Header.Set("Access-Control-Request-Headers", "authorization, x-api-key, session")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	open, some := gateway.CORS(inner, nil), gateway.CORS(inner, only)

	// No Origin (API clients, same-origin GETs): untouched.
	if w := do(open, "POST", "", false); w.Code != http.StatusTeapot || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no origin: %d %v", w.Code, w.Header())
	}
	// Any origin: "*" on answers, preflights answered here.
	if w := do(open, "POST", "https://elsewhere.io", false); w.Code != http.StatusTeapot || w.Header().Get("Access-Control-Allow-Origin") != "*" ||
		w.Header().Get("Access-Control-Expose-Headers") == "" || w.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("any origin: %d %v", w.Code, w.Header())
	}
	before := served
	w := do(open, "OPTIONS", "https://elsewhere.io", true)
	if w.Code != http.StatusNoContent || served != before || w.Header().Get("Access-Control-Allow-Origin") != "*" ||
		w.Header().Get("Access-Control-Allow-Headers") != "authorization, x-api-key, session" || w.Header().Get("Access-Control-Allow-Methods") == "" {
		t.Fatalf("preflight: %d %v (served %d)", w.Code, w.Header(), served-before)
	}
	// A plain OPTIONS (no preflight) is the handler's.
	if w := do(open, "OPTIONS", "https://elsewhere.io", false); w.Code != http.StatusTeapot {
		t.Fatalf("plain OPTIONS = %d", w.Code)
	}

	// A list: the origin echoed when allowed, nothing (and a refused
	// preflight) when not.
	if w := do(some, "POST", "https://app.example.com", false); w.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" || w.Header().Get("Vary") != "Origin" {
		t.Fatalf("allowed origin: %v", w.Header())
	}
	if w := do(some, "OPTIONS", "https://app.example.com", true); w.Code != http.StatusNoContent {
		t.Fatalf("allowed preflight = %d", w.Code)
	}
	if w := do(some, "POST", "https://evil.example", false); w.Code != http.StatusTeapot || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin: %d %v", w.Code, w.Header())
	}
	if w := do(some, "OPTIONS", "https://evil.example", true); w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin's preflight: %d %v", w.Code, w.Header())
	}
}
