package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Error types of seed 001's error format, {"error": {"type", "message",
// "code"}}. A bad request's is seed 001's own "invalid_request" (its one
// example); the others, which the seed does not name, are OpenAI's. OpenAI's
// clients accept any type: the openai SDKs and the AI SDK turn errors into
// exceptions by status, and show the message.
const (
	oaiInvalidRequest = "invalid_request"
	oaiAuthentication = "authentication_error"
	oaiPermission     = "permission_error"
	oaiNotFound       = "not_found_error"
	oaiRateLimit      = "rate_limit_error"
	oaiServer         = "server_error"
)

// oaiError is an error in seed 001's format with its status. Param names
// the request field at fault (OpenAI's "param"), or is empty.
type oaiError struct {
	Status  int
	Type    string
	Code    string
	Param   string
	Message string
	// RetryAfter, in seconds, is sent as Retry-After with a 429.
	RetryAfter int
}

func (e *oaiError) Error() string { return e.Message }

// oaiInvalidParam is a 400 about the request field param.
func oaiInvalidParam(code, param, msg string) *oaiError {
	return &oaiError{Status: http.StatusBadRequest, Type: oaiInvalidRequest, Code: code, Param: param, Message: msg}
}

// oaiKind maps the error vocabulary onto seed 001's statuses and types, for
// errors that come from the services (authentication, the body's size).
var oaiKind = map[workspaces.Kind]oaiError{
	workspaces.KindInvalid:         {Status: http.StatusBadRequest, Type: oaiInvalidRequest, Code: "invalid_value"},
	workspaces.KindConflict:        {Status: http.StatusConflict, Type: oaiInvalidRequest, Code: "conflict"},
	workspaces.KindUnauthenticated: {Status: http.StatusUnauthorized, Type: oaiAuthentication, Code: "invalid_api_key"},
	workspaces.KindForbidden:       {Status: http.StatusForbidden, Type: oaiPermission, Code: "forbidden"},
	workspaces.KindNotFound:        {Status: http.StatusNotFound, Type: oaiNotFound, Code: "not_found"},
	workspaces.KindTooLarge:        {Status: http.StatusRequestEntityTooLarge, Type: oaiInvalidRequest, Code: "request_too_large"},
	workspaces.KindUnavailable:     {Status: http.StatusServiceUnavailable, Type: oaiServer, Code: "service_unavailable"},
	workspaces.KindPaymentRequired: {Status: http.StatusPaymentRequired, Type: "insufficient_quota", Code: "insufficient_credits"},
	workspaces.KindInternal:        {Status: http.StatusInternalServerError, Type: oaiServer, Code: "internal_error"},
}

// asOAIError turns any error of a completion request into seed 001's
// shape: an *oaiError as it is, an upstream model's failure by what the
// upstream said (see upstreamError), the error vocabulary by oaiKind.
// Causes a client must not see are logged here, not shown.
func (s *server) asOAIError(r *http.Request, err error) *oaiError {
	var oe *oaiError
	if errors.As(err, &oe) {
		return oe
	}
	if me, ok := agents.AsModelError(err); ok {
		return s.upstreamError(r, me)
	}
	var we *workspaces.Error
	if !errors.As(err, &we) {
		// A provider's own error before it called anyone (a request it
		// could not encode), or a bug: logged, never shown.
		s.Logger.ErrorContext(r.Context(), "completion failed", "path", r.URL.Path, "err", err)
		e := oaiKind[workspaces.KindInternal]
		e.Message = "The server had an error while processing your request."
		return &e
	}
	e := oaiKind[we.Kind]
	e.Message = workspaces.ErrorMessage(err)
	if we.Kind == workspaces.KindInternal {
		s.Logger.ErrorContext(r.Context(), "completion failed", "path", r.URL.Path, "err", err)
	}
	return &e
}

// upstreamError maps a model's failure at its upstream: a rate limit is
// passed through as 429 (OpenAI's clients back off and retry on it); a
// refusal of the request itself (400, 413, 422: a context too long, a
// schema the model rejects) is the client's 400; everything else is the
// server's 500, its cause logged. An upstream's 401 or 403 is about the
// server's own upstream key, so its text is not shown.
func (s *server) upstreamError(r *http.Request, me *agents.ModelError) *oaiError {
	code := me.Code
	switch me.Status {
	case http.StatusTooManyRequests:
		if code == "" {
			code = "rate_limit_exceeded"
		}
		return &oaiError{Status: http.StatusTooManyRequests, Type: oaiRateLimit, Code: code,
			Message: "The model's provider is rate limiting requests: " + me.Message}
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		if code == "" {
			code = "invalid_request"
		}
		return &oaiError{Status: http.StatusBadRequest, Type: oaiInvalidRequest, Code: code,
			Message: "The model's provider refused the request: " + me.Message}
	}
	s.Logger.WarnContext(r.Context(), "upstream model failed", "path", r.URL.Path, "provider", me.Provider, "status", me.Status, "err", me)
	msg := "The model's provider failed"
	switch {
	case me.Status == http.StatusUnauthorized || me.Status == http.StatusForbidden:
		msg += " (status " + strconv.Itoa(me.Status) + "): the server's credentials for it were refused"
	case me.Status != 0:
		msg += " (status " + strconv.Itoa(me.Status) + "): " + me.Message
	case me.Message != "":
		msg += ": " + me.Message
	}
	if me.Code == "timeout" {
		code = "timeout"
	} else {
		code = "upstream_error"
	}
	return &oaiError{Status: http.StatusInternalServerError, Type: oaiServer, Code: code, Message: msg}
}

// oaiErrorBody is seed 001's error object on the wire.
type oaiErrorBody struct {
	Error oaiErrorView `json:"error"`
}

type oaiErrorView struct {
	Type    string  `json:"type"`
	Message string  `json:"message"`
	Code    string  `json:"code"`
	Param   *string `json:"param"`
}

func (e *oaiError) view() oaiErrorBody {
	v := oaiErrorBody{Error: oaiErrorView{Type: e.Type, Message: e.Message, Code: e.Code}}
	if e.Param != "" {
		v.Error.Param = &e.Param
	}
	return v
}

// writeOAIError writes err in seed 001's format, unless the client has
// gone (its request's context is done), when nobody would read it.
func (s *server) writeOAIError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		return
	}
	e := s.asOAIError(r, err)
	setRetryAfter(w, e)
	writeJSON(w, e.Status, e.view())
}
