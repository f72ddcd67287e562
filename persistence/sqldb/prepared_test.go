package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

// Rows written with prepared statements read back, compare and sort as
// rows bun writes do, in and out of transactions.
func TestPreparedStatementsWriteWhatBunWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	now := time.Date(2026, 11, 24, 1, 2, 3, 456789000, time.UTC)
	setup := []any{
		&sqldb.User{ID: "u1", Email: "a@example.com", PasswordHash: "x", CreatedAt: now, UpdatedAt: now},
		&sqldb.Workspace{ID: "w1", Name: "W", OwnerID: "u1", CreatedAt: now, UpdatedAt: now},
		&sqldb.Chat{ID: "c1", WorkspaceID: "w1", CreatedBy: "u1", CreatedAt: now, UpdatedAt: now},
	}
	for _, m := range setup {
		if _, err := db.NewInsert().Model(m).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	author, client := "u1", "client-1"
	// Three messages a microsecond apart: by bun, by Insert, by Insert in a
	// transaction. The third has the nil pointers, the first a set bool.
	byBun := &sqldb.Message{ID: "m1", ChatID: "c1", WorkspaceID: "w1", Role: "user", AuthorID: &author,
		ClientID: &client, Content: "it's 'quoted'", Status: "complete", Delivered: true, CreatedAt: now}
	byInsert := &sqldb.Message{ID: "m2", ChatID: "c1", WorkspaceID: "w1", Role: "user", AuthorID: &author,
		Content: "ünïcode\x01", Status: "complete", CreatedAt: now.Add(time.Microsecond)}
	inTx := &sqldb.Message{ID: "m3", ChatID: "c1", WorkspaceID: "w1", Role: "assistant",
		Content: "", Status: "failed", Error: "boom", CreatedAt: now.Add(2 * time.Microsecond)}
	if _, err := db.NewInsert().Model(byBun).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Insert(ctx, nil, byInsert); err != nil {
		t.Fatal(err)
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := db.Insert(ctx, &tx, inTx); err != nil {
			return err
		}
		_, err := db.ExecPrepared(ctx, &tx, `UPDATE messages SET delivered = $1 WHERE id = $2`, true, "m3")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	inTx.Delivered = true

	var got []sqldb.Message
	if err := db.NewSelect().Model(&got).Where("chat_id = ?", "c1").OrderExpr("created_at, id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	want := []*sqldb.Message{byBun, byInsert, inTx}
	if len(got) != len(want) {
		t.Fatalf("read %d messages, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.Content != w.Content || g.Status != w.Status || g.Error != w.Error || g.Delivered != w.Delivered ||
			!g.CreatedAt.Equal(w.CreatedAt) || (g.AuthorID == nil) != (w.AuthorID == nil) || (g.ClientID == nil) != (w.ClientID == nil) {
			t.Fatalf("message %d read back as %+v, want %+v", i, g, *w)
		}
	}
	// A time bound by a prepared statement compares with times bun wrote.
	ids, err := db.QueryStrings(ctx, nil, `SELECT id FROM messages WHERE chat_id = $1 AND created_at > $2 ORDER BY created_at`, "c1", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != "m2" || ids[1] != "m3" {
		t.Fatalf("messages after %v: %v, want [m2 m3]", now, ids)
	}
	// The same client id again is a unique violation, as with bun.
	dup := *byBun
	dup.ID = "m4"
	if err := db.Insert(ctx, nil, &dup); !sqldb.IsUniqueViolation(err) {
		t.Fatalf("duplicate client id: %v, want a unique violation", err)
	}
	var created time.Time
	if err := db.QueryRowPrepared(ctx, nil, `SELECT created_at FROM messages WHERE id = $1`, "m2").Scan(&created); err != nil || !created.Equal(byInsert.CreatedAt) {
		t.Fatalf("created_at of m2: %v %v, want %v", created, err, byInsert.CreatedAt)
	}
}
