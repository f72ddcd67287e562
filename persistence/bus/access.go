package bus

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

const accessPrefix = "atrium.access."

// Access tells every node that someone's access to a workspace changed, so
// that live connections it no longer allows stop at once rather than when
// their credentials expire. It is core NATS, not JetStream: a node that is
// not connected at that moment has no connections to check.
type Access struct {
	nc *nats.Conn
}

// Access returns the bus's access notices.
func (b *Bus) Access() *Access { return &Access{nc: b.Conn} }

// Changed says user's access to workspace ws changed; an empty user means
// anyone's (the workspace, or one of its chats, was deleted).
func (a *Access) Changed(ws, user string) error {
	if err := a.nc.Publish(accessPrefix+ws, []byte(user)); err != nil {
		return fmt.Errorf("nats: access notice: %w", err)
	}
	return nil
}

// Subscribe calls fn with each notice, one at a time, until the
// subscription is drained.
func (a *Access) Subscribe(fn func(ws, user string)) (*nats.Subscription, error) {
	sub, err := a.nc.Subscribe(accessPrefix+"*", func(m *nats.Msg) {
		fn(m.Subject[len(accessPrefix):], string(m.Data))
	})
	if err != nil {
		return nil, fmt.Errorf("nats: access notices: %w", err)
	}
	return sub, nil
}
