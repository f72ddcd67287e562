package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/atrium-hq/atrium/agents"
)

// complete makes one request that is not streamed and reads its answer, a
// chat.completion object.
func (c *call) complete(body []byte) (agents.ModelResponse, error) {
	res, err := c.send(body, false)
	if err != nil {
		return agents.ModelResponse{}, err
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "text/event-stream" {
		// A server (or a proxy before it) that streams whatever it is
		// asked: the stream has the same answer.
		return c.read(res, func(agents.Delta) error { return nil })
	}
	defer res.Body.Close()
	buf := answerBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			answerBuffers.Put(buf)
		}
	}()
	if n := res.ContentLength; n > 0 && n <= maxAnswerBody {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(res.Body, maxAnswerBody+1)); err != nil {
		return agents.ModelResponse{}, c.fail(err)
	}
	if buf.Len() > maxAnswerBody {
		return agents.ModelResponse{}, c.fail(errors.New("the answer is over 32 MiB"))
	}
	data := buf.Bytes() // decodeCompletion keeps nothing of it

	var a answer
	failure, err := decodeCompletion(data, &a)
	if err != nil {
		return agents.ModelResponse{}, c.failAnswer(err)
	}
	if failure != "" {
		return agents.ModelResponse{}, c.failEvent(json.RawMessage(failure))
	}
	if !a.finished {
		return agents.ModelResponse{}, &agents.ModelError{
			Provider: c.p.cfg.Name,
			Message:  "the answer has no choices",
		}
	}
	return a.response(), nil
}

// answerBuffers recycles the buffers answers are read into.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// failAnswer is the error of an answer that could not be read.
func (c *call) failAnswer(err error) error {
	if e := c.interrupted(); e != nil {
		return e
	}
	return &agents.ModelError{Provider: c.p.cfg.Name, Err: err, Message: "the model sent a malformed answer: " + err.Error()}
}

// decodeCompletion reads the first choice and the usage of a
// chat.completion into a, with one gjson walk as decodeChunk does, and
// returns the answer's error object, if it has one, as JSON. a is
// finished when the answer has its choice.
func decodeCompletion(data []byte, a *answer) (failure string, err error) {
	if !utf8.Valid(data) {
		data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	}
	if !gjson.ValidBytes(data) {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return "", err
		}
	}
	root := gjson.Parse(view(data)) // strings kept are cloned (keep)
	if !root.IsObject() {
		return "", errors.New("the answer is not a JSON object")
	}
	var choices gjson.Result
	root.ForEach(func(key, value gjson.Result) bool {
		switch key.Str {
		case "usage":
			if value.IsObject() {
				a.usage = agents.Usage{
					InputTokens:  int(value.Get("prompt_tokens").Int()),
					OutputTokens: int(value.Get("completion_tokens").Int()),
				}
			}
		case "choices":
			choices = value
		case "error":
			if value.Type != gjson.Null {
				failure = strings.Clone(value.Raw)
			}
		}
		return true
	})
	choices.ForEach(func(_, choice gjson.Result) bool {
		if !choice.IsObject() || choice.Get("index").Int() != 0 {
			return true // we ask for one choice; n > 1 is not ours
		}
		msg := choice.Get("message")
		for _, field := range []string{"content", "refusal"} {
			if v := msg.Get(field); v.Type == gjson.String {
				a.text.WriteString(v.Str)
			}
		}
		i := 0
		msg.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
			fn := tc.Get("function")
			args := fn.Get("arguments")
			call := chunkCall{Index: &i, ID: keep(tc.Get("id"))}
			call.Function.Name = keep(fn.Get("name"))
			if args.Type == gjson.String {
				call.Function.Arguments = args.Str
			} else if args.IsObject() {
				// Some servers (Ollama's older releases) send the
				// arguments as an object rather than its text.
				call.Function.Arguments = args.Raw
			}
			if _, err = a.toolCall(call); err != nil {
				return false
			}
			i++
			return true
		})
		if err != nil {
			return false
		}
		a.finish = keep(choice.Get("finish_reason"))
		a.finished = true
		return false
	})
	return failure, err
}
