package sqldb_test

import (
	"context"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v < 1 {
		t.Fatalf("schema version = %d, want >= 1", v)
	}
	again, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("second Migrate applied %v, want nothing", again)
	}
}

func TestUniqueViolationAndCascade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	now := time.Now().UTC()
	u := &sqldb.User{ID: "u1", Email: "a@example.com", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if _, err := db.NewInsert().Model(u).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	dup := &sqldb.User{ID: "u2", Email: "a@example.com", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	_, err := db.NewInsert().Model(dup).Exec(ctx)
	if !sqldb.IsUniqueViolation(err) {
		t.Fatalf("duplicate email: err = %v, want a unique violation", err)
	}
	ws := &sqldb.Workspace{ID: "w1", Name: "W", OwnerID: "u1", CreatedAt: now, UpdatedAt: now}
	chat := &sqldb.Chat{ID: "c1", WorkspaceID: "w1", CreatedBy: "u1", CreatedAt: now, UpdatedAt: now}
	for _, m := range []any{ws, chat} {
		if _, err := db.NewInsert().Model(m).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.NewDelete().Model((*sqldb.Workspace)(nil)).Where("id = ?", "w1").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := db.NewSelect().Model((*sqldb.Chat)(nil)).Where("workspace_id = ?", "w1").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("chats left after workspace delete = %d, want 0 (ON DELETE CASCADE)", n)
	}
	var got sqldb.User
	if err := db.NewSelect().Model(&got).Where("id = ?", "u1").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(now.Truncate(time.Microsecond)) && !got.CreatedAt.Equal(now) {
		t.Fatalf("created_at round trip: got %v, want %v", got.CreatedAt, now)
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	t.Parallel()
	_, err := sqldb.Open(context.Background(), sqldb.Config{URL: "mysql://x", DataDir: t.TempDir()})
	if err == nil {
		t.Fatal("Open(mysql://) succeeded, want an error naming DATABASE_URL")
	}
}

func TestOpenUnreachablePostgresFailsFast(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := sqldb.Open(context.Background(), sqldb.Config{URL: "postgres://nobody:pw@127.0.0.1:1/none?connect_timeout=2", ConnectTimeout: 3 * time.Second})
	if err == nil {
		t.Fatal("Open of an unreachable postgres succeeded")
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("Open took %v, want a quick failure", time.Since(start))
	}
}
