package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/agents/tool/generate"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// config is everything atrium can be told, from flags and the environment.
// Flags win over the environment.
type config struct {
	addr        string
	dataDir     string
	databaseURL string
	natsURL     string
	natsListen  string
	jwtSecret   string
	jwtTTL      time.Duration
	connTTL     time.Duration
	msgTTL      time.Duration
	maxBody     int64
	roles       roles
	logLevel    slog.Level
	logFormat   string

	chatHistory int64    // events kept per chat in the chat log
	sendQueue   int      // events that may wait for one client
	rateLimit   int      // OpenAI-compatible API requests a minute per caller; 0: none
	runners     int      // runs one node answers at once
	echoTokens  int      // tokens in an echo answer
	echoRate    float64  // echo tokens per second
	node        string   // this node's name in the presence table
	debugAddr   string   // where /debug/pprof/ is served; empty: nowhere
	corsOrigins []string // origins browsers may call from; nil: any

	openaiBaseURL string        // the "openai" upstream's base URL
	openaiAPIKey  string        // and its key
	bedrockRegion string        // the "bedrock" upstream's region; empty: off
	modelsFile    string        // the model catalogue file; empty: built-in only
	defaultModel  string        // the model of agents made without one
	embedModel    string        // ATRIUM_EMBEDDING_MODEL: what makes RAG's vectors
	qdrantURL     string        // QDRANT_URL: where RAG's vectors go; empty: SQL
	qdrantKey     string        // QDRANT_API_KEY
	toolTimeout   time.Duration // bound of one tool call
	toolAllow     []string      // private hosts tools may reach anyway
	cacheTTL      time.Duration // how long the response cache keeps an answer
	freeCredits   float64       // what a new user may spend

	webhookTimeout  time.Duration   // bound of one webhook delivery attempt
	webhookSchedule []time.Duration // waits between a delivery's attempts

	mcpStdio   []string // commands stdio MCP servers may run
	videoS3URI string   // where Bedrock writes generated videos
	imageModel string   // text_to_image's Bedrock model; empty: Nova Canvas
	videoModel string   // the video tools' Bedrock model; empty: Nova Reel
	searxngURL string   // web_search backends
	braveKey   string
	tavilyKey  string

	codeTimeout  time.Duration // how long code_executor's code may run
	codeSameUser bool          // run code as Atrium's own user when not root
}

// setting is one environment variable atrium reads.
type setting struct {
	env, def, help string
}

