package gateway

import (
	"net/http"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// seed002Workspace is seed 002's workspace shape, with the caller's role and
// the attached agents added.
type seed002Workspace struct {
	WorkspaceID workspaces.WorkspaceID `json:"workspace_id"`
	Name        string                 `json:"name"`
	Owner       workspaces.UserID      `json:"owner"`
	Role        workspaces.Role        `json:"role"`
	Agents      []agents.ID            `json:"agents"`
	CreatedAt   string                 `json:"created_at"`
	UpdatedAt   string                 `json:"updated_at"`
}

func toSeed002Workspace(ws workspaces.Workspace, attached []agents.ID) seed002Workspace {
	if attached == nil {
		attached = []agents.ID{}
	}
	return seed002Workspace{
		WorkspaceID: ws.ID, Name: ws.Name, Owner: ws.Owner, Role: ws.Role, Agents: attached,
		CreatedAt: timestamp(ws.CreatedAt), UpdatedAt: timestamp(ws.UpdatedAt),
	}
}

// workspaceJSON returns ws in seed 002's shape with its attached agents.
func (s *server) workspaceJSON(r *http.Request, ws workspaces.Workspace) (seed002Workspace, error) {
	attached, err := s.Agents.Attached(r.Context(), ws.ID)
	if err != nil {
		return seed002Workspace{}, err
	}
	return toSeed002Workspace(ws, attached[ws.ID]), nil
}

func pathWorkspace(r *http.Request) workspaces.WorkspaceID {
	return workspaces.WorkspaceID(r.PathValue("id"))
}

func (s *server) handleCreateWorkspace() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.readObject(w, r, true)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		name, err := obj.str("name")
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		ws, err := s.Workspaces.CreateWorkspace(r.Context(), userOf(r), name)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"msg": "Workspace created", "workspace": toSeed002Workspace(ws, nil)})
	})
}

func (s *server) handleListWorkspaces() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := s.Workspaces.Workspaces(r.Context(), userOf(r))
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		ids := make([]workspaces.WorkspaceID, len(list))
		for i, ws := range list {
			ids[i] = ws.ID
		}
		attached, err := s.Agents.Attached(r.Context(), ids...)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		out := make([]seed002Workspace, len(list))
		for i, ws := range list {
			out[i] = toSeed002Workspace(ws, attached[ws.ID])
		}
		writeJSON(w, http.StatusOK, map[string]any{"workspaces": out})
	})
}

func (s *server) handleGetWorkspace() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := s.Workspaces.Workspace(r.Context(), userOf(r), pathWorkspace(r))
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		out, err := s.workspaceJSON(r, ws)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"workspace": out})
	})
}

func (s *server) handleDeleteWorkspace() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Workspaces.DeleteWorkspace(r.Context(), userOf(r), pathWorkspace(r)); err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		s.forgetEvents(r, pathWorkspace(r), "")
		writeJSON(w, http.StatusOK, map[string]string{"msg": "Workspace deleted"})
	})
}

func (s *server) handleWorkspaceChats() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chats, err := s.Workspaces.Chats(r.Context(), userOf(r), pathWorkspace(r))
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		out := make([]seed002Chat, len(chats))
		for i, c := range chats {
			out[i] = toSeed002Chat(c)
		}
		writeJSON(w, http.StatusOK, map[string]any{"chats": out})
	})
}

// agentIDBody reads seed 002's {"agent_id"} body.
func (s *server) agentIDBody(w http.ResponseWriter, r *http.Request) (agents.ID, error) {
	obj, err := s.readObject(w, r, false)
	if err != nil {
		return "", err
	}
	id, err := obj.str("agent_id")
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", workspaces.E(workspaces.KindInvalid, "Missing agent_id parameter")
	}
	return agents.ID(id), nil
}

func (s *server) handleAttachAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.agentIDBody(w, r)
		if err == nil {
			err = s.Agents.Attach(r.Context(), userOf(r), pathWorkspace(r), id)
		}
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"msg": "Agent added to Workspace."})
	})
}

func (s *server) handleDetachAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.agentIDBody(w, r)
		if err == nil {
			err = s.Agents.Detach(r.Context(), userOf(r), pathWorkspace(r), id)
		}
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"msg": "Agent removed"})
	})
}

func (s *server) handleRenameWorkspace() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		name, err := obj.str("name")
		if err == nil && name == "" {
			err = workspaces.E(workspaces.KindInvalid, "Missing name parameter")
		}
		if err == nil {
			_, err = s.Workspaces.RenameWorkspace(r.Context(), userOf(r), pathWorkspace(r), name)
		}
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"msg": "Workspace renamed"})
	})
}
