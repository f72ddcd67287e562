package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// Prepared statements for the queries that run with every chat message and
// every run. Bun writes each argument into the SQL text, so SQLite parses
// and plans every statement again: a third of the database's CPU in the
// 500-chat load test. These statements are written with $1, $2, …
// placeholders (both SQLite and PostgreSQL take them), prepared once per
// connection and only bound afterwards.
//
// Times are bound as bun writes them into SQLite (UTC, microseconds, in
// the text form "2006-01-02 15:04:05.999999-07:00"), so rows written either
// way compare and sort alike; PostgreSQL gets time.Time.

// prepared caches statements by their text, and the insert of each model.
type prepared struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	inserts map[reflect.Type]*insertOf
}

// insertOf is the prepared insert of one model type.
type insertOf struct {
	query  string
	fields []*schema.Field
}

const bunTimeFormat = "2006-01-02 15:04:05.999999-07:00"

// Stmt returns query prepared, within tx when tx is not nil.
func (db *DB) Stmt(ctx context.Context, tx *bun.Tx, query string) (*sql.Stmt, error) {
	db.prep.mu.Lock()
	stmt, known := db.prep.stmts[query]
	if !known {
		db.prep.stmts[query] = nil // being prepared
	}
	db.prep.mu.Unlock()
	if stmt == nil && tx != nil {
		// Preparing on the pool would wait for a connection of its own
		// while tx holds one (and SQLite's write lock): with every
		// connection in a transaction that waits for that lock, nothing
		// could go on. Prepare it on tx's connection this time, and for
		// the pool on the side.
		if !known {
			go db.prepareShared(query)
		}
		return tx.Tx.PrepareContext(ctx, query)
	}
	if stmt == nil {
		s, err := db.DB.DB.PrepareContext(ctx, query)
		if err != nil {
			db.forgetPreparing(query, known)
			return nil, err
		}
		db.prep.mu.Lock()
		if stmt = db.prep.stmts[query]; stmt == nil {
			stmt = s
			db.prep.stmts[query] = s
		} else {
			s.Close() // prepared twice at once
		}
		db.prep.mu.Unlock()
	}
	if tx != nil {
		// Prepared on the transaction's connection once; closed with it.
		return tx.Tx.StmtContext(ctx, stmt), nil
	}
	return stmt, nil
}

// prepareShared prepares query for the pool.
func (db *DB) prepareShared(query string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := db.DB.DB.PrepareContext(ctx, query)
	db.prep.mu.Lock()
	defer db.prep.mu.Unlock()
	switch {
	case err != nil:
		if db.prep.stmts[query] == nil {
			delete(db.prep.stmts, query) // tried again on next use
		}
	case db.prep.stmts[query] == nil:
		db.prep.stmts[query] = s
	default:
		s.Close()
	}
}

// forgetPreparing undoes Stmt's mark when its own preparation failed.
func (db *DB) forgetPreparing(query string, known bool) {
	if known {
		return
	}
	db.prep.mu.Lock()
	if db.prep.stmts[query] == nil {
		delete(db.prep.stmts, query)
	}
	db.prep.mu.Unlock()
}

// ExecPrepared runs query (with $n placeholders) as a prepared statement.
func (db *DB) ExecPrepared(ctx context.Context, tx *bun.Tx, query string, args ...any) (sql.Result, error) {
	stmt, err := db.Stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	db.bindTimes(args)
	return stmt.ExecContext(ctx, args...)
}

// QueryPrepared runs query (with $n placeholders) as a prepared statement.
func (db *DB) QueryPrepared(ctx context.Context, tx *bun.Tx, query string, args ...any) (*sql.Rows, error) {
	stmt, err := db.Stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	db.bindTimes(args)
	return stmt.QueryContext(ctx, args...)
}

// QueryStrings runs query (with $n placeholders) as a prepared statement
// and returns the first column of its rows, which must be text.
func (db *DB) QueryStrings(ctx context.Context, tx *bun.Tx, query string, args ...any) ([]string, error) {
	rows, err := db.QueryPrepared(ctx, tx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// QueryRowPrepared runs query (with $n placeholders) as a prepared
// statement and returns its first row.
func (db *DB) QueryRowPrepared(ctx context.Context, tx *bun.Tx, query string, args ...any) *sql.Row {
	stmt, err := db.Stmt(ctx, tx, query)
	if err != nil {
		// A *sql.Row cannot be made with an error outside database/sql;
		// ask the database, which reports the same problem.
		if tx != nil {
			return tx.QueryRowContext(ctx, query, args...)
		}
		return db.DB.DB.QueryRowContext(ctx, query, args...)
	}
	db.bindTimes(args)
	return stmt.QueryRowContext(ctx, args...)
}

// bindTimes writes SQLite's times as bun does.
func (db *DB) bindTimes(args []any) {
	if db.Dialect != SQLite {
		return
	}
	for i, a := range args {
		switch t := a.(type) {
		case time.Time:
			args[i] = t.UTC().Format(bunTimeFormat)
		case *time.Time:
			if t == nil {
				args[i] = nil
			} else {
				args[i] = t.UTC().Format(bunTimeFormat)
			}
		}
	}
}

// Insert stores the row model points to (a bun model) with a prepared
// statement, within tx when tx is not nil. A model with a field Insert
// cannot bind (or that bun would write as DEFAULT or NULL when zero) is
// inserted by bun instead.
func (db *DB) Insert(ctx context.Context, tx *bun.Tx, model any) error {
	v := reflect.ValueOf(model)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("sqldb: Insert wants a pointer to a struct, not %T", model)
	}
	ins := db.insertFor(v.Elem().Type())
	if ins == nil {
		var err error
		if tx != nil {
			_, err = tx.NewInsert().Model(model).Exec(ctx)
		} else {
			_, err = db.NewInsert().Model(model).Exec(ctx)
		}
		return err
	}
	args := make([]any, len(ins.fields))
	for i, f := range ins.fields {
		args[i] = f.Value(v.Elem()).Interface()
	}
	_, err := db.ExecPrepared(ctx, tx, ins.query, args...)
	return err
}

func (db *DB) insertFor(t reflect.Type) *insertOf {
	db.prep.mu.Lock()
	ins, ok := db.prep.inserts[t]
	db.prep.mu.Unlock()
	if ok {
		return ins
	}
	table := db.Table(t)
	var cols, marks []string
	for i, f := range table.Fields {
		if f.NullZero || f.SQLDefault != "" || f.AutoIncrement || f.Identity || !bindable(f.StructField.Type) {
			ins = nil
			break
		}
		cols = append(cols, string(f.SQLName))
		marks = append(marks, "$"+strconv.Itoa(i+1))
		if ins == nil {
			ins = &insertOf{}
		}
		ins.fields = append(ins.fields, f)
	}
	if ins != nil {
		ins.query = "INSERT INTO " + string(table.SQLName) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	}
	db.prep.mu.Lock()
	db.prep.inserts[t] = ins
	db.prep.mu.Unlock()
	return ins
}

// bindable reports whether values of t go to the database as bun writes
// them: strings, integers, floats, booleans and times, or pointers to them.
func bindable(t reflect.Type) bool {
	if t == reflect.TypeFor[time.Time]() || t == reflect.TypeFor[*time.Time]() {
		return true
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() != "" { // a named type may have its own Value or appender
		return false
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64:
		return true
	}
	return false
}
