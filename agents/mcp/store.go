package mcp

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// StoreConfig tunes a Store. The zero value works.
type StoreConfig struct {
	// StdioCommands are the commands stdio servers may run (see
	// ParseStdioCommands). Nil means DefaultStdioCommands; empty, none.
	// Give the Manager the same list: it checks again before running one.
	StdioCommands []string
	// MaxServers is how many servers one user may have. Zero means 100.
	MaxServers int
}

// Store keeps MCP server configurations in SQL. Every method is scoped to
// an owner: another user's server is not found. Safe for concurrent use.
type Store struct {
	db       *sqldb.DB
	commands commandPolicy
	max      int
	now      func() time.Time
	// version counts this process's changes (Version).
	version atomic.Uint64
}

// Version changes whenever this process creates, changes or deletes a
// server; changes made by other processes are not counted.
func (s *Store) Version() uint64 { return s.version.Load() }

// NewStore returns a Store over db.
func NewStore(db *sqldb.DB, cfg StoreConfig) *Store {
	if cfg.MaxServers <= 0 {
		cfg.MaxServers = 100
	}
	return &Store{db: db, commands: newCommandPolicy(cfg.StdioCommands), max: cfg.MaxServers, now: time.Now}
}

var errNotFound = workspaces.E(workspaces.KindNotFound, "MCP server not found")

// Create adds a server for owner after checking it (see the field rules
// in the package's validation: name, transport_type, command, args, env,
// url, headers, agent).
func (s *Store) Create(ctx context.Context, owner workspaces.UserID, n NewServer) (Server, error) {
	defer s.version.Add(1)
	srv := Server{
		Owner: owner, Agent: n.Agent, Name: n.Name, Description: n.Description, Transport: n.Transport,
		Command: n.Command, Args: n.Args, Env: n.Env, URL: n.URL, Headers: n.Headers,
		AutoConnect: n.AutoConnect == nil || *n.AutoConnect, Active: n.Active == nil || *n.Active,
	}
	if err := s.check(ctx, &srv); err != nil {
		return Server{}, err
	}
	count, err := s.db.NewSelect().Model((*sqldb.MCPServer)(nil)).Where("owner_id = ?", string(owner)).Count(ctx)
	if err != nil {
		return Server{}, workspaces.Internal("count mcp servers", err)
	}
	if count >= int64(s.max) {
		return Server{}, workspaces.Errorf(workspaces.KindInvalid, "You have %d MCP servers, the most allowed; delete one first", count)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	srv.ID, srv.CreatedAt, srv.UpdatedAt = ServerID(workspaces.NewID()), now, now
	row, err := rowFromServer(srv)
	if err != nil {
		return Server{}, err
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return Server{}, workspaces.Internal("create mcp server", err)
	}
	return srv, nil
}

// Get returns owner's server id.
func (s *Store) Get(ctx context.Context, owner workspaces.UserID, id ServerID) (Server, error) {
	if !workspaces.ValidID(string(id)) {
		return Server{}, errNotFound
	}
	var row sqldb.MCPServer
	err := s.db.NewSelect().Model(&row).Where("id = ? AND owner_id = ?", string(id), string(owner)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return Server{}, errNotFound
	}
	if err != nil {
		return Server{}, workspaces.Internal("get mcp server", err)
	}
	return serverFromRow(&row), nil
}

// List returns owner's servers, oldest first.
func (s *Store) List(ctx context.Context, owner workspaces.UserID) ([]Server, error) {
	var rows []sqldb.MCPServer
	if err := s.db.NewSelect().Model(&rows).Where("owner_id = ?", string(owner)).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, workspaces.Internal("list mcp servers", err)
	}
	return serversFromRows(rows), nil
}

