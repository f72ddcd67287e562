package kv

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/cockroachdb/pebble"
)

// ErrNotFound is returned by Get for a key that is not there.
var ErrNotFound = errors.New("kv: not found")

// Config configures a Store. The zero value works.
type Config struct {
	// Logger receives Pebble's own log lines. Nil discards them.
	Logger *slog.Logger
	// CacheBytes is the block cache size. Zero means 16 MiB.
	CacheBytes int64
}

// Store is an open Pebble database. It is safe for concurrent use.
type Store struct {
	db  *pebble.DB
	dir string
}

// Open opens (creating if needed) the store in dir. A dir already open in
// another process is an error, not a wait.
func Open(dir string, cfg Config) (*Store, error) {
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = 16 << 20
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("pebble: create %s: %w", dir, err)
	}
	cache := pebble.NewCache(cfg.CacheBytes)
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:  cache,
		Logger: pebbleLogger{logger},
	})
	if err != nil {
		return nil, fmt.Errorf("pebble: open %s (is another atrium using this data dir?): %w", dir, err)
	}
	return &Store{db: db, dir: dir}, nil
}

// Get returns a copy of the value at key, or ErrNotFound.
func (s *Store) Get(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("kv get: %w", err)
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

// Set stores value at key. It does not wait for the disk: this is a cache
// and counter store, and Pebble's WAL still orders the writes.
func (s *Store) Set(key, value []byte) error {
	if err := s.db.Set(key, value, pebble.NoSync); err != nil {
		return fmt.Errorf("kv set: %w", err)
	}
	return nil
}

// Delete removes key; a missing key is not an error.
func (s *Store) Delete(key []byte) error {
	if err := s.db.Delete(key, pebble.NoSync); err != nil {
		return fmt.Errorf("kv delete: %w", err)
	}
	return nil
}

// Scan calls fn for each key with the prefix, in key order, until fn returns
// false. The slices passed to fn are valid only during the call.
func (s *Store) Scan(prefix []byte, fn func(key, value []byte) bool) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("kv scan: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(it.Key(), it.Value()) {
			break
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return fmt.Errorf("kv scan: %w", err)
	}
	return it.Close()
}

// Ping checks that the store reads.
func (s *Store) Ping() error {
	_, err := s.Get([]byte("\x00ping"))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Close flushes and closes the store.
func (s *Store) Close() error {
	if err := s.db.Flush(); err != nil {
		s.db.Close()
		return fmt.Errorf("kv flush: %w", err)
	}
	return s.db.Close()
}

// prefixEnd returns the smallest key greater than every key with prefix, or
// nil when there is none (a prefix of all 0xff bytes).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called by Pebble on unrecoverable corruption. Only main may exit,
// so this panics with the message; the process dies either way.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("pebble: " + msg)
}
