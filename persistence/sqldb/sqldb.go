package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

// The dialects Atrium runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says which database to open.
type Config struct {
	// URL is a postgres:// or postgresql:// URL. Empty opens the SQLite file
	// atrium.db in DataDir.
	URL string
	// DataDir holds the SQLite file. Empty means the current directory.
	DataDir string
	// ConnectTimeout bounds the first ping. Zero means 10 seconds.
	ConnectTimeout time.Duration
}

// DB is an open database: a *bun.DB plus the dialect it speaks.
type DB struct {
	*bun.DB
	Dialect Dialect
	// Where says where the database is, without credentials, for logs.
	Where string

	prep *prepared
}

func newDB(sqldb *sql.DB, d Dialect, where string) *DB {
	db := &DB{Dialect: d, Where: where, prep: &prepared{stmts: make(map[string]*sql.Stmt), inserts: make(map[reflect.Type]*insertOf)}}
	if d == SQLite {
		db.DB = bun.NewDB(sqldb, sqlitedialect.New())
	} else {
		db.DB = bun.NewDB(sqldb, pgdialect.New())
	}
	return db
}

// Open opens the database cfg names and checks that it answers. It does not
// run migrations; call Migrate for that.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	var (
		db  *DB
		err error
	)
	switch {
	case cfg.URL == "":
		db, err = openSQLite(cfg.DataDir)
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		db, err = openPostgres(cfg.URL)
	default:
		return nil, fmt.Errorf("DATABASE_URL: want a postgres:// or postgresql:// URL, or empty for SQLite")
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s does not answer: %w", db.Where, err)
	}
	return db, nil
}

func openSQLite(dir string) (*DB, error) {
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("sqlite: create data dir: %w", err)
	}
	path := filepath.Join(dir, "atrium.db")
	// WAL lets readers run beside the writer; _txlock=immediate takes the
	// write lock at BEGIN so two transactions never deadlock upgrading a read
	// lock; busy_timeout makes the second writer wait instead of failing.
	dsn := "file:" + path + "?_txlock=immediate" +
		"&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(4)
	sqldb.SetMaxIdleConns(4)
	sqldb.SetConnMaxIdleTime(0)
	return newDB(sqldb, SQLite, "sqlite:"+path), nil
}

func openPostgres(rawURL string) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %v", redactURLError(err))
	}
	sqldb, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	sqldb.SetMaxOpenConns(20)
	sqldb.SetMaxIdleConns(10)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return newDB(sqldb, Postgres, "postgres://"+u.Host+u.Path), nil
}

// redactURLError drops the URL from a parse error, since it may carry a password.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("invalid URL: %v", ue.Err)
	}
	return errors.New("invalid URL")
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.PingContext(ctx)
}

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint failure, on either dialect.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqliteErr *sqlite.Error
	if errors.As(err, &sqliteErr) {
		code := sqliteErr.Code()
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsNoRows reports whether err means a query found nothing.
func IsNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows)
}
