package rag

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/qdrant"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// Embedder turns texts into L2-normalized vectors (agents/embed makes
// them).
type Embedder interface {
	Name() string
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Config tunes a Service. The zero value of each field picks a default.
type Config struct {
	// Embedder makes the vectors. Required.
	Embedder Embedder
	// ChunkBytes is a passage's size, ChunkOverlap how much of the
	// previous one it repeats. Zero means 1,000 and 150.
	ChunkBytes, ChunkOverlap int
	// MaxDocumentBytes bounds one document's text. Zero means 1 MiB.
	MaxDocumentBytes int
	// MaxDocuments bounds an agent's documents. Zero means 1,000.
	MaxDocuments int
	// MaxTotalBytes bounds the text of all an agent's documents. Zero
	// means 16 MiB (about MaxChunks passages).
	MaxTotalBytes int
	// MaxChunks bounds an agent's index. Zero means 20,000.
	MaxChunks int
	// Qdrant, when set, keeps and searches the indexes' vectors (for
	// indexes too large for each node's memory); nil keeps them in SQL and
	// searches them in memory.
	Qdrant *qdrant.Store
	// Notify is told when an index is built or fails; nil: nobody.
	Notify agents.Notifier
	// Logger receives indexing failures. Nil discards.
	Logger *slog.Logger
}

// Service keeps the agents' training documents and their RAG indexes: the
// documents, chunks and vectors live in SQL (every node sees them), and
// each node keeps the indexes it searches in memory, read again when their
// version changes. It implements agents.Knowledge.
type Service struct {
	db     *sqldb.DB
	agents *agents.Service
	files  *agents.Files // nil: documents from files are refused
	cfg    Config

	ctx    context.Context // ends with Close: indexing in the background stops
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	loaded      map[agents.ID]*index      // searched indexes, by agent
	loadedBytes int                       // their size
	checked     map[agents.ID]checkedHead // recent version reads
	loading     map[agents.ID]*sync.Mutex // one load per agent at a time
}

// Document is a piece of an agent's training data.
type Document struct {
	ID        string
	Agent     agents.ID
	Title     string
	Content   string
	Bytes     int    // len(Content)
	FileID    string // the agent's file it was read from, if any
	CreatedAt time.Time
}

// New returns a Service storing in db. files may be nil.
func New(db *sqldb.DB, agentSvc *agents.Service, files *agents.Files, cfg Config) *Service {
	if cfg.ChunkBytes <= 0 {
		cfg.ChunkBytes = 1000
	}
	if cfg.ChunkOverlap <= 0 {
		cfg.ChunkOverlap = 150
	}
	if cfg.MaxDocumentBytes <= 0 {
		cfg.MaxDocumentBytes = 1 << 20
	}
	if cfg.MaxDocuments <= 0 {
		cfg.MaxDocuments = 1000
	}
	if cfg.MaxTotalBytes <= 0 {
		cfg.MaxTotalBytes = 16 << 20
	}
	if cfg.MaxChunks <= 0 {
		cfg.MaxChunks = 20_000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{db: db, agents: agentSvc, files: files, cfg: cfg, ctx: ctx, cancel: cancel,
		loaded: make(map[agents.ID]*index), checked: make(map[agents.ID]checkedHead), loading: make(map[agents.ID]*sync.Mutex)}
}

// Close stops indexing in the background and waits for it; an index being
// built stays at its previous version (and its status says it failed).
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// EmbedderName names the model that makes this server's vectors.
func (s *Service) EmbedderName() string { return s.cfg.Embedder.Name() }

// AddDocument adds text to the training data of caller's agent. The index
// is not rebuilt until Index is called.
func (s *Service) AddDocument(ctx context.Context, caller workspaces.UserID, agent agents.ID, title, content string) (Document, error) {
	a, err := s.agents.Owned(ctx, caller, agent)
	if err != nil {
		return Document{}, err
	}
	return s.add(ctx, a, title, content, "")
}

func (s *Service) add(ctx context.Context, a agents.Agent, title, content, fileID string) (Document, error) {
	title = strings.TrimSpace(title)
	switch {
	case !utf8.ValidString(content) || strings.ContainsRune(content, 0) || !utf8.ValidString(title) || strings.ContainsRune(title, 0):
		return Document{}, workspaces.E(workspaces.KindInvalid, "Training data must be text (UTF-8)")
	case strings.TrimSpace(content) == "":
		return Document{}, workspaces.E(workspaces.KindInvalid, "'content' must be non-empty text")
	case len(content) > s.cfg.MaxDocumentBytes:
		return Document{}, workspaces.E(workspaces.KindTooLarge, "A training document may hold at most "+byteSize(s.cfg.MaxDocumentBytes)+" of text")
	case len(title) > 200:
		return Document{}, workspaces.E(workspaces.KindInvalid, "'title' may be at most 200 bytes")
	}
	if title == "" {
		title = firstLine(content, 80)
	}
	row := &sqldb.TrainingDocument{ID: workspaces.NewID(), AgentID: string(a.ID), Title: title, Content: content, Bytes: len(content),
		FileID: fileID, CreatedAt: time.Now().UTC()}
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The agent's row, locked (PostgreSQL): adds to one agent's
		// training data take turns, so the limits hold.
		if _, err := tx.NewUpdate().Model((*sqldb.Agent)(nil)).Set("updated_at = updated_at").Where("id = ?", string(a.ID)).Exec(ctx); err != nil {
			return err
		}
		var have struct {
			N     int64 `bun:"n"`
			Bytes int64 `bun:"b"`
		}
		if err := tx.NewSelect().Model((*sqldb.TrainingDocument)(nil)).ColumnExpr("COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b").
			Where("agent_id = ?", string(a.ID)).Scan(ctx, &have); err != nil {
			return err
		}
		switch {
		case have.N >= int64(s.cfg.MaxDocuments):
			return workspaces.E(workspaces.KindConflict, "The agent already has the most training documents allowed ("+itoa(s.cfg.MaxDocuments)+")")
		case have.Bytes+int64(len(content)) > int64(s.cfg.MaxTotalBytes):
			return workspaces.E(workspaces.KindTooLarge, "An agent's training data may hold at most "+byteSize(s.cfg.MaxTotalBytes)+" of text")
		}
		_, err := tx.NewInsert().Model(row).Exec(ctx)
		return err
	})
	var we *workspaces.Error
	if errors.As(err, &we) {
		return Document{}, err
	}
	if err != nil {
		return Document{}, workspaces.Internal("store training data", err)
	}
	return documentOf(row), nil
}

