package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/webhook"
)

// TestNotifyNeverBlocks fills the buffer of a service whose dispatcher is
// not running: Notify drops rather than waits.
func TestNotifyNeverBlocks(t *testing.T) {
	t.Parallel()
	svc := webhook.New(nil, nil, nil, webhook.Config{Buffer: 2})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			svc.Notify(context.Background(), agents.Notification{Event: agents.NotifyToolInvoked, Owner: "u", Agent: "a"})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Notify blocked with a full buffer")
	}
}
