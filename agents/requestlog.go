package agents

import (
	"context"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// RequestLog is one answered request, with what seed 003's Logs page shows.
type RequestLog struct {
	ID      string
	AgentID ID
	RunID   RunID
	ChatID  workspaces.ChatID
	// Source is where the request came from ("chat", "api", ...).
	Source       string
	Model        string
	Prompt       string
	Response     string
	Status       RunStatus
	Error        string
	Usage        Usage
	Credits      float64
	Iterations   int
	ToolCalls    int
	Cached       bool
	ResponseTime time.Duration
	// ToolCallTime is the time spent deciding which tool to call (the
	// model turns that ended in tool calls); ToolParamTime is the time
	// spent writing the calls' parameters (from a call's first piece to
	// its last) — seed 003's two tool timings.
	ToolCallTime  time.Duration
	ToolParamTime time.Duration
	CreatedAt     time.Time
}

// AgentStatus is an agent's state as seed 000's status endpoint shows it.
type AgentStatus struct {
	Agent          Agent
	ModelAvailable bool
	ActiveRuns     int
	Requests       int
	LastRequestAt  *time.Time
}

// Status returns agent a's status.
func (s *Service) Status(ctx context.Context, a Agent) (AgentStatus, error) {
	st := AgentStatus{Agent: a}
	if s.catalogue != nil {
		st.ModelAvailable = s.catalogue.Available(a.ModelID)
	}
	active, err := s.db.NewSelect().Model((*sqldb.Run)(nil)).
		Where("agent_id = ? AND status IN (?, ?)", string(a.ID), string(RunQueued), string(RunRunning)).Count(ctx)
	if err != nil {
		return st, workspaces.Internal("count runs", err)
	}
	st.ActiveRuns = int(active)
	var agg struct {
		N    int        `bun:"n"`
		Last *time.Time `bun:"last"`
	}
	err = s.db.NewSelect().Model((*sqldb.RequestLog)(nil)).ColumnExpr("COUNT(*) AS n, MAX(created_at) AS last").
		Where("agent_id = ?", string(a.ID)).Scan(ctx, &agg)
	if err != nil {
		return st, workspaces.Internal("count requests", err)
	}
	st.Requests, st.LastRequestAt = agg.N, agg.Last
	return st, nil
}

// History returns agent a's request logs, newest first, limit at a time,
// those older than before when before is set.
func (s *Service) History(ctx context.Context, a Agent, before string, limit int) ([]RequestLog, bool, error) {
	var rows []sqldb.RequestLog
	q := s.db.NewSelect().Model(&rows).Where("agent_id = ?", string(a.ID))
	if before != "" {
		q = q.Where("(created_at, id) < (SELECT created_at, id FROM request_logs WHERE id = ?)", before)
	}
	if err := q.OrderExpr("created_at DESC, id DESC").Limit(int64(limit + 1)).Scan(ctx); err != nil {
		return nil, false, workspaces.Internal("list request logs", err)
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	out := make([]RequestLog, len(rows))
	for i := range rows {
		out[i] = logFromRow(&rows[i])
	}
	return out, more, nil
}

func logFromRow(r *sqldb.RequestLog) RequestLog {
	return RequestLog{
		ID: r.ID, AgentID: ID(r.AgentID), RunID: RunID(r.RunID), ChatID: workspaces.ChatID(r.ChatID), Source: r.Source,
		Model: r.Model, Prompt: r.Prompt, Response: r.Response, Status: RunStatus(r.Status), Error: r.Error,
		Usage: Usage{InputTokens: r.InputTokens, OutputTokens: r.OutputTokens}, Credits: r.Credits,
		Iterations: r.Iterations, ToolCalls: r.ToolCalls, Cached: r.Cached,
		ResponseTime: time.Duration(r.ResponseMS) * time.Millisecond, ToolCallTime: time.Duration(r.ToolCallMS) * time.Millisecond,
		ToolParamTime: time.Duration(r.ToolParamMS) * time.Millisecond, CreatedAt: r.CreatedAt,
	}
}
