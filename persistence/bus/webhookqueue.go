package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	webhookStream   = "ATRIUM_WEBHOOKS"
	webhookPrefix   = "atrium.webhook."
	webhookConsumer = "webhook-senders"
)

// WebhookSubject is the work-queue subject of deliveries to endpoint.
func WebhookSubject(endpoint string) string { return webhookPrefix + endpoint }

// WebhookQueueConfig tunes the webhook delivery queue.
type WebhookQueueConfig struct {
	// AckWait is how long a sender may hold a delivery without answering
	// before it is given to another sender. It must exceed one attempt's
	// HTTP timeout. Zero means 60 seconds.
	AckWait time.Duration
	// Replicas of the stream on a NATS cluster. Zero means 1.
	Replicas int
}

// WebhookQueue is the JetStream work queue of outgoing webhook deliveries:
// each queued delivery is handed to exactly one sender at a time, survives
// restarts (file storage), and is handed out again when its sender dies or
// when it asks for a retry later (Nak with a delay).
type WebhookQueue struct {
	js       jetstream.JetStream
	consumer jetstream.Consumer
	cfg      WebhookQueueConfig
}

// WebhookDelivery is one queued delivery handed to this sender. Ack it when
// it needs no more attempts, NakWithDelay to try it again later.
type WebhookDelivery = jetstream.Msg

// WebhookQueue creates or updates the webhook work queue and its shared
// consumer.
func (b *Bus) WebhookQueue(ctx context.Context, cfg WebhookQueueConfig) (*WebhookQueue, error) {
	if cfg.AckWait <= 0 {
		cfg.AckWait = 60 * time.Second
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	s, err := b.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        webhookStream,
		Description: "Atrium outgoing webhook deliveries, one sender each",
		Subjects:    []string{webhookPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Duplicates:  10 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("nats: webhook queue stream: %w", err)
	}
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:   webhookConsumer,
		AckPolicy: jetstream.AckExplicitPolicy,
		AckWait:   cfg.AckWait,
		// The sender counts attempts in SQL and acks when it gives up, so
		// NATS never drops a delivery by itself.
		MaxDeliver: -1,
		// Deliveries waiting for their next retry stay pending (up to a day
		// with the default schedule), so the bound is generous.
		MaxAckPending: 1_000_000,
		FilterSubject: webhookPrefix + ">",
	})
	if err != nil {
		return nil, fmt.Errorf("nats: webhook queue consumer: %w", err)
	}
	return &WebhookQueue{js: b.JS, consumer: c, cfg: cfg}, nil
}

// AckWait is the configured ack wait.
func (q *WebhookQueue) AckWait() time.Duration { return q.cfg.AckWait }

// Enqueue adds a delivery to endpoint. id deduplicates: enqueueing the same
// id twice within ten minutes stores it once.
func (q *WebhookQueue) Enqueue(ctx context.Context, endpoint, id string, data []byte) error {
	if _, err := q.js.Publish(ctx, WebhookSubject(endpoint), data, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("nats: enqueue webhook delivery %s: %w", id, err)
	}
	return nil
}

// Consume hands deliveries to fn, at most limit at a time, until ctx ends.
// fn runs on its own goroutine and must Ack, Nak or NakWithDelay the
// delivery. Consume returns after every fn it started has returned.
func (q *WebhookQueue) Consume(ctx context.Context, limit int, fn func(context.Context, WebhookDelivery)) error {
	return consume(ctx, q.consumer, limit, "webhook deliveries", fn)
}
