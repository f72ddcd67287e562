package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	runStream   = "ATRIUM_RUNS"
	runPrefix   = "atrium.run."
	runConsumer = "runners"
)

// RunSubject is the work-queue subject of runs for agent.
func RunSubject(agent string) string { return runPrefix + agent }

// RunQueueConfig tunes the run work queue.
type RunQueueConfig struct {
	// AckWait is how long a runner may stay silent about a run before it is
	// given to another runner. Runners report progress more often than this.
	// Zero means 30 seconds.
	AckWait time.Duration
	// MaxDeliver is how many times a run is handed out to be worked on.
	// The queue itself never drops a run: the delivery after the last one
	// goes to a runner only so that it records the run as failed (a run
	// whose runners all died would otherwise stay "running" for good).
	// Zero means 5.
	MaxDeliver int
	// Replicas of the stream on a NATS cluster. Zero means 1.
	Replicas int
}

// RunQueue is the JetStream work queue of run requests: each request goes to
// exactly one runner, and back to the queue if that runner dies.
type RunQueue struct {
	js       jetstream.JetStream
	consumer jetstream.Consumer
	cfg      RunQueueConfig
}

// RunDelivery is one run request handed to this runner. Ack when the run is
// finished (whatever its outcome), InProgress while it runs.
type RunDelivery = jetstream.Msg

// RunQueue creates or updates the work queue and its shared consumer.
func (b *Bus) RunQueue(ctx context.Context, cfg RunQueueConfig) (*RunQueue, error) {
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.MaxDeliver <= 0 {
		cfg.MaxDeliver = 5
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	s, err := b.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        runStream,
		Description: "Atrium run requests, one runner each",
		Subjects:    []string{runPrefix + ">"},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
		Duplicates:  10 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("nats: run queue stream: %w", err)
	}
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       runConsumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1, // unlimited: the runner gives up after cfg.MaxDeliver
		MaxAckPending: 100_000,
		FilterSubject: runPrefix + ">",
	})
	if err != nil {
		return nil, fmt.Errorf("nats: run queue consumer: %w", err)
	}
	return &RunQueue{js: b.JS, consumer: c, cfg: cfg}, nil
}

// AckWait is the configured ack wait; runners report progress well within it.
func (q *RunQueue) AckWait() time.Duration { return q.cfg.AckWait }

// MaxDeliver is how many deliveries of a run are worked on; a delivery
// numbered above it (RunDelivery.Metadata().NumDelivered) means every
// earlier one ended without an answer, and the run is to be given up.
func (q *RunQueue) MaxDeliver() int { return q.cfg.MaxDeliver }

// Enqueue adds a run request for agent. id deduplicates: enqueueing the same
// id twice within ten minutes stores it once.
func (q *RunQueue) Enqueue(ctx context.Context, agent, id string, data []byte) error {
	if _, err := q.js.Publish(ctx, RunSubject(agent), data, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("nats: enqueue run %s: %w", id, err)
	}
	return nil
}

// Consume hands run requests to fn, at most limit at a time, until ctx ends.
// fn runs on its own goroutine and must Ack (or Nak) the delivery. Consume
// returns after every fn it started has returned.
func (q *RunQueue) Consume(ctx context.Context, limit int, fn func(context.Context, RunDelivery)) error {
	return consume(ctx, q.consumer, limit, "runs", fn)
}
