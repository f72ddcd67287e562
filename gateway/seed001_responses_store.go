package gateway

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/agents"
)

// responseStore keeps what POST /responses answered, as OpenAI does when a
// request's "store" is not false, so a later request may point at it
// instead of sending it again: an output item by its id ("item_reference",
// which the AI SDK sends for the assistant's earlier text), or a whole
// response by its id ("previous_response_id": its input and output come
// before the new input).
//
// It is memory on the node that answered, bounded by age and by size (per
// owner too, so one caller cannot push everyone else's items out), in
// front of the database (Durable, agents.ResponseItems) when the server
// has one, so references work on every node: a reference that is too old
// or was never stored is refused with a 400 that says to send the item
// itself. Entries are
// conversations as the models take them (agents.ModelMessage), shared
// with readers: nobody modifies them once stored.
type responseStore struct {
	cfg responseStoreConfig

	mu      sync.Mutex // guards the following
	entries map[storeKey]*storeEntry
	// order holds every entry, oldest (first to expire) first.
	order  list.List
	owners map[string]*ownerEntries
	bytes  int
}

// responseStoreConfig bounds a responseStore. The zero value works.
type responseStoreConfig struct {
	// TTL is how long an entry is kept. Zero means 24 hours.
	TTL time.Duration
	// MaxBytes caps the size of all entries together. Zero means 64 MiB.
	MaxBytes int
	// MaxOwnerBytes caps the size of one owner's entries. Zero means
	// MaxBytes/8.
	MaxOwnerBytes int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Durable, when set, also keeps every entry in the database, so a
	// reference works on every node and after a restart; memory then
	// serves as its cache.
	Durable responseDurable
}

// responseDurable is where entries outlive the node (*agents.ResponseItems).
type responseDurable interface {
	Put(ctx context.Context, owner string, entries map[string][]agents.ModelMessage) error
	Get(ctx context.Context, owner, id string) ([]agents.ModelMessage, bool, error)
}

// storeKey names an entry: ids are only looked up within their owner.
type storeKey struct{ owner, id string }

type storeEntry struct {
	key     storeKey
	msgs    []agents.ModelMessage
	size    int
	expires time.Time
	// all is the entry's element in responseStore.order, mine in its
	// owner's.
	all, mine *list.Element
}

// ownerEntries are one owner's entries, oldest first.
type ownerEntries struct {
	order list.List
	bytes int
}

func newResponseStore(cfg responseStoreConfig) *responseStore {
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 64 << 20
	}
	if cfg.MaxOwnerBytes <= 0 {
		cfg.MaxOwnerBytes = cfg.MaxBytes / 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &responseStore{cfg: cfg, entries: make(map[storeKey]*storeEntry), owners: make(map[string]*ownerEntries)}
}

// storeOwner is who a caller's stored items belong to: the user, or for
// an agent API key the key itself (hashed, so no secret sits in memory
// longer than the request).
func storeOwner(c apiCaller) string {
	if c.User != "" {
		return "user:" + string(c.User)
	}
	sum := sha256.Sum256([]byte(c.AgentKey))
	return "agentkey:" + hex.EncodeToString(sum[:16])
}

// messagesSize estimates the memory msgs hold.
func messagesSize(msgs []agents.ModelMessage) int {
	n := 0
	for _, m := range msgs {
		n += 96 + len(m.Content) + len(m.ToolCallID) + len(m.ToolName)
		for _, tc := range m.ToolCalls {
			n += 48 + len(tc.ID) + len(tc.Name) + len(tc.Arguments)
		}
	}
	return n
}

// put keeps msgs as owner's id. An entry larger than an owner may keep is
// not kept.
func (s *responseStore) put(owner, id string, msgs []agents.ModelMessage) {
	size := messagesSize(msgs) + len(owner) + len(id)
	if size > s.cfg.MaxOwnerBytes {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := storeKey{owner, id}
	if old, ok := s.entries[key]; ok {
		s.remove(old)
	}
	now := s.cfg.Now()
	mine := s.owners[owner]
	if mine == nil {
		mine = new(ownerEntries)
		s.owners[owner] = mine
	}
	e := &storeEntry{key: key, msgs: msgs, size: size, expires: now.Add(s.cfg.TTL)}
	e.all = s.order.PushBack(e)
	e.mine = mine.order.PushBack(e)
	s.entries[key] = e
	s.bytes += size
	mine.bytes += size
	for mine.bytes > s.cfg.MaxOwnerBytes {
		s.remove(mine.order.Front().Value.(*storeEntry))
	}
	for s.order.Len() > 0 {
		oldest := s.order.Front().Value.(*storeEntry)
		if s.bytes <= s.cfg.MaxBytes && now.Before(oldest.expires) {
			break
		}
		s.remove(oldest)
	}
}

// keep puts entries (id → messages) of owner, and writes them to the
// durable store in one go. A failure to write them is returned; memory
// has them anyway.
func (s *responseStore) keep(ctx context.Context, owner string, entries map[string][]agents.ModelMessage) error {
	for id, msgs := range entries {
		s.put(owner, id, msgs)
	}
	if s.cfg.Durable == nil {
		return nil
	}
	return s.cfg.Durable.Put(ctx, owner, entries)
}

// get returns owner's id, unless it has expired or was never kept: from
// memory, else from the durable store.
func (s *responseStore) get(ctx context.Context, owner, id string) ([]agents.ModelMessage, bool) {
	if msgs, ok := s.memory(owner, id); ok {
		return msgs, true
	}
	if s.cfg.Durable == nil {
		return nil, false
	}
	msgs, ok, err := s.cfg.Durable.Get(ctx, owner, id)
	if err != nil || !ok {
		return nil, false
	}
	s.put(owner, id, msgs)
	return msgs, true
}

// memory returns owner's id from memory.
func (s *responseStore) memory(owner, id string) ([]agents.ModelMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[storeKey{owner, id}]
	if !ok {
		return nil, false
	}
	if !s.cfg.Now().Before(e.expires) {
		s.remove(e)
		return nil, false
	}
	return e.msgs, true
}

// remove drops e. s.mu is held.
func (s *responseStore) remove(e *storeEntry) {
	delete(s.entries, e.key)
	s.order.Remove(e.all)
	s.bytes -= e.size
	mine := s.owners[e.key.owner]
	mine.order.Remove(e.mine)
	mine.bytes -= e.size
	if mine.order.Len() == 0 {
		delete(s.owners, e.key.owner)
	}
}
