package openai

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"
)

// decodeChunk reads the fields of a chat.completion.chunk that Atrium
// uses into ch. It walks the JSON once with gjson, without reflection or
// allocations beyond the strings it keeps: a stream is hundreds of
// chunks, and with encoding/json decoding them was most of the cost of
// relaying an answer. Invalid JSON is reported by encoding/json, whose
// *json.SyntaxError says where.
func decodeChunk(data []byte, ch *chunk) error {
	if !utf8.Valid(data) {
		// What is stored and sent on must be text, as encoding/json made
		// it: invalid bytes become U+FFFD.
		data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	}
	if !gjson.ValidBytes(data) {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return err
		}
	}
	// A view of data, not a copy (the copy was a third of the bytes a
	// stream allocated): every string kept is cloned (keep), because the
	// caller reuses data for the next event.
	root := gjson.Parse(view(data))
	if !root.IsObject() {
		return json.Unmarshal(data, ch) // the error encoding/json gives
	}
	root.ForEach(func(key, value gjson.Result) bool {
		switch key.Str {
		case "choices":
			if !value.IsArray() {
				break
			}
			value.ForEach(func(_, c gjson.Result) bool {
				ch.Choices = append(ch.Choices, decodeChoice(c))
				return true
			})
		case "usage":
			if value.IsObject() {
				ch.Usage = &chunkUsage{
					PromptTokens:     int(value.Get("prompt_tokens").Int()),
					CompletionTokens: int(value.Get("completion_tokens").Int()),
				}
			}
		case "error":
			if value.Type != gjson.Null {
				ch.Error = json.RawMessage(value.Raw) // a copy: []byte(string)
			}
		}
		return true
	})
	return nil
}

func decodeChoice(c gjson.Result) chunkChoice {
	var out chunkChoice
	if !c.IsObject() {
		return out
	}
	c.ForEach(func(key, value gjson.Result) bool {
		switch key.Str {
		case "index":
			out.Index = int(value.Int())
		case "finish_reason":
			out.FinishReason = keep(value)
		case "delta":
			if !value.IsObject() {
				break
			}
			value.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "content":
					out.Delta.Content = keep(v)
				case "refusal":
					out.Delta.Refusal = keep(v)
				case "tool_calls":
					if !v.IsArray() {
						break
					}
					v.ForEach(func(_, tc gjson.Result) bool {
						out.Delta.ToolCalls = append(out.Delta.ToolCalls, decodeCall(tc))
						return true
					})
				}
				return true
			})
		}
		return true
	})
	return out
}

func decodeCall(tc gjson.Result) chunkCall {
	var out chunkCall
	if idx := tc.Get("index"); idx.Type == gjson.Number {
		i := int(idx.Int())
		out.Index = &i
	}
	out.ID = keep(tc.Get("id"))
	fn := tc.Get("function")
	out.Function.Name = keep(fn.Get("name"))
	out.Function.Arguments = keep(fn.Get("arguments"))
	return out
}

// view is data as a string without copying it; it is valid only while
// data is not changed.
func view(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(data), len(data))
}

// keep returns r's text as a string of its own, not a view of the JSON
// it was read from. The finish reasons every chunk ends with are shared.
func keep(r gjson.Result) string {
	s := r.String()
	switch s {
	case "":
		return ""
	case "stop", "length", "tool_calls", "content_filter":
		return finishReasons[s]
	}
	return strings.Clone(s)
}

var finishReasons = map[string]string{"stop": "stop", "length": "length", "tool_calls": "tool_calls", "content_filter": "content_filter"}
