package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/webhook"
	"github.com/atrium-hq/atrium/workspaces"
)

// The outgoing webhooks API (seed 001's "Webhooks & Events", served in seed
// 000's REST style): /api/webhooks/..., a user API key or JWT as "Authorization:
// Bearer", errors as {"error", "detail"}, lists as {count, next, previous,
// results}.

// webhookView is an endpoint as its owner sees it. The secret is in
// "secret" only in the answers that create or rotate it.
func webhookView(e webhook.Endpoint) map[string]any {
	v := map[string]any{
		"id": e.ID, "url": e.URL, "description": e.Description, "agent_id": nil, "events": e.Events,
		"enabled": e.Enabled, "disabled_reason": nil, "created_at": timestamp(e.CreatedAt), "updated_at": timestamp(e.UpdatedAt),
	}
	if e.Agent != "" {
		v["agent_id"] = e.Agent
	}
	if e.DisabledReason != "" {
		v["disabled_reason"] = e.DisabledReason
	}
	if e.Secret != "" {
		v["secret"] = e.Secret
	}
	return v
}

// deliveryView is one delivery with its attempts, oldest first. payload is
// the JSON body exactly as sent; message_id is its webhook-id header.
func deliveryView(d webhook.Delivery) map[string]any {
	attempts := make([]map[string]any, len(d.Attempts))
	for i, a := range d.Attempts {
		attempts[i] = map[string]any{
			"attempt": a.Number, "timestamp": timestamp(a.At), "status_code": webhookCode(a.StatusCode),
			"duration_ms": a.Duration.Milliseconds(), "error": a.Error, "response_body": a.ResponseBody,
		}
	}
	v := map[string]any{
		"id": d.ID, "webhook_id": d.Endpoint, "message_id": d.MessageID(), "event": d.Event, "status": d.Status,
		"attempt_count": d.AttemptCount, "next_attempt_at": nil, "last_status_code": webhookCode(d.LastStatusCode),
		"last_error": d.LastError, "payload": json.RawMessage(d.Payload), "attempts": attempts,
		"created_at": timestamp(d.CreatedAt), "updated_at": timestamp(d.UpdatedAt),
	}
	if d.NextAttemptAt != nil {
		v["next_attempt_at"] = timestamp(*d.NextAttemptAt)
	}
	return v
}

// webhookCode is a status code, or null when no answer came.
func webhookCode(code int) any {
	if code == 0 {
		return nil
	}
	return code
}

// webhooksOff answers 503 when the server has no webhook service.
func (s *server) webhooksOff(w http.ResponseWriter, r *http.Request) bool {
	if s.Webhooks != nil {
		return false
	}
	s.writeAPIError(w, r, workspaces.E(workspaces.KindUnavailable, "Webhooks are not available on this server"))
	return true
}

// webhookEvents reads the optional "events" list: nil when absent or null.
func webhookEvents(obj object) (*[]string, error) {
	raw, ok := obj["events"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var events []string
	if err := json.Unmarshal(raw, &events); err != nil {
		return nil, workspaces.E(workspaces.KindInvalid, "Invalid value for 'events': expected a list of event names")
	}
	return &events, nil
}

// webhookEnabled reads the optional "enabled": nil when absent or null.
func webhookEnabled(obj object) (*bool, error) {
	raw, ok := obj["enabled"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var on bool
	if err := json.Unmarshal(raw, &on); err != nil {
		return nil, workspaces.E(workspaces.KindInvalid, "Invalid value for 'enabled': expected true or false")
	}
	return &on, nil
}

// handleCreateWebhook is POST /api/webhooks/: a new endpoint, with its
// secret shown this once.
func (s *server) handleCreateWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.webhooksOff(w, r) {
			return
		}
		n, err := s.readNewWebhook(w, r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		e, err := s.Webhooks.Create(r.Context(), userOf(r), n)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, webhookView(e))
	})
}

func (s *server) readNewWebhook(w http.ResponseWriter, r *http.Request) (webhook.NewEndpoint, error) {
	var n webhook.NewEndpoint
	obj, err := s.readObject(w, r, false)
	if err != nil {
		return n, err
	}
	if n.URL, err = obj.str("url"); err != nil {
		return n, err
	}
	if n.Description, err = obj.str("description"); err != nil {
		return n, err
	}
	agent, err := obj.str("agent_id")
	if err != nil {
		return n, err
	}
	n.Agent = agents.ID(agent)
	events, err := webhookEvents(obj)
	if err != nil {
		return n, err
	}
	if events != nil {
		n.Events = *events
	}
	n.Enabled, err = webhookEnabled(obj)
	return n, err
}

// handleListWebhooks is GET /api/webhooks/: the caller's endpoints, without
// their secrets.
func (s *server) handleListWebhooks() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.webhooksOff(w, r) {
			return
		}
		list, err := s.Webhooks.List(r.Context(), userOf(r))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]map[string]any, len(list))
		for i, e := range list {
			out[i] = webhookView(e)
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": len(out), "next": nil, "previous": nil, "results": out})
	})
}

