package gateway

import (
	"net/http"

	"github.com/atrium-hq/atrium/workspaces"
)

// seed002User is seed 002's user shape.
type seed002User struct {
	UserID    workspaces.UserID `json:"user_id"`
	Email     string            `json:"email"`
	CreatedAt string            `json:"created_at"`
	UpdatedAt string            `json:"updated_at"`
}

func toSeed002User(u workspaces.User) seed002User {
	return seed002User{UserID: u.ID, Email: u.Email, CreatedAt: timestamp(u.CreatedAt), UpdatedAt: timestamp(u.UpdatedAt)}
}

// credentials reads seed 002's {"email","password"} body.
func (s *server) credentials(w http.ResponseWriter, r *http.Request) (email, password string, err error) {
	obj, err := s.readObject(w, r, false)
	if err != nil {
		return "", "", err
	}
	if email, err = obj.str("email"); err != nil {
		return "", "", err
	}
	if password, err = obj.str("password"); err != nil {
		return "", "", err
	}
	if email == "" || password == "" {
		return "", "", workspaces.E(workspaces.KindInvalid, "Missing email/password parameter")
	}
	return email, password, nil
}

func (s *server) handleRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		email, password, err := s.credentials(w, r)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		u, err := s.Workspaces.Register(r.Context(), email, password)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"msg": "User created successfully", "email": u.Email, "user_id": u.ID})
	})
}

func (s *server) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		email, password, err := s.credentials(w, r)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		u, err := s.Workspaces.Authenticate(r.Context(), email, password)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		token, exp, err := s.Tokens.Issue(u.ID)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "expires_at": timestamp(exp), "user_id": u.ID})
	})
}

func (s *server) handleGetUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.Workspaces.User(r.Context(), userOf(r))
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"user": toSeed002User(u)})
	})
}

// handleUpdateUser changes the caller's email and, beyond the seed, password.
func (s *server) handleUpdateUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.readObject(w, r, false)
		if err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		var upd workspaces.UserUpdate
		if upd.Email, err = obj.optStr("email"); err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		if upd.Password, err = obj.optStr("password"); err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		if _, err := s.Workspaces.UpdateUser(r.Context(), userOf(r), upd); err != nil {
			s.writeMsgError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"msg": "User updated"})
	})
}
