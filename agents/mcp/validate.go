package mcp

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/workspaces"
)

// Limits of a server's fields.
const (
	maxName        = 40
	maxDescription = 1000
	maxCommand     = 1024
	maxArgs        = 64
	maxArg         = 4096
	maxPairs       = 64 // env variables or headers
	maxKey         = 256
	maxValue       = 8192
	maxURL         = 2048
)

// DefaultStdioCommands are the commands stdio servers may run when the
// operator says nothing: the launchers MCP servers are published for.
var DefaultStdioCommands = []string{"npx", "node", "uvx", "python3"}

// ParseStdioCommands parses ATRIUM_MCP_STDIO_COMMANDS: command names
// separated by commas ("npx,node"), "*" for any command, or "" (or only
// commas and spaces) for none, which disables stdio servers. The result
// is never nil, so it can be given as Config.StdioCommands as is.
func ParseStdioCommands(s string) []string {
	out := []string{}
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// commandPolicy decides which commands stdio servers may run.
type commandPolicy struct {
	any   bool
	names []string
}

// newCommandPolicy returns the policy of a Config's StdioCommands: nil
// means DefaultStdioCommands.
func newCommandPolicy(list []string) commandPolicy {
	if list == nil {
		list = DefaultStdioCommands
	}
	return commandPolicy{any: slices.Contains(list, "*"), names: slices.Clone(list)}
}

// check returns nil if command may be run. Unless any command is allowed,
// it must be in the list as written: "node" allows node looked up in PATH
// but not /tmp/x/node, a file a user might have managed to write.
func (p commandPolicy) check(command string) error {
	switch {
	case p.any:
		return nil
	case len(p.names) == 0:
		return workspaces.E(workspaces.KindInvalid, "stdio MCP servers are disabled on this Atrium server (ATRIUM_MCP_STDIO_COMMANDS); use transport_type \"http\"")
	case !slices.Contains(p.names, command):
		return workspaces.Errorf(workspaces.KindInvalid, "command %q is not allowed: this Atrium server runs only %s (ATRIUM_MCP_STDIO_COMMANDS), written exactly so", command, strings.Join(p.names, ", "))
	}
	return nil
}

// ParseTransport returns the transport named by s: "stdio", or "http" for
// "http", "streamable_http", "streamable-http" and "streamablehttp" in any
// case. "sse" (the deprecated HTTP+SSE transport) and anything else are
// refused.
func ParseTransport(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "stdio":
		return TransportStdio, nil
	case "http", "streamable_http", "streamable-http", "streamablehttp":
		return TransportHTTP, nil
	case "":
		return "", workspaces.E(workspaces.KindInvalid, `transport_type is required: "stdio" or "http"`)
	case "sse", "http+sse", "http_sse":
		return "", workspaces.E(workspaces.KindInvalid, `transport_type "sse" is not supported: only Streamable HTTP ("http") is; most servers that offer SSE also serve Streamable HTTP, often at /mcp`)
	}
	return "", workspaces.Errorf(workspaces.KindInvalid, `Unknown transport_type %q: want "stdio" or "http"`, s)
}

func isText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", workspaces.E(workspaces.KindInvalid, "name is required")
	case len(name) > maxName:
		return "", workspaces.Errorf(workspaces.KindInvalid, "name is longer than %d characters", maxName)
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return "", workspaces.E(workspaces.KindInvalid, "name may contain only letters, digits, '_' and '-' (it prefixes the server's tool names)")
		}
	}
	return name, nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func checkDescription(d string) error {
	if !isText(d) {
		return workspaces.E(workspaces.KindInvalid, "description must be UTF-8 text without NUL characters")
	}
	if utf8.RuneCountInString(d) > maxDescription {
		return workspaces.Errorf(workspaces.KindInvalid, "description is longer than %d characters", maxDescription)
	}
	return nil
}

func (p commandPolicy) checkCommand(command string) (string, error) {
	command = strings.TrimSpace(command)
	switch {
	case command == "":
		return "", workspaces.E(workspaces.KindInvalid, `command is required for transport_type "stdio"`)
	case len(command) > maxCommand || !isText(command):
		return "", workspaces.Errorf(workspaces.KindInvalid, "command must be text of at most %d characters", maxCommand)
	}
	return command, p.check(command)
}

func checkArgs(args []string) error {
	if len(args) > maxArgs {
		return workspaces.Errorf(workspaces.KindInvalid, "args has %d items; at most %d are allowed", len(args), maxArgs)
	}
	for i, a := range args {
		if len(a) > maxArg || !isText(a) {
			return workspaces.Errorf(workspaces.KindInvalid, "args[%d] must be text of at most %d characters", i, maxArg)
		}
	}
	return nil
}

func checkEnv(env map[string]string) error {
	if len(env) > maxPairs {
		return workspaces.Errorf(workspaces.KindInvalid, "env has %d variables; at most %d are allowed", len(env), maxPairs)
	}
	for k, v := range env {
		if !isEnvName(k) {
			return workspaces.Errorf(workspaces.KindInvalid, "env: %q is not a variable name (letters, digits and '_', not starting with a digit)", k)
		}
		if len(v) > maxValue || !isText(v) {
			return workspaces.Errorf(workspaces.KindInvalid, "env: the value of %s must be text of at most %d characters", k, maxValue)
		}
	}
	return nil
}

func isEnvName(k string) bool {
	if k == "" || len(k) > maxKey || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func checkURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "", workspaces.E(workspaces.KindInvalid, `url is required for transport_type "http"`)
	case len(raw) > maxURL:
		return "", workspaces.Errorf(workspaces.KindInvalid, "url is longer than %d characters", maxURL)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https"):
		return "", workspaces.E(workspaces.KindInvalid, "url must be an http:// or https:// URL")
	case u.Hostname() == "":
		return "", workspaces.E(workspaces.KindInvalid, "url has no host")
	case u.User != nil:
		return "", workspaces.E(workspaces.KindInvalid, "url must not contain a user name or password; put credentials in headers")
	}
	return raw, nil
}

func checkHeaders(h map[string]string) error {
	if len(h) > maxPairs {
		return workspaces.Errorf(workspaces.KindInvalid, "headers has %d entries; at most %d are allowed", len(h), maxPairs)
	}
	for k, v := range h {
		if !isHeaderName(k) {
			return workspaces.Errorf(workspaces.KindInvalid, "headers: %q is not a valid header name", k)
		}
		if len(v) > maxValue || !isText(v) || strings.ContainsAny(v, "\r\n") {
			return workspaces.Errorf(workspaces.KindInvalid, "headers: the value of %s must be one line of text of at most %d characters", k, maxValue)
		}
		switch strings.ToLower(k) {
		case "host", "content-length", "content-type", "accept", "connection", "transfer-encoding", "mcp-session-id", "mcp-protocol-version", "last-event-id":
			return workspaces.Errorf(workspaces.KindInvalid, "headers: %s is set by the MCP transport and may not be given", k)
		}
	}
	return nil
}

// isHeaderName reports whether k is an RFC 9110 token.
func isHeaderName(k string) bool {
	if k == "" || len(k) > maxKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
