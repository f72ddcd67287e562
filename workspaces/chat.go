package workspaces

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// Chat is a conversation in a workspace, watched live by its people.
type Chat struct {
	ID          ChatID
	WorkspaceID WorkspaceID
	CreatedBy   UserID
	Title       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Role is the role, in the chat's workspace, of the user the chat was
	// loaded for.
	Role Role
}

// Seed 002's messages for chats.
const (
	msgChatNotFound = "Chat not found"
	msgNotChatOwner = "User is not the owner of the chat"
)

// CreateChat creates a chat in workspace id; as seed 002 says, only the
// workspace's owner may. It returns the chat and its workspace.
func (s *Service) CreateChat(ctx context.Context, user UserID, id WorkspaceID) (Chat, Workspace, error) {
	ws, err := s.OwnedWorkspace(ctx, user, id)
	if err != nil {
		return Chat{}, Workspace{}, err
	}
	now := s.now()
	row := &sqldb.Chat{ID: NewID(), WorkspaceID: string(id), CreatedBy: string(user), CreatedAt: now, UpdatedAt: now}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return Chat{}, Workspace{}, Internal("create chat", err)
	}
	return chatFromRow(row, ws.Role), ws, nil
}

// Chat returns chat id for user, who must have a role in its workspace.
func (s *Service) Chat(ctx context.Context, user UserID, id ChatID) (Chat, error) {
	c, err := s.chatAccess(ctx, user, id)
	if err != nil {
		return Chat{}, err
	}
	if c.Role == "" {
		return Chat{}, E(KindForbidden, msgNotChatOwner)
	}
	return c, nil
}

// Chats lists the chats of workspace id, oldest first, for anyone with a role in it.
func (s *Service) Chats(ctx context.Context, user UserID, id WorkspaceID) ([]Chat, error) {
	ws, err := s.Workspace(ctx, user, id)
	if err != nil {
		return nil, err
	}
	var rows []sqldb.Chat
	if err := s.db.NewSelect().Model(&rows).Where("workspace_id = ?", string(id)).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, Internal("list chats", err)
	}
	out := make([]Chat, 0, len(rows))
	for i := range rows {
		out = append(out, chatFromRow(&rows[i], ws.Role))
	}
	return out, nil
}

// DeleteChat deletes chat id and its strings. Its creator and the
// workspace's owner may.
func (s *Service) DeleteChat(ctx context.Context, user UserID, id ChatID) error {
	defer s.forgetGrants()
	c, err := s.chatAccess(ctx, user, id)
	if err != nil {
		return err
	}
	if c.Role != RoleOwner && !(c.Role != "" && c.CreatedBy == user) {
		return E(KindForbidden, msgNotChatOwner)
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*sqldb.ChatSecret)(nil)).Where("chat_id = ?", string(id)).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewDelete().Model((*sqldb.Chat)(nil)).Where("id = ?", string(id)).Exec(ctx)
		return err
	})
	if err != nil {
		return Internal("delete chat", err)
	}
	s.accessChanged(c.WorkspaceID, "")
	return nil
}

// chatAccess loads chat id with user's role in its workspace ("" for none),
// or a KindNotFound "Chat not found".
func (s *Service) chatAccess(ctx context.Context, user UserID, id ChatID) (Chat, error) {
	if !ValidID(string(id)) {
		return Chat{}, E(KindNotFound, msgChatNotFound)
	}
	var row sqldb.Chat
	if err := s.db.NewSelect().Model(&row).Where("id = ?", string(id)).Scan(ctx); err != nil {
		if sqldb.IsNoRows(err) {
			return Chat{}, E(KindNotFound, msgChatNotFound)
		}
		return Chat{}, Internal("get chat", err)
	}
	role, err := s.role(ctx, user, WorkspaceID(row.WorkspaceID))
	if err != nil {
		return Chat{}, err
	}
	return chatFromRow(&row, role), nil
}

func chatFromRow(r *sqldb.Chat, role Role) Chat {
	return Chat{ID: ChatID(r.ID), WorkspaceID: WorkspaceID(r.WorkspaceID), CreatedBy: UserID(r.CreatedBy), Title: r.Title, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Role: role}
}
