package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// migration is one schema change. Its SQL runs on both dialects after the
// placeholders below are replaced, so a change is written once.
//
//	{{ts}}   a timestamp with time zone (TIMESTAMPTZ; TIMESTAMP on SQLite)
//	{{blob}} raw bytes (BYTEA; BLOB on SQLite)
//	{{serial}} an integer primary key the database numbers (BIGSERIAL
//	         PRIMARY KEY; INTEGER PRIMARY KEY AUTOINCREMENT on SQLite), for
//	         seeds whose ids are integers
type migration struct {
	version int
	name    string
	sql     string
}

// Migrate brings the schema up to date and returns the names of the
// migrations it applied. All pending migrations run in one transaction, so a
// failure leaves the schema as it was; on PostgreSQL an advisory lock makes
// concurrent nodes take turns, and SQLite's immediate transactions do the same.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	var applied []string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if db.Dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(72177301)"); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, db.expand(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY,
			name TEXT NOT NULL,
			applied_at {{ts}} NOT NULL
		)`)); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		done := map[int]bool{}
		rows, err := tx.QueryContext(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return err
			}
			done[v] = true
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, m := range migrations {
			if done[m.version] {
				continue
			}
			for _, stmt := range splitStatements(db.expand(m.sql)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migration %d %s: %w", m.version, m.name, err)
				}
			}
			if _, err := tx.NewInsert().Model(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: time.Now().UTC()}).Exec(ctx); err != nil {
				return fmt.Errorf("record migration %d: %w", m.version, err)
			}
			applied = append(applied, fmt.Sprintf("%04d_%s", m.version, m.name))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", db.Where, err)
	}
	return applied, nil
}

// SchemaVersion returns the highest applied migration, 0 for none.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := db.NewSelect().Model((*schemaMigration)(nil)).ColumnExpr("MAX(version)").Scan(ctx, &v); err != nil {
		return 0, err
	}
	return int(v.Int64), nil
}

type schemaMigration struct {
	bun.BaseModel `bun:"table:schema_migrations"`
	Version       int       `bun:"version,pk"`
	Name          string    `bun:"name"`
	AppliedAt     time.Time `bun:"applied_at"`
}

func (db *DB) expand(s string) string {
	ts, blob, serial := "TIMESTAMPTZ", "BYTEA", "BIGSERIAL PRIMARY KEY"
	if db.Dialect == SQLite {
		ts, blob, serial = "TIMESTAMP", "BLOB", "INTEGER PRIMARY KEY AUTOINCREMENT"
	}
	return strings.NewReplacer("{{ts}}", ts, "{{blob}}", blob, "{{serial}}", serial).Replace(s)
}

// splitStatements splits a migration on semicolons that end a line. Migration
// SQL is ours, so it never holds a semicolon inside a string at a line end.
func splitStatements(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";\n") {
		if p := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ";")); p != "" {
			out = append(out, p)
		}
	}
	return out
}
