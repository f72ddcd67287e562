package gateway

import "net/http"

// routes lists every path the gateway serves.
func (s *server) routes(mux *http.ServeMux) {
	auth := s.requireUser

	// Operations.
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", s.handleReadyz())

	// Seed 002: users.
	mux.Handle("GET /ping", handlePing())
	mux.Handle("POST /register", s.handleRegister())
	mux.Handle("POST /auth/login", s.handleLogin())
	mux.Handle("GET /user", auth(s.handleGetUser()))
	mux.Handle("PUT /user", auth(s.handleUpdateUser()))

	// Seed 002: workspaces.
	mux.Handle("POST /workspace", auth(s.handleCreateWorkspace()))
	mux.Handle("GET /workspace", auth(s.handleListWorkspaces()))
	mux.Handle("GET /workspace/{id}", auth(s.handleGetWorkspace()))
	mux.Handle("DELETE /workspace/{id}", auth(s.handleDeleteWorkspace()))
	mux.Handle("GET /workspace/{id}/chats", auth(s.handleWorkspaceChats()))
	mux.Handle("POST /workspace/{id}/agent", auth(s.handleAttachAgent()))
	mux.Handle("DELETE /workspace/{id}/agent", auth(s.handleDetachAgent()))
	mux.Handle("PUT /workspace/{id}/rename", auth(s.handleRenameWorkspace()))
	// Members: Atrium's addition to seed 002, for workspaces many people share.
	mux.Handle("POST /workspace/{id}/members", auth(s.handleAddMember()))
	mux.Handle("GET /workspace/{id}/members", auth(s.handleListMembers()))
	mux.Handle("DELETE /workspace/{id}/members/{user_id}", auth(s.handleRemoveMember()))

	// Seed 002: chats.
	mux.Handle("POST /chat", auth(s.handleCreateChat()))
	mux.Handle("GET /chat", auth(s.handleGetChat()))
	mux.Handle("DELETE /chat", auth(s.handleDeleteChat()))
	mux.Handle("GET /chat/authorize", auth(s.handleAuthorizeChat()))
	mux.Handle("GET /chat/authorize/message", auth(s.handleAuthorizeMessage()))
	// Atrium's addition: a chat's stored history (the live events are the hub's).
	mux.Handle("GET /chat/{chat_id}/messages", auth(s.handleChatMessages()))

	// Seed 000: agents.
	mux.Handle("POST /api/agents/{$}", s.requireAPIUser(s.handleCreateAgent()))
	mux.Handle("GET /api/agents/{$}", s.requireAPIUser(s.handleListAgents()))

	mux.Handle("/", handleNoRoute(mux))
}
