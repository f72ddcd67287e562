package sqldb

import (
	"time"

	"github.com/uptrace/bun"
)

// User is a row of users.
type User struct {
	bun.BaseModel `bun:"table:users"`
	ID            string    `bun:"id,pk"`
	Email         string    `bun:"email"`
	PasswordHash  string    `bun:"password_hash"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// Workspace is a row of workspaces.
type Workspace struct {
	bun.BaseModel `bun:"table:workspaces"`
	ID            string `bun:"id,pk"`
	Name          string `bun:"name"`
	OwnerID       string `bun:"owner_id"`
	// AgentID is set on an agent's API workspace, whose chats are the
	// conversations API clients have with it.
	AgentID   *string   `bun:"agent_id"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// WorkspaceMember is a row of workspace_members: one person's role in one
// workspace. The owner has a row too, with role "owner".
type WorkspaceMember struct {
	bun.BaseModel `bun:"table:workspace_members"`
	WorkspaceID   string    `bun:"workspace_id,pk"`
	UserID        string    `bun:"user_id,pk"`
	Role          string    `bun:"role"`
	AddedBy       string    `bun:"added_by"`
	CreatedAt     time.Time `bun:"created_at"`
}

// Chat is a row of chats.
type Chat struct {
	bun.BaseModel `bun:"table:chats"`
	ID            string `bun:"id,pk"`
	WorkspaceID   string `bun:"workspace_id"`
	CreatedBy     string `bun:"created_by"`
	Title         string `bun:"title"`
	// Session is the client's name for an API conversation (seed 003's
	// session header), unique in its workspace.
	Session   *string   `bun:"session"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// ChatSecret is a row of chat_secrets: a connection or message string, kept
// only as the SHA-256 of the string.
type ChatSecret struct {
	bun.BaseModel `bun:"table:chat_secrets"`
	ID            string     `bun:"id,pk"`
	Kind          string     `bun:"kind"`
	TokenHash     string     `bun:"token_hash"`
	ChatID        string     `bun:"chat_id"`
	WorkspaceID   string     `bun:"workspace_id"`
	CreatedBy     string     `bun:"created_by"`
	CreatedAt     time.Time  `bun:"created_at"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	LastUsedAt    *time.Time `bun:"last_used_at"`
}

// Agent is a row of agents.
type Agent struct {
	bun.BaseModel `bun:"table:agents"`
	ID            string     `bun:"id,pk"`
	OwnerID       string     `bun:"owner_id"`
	Name          string     `bun:"name"`
	Description   string     `bun:"description"`
	ModelID       string     `bun:"model_id"`
	AgentType     string     `bun:"agent_type"`
	Status        string     `bun:"status"`
	Config        string     `bun:"config"`
	Script        string     `bun:"script"`
	Version       int        `bun:"version"`
	PublishedAt   *time.Time `bun:"published_at"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
}

// WorkspaceAgent is a row of workspace_agents: an agent attached to a
// workspace, answering in its chats.
type WorkspaceAgent struct {
	bun.BaseModel `bun:"table:workspace_agents"`
	WorkspaceID   string    `bun:"workspace_id,pk"`
	AgentID       string    `bun:"agent_id,pk"`
	AddedBy       string    `bun:"added_by"`
	CreatedAt     time.Time `bun:"created_at"`
}

// Message is a row of messages: what a person said in a chat, or an agent's
// answer. Delivered is set once its event is published and its runs queued;
// RedeliveredAt is when a sweep last took over a delivery left unfinished,
// and CreatedSeq the number of its message.created event when a delivery
// failed after publishing it (so finishing it does not publish it again).
type Message struct {
	bun.BaseModel `bun:"table:messages"`
	ID            string     `bun:"id,pk"`
	ChatID        string     `bun:"chat_id"`
	WorkspaceID   string     `bun:"workspace_id"`
	Role          string     `bun:"role"`
	AuthorID      *string    `bun:"author_id"`
	AgentID       *string    `bun:"agent_id"`
	RunID         *string    `bun:"run_id"`
	ClientID      *string    `bun:"client_id"`
	Content       string     `bun:"content"`
	Status        string     `bun:"status"`
	Error         string     `bun:"error"`
	Delivered     bool       `bun:"delivered"`
	RedeliveredAt *time.Time `bun:"redelivered_at"`
	CreatedSeq    int64      `bun:"created_seq"`
	CreatedAt     time.Time  `bun:"created_at"`
}

// Run is a row of runs: one agent answering one message. Delivery is the
// run queue's delivery count of the claim that holds it: only a later
// delivery of the same request may take a running run over, and only the
// holder may finish it.
type Run struct {
	bun.BaseModel `bun:"table:runs"`
	ID            string     `bun:"id,pk"`
	ChatID        string     `bun:"chat_id"`
	WorkspaceID   string     `bun:"workspace_id"`
	AgentID       string     `bun:"agent_id"`
	MessageID     string     `bun:"message_id"`
	Status        string     `bun:"status"`
	Error         string     `bun:"error"`
	Attempts      int        `bun:"attempts"`
	Delivery      int        `bun:"delivery"`
	Source        string     `bun:"source"`
	CreatedAt     time.Time  `bun:"created_at"`
	StartedAt     *time.Time `bun:"started_at"`
	FinishedAt    *time.Time `bun:"finished_at"`
}

// APIKey is a row of api_keys: a user's key (kind "user", AgentID nil) or an
// agent's key (kind "agent"), kept only as the SHA-256 of the key.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys"`
	ID            string     `bun:"id,pk"`
	Kind          string     `bun:"kind"`
	UserID        string     `bun:"user_id"`
	AgentID       *string    `bun:"agent_id"`
	Name          string     `bun:"name"`
	Prefix        string     `bun:"prefix"`
	KeyHash       string     `bun:"key_hash"`
	CreatedAt     time.Time  `bun:"created_at"`
	LastUsedAt    *time.Time `bun:"last_used_at"`
}

// ToolCall is a row of tool_calls: one tool call of a run.
type ToolCall struct {
	bun.BaseModel `bun:"table:tool_calls"`
	ID            string `bun:"id,pk"`
	RunID         string `bun:"run_id"`
	AgentID       string `bun:"agent_id"`
	ChatID        string `bun:"chat_id"`
	CallID        string `bun:"call_id"`
	Iteration     int    `bun:"iteration"`
	Name          string `bun:"name"`
	Parameters    string `bun:"parameters"`
	Result        string `bun:"result"`
	Error         string `bun:"error"`
	DurationMS    int64  `bun:"duration_ms"`
	// Pending marks a call left to the API caller (seed 003's "Tool
	// call(s) initiated"); Question is set when the tool waits for a
	// parameter the user must give.
	Pending   bool      `bun:"pending"`
	Question  string    `bun:"question"`
	CreatedAt time.Time `bun:"created_at"`
}

// RequestLog is a row of request_logs: one answered request, with what seed
// 003's Logs page shows.
type RequestLog struct {
	bun.BaseModel `bun:"table:request_logs"`
	ID            string    `bun:"id,pk"`
	AgentID       string    `bun:"agent_id"`
	OwnerID       string    `bun:"owner_id"`
	RunID         string    `bun:"run_id"`
	ChatID        string    `bun:"chat_id"`
	Source        string    `bun:"source"`
	Model         string    `bun:"model"`
	Prompt        string    `bun:"prompt"`
	Response      string    `bun:"response"`
	Status        string    `bun:"status"`
	Error         string    `bun:"error"`
	InputTokens   int       `bun:"input_tokens"`
	OutputTokens  int       `bun:"output_tokens"`
	Credits       float64   `bun:"credits"`
	Iterations    int       `bun:"iterations"`
	ToolCalls     int       `bun:"tool_calls"`
	Cached        bool      `bun:"cached"`
	ResponseMS    int64     `bun:"response_ms"`
	ToolCallMS    int64     `bun:"tool_call_ms"`
	ToolParamMS   int64     `bun:"tool_param_ms"`
	CreatedAt     time.Time `bun:"created_at"`
}

// AgentPackage is a row of agent_packages: one published version of an
// agent's package (its manifest is JSON).
type AgentPackage struct {
	bun.BaseModel `bun:"table:agent_packages"`
	ID            string    `bun:"id,pk"`
	Name          string    `bun:"name"`
	Version       string    `bun:"version"`
	OwnerID       string    `bun:"owner_id"`
	AgentID       *string   `bun:"agent_id"`
	Manifest      string    `bun:"manifest"`
	CreatedAt     time.Time `bun:"created_at"`
}

// WebhookEndpoint is a row of webhook_endpoints: a user's outgoing webhook.
// AgentID nil means all the user's agents; Events is comma-separated, empty
// for all. Secret is the signing key as shown to the user ("whsec_…"), kept
// as-is because signing needs it; PreviousSecret still signs until
// PreviousSecretUntil after a rotation.
type WebhookEndpoint struct {
	bun.BaseModel       `bun:"table:webhook_endpoints"`
	ID                  string     `bun:"id,pk"`
	OwnerID             string     `bun:"owner_id"`
	AgentID             *string    `bun:"agent_id"`
	URL                 string     `bun:"url"`
	Description         string     `bun:"description"`
	Events              string     `bun:"events"`
	Enabled             bool       `bun:"enabled"`
	DisabledReason      string     `bun:"disabled_reason"`
	Secret              string     `bun:"secret"`
	PreviousSecret      string     `bun:"previous_secret"`
	PreviousSecretUntil *time.Time `bun:"previous_secret_until"`
	CreatedAt           time.Time  `bun:"created_at"`
	UpdatedAt           time.Time  `bun:"updated_at"`
}

// WebhookDelivery is a row of webhook_deliveries: one event for one
// endpoint, with its payload exactly as sent. Round counts manual
// redeliveries; RoundAttempts the attempts since the last one.
type WebhookDelivery struct {
	bun.BaseModel  `bun:"table:webhook_deliveries"`
	ID             string     `bun:"id,pk"`
	EndpointID     string     `bun:"endpoint_id"`
	OwnerID        string     `bun:"owner_id"`
	Event          string     `bun:"event"`
	Payload        string     `bun:"payload"`
	Status         string     `bun:"status"`
	Attempts       int        `bun:"attempts"`
	Round          int        `bun:"round"`
	RoundAttempts  int        `bun:"round_attempts"`
	NextAttemptAt  *time.Time `bun:"next_attempt_at"`
	LastStatusCode int        `bun:"last_status_code"`
	LastError      string     `bun:"last_error"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// WebhookAttempt is a row of webhook_attempts: one HTTP request of a
// delivery and what came back.
type WebhookAttempt struct {
	bun.BaseModel `bun:"table:webhook_attempts"`
	ID            string    `bun:"id,pk"`
	DeliveryID    string    `bun:"delivery_id"`
	Attempt       int       `bun:"attempt"`
	StatusCode    int       `bun:"status_code"`
	DurationMS    int64     `bun:"duration_ms"`
	Error         string    `bun:"error"`
	ResponseBody  string    `bun:"response_body"`
	CreatedAt     time.Time `bun:"created_at"`
}

// File is a row of files: an upload or a file a tool made, stored on disk
// under the data dir, scoped to its agent.
type File struct {
	bun.BaseModel  `bun:"table:files"`
	ID             string    `bun:"id,pk"`
	AgentID        string    `bun:"agent_id"`
	OwnerID        string    `bun:"owner_id"`
	ConversationID *string   `bun:"conversation_id"`
	Name           string    `bun:"name"`
	ContentType    string    `bun:"content_type"`
	Size           int64     `bun:"size"`
	SHA256         string    `bun:"sha256"`
	Source         string    `bun:"source"`
	CreatedAt      time.Time `bun:"created_at"`
}

// CreditBalance is a row of credit_balances: a user's credits now. A user
// without a row has never spent any and holds the free credits.
type CreditBalance struct {
	bun.BaseModel `bun:"table:credit_balances"`
	UserID        string    `bun:"user_id,pk"`
	Balance       float64   `bun:"balance"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// CreditEntry is a row of credit_ledger: credits granted (positive) or
// spent (negative), with why.
type CreditEntry struct {
	bun.BaseModel `bun:"table:credit_ledger"`
	ID            string    `bun:"id,pk"`
	UserID        string    `bun:"user_id"`
	Amount        float64   `bun:"amount"`
	Reason        string    `bun:"reason"`
	Ref           string    `bun:"ref"`
	CreatedAt     time.Time `bun:"created_at"`
}

// CustomTool is a row of custom_tools: a user's tool (seed 003's tool API;
// seed 000's custom HTTP tools). Its id is an integer, as seed 003 shows.
// TOOL_SCHEMA, PARAMETERS and HEADERS hold JSON text.
type CustomTool struct {
	bun.BaseModel `bun:"table:custom_tools"`
	ID            int64     `bun:"id,pk,autoincrement"`
	OwnerID       string    `bun:"owner_id"`
	Name          string    `bun:"name"`
	Description   string    `bun:"description"`
	Type          string    `bun:"type"`
	ToolSchema    *string   `bun:"tool_schema"`
	Parameters    *string   `bun:"parameters"`
	FileName      string    `bun:"file_name"`
	FileData      []byte    `bun:"file_data"`
	Endpoint      string    `bun:"endpoint"`
	Method        string    `bun:"method"`
	Headers       *string   `bun:"headers"`
	TimeoutMS     int       `bun:"timeout_ms"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// AgentTool is a row of agent_tools: a custom tool attached to an agent.
type AgentTool struct {
	bun.BaseModel `bun:"table:agent_tools"`
	AgentID       string    `bun:"agent_id,pk"`
	ToolID        int64     `bun:"tool_id,pk"`
	CreatedAt     time.Time `bun:"created_at"`
}

// MCPServer is a row of mcp_servers (seed 000 §5.4, §9). AgentID is nil
// for a server of all its owner's agents. ARGS, ENV and HEADERS hold JSON
// text.
type MCPServer struct {
	bun.BaseModel `bun:"table:mcp_servers"`
	ID            string    `bun:"id,pk"`
	OwnerID       string    `bun:"owner_id"`
	AgentID       *string   `bun:"agent_id"`
	Name          string    `bun:"name"`
	Description   string    `bun:"description"`
	Transport     string    `bun:"transport_type"`
	Command       string    `bun:"command"`
	Args          *string   `bun:"args"`
	Env           *string   `bun:"env"`
	URL           string    `bun:"url"`
	Headers       *string   `bun:"headers"`
	AutoConnect   bool      `bun:"auto_connect"`
	IsActive      bool      `bun:"is_active"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// ResponseItem is a row of response_items: what the Responses API stored
// (a response or one of its output items), as the JSON of the messages it
// stands for, kept until ExpiresAt. OwnerID names the caller ("user:<id>"
// or an agent key's digest).
type ResponseItem struct {
	bun.BaseModel `bun:"table:response_items"`
	OwnerID       string    `bun:"owner_id,pk"`
	ID            string    `bun:"id,pk"`
	Messages      string    `bun:"messages"`
	CreatedAt     time.Time `bun:"created_at"`
	ExpiresAt     time.Time `bun:"expires_at"`
}

// TrainingDocument is a row of training_documents: text an agent's RAG
// index is built from (written directly, or taken from one of its files).
type TrainingDocument struct {
	bun.BaseModel `bun:"table:training_documents"`
	ID            string    `bun:"id,pk"`
	AgentID       string    `bun:"agent_id"`
	Title         string    `bun:"title"`
	Content       string    `bun:"content"`
	Bytes         int       `bun:"bytes"` // len(Content)
	FileID        string    `bun:"file_id"`
	CreatedAt     time.Time `bun:"created_at"`
}

// RAGIndex is a row of rag_indexes: the state of an agent's RAG index.
// Its chunks are the rag_chunks rows of the same version.
type RAGIndex struct {
	bun.BaseModel `bun:"table:rag_indexes"`
	AgentID       string     `bun:"agent_id,pk"`
	Status        string     `bun:"status"`
	Version       int64      `bun:"version"`
	Embedder      string     `bun:"embedder"`
	Backend       string     `bun:"backend"` // where its vectors are: sql or qdrant
	Documents     int        `bun:"documents"`
	Chunks        int        `bun:"chunks"`
	Error         string     `bun:"error"`
	StartedAt     *time.Time `bun:"started_at"`
	IndexedAt     *time.Time `bun:"indexed_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
}

// RAGChunk is a row of rag_chunks: a passage of a training document and
// its embedding (little-endian float32s).
type RAGChunk struct {
	bun.BaseModel `bun:"table:rag_chunks"`
	AgentID       string `bun:"agent_id,pk"`
	Version       int64  `bun:"version,pk"`
	Idx           int    `bun:"idx,pk"`
	DocumentID    string `bun:"document_id"`
	Title         string `bun:"title"`
	Text          string `bun:"text"`
	Vector        []byte `bun:"vector"`
}
