package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// checkModel returns model's catalogue name, or an invalid error when the
// catalogue does not list it. Without a catalogue any name is taken.
func (s *Service) checkModel(model string) (string, error) {
	model = strings.TrimSpace(model)
	if s.catalogue == nil {
		return model, nil
	}
	m, ok := s.catalogue.Lookup(model)
	if !ok {
		return "", workspaces.E(workspaces.KindInvalid, "Unknown model_id '"+model+"'")
	}
	return m.Name, nil
}

// checkFields checks an agent's free-form fields.
func (s *Service) checkFields(name, desc, typ, config, script string) error {
	switch {
	case utf8.RuneCountInString(name) > maxAgentName:
		return workspaces.Errorf(workspaces.KindInvalid, "name must be at most %d characters", maxAgentName)
	case len(desc) > maxAgentDesc:
		return workspaces.Errorf(workspaces.KindInvalid, "description must be at most %d bytes", maxAgentDesc)
	case len(typ) > maxAgentType:
		return workspaces.Errorf(workspaces.KindInvalid, "agent_type must be at most %d bytes", maxAgentType)
	case len(script) > maxAgentScript:
		return workspaces.Errorf(workspaces.KindInvalid, "script must be at most %d bytes", maxAgentScript)
	}
	if _, err := ParseConfig(config); err != nil {
		return err
	}
	if script != "" && s.scripts != nil {
		if err := s.scripts.Check(script); err != nil {
			return workspaces.E(workspaces.KindInvalid, "Invalid script: "+err.Error())
		}
	}
	return nil
}

// Owned returns agent id if caller owns it; anything else is not found.
func (s *Service) Owned(ctx context.Context, caller workspaces.UserID, id ID) (Agent, error) {
	row, err := s.ownedRow(ctx, caller, id)
	if err != nil {
		return Agent{}, err
	}
	return agentFromRow(row), nil
}

func (s *Service) ownedRow(ctx context.Context, caller workspaces.UserID, id ID) (*sqldb.Agent, error) {
	if !workspaces.ValidID(string(id)) {
		return nil, workspaces.E(workspaces.KindNotFound, "Agent not found")
	}
	var row sqldb.Agent
	err := s.db.NewSelect().Model(&row).Where("id = ? AND owner_id = ?", string(id), string(caller)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return nil, workspaces.E(workspaces.KindNotFound, "Agent not found")
	}
	if err != nil {
		return nil, workspaces.Internal("get agent", err)
	}
	return &row, nil
}

// ByID returns agent id without checking who asks: for callers that have
// already authenticated a key bound to it.
func (s *Service) ByID(ctx context.Context, id ID) (Agent, error) {
	if !workspaces.ValidID(string(id)) {
		return Agent{}, workspaces.E(workspaces.KindNotFound, "Agent not found")
	}
	var row sqldb.Agent
	err := s.db.NewSelect().Model(&row).Where("id = ?", string(id)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return Agent{}, workspaces.E(workspaces.KindNotFound, "Agent not found")
	}
	if err != nil {
		return Agent{}, workspaces.Internal("get agent", err)
	}
	return agentFromRow(&row), nil
}

// AgentUpdate is a partial change to an agent: nil fields stay as they are.
type AgentUpdate struct {
	Name        *string
	Description *string
	ModelID     *string
	Type        *string
	// Config is merged key by key into the configuration (MergeConfig).
	Config map[string]json.RawMessage
	Script *string
	// Status moves the agent to draft, training or testing; publishing
	// goes through Publish.
	Status *Status
}

// Update changes agent id, which caller must own, and bumps its version.
func (s *Service) Update(ctx context.Context, caller workspaces.UserID, id ID, u AgentUpdate) (Agent, error) {
	row, err := s.ownedRow(ctx, caller, id)
	if err != nil {
		return Agent{}, err
	}
	if u.Name != nil {
		if row.Name = strings.TrimSpace(*u.Name); row.Name == "" {
			return Agent{}, workspaces.E(workspaces.KindInvalid, "name cannot be empty")
		}
	}
	if u.Description != nil {
		row.Description = *u.Description
	}
	if u.Type != nil {
		row.AgentType = *u.Type
	}
	if u.ModelID != nil {
		if strings.TrimSpace(*u.ModelID) == "" {
			return Agent{}, workspaces.E(workspaces.KindInvalid, "model_id cannot be empty")
		}
		if row.ModelID, err = s.checkModel(*u.ModelID); err != nil {
			return Agent{}, err
		}
	}
	if u.Config != nil {
		if row.Config, err = MergeConfig(row.Config, u.Config); err != nil {
			return Agent{}, err
		}
	}
	if u.Script != nil {
		row.Script = *u.Script
	}
	if u.Status != nil {
		switch *u.Status {
		case StatusDraft, StatusTraining, StatusTesting:
			if Status(row.Status) == StatusPublished {
				return Agent{}, workspaces.E(workspaces.KindConflict, "The agent is published; unpublish it first")
			}
			row.Status = string(*u.Status)
		case StatusPublished:
			if Status(row.Status) != StatusPublished {
				return Agent{}, workspaces.E(workspaces.KindInvalid, "Publish the agent with POST /api/agents/{id}/publish/")
			}
		default:
			return Agent{}, workspaces.E(workspaces.KindInvalid, "Invalid value for 'status': expected draft, training, testing or published")
		}
	}
	if err := s.checkFields(row.Name, row.Description, row.AgentType, row.Config, row.Script); err != nil {
		return Agent{}, err
	}
	row.Version++
	row.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	if _, err := s.db.NewUpdate().Model(row).WherePK().Exec(ctx); err != nil {
		return Agent{}, workspaces.Internal("update agent", err)
	}
	return agentFromRow(row), nil
}