// ForAgent returns owner's servers that serve agent: those of all agents
// and those of agent itself, oldest first. Inactive servers are left out
// when activeOnly is set.
func (s *Store) ForAgent(ctx context.Context, owner workspaces.UserID, agent agents.ID, activeOnly bool) ([]Server, error) {
	var rows []sqldb.MCPServer
	q := s.db.NewSelect().Model(&rows).Where("owner_id = ?", string(owner))
	if agent == "" {
		q = q.Where("agent_id IS NULL")
	} else {
		q = q.Where("(agent_id IS NULL OR agent_id = ?)", string(agent))
	}
	if activeOnly {
		q = q.Where("is_active = ?", true)
	}
	if err := q.OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, workspaces.Internal("list mcp servers", err)
	}
	return serversFromRows(rows), nil
}

// autoConnect returns every active auto_connect server, of all users.
func (s *Store) autoConnect(ctx context.Context) ([]Server, error) {
	var rows []sqldb.MCPServer
	if err := s.db.NewSelect().Model(&rows).Where("is_active = ? AND auto_connect = ?", true, true).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, workspaces.Internal("list mcp servers", err)
	}
	return serversFromRows(rows), nil
}

// Update changes owner's server id. Tell the Manager with Forget so its
// connection is remade.
func (s *Store) Update(ctx context.Context, owner workspaces.UserID, id ServerID, u ServerUpdate) (Server, error) {
	defer s.version.Add(1)
	srv, err := s.Get(ctx, owner, id)
	if err != nil {
		return Server{}, err
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if u.Agent != nil {
		srv.Agent = *u.Agent
	}
	set(&srv.Name, u.Name)
	set(&srv.Description, u.Description)
	set(&srv.Transport, u.Transport)
	set(&srv.Command, u.Command)
	set(&srv.URL, u.URL)
	if u.Args != nil {
		srv.Args = *u.Args
	}
	if u.Env != nil {
		srv.Env = unmask(*u.Env, srv.Env)
	}
	if u.Headers != nil {
		srv.Headers = unmask(*u.Headers, srv.Headers)
	}
	if u.AutoConnect != nil {
		srv.AutoConnect = *u.AutoConnect
	}
	if u.Active != nil {
		srv.Active = *u.Active
	}
	if err := s.check(ctx, &srv); err != nil {
		return Server{}, err
	}
	srv.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	row, err := rowFromServer(srv)
	if err != nil {
		return Server{}, err
	}
	res, err := s.db.NewUpdate().Model(row).ExcludeColumn("id", "owner_id", "created_at").
		Where("id = ? AND owner_id = ?", row.ID, row.OwnerID).Exec(ctx)
	if err != nil {
		return Server{}, workspaces.Internal("update mcp server", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Server{}, errNotFound
	}
	return srv, nil
}

// Delete removes owner's server id. Tell the Manager with Forget so its
// connection is closed.
func (s *Store) Delete(ctx context.Context, owner workspaces.UserID, id ServerID) error {
	defer s.version.Add(1)
	if !workspaces.ValidID(string(id)) {
		return errNotFound
	}
	res, err := s.db.NewDelete().Model((*sqldb.MCPServer)(nil)).Where("id = ? AND owner_id = ?", string(id), string(owner)).Exec(ctx)
	if err != nil {
		return workspaces.Internal("delete mcp server", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNotFound
	}
	return nil
}

// CheckAgent returns nil if owner owns agent, and an invalid-argument
// error naming it otherwise.
func (s *Store) CheckAgent(ctx context.Context, owner workspaces.UserID, agent agents.ID) error {
	if !workspaces.ValidID(string(agent)) {
		return workspaces.Errorf(workspaces.KindInvalid, "Unknown agent %q: you own no agent with this id", agent)
	}
	ok, err := s.db.NewSelect().Model((*sqldb.Agent)(nil)).Where("id = ? AND owner_id = ?", string(agent), string(owner)).Exists(ctx)
	if err != nil {
		return workspaces.Internal("check agent", err)
	}
	if !ok {
		return workspaces.Errorf(workspaces.KindInvalid, "Unknown agent %q: you own no agent with this id", agent)
	}
	return nil
}

// check validates and normalizes srv in place, clearing the fields of the
// transport it does not use.
func (s *Store) check(ctx context.Context, srv *Server) error {
	var err error
	if srv.Name, err = checkName(srv.Name); err != nil {
		return err
	}
	if err := checkDescription(srv.Description); err != nil {
		return err
	}
	if srv.Transport, err = ParseTransport(srv.Transport); err != nil {
		return err
	}
	switch srv.Transport {
	case TransportStdio:
		if srv.Command, err = s.commands.checkCommand(srv.Command); err != nil {
			return err
		}
		if err := checkArgs(srv.Args); err != nil {
			return err
		}
		if err := checkEnv(srv.Env); err != nil {
			return err
		}
		srv.URL, srv.Headers = "", nil
	case TransportHTTP:
		if srv.URL, err = checkURL(srv.URL); err != nil {
			return err
		}
		if err := checkHeaders(srv.Headers); err != nil {
			return err
		}
		srv.Command, srv.Args, srv.Env = "", nil, nil
	}
	if srv.Agent != "" {
		if err := s.CheckAgent(ctx, srv.Owner, srv.Agent); err != nil {
			return err
		}
	}
	q := s.db.NewSelect().Model((*sqldb.MCPServer)(nil)).Where("owner_id = ? AND name = ?", string(srv.Owner), srv.Name)
	if srv.Agent == "" {
		q = q.Where("agent_id IS NULL")
	} else {
		q = q.Where("agent_id = ?", string(srv.Agent))
	}
	if srv.ID != "" {
		q = q.Where("id <> ?", string(srv.ID))
	}
	taken, err := q.Exists(ctx)
	if err != nil {
		return workspaces.Internal("check mcp server name", err)
	}
	if taken {
		return workspaces.Errorf(workspaces.KindConflict, "name: you already have an MCP server named %q for this agent", srv.Name)
	}
	return nil
}

func rowFromServer(s Server) (*sqldb.MCPServer, error) {
	row := &sqldb.MCPServer{
		ID: string(s.ID), OwnerID: string(s.Owner), Name: s.Name, Description: s.Description, Transport: s.Transport,
		Command: s.Command, URL: s.URL, AutoConnect: s.AutoConnect, IsActive: s.Active,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if s.Agent != "" {
		a := string(s.Agent)
		row.AgentID = &a
	}
	var err error
	if row.Args, err = jsonText(s.Args, len(s.Args) > 0); err != nil {
		return nil, err
	}
	if row.Env, err = jsonText(s.Env, len(s.Env) > 0); err != nil {
		return nil, err
	}
	if row.Headers, err = jsonText(s.Headers, len(s.Headers) > 0); err != nil {
		return nil, err
	}
	return row, nil
}

// jsonText returns v as JSON text, or nil (SQL NULL) when !set.
func jsonText(v any, set bool) (*string, error) {
	if !set {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, workspaces.Internal("encode mcp server", err)
	}
	s := string(b)
	return &s, nil
}

func serverFromRow(r *sqldb.MCPServer) Server {
	s := Server{
		ID: ServerID(r.ID), Owner: workspaces.UserID(r.OwnerID), Name: r.Name, Description: r.Description,
		Transport: r.Transport, Command: r.Command, URL: r.URL, AutoConnect: r.AutoConnect, Active: r.IsActive,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.AgentID != nil {
		s.Agent = agents.ID(*r.AgentID)
	}
	// Stored values were encoded by rowFromServer; should one not decode,
	// the field is empty and connecting says what is missing.
	if r.Args != nil {
		json.Unmarshal([]byte(*r.Args), &s.Args)
	}
	if r.Env != nil {
		json.Unmarshal([]byte(*r.Env), &s.Env)
	}
	if r.Headers != nil {
		json.Unmarshal([]byte(*r.Headers), &s.Headers)
	}
	return s
}

func serversFromRows(rows []sqldb.MCPServer) []Server {
	out := make([]Server, len(rows))
	for i := range rows {
		out[i] = serverFromRow(&rows[i])
	}
	return out
}
