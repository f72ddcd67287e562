package qdrant

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// upsertBatch is the most points sent in one upsert request.
const upsertBatch = 256

// Point is one passage of an agent's index.
type Point struct {
	Agent   string
	Version int64
	Idx     int
	Title   string
	Text    string
	Vector  []float32
}

// Hit is a point found by Search, with its similarity (cosine) to the query.
type Hit struct {
	Title, Text string
	Idx         int
	Score       float64
}

// Upsert stores points (in requests of at most 256 points, wait=true). Point
// ids are UUIDs derived deterministically from (agent, version, idx), so
// storing again replaces. Points already sent stay when a later request
// fails.
func (s *Store) Upsert(ctx context.Context, points []Point) error {
	for start := 0; start < len(points); start += upsertBatch {
		batch := points[start:min(start+upsertBatch, len(points))]
		req := upsertPoints{Points: make([]pointStruct, len(batch))}
		for i, p := range batch {
			if p.Agent == "" {
				return fmt.Errorf("qdrant: upsert points: point %d has no agent", start+i)
			}
			if len(p.Vector) == 0 {
				return fmt.Errorf("qdrant: upsert points: point %d has no vector", start+i)
			}
			req.Points[i] = pointStruct{
				ID:      pointID(p.Agent, p.Version, p.Idx),
				Vector:  p.Vector,
				Payload: payload{AgentID: p.Agent, Version: p.Version, Idx: p.Idx, Title: p.Title, Text: p.Text},
			}
		}
		const op = "upsert points"
		var res updateResult
		if err := s.call(ctx, op, http.MethodPut, s.path("/points?wait=true"), req, &res); err != nil {
			return err
		}
		if err := res.check(op); err != nil {
			return err
		}
	}
	return nil
}

// Search returns at most limit points of agent's index version most similar
// to vector, best first, with a score above threshold (Qdrant keeps scores
// strictly greater than score_threshold). It uses Qdrant's query endpoint
// with a filter on agent_id and version.
func (s *Store) Search(ctx context.Context, agent string, version int64, vector []float32, limit int, threshold float64) ([]Hit, error) {
	const op = "query points"
	if limit < 1 {
		return nil, fmt.Errorf("qdrant: %s: limit %d is not positive", op, limit)
	}
	if len(vector) == 0 {
		return nil, fmt.Errorf("qdrant: %s: no query vector", op)
	}
	req := queryPoints{
		Query:          vector,
		Filter:         &filter{Must: []condition{match(keyAgent, agent), match(keyVersion, version)}},
		Limit:          limit,
		ScoreThreshold: threshold,
		WithPayload:    []string{keyIdx, keyTitle, keyText},
	}
	var res queryResponse
	if err := s.call(ctx, op, http.MethodPost, s.path("/points/query"), req, &res); err != nil {
		return nil, err
	}
	if res.Points == nil {
		return nil, errors.New("qdrant: query points: unexpected answer: no points")
	}
	hits := make([]Hit, 0, len(*res.Points))
	for _, p := range *res.Points {
		pl := p.Payload
		if p.Score == nil || pl == nil || pl.Idx == nil || pl.Title == nil || pl.Text == nil {
			return nil, fmt.Errorf("qdrant: query points: unexpected answer: point %s lacks a score or idx, title, text", cut(string(p.ID)))
		}
		hits = append(hits, Hit{Title: *pl.Title, Text: *pl.Text, Idx: *pl.Idx, Score: *p.Score})
	}
	return hits, nil
}

// DeleteOthers deletes agent's points whose version is not keep (keep 0:
// all of the agent's points).
func (s *Store) DeleteOthers(ctx context.Context, agent string, keep int64) error {
	const op = "delete points"
	if agent == "" {
		return fmt.Errorf("qdrant: %s: no agent", op)
	}
	f := filter{Must: []condition{match(keyAgent, agent)}}
	if keep != 0 {
		f.MustNot = []condition{match(keyVersion, keep)}
	}
	var res updateResult
	if err := s.call(ctx, op, http.MethodPost, s.path("/points/delete?wait=true"), deletePoints{Filter: f}, &res); err != nil {
		return err
	}
	return res.check(op)
}

// idNamespace is the namespace (16 bytes) of the name-based UUIDs of points.
const idNamespace = "atrium rag point"

// pointID is the UUID (version 5: SHA-1, name-based) of agent's point idx of
// version. The name is length-prefixed so no two triples share it.
func pointID(agent string, version int64, idx int) string {
	h := sha1.New()
	h.Write([]byte(idNamespace))
	h.Write([]byte(strconv.Itoa(len(agent)) + ":" + agent + ":" +
		strconv.FormatInt(version, 10) + ":" + strconv.Itoa(idx)))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
