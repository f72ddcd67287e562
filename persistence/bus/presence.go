package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const presenceBucket = "atrium_presence"

// Presence is a shared table of who watches what, one entry per key, each
// expiring after a TTL unless rewritten. Nodes write their own keys and read
// everyone's, so a node that dies drops out after the TTL.
type Presence struct {
	kv  jetstream.KeyValue
	ttl time.Duration
}

// Presence opens (creating if needed) the presence table. ttl is how long an
// entry lives without being rewritten; zero means 30 seconds.
func (b *Bus) Presence(ctx context.Context, ttl time.Duration) (*Presence, error) {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	kv, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:  presenceBucket,
		TTL:     ttl,
		Storage: jetstream.MemoryStorage,
		History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("nats: presence bucket: %w", err)
	}
	return &Presence{kv: kv, ttl: ttl}, nil
}

// TTL is how long an entry lives without being rewritten.
func (p *Presence) TTL() time.Duration { return p.ttl }

// Put writes key (dot-separated tokens of [A-Za-z0-9_-]).
func (p *Presence) Put(ctx context.Context, key string, value []byte) error {
	if _, err := p.kv.Put(ctx, key, value); err != nil {
		return fmt.Errorf("nats: presence put %s: %w", key, err)
	}
	return nil
}

// Delete removes key.
func (p *Presence) Delete(ctx context.Context, key string) error {
	if err := p.kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("nats: presence delete %s: %w", key, err)
	}
	return nil
}

// List returns the live entries whose keys match filter (a key pattern with
// * and > wildcards).
func (p *Presence) List(ctx context.Context, filter string) (map[string][]byte, error) {
	w, err := p.kv.WatchFiltered(ctx, []string{filter}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("nats: presence list %s: %w", filter, err)
	}
	defer w.Stop()
	out := make(map[string][]byte)
	for {
		select {
		case e := <-w.Updates():
			if e == nil { // the watcher sends nil once the current values are in
				return out, nil
			}
			out[e.Key()] = e.Value()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
