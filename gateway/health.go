package gateway

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz runs every readiness check at once, each bounded to two
// seconds, and answers 503 if any fails.
func (s *server) handleReadyz() http.Handler {
	names := make([]string, 0, len(s.Checks))
	for n := range s.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		results := make([]string, len(names))
		var wg sync.WaitGroup
		for i, n := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Checks[n](ctx); err != nil {
					results[i] = err.Error()
				} else {
					results[i] = "ok"
				}
			}()
		}
		wg.Wait()
		checks := make(map[string]string, len(names))
		status, code := "ready", http.StatusOK
		for i, n := range names {
			checks[n] = results[i]
			if results[i] != "ok" {
				status, code = "not ready", http.StatusServiceUnavailable
			}
		}
		writeJSON(w, code, map[string]any{"status": status, "checks": checks})
	})
}

func handlePing() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"msg": "pong"})
	})
}

// handleNoRoute answers paths no route matches: 405 with Allow when the path
// exists under another method, 404 otherwise, in JSON either way.
func handleNoRoute(mux *http.ServeMux) http.Handler {
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range methods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		status, msg := http.StatusNotFound, "Not found"
		if len(allow) > 0 {
			for _, m := range allow {
				w.Header().Add("Allow", m)
			}
			status, msg = http.StatusMethodNotAllowed, "Method not allowed"
		}
		writeNoRoute(w, r, status, msg)
	})
}

// writeNoRoute answers a path no route takes (or a handler that panicked)
// in the error format of the API its prefix belongs to, so each API's
// clients can read it: seed 001's (OpenAI's) under /v1/, seed 000's under
// /api/, seed 002's elsewhere.
func writeNoRoute(w http.ResponseWriter, r *http.Request, status int, msg string) {
	what := msg + ": " + r.Method + " " + r.URL.Path
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/v2/"):
		typ, code := oaiInvalidRequest, "unknown_url"
		switch {
		case status == http.StatusMethodNotAllowed:
			code = "method_not_allowed"
		case status >= 500:
			typ, code = oaiServer, "internal_error"
		}
		writeJSON(w, status, (&oaiError{Status: status, Type: typ, Code: code, Message: what}).view())
	case strings.HasPrefix(r.URL.Path, "/api/"):
		writeJSON(w, status, map[string]string{"error": what, "detail": strings.ToLower(strings.ReplaceAll(msg, " ", "_"))})
	default:
		writeJSON(w, status, map[string]string{"msg": msg})
	}
}
