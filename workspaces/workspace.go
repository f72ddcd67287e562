package workspaces

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// Role is what a person may do in a workspace.
type Role string

// The roles. Owners manage the workspace; members chat; viewers watch.
const (
	RoleOwner  Role = "owner"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// CanSend reports whether the role may send messages in the workspace's chats.
func (r Role) CanSend() bool { return r == RoleOwner || r == RoleMember }

// DefaultWorkspaceName is the name of a workspace created without one.
const DefaultWorkspaceName = "Untitled Workspace"

const maxNameLen = 200

// Workspace is a shared space of chats and agents.
type Workspace struct {
	ID        WorkspaceID
	Name      string
	Owner     UserID
	CreatedAt time.Time
	UpdatedAt time.Time
	// Role is the role of the user the workspace was loaded for.
	Role Role
}

// Seed 002's messages for workspace access.
const (
	msgWorkspaceNotFound = "Workspace not found"
	msgNoAccess          = "User does not have access to the workspace"
	msgNotOwner          = "User is not the owner of the workspace"
)

func validateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !isText(name) {
		return "", E(KindInvalid, "Name must be UTF-8 text without NUL characters")
	}
	if utf8.RuneCountInString(name) > maxNameLen {
		return "", E(KindInvalid, "Name is too long (at most 200 characters)")
	}
	return name, nil
}

// CreateWorkspace creates a workspace owned by user. An empty name becomes
// DefaultWorkspaceName.
func (s *Service) CreateWorkspace(ctx context.Context, user UserID, name string) (Workspace, error) {
	name, err := validateName(name)
	if err != nil {
		return Workspace{}, err
	}
	if name == "" {
		name = DefaultWorkspaceName
	}
	now := s.now()
	row := &sqldb.Workspace{ID: NewID(), Name: name, OwnerID: string(user), CreatedAt: now, UpdatedAt: now}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		m := &sqldb.WorkspaceMember{WorkspaceID: row.ID, UserID: string(user), Role: string(RoleOwner), AddedBy: string(user), CreatedAt: now}
		_, err := tx.NewInsert().Model(m).Exec(ctx)
		return err
	})
	if err != nil {
		return Workspace{}, Internal("create workspace", err)
	}
	return workspaceFromRow(row, RoleOwner), nil
}

// Workspaces returns the workspaces user owns or is a member of, oldest first.
func (s *Service) Workspaces(ctx context.Context, user UserID) ([]Workspace, error) {
	var rows []struct {
		sqldb.Workspace `bun:",extend"`
		Role            string `bun:"role"`
	}
	err := s.db.NewSelect().
		TableExpr("workspaces AS w").
		ColumnExpr("w.*, m.role").
		Join("JOIN workspace_members AS m ON m.workspace_id = w.id").
		Where("m.user_id = ?", string(user)).
		OrderExpr("w.created_at, w.id").
		Scan(ctx, &rows)
	if err != nil {
		return nil, Internal("list workspaces", err)
	}
	out := make([]Workspace, 0, len(rows))
	for i := range rows {
		out = append(out, workspaceFromRow(&rows[i].Workspace, Role(rows[i].Role)))
	}
	return out, nil
}

// Workspace returns workspace id for user, who must have a role in it.
func (s *Service) Workspace(ctx context.Context, user UserID, id WorkspaceID) (Workspace, error) {
	ws, err := s.access(ctx, user, id)
	if err != nil {
		return Workspace{}, err
	}
	if ws.Role == "" {
		return Workspace{}, E(KindForbidden, msgNoAccess)
	}
	return ws, nil
}

// OwnedWorkspace returns workspace id if user owns it; otherwise a
// KindForbidden "User is not the owner of the workspace".
func (s *Service) OwnedWorkspace(ctx context.Context, user UserID, id WorkspaceID) (Workspace, error) {
	ws, err := s.access(ctx, user, id)
	if err != nil {
		return Workspace{}, err
	}
	if ws.Role != RoleOwner {
		return Workspace{}, E(KindForbidden, msgNotOwner)
	}
	return ws, nil
}

// RenameWorkspace renames workspace id; only its owner may.
func (s *Service) RenameWorkspace(ctx context.Context, user UserID, id WorkspaceID, name string) (Workspace, error) {
	name, err := validateName(name)
	if err != nil {
		return Workspace{}, err
	}
	if name == "" {
		return Workspace{}, E(KindInvalid, "Missing name parameter")
	}
	ws, err := s.OwnedWorkspace(ctx, user, id)
	if err != nil {
		return Workspace{}, err
	}
	ws.Name, ws.UpdatedAt = name, s.now()
	_, err = s.db.NewUpdate().Model((*sqldb.Workspace)(nil)).
		Set("name = ?", ws.Name).Set("updated_at = ?", ws.UpdatedAt).
		Where("id = ?", string(id)).Exec(ctx)
	if err != nil {
		return Workspace{}, Internal("rename workspace", err)
	}
	return ws, nil
}

// DeleteWorkspace deletes workspace id with its chats, members, agent
// attachments and chat strings; only its owner may. Anyone else gets seed
// 002's "User does not have access to the workspace".
func (s *Service) DeleteWorkspace(ctx context.Context, user UserID, id WorkspaceID) error {
	defer s.forgetGrants()
	ws, err := s.access(ctx, user, id)
	if err != nil {
		return err
	}
	if ws.Role != RoleOwner {
		return E(KindForbidden, msgNoAccess)
	}
	// The foreign keys cascade; deleting children explicitly keeps the result
	// the same on a database where cascades were turned off.
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, m := range []any{(*sqldb.ChatSecret)(nil), (*sqldb.Chat)(nil), (*sqldb.WorkspaceAgent)(nil), (*sqldb.WorkspaceMember)(nil)} {
			if _, err := tx.NewDelete().Model(m).Where("workspace_id = ?", string(id)).Exec(ctx); err != nil {
				return err
			}
		}
		_, err := tx.NewDelete().Model((*sqldb.Workspace)(nil)).Where("id = ?", string(id)).Exec(ctx)
		return err
	})
	if err != nil {
		return Internal("delete workspace", err)
	}
	s.accessChanged(id, "")
	return nil
}

// access loads workspace id with user's role in it ("" for none), or a
// KindNotFound "Workspace not found".
func (s *Service) access(ctx context.Context, user UserID, id WorkspaceID) (Workspace, error) {
	if !ValidID(string(id)) {
		return Workspace{}, E(KindNotFound, msgWorkspaceNotFound)
	}
	var row sqldb.Workspace
	if err := s.db.NewSelect().Model(&row).Where("id = ?", string(id)).Scan(ctx); err != nil {
		if sqldb.IsNoRows(err) {
			return Workspace{}, E(KindNotFound, msgWorkspaceNotFound)
		}
		return Workspace{}, Internal("get workspace", err)
	}
	role, err := s.role(ctx, user, id)
	if err != nil {
		return Workspace{}, err
	}
	return workspaceFromRow(&row, role), nil
}

// role returns user's role in workspace id, "" for none.
func (s *Service) role(ctx context.Context, user UserID, id WorkspaceID) (Role, error) {
	var role string
	err := s.db.QueryRowPrepared(ctx, nil, `SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2`,
		string(id), string(user)).Scan(&role)
	if err != nil && !sqldb.IsNoRows(err) {
		return "", Internal("get role", err)
	}
	return Role(role), nil
}

func workspaceFromRow(r *sqldb.Workspace, role Role) Workspace {
	return Workspace{ID: WorkspaceID(r.ID), Name: r.Name, Owner: UserID(r.OwnerID), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Role: role}
}
