package gateway

import (
	"net/http"

	"github.com/atrium-hq/atrium/workspaces"
)

// seed002Member is the shape of a workspace member, in seed 002's style.
type seed002Member struct {
	UserID    workspaces.UserID `json:"user_id"`
	Email     string            `json:"email"`
	Role      workspaces.Role   `json:"role"`
	AddedBy   workspaces.UserID `json:"added_by"`
	CreatedAt string            `json:"created_at"`
}

func toSeed002Member(m workspaces.Member) seed002Member {
	return seed002Member{UserID: m.UserID, Email: m.Email, Role: m.Role, AddedBy: m.AddedBy, CreatedAt: timestamp(m.CreatedAt)}
}

// handleAddMember adds a person by email with role "member" (the default) or
// "viewer", or changes their role.
func (s *server) handleAddMember() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		email, err := obj.str("email")
		if err == nil && email == "" {
			err = workspaces.E(workspaces.KindInvalid, "Missing email parameter")
		}
		var role string
		if err == nil {
			role, err = obj.str("role")
		}
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		if role == "" {
			role = string(workspaces.RoleMember)
		}
		m, err := s.Workspaces.AddMember(r.Context(), userOf(r), pathWorkspace(r), email, workspaces.Role(role))
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"msg": "Member added", "member": toSeed002Member(m)})
	})
}

func (s *server) handleListMembers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := s.Workspaces.Members(r.Context(), userOf(r), pathWorkspace(r))
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		out := make([]seed002Member, len(list))
		for i, m := range list {
			out[i] = toSeed002Member(m)
		}
		writeJSON(w, http.StatusOK, map[string]any{"members": out})
	})
}

func (s *server) handleRemoveMember() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := workspaces.UserID(r.PathValue("user_id"))
		if err := s.Workspaces.RemoveMember(r.Context(), userOf(r), pathWorkspace(r), user); err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"msg": "Member removed"})
	})
}
