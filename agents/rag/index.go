package rag

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/qdrant"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// Index states (Status.State).
const (
	StateNone     = "not_indexed"
	StateIndexing = "indexing"
	StateIndexed  = "indexed"
	StateFailed   = "failed"
)

// staleIndexing is how long an "indexing" state is believed: a node that
// died while indexing leaves it behind, and Index starts over after this.
const staleIndexing = 10 * time.Minute

// Notification events of indexing, for the owner's webhooks.
const (
	NotifyIndexed     = agents.NotifyIndexed
	NotifyIndexFailed = agents.NotifyIndexFailed
)

// Status is the state of an agent's index. The last build's outcome is in
// State and Error; Version and Chunks are the index searched now (a failed
// build leaves the previous one in use).
type Status struct {
	Agent     agents.ID
	UseRAG    bool // the agent's use_rag setting
	State     string
	Version   int64
	Embedder  string
	Backend   string // where its vectors are: "sql" or "qdrant"
	Documents int
	Chunks    int
	Error     string
	StartedAt *time.Time
	IndexedAt *time.Time
}

// Status returns the state of the index of caller's agent.
func (s *Service) Status(ctx context.Context, caller workspaces.UserID, agent agents.ID) (Status, error) {
	a, err := s.agents.Owned(ctx, caller, agent)
	if err != nil {
		return Status{}, err
	}
	row, err := s.head(ctx, a.ID)
	if err != nil {
		return Status{}, err
	}
	return statusOf(a, row), nil
}

// head reads the index row of agent; a zero row (state none) without one.
func (s *Service) head(ctx context.Context, agent agents.ID) (*sqldb.RAGIndex, error) {
	row := new(sqldb.RAGIndex)
	err := s.db.NewSelect().Model(row).Where("agent_id = ?", string(agent)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return &sqldb.RAGIndex{AgentID: string(agent), Status: StateNone}, nil
	}
	if err != nil {
		return nil, workspaces.Internal("read index state", err)
	}
	return row, nil
}

func statusOf(a agents.Agent, r *sqldb.RAGIndex) Status {
	if r.Status == StateIndexing && r.StartedAt != nil && time.Since(*r.StartedAt) > staleIndexing {
		// Its node stopped (or died) during the build.
		r.Status, r.Error = StateFailed, "the build did not finish; index again"
	}
	return Status{Agent: a.ID, UseRAG: a.Settings().UseRAG, State: r.Status, Version: r.Version, Embedder: r.Embedder, Backend: r.Backend, Documents: r.Documents,
		Chunks: r.Chunks, Error: r.Error, StartedAt: r.StartedAt, IndexedAt: r.IndexedAt}
}

// Index (re)builds the index of caller's agent from its training data, in
// the background, and returns the state it starts in. A build already
// under way is not started again.
func (s *Service) Index(ctx context.Context, caller workspaces.UserID, agent agents.ID) (Status, error) {
	a, err := s.agents.Owned(ctx, caller, agent)
	if err != nil {
		return Status{}, err
	}
	// Microseconds: what both databases keep, so the build can find its
	// claim again by this time.
	now := time.Now().UTC().Truncate(time.Microsecond)
	row := &sqldb.RAGIndex{AgentID: string(a.ID), Status: StateIndexing, StartedAt: &now, UpdatedAt: now}
	// Claim the build: insert the row, or move it to indexing unless a
	// recent build holds it.
	res, err := s.db.NewInsert().Model(row).
		On("CONFLICT (agent_id) DO UPDATE").
		Set("status = EXCLUDED.status").Set("started_at = EXCLUDED.started_at").Set("updated_at = EXCLUDED.updated_at").Set("error = ''").
		Where("?TableAlias.status <> ? OR ?TableAlias.started_at IS NULL OR ?TableAlias.started_at < ?", StateIndexing, now.Add(-staleIndexing)).
		Exec(ctx)
	if err != nil {
		return Status{}, workspaces.Internal("start indexing", err)
	}
	// The state it starts in, read before the build can end it.
	head, herr := s.head(ctx, a.ID)
	if claimed, _ := res.RowsAffected(); claimed > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.build(a, now)
		}()
	}
	if herr != nil { // the build goes on; say what is known
		return Status{Agent: a.ID, UseRAG: a.Settings().UseRAG, State: StateIndexing, StartedAt: &now}, nil
	}
	return statusOf(a, head), nil
}

