package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	presenceBucket = "atrium_presence"
	// claimPrefix starts the keys Claim writes; they are not presence
	// entries, and their expiry is nobody's departure.
	claimPrefix = "claim."
)

// Presence is a shared table of who watches what, one entry per key, each
// expiring after a TTL unless rewritten. Nodes write their own keys and read
// everyone's, so a node that dies drops out after the TTL, and every node
// can learn of it (Expirations).
type Presence struct {
	js      jetstream.JetStream
	kv      jetstream.KeyValue
	ttl     time.Duration
	markers bool // the bucket marks entries that expire
}

// Presence opens (creating if needed) the presence table. ttl is how long an
// entry lives without being rewritten; zero means 30 seconds (at least one
// second).
//
// On NATS 2.11 or later, an entry that expires leaves a marker, which
// Expirations reports; on older servers entries expire silently.
func (b *Bus) Presence(ctx context.Context, ttl time.Duration) (*Presence, error) {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	ttl = max(ttl, time.Second)
	cfg := jetstream.KeyValueConfig{
		Bucket:         presenceBucket,
		TTL:            ttl,
		Storage:        jetstream.MemoryStorage,
		History:        1,
		LimitMarkerTTL: ttl,
	}
	kv, err := b.JS.CreateOrUpdateKeyValue(ctx, cfg)
	markers := err == nil
	if errors.Is(err, jetstream.ErrLimitMarkerTTLNotSupported) {
		cfg.LimitMarkerTTL = 0
		kv, err = b.JS.CreateOrUpdateKeyValue(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("nats: presence bucket: %w", err)
	}
	return &Presence{js: b.JS, kv: kv, ttl: ttl, markers: markers}, nil
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

// Delete removes key. It purges rather than deletes: a purge leaves nothing
// whose own expiry would later look like an entry expiring.
func (p *Presence) Delete(ctx context.Context, key string) error {
	if err := p.kv.Purge(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
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

// Expiration is an entry that expired: nobody deleted it, and its writer
// stopped rewriting it (its node died, or lost NATS for longer than the
// TTL). ID is the same on every node that sees it.
type Expiration struct {
	Key string
	ID  uint64
}

// Expirations calls fn, on one goroutine, for every entry that expires from
// now until ctx ends. It returns at once; it does nothing when the server
// cannot mark expired entries (before NATS 2.11).
func (p *Presence) Expirations(ctx context.Context, fn func(Expiration)) error {
	if !p.markers {
		return nil
	}
	pre := "$KV." + presenceBucket + "."
	c, err := p.js.OrderedConsumer(ctx, "KV_"+presenceBucket, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{pre + ">"},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		HeadersOnly:    true,
	})
	if err != nil {
		return fmt.Errorf("nats: presence expirations: %w", err)
	}
	cc, err := c.Consume(func(m jetstream.Msg) {
		if m.Headers().Get(jetstream.MarkerReasonHeader) != "MaxAge" {
			return
		}
		key := strings.TrimPrefix(m.Subject(), pre)
		if strings.HasPrefix(key, claimPrefix) {
			return
		}
		meta, err := m.Metadata()
		if err != nil {
			return
		}
		fn(Expiration{Key: key, ID: meta.Sequence.Stream})
	})
	if err != nil {
		return fmt.Errorf("nats: presence expirations: %w", err)
	}
	go func() { <-ctx.Done(); cc.Stop() }()
	return nil
}

// Claim reports whether this caller is the first to claim name (tokens as
// for Put) within the TTL: of several nodes reacting to one Expiration,
// the one that claims it acts.
func (p *Presence) Claim(ctx context.Context, name string) (bool, error) {
	_, err := p.kv.Create(ctx, claimPrefix+name, nil)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("nats: presence claim %s: %w", name, err)
	}
	return true, nil
}
