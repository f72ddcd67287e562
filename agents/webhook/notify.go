package webhook

import (
	"context"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// Notify hands n to the dispatcher (Run) and returns at once: it never
// blocks an agent's run. When the dispatcher is Config.Buffer
// notifications behind, n is dropped and the drop logged.
func (s *Service) Notify(_ context.Context, n agents.Notification) {
	select {
	case s.pending <- notice{n, s.now()}:
	default:
		s.dropped.Add(1)
		// One warning every ten seconds at most, with the count since the
		// last, so an overload does not flood the log too.
		now := time.Now().UnixNano()
		last := s.lastDropLog.Load()
		if now-last >= int64(10*time.Second) && s.lastDropLog.CompareAndSwap(last, now) {
			s.cfg.Logger.Warn("webhook: notifications dropped, the dispatcher is behind", "dropped", s.dropped.Swap(0), "buffer", s.cfg.Buffer)
		}
	}
}

// notice is a notification waiting for the dispatcher, with the time it
// was handed over.
type notice struct {
	agents.Notification
	at time.Time
}

// dispatchTimeout bounds the work for one notification.
const dispatchTimeout = 10 * time.Second

// Run dispatches notifications until ctx ends: it matches each against its
// owner's endpoints and records and queues a delivery for every match. On
// the way out it dispatches what is still waiting, for a few seconds at
// most. Run one per node that produces notifications (gateway and runner
// nodes); it returns nil.
func (s *Service) Run(ctx context.Context) error {
	for {
		select {
		case q := <-s.pending:
			s.dispatch(ctx, q)
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			for {
				select {
				case q := <-s.pending:
					s.dispatch(flush, q)
				default:
					return nil
				}
			}
		}
	}
}

// dispatch records and queues q's deliveries; failures are logged.
func (s *Service) dispatch(ctx context.Context, q notice) {
	n := q.Notification
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dispatchTimeout)
	defer cancel()
	routes, err := s.routes(ctx, n.Owner)
	if err != nil {
		s.cfg.Logger.Error("webhook: look up endpoints", "owner", n.Owner, "event", n.Event, "err", err)
		return
	}
	if n.At.IsZero() {
		n.At = s.now()
	}
	var body []byte
	for _, r := range routes {
		// An endpoint made after the notification came (it waited in
		// the queue meanwhile) did not ask for it.
		if !r.Wants(n.Event, n.Agent) || r.CreatedAt.After(q.at) {
			continue
		}
		if body == nil {
			if body, err = payload(n.Event, n.At, n.Data); err != nil {
				s.cfg.Logger.Error("webhook: dropped a notification", "owner", n.Owner, "event", n.Event, "err", err)
				return
			}
		}
		if _, err := s.deliver(ctx, r.ID, n.Owner, n.Event, body); err != nil {
			s.cfg.Logger.Error("webhook: queue delivery", "endpoint", r.ID, "event", n.Event, "err", err)
		}
	}
}

// routes returns owner's enabled endpoints, from the cache when it is fresh.
func (s *Service) routes(ctx context.Context, owner workspaces.UserID) ([]Endpoint, error) {
	if eps, ok := s.cache.get(owner); ok {
		return eps, nil
	}
	gen := s.cache.generation()
	var rows []sqldb.WebhookEndpoint
	if err := s.db.NewSelect().Model(&rows).Column("id", "owner_id", "agent_id", "events", "enabled", "created_at").
		Where("owner_id = ? AND enabled = ?", string(owner), true).Scan(ctx); err != nil {
		return nil, err
	}
	eps := make([]Endpoint, len(rows))
	for i := range rows {
		eps[i] = endpointFromRow(&rows[i])
	}
	s.cache.put(owner, eps, gen)
	return eps, nil
}

// endpointCache keeps each owner's enabled endpoints for a short while, so
// the many notifications of a busy agent cost no query each.
type endpointCache struct {
	ttl time.Duration // negative: no caching

	mu sync.Mutex // guards the following fields
	m  map[workspaces.UserID]cacheEntry
	// gen counts changes made on this node, so a lookup that raced one
	// does not store what it read before it.
	gen uint64
	// changing counts, per owner, the changes under way on this node: while
	// one is, lookups go to the database, which may already show it.
	changing map[workspaces.UserID]int
}

type cacheEntry struct {
	eps []Endpoint
	at  time.Time
}

// maxCached bounds the owners kept; past it the cache starts over.
const maxCached = 10_000

func (c *endpointCache) get(owner workspaces.UserID) ([]Endpoint, bool) {
	if c.ttl < 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[owner]
	if !ok || time.Since(e.at) >= c.ttl || c.changing[owner] > 0 {
		return nil, false
	}
	return e.eps, true
}

// generation returns the change count, to pass to put.
func (c *endpointCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores eps for owner unless an endpoint changed since gen was read.
func (c *endpointCache) put(owner workspaces.UserID, eps []Endpoint, gen uint64) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.m) >= maxCached {
		c.m = map[workspaces.UserID]cacheEntry{}
	}
	c.m[owner] = cacheEntry{eps: eps, at: time.Now()}
}

// forget drops owner's entry after a change made on this node.
func (c *endpointCache) forget(owner workspaces.UserID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, owner)
	c.gen++
}

// changing marks a change of owner's endpoints as under way until the
// returned func is called, which forgets owner's entry. A change made by a
// background worker needs it: someone may read the committed change before
// the worker gets to forget, and must not then be answered from the cache.
func (c *endpointCache) change(owner workspaces.UserID) (done func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changing == nil {
		c.changing = map[workspaces.UserID]int{}
	}
	c.changing[owner]++
	c.gen++
	return func() {
		c.mu.Lock()
		if c.changing[owner]--; c.changing[owner] <= 0 {
			delete(c.changing, owner)
		}
		c.mu.Unlock()
		c.forget(owner)
	}
}