// Delete deletes agent id, which caller must own, with its keys, its
// attachments to workspaces and its logs. Its past messages stay.
func (s *Service) Delete(ctx context.Context, caller workspaces.UserID, id ID) error {
	if !workspaces.ValidID(string(id)) {
		return workspaces.E(workspaces.KindNotFound, "Agent not found")
	}
	res, err := s.db.NewDelete().Model((*sqldb.Agent)(nil)).Where("id = ? AND owner_id = ?", string(id), string(caller)).Exec(ctx)
	if err != nil {
		return workspaces.Internal("delete agent", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspaces.E(workspaces.KindNotFound, "Agent not found")
	}
	return nil
}

// Publish makes agent id published: reachable with agent API keys and
// visible to everyone. Publishing a published agent republishes it (seed
// 000 §4.4: configuration changes may need a republish).
func (s *Service) Publish(ctx context.Context, caller workspaces.UserID, id ID) (Agent, error) {
	return s.setPublished(ctx, caller, id, true)
}

// Unpublish takes agent id back to testing: its agent API keys stop
// working until it is published again.
func (s *Service) Unpublish(ctx context.Context, caller workspaces.UserID, id ID) (Agent, error) {
	return s.setPublished(ctx, caller, id, false)
}

func (s *Service) setPublished(ctx context.Context, caller workspaces.UserID, id ID, on bool) (Agent, error) {
	row, err := s.ownedRow(ctx, caller, id)
	if err != nil {
		return Agent{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	if on {
		if s.catalogue != nil {
			if _, ok := s.catalogue.Lookup(row.ModelID); !ok {
				return Agent{}, workspaces.E(workspaces.KindInvalid, fmt.Sprintf("The agent's model '%s' is not in the catalogue", row.ModelID))
			}
		}
		row.Status, row.PublishedAt = string(StatusPublished), &now
	} else {
		if Status(row.Status) != StatusPublished {
			return Agent{}, workspaces.E(workspaces.KindConflict, "The agent is not published")
		}
		row.Status = string(StatusTesting)
	}
	row.Version++
	row.UpdatedAt = now
	if _, err := s.db.NewUpdate().Model(row).Column("status", "published_at", "version", "updated_at").WherePK().Exec(ctx); err != nil {
		return Agent{}, workspaces.Internal("publish agent", err)
	}
	return agentFromRow(row), nil
}

// CreateKey issues an API key for agent id, which caller must own and
// which must be published (seed 000 §5.5.2). The key is in the result's
// Secret, this once.
func (s *Service) CreateKey(ctx context.Context, caller workspaces.UserID, id ID, name string) (workspaces.APIKey, error) {
	a, err := s.Owned(ctx, caller, id)
	if err != nil {
		return workspaces.APIKey{}, err
	}
	if a.Status != StatusPublished {
		return workspaces.APIKey{}, workspaces.E(workspaces.KindConflict, "API keys are only available for published agents; publish the agent first")
	}
	return s.workspaces.CreateKey(ctx, caller, workspaces.AgentKey, string(id), name)
}

// Keys lists agent id's API keys; caller must own it.
func (s *Service) Keys(ctx context.Context, caller workspaces.UserID, id ID) ([]workspaces.APIKey, error) {
	if _, err := s.Owned(ctx, caller, id); err != nil {
		return nil, err
	}
	return s.workspaces.Keys(ctx, caller, workspaces.AgentKey, string(id))
}

// DeleteKey revokes agent id's key keyID at once; caller must own it.
func (s *Service) DeleteKey(ctx context.Context, caller workspaces.UserID, id ID, keyID string) error {
	if _, err := s.Owned(ctx, caller, id); err != nil {
		return err
	}
	return s.workspaces.DeleteKey(ctx, caller, workspaces.AgentKey, string(id), keyID)
}

// ResolveKey returns the published agent an agent API key reaches. A key
// of an agent that is no longer published stops working (seed 000:
// "Unpublished agents cannot be reached with an agent API key").
func (s *Service) ResolveKey(ctx context.Context, secret string) (Agent, workspaces.APIKey, error) {
	k, err := s.workspaces.ResolveKey(ctx, secret)
	if err != nil {
		return Agent{}, k, err
	}
	if k.Kind != workspaces.AgentKey {
		return Agent{}, k, workspaces.E(workspaces.KindUnauthenticated, "This is a user API key; an agent API key is needed here")
	}
	a, err := s.ByID(ctx, ID(k.AgentID))
	if workspaces.ErrorKind(err) == workspaces.KindNotFound {
		return Agent{}, k, workspaces.E(workspaces.KindUnauthenticated, "Invalid API key")
	}
	if err != nil {
		return Agent{}, k, err
	}
	if a.Status != StatusPublished {
		return Agent{}, k, workspaces.E(workspaces.KindForbidden, "The agent is not published")
	}
	return a, k, nil
}
