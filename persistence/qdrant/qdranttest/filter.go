package qdranttest

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// filter is Qdrant's Filter restricted to lists of field conditions that
// match one value: {"must": [...], "must_not": [...], "should": [...]}.
type filter struct {
	Must    []condition `json:"must"`
	MustNot []condition `json:"must_not"`
	Should  []condition `json:"should"`
}

// condition is {"key": "field", "match": {"value": v}}, v a string, an
// integer or a boolean.
type condition struct {
	Key   string `json:"key"`
	Match *struct {
		Value json.RawMessage `json:"value"`
	} `json:"match"`
}

// check reports conditions qdranttest cannot evaluate (a nil filter has
// none).
func (f *filter) check() error {
	if f == nil {
		return nil
	}
	for _, list := range [][]condition{f.Must, f.MustNot, f.Should} {
		for _, c := range list {
			if c.Key == "" {
				return fmt.Errorf("missing field `key` in a condition")
			}
			if c.Match == nil {
				return fmt.Errorf("qdranttest serves match conditions only (key %q)", c.Key)
			}
			if _, err := matchValue(c.Match.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// matches reports whether payload passes f (a nil filter passes all). f
// has been checked.
func (f *filter) matches(payload map[string]any) bool {
	if f == nil {
		return true
	}
	for _, c := range f.Must {
		if !c.matches(payload) {
			return false
		}
	}
	for _, c := range f.MustNot {
		if c.matches(payload) {
			return false
		}
	}
	if len(f.Should) == 0 {
		return true
	}
	for _, c := range f.Should {
		if c.matches(payload) {
			return true
		}
	}
	return false
}

// matches reports whether payload's field c.Key has the value, or is an
// array holding it, as Qdrant's match does.
func (c condition) matches(payload map[string]any) bool {
	want, _ := matchValue(c.Match.Value)
	switch v := payload[c.Key].(type) {
	case []any:
		for _, e := range v {
			if same(e, want) {
				return true
			}
		}
		return false
	default:
		return same(v, want)
	}
}

// matchValue is a match value: a string, an int64 or a bool.
func matchValue(raw json.RawMessage) (any, error) {
	var v any
	if err := strictUnmarshal(raw, &v); err == nil {
		switch v := v.(type) {
		case string, bool:
			return v, nil
		case json.Number:
			if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
				return n, nil
			}
		}
	}
	return nil, fmt.Errorf("match value %s is not a string, an integer or a boolean", raw)
}

// same reports whether the payload value v equals the match value want:
// strings to strings, integers to integers, booleans to booleans.
func same(v, want any) bool {
	switch w := want.(type) {
	case int64:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		return err == nil && i == w
	default:
		return v == want
	}
}
