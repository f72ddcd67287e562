package kv_test

import (
	"errors"
	"testing"

	"github.com/atrium-hq/atrium/persistence/kv"
)

func TestStoreRoundTripAndReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := kv.Open(dir, kv.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/1", "a/2", "b/1"} {
		if err := s.Set([]byte(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kv.Open(dir, kv.Config{}); err == nil {
		t.Fatal("second Open of the same dir succeeded, want a lock error")
	}
	var keys []string
	if err := s.Scan([]byte("a/"), func(k, v []byte) bool { keys = append(keys, string(k)); return true }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "a/1" || keys[1] != "a/2" {
		t.Fatalf("Scan(a/) = %v, want [a/1 a/2]", keys)
	}
	if err := s.Delete([]byte("a/1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = kv.Open(dir, kv.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Get([]byte("a/1")); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(deleted) err = %v, want ErrNotFound", err)
	}
	v, err := s.Get([]byte("b/1"))
	if err != nil || string(v) != "vb/1" {
		t.Fatalf("Get(b/1) after reopen = %q, %v", v, err)
	}
}
