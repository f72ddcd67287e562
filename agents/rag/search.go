package rag

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// headTTL is how long a node trusts the index version it read: an index
// built on another node is searched here within this time.
const headTTL = time.Second

// lexicalFloor is the least score a passage needs with a lexical embedder
// (hash-*), whose cosines are low even for good matches, when the agent
// sets no rag_threshold: the default 0.7 is meant for semantic models and
// would find nothing. An agent's own rag_threshold applies as it is.
const lexicalFloor = 0.05

// maxLoadedBytes bounds the memory of the indexes a node keeps loaded;
// beyond it, others are dropped (and read again when next searched).
const maxLoadedBytes = 256 << 20

// maxQueryBytes bounds the question embedded for a search: embedding
// models take a few thousand tokens at most.
const maxQueryBytes = 4 << 10

// index is an agent's index in memory.
type index struct {
	version  int64
	embedder string
	passages []passage
	bytes    int // about what it holds in memory
}

type passage struct {
	title, text string
	vec         []float32
}

type checkedHead struct {
	version  int64
	embedder string
	backend  string
	at       time.Time
}

// Version implements agents.Knowledge: "" when agent has no index, else
// its version (a cached answer is reused only while it stays the same).
func (s *Service) Version(ctx context.Context, agent agents.ID) (string, error) {
	h, err := s.currentHead(ctx, agent)
	if err != nil || h.version == 0 {
		return "", err
	}
	return strconv.FormatInt(h.version, 10) + "/" + h.embedder, nil
}

// currentHead is the version of agent's index, read at most every headTTL.
func (s *Service) currentHead(ctx context.Context, agent agents.ID) (checkedHead, error) {
	s.mu.Lock()
	h, ok := s.checked[agent]
	s.mu.Unlock()
	if ok && time.Since(h.at) < headTTL {
		return h, nil
	}
	row, err := s.head(ctx, agent)
	if err != nil {
		return checkedHead{}, err
	}
	h = checkedHead{version: row.Version, embedder: row.Embedder, backend: row.Backend, at: time.Now()}
	s.mu.Lock()
	if len(s.checked) > 10_000 {
		clear(s.checked)
	}
	s.checked[agent] = h
	s.mu.Unlock()
	return h, nil
}

// Search implements agents.Knowledge.
func (s *Service) Search(ctx context.Context, agent agents.ID, query string, topK int, threshold float64) ([]agents.Passage, error) {
	if topK <= 0 || strings.TrimSpace(query) == "" {
		return nil, nil
	}
	h, err := s.currentHead(ctx, agent)
	if err != nil || h.version == 0 {
		return nil, err
	}
	if h.embedder != s.cfg.Embedder.Name() {
		return nil, fmt.Errorf("the index was built with %s and this server embeds with %s: index the agent again", h.embedder, s.cfg.Embedder.Name())
	}
	if h.backend != s.backend() {
		return nil, fmt.Errorf("the index's vectors are in %s and this server keeps them in %s: index the agent again", h.backend, s.backend())
	}
	var ix *index
	if s.cfg.Qdrant == nil {
		var err error
		if ix, err = s.load(ctx, agent, h); err != nil {
			return nil, err
		}
	}
	if len(query) > maxQueryBytes {
		query = query[:maxQueryBytes]
		for !utf8.ValidString(query) {
			query = query[:len(query)-1]
		}
	}
	vecs, err := s.cfg.Embedder.Embed(ctx, []string{query})
	if err != nil {
		return nil, fmt.Errorf("embedding the question with %s: %w", s.cfg.Embedder.Name(), err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("embedding the question with %s: no vector", s.cfg.Embedder.Name())
	}
	if threshold < 0 { // the embedder's default
		threshold = agents.DefaultRAGThreshold
		if strings.HasPrefix(h.embedder, "hash-") {
			threshold = lexicalFloor
		}
	}
	if s.cfg.Qdrant != nil {
		hits, err := s.cfg.Qdrant.Search(ctx, string(agent), h.version, vecs[0], topK, max(threshold, 1e-9))
		if err != nil {
			return nil, fmt.Errorf("searching Qdrant: %w", err)
		}
		found := make([]agents.Passage, len(hits))
		for i, hit := range hits {
			found[i] = agents.Passage{Title: hit.Title, Text: hit.Text, Score: hit.Score}
		}
		return found, nil
	}
	return best(ix, vecs[0], topK, threshold), nil
}

// best returns the topK passages of ix most similar to q, at least
// threshold, best first.
func best(ix *index, q []float32, topK int, threshold float64) []agents.Passage {
	var found []agents.Passage
	for _, p := range ix.passages {
		if len(p.vec) != len(q) {
			continue
		}
		var dot float32
		for i, x := range q {
			dot += x * p.vec[i]
		}
		if score := float64(dot); score >= threshold && score > 0 {
			found = append(found, agents.Passage{Title: p.title, Text: p.text, Score: score})
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Score > found[j].Score })
	return found[:min(topK, len(found))]
}

// load returns agent's index at h.version, reading it from SQL when this
// node has another version (or none) in memory.
func (s *Service) load(ctx context.Context, agent agents.ID, h checkedHead) (*index, error) {
	s.mu.Lock()
	ix := s.loaded[agent]
	lock := s.loading[agent]
	if lock == nil {
		if len(s.loading) >= 10_000 {
			clear(s.loading) // at worst, two loads of one index at once
		}
		lock = new(sync.Mutex)
		s.loading[agent] = lock
	}
	s.mu.Unlock()
	if ix != nil && ix.version == h.version {
		return ix, nil
	}
	lock.Lock()
	defer lock.Unlock()
	s.mu.Lock()
	ix = s.loaded[agent]
	s.mu.Unlock()
	if ix != nil && ix.version == h.version {
		return ix, nil // loaded while this one waited
	}
	ix, err := s.read(ctx, agent, h)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.loadedBytes -= s.loaded[agent].size()
	for a, other := range s.loaded { // drop others at random until it fits
		if s.loadedBytes+ix.bytes <= maxLoadedBytes {
			break
		}
		if a != agent {
			s.loadedBytes -= other.size()
			delete(s.loaded, a)
		}
	}
	s.loaded[agent] = ix
	s.loadedBytes += ix.bytes
	s.mu.Unlock()
	return ix, nil
}

func (ix *index) size() int {
	if ix == nil {
		return 0
	}
	return ix.bytes
}

// read reads agent's index at h.version from SQL, a passage at a time.
func (s *Service) read(ctx context.Context, agent agents.ID, h checkedHead) (*index, error) {
	rows, err := s.db.NewSelect().Model((*sqldb.RAGChunk)(nil)).Column("title", "text", "vector").
		Where("agent_id = ? AND version = ?", string(agent), h.version).OrderExpr("idx").Rows(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the index: %w", err)
	}
	defer rows.Close()
	ix := &index{version: h.version, embedder: h.embedder}
	for rows.Next() {
		var p passage
		var vec []byte
		if err := rows.Scan(&p.title, &p.text, &vec); err != nil {
			return nil, fmt.Errorf("read the index: %w", err)
		}
		p.vec = decodeVector(vec)
		ix.passages = append(ix.passages, p)
		ix.bytes += len(p.title) + len(p.text) + len(vec) + 64
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the index: %w", err)
	}
	return ix, nil
}
