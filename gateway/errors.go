package gateway

import (
	"net/http"

	"github.com/atrium-hq/atrium/workspaces"
)

// msgStatus maps error kinds to the status codes of seed 002, whose errors
// are {"msg": "..."}. Seed 002 answers an existing user with 400, not 409.
var msgStatus = map[workspaces.Kind]int{
	workspaces.KindInvalid:         http.StatusBadRequest,
	workspaces.KindConflict:        http.StatusBadRequest,
	workspaces.KindUnauthenticated: http.StatusUnauthorized,
	workspaces.KindForbidden:       http.StatusForbidden,
	workspaces.KindNotFound:        http.StatusNotFound,
	workspaces.KindTooLarge:        http.StatusRequestEntityTooLarge,
	workspaces.KindUnavailable:     http.StatusServiceUnavailable,
	workspaces.KindPaymentRequired: http.StatusPaymentRequired,
	workspaces.KindInternal:        http.StatusInternalServerError,
}

// forbiddenIs401 is for the seed 002 endpoints that document 401, not 403,
// for a user who may not act on the chat or workspace (POST /chat and the
// chat endpoints).
var forbiddenIs401 = map[workspaces.Kind]int{workspaces.KindForbidden: http.StatusUnauthorized}

// writeMsgError writes err in seed 002's format. overrides, if given,
// replace msgStatus for some kinds. Internal errors are logged with their
// cause and shown only as "Internal server error".
func (s *server) writeMsgError(w http.ResponseWriter, r *http.Request, err error, overrides ...map[workspaces.Kind]int) {
	status, _ := s.errorStatus(r, err, msgStatus, overrides)
	writeJSON(w, status, map[string]string{"msg": workspaces.ErrorMessage(err)})
}

// errorStatus picks err's status from table and overrides, logging internal
// errors with their cause.
func (s *server) errorStatus(r *http.Request, err error, table map[workspaces.Kind]int, overrides []map[workspaces.Kind]int) (int, workspaces.Kind) {
	kind := workspaces.ErrorKind(err)
	status := table[kind]
	for _, o := range overrides {
		if st, ok := o[kind]; ok {
			status = st
		}
	}
	if kind == workspaces.KindInternal {
		s.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	return status, kind
}

// apiStatus maps error kinds to the status codes of seed 000's REST API.
var apiStatus = map[workspaces.Kind]int{
	workspaces.KindInvalid:         http.StatusBadRequest,
	workspaces.KindConflict:        http.StatusConflict,
	workspaces.KindUnauthenticated: http.StatusUnauthorized,
	workspaces.KindForbidden:       http.StatusForbidden,
	workspaces.KindNotFound:        http.StatusNotFound,
	workspaces.KindTooLarge:        http.StatusRequestEntityTooLarge,
	workspaces.KindUnavailable:     http.StatusServiceUnavailable,
	workspaces.KindPaymentRequired: http.StatusPaymentRequired,
	workspaces.KindInternal:        http.StatusInternalServerError,
}

// writeAPIError writes err in seed 000's format (§5.6.2):
// {"error": "...", "detail": "..."}; detail names the kind of error.
func (s *server) writeAPIError(w http.ResponseWriter, r *http.Request, err error, overrides ...map[workspaces.Kind]int) {
	status, kind := s.errorStatus(r, err, apiStatus, overrides)
	writeJSON(w, status, map[string]string{"error": workspaces.ErrorMessage(err), "detail": kind.String()})
}
