package qdranttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
)

// collection is one collection's configuration and points.
type collection struct {
	size     int
	distance string            // "Cosine" or "Dot"
	indexes  map[string]string // payload field -> index type
	points   map[string]*point // by canonical id (see pointKey)
}

// vectorParams is a collection's single unnamed vector configuration.
type vectorParams struct {
	Size     *int   `json:"size"`
	Distance string `json:"distance"`
}

// lookup is the collection named by r's path, answering Qdrant's 404 and
// returning nil when there is none. The caller holds s.mu.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *collection {
	name := r.PathValue("name")
	c := s.collections[name]
	if c == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Not found: Collection `%s` doesn't exist!", name))
	}
	return c
}

// nextOp is a new update operation id. The caller holds s.mu.
func (s *Server) nextOp() uint64 {
	s.ops++
	return s.ops
}

// updateResult is Qdrant's answer to an update: completed with wait=true,
// acknowledged without.
func updateResult(op uint64, wait bool) map[string]any {
	status := "acknowledged"
	if wait {
		status = "completed"
	}
	return map[string]any{"operation_id": op, "status": status}
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) {
	if _, ok := queryParams(w, r); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]map[string]string, 0, len(s.collections))
	for name := range s.collections {
		list = append(list, map[string]string{"name": name})
	}
	sort.Slice(list, func(i, j int) bool { return list[i]["name"] < list[j]["name"] })
	writeResult(w, map[string]any{"collections": list})
}

func (s *Server) collectionExists(w http.ResponseWriter, r *http.Request) {
	if _, ok := queryParams(w, r); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeResult(w, map[string]bool{"exists": s.collections[r.PathValue("name")] != nil})
}

// getCollection answers GET /collections/{name} with a CollectionInfo like
// a fresh single-node Qdrant's.
func (s *Server) getCollection(w http.ResponseWriter, r *http.Request) {
	if _, ok := queryParams(w, r); !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(w, r)
	if c == nil {
		return
	}
	schema := make(map[string]any, len(c.indexes))
	for field, typ := range c.indexes {
		n := 0
		for _, p := range c.points {
			if _, ok := p.payload[field]; ok {
				n++
			}
		}
		schema[field] = map[string]any{"data_type": typ, "points": n}
	}
	writeResult(w, map[string]any{
		"status":                "green",
		"optimizer_status":      "ok",
		"indexed_vectors_count": 0,
		"points_count":          len(c.points),
		"segments_count":        1,
		"config": map[string]any{
			"params": map[string]any{
				"vectors":                  map[string]any{"size": c.size, "distance": c.distance},
				"shard_number":             1,
				"replication_factor":       1,
				"write_consistency_factor": 1,
				"on_disk_payload":          true,
			},
			"hnsw_config":      map[string]any{"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0, "on_disk": false},
			"optimizer_config": map[string]any{"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0, "indexing_threshold": 20000, "flush_interval_sec": 5},
			"wal_config":       map[string]any{"wal_capacity_mb": 32, "wal_segments_ahead": 0},
		},
		"payload_schema": schema,
	})
}

// createCollection creates a collection with one unnamed vector; named
// vectors, sparse vectors and tuning parameters are refused.
func (s *Server) createCollection(w http.ResponseWriter, r *http.Request) {
	if _, ok := queryParams(w, r, "timeout"); !ok {
		return
	}
	var req struct {
		Vectors json.RawMessage `json:"vectors"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	var v vectorParams
	if strictUnmarshal(req.Vectors, &v) != nil || v.Size == nil {
		writeError(w, http.StatusBadRequest, "Format error in JSON body: qdranttest wants vectors {\"size\": n, \"distance\": d}")
		return
	}
	if *v.Size < 1 {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Validation error in JSON body: [vectors.size: value %d invalid, must be 1 or larger]", *v.Size))
		return
	}
	switch v.Distance {
	case "Cosine", "Dot":
	case "Euclid", "Manhattan":
		writeError(w, http.StatusBadRequest, "Wrong input: qdranttest serves Cosine and Dot distances only")
		return
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Format error in JSON body: unknown variant `%s`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`", v.Distance))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := r.PathValue("name")
	if s.collections[name] != nil {
		writeError(w, http.StatusConflict, fmt.Sprintf("Wrong input: Collection `%s` already exists!", name))
		return
	}
	s.collections[name] = &collection{size: *v.Size, distance: v.Distance, indexes: map[string]string{}, points: map[string]*point{}}
	writeResult(w, true)
}

// createIndex records a payload index; field_schema is a type name.
func (s *Server) createIndex(w http.ResponseWriter, r *http.Request) {
	wait, ok := queryParams(w, r, "wait", "ordering", "timeout")
	if !ok {
		return
	}
	var req struct {
		FieldName   string `json:"field_name"`
		FieldSchema any    `json:"field_schema"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	typ, _ := req.FieldSchema.(string)
	switch typ {
	case "keyword", "integer", "float", "bool", "geo", "text", "datetime", "uuid":
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Format error in JSON body: qdranttest wants field_schema as a type name, got %v", req.FieldSchema))
		return
	}
	if req.FieldName == "" {
		writeError(w, http.StatusBadRequest, "Format error in JSON body: missing field `field_name`")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(w, r)
	if c == nil {
		return
	}
	c.indexes[req.FieldName] = typ
	writeResult(w, updateResult(s.nextOp(), wait))
}
