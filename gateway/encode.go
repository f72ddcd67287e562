package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/workspaces"
)

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // a write error means the client left; nothing to do
}

// object is a decoded JSON object whose fields are read on demand, so each
// field's absence and type get their own message.
type object map[string]json.RawMessage

var (
	errMissingJSON = workspaces.E(workspaces.KindInvalid, "Missing JSON in request")
	errTooLarge    = workspaces.E(workspaces.KindTooLarge, "Request body too large")
	// errNUL refuses text neither database can store.
	errNUL = workspaces.E(workspaces.KindInvalid, `Text may not contain the NUL character (\u0000)`)
)

// readObject reads the request body as a JSON object of at most
// s.cfg.MaxBodyBytes. An empty body is errMissingJSON, or an empty object
// when optional.
func (s *server) readObject(w http.ResponseWriter, r *http.Request, optional bool) (object, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errTooLarge
		}
		if errors.Is(err, ErrBodyStalled) {
			return nil, workspaces.E(workspaces.KindInvalid, "Could not read request body: "+err.Error())
		}
		return nil, workspaces.E(workspaces.KindInvalid, "Could not read request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return object{}, nil
		}
		return nil, errMissingJSON
	}
	if hasNULEscape(body) {
		return nil, errNUL
	}
	var obj object
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" && !optional {
			return nil, errMissingJSON
		}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, workspaces.E(workspaces.KindInvalid, fmt.Sprintf("Invalid JSON in request: %v", syn))
		case errors.As(err, &typ), obj == nil:
			return nil, workspaces.E(workspaces.KindInvalid, "Invalid JSON in request: expected an object")
		default:
			return nil, workspaces.E(workspaces.KindInvalid, "Invalid JSON in request")
		}
	}
	return obj, nil
}

// hasNULEscape reports whether JSON text holds the escape \u0000 (a raw
// NUL byte is not JSON at all). Neither SQLite's inlined statements nor
// PostgreSQL's text take the character, so it is refused where a body is
// read rather than failing as a server error where it is stored.
func hasNULEscape(body []byte) bool {
	for off := 0; ; {
		i := bytes.Index(body[off:], []byte(`\u0000`))
		if i < 0 {
			return false
		}
		i += off
		// An escape only if the backslash is not itself escaped.
		n := 0
		for j := i - 1; j >= 0 && body[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		off = i + 1
	}
}

// str returns the string field key: "" when absent or null, an error when it
// has another type.
func (o object) str(key string) (string, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", workspaces.E(workspaces.KindInvalid, fmt.Sprintf("Invalid value for '%s': expected a string", key))
	}
	if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
		return "", workspaces.E(workspaces.KindInvalid, fmt.Sprintf("Invalid value for '%s': must be UTF-8 text without NUL characters", key))
	}
	return v, nil
}

// optStr is str for optional fields that must be told apart from "": nil
// when absent or null.
func (o object) optStr(key string) (*string, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	v, err := o.str(key)
	return &v, err
}

// timestamp formats t the one way every seed 002 response does.
func timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}
