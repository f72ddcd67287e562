package qdrant

import "encoding/json"

// The JSON shapes of the requests Store sends and of the results it reads,
// as in Qdrant's OpenAPI description (https://api.qdrant.tech/api-reference).

// Payload keys of a point.
const (
	keyAgent   = "agent_id"
	keyVersion = "version"
	keyIdx     = "idx"
	keyTitle   = "title"
	keyText    = "text"
)

// createCollection is the body of PUT /collections/{name}.
type createCollection struct {
	Vectors vectorParams `json:"vectors"`
}

// vectorParams configures the collection's single unnamed vector.
type vectorParams struct {
	Size     int    `json:"size"`
	Distance string `json:"distance"`
}

// collectionInfo is the part of GET /collections/{name}'s result Ensure reads.
type collectionInfo struct {
	Config *struct {
		Params struct {
			Vectors json.RawMessage `json:"vectors"`
		} `json:"params"`
	} `json:"config"`
	PayloadSchema map[string]struct {
		DataType string `json:"data_type"`
	} `json:"payload_schema"`
}

// storedVectors is config.params.vectors of a collection with one unnamed
// vector (Size is nil for named vectors).
type storedVectors struct {
	Size     *int   `json:"size"`
	Distance string `json:"distance"`
}

// createIndex is the body of PUT /collections/{name}/index.
type createIndex struct {
	FieldName   string `json:"field_name"`
	FieldSchema string `json:"field_schema"`
}

// updateResult is the result of the updates (index, upsert, delete).
type updateResult struct {
	Status string `json:"status"` // "completed" with wait=true
}

// collectionsList is the result of GET /collections.
type collectionsList struct {
	Collections *[]struct {
		Name string `json:"name"`
	} `json:"collections"`
}

// upsertPoints is the body of PUT /collections/{name}/points.
type upsertPoints struct {
	Points []pointStruct `json:"points"`
}

// pointStruct is one point to store.
type pointStruct struct {
	ID      string    `json:"id"`
	Vector  []float32 `json:"vector"`
	Payload payload   `json:"payload"`
}

// payload is a point's payload.
type payload struct {
	AgentID string `json:"agent_id"`
	Version int64  `json:"version"`
	Idx     int    `json:"idx"`
	Title   string `json:"title"`
	Text    string `json:"text"`
}

// filter selects points by their payload; must_not excludes.
type filter struct {
	Must    []condition `json:"must,omitempty"`
	MustNot []condition `json:"must_not,omitempty"`
}

// condition is a field condition matching one value exactly.
type condition struct {
	Key   string     `json:"key"`
	Match matchValue `json:"match"`
}

// matchValue is {"value": v}, v a string or an integer.
type matchValue struct {
	Value any `json:"value"`
}

// match is the condition "key equals v".
func match(key string, v any) condition {
	return condition{Key: key, Match: matchValue{Value: v}}
}

// queryPoints is the body of POST /collections/{name}/points/query.
type queryPoints struct {
	Query          []float32 `json:"query"`
	Filter         *filter   `json:"filter,omitempty"`
	Limit          int       `json:"limit"`
	ScoreThreshold float64   `json:"score_threshold"`
	WithPayload    []string  `json:"with_payload"`
}

// queryResponse is the result of POST /collections/{name}/points/query.
type queryResponse struct {
	Points *[]scoredPoint `json:"points"`
}

// scoredPoint is one point found, with the payload fields asked for.
type scoredPoint struct {
	ID      json.RawMessage `json:"id"`
	Score   *float64        `json:"score"`
	Payload *struct {
		Idx   *int    `json:"idx"`
		Title *string `json:"title"`
		Text  *string `json:"text"`
	} `json:"payload"`
}

// deletePoints is the body of POST /collections/{name}/points/delete.
type deletePoints struct {
	Filter filter `json:"filter"`
}