// Documents lists the training data of caller's agent, oldest first,
// without their Content (Bytes says how long it is).
func (s *Service) Documents(ctx context.Context, caller workspaces.UserID, agent agents.ID) ([]Document, error) {
	a, err := s.agents.Owned(ctx, caller, agent)
	if err != nil {
		return nil, err
	}
	var rows []sqldb.TrainingDocument // without their content
	if err := s.db.NewSelect().Model(&rows).ExcludeColumn("content").Where("agent_id = ?", string(a.ID)).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, workspaces.Internal("read training data", err)
	}
	out := make([]Document, len(rows))
	for i := range rows {
		out[i] = documentOf(&rows[i])
	}
	return out, nil
}

func (s *Service) documents(ctx context.Context, agent agents.ID) ([]sqldb.TrainingDocument, error) {
	var rows []sqldb.TrainingDocument
	if err := s.db.NewSelect().Model(&rows).Where("agent_id = ?", string(agent)).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, workspaces.Internal("read training data", err)
	}
	return rows, nil
}

// DeleteDocument removes a document from the training data of caller's
// agent (the index keeps it until it is built again).
func (s *Service) DeleteDocument(ctx context.Context, caller workspaces.UserID, agent agents.ID, id string) error {
	a, err := s.agents.Owned(ctx, caller, agent)
	if err != nil {
		return err
	}
	if !workspaces.ValidID(id) { // before it reaches SQL
		return workspaces.E(workspaces.KindNotFound, "Training document not found")
	}
	res, err := s.db.NewDelete().Model((*sqldb.TrainingDocument)(nil)).Where("id = ? AND agent_id = ?", id, string(a.ID)).Exec(ctx)
	if err != nil {
		return workspaces.Internal("delete training data", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workspaces.E(workspaces.KindNotFound, "Training document not found")
	}
	return nil
}

func documentOf(r *sqldb.TrainingDocument) Document {
	return Document{ID: r.ID, Agent: agents.ID(r.AgentID), Title: r.Title, Content: r.Content, Bytes: r.Bytes, FileID: r.FileID, CreatedAt: r.CreatedAt}
}

// firstLine is the start of text's first non-blank line, at most n bytes.
func firstLine(text string, n int) string {
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > n {
				line = line[:n]
				for !utf8.ValidString(line) {
					line = line[:len(line)-1]
				}
			}
			return line
		}
	}
	return ""
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}
