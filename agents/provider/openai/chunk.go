package openai

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

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
	root := gjson.ParseBytes(data)
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
				ch.Error = json.RawMessage(value.Raw)
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
			out.FinishReason = value.String()
		case "delta":
			if !value.IsObject() {
				break
			}
			value.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "content":
					out.Delta.Content = v.String()
				case "refusal":
					out.Delta.Refusal = v.String()
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
	out.ID = tc.Get("id").String()
	fn := tc.Get("function")
	out.Function.Name = fn.Get("name").String()
	out.Function.Arguments = fn.Get("arguments").String()
	return out
}
