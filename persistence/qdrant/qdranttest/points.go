package qdranttest

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// point is one stored point.
type point struct {
	id      any            // as Qdrant answers it: a uint64 or a hyphenated UUID
	vector  []float32      // normalized when the distance is Cosine, as in Qdrant
	payload map[string]any // numbers as json.Number
	version uint64         // the last operation that wrote it
}

// pointKey is the canonical form of a point id (an unsigned integer or a
// UUID in any of Qdrant's spellings), with the value Qdrant answers.
func pointKey(raw json.RawMessage) (key string, id any, err error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err == nil {
		switch v := v.(type) {
		case json.Number:
			if n, err := strconv.ParseUint(v.String(), 10, 64); err == nil {
				return "n" + strconv.FormatUint(n, 10), n, nil
			}
		case string:
			h := strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(v), "urn:uuid:"), "-", "")
			if b, err := hex.DecodeString(h); err == nil && len(b) == 16 {
				u := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
				return "u" + u, u, nil
			}
		}
	}
	return "", nil, fmt.Errorf("value %s is not a valid point ID, valid values are either an unsigned integer or a UUID", raw)
}

// vectorOf checks a vector's dimension against c's, and normalizes it for
// Cosine; the message is Qdrant's.
func (c *collection) vectorOf(v []float32) ([]float32, error) {
	if len(v) != c.size {
		return nil, fmt.Errorf("Wrong input: Vector dimension error: expected dim: %d, got %d", c.size, len(v))
	}
	out := append([]float32(nil), v...)
	if c.distance == "Cosine" {
		var sum float64
		for _, x := range v {
			sum += float64(x) * float64(x)
		}
		if norm := math.Sqrt(sum); norm > 0 {
			for i := range out {
				out[i] = float32(float64(out[i]) / norm)
			}
		}
	}
	return out, nil
}

func (s *Server) upsertPoints(w http.ResponseWriter, r *http.Request) {
	wait, ok := queryParams(w, r, "wait", "ordering", "timeout")
	if !ok {
		return
	}
	var req struct {
		Points []struct {
			ID      json.RawMessage `json:"id"`
			Vector  []float32       `json:"vector"`
			Payload map[string]any  `json:"payload"`
		} `json:"points"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(w, r)
	if c == nil {
		return
	}
	batch := make(map[string]*point, len(req.Points))
	for _, p := range req.Points {
		key, id, err := pointKey(p.ID)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Format error in JSON body: "+err.Error())
			return
		}
		vec, err := c.vectorOf(p.Vector)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		batch[key] = &point{id: id, vector: vec, payload: p.Payload}
	}
	op := s.nextOp()
	for key, p := range batch {
		p.version = op
		c.points[key] = p
	}
	writeResult(w, updateResult(op, wait))
}

// scored is a point found, as Qdrant answers it.
type scored struct {
	ID      any            `json:"id"`
	Version uint64         `json:"version"`
	Score   float32        `json:"score"`
	Payload map[string]any `json:"payload,omitempty"`
	Vector  []float32      `json:"vector,omitempty"`
}

// queryPoints is the query API with a nearest-vector query (a plain vector
// or {"nearest": vector}), exact: every point passing the filter is scored.
func (s *Server) queryPoints(w http.ResponseWriter, r *http.Request) {
	if _, ok := queryParams(w, r, "consistency", "timeout"); !ok {
		return
	}
	var req struct {
		Query          json.RawMessage `json:"query"`
		Filter         *filter         `json:"filter"`
		Limit          *int            `json:"limit"`
		Offset         int             `json:"offset"`
		ScoreThreshold *float32        `json:"score_threshold"`
		WithPayload    json.RawMessage `json:"with_payload"`
		WithVector     bool            `json:"with_vector"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	query, err := nearest(req.Query)
	if err == nil {
		err = req.Filter.check()
	}
	var fields []string
	withPayload := false
	if err == nil {
		withPayload, fields, err = payloadSelector(req.WithPayload)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Format error in JSON body: "+err.Error())
		return
	}
	limit := 10
	if req.Limit != nil {
		limit = *req.Limit
	}
	if limit < 1 || req.Offset < 0 {
		writeError(w, http.StatusUnprocessableEntity, "Validation error in JSON body: [limit: value must be 1 or larger, offset: value must not be negative]")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(w, r)
	if c == nil {
		return
	}
	q, err := c.vectorOf(query)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	found := []scored{}
	for _, p := range c.points {
		if !req.Filter.matches(p.payload) {
			continue
		}
		var score float32
		for i, x := range q {
			score += x * p.vector[i]
		}
		if req.ScoreThreshold != nil && !(score > *req.ScoreThreshold) { // Qdrant's check_threshold
			continue
		}
		sp := scored{ID: p.id, Version: p.version, Score: score}
		if withPayload {
			sp.Payload = selectPayload(p.payload, fields)
		}
		if req.WithVector {
			sp.Vector = p.vector
		}
		found = append(found, sp)
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].Score != found[j].Score {
			return found[i].Score > found[j].Score
		}
		return fmt.Sprint(found[i].ID) < fmt.Sprint(found[j].ID)
	})
	found = found[min(req.Offset, len(found)):]
	writeResult(w, map[string]any{"points": found[:min(limit, len(found))]})
}

// nearest is the vector of a nearest-neighbour query.
func nearest(raw json.RawMessage) ([]float32, error) {
	var v []float32
	if strictUnmarshal(raw, &v) == nil && len(v) > 0 {
		return v, nil
	}
	var n struct {
		Nearest []float32 `json:"nearest"`
	}
	if strictUnmarshal(raw, &n) == nil && len(n.Nearest) > 0 {
		return n.Nearest, nil
	}
	return nil, fmt.Errorf("qdranttest serves nearest-vector queries only, got query %s", raw)
}

// payloadSelector reads with_payload: a boolean or a list of fields.
func payloadSelector(raw json.RawMessage) (with bool, fields []string, err error) {
	if len(raw) == 0 || strictUnmarshal(raw, &with) == nil {
		return with, nil, nil
	}
	if strictUnmarshal(raw, &fields) == nil {
		return true, fields, nil
	}
	return false, nil, fmt.Errorf("qdranttest wants with_payload as a boolean or a list of fields, got %s", raw)
}

// selectPayload is payload restricted to fields (nil: all of it).
func selectPayload(payload map[string]any, fields []string) map[string]any {
	if fields == nil {
		return payload
	}
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		if v, ok := payload[f]; ok {
			out[f] = v
		}
	}
	return out
}

// deletePoints deletes points by id list or by filter.
func (s *Server) deletePoints(w http.ResponseWriter, r *http.Request) {
	wait, ok := queryParams(w, r, "wait", "ordering", "timeout")
	if !ok {
		return
	}
	var req struct {
		Points []json.RawMessage `json:"points"`
		Filter *filter           `json:"filter"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	err := req.Filter.check()
	if err == nil && (req.Filter == nil) == (req.Points == nil) {
		err = fmt.Errorf("give either points or filter")
	}
	keys := make([]string, len(req.Points))
	for i, raw := range req.Points {
		if err == nil {
			keys[i], _, err = pointKey(raw)
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "Format error in JSON body: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.lookup(w, r)
	if c == nil {
		return
	}
	for _, k := range keys {
		delete(c.points, k)
	}
	if req.Filter != nil {
		for k, p := range c.points {
			if req.Filter.matches(p.payload) {
				delete(c.points, k)
			}
		}
	}
	writeResult(w, updateResult(s.nextOp(), wait))
}