// build makes a new version of a's index and records the outcome; started
// identifies this build (a later claim replaces it).
func (s *Service) build(a agents.Agent, started time.Time) {
	ctx, cancel := context.WithTimeout(s.ctx, staleIndexing)
	defer cancel()
	docs, chunks, err := s.embedAll(ctx, a)
	var done *sqldb.RAGIndex
	if err == nil {
		done, err = s.store(ctx, a, started, docs, chunks)
	}
	if err != nil {
		msg := err.Error()
		var we *workspaces.Error
		if !errors.As(err, &we) {
			s.cfg.Logger.Warn("rag indexing failed", "agent", a.ID, "err", err)
		}
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer fcancel()
		_, uerr := s.db.NewUpdate().Model((*sqldb.RAGIndex)(nil)).
			Set("status = ?", StateFailed).Set("error = ?", msg).Set("updated_at = ?", time.Now().UTC()).
			Where("agent_id = ? AND started_at = ?", string(a.ID), started).Exec(fctx)
		if uerr != nil {
			s.cfg.Logger.Warn("rag indexing outcome", "agent", a.ID, "err", uerr)
		}
		s.notify(a, NotifyIndexFailed, map[string]any{"error": msg})
		return
	}
	s.mu.Lock()
	delete(s.checked, a.ID) // searched here at once (elsewhere within headTTL)
	s.mu.Unlock()
	s.notify(a, NotifyIndexed, map[string]any{"version": done.Version, "documents": done.Documents, "chunks": done.Chunks, "embedding_model": done.Embedder})
}

func (s *Service) notify(a agents.Agent, event string, data map[string]any) {
	if s.cfg.Notify == nil {
		return
	}
	data["agent_id"] = a.ID
	s.cfg.Notify.Notify(context.Background(), agents.Notification{Event: event, Owner: a.Owner, Agent: a.ID, At: time.Now().UTC(), Data: data})
}

// chunkRow is a passage ready to store.
type chunkRow struct {
	doc, title, text string
	vec              []float32
}

// embedAll chunks and embeds a's training documents.
func (s *Service) embedAll(ctx context.Context, a agents.Agent) (int, []chunkRow, error) {
	docs, err := s.documents(ctx, a.ID)
	if err != nil {
		return 0, nil, err
	}
	if len(docs) == 0 {
		return 0, nil, workspaces.E(workspaces.KindInvalid, "The agent has no training data to index")
	}
	var rows []chunkRow
	for _, d := range docs {
		for _, c := range chunk(d.Content, s.cfg.ChunkBytes, s.cfg.ChunkOverlap) {
			rows = append(rows, chunkRow{doc: d.ID, title: d.Title, text: c})
		}
	}
	if len(rows) > s.cfg.MaxChunks {
		return 0, nil, workspaces.E(workspaces.KindTooLarge, fmt.Sprintf("The training data makes %d passages; an index holds at most %d", len(rows), s.cfg.MaxChunks))
	}
	texts := make([]string, len(rows))
	for i, r := range rows {
		texts[i] = r.title + "\n" + r.text
	}
	vecs, err := s.cfg.Embedder.Embed(ctx, texts)
	if err != nil {
		return 0, nil, fmt.Errorf("embedding with %s: %w", s.cfg.Embedder.Name(), err)
	}
	if len(vecs) != len(rows) {
		return 0, nil, fmt.Errorf("embedding with %s: %d vectors for %d passages", s.cfg.Embedder.Name(), len(vecs), len(rows))
	}
	for i := range rows {
		rows[i].vec = vecs[i]
	}
	return len(docs), rows, nil
}

