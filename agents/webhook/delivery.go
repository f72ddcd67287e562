package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// DeliveryID identifies a delivery.
type DeliveryID string

// DeliveryStatus is where a delivery is.
type DeliveryStatus string

// A delivery is pending until an attempt succeeds, or fails for good (its
// schedule is used up, the endpoint answered 410 Gone or is disabled, or
// its address is refused).
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Delivery is one event sent to one endpoint, with every attempt.
type Delivery struct {
	ID       DeliveryID
	Endpoint EndpointID
	Event    string
	// Payload is the JSON body, the same bytes on every attempt.
	Payload []byte
	Status  DeliveryStatus
	// AttemptCount counts the attempts made, manual redeliveries included.
	AttemptCount int
	// NextAttemptAt is when a pending delivery is tried next; nil otherwise.
	NextAttemptAt *time.Time
	// LastStatusCode and LastError describe the last attempt (0 and "" for
	// none; LastStatusCode is 0 when no answer came).
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Attempts are the attempts, oldest first, when the call loads them.
	Attempts []Attempt
}

// MessageID is the delivery's webhook-id header: the same on every attempt
// of it, so a receiver can drop duplicates.
func (d Delivery) MessageID() string { return messageID(d.ID) }

func messageID(id DeliveryID) string { return "msg_" + string(id) }

// Attempt is one HTTP request of a delivery and what came back.
type Attempt struct {
	// Number counts the delivery's attempts from 1.
	Number int
	At     time.Time
	// StatusCode is the answer's status, 0 when none came.
	StatusCode int
	Duration   time.Duration
	// Error says why the attempt failed; "" when it succeeded.
	Error string
	// ResponseBody is the start of the answer's body.
	ResponseBody string
}

// queued is a delivery's message on the work queue. Round tells a message
// of an earlier round, left behind by a manual redelivery, from the live one.
type queued struct {
	Delivery DeliveryID `json:"delivery"`
	Round    int        `json:"round"`
}

