package gateway

import (
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// requireUser lets a request through only with a valid JWT in
// "Authorization: Bearer <JWT>", and puts its user in the context. Failures
// are 401 with Flask-JWT-Extended's messages, as seed 002's clients expect.
func (s *server) requireUser(next http.Handler) http.Handler {
	return s.authenticated(next, s.writeMsgError)
}

// requireAPIUser is requireUser for seed 000's REST API: failures are in
// its {"error", "detail"} format.
func (s *server) requireAPIUser(next http.Handler) http.Handler {
	return s.authenticated(next, s.writeAPIError)
}

func (s *server) authenticated(next http.Handler, fail func(http.ResponseWriter, *http.Request, error, ...map[workspaces.Kind]int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			fail(w, r, workspaces.E(workspaces.KindUnauthenticated, "Missing Authorization Header"))
			return
		}
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			fail(w, r, workspaces.E(workspaces.KindUnauthenticated, "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"))
			return
		}
		user, err := s.bearerUser(r, strings.TrimSpace(token))
		if err != nil {
			fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(workspaces.WithUser(r.Context(), user)))
	})
}

// bearerUser returns the user a bearer credential speaks for: a JWT, or a
// user API key (seed 000 §5.5.1). An agent API key is refused here: it
// reaches its agent only.
func (s *server) bearerUser(r *http.Request, token string) (workspaces.UserID, error) {
	if workspaces.IsKey(token, workspaces.UserKey) {
		k, err := s.Workspaces.ResolveKey(r.Context(), token)
		if err != nil {
			return "", err
		}
		return k.UserID, nil
	}
	if workspaces.IsKey(token, workspaces.AgentKey) {
		return "", workspaces.E(workspaces.KindUnauthenticated, "An agent API key only reaches its agent; use 'Authorization: ApiKey <key>' on the agent's endpoints")
	}
	user, _, err := s.Tokens.Verify(token)
	return user, err
}

// agentKey returns the agent API key a request carries: "Authorization:
// ApiKey <key>" or "X-API-Key: <key>" (seed 000 §5.5.2), or seed 003's bare
// "Authorization: <key>" (no scheme). "" when it carries none.
func agentKey(r *http.Request) string {
	if k := strings.TrimSpace(r.Header.Get("X-API-Key")); k != "" {
		return k
	}
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, rest, ok := strings.Cut(h, " ")
	switch {
	case ok && strings.EqualFold(scheme, "ApiKey"):
		return strings.TrimSpace(rest)
	case ok && strings.EqualFold(scheme, "Bearer") && workspaces.IsKey(strings.TrimSpace(rest), workspaces.AgentKey):
		return strings.TrimSpace(rest)
	case !ok && workspaces.IsKey(h, workspaces.AgentKey):
		return h
	}
	return ""
}

// agentAccess returns agent id for a request that may use it: one with an
// API key of that agent (which must be published), or one whose bearer
// credential is the agent's owner's. Seed 000's agent endpoints take
// either.
func (s *server) agentAccess(r *http.Request, id agents.ID) (agents.Agent, error) {
	if key := agentKey(r); key != "" {
		a, _, err := s.Agents.ResolveKey(r.Context(), key)
		if err != nil {
			return agents.Agent{}, err
		}
		if a.ID != id {
			return agents.Agent{}, workspaces.E(workspaces.KindForbidden, "This API key belongs to another agent")
		}
		return a, nil
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return agents.Agent{}, workspaces.E(workspaces.KindUnauthenticated, "Missing credentials: send 'Authorization: ApiKey <agent API key>' or the owner's 'Authorization: Bearer <token>'")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return agents.Agent{}, workspaces.E(workspaces.KindUnauthenticated, "Bad Authorization header. Expected 'ApiKey <key>' or 'Bearer <token>'")
	}
	user, err := s.bearerUser(r, strings.TrimSpace(token))
	if err != nil {
		return agents.Agent{}, err
	}
	return s.Agents.Owned(r.Context(), user, id)
}

// userOf returns the user requireUser put in r's context.
func userOf(r *http.Request) workspaces.UserID {
	id, _ := workspaces.UserFromContext(r.Context())
	return id
}

// recoverPanics turns a handler panic into a logged 500 with a JSON body,
// so a bug never shows a client a stack.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &statusWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			s.Logger.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if rw.status == 0 {
				writeNoRoute(rw, r, http.StatusInternalServerError, "Internal server error")
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// logRequests logs one line per request; probes log at debug level.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(rw, r)
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			level = slog.LevelDebug
		}
		s.Logger.Log(r.Context(), level, "http",
			"method", r.Method, "path", r.URL.Path, "status", rw.Status(),
			"bytes", rw.bytes, "dur_ms", float64(time.Since(start).Microseconds())/1000)
	})
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Status returns the status written, 200 if only a body was.
func (w *statusWriter) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
