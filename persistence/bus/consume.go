package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// consume hands the messages of consumer to fn, at most limit at a time,
// each on its own goroutine, until ctx ends; then it waits for every fn it
// started. what names the queue in errors.
func consume(ctx context.Context, consumer jetstream.Consumer, limit int, what string, fn func(context.Context, jetstream.Msg)) error {
	if limit <= 0 {
		limit = 1
	}
	it, err := consumer.Messages(jetstream.PullMaxMessages(min(limit, 64)))
	if err != nil {
		return fmt.Errorf("nats: consume %s: %w", what, err)
	}
	go func() { <-ctx.Done(); it.Stop() }()
	sem := make(chan struct{}, limit)
loop:
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		// Both cases may have been ready: give the slot back so the wait
		// below can take them all.
		if ctx.Err() != nil {
			<-sem
			break
		}
		msg, err := it.Next()
		if err != nil {
			<-sem
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				break
			}
			continue
		}
		go func() {
			defer func() { <-sem }()
			fn(ctx, msg)
		}()
	}
	for range limit {
		sem <- struct{}{}
	}
	return nil
}
