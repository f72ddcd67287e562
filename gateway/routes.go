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

	// Seed 002: agent packages.
	mux.Handle("GET /agent/download", auth(s.handleDownloadPackage()))

	// Seed 000: agents (user API key or JWT as "Authorization: Bearer").
	api := s.requireAPIUser
	mux.Handle("POST /api/agents/{$}", api(s.handleCreateAgent()))
	mux.Handle("GET /api/agents/{$}", api(s.handleListAgents()))
	mux.Handle("GET /api/agents/{id}/{$}", api(s.handleGetAgent()))
	mux.Handle("PATCH /api/agents/{id}/{$}", api(s.handleUpdateAgent()))
	mux.Handle("DELETE /api/agents/{id}/{$}", api(s.handleDeleteAgent()))
	mux.Handle("POST /api/agents/{id}/publish/{$}", api(s.handlePublishAgent(true)))
	mux.Handle("POST /api/agents/{id}/unpublish/{$}", api(s.handlePublishAgent(false)))
	// Status and history take the agent's API key or its owner's token.
	mux.Handle("GET /api/agents/{id}/status/{$}", s.handleAgentStatus())
	mux.Handle("GET /api/agents/{id}/history/{$}", s.handleAgentHistory())
	// Keys: the user's and each published agent's.
	mux.Handle("POST /api/keys/{$}", api(s.handleCreateUserKey()))
	mux.Handle("GET /api/keys/{$}", api(s.handleListUserKeys()))
	mux.Handle("DELETE /api/keys/{id}/{$}", api(s.handleDeleteUserKey()))
	mux.Handle("POST /api/agents/{id}/api-keys/{$}", api(s.handleCreateAgentKey()))
	mux.Handle("GET /api/agents/{id}/api-keys/{$}", api(s.handleListAgentKeys()))
	mux.Handle("DELETE /api/agents/{id}/api-keys/{key_id}/{$}", api(s.handleDeleteAgentKey()))
	// MCP servers (seed 000 §5.4, §9) and the agents as an MCP server.
	mux.Handle("GET /api/mcp-servers/{$}", api(s.handleListMCPServers()))
	mux.Handle("POST /api/mcp-servers/{$}", api(s.handleCreateMCPServer()))
	mux.Handle("GET /api/mcp-servers/list_tools/{$}", api(s.handleListMCPTools()))
	mux.Handle("GET /api/mcp-servers/{id}/{$}", api(s.handleGetMCPServer()))
	mux.Handle("PUT /api/mcp-servers/{id}/{$}", api(s.handleUpdateMCPServer()))
	mux.Handle("PATCH /api/mcp-servers/{id}/{$}", api(s.handleUpdateMCPServer()))
	mux.Handle("DELETE /api/mcp-servers/{id}/{$}", api(s.handleDeleteMCPServer()))
	mux.Handle("POST /api/mcp-servers/{id}/test_connection/{$}", api(s.handleTestMCPServer()))
	mux.Handle("/mcp", s.handleMCP())
	// Custom tools of an agent (seed 000 §4.1: up to 10 per agent).
	mux.Handle("GET /api/agents/{id}/tools/{$}", api(s.handleListAgentTools()))
	mux.Handle("POST /api/agents/{id}/tools/{$}", api(s.handleAddAgentTool()))
	mux.Handle("DELETE /api/agents/{id}/tools/{tool_id}/{$}", api(s.handleRemoveAgentTool()))
	// Atrium's addition: publish an agent package for /agent/download.
	mux.Handle("POST /api/agents/{id}/packages/{$}", api(s.handlePublishPackage()))
	mux.Handle("GET /api/agents/{id}/training_data/{$}", api(s.handleListTrainingData()))
	mux.Handle("POST /api/agents/{id}/training_data/{$}", api(s.handleAddTrainingData()))
	mux.Handle("DELETE /api/agents/{id}/training_data/{doc_id}/{$}", api(s.handleDeleteTrainingData()))
	mux.Handle("POST /api/agents/{id}/index_rag/{$}", api(s.handleIndexRAG()))
	mux.Handle("GET /api/agents/{id}/rag_status/{$}", api(s.handleRAGStatus()))

	// Seed 003: the agent API (credentials in the body).
	mux.Handle("POST /create_agent", s.handleSeed003CreateAgent())
	mux.Handle("DELETE /delete_agent", s.handleSeed003DeleteAgent())
	mux.Handle("POST /get_agent_details", s.handleSeed003AgentDetails())
	mux.Handle("PUT /update_agent", s.handleSeed003UpdateAgent())
	mux.Handle("POST /create_tool", seed003Needs(s.CustomTools != nil, "Tools are not available on this server", s.handleSeed003CreateTool()))
	mux.Handle("POST /get_tools", seed003Needs(s.CustomTools != nil, "Tools are not available on this server", s.handleSeed003GetTools()))
	mux.Handle("DELETE /delete_tool/{tool_id}", seed003Needs(s.CustomTools != nil, "Tools are not available on this server", s.handleSeed003DeleteTool()))
	mux.Handle("PUT /update_tool", seed003Needs(s.CustomTools != nil, "Tools are not available on this server", s.handleSeed003UpdateTool()))
	mux.Handle("POST /get_tool_details", seed003Needs(s.CustomTools != nil, "Tools are not available on this server", s.handleSeed003ToolDetails()))

	// The model catalogue (OpenAI's shape).
	mux.Handle("GET /v1/models", s.handleListModels())
	mux.Handle("GET /v1/models/{model}", s.handleGetModel())

	// Seed 000: agent interaction, REST v1, async conversations, webhook.
	// (issue 5, lead) The agent's API key; chat/query/invoke also take
	// its owner's bearer credential.
	mux.Handle("POST /api/agents/{id}/chat/{$}", s.handleAgentChat(false))
	mux.Handle("POST /api/agents/{id}/query/{$}", s.handleAgentChat(true))
	mux.Handle("POST /api/agents/{id}/invoke/{$}", s.handleAgentChat(true))
	mux.Handle("POST /api/v1/chat", s.handleV1Chat(false))
	mux.Handle("POST /api/v1/query", s.handleV1Chat(true))
	mux.Handle("GET /api/v1/agents", s.handleV1Agents())
	mux.Handle("GET /api/v1/agents/{id}", s.handleV1Agent())
	mux.Handle("POST /api/create_conversation", s.handleCreateConversation(false))
	mux.Handle("POST /api/continue_conversation", s.handleCreateConversation(true))
	mux.Handle("GET /api/get_answer", s.handleGetAnswer())
	mux.Handle("POST /api/find_conversation", s.handleFindConversation())
	mux.Handle("POST /api/webhook/agent/{$}", s.handleAgentWebhook())
	// Seed 003: the transactional and threaded APIs (bare "Authorization: <key>").
	mux.Handle("POST /v1/{agent_id}", s.handleSeed003Transactional())
	// OpenAI endpoints Atrium does not serve would otherwise be taken for
	// an agent id above: OpenAI's clients get their own 404.
	for _, name := range []string{"embeddings", "moderations", "files", "uploads", "batches", "assistants", "threads", "vector_stores", "realtime"} {
		mux.HandleFunc("POST /v1/"+name, func(w http.ResponseWriter, r *http.Request) {
			writeNoRoute(w, r, http.StatusNotFound, "Not served by Atrium")
		})
	}
	mux.Handle("POST /v2/{agent_id}", s.handleSeed003Threaded())
	mux.Handle("GET /api/credits/{$}", s.requireAPIUser(s.handleCredits()))
	// Seed 000 §6: files.
	mux.Handle("PUT /api/upload_file", s.handleUploadFile())
	mux.Handle("GET /api/download_file", s.handleDownloadFile())
	mux.Handle("POST /api/create_upload_url", s.handleCreateUploadURL())
	mux.Handle("POST /api/get_download_url", s.handleGetDownloadURL())
	mux.Handle("PUT /api/files/upload", s.handleSignedUpload())
	mux.Handle("GET /api/files/{id}", s.handleSignedDownload())
	// Seed 001's stateful chat (the OpenAI-compatible part is below), also
	// under /v1 like the rest of seed 001 (agent ids are hex, so "chat" is
	// not one of seed 003's).
	statefulChat := s.handleStatefulChat()
	mux.Handle("POST /v1/api/chat", statefulChat)
	mux.Handle("POST /v1/chat", statefulChat)

	// Seed 001: the OpenAI-compatible API. (issue 5, helper A)
	// Under seed 001's base URL /v1/api and OpenAI's own /v1.
	chatCompletions, completions := s.handleChatCompletions(), s.handleCompletions()
	mux.Handle("POST /v1/api/chat/completions", chatCompletions)
	mux.Handle("POST /v1/chat/completions", chatCompletions)
	mux.Handle("POST /v1/api/completions", completions)
	mux.Handle("POST /v1/completions", completions)
	mux.Handle("GET /v1/api/models", s.handleListModels())
	mux.Handle("GET /v1/api/models/{model}", s.handleGetModel())
	// OpenAI's Responses API: one handler, so both paths share its stored
	// responses.
	responses := s.handleResponses()
	mux.Handle("POST /v1/api/responses", responses)
	mux.Handle("POST /v1/responses", responses)

	// Outgoing webhooks. (issue 5, helper B)
	mux.Handle("POST /api/webhooks/{$}", api(s.handleCreateWebhook()))
	mux.Handle("GET /api/webhooks/{$}", api(s.handleListWebhooks()))
	mux.Handle("GET /api/webhooks/{id}/{$}", api(s.handleGetWebhook()))
	mux.Handle("PATCH /api/webhooks/{id}/{$}", api(s.handleUpdateWebhook()))
	mux.Handle("DELETE /api/webhooks/{id}/{$}", api(s.handleDeleteWebhook()))
	mux.Handle("POST /api/webhooks/{id}/rotate_secret/{$}", api(s.handleRotateWebhookSecret()))
	mux.Handle("POST /api/webhooks/{id}/test/{$}", api(s.handleTestWebhook()))
	mux.Handle("GET /api/webhooks/{id}/deliveries/{$}", api(s.handleWebhookDeliveries()))
	mux.Handle("POST /api/webhooks/{id}/deliveries/{delivery_id}/redeliver/{$}", api(s.handleRedeliverWebhook()))

	mux.Handle("/", handleNoRoute(mux))
}