// store writes chunks as the index's next version and makes it current,
// if this build (started) still holds the index; older versions go.
//
// With Qdrant, the vectors go there first, under the new version (which
// no search asks for until the transaction makes it current); afterwards
// the versions that are not current are deleted from it.
func (s *Service) store(ctx context.Context, a agents.Agent, started time.Time, docs int, chunks []chunkRow) (*sqldb.RAGIndex, error) {
	before, err := s.head(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	version := before.Version + 1
	if s.cfg.Qdrant != nil {
		if err := s.putQdrant(ctx, a.ID, version, chunks); err != nil {
			return nil, fmt.Errorf("store the vectors in Qdrant: %w", err)
		}
	}
	done := new(sqldb.RAGIndex)
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		head := new(sqldb.RAGIndex)
		if err := tx.NewSelect().Model(head).Where("agent_id = ?", string(a.ID)).Scan(ctx); err != nil {
			return err
		}
		if head.StartedAt == nil || !head.StartedAt.Equal(started) || head.Status != StateIndexing || head.Version != before.Version {
			return errors.New("another build of the index took over")
		}
		if s.cfg.Qdrant != nil { // vectors kept in SQL before, if any, go
			if _, err := tx.NewDelete().Model((*sqldb.RAGChunk)(nil)).Where("agent_id = ?", string(a.ID)).Exec(ctx); err != nil {
				return err
			}
			return s.markDone(ctx, tx, done, a, started, head, version, docs, len(chunks))
		}
		for from := 0; from < len(chunks); from += 200 {
			batch := make([]sqldb.RAGChunk, 0, 200)
			for i, c := range chunks[from:min(from+200, len(chunks))] {
				batch = append(batch, sqldb.RAGChunk{AgentID: string(a.ID), Version: version, Idx: from + i,
					DocumentID: c.doc, Title: c.title, Text: c.text, Vector: encodeVector(c.vec)})
			}
			if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
				return err
			}
		}
		if _, err := tx.NewDelete().Model((*sqldb.RAGChunk)(nil)).Where("agent_id = ? AND version <> ?", string(a.ID), version).Exec(ctx); err != nil {
			return err
		}
		return s.markDone(ctx, tx, done, a, started, head, version, docs, len(chunks))
	})
	if s.cfg.Qdrant != nil {
		keep := version // the current version's points stay, and no other's
		if err != nil {
			keep = before.Version
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		if derr := s.cfg.Qdrant.DeleteOthers(dctx, string(a.ID), keep); derr != nil {
			s.cfg.Logger.Warn("rag: delete old vectors from Qdrant", "agent", a.ID, "err", derr)
		}
		cancel()
	}
	if err != nil {
		return nil, fmt.Errorf("store the index: %w", err)
	}
	return done, nil
}

// markDone makes version the current index in tx, if this build (started)
// still holds it.
func (s *Service) markDone(ctx context.Context, tx bun.Tx, done *sqldb.RAGIndex, a agents.Agent, started time.Time, head *sqldb.RAGIndex, version int64, docs, chunks int) error {
	now := time.Now().UTC()
	*done = sqldb.RAGIndex{AgentID: string(a.ID), Status: StateIndexed, Version: version, Embedder: s.cfg.Embedder.Name(),
		Backend: s.backend(), Documents: docs, Chunks: chunks, StartedAt: head.StartedAt, IndexedAt: &now, UpdatedAt: now}
	// Still this build's: a build reclaimed meanwhile must not win twice.
	res, err := tx.NewUpdate().Model(done).WherePK().Where("started_at = ? AND status = ?", started, StateIndexing).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.New("another build of the index took over")
	}
	return nil
}

// Where the vectors of indexes are kept (rag_indexes.backend).
const (
	backendSQL    = "sql"
	backendQdrant = "qdrant"
)

func (s *Service) backend() string {
	if s.cfg.Qdrant != nil {
		return backendQdrant
	}
	return backendSQL
}

// putQdrant stores version of agent's passages in Qdrant.
func (s *Service) putQdrant(ctx context.Context, agent agents.ID, version int64, chunks []chunkRow) error {
	if len(chunks) == 0 {
		return nil
	}
	if err := s.cfg.Qdrant.Ensure(ctx, len(chunks[0].vec)); err != nil {
		return err
	}
	points := make([]qdrant.Point, len(chunks))
	for i, c := range chunks {
		points[i] = qdrant.Point{Agent: string(agent), Version: version, Idx: i, Title: c.title, Text: c.text, Vector: c.vec}
	}
	return s.cfg.Qdrant.Upsert(ctx, points)
}

// encodeVector is v as little-endian float32s.
func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func decodeVector(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func itoa(n int) string { return strconv.Itoa(n) }
