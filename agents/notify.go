package agents

import (
	"context"
	"time"

	"github.com/atrium-hq/atrium/workspaces"
)

// Notification events (seed 001's webhook events).
const (
	NotifyAgentCreated     = "agent.created"
	NotifyExecutionStarted = "agent.execution.started"
	NotifyExecutionDone    = "agent.execution.completed"
	NotifyToolInvoked      = "tool.invoked"
	// An agent's RAG index was built, or its build failed (agents/rag).
	NotifyIndexed     = "rag.indexing.completed"
	NotifyIndexFailed = "rag.indexing.failed"
)

// Notification is something that happened to an agent, for its owner's
// outgoing webhooks.
type Notification struct {
	// Event is one of the Notify constants.
	Event string
	Owner workspaces.UserID
	Agent ID
	At    time.Time
	// Data is the payload's "data" (agent_id is always in it).
	Data map[string]any
}

// Notifier takes notifications. Notify must not block for long: it queues.
// A nil Notifier drops them.
type Notifier interface {
	Notify(ctx context.Context, n Notification)
}

// notify sends n through to when it is set.
func notify(ctx context.Context, to Notifier, n Notification) {
	if to == nil {
		return
	}
	if n.At.IsZero() {
		n.At = time.Now().UTC()
	}
	if n.Data == nil {
		n.Data = map[string]any{}
	}
	n.Data["agent_id"] = n.Agent
	to.Notify(context.WithoutCancel(ctx), n)
}
