package openai

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// refChunk is chunk as encoding/json reads it: the reference decodeChunk
// must agree with.
type refChunk struct {
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content   string `json:"content"`
			Refusal   string `json:"refusal"`
			ToolCalls []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

func (r refChunk) chunk() chunk {
	var c chunk
	for _, rc := range r.Choices {
		var cc chunkChoice
		cc.Index, cc.FinishReason = rc.Index, rc.FinishReason
		cc.Delta.Content, cc.Delta.Refusal = rc.Delta.Content, rc.Delta.Refusal
		for _, t := range rc.Delta.ToolCalls {
			var call chunkCall
			call.Index, call.ID = t.Index, t.ID
			call.Function.Name, call.Function.Arguments = t.Function.Name, t.Function.Arguments
			cc.Delta.ToolCalls = append(cc.Delta.ToolCalls, call)
		}
		c.Choices = append(c.Choices, cc)
	}
	if r.Usage != nil {
		c.Usage = &chunkUsage{r.Usage.PromptTokens, r.Usage.CompletionTokens}
	}
	if len(r.Error) > 0 && string(r.Error) != "null" {
		c.Error = r.Error
	}
	return c
}

var chunkSeeds = []string{
	`{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi \"there\" \u00e9 🚀"},"logprobs":null,"finish_reason":null}]}`,
	`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":"}}]},"finish_reason":null}]}`,
	`{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"x","function":{"arguments":"1}"}}]}}]}`,
	`{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
	`{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":20,"total_tokens":29}}`,
	`{"choices":[{"index":1,"delta":{"content":"second"}}],"usage":null}`,
	`{"error":{"message":"overloaded","type":"server_error"}}`,
	`{"error":null,"choices":[{"delta":{"refusal":"no","content":null}}]}`,
}

func TestDecodeChunkAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range chunkSeeds {
		check(t, []byte(s))
	}
	for _, bad := range []string{`{"choices":[`, `nope`, `{"choices":[{"index":0,"delta":{"content":"x"}}]`} {
		var c chunk
		if err := decodeChunk([]byte(bad), &c); err == nil {
			t.Errorf("decodeChunk(%q) = nil error", bad)
		}
	}
}

func check(t *testing.T, data []byte) {
	t.Helper()
	var ref refChunk
	refErr := json.Unmarshal(data, &ref)
	var got chunk
	err := decodeChunk(data, &got)
	if refErr != nil {
		// encoding/json also refuses type mismatches decodeChunk reads
		// leniently; only invalid JSON must fail both.
		var syntax *json.SyntaxError
		if isSyntax := asSyntax(refErr, &syntax); isSyntax && err == nil {
			t.Fatalf("decodeChunk(%q) accepted invalid JSON", data)
		}
		return
	}
	if err != nil {
		t.Fatalf("decodeChunk(%q) = %v", data, err)
	}
	var generic any
	json.Unmarshal(data, &generic)
	if foldedKey(generic) || !utf8.Valid(data) {
		// encoding/json matches "Choices" to "choices", and makes each
		// invalid byte a U+FFFD where decodeChunk makes each run one:
		// neither matters for what servers send.
		return
	}
	if want := ref.chunk(); !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeChunk(%q)\n got %+v\nwant %+v", data, got, want)
	}
}

// chunkKeys are the keys decodeChunk reads.
var chunkKeys = []string{"choices", "index", "delta", "content", "refusal", "tool_calls", "id", "function", "name",
	"arguments", "finish_reason", "usage", "prompt_tokens", "completion_tokens", "error"}

// foldedKey reports whether v has a key that equals one of chunkKeys only
// when case is ignored.
func foldedKey(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			for _, want := range chunkKeys {
				if k != want && strings.EqualFold(k, want) {
					return true
				}
			}
			if foldedKey(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if foldedKey(x) {
				return true
			}
		}
	}
	return false
}

func asSyntax(err error, target **json.SyntaxError) bool {
	s, ok := err.(*json.SyntaxError)
	*target = s
	return ok
}

func FuzzDecodeChunk(f *testing.F) {
	for _, s := range chunkSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check(t, data)
	})
}
