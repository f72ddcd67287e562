// Package webhook sends agents' notifications (agent.created,
// agent.execution.started, agent.execution.completed, tool.invoked: seed
// 001's "Webhooks & Events") to the HTTP endpoints their owners register.
//
// An Endpoint belongs to a user and listens to all the user's agents or to
// one, for all four events or some. The Service is the agents.Notifier: it
// matches a notification against the owner's endpoints and records one
// Delivery per endpoint in SQL, then queues it on a JetStream work queue,
// off the agent's run (Notify only hands the notification to a buffered
// dispatcher). A Worker takes queued deliveries, one sender each across all
// nodes, and POSTs the payload
//
//	{"event": "agent.execution.completed", "timestamp": "2026-01-04T10:30:00Z", "data": {...}}
//
// signed as the Standard Webhooks specification says (webhook-id,
// webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>; secrets
// shown as whsec_<base64 key>). A 2xx answer within the timeout is success;
// anything else is retried on a schedule with exponential backoff (about a
// day by default) with the same webhook-id, so receivers can drop
// duplicates; 410 Gone disables the endpoint. Every attempt is logged
// (time, status, duration, error, a response excerpt) and a delivery can be
// sent again by hand.
//
// Deliveries leave through safehttp, so endpoints on loopback, private or
// link-local addresses are refused unless the operator allows them
// (ATRIUM_TOOLS_ALLOW_HOSTS), exactly as for tools.
//
// The signing secret is stored as-is: HMAC needs the key itself, so a hash
// would make signing impossible, and encrypting it would need a key the
// server keeps next to the database anyway. It is shown in full only when an
// endpoint is created or its secret rotated, never in lists.
package webhook
