package qdrant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// payloadIndexes are the payload indexes every search and delete relies on.
func payloadIndexes() []createIndex {
	return []createIndex{
		{FieldName: keyAgent, FieldSchema: "keyword"},
		{FieldName: keyVersion, FieldSchema: "integer"},
	}
}

// Ensure creates the collection (cosine distance, vectors of dims) and
// keyword/integer payload indexes on agent_id and version if it does not
// exist; if it exists with another vector size, it returns an error
// wrapping ErrVectorSize (vectors of another embedding model: a different
// collection is needed). Missing payload indexes of an existing collection
// are created too, and a collection created meanwhile by another process
// is checked like one found.
func (s *Store) Ensure(ctx context.Context, dims int) error {
	if dims <= 0 {
		return fmt.Errorf("qdrant: ensure collection: vector size %d is not positive", dims)
	}
	info, found, err := s.info(ctx)
	if err != nil {
		return err
	}
	if !found {
		var created bool
		err := s.call(ctx, "create collection", http.MethodPut, s.path(""),
			createCollection{Vectors: vectorParams{Size: dims, Distance: "Cosine"}}, &created)
		switch {
		case alreadyExists(err):
			if info, found, err = s.info(ctx); err != nil {
				return err
			} else if !found {
				return fmt.Errorf("qdrant: collection %q exists but cannot be read", s.collection)
			}
		case err != nil:
			return err
		case !created:
			return fmt.Errorf("qdrant: create collection: Qdrant answered false")
		}
	}
	if info != nil {
		if err := s.checkVectors(info, dims); err != nil {
			return err
		}
	}
	for _, ix := range payloadIndexes() {
		if info != nil {
			if _, ok := info.PayloadSchema[ix.FieldName]; ok {
				continue
			}
		}
		var res updateResult
		op := "create payload index " + ix.FieldName
		if err := s.call(ctx, op, http.MethodPut, s.path("/index?wait=true"), ix, &res); err != nil {
			return err
		}
		if err := res.check(op); err != nil {
			return err
		}
	}
	return nil
}

// info reads the collection's description; found is false when Qdrant
// answers 404.
func (s *Store) info(ctx context.Context) (info *collectionInfo, found bool, err error) {
	info = new(collectionInfo)
	err = s.call(ctx, "get collection", http.MethodGet, s.path(""), nil, info)
	if NotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if info.Config == nil {
		return nil, false, errors.New("qdrant: get collection: unexpected answer: no config")
	}
	return info, true, nil
}

// checkVectors checks that info describes one unnamed cosine vector of dims.
func (s *Store) checkVectors(info *collectionInfo, dims int) error {
	var v storedVectors
	if err := json.Unmarshal(info.Config.Params.Vectors, &v); err != nil {
		return fmt.Errorf("qdrant: get collection: unexpected answer: vectors: %w", err)
	}
	if v.Size == nil {
		return fmt.Errorf("qdrant: collection %q has named vectors; it needs a single unnamed vector", s.collection)
	}
	if *v.Size != dims {
		return fmt.Errorf("%w: collection %q holds vectors of size %d, the embedder gives %d "+
			"(another embedding model?): configure a different collection", ErrVectorSize, s.collection, *v.Size, dims)
	}
	if v.Distance != "Cosine" {
		return fmt.Errorf("qdrant: collection %q compares vectors by %s distance, not Cosine", s.collection, v.Distance)
	}
	return nil
}

// alreadyExists reports whether err is Qdrant refusing to create a
// collection that exists (409 since 1.9 or so, 400 before).
func alreadyExists(err error) bool {
	var qe *Error
	if !errors.As(err, &qe) {
		return false
	}
	return qe.Status == http.StatusConflict ||
		(qe.Status == http.StatusBadRequest && strings.Contains(qe.Message, "already exists"))
}

// check returns an error unless r says the update was applied (with
// wait=true, Qdrant answers "completed").
func (r updateResult) check(op string) error {
	if r.Status == "" {
		return fmt.Errorf("qdrant: %s: unexpected answer: no operation status", op)
	}
	if r.Status != "completed" {
		return fmt.Errorf("qdrant: %s: operation %s, not completed", op, r.Status)
	}
	return nil
}

// Ping checks that Qdrant answers and accepts the API key (GET
// /collections), for readiness checks.
func (s *Store) Ping(ctx context.Context) error {
	var res collectionsList
	if err := s.call(ctx, "list collections", http.MethodGet, "/collections", nil, &res); err != nil {
		return err
	}
	if res.Collections == nil {
		return errors.New("qdrant: list collections: unexpected answer: no collections")
	}
	return nil
}
