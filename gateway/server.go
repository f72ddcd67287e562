package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/agents/rag"
	"github.com/atrium-hq/atrium/agents/webhook"
	"github.com/atrium-hq/atrium/workspaces"
)

// Deps are the services the gateway serves. All are required.
type Deps struct {
	Logger     *slog.Logger
	Workspaces *workspaces.Service
	Agents     *agents.Service
	Tokens     *workspaces.Tokens
	// Conversations serves chat history; nil answers 503 there.
	Conversations *agents.Conversations
	// Files stores agents' files (seed 000 §6); nil answers 503 there.
	Files *agents.Files
	// CustomTools are users' own tools (seed 003's tool API); nil answers
	// 503 there.
	CustomTools *agents.CustomTools
	// MCP connects agents to MCP servers and MCPServers stores them (seed
	// 000 §5.4); nil answers 503 at /api/mcp-servers/.
	MCP        *mcp.Manager
	MCPServers *mcp.Store
	// Charger, when set, batches the charges of direct model calls; nil
	// charges each in its own transaction.
	Charger *workspaces.Charger
	// ResponseItems keeps what the Responses API stores, for every node;
	// nil keeps it in this node's memory only.
	ResponseItems *agents.ResponseItems
	// Catalogue lists the models (GET /v1/models); nil lists none.
	Catalogue *agents.Catalogue
	// Webhooks manages outgoing webhooks (/api/webhooks/); nil answers 503
	// there.
	Webhooks *webhook.Service
	// RAG keeps the agents' training data and indexes (seed 000 §9); nil
	// answers 503 there.
	RAG *rag.Service
	// Checks are the readiness checks of /readyz, by name ("database", ...).
	Checks map[string]func(context.Context) error
}

// Config tunes the gateway. The zero value works.
type Config struct {
	// MaxBodyBytes caps JSON request bodies. Zero means 1 MiB.
	MaxBodyBytes int64
	// StreamPing is how long a server-sent events stream (the
	// OpenAI-compatible ones, seed 001's chat API, seed 003's) may stay
	// silent, before the first token too, before it sends a ": ping"
	// comment, so proxies keep it open. Zero means 10 seconds.
	StreamPing time.Duration
	// RateLimit is how many requests a minute each caller of the
	// OpenAI-compatible API may make (a user's keys and tokens together;
	// an agent key on its own), in bursts of up to as many; more get 429
	// with Retry-After. Zero means no limit.
	RateLimit int
}

// NewServer returns the gateway's handler. It does not listen.
func NewServer(deps Deps, cfg Config) http.Handler {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	s := &server{Deps: deps, cfg: cfg, limiter: newRateLimiter(cfg.RateLimit)}
	mux := http.NewServeMux()
	s.routes(mux)
	var h http.Handler = mux
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	return h
}

// server carries the dependencies to the handler makers.
type server struct {
	Deps
	cfg     Config
	limiter *rateLimiter // nil: no rate limit
}

// NewProbes returns a handler with only /healthz and /readyz, for nodes that
// run without the gateway role.
func NewProbes(logger *slog.Logger, checks map[string]func(context.Context) error) http.Handler {
	s := &server{Deps: Deps{Logger: logger, Checks: checks}}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())
	mux.Handle("/", handleNoRoute(mux))
	return s.recoverPanics(mux)
}
