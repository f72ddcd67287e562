package agents

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// ID identifies an agent.
type ID string

// Status is where an agent is in its lifecycle.
type Status string

// The lifecycle: draft → training → testing → published (and back).
const (
	StatusDraft     Status = "draft"
	StatusTraining  Status = "training"
	StatusTesting   Status = "testing"
	StatusPublished Status = "published"
)

// Agent is an AI agent that answers in chats.
type Agent struct {
	ID          ID
	Owner       workspaces.UserID
	Name        string
	Description string
	ModelID     string
	Type        string
	Status      Status
	// Config is the agent's configuration, as a JSON object (see Config).
	Config string
	// Script is the agent's script (seed 003); empty means none.
	Script string
	// Version counts changes to the agent; caches key on it.
	Version     int
	PublishedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Settings returns the agent's parsed configuration. A stored
// configuration is always valid; should it not be, the defaults apply.
func (a Agent) Settings() Config {
	c, err := ParseConfig(a.Config)
	if err != nil {
		c, _ = ParseConfig("")
	}
	return c
}

// Service manages agents over a SQL database. Safe for concurrent use.
type Service struct {
	db         *sqldb.DB
	workspaces *workspaces.Service
	now        func() time.Time
	// catalogue and scripts check models and scripts when set.
	catalogue *Catalogue
	scripts   ScriptRunner
	notifier  Notifier
}

// New returns a Service. ws checks workspace ownership for attachments.
func New(db *sqldb.DB, ws *workspaces.Service) *Service {
	return &Service{db: db, workspaces: ws, now: time.Now}
}

// Check makes the service refuse agents whose model is not in catalogue
// and scripts scripts refuses. Either may be nil. Call before use.
func (s *Service) Check(catalogue *Catalogue, scripts ScriptRunner) {
	s.catalogue, s.scripts = catalogue, scripts
}

// NotifyTo makes the service report new agents to n. Call before use.
func (s *Service) NotifyTo(n Notifier) { s.notifier = n }

// NewAgent holds what Create needs.
type NewAgent struct {
	Name        string
	Description string
	ModelID     string
	Type        string
	// Config is a JSON object; empty means {}.
	Config string
	// Script is the agent's script; empty means none.
	Script string
}

// Limits of an agent's fields.
const (
	maxAgentName   = 200
	maxAgentDesc   = 10_000
	maxAgentType   = 100
	maxAgentScript = 100_000
)

// Create creates a draft agent owned by owner.
func (s *Service) Create(ctx context.Context, owner workspaces.UserID, a NewAgent) (Agent, error) {
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" {
		return Agent{}, workspaces.E(workspaces.KindInvalid, "name is required")
	}
	if strings.TrimSpace(a.ModelID) == "" {
		return Agent{}, workspaces.E(workspaces.KindInvalid, "model_id is required")
	}
	model, err := s.checkModel(a.ModelID)
	if err != nil {
		return Agent{}, err
	}
	if a.Config == "" {
		a.Config = "{}"
	}
	if err := s.checkFields(a.Name, a.Description, a.Type, a.Config, a.Script); err != nil {
		return Agent{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	row := &sqldb.Agent{
		ID: workspaces.NewID(), OwnerID: string(owner), Name: a.Name, Description: a.Description,
		ModelID: model, AgentType: a.Type, Status: string(StatusDraft), Config: a.Config, Script: a.Script, Version: 1,
		CreatedAt: now, UpdatedAt: now,
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return Agent{}, workspaces.Internal("create agent", err)
	}
	a2 := agentFromRow(row)
	notify(ctx, s.notifier, Notification{Event: NotifyAgentCreated, Owner: owner, Agent: a2.ID,
		Data: map[string]any{"name": a2.Name, "model_id": a2.ModelID, "status": a2.Status}})
	return a2, nil
}

// List returns the agents owner owns, newest first.
func (s *Service) List(ctx context.Context, owner workspaces.UserID) ([]Agent, error) {
	var rows []sqldb.Agent
	if err := s.db.NewSelect().Model(&rows).Where("owner_id = ?", string(owner)).OrderExpr("created_at DESC, id").Scan(ctx); err != nil {
		return nil, workspaces.Internal("list agents", err)
	}
	out := make([]Agent, len(rows))
	for i := range rows {
		out[i] = agentFromRow(&rows[i])
	}
	return out, nil
}

// Agent returns agent id if caller may see it: they own it, or it is published.
func (s *Service) Agent(ctx context.Context, caller workspaces.UserID, id ID) (Agent, error) {
	if !workspaces.ValidID(string(id)) {
		return Agent{}, workspaces.E(workspaces.KindNotFound, "Agent not found")
	}
	var row sqldb.Agent
	err := s.db.NewSelect().Model(&row).
		Where("id = ?", string(id)).
		Where("(owner_id = ? OR status = ?)", string(caller), string(StatusPublished)).
		Scan(ctx)
	if sqldb.IsNoRows(err) {
		return Agent{}, workspaces.E(workspaces.KindNotFound, "Agent not found")
	}
	if err != nil {
		return Agent{}, workspaces.Internal("get agent", err)
	}
	return agentFromRow(&row), nil
}

// Attach makes agent answer in workspace ws. The caller must own ws and be
// able to see the agent. Attaching twice is not an error.
func (s *Service) Attach(ctx context.Context, caller workspaces.UserID, ws workspaces.WorkspaceID, agent ID) error {
	if _, err := s.workspaces.OwnedWorkspace(ctx, caller, ws); err != nil {
		return err
	}
	if _, err := s.Agent(ctx, caller, agent); err != nil {
		return err
	}
	row := &sqldb.WorkspaceAgent{WorkspaceID: string(ws), AgentID: string(agent), AddedBy: string(caller), CreatedAt: s.now().UTC()}
	if _, err := s.db.NewInsert().Model(row).On("CONFLICT (workspace_id, agent_id) DO NOTHING").Exec(ctx); err != nil {
		return workspaces.Internal("attach agent", err)
	}
	return nil
}

// Detach stops agent answering in workspace ws. The caller must own ws.
func (s *Service) Detach(ctx context.Context, caller workspaces.UserID, ws workspaces.WorkspaceID, agent ID) error {
	if _, err := s.workspaces.OwnedWorkspace(ctx, caller, ws); err != nil {
		return err
	}
	if !workspaces.ValidID(string(agent)) {
		return workspaces.E(workspaces.KindNotFound, "Agent not found in workspace")
	}
	res, err := s.db.NewDelete().Model((*sqldb.WorkspaceAgent)(nil)).
		Where("workspace_id = ? AND agent_id = ?", string(ws), string(agent)).Exec(ctx)
	if err != nil {
		return workspaces.Internal("detach agent", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspaces.E(workspaces.KindNotFound, "Agent not found in workspace")
	}
	return nil
}

// Attached returns the ids of the agents attached to each of the given
// workspaces, in the order they were attached. It does not check access:
// callers pass workspaces they have already loaded for the user.
func (s *Service) Attached(ctx context.Context, ids ...workspaces.WorkspaceID) (map[workspaces.WorkspaceID][]ID, error) {
	out := make(map[workspaces.WorkspaceID][]ID, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = string(id)
	}
	var rows []sqldb.WorkspaceAgent
	err := s.db.NewSelect().Model(&rows).Where("workspace_id IN (?)", bun.In(keys)).OrderExpr("created_at, agent_id").Scan(ctx)
	if err != nil {
		return nil, workspaces.Internal("list attached agents", err)
	}
	for _, r := range rows {
		w := workspaces.WorkspaceID(r.WorkspaceID)
		out[w] = append(out[w], ID(r.AgentID))
	}
	return out, nil
}

func agentFromRow(r *sqldb.Agent) Agent {
	return Agent{
		ID: ID(r.ID), Owner: workspaces.UserID(r.OwnerID), Name: r.Name, Description: r.Description,
		ModelID: r.ModelID, Type: r.AgentType, Status: Status(r.Status), Config: r.Config, Script: r.Script,
		Version: r.Version, PublishedAt: r.PublishedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}