// settings lists every environment variable, with its default and meaning.
// An ATRIUM_* variable not listed here stops startup, so a typo is caught.
var settings = []setting{
	{"ATRIUM_ADDR", ":8080", "HTTP listen address"},
	{"ATRIUM_DATA_DIR", "./data", "directory for the SQLite file, Pebble, embedded NATS and the JWT secret"},
	{"DATABASE_URL", "", "postgres://… to use PostgreSQL; empty for SQLite in the data dir"},
	{"NATS_URL", "", "nats://… of an external NATS with JetStream; empty for an embedded server"},
	{"ATRIUM_NATS_LISTEN", "", "host:port where the embedded NATS also accepts other nodes; empty for in-process only"},
	{"ATRIUM_ROLES", "gateway,hub,runner", "roles this node runs"},
	{"ATRIUM_JWT_SECRET", "", "HS256 secret for login tokens (32+ bytes); empty: generated once into the data dir"},
	{"ATRIUM_JWT_TTL", "24h", "lifetime of login tokens"},
	{"ATRIUM_CONNECTION_STRING_TTL", "1h", "lifetime of chat connection strings"},
	{"ATRIUM_MESSAGE_STRING_TTL", "10m", "lifetime of chat message strings"},
	{"ATRIUM_MAX_BODY_BYTES", "1048576", "largest JSON request body accepted"},
	{"ATRIUM_RATE_LIMIT", "0", "requests a minute each caller of the OpenAI-compatible API may make (429 beyond); 0: no limit"},
	{"ATRIUM_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"ATRIUM_LOG_FORMAT", "text", "text or json"},
	{"ATRIUM_CHAT_HISTORY", "10000", "events kept per chat for clients that resume with since (older ones: REST history)"},
	{"ATRIUM_SEND_QUEUE", "1024", "events that may wait for one client before it is disconnected as slow_consumer"},
	{"ATRIUM_RUNNER_CONCURRENCY", "256", "runs one runner node answers at once"},
	{"ATRIUM_ECHO_TOKENS", "40", "tokens in an answer of the built-in echo model"},
	{"ATRIUM_ECHO_RATE", "20", "tokens per second the echo model streams (0 or less: no delay)"},
	{"ATRIUM_NODE_ID", "", "this node's name among the nodes sharing NATS ([A-Za-z0-9_-]); empty: random"},
	{"ATRIUM_CORS_ORIGINS", "*", "origins whose pages may call Atrium from a browser, comma-separated (https://app.example.com, *.example.com); * for any"},
	{"ATRIUM_DEBUG_ADDR", "", "host:port serving Go's /debug/pprof/ profiles (keep it private); empty: off"},
	{"OPENAI_BASE_URL", "", "OpenAI-compatible API (…/v1) serving the catalogue's \"openai\" models: OpenAI, Ollama, vLLM, LM Studio"},
	{"OPENAI_API_KEY", "", "API key of OPENAI_BASE_URL (setting only the key means api.openai.com)"},
	{"ATRIUM_BEDROCK_REGION", "", "AWS region of the catalogue's \"bedrock\" models (credentials: the standard AWS chain); empty: AWS_REGION, else off"},
	{"ATRIUM_MODELS", "", "JSON file adding models and upstreams to the catalogue (see docs/agents.md)"},
	{"ATRIUM_EMBEDDING_MODEL", "hash", "what embeds training data for RAG: hash (built in, offline, lexical), hash-<dims>, openai:<model> (OPENAI_BASE_URL: OpenAI, Ollama, vLLM) or bedrock:<model> (Titan; empty model: amazon.titan-embed-text-v2:0)"},
	{"QDRANT_URL", "", "Qdrant's REST API (http://host:6333) keeping and searching RAG's vectors; empty: SQL, searched in each node's memory"},
	{"QDRANT_API_KEY", "", "API key of QDRANT_URL"},
	{"ATRIUM_DEFAULT_MODEL", "", "model of agents created without one (seed 003's create_agent); empty: the first available"},
	{"ATRIUM_TOOL_TIMEOUT", "60s", "longest one tool call may take"},
	{"ATRIUM_TOOLS_ALLOW_HOSTS", "", "comma-separated hosts, IPs or CIDRs tools and webhook deliveries may reach although private or loopback (all such are refused by default)"},
	{"ATRIUM_RESPONSE_CACHE_TTL", "1h", "how long a cached answer to a new conversation's question is reused"},
	{"ATRIUM_FREE_CREDITS", "10000", "credits a user may spend before buying more (API requests get 402 when an agent's owner has none left)"},
	{"ATRIUM_WEBHOOK_TIMEOUT", "15s", "how long a webhook endpoint has to answer 2xx before the attempt counts as failed"},
	{"ATRIUM_WEBHOOK_SCHEDULE", "5s,30s,2m,10m,1h,6h,16h", "waits between a webhook delivery's attempts (each gets up to 10% more); empty: no retries"},
	{"ATRIUM_MCP_STDIO_COMMANDS", "npx,node,uvx,python3", "commands stdio MCP servers may run (they run with the server's rights); * for any, empty: no stdio servers"},
	{"ATRIUM_SEARCH_SEARXNG_URL", "", "web_search backend: a SearXNG instance's base URL (its JSON format enabled)"},
	{"ATRIUM_SEARCH_BRAVE_API_KEY", "", "web_search backend: a Brave Search API key"},
	{"ATRIUM_SEARCH_TAVILY_API_KEY", "", "web_search backend: a Tavily API key"},
	{"ATRIUM_VIDEO_S3_URI", "", "s3://bucket/prefix/ where Bedrock writes text_to_video and image_to_video results (needed by those tools)"},
	{"ATRIUM_IMAGE_MODEL", "", "Bedrock model of text_to_image; empty: amazon.nova-canvas-v1:0"},
	{"ATRIUM_VIDEO_MODEL", "", "Bedrock model of the video tools; empty: amazon.nova-reel-v1:1"},
	{"ATRIUM_CODE_TIMEOUT", "10s", "how long code_executor's Python may run (it also gets as much CPU time, 256 MiB and no network)"},
	{"ATRIUM_CODE_ALLOW_SAME_USER", "false", "when Atrium is not root, let code_executor run code as Atrium's own user (it could then read Atrium's files); false refuses"},
}

// ignoredEnv are ATRIUM_* variables that belong to the tests, not the server.
var ignoredEnv = map[string]bool{"ATRIUM_TEST_DATABASE_URL": true}

// loadConfig parses the flags of a command and the environment. Errors are
// one line naming the setting.
func loadConfig(name string, args []string, environ []string, stderr io.Writer) (config, error) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.env] = true
		if _, ok := env[s.env]; !ok {
			env[s.env] = s.def
		}
	}
	var unknown []string
	for k := range env {
		if strings.HasPrefix(k, "ATRIUM_") && !known[k] && !ignoredEnv[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return config{}, fmt.Errorf("%s: unknown setting (see `atrium %s -h`)", strings.Join(unknown, ", "), name)
	}

	fs := flag.NewFlagSet("atrium "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", env["ATRIUM_ADDR"], "HTTP listen address (ATRIUM_ADDR)")
	dataDir := fs.String("data-dir", env["ATRIUM_DATA_DIR"], "data directory (ATRIUM_DATA_DIR)")
	dbURL := fs.String("database-url", env["DATABASE_URL"], "PostgreSQL URL; empty for SQLite (DATABASE_URL)")
	natsURL := fs.String("nats-url", env["NATS_URL"], "external NATS URL; empty for embedded (NATS_URL)")
	natsListen := fs.String("nats-listen", env["ATRIUM_NATS_LISTEN"], "embedded NATS listen address for other nodes (ATRIUM_NATS_LISTEN)")
	rolesFlag := fs.String("roles", env["ATRIUM_ROLES"], "comma-separated roles: gateway, hub, runner (ATRIUM_ROLES)")
	logLevel := fs.String("log-level", env["ATRIUM_LOG_LEVEL"], "debug, info, warn, error (ATRIUM_LOG_LEVEL)")
	logFormat := fs.String("log-format", env["ATRIUM_LOG_FORMAT"], "text or json (ATRIUM_LOG_FORMAT)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: atrium %s [flags]\n\nflags:\n", name)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nenvironment:\n")
		for _, s := range settings {
			fmt.Fprintf(stderr, "  %-30s %s (default %q)\n", s.env, s.help, s.def)
		}
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("atrium %s: unexpected argument %q", name, fs.Arg(0))
	}

	c := config{
		addr: *addr, databaseURL: *dbURL, natsURL: *natsURL, natsListen: *natsListen,
		jwtSecret: env["ATRIUM_JWT_SECRET"], logFormat: *logFormat,
	}
	var err error
	if c.dataDir, err = filepath.Abs(*dataDir); err != nil || *dataDir == "" {
		return config{}, fmt.Errorf("ATRIUM_DATA_DIR: bad path %q", *dataDir)
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return config{}, fmt.Errorf("ATRIUM_ADDR: %q is not host:port", c.addr)
	}
	if c.natsListen != "" {
		if _, _, err := net.SplitHostPort(c.natsListen); err != nil {
			return config{}, fmt.Errorf("ATRIUM_NATS_LISTEN: %q is not host:port", c.natsListen)
		}
		if c.natsURL != "" {
			return config{}, errors.New("ATRIUM_NATS_LISTEN: only for the embedded NATS; unset NATS_URL or this")
		}
	}
	if c.databaseURL != "" && !strings.HasPrefix(c.databaseURL, "postgres://") && !strings.HasPrefix(c.databaseURL, "postgresql://") {
		return config{}, errors.New("DATABASE_URL: want postgres://… or postgresql://…, or empty for SQLite")
	}
	if c.natsURL != "" && !strings.Contains(c.natsURL, "://") {
		return config{}, fmt.Errorf("NATS_URL: %q is not a URL like nats://host:4222", c.natsURL)
	}
	if c.jwtSecret != "" && len(c.jwtSecret) < 32 {
		return config{}, errors.New("ATRIUM_JWT_SECRET: must be at least 32 bytes")
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{"ATRIUM_JWT_TTL", &c.jwtTTL}, {"ATRIUM_CONNECTION_STRING_TTL", &c.connTTL}, {"ATRIUM_MESSAGE_STRING_TTL", &c.msgTTL},
		{"ATRIUM_TOOL_TIMEOUT", &c.toolTimeout}, {"ATRIUM_RESPONSE_CACHE_TTL", &c.cacheTTL}, {"ATRIUM_WEBHOOK_TIMEOUT", &c.webhookTimeout},
		{"ATRIUM_CODE_TIMEOUT", &c.codeTimeout}} {
		v, err := time.ParseDuration(env[d.env])
		if err != nil || v <= 0 {
			return config{}, fmt.Errorf("%s: %q is not a positive duration like 10m or 24h", d.env, env[d.env])
		}
		*d.dst = v
	}
	if c.maxBody, err = strconv.ParseInt(env["ATRIUM_MAX_BODY_BYTES"], 10, 64); err != nil || c.maxBody < 1024 {
		return config{}, fmt.Errorf("ATRIUM_MAX_BODY_BYTES: %q is not a number of bytes >= 1024", env["ATRIUM_MAX_BODY_BYTES"])
	}
	for _, n := range []struct {
		env string
		dst *int64
		min int64
	}{{"ATRIUM_CHAT_HISTORY", &c.chatHistory, 10}} {
		if *n.dst, err = strconv.ParseInt(env[n.env], 10, 64); err != nil || *n.dst < n.min {
			return config{}, fmt.Errorf("%s: %q is not a number >= %d", n.env, env[n.env], n.min)
		}
	}
	for _, n := range []struct {
		env string
		dst *int
		min int
	}{{"ATRIUM_SEND_QUEUE", &c.sendQueue, 16}, {"ATRIUM_RUNNER_CONCURRENCY", &c.runners, 1}, {"ATRIUM_ECHO_TOKENS", &c.echoTokens, 1}, {"ATRIUM_RATE_LIMIT", &c.rateLimit, 0}} {
		if *n.dst, err = strconv.Atoi(env[n.env]); err != nil || *n.dst < n.min {
			return config{}, fmt.Errorf("%s: %q is not a number >= %d", n.env, env[n.env], n.min)
		}
	}
	if c.echoRate, err = strconv.ParseFloat(env["ATRIUM_ECHO_RATE"], 64); err != nil {
		return config{}, fmt.Errorf("ATRIUM_ECHO_RATE: %q is not a number", env["ATRIUM_ECHO_RATE"])
	}
	if c.echoRate <= 0 {
		c.echoRate = -1 // as fast as possible
	}
	c.openaiBaseURL, c.openaiAPIKey = env["OPENAI_BASE_URL"], env["OPENAI_API_KEY"]
	if c.openaiBaseURL != "" && !strings.HasPrefix(c.openaiBaseURL, "http://") && !strings.HasPrefix(c.openaiBaseURL, "https://") {
		return config{}, fmt.Errorf("OPENAI_BASE_URL: %q is not an http(s) URL like http://127.0.0.1:11434/v1", c.openaiBaseURL)
	}
	c.bedrockRegion = env["ATRIUM_BEDROCK_REGION"]
	if c.bedrockRegion == "" {
		c.bedrockRegion = env["AWS_REGION"]
	}
	c.modelsFile, c.defaultModel = env["ATRIUM_MODELS"], env["ATRIUM_DEFAULT_MODEL"]
	c.embedModel = env["ATRIUM_EMBEDDING_MODEL"]
	c.qdrantURL, c.qdrantKey = env["QDRANT_URL"], env["QDRANT_API_KEY"]
	if c.freeCredits, err = strconv.ParseFloat(env["ATRIUM_FREE_CREDITS"], 64); err != nil || c.freeCredits < 0 {
		return config{}, fmt.Errorf("ATRIUM_FREE_CREDITS: %q is not a number of credits >= 0", env["ATRIUM_FREE_CREDITS"])
	}
	if c.toolAllow, err = safehttp.ParseAllowList(env["ATRIUM_TOOLS_ALLOW_HOSTS"]); err != nil {
		return config{}, fmt.Errorf("ATRIUM_TOOLS_ALLOW_HOSTS: %w", err)
	}
	c.webhookSchedule = []time.Duration{}
	for _, f := range strings.Split(env["ATRIUM_WEBHOOK_SCHEDULE"], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := time.ParseDuration(f)
		if err != nil || v <= 0 {
			return config{}, fmt.Errorf("ATRIUM_WEBHOOK_SCHEDULE: %q is not a positive duration (want a list like 5s,30s,2m,1h)", f)
		}
		c.webhookSchedule = append(c.webhookSchedule, v)
	}
	// Unset means the default list; set but empty, none.
	c.mcpStdio = mcp.ParseStdioCommands(env["ATRIUM_MCP_STDIO_COMMANDS"])
	c.searxngURL, c.braveKey, c.tavilyKey = env["ATRIUM_SEARCH_SEARXNG_URL"], env["ATRIUM_SEARCH_BRAVE_API_KEY"], env["ATRIUM_SEARCH_TAVILY_API_KEY"]
	if c.searxngURL != "" && !strings.HasPrefix(c.searxngURL, "http://") && !strings.HasPrefix(c.searxngURL, "https://") {
		return config{}, fmt.Errorf("ATRIUM_SEARCH_SEARXNG_URL: %q is not an http(s) URL", c.searxngURL)
	}
	if c.codeSameUser, err = strconv.ParseBool(env["ATRIUM_CODE_ALLOW_SAME_USER"]); err != nil {
		return config{}, fmt.Errorf("ATRIUM_CODE_ALLOW_SAME_USER: %q is not true or false", env["ATRIUM_CODE_ALLOW_SAME_USER"])
	}
	c.videoS3URI, c.imageModel, c.videoModel = env["ATRIUM_VIDEO_S3_URI"], env["ATRIUM_IMAGE_MODEL"], env["ATRIUM_VIDEO_MODEL"]
	if c.videoS3URI != "" {
		if err := generate.ValidateS3URI(c.videoS3URI); err != nil {
			return config{}, fmt.Errorf("ATRIUM_VIDEO_S3_URI: %w", err)
		}
	}
	c.node = env["ATRIUM_NODE_ID"]
	c.debugAddr = env["ATRIUM_DEBUG_ADDR"]
	if c.corsOrigins, err = parseCORSOrigins(env["ATRIUM_CORS_ORIGINS"]); err != nil {
		return config{}, err
	}
	for _, r := range c.node {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return config{}, fmt.Errorf("ATRIUM_NODE_ID: %q may hold only letters, digits, _ and -", c.node)
		}
	}
	if c.roles, err = parseRoles(*rolesFlag); err != nil {
		return config{}, err
	}
	if err := c.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return config{}, fmt.Errorf("ATRIUM_LOG_LEVEL: %q is not debug, info, warn or error", *logLevel)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return config{}, fmt.Errorf("ATRIUM_LOG_FORMAT: %q is not text or json", c.logFormat)
	}
	return c, nil
}

