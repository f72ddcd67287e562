// Package mcp connects agents to MCP (Model Context Protocol) servers and
// serves agents as an MCP server (seed 000 §3.4, §5.4, §9).
//
// A Server is one user's MCP server configuration, kept by the Store in
// the mcp_servers table: either a command run as a child process speaking
// MCP over stdin/stdout ("stdio"), or a Streamable HTTP endpoint ("http";
// the older HTTP+SSE transport is refused). A server serves all its owner's
// agents, or one of them.
//
// The Manager is an agents.ToolSource. It keeps one client session per
// server, opened on first use (or at Start for auto_connect servers), lists
// each server's tools once (again when the server says its list changed, or
// after a reconnect) and offers them to the owner's agents as
// mcp_<server>_<tool>, with the tool's own description and JSON schema. A
// server that cannot be reached costs its tools only: the run goes on, the
// error is logged and shown by ListTools and Test. Child processes get a
// small environment (PATH, HOME, LANG, TMPDIR and the server's own env),
// never Atrium's, and their last few KB of stderr explain failures. A
// crashed auto_connect process is restarted with exponential backoff;
// others reconnect when next used.
//
// Security: a stdio server runs a command as Atrium's own OS user, and
// commands such as node, npx or python3 run any code their arguments name.
// The operator chooses which commands users may start with
// ATRIUM_MCP_STDIO_COMMANDS (see ParseStdioCommands): a comma-separated
// list of command names looked up in PATH, "*" for any command, or empty
// to disable stdio servers. HTTP servers are reached through the
// *http.Client the operator gives (Atrium passes safehttp's, which refuses
// private addresses). Env and header values are often secrets: they are
// stored as given and Server.Masked hides them for display.
//
// NewAgentServer is the other direction: a Streamable HTTP handler exposing
// the agents a caller may use as MCP tools (ask_<agent>), each call
// answered through an Asker. It is stateless (no Mcp-Session-Id): the
// gateway authenticates every request and names the allowed agents with
// WithAgents, so nothing one caller set up can be reached by another.
package mcp
