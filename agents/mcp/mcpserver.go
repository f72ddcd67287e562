package mcp

import (
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// ServerID identifies an MCP server configuration.
type ServerID string

// The transports a Server may use.
const (
	// TransportStdio runs Command with Args as a child process and speaks
	// MCP over its stdin and stdout.
	TransportStdio = "stdio"
	// TransportHTTP speaks MCP's Streamable HTTP transport to URL.
	TransportHTTP = "http"
)

// Server is one MCP server a user configured for their agents.
type Server struct {
	ID    ServerID
	Owner workspaces.UserID
	// Agent limits the server to one agent; "" means all the owner's.
	Agent       agents.ID
	Name        string
	Description string
	// Transport is TransportStdio or TransportHTTP.
	Transport string
	// Command, Args and Env are a stdio server's; Env is added to a small
	// base environment (see Config.BaseEnv).
	Command string
	Args    []string
	Env     map[string]string
	// URL and Headers are an http server's; Headers go with every request.
	URL     string
	Headers map[string]string
	// AutoConnect servers are connected when the Manager starts and
	// restarted when they crash; others connect when first used.
	AutoConnect bool
	// Active servers offer their tools; inactive ones are kept but unused.
	Active    bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewServer holds what Store.Create needs. Transport accepts the spellings
// of ParseTransport.
type NewServer struct {
	// Agent is one agent the owner owns, or "" for all of them.
	Agent       agents.ID
	Name        string
	Description string
	Transport   string
	Command     string
	Args        []string
	Env         map[string]string
	URL         string
	Headers     map[string]string
	// AutoConnect and Active nil mean true.
	AutoConnect *bool
	Active      *bool
}

// ServerUpdate is a change to a server; nil fields stay as they are. An
// Env or Headers value equal to what Masked shows for the current value
// keeps the current value, so a form filled from a masked server can be
// sent back unchanged.
type ServerUpdate struct {
	// Agent, when set, is the new agent; a pointer to "" means all agents.
	Agent       *agents.ID
	Name        *string
	Description *string
	Transport   *string
	Command     *string
	Args        *[]string
	Env         *map[string]string
	URL         *string
	Headers     *map[string]string
	AutoConnect *bool
	Active      *bool
}

// Masked returns a copy of s fit for display: every Env and Headers value
// is replaced by its first three characters (only for values long enough
// that this reveals little) and "…(redacted)".
func (s Server) Masked() Server {
	s.Args = slices.Clone(s.Args)
	s.Env = maskValues(s.Env)
	s.Headers = maskValues(s.Headers)
	return s
}

// redacted ends every masked value.
const redacted = "(redacted)"

// maskValue hides a secret: "Bearer sk-…" becomes "Bea…(redacted)"; a
// value shorter than 12 characters shows nothing of itself.
func maskValue(v string) string {
	if v == "" {
		return ""
	}
	if utf8.RuneCountInString(v) < 12 {
		return redacted
	}
	r := []rune(v)
	return string(r[:3]) + "…" + redacted
}

func maskValues(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = maskValue(v)
	}
	return out
}

// unmask returns next with each value that is the mask of old's value for
// the same key replaced by old's value.
func unmask(next, old map[string]string) map[string]string {
	out := maps.Clone(next)
	for k, v := range out {
		if ov, ok := old[k]; ok && v != ov && v == maskValue(ov) {
			out[k] = ov
		}
	}
	return out
}
