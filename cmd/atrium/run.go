package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/agents/rag"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/agents/webhook"
	"github.com/atrium-hq/atrium/gateway"
	"github.com/atrium-hq/atrium/hub"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/kv"
	"github.com/atrium-hq/atrium/persistence/qdrant"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// bodyIdleTimeout is how long a request's body may stop arriving before
// the request fails (gateway.LimitBodyIdle); the headers have
// ReadHeaderTimeout.
const bodyIdleTimeout = time.Minute

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `usage: atrium <command> [flags]

commands:
  serve     run Atrium (all roles unless --roles says otherwise)
  migrate   bring the database schema up to date and exit
  version   print the version

Run "atrium <command> -h" for the flags and environment of a command.`

// run is the whole program; main only calls it. It returns when ctx is done
// (after a clean shutdown) or on the first error.
func run(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		cfg, err := loadConfig("serve", args[1:], environ, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout, cfg.logger(stderr))
	case "migrate":
		cfg, err := loadConfig("migrate", args[1:], environ, stderr)
		if err != nil {
			return err
		}
		return migrate(ctx, cfg, stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "atrium", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// openDB opens the configured database and brings its schema up to date,
// returning the migrations it applied.
func openDB(ctx context.Context, cfg config) (*sqldb.DB, []string, error) {
	db, err := sqldb.Open(ctx, sqldb.Config{URL: cfg.databaseURL, DataDir: cfg.dataDir})
	if err != nil {
		return nil, nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, applied, nil
}

func migrate(ctx context.Context, cfg config, stdout io.Writer) error {
	db, applied, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	for _, m := range applied {
		fmt.Fprintln(stdout, "applied", m)
	}
	fmt.Fprintf(stdout, "%s: schema at version %d\n", db.Where, v)
	return nil
}

// serve starts the stores, then the HTTP server, and on ctx.Done shuts them
// down in reverse order.
func serve(ctx context.Context, cfg config, stdout io.Writer, logger *slog.Logger) error {
	startGCFloor()
	if err := os.MkdirAll(cfg.dataDir, 0o750); err != nil {
		return fmt.Errorf("ATRIUM_DATA_DIR: %w", err)
	}
	secret, err := jwtSecret(cfg)
	if err != nil {
		return err
	}

	db, applied, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	logger.Info("database ready", "where", db.Where, "migrations_applied", len(applied))

	store, err := kv.Open(filepath.Join(cfg.dataDir, "pebble"), kv.Config{Logger: logger})
	if err != nil {
		return err
	}
	defer store.Close()

	nats, err := bus.Start(ctx, bus.Config{URL: cfg.natsURL, DataDir: cfg.dataDir, Listen: cfg.natsListen, Logger: logger})
	if err != nil {
		return err
	}
	defer nats.Close()
	logger.Info("nats ready", "where", nats.Where)

	chatLog, err := nats.ChatLog(ctx, bus.ChatLogConfig{PerChat: cfg.chatHistory})
	if err != nil {
		return err
	}
	queue, err := nats.RunQueue(ctx, bus.RunQueueConfig{})
	if err != nil {
		return err
	}
	presenceTable, err := nats.Presence(ctx, 0)
	if err != nil {
		return err
	}

	free := cfg.freeCredits
	if free == 0 {
		free = -1 // workspaces reads 0 as "the default"
	}
	// A balance read for a credit check, and an API key found, serve that
	// user's requests for a second (a revoked key stops at once on the
	// node that revokes it); direct model calls are charged in batches
	// (charger).
	// Access taken away (a member removed, a workspace or chat deleted)
	// reaches every node's hub, which ends the live watches it allowed.
	access := nats.Access()
	ws := workspaces.New(db, workspaces.Config{ConnectionStringTTL: cfg.connTTL, MessageStringTTL: cfg.msgTTL, FreeCredits: free,
		CreditCheckTTL: time.Second, KeyCacheTTL: time.Second,
		AccessChanged: func(id workspaces.WorkspaceID, user workspaces.UserID) {
			if err := access.Changed(string(id), string(user)); err != nil {
				logger.Warn("access notice", "workspace", id, "err", err)
			}
		}})
	charger := workspaces.NewCharger(ws, workspaces.ChargerConfig{Logger: logger})
	chargerCtx, stopCharger := context.WithCancel(context.WithoutCancel(ctx))
	chargerDone := make(chan struct{})
	go func() {
		defer close(chargerDone)
		charger.Run(chargerCtx)
	}()
	defer func() { stopCharger(); <-chargerDone }() // after the gateway: it writes what waits
	catalogue, err := buildCatalogue(ctx, cfg, logger)
	if err != nil {
		return err
	}
	scripts := scriptRunner{}
	// Tools reach the network only through safehttp, which refuses private
	// addresses unless the operator allows them.
	web := safehttp.New(safehttp.Config{Allow: cfg.toolAllow})
	ag := agents.New(db, ws)
	ag.Check(catalogue, scripts)
	conv := agents.NewConversations(db, ws, agents.NewEvents(chatLog), queue, nats.Conn, agents.ConversationsConfig{})
	// Outgoing webhooks: the agents service (agent.created, on gateway
	// nodes) and the runner (executions, tool calls) notify wh, whose
	// dispatcher runs on every node; runner nodes send the deliveries.
	whQueue, err := nats.WebhookQueue(ctx, bus.WebhookQueueConfig{AckWait: cfg.webhookTimeout + 30*time.Second})
	if err != nil {
		return err
	}
	wh := webhook.New(db, ag, whQueue, webhook.Config{Logger: logger})
	ag.NotifyTo(wh)
	tokens := workspaces.NewTokens(secret, cfg.jwtTTL, nil)
	// Signed file URLs use their own key, derived from the JWT secret.
	fileKey := sha256.Sum256(append([]byte("atrium files\x00"), secret...))
	files := agents.NewFiles(db, agents.FilesConfig{Dir: filepath.Join(cfg.dataDir, "files"), Secret: fileKey[:]})
	customTools := agents.NewCustomTools(db)
	// RAG: training data and indexes in SQL, searched in each node's memory.
	embedder, err := newEmbedder(ctx, cfg)
	if err != nil {
		return err
	}
	ragCfg := rag.Config{Embedder: embedder, Notify: wh, Logger: logger}
	if cfg.qdrantURL != "" {
		if ragCfg.Qdrant, err = qdrant.New(qdrant.Config{URL: cfg.qdrantURL, APIKey: cfg.qdrantKey}); err != nil {
			return fmt.Errorf("QDRANT_URL: %w", err)
		}
	}
	knowledge := rag.New(db, ag, files, ragCfg)
	defer knowledge.Close()
	// MCP servers: stdio ones run only the operator's allowed commands, in
	// their own directories; HTTP ones go through safehttp, without its
	// body cap (their event streams are long-lived).
	mcpServers := mcp.NewStore(db, mcp.StoreConfig{StdioCommands: cfg.mcpStdio})
	mcpTools := mcp.NewManager(mcpServers, mcp.Config{
		StdioCommands: cfg.mcpStdio, WorkDir: filepath.Join(cfg.dataDir, "mcp"), Version: version, Logger: logger,
		HTTPClient: safehttp.New(safehttp.Config{Allow: cfg.toolAllow, MaxBodyBytes: -1}).HTTPClient(),
	})
	defer mcpTools.Close() // after the runner, which calls its tools
	tools, err := buildTools(ctx, toolDeps{cfg: cfg, logger: logger, web: web, files: files, custom: customTools, mcp: mcpTools, knowledge: knowledge})
	if err != nil {
		return err
	}
	checks := map[string]func(context.Context) error{
		"database": db.Ping,
		"nats":     nats.Ping,
		"pebble":   func(context.Context) error { return store.Ping() },
	}
	if ragCfg.Qdrant != nil {
		checks["qdrant"] = ragCfg.Qdrant.Ping
	}

	// Browsers on other origins (ATRIUM_CORS_ORIGINS) may call the REST
	// APIs and the events streams; /ws checks the Origin in its
	// handshake and Socket.IO answers CORS itself, from the same list.
	var allowOrigin func(r *http.Request, origin string) bool
	if cfg.corsOrigins != nil {
		allowOrigin = func(r *http.Request, origin string) bool { return hub.OriginAllowed(origin, r.Host, cfg.corsOrigins) }
	}
	root := http.NewServeMux()
	if cfg.roles.gateway {
		root.Handle("/", gateway.CORS(gateway.NewServer(gateway.Deps{
			Logger: logger, Workspaces: ws, Agents: ag, Tokens: tokens, Checks: checks,
			Conversations: conv, Catalogue: catalogue, Files: files, Webhooks: wh, CustomTools: customTools, RAG: knowledge,
			MCP: mcpTools, MCPServers: mcpServers, Charger: charger,
			ResponseItems: agents.NewResponseItems(db, agents.ResponseItemsConfig{}),
		}, gateway.Config{MaxBodyBytes: cfg.maxBody, RateLimit: cfg.rateLimit}), allowOrigin))
	} else {
		root.Handle("/", gateway.NewProbes(logger, checks))
	}
	var live *hub.Hub
	if cfg.roles.hub {
		live = hub.New(hub.Deps{Logger: logger, Workspaces: ws, Conversations: conv, Tokens: tokens, Presence: presenceTable, Access: access},
			hub.Config{Node: cfg.node, SendQueue: cfg.sendQueue, CORSOrigins: cfg.corsOrigins})
		for _, p := range hub.Patterns {
			h := live.Handler()
			if strings.HasSuffix(p, "/events") {
				h = gateway.CORS(h, allowOrigin)
			}
			root.Handle(p, h)
		}
	}
	runnerDone := make(chan struct{})
	runCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRunner()
	if cfg.roles.runner {
		// auto_connect servers connect where their tools are called.
		if err := mcpTools.Start(ctx); err != nil {
			logger.Warn("mcp: start", "err", err)
		}
		r := agents.NewRunner(conv, queue, agents.RunnerConfig{
			Models: catalogue, Scripts: scripts, Hot: store, Tools: tools,
			ToolTimeout: cfg.toolTimeout, CacheTTL: cfg.cacheTTL, Concurrency: cfg.runners, Logger: logger,
			Notify: wh, Knowledge: knowledge,
		})
		go func() {
			defer close(runnerDone)
			if err := r.Run(runCtx); err != nil {
				logger.Error("runner stopped", "err", err)
			}
		}()
	} else {
		close(runnerDone)
	}
	// Webhook deliveries leave from runner nodes, which already make the
	// agents' outbound calls (through the same safehttp allow list), so
	// gateway and hub nodes only answer clients. The queue is durable: with
	// no runner up, deliveries wait, as runs do.
	whDispatchDone, senderDone := make(chan struct{}), make(chan struct{})
	whCtx, stopWebhooks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWebhooks()
	go func() {
		defer close(whDispatchDone)
		wh.Run(whCtx)
	}()
	if cfg.roles.runner {
		sender := webhook.NewWorker(wh, whQueue, webhook.WorkerConfig{
			Schedule: cfg.webhookSchedule, Timeout: cfg.webhookTimeout, Allow: cfg.toolAllow, Logger: logger,
		})
		go func() {
			defer close(senderDone)
			if err := sender.Run(runCtx); err != nil {
				logger.Error("webhook sender stopped", "err", err)
			}
		}()
	} else {
		close(senderDone)
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("ATRIUM_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           gateway.LimitBodyIdle(root, bodyIdleTimeout),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	// This line is the contract with scripts and tests that start atrium on
	// port 0: it names the address actually bound.
	fmt.Fprintf(stdout, "atrium %s listening on http://%s (roles %s)\n", version, ln.Addr(), cfg.roles)
	logger.Info("serving", "addr", ln.Addr().String(), "roles", cfg.roles.String(), "data_dir", cfg.dataDir)

	go purgeExpired(ctx, ws, logger)
	if cfg.debugAddr != "" {
		stopDebug, err := serveDebug(cfg.debugAddr, logger)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	// Live clients first (their connections are hijacked or streaming, so
	// Shutdown would wait for them), then HTTP, then the runner, which hands
	// unfinished runs back to the queue; the stores close after, deferred.
	if live != nil {
		live.Close()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("http shutdown", "err", err)
		srv.Close()
	}
	stopRunner()
	<-runnerDone
	<-senderDone
	// The dispatcher stops last: it queues what the gateway and the runner
	// notified until they stopped.
	stopWebhooks()
	<-whDispatchDone
	return nil
}

// purgeExpired deletes expired chat strings every ten minutes until ctx ends.
func purgeExpired(ctx context.Context, ws *workspaces.Service, logger *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := ws.PurgeExpiredSecrets(ctx); err != nil {
				logger.Warn("purge expired chat strings", "err", err)
			} else if n > 0 {
				logger.Debug("purged expired chat strings", "count", n)
			}
		}
	}
}

// jwtSecret returns ATRIUM_JWT_SECRET, or the secret kept in the data dir,
// generating it on first start so tokens survive restarts.
func jwtSecret(cfg config) ([]byte, error) {
	if cfg.jwtSecret != "" {
		return []byte(cfg.jwtSecret), nil
	}
	path := filepath.Join(cfg.dataDir, "jwt_secret")
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, fmt.Errorf("ATRIUM_JWT_SECRET: %s holds fewer than 32 bytes; delete it to generate a new one", path)
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("ATRIUM_JWT_SECRET: read %s: %w", path, err)
	}
	var raw [32]byte
	rand.Read(raw[:])
	s := hex.EncodeToString(raw[:])
	// Write a temp file and hard-link it into place: the link either creates
	// the complete file or fails because another process made it first.
	tmp, err := os.CreateTemp(cfg.dataDir, ".jwt_secret-*")
	if err != nil {
		return nil, fmt.Errorf("ATRIUM_JWT_SECRET: create secret in %s: %w", cfg.dataDir, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(s + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("ATRIUM_JWT_SECRET: write secret: %w", werr)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return jwtSecret(cfg)
	} else if err != nil {
		return nil, fmt.Errorf("ATRIUM_JWT_SECRET: create %s: %w", path, err)
	}
	return []byte(s), nil
}

// serveDebug serves Go's profiles on their own listener, so they are never
// reachable through the public address.
func serveDebug(addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ATRIUM_DEBUG_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	logger.Info("serving profiles", "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}
