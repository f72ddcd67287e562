package gateway

import (
	"net/http"

	"github.com/atrium-hq/atrium/workspaces"
)

// seed002Chat is seed 002's chat shape. "owner" is the chat's creator, as
// GET /chat documents it.
type seed002Chat struct {
	ChatID      workspaces.ChatID      `json:"chat_id"`
	WorkspaceID workspaces.WorkspaceID `json:"workspace_id"`
	CreatedBy   workspaces.UserID      `json:"created_by"`
	Owner       workspaces.UserID      `json:"owner"`
	Title       string                 `json:"title"`
	CreatedAt   string                 `json:"created_at"`
}

func toSeed002Chat(c workspaces.Chat) seed002Chat {
	return seed002Chat{ChatID: c.ID, WorkspaceID: c.WorkspaceID, CreatedBy: c.CreatedBy, Owner: c.CreatedBy, Title: c.Title, CreatedAt: timestamp(c.CreatedAt)}
}

// seed002Grant is the body of GET /chat/authorize and /chat/authorize/message.
func seed002Grant(g workspaces.Grant, field string) map[string]any {
	return map[string]any{
		field:          g.Token,
		"chat_id":      g.ChatID,
		"workspace_id": g.WorkspaceID,
		"created_at":   timestamp(g.CreatedAt),
		"expires_at":   timestamp(g.ExpiresAt),
		"created_by":   g.CreatedBy,
	}
}

// queryChat returns the chat_id query parameter, or a 400.
func queryChat(r *http.Request) (workspaces.ChatID, error) {
	id := r.URL.Query().Get("chat_id")
	if id == "" {
		return "", workspaces.E(workspaces.KindInvalid, "Missing chat id")
	}
	return workspaces.ChatID(id), nil
}

func (s *server) handleCreateChat() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wsID := r.URL.Query().Get("workspace_id")
		if wsID == "" {
			s.writeMsgError(w, r, workspaces.E(workspaces.KindInvalid, "Missing workspace id"))
			return
		}
		c, ws, err := s.Workspaces.CreateChat(r.Context(), userOf(r), workspaces.WorkspaceID(wsID))
		if err != nil {
			s.writeMsgError(w, r, err, forbiddenIs401)
			return
		}
		wsOut, err := s.workspaceJSON(r, ws)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"msg": "Chat created successfully", "chat": toSeed002Chat(c), "workspace": wsOut})
	})
}

func (s *server) handleGetChat() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := queryChat(r)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		c, err := s.Workspaces.Chat(r.Context(), userOf(r), id)
		if err != nil {
			s.writeMsgError(w, r, err, forbiddenIs401)
			return
		}
		writeJSON(w, http.StatusOK, toSeed002Chat(c))
	})
}

func (s *server) handleDeleteChat() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := queryChat(r)
		var c workspaces.Chat
		if err == nil {
			c, err = s.Workspaces.Chat(r.Context(), userOf(r), id)
		}
		if err == nil {
			err = s.Workspaces.DeleteChat(r.Context(), userOf(r), id)
		}
		if err != nil {
			s.writeMsgError(w, r, err, forbiddenIs401)
			return
		}
		s.forgetEvents(r, c.WorkspaceID, id)
		writeJSON(w, http.StatusOK, map[string]string{"msg": "Chat deleted successfully"})
	})
}

func (s *server) handleAuthorizeChat() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := queryChat(r)
		var g workspaces.Grant
		if err == nil {
			g, err = s.Workspaces.AuthorizeChat(r.Context(), userOf(r), id)
		}
		if err != nil {
			s.writeMsgError(w, r, err, forbiddenIs401)
			return
		}
		writeJSON(w, http.StatusOK, seed002Grant(g, "connection_string"))
	})
}

func (s *server) handleAuthorizeMessage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := queryChat(r)
		var g workspaces.Grant
		if err == nil {
			g, err = s.Workspaces.AuthorizeMessage(r.Context(), userOf(r), id)
		}
		if err != nil {
			s.writeMsgError(w, r, err, forbiddenIs401)
			return
		}
		writeJSON(w, http.StatusOK, seed002Grant(g, "message_string"))
	})
}

// forgetEvents drops the live events of a deleted chat (or workspace, when
// chat is empty). Failing is only logged: they age out of the window anyway.
func (s *server) forgetEvents(r *http.Request, ws workspaces.WorkspaceID, chat workspaces.ChatID) {
	if s.Conversations == nil {
		return
	}
	if err := s.Conversations.Forget(r.Context(), ws, chat); err != nil {
		s.Logger.WarnContext(r.Context(), "drop the events of a deleted chat", "workspace", ws, "chat", chat, "err", err)
	}
}