// payload encodes the body every delivery of an event carries (seed 001's
// "Webhook Payload Example"). at is the event's time, to the second.
func payload(event string, at time.Time, data map[string]any) ([]byte, error) {
	if data == nil {
		data = map[string]any{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Event     string         `json:"event"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}{event, at.UTC().Format(time.RFC3339), data})
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", event, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// deliver records a pending delivery of body to endpoint ep and queues it.
// A delivery that cannot be queued is marked failed, so the log says so
// and it can be sent again by hand.
func (s *Service) deliver(ctx context.Context, ep EndpointID, owner workspaces.UserID, event string, body []byte) (*sqldb.WebhookDelivery, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	row := &sqldb.WebhookDelivery{
		ID: workspaces.NewID(), EndpointID: string(ep), OwnerID: string(owner), Event: event, Payload: string(body),
		Status: string(DeliveryPending), NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	if _, err := s.db.NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("record delivery: %w", err)
	}
	if err := s.enqueue(ctx, row); err != nil {
		return row, err
	}
	return row, nil
}

// enqueue puts the current round of row on the work queue, or marks it
// failed when the queue refuses.
func (s *Service) enqueue(ctx context.Context, row *sqldb.WebhookDelivery) error {
	data, _ := json.Marshal(queued{Delivery: DeliveryID(row.ID), Round: row.Round})
	err := s.queue.Enqueue(ctx, row.EndpointID, row.ID+"."+strconv.Itoa(row.Round), data)
	if err == nil {
		return nil
	}
	row.Status, row.NextAttemptAt, row.LastError = string(DeliveryFailed), nil, "could not be queued: "+err.Error()
	row.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	if _, uerr := s.db.NewUpdate().Model(row).Column("status", "next_attempt_at", "last_error", "updated_at").
		Where("id = ? AND round = ?", row.ID, row.Round).Exec(context.WithoutCancel(ctx)); uerr != nil {
		s.cfg.Logger.Error("webhook: mark unqueued delivery failed", "delivery", row.ID, "err", uerr)
	}
	return err
}

// Test sends a webhook.test ping to owner's endpoint id through the normal
// path and returns its delivery, still pending.
func (s *Service) Test(ctx context.Context, owner workspaces.UserID, id EndpointID) (Delivery, error) {
	ep, err := s.ownedRow(ctx, owner, id)
	if err != nil {
		return Delivery{}, err
	}
	body, err := payload(EventTest, s.now(), map[string]any{
		"webhook_id": ep.ID, "message": "This is a test event from Atrium: your endpoint is reachable.",
	})
	if err != nil {
		return Delivery{}, workspaces.Internal("test webhook", err)
	}
	row, err := s.deliver(ctx, EndpointID(ep.ID), owner, EventTest, body)
	if row == nil {
		return Delivery{}, workspaces.Internal("test webhook", err)
	}
	if err != nil {
		return Delivery{}, workspaces.E(workspaces.KindUnavailable, "The test event could not be queued; try again later")
	}
	return deliveryFromRow(row), nil
}

// Maximum page size of Deliveries.
const maxDeliveryPage = 200

// Deliveries returns a page of the delivery log of owner's endpoint id,
// newest first, each with its attempts, and how many deliveries there are.
func (s *Service) Deliveries(ctx context.Context, owner workspaces.UserID, id EndpointID, offset, limit int) ([]Delivery, int, error) {
	if _, err := s.ownedRow(ctx, owner, id); err != nil {
		return nil, 0, err
	}
	limit = min(max(limit, 1), maxDeliveryPage)
	var rows []sqldb.WebhookDelivery
	total, err := s.db.NewSelect().Model(&rows).Where("endpoint_id = ?", string(id)).
		OrderExpr("created_at DESC, id DESC").Offset(int64(max(offset, 0))).Limit(int64(limit)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, workspaces.Internal("list webhook deliveries", err)
	}
	out := make([]Delivery, len(rows))
	if len(rows) == 0 {
		return out, int(total), nil
	}
	ids := make([]string, len(rows))
	at := map[string]int{}
	for i := range rows {
		out[i] = deliveryFromRow(&rows[i])
		ids[i], at[rows[i].ID] = rows[i].ID, i
	}
	var attempts []sqldb.WebhookAttempt
	if err := s.db.NewSelect().Model(&attempts).Where("delivery_id IN (?)", bun.In(ids)).OrderExpr("attempt, created_at").Scan(ctx); err != nil {
		return nil, 0, workspaces.Internal("list webhook attempts", err)
	}
	for _, a := range attempts {
		d := &out[at[a.DeliveryID]]
		d.Attempts = append(d.Attempts, Attempt{
			Number: a.Attempt, At: a.CreatedAt, StatusCode: a.StatusCode, Duration: time.Duration(a.DurationMS) * time.Millisecond,
			Error: a.Error, ResponseBody: a.ResponseBody,
		})
	}
	return out, int(total), nil
}

// Redeliver sends delivery did of owner's endpoint id again, with the same
// webhook-id and payload and a fresh retry schedule, and returns it
// pending. A disabled endpoint must be enabled first.
func (s *Service) Redeliver(ctx context.Context, owner workspaces.UserID, id EndpointID, did DeliveryID) (Delivery, error) {
	ep, err := s.ownedRow(ctx, owner, id)
	if err != nil {
		return Delivery{}, err
	}
	notFound := workspaces.E(workspaces.KindNotFound, "Delivery not found")
	if !workspaces.ValidID(string(did)) {
		return Delivery{}, notFound
	}
	var row sqldb.WebhookDelivery
	err = s.db.NewSelect().Model(&row).Where("id = ? AND endpoint_id = ?", string(did), ep.ID).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return Delivery{}, notFound
	}
	if err != nil {
		return Delivery{}, workspaces.Internal("get webhook delivery", err)
	}
	if !ep.Enabled && row.Event != EventTest {
		return Delivery{}, workspaces.E(workspaces.KindConflict, "This webhook is disabled; enable it before redelivering")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	round := row.Round
	row.Round, row.RoundAttempts, row.Status, row.NextAttemptAt, row.UpdatedAt = round+1, 0, string(DeliveryPending), &now, now
	res, err := s.db.NewUpdate().Model(&row).Column("round", "round_attempts", "status", "next_attempt_at", "updated_at").
		Where("id = ? AND round = ?", row.ID, round).Exec(ctx)
	if err != nil {
		return Delivery{}, workspaces.Internal("redeliver webhook", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Delivery{}, workspaces.E(workspaces.KindConflict, "This delivery is being redelivered already")
	}
	if err := s.enqueue(ctx, &row); err != nil {
		return Delivery{}, workspaces.E(workspaces.KindUnavailable, "The delivery could not be queued; try again later")
	}
	return deliveryFromRow(&row), nil
}

func deliveryFromRow(r *sqldb.WebhookDelivery) Delivery {
	d := Delivery{
		ID: DeliveryID(r.ID), Endpoint: EndpointID(r.EndpointID), Event: r.Event, Payload: []byte(r.Payload),
		Status: DeliveryStatus(r.Status), AttemptCount: r.Attempts, LastStatusCode: r.LastStatusCode, LastError: r.LastError,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Attempts: []Attempt{},
	}
	if r.Status == string(DeliveryPending) {
		d.NextAttemptAt = r.NextAttemptAt
	}
	return d
}
