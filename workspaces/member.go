package workspaces

import (
	"context"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// Member is a person's role in a workspace.
type Member struct {
	UserID    UserID
	Email     string
	Role      Role
	AddedBy   UserID
	CreatedAt time.Time
}

// AddMember gives the user with email a role (member or viewer) in workspace
// id, or changes the role they have. Only the owner may.
func (s *Service) AddMember(ctx context.Context, caller UserID, id WorkspaceID, email string, role Role) (Member, error) {
	defer s.forgetGrants()
	if role != RoleMember && role != RoleViewer {
		return Member{}, E(KindInvalid, "Invalid role: must be 'member' or 'viewer'")
	}
	if _, err := s.OwnedWorkspace(ctx, caller, id); err != nil {
		return Member{}, err
	}
	u, err := s.userByEmail(ctx, NormalizeEmail(email))
	if err != nil {
		return Member{}, err
	}
	if UserID(u.ID) == caller {
		return Member{}, E(KindInvalid, "User is the owner of the workspace")
	}
	row := &sqldb.WorkspaceMember{WorkspaceID: string(id), UserID: u.ID, Role: string(role), AddedBy: string(caller), CreatedAt: s.now()}
	_, err = s.db.NewInsert().Model(row).
		On("CONFLICT (workspace_id, user_id) DO UPDATE").
		Set("role = EXCLUDED.role").
		Exec(ctx)
	if err != nil {
		return Member{}, Internal("add member", err)
	}
	// On a role change the row keeps its first added_by and created_at.
	if err := s.db.NewSelect().Model(row).WherePK().Scan(ctx); err != nil {
		return Member{}, Internal("read member", err)
	}
	return Member{UserID: UserID(u.ID), Email: u.Email, Role: Role(row.Role), AddedBy: UserID(row.AddedBy), CreatedAt: row.CreatedAt}, nil
}

// Members lists the people of workspace id, the owner first. Only the owner may.
func (s *Service) Members(ctx context.Context, caller UserID, id WorkspaceID) ([]Member, error) {
	if _, err := s.OwnedWorkspace(ctx, caller, id); err != nil {
		return nil, err
	}
	var rows []struct {
		sqldb.WorkspaceMember `bun:",extend"`
		Email                 string `bun:"email"`
	}
	err := s.db.NewSelect().
		TableExpr("workspace_members AS m").
		ColumnExpr("m.*, u.email").
		Join("JOIN users AS u ON u.id = m.user_id").
		Where("m.workspace_id = ?", string(id)).
		OrderExpr("CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, m.created_at, u.email").
		Scan(ctx, &rows)
	if err != nil {
		return nil, Internal("list members", err)
	}
	out := make([]Member, 0, len(rows))
	for _, r := range rows {
		out = append(out, Member{UserID: UserID(r.UserID), Email: r.Email, Role: Role(r.Role), AddedBy: UserID(r.AddedBy), CreatedAt: r.CreatedAt})
	}
	return out, nil
}

// RemoveMember takes user out of workspace id. The owner may remove anyone
// but themselves; a member or viewer may remove themselves (leave).
func (s *Service) RemoveMember(ctx context.Context, caller UserID, id WorkspaceID, user UserID) error {
	defer s.forgetGrants()
	ws, err := s.access(ctx, caller, id)
	if err != nil {
		return err
	}
	switch {
	case ws.Role == "":
		return E(KindForbidden, msgNoAccess)
	case ws.Role != RoleOwner && caller != user:
		return E(KindForbidden, msgNotOwner)
	case user == ws.Owner:
		return E(KindInvalid, "The owner cannot be removed from the workspace")
	case !ValidID(string(user)):
		return E(KindNotFound, "Member not found")
	}
	res, err := s.db.NewDelete().Model((*sqldb.WorkspaceMember)(nil)).
		Where("workspace_id = ? AND user_id = ?", string(id), string(user)).Exec(ctx)
	if err != nil {
		return Internal("remove member", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return E(KindNotFound, "Member not found")
	}
	// Strings the removed person was given stop working at once.
	if _, err := s.db.NewDelete().Model((*sqldb.ChatSecret)(nil)).
		Where("workspace_id = ? AND created_by = ?", string(id), string(user)).Exec(ctx); err != nil {
		return Internal("revoke member strings", err)
	}
	s.accessChanged(id, user)
	return nil
}
