package agents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// HotStore is the runner's node-local key-value store (Pebble): it keeps
// conversations' recent messages and the response cache. Any error from
// Get reads as a miss; it is a cache, SQL stays the truth.
type HotStore interface {
	Get(key []byte) ([]byte, error)
	Set(key, value []byte) error
}

// hotMessage is a message as the hot store keeps it.
type hotMessage struct {
	ID      string `json:"i"`
	Role    string `json:"r"`
	Content string `json:"c"`
}

func hotConvKey(chat string) []byte { return []byte("conv/" + chat) }

// historyIDs returns the ids of history's messages, newest first.
func (r *Runner) historyIDs(ctx context.Context, run *sqldb.Run, limit int) ([]string, error) {
	return r.conv.db.QueryStrings(ctx, nil, `SELECT id FROM messages
		WHERE chat_id = $1 AND status = $2 AND (created_at < (SELECT created_at FROM messages WHERE id = $3) OR id = $3)
		ORDER BY created_at DESC, id DESC LIMIT $4`, run.ChatID, "complete", run.MessageID, limit+1)
}

// history returns the chat's complete messages up to and including the
// run's message, oldest first, at most limit+1 of them (limit earlier
// ones and the message itself).
//
// SQL says which messages they are (ids only, from the index); their
// contents come from the hot store when it has them and from SQL when it
// does not, so a second runner, or one that restarted, reads the same
// conversation as the first.
func (r *Runner) history(ctx context.Context, run *sqldb.Run, limit int) ([]hotMessage, error) {
	ids, err := r.historyIDs(ctx, run, limit)
	if err != nil {
		return nil, err
	}
	cached := map[string]hotMessage{}
	if r.cfg.Hot != nil {
		if b, err := r.cfg.Hot.Get(hotConvKey(run.ChatID)); err == nil {
			var list []hotMessage
			if json.Unmarshal(b, &list) == nil {
				for _, m := range list {
					cached[m.ID] = m
				}
			}
		}
	}
	var missing []string
	for _, id := range ids {
		if _, ok := cached[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 1 { // the run's own message, which another node stored
		var m hotMessage
		err := r.conv.db.QueryRowPrepared(ctx, nil, `SELECT id, role, content FROM messages WHERE id = $1`, missing[0]).
			Scan(&m.ID, &m.Role, &m.Content)
		if err != nil && !sqldb.IsNoRows(err) {
			return nil, err
		}
		if err == nil {
			cached[m.ID] = m
		}
	} else if len(missing) > 0 {
		var rows []sqldb.Message
		if err := r.conv.db.NewSelect().Model(&rows).Column("id", "role", "content").Where("id IN (?)", bun.In(missing)).Scan(ctx); err != nil {
			return nil, err
		}
		for _, m := range rows {
			cached[m.ID] = hotMessage{ID: m.ID, Role: m.Role, Content: m.Content}
		}
	}
	out := make([]hotMessage, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		if m, ok := cached[ids[i]]; ok {
			out = append(out, m)
		}
	}
	if len(missing) > 0 {
		r.keepHot(run.ChatID, out)
	}
	return out, nil
}

// keepHot stores a chat's recent messages in the hot store.
func (r *Runner) keepHot(chat string, msgs []hotMessage) {
	if r.cfg.Hot == nil {
		return
	}
	if n := len(msgs) - maxHotMessages; n > 0 {
		msgs = msgs[n:]
	}
	if b, err := json.Marshal(msgs); err == nil {
		r.cfg.Hot.Set(hotConvKey(chat), b)
	}
}

// maxHotMessages caps a chat's hot copy (the longest history an agent may
// ask for, plus its answer).
const maxHotMessages = 1001

// cachedAnswer is a response cache entry.
type cachedAnswer struct {
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// responseKey is seed 000 §11.4's cache key: agent, query, system prompt,
// model and training data (training: the version of the agent's RAG
// index, "" without one) — plus the agent's version, which changes with
// every change to its configuration or script, so a change invalidates it.
func responseKey(a Agent, cfg Config, query, training string) []byte {
	h := sha256.New()
	for _, part := range []string{string(a.ID), strconv.Itoa(a.Version), a.ModelID, cfg.SystemPrompt, query, training} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return []byte("resp/" + hex.EncodeToString(h.Sum(nil)))
}

func (r *Runner) cachedAnswer(key []byte) (string, bool) {
	if r.cfg.Hot == nil {
		return "", false
	}
	b, err := r.cfg.Hot.Get(key)
	if err != nil {
		return "", false
	}
	var c cachedAnswer
	if json.Unmarshal(b, &c) != nil || time.Since(c.At) > r.cfg.CacheTTL {
		return "", false
	}
	return c.Text, true
}

func (r *Runner) storeAnswer(key []byte, text string) {
	if r.cfg.Hot == nil {
		return
	}
	if b, err := json.Marshal(cachedAnswer{Text: text, At: time.Now()}); err == nil {
		r.cfg.Hot.Set(key, b)
	}
}
