package sqldb

// migrations is the schema's history, oldest first. Never edit an applied
// migration: add a new one. Each runs on SQLite and PostgreSQL.
var migrations = []migration{
	{1, "users_workspaces_chats", `
CREATE TABLE users (
	id TEXT PRIMARY KEY,
	email TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);

CREATE TABLE workspaces (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX workspaces_owner_idx ON workspaces (owner_id);

CREATE TABLE workspace_members (
	workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role TEXT NOT NULL,
	added_by TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user_idx ON workspace_members (user_id);

CREATE TABLE chats (
	id TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	created_by TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	title TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX chats_workspace_idx ON chats (workspace_id, created_at);

CREATE TABLE chat_secrets (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
	workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	created_by TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	last_used_at {{ts}}
);
CREATE INDEX chat_secrets_chat_idx ON chat_secrets (chat_id);
CREATE INDEX chat_secrets_expires_idx ON chat_secrets (expires_at);

CREATE TABLE agents (
	id TEXT PRIMARY KEY,
	owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	model_id TEXT NOT NULL,
	status TEXT NOT NULL,
	config TEXT NOT NULL DEFAULT '{}',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX agents_owner_idx ON agents (owner_id);

CREATE TABLE workspace_agents (
	workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
	agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	added_by TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	PRIMARY KEY (workspace_id, agent_id)
);
CREATE INDEX workspace_agents_agent_idx ON workspace_agents (agent_id);
`},
	{2, "messages and runs", `
ALTER TABLE agents ADD COLUMN agent_type TEXT NOT NULL DEFAULT '';

CREATE TABLE messages (
	id TEXT PRIMARY KEY,
	chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
	workspace_id TEXT NOT NULL,
	role TEXT NOT NULL,
	author_id TEXT,
	agent_id TEXT,
	run_id TEXT,
	client_id TEXT,
	content TEXT NOT NULL,
	status TEXT NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	delivered BOOLEAN NOT NULL DEFAULT FALSE,
	created_at {{ts}} NOT NULL
);
CREATE INDEX messages_chat_idx ON messages (chat_id, created_at, id);
CREATE UNIQUE INDEX messages_client_idx ON messages (chat_id, author_id, client_id);

CREATE TABLE runs (
	id TEXT PRIMARY KEY,
	chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
	workspace_id TEXT NOT NULL,
	agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	status TEXT NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 0,
	created_at {{ts}} NOT NULL,
	started_at {{ts}},
	finished_at {{ts}}
);
CREATE INDEX runs_chat_idx ON runs (chat_id, created_at);
`},
	{3, "agent lifecycle, keys, tool calls, request logs, packages", `
ALTER TABLE agents ADD COLUMN script TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE agents ADD COLUMN published_at {{ts}};

CREATE TABLE api_keys (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	agent_id TEXT REFERENCES agents(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	prefix TEXT NOT NULL,
	key_hash TEXT NOT NULL UNIQUE,
	created_at {{ts}} NOT NULL,
	last_used_at {{ts}}
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, kind, created_at);
CREATE INDEX api_keys_agent_idx ON api_keys (agent_id, created_at);

CREATE TABLE tool_calls (
	id TEXT PRIMARY KEY,
	run_id TEXT NOT NULL,
	agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	chat_id TEXT NOT NULL,
	call_id TEXT NOT NULL,
	iteration INTEGER NOT NULL,
	name TEXT NOT NULL,
	parameters TEXT NOT NULL,
	result TEXT NOT NULL DEFAULT '',
	error TEXT NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL DEFAULT 0,
	created_at {{ts}} NOT NULL
);
CREATE INDEX tool_calls_run_idx ON tool_calls (run_id, created_at);

CREATE TABLE request_logs (
	id TEXT PRIMARY KEY,
	agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	owner_id TEXT NOT NULL,
	run_id TEXT NOT NULL,
	chat_id TEXT NOT NULL,
	source TEXT NOT NULL,
	model TEXT NOT NULL,
	prompt TEXT NOT NULL,
	response TEXT NOT NULL,
	status TEXT NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	input_tokens INTEGER NOT NULL DEFAULT 0,
	output_tokens INTEGER NOT NULL DEFAULT 0,
	credits DOUBLE PRECISION NOT NULL DEFAULT 0,
	iterations INTEGER NOT NULL DEFAULT 0,
	tool_calls INTEGER NOT NULL DEFAULT 0,
	cached BOOLEAN NOT NULL DEFAULT FALSE,
	response_ms INTEGER NOT NULL DEFAULT 0,
	tool_call_ms INTEGER NOT NULL DEFAULT 0,
	tool_param_ms INTEGER NOT NULL DEFAULT 0,
	created_at {{ts}} NOT NULL
);
CREATE INDEX request_logs_agent_idx ON request_logs (agent_id, created_at);
CREATE INDEX request_logs_owner_idx ON request_logs (owner_id, created_at);

CREATE TABLE agent_packages (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	version TEXT NOT NULL,
	owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	agent_id TEXT,
	manifest TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	UNIQUE (name, version)
);
`},
	{4, "api conversations", `
ALTER TABLE workspaces ADD COLUMN agent_id TEXT REFERENCES agents(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX workspaces_agent_idx ON workspaces (agent_id);
ALTER TABLE runs ADD COLUMN source TEXT NOT NULL DEFAULT 'chat';
`},
	{5, "outgoing webhooks", `
CREATE TABLE webhook_endpoints (
	id TEXT PRIMARY KEY,
	owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	agent_id TEXT REFERENCES agents(id) ON DELETE CASCADE,
	url TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	events TEXT NOT NULL DEFAULT '',
	enabled BOOLEAN NOT NULL DEFAULT TRUE,
	disabled_reason TEXT NOT NULL DEFAULT '',
	secret TEXT NOT NULL,
	previous_secret TEXT NOT NULL DEFAULT '',
	previous_secret_until {{ts}},
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at);

CREATE TABLE webhook_deliveries (
	id TEXT PRIMARY KEY,
	endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
	owner_id TEXT NOT NULL,
	event TEXT NOT NULL,
	payload TEXT NOT NULL,
	status TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	round INTEGER NOT NULL DEFAULT 0,
	round_attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{ts}},
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at);
CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at);

CREATE TABLE webhook_attempts (
	id TEXT PRIMARY KEY,
	delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
	attempt INTEGER NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	duration_ms INTEGER NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	response_body TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, attempt);
`},
	{6, "conversation sessions", `
ALTER TABLE chats ADD COLUMN session TEXT;
CREATE UNIQUE INDEX chats_session_idx ON chats (workspace_id, session);
`},
	{7, "files", `
CREATE TABLE files (
	id TEXT PRIMARY KEY,
	agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	owner_id TEXT NOT NULL,
	conversation_id TEXT,
	name TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size BIGINT NOT NULL,
	sha256 TEXT NOT NULL,
	source TEXT NOT NULL,
	created_at {{ts}} NOT NULL
);
CREATE INDEX files_agent_idx ON files (agent_id, created_at);
`},
	{8, "credits", `
CREATE TABLE credit_balances (
	user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	balance DOUBLE PRECISION NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE TABLE credit_ledger (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	amount DOUBLE PRECISION NOT NULL,
	reason TEXT NOT NULL,
	ref TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL
);
CREATE INDEX credit_ledger_user_idx ON credit_ledger (user_id, created_at);
`},
	{9, "custom tools and MCP servers", `
CREATE TABLE custom_tools (
	id {{serial}},
	owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	description TEXT NOT NULL,
	type TEXT NOT NULL,
	tool_schema TEXT,
	parameters TEXT,
	file_name TEXT NOT NULL DEFAULT '',
	file_data {{blob}},
	endpoint TEXT NOT NULL DEFAULT '',
	method TEXT NOT NULL DEFAULT '',
	headers TEXT,
	timeout_ms INTEGER NOT NULL DEFAULT 0,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX custom_tools_owner_idx ON custom_tools (owner_id, id);

CREATE TABLE agent_tools (
	agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	tool_id BIGINT NOT NULL REFERENCES custom_tools(id) ON DELETE CASCADE,
	created_at {{ts}} NOT NULL,
	PRIMARY KEY (agent_id, tool_id)
);
CREATE INDEX agent_tools_tool_idx ON agent_tools (tool_id);

CREATE TABLE mcp_servers (
	id TEXT PRIMARY KEY,
	owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	agent_id TEXT REFERENCES agents(id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	transport_type TEXT NOT NULL,
	command TEXT NOT NULL DEFAULT '',
	args TEXT,
	env TEXT,
	url TEXT NOT NULL DEFAULT '',
	headers TEXT,
	auto_connect BOOLEAN NOT NULL DEFAULT TRUE,
	is_active BOOLEAN NOT NULL DEFAULT TRUE,
	created_at {{ts}} NOT NULL,
	updated_at {{ts}} NOT NULL
);
CREATE INDEX mcp_servers_owner_idx ON mcp_servers (owner_id, created_at);
CREATE INDEX mcp_servers_agent_idx ON mcp_servers (agent_id);

ALTER TABLE tool_calls ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tool_calls ADD COLUMN question TEXT NOT NULL DEFAULT '';
`},
	{10, "stored responses", `
CREATE TABLE response_items (
	owner_id TEXT NOT NULL,
	id TEXT NOT NULL,
	messages TEXT NOT NULL,
	created_at {{ts}} NOT NULL,
	expires_at {{ts}} NOT NULL,
	PRIMARY KEY (owner_id, id)
);
CREATE INDEX response_items_expires_idx ON response_items (expires_at);
`},
	{11, "run redelivery", `
ALTER TABLE runs ADD COLUMN delivery INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN redelivered_at {{ts}};
ALTER TABLE messages ADD COLUMN created_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_undelivered_idx ON messages (created_at) WHERE delivered = FALSE;
`},
	{12, "training data and RAG indexes", `
CREATE TABLE training_documents (
	id TEXT PRIMARY KEY,
	agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	title TEXT NOT NULL DEFAULT '',
	content TEXT NOT NULL,
	bytes INTEGER NOT NULL DEFAULT 0,
	file_id TEXT NOT NULL DEFAULT '',
	created_at {{ts}} NOT NULL
);
CREATE INDEX training_documents_agent_idx ON training_documents (agent_id, created_at);

CREATE TABLE rag_indexes (
	agent_id TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
	status TEXT NOT NULL,
	version BIGINT NOT NULL DEFAULT 0,
	embedder TEXT NOT NULL DEFAULT '',
	backend TEXT NOT NULL DEFAULT 'sql',
	documents INTEGER NOT NULL DEFAULT 0,
	chunks INTEGER NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	started_at {{ts}},
	indexed_at {{ts}},
	updated_at {{ts}} NOT NULL
);

CREATE TABLE rag_chunks (
	agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
	version BIGINT NOT NULL,
	idx INTEGER NOT NULL,
	document_id TEXT NOT NULL,
	title TEXT NOT NULL DEFAULT '',
	text TEXT NOT NULL,
	vector {{blob}} NOT NULL,
	PRIMARY KEY (agent_id, version, idx)
);
`},
}