// handleGetWebhook is GET /api/webhooks/{id}/.
func (s *server) handleGetWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.webhooksOff(w, r) {
			return
		}
		e, err := s.Webhooks.Get(r.Context(), userOf(r), webhook.EndpointID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, webhookView(e))
	})
}

// handleUpdateWebhook is PATCH /api/webhooks/{id}/: fields not sent stay;
// "agent_id": null means all the caller's agents, "events": [] all events.
func (s *server) handleUpdateWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.webhooksOff(w, r) {
			return
		}
		u, err := s.readWebhookUpdate(w, r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		e, err := s.Webhooks.Update(r.Context(), userOf(r), webhook.EndpointID(r.PathValue("id")), u)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, webhookView(e))
	})
}

func (s *server) readWebhookUpdate(w http.ResponseWriter, r *http.Request) (webhook.EndpointUpdate, error) {
	var u webhook.EndpointUpdate
	obj, err := s.readObject(w, r, false)
	if err != nil {
		return u, err
	}
	if u.URL, err = obj.optStr("url"); err != nil {
		return u, err
	}
	if u.Description, err = obj.optStr("description"); err != nil {
		return u, err
	}
	if _, ok := obj["agent_id"]; ok {
		agent, err := obj.str("agent_id") // null: all agents
		if err != nil {
			return u, err
		}
		id := agents.ID(agent)
		u.Agent = &id
	}
	if u.Events, err = webhookEvents(obj); err != nil {
		return u, err
	}
	if _, ok := obj["events"]; ok && u.Events == nil {
		u.Events = &[]string{} // null: all events
	}
	u.Enabled, err = webhookEnabled(obj)
	return u, err
}

// handleDeleteWebhook is DELETE /api/webhooks/{id}/: the endpoint and its
// delivery log.
func (s *server) handleDeleteWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.webhooksOff(w, r) {
			return
		}
		if err := s.Webhooks.Delete(r.Context(), userOf(r), webhook.EndpointID(r.PathValue("id"))); err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleRotateWebhookSecret is POST /api/webhooks/{id}/rotate_secret/: a
// new secret, shown this once; the old one still signs for a grace period.
func (s *server) handleRotateWebhookSecret() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.webhooksOff(w, r) {
			return
		}
		e, err := s.Webhooks.RotateSecret(r.Context(), userOf(r), webhook.EndpointID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, webhookView(e))
	})
}

// handleTestWebhook is POST /api/webhooks/{id}/test/: a webhook.test ping,
// queued like any event; 202 with its delivery.
func (s *server) handleTestWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.webhooksOff(w, r) {
			return
		}
		d, err := s.Webhooks.Test(r.Context(), userOf(r), webhook.EndpointID(r.PathValue("id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, deliveryView(d))
	})
}

// handleWebhookDeliveries is GET /api/webhooks/{id}/deliveries/?limit=&offset=:
// the delivery log, newest first, each delivery with its attempts.
func (s *server) handleWebhookDeliveries() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.webhooksOff(w, r) {
			return
		}
		limit, offset, err := webhookPage(r, 50, 200)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		list, total, err := s.Webhooks.Deliveries(r.Context(), userOf(r), webhook.EndpointID(r.PathValue("id")), offset, limit)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		out := make([]map[string]any, len(list))
		for i, d := range list {
			out[i] = deliveryView(d)
		}
		var next, prev any
		if offset+len(list) < total {
			next = fmt.Sprintf("%s?limit=%d&offset=%d", r.URL.Path, limit, offset+limit)
		}
		if offset > 0 {
			prev = fmt.Sprintf("%s?limit=%d&offset=%d", r.URL.Path, limit, max(offset-limit, 0))
		}
		writeJSON(w, http.StatusOK, map[string]any{"count": total, "next": next, "previous": prev, "results": out})
	})
}

// webhookPage reads DRF's limit/offset pagination.
func webhookPage(r *http.Request, defLimit, maxLimit int) (limit, offset int, err error) {
	q := r.URL.Query()
	limit = defLimit
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxLimit {
			return 0, 0, workspaces.Errorf(workspaces.KindInvalid, "limit must be a number from 1 to %d", maxLimit)
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, workspaces.E(workspaces.KindInvalid, "offset must be a number from 0")
		}
	}
	return limit, offset, nil
}

// handleRedeliverWebhook is POST
// /api/webhooks/{id}/deliveries/{delivery_id}/redeliver/: the delivery sent
// again with the same webhook-id; 202 with it, pending.
func (s *server) handleRedeliverWebhook() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.webhooksOff(w, r) {
			return
		}
		d, err := s.Webhooks.Redeliver(r.Context(), userOf(r), webhook.EndpointID(r.PathValue("id")), webhook.DeliveryID(r.PathValue("delivery_id")))
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, deliveryView(d))
	})
}