// roles is the set of roles a node runs.
type roles struct {
	gateway, hub, runner bool
}

func parseRoles(s string) (roles, error) {
	var r roles
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "gateway":
			r.gateway = true
		case "hub":
			r.hub = true
		case "runner":
			r.runner = true
		case "":
		default:
			return roles{}, fmt.Errorf("ATRIUM_ROLES: unknown role %q (want gateway, hub, runner)", strings.TrimSpace(name))
		}
	}
	if r == (roles{}) {
		return roles{}, errors.New("ATRIUM_ROLES: no role given (want gateway, hub, runner)")
	}
	return r, nil
}

func (r roles) String() string {
	var names []string
	for _, x := range []struct {
		on   bool
		name string
	}{{r.gateway, "gateway"}, {r.hub, "hub"}, {r.runner, "runner"}} {
		if x.on {
			names = append(names, x.name)
		}
	}
	return strings.Join(names, ",")
}

func (c config) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	if c.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parseCORSOrigins reads ATRIUM_CORS_ORIGINS: nil for "*" (any origin),
// else the origins or host patterns listed.
func parseCORSOrigins(v string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(v, ",") {
		switch o = strings.TrimSpace(o); {
		case o == "*":
			return nil, nil
		case o == "":
		default:
			if _, err := path.Match(o, ""); err != nil {
				return nil, fmt.Errorf("ATRIUM_CORS_ORIGINS: %q is not a valid pattern", o)
			}
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("ATRIUM_CORS_ORIGINS is empty: list origins, or * for any")
	}
	return out, nil
}
