package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/atrium-hq/atrium/agents"
)

// completionStream writes one streamed completion as OpenAI does: a
// "data: {chunk}" event per piece of each choice, the choice's last chunk
// with its finish_reason, a usage chunk when asked for, then "data:
// [DONE]". A failure after the stream started is a "data: {"error": ...}"
// event and no [DONE], so no client takes a cut answer for a whole one.
//
// Nothing is sent before the model's first piece, so a model that fails at
// once (a rate limit, a refused request) still gets its HTTP status; but a
// model slow to start gets the 200 and a ": ping" comment when the ping
// interval passes, and so does any stream idle that long, so proxies keep
// the connection open.
//
// The transport, pings included, is sseStream; choices stream from their
// own goroutines (n > 1), so every write holds its mu. Chunks are built by
// hand into its reused buffer: the streaming loop allocates nothing per
// chunk.
type completionStream struct {
	*sseStream
	// head is every chunk's start, `{"id":…,"object":…,"created":…,"model":…,`.
	head []byte
	chat bool
	// callPrefix makes ids for tool calls whose upstream gave none.
	callPrefix string
	// choices is guarded by sseStream's mu.
	choices []streamChoice
	// headSent is set by the first chunk: the id may change until then
	// (setID). Guarded by sseStream's mu.
	headSent bool
	model    string
	created  int64
}

// streamChoice is what a choice's stream has sent so far.
type streamChoice struct {
	// role is whether its first chunk, with the role, is sent.
	role bool
	// calls[i] is whether tool call i's first piece (its id, type and
	// name) is sent.
	calls []bool
}

// newCompletionStream opens a stream of n choices; chat picks
// chat.completion.chunk over text_completion chunks.
func (s *server) newCompletionStream(w http.ResponseWriter, id, model string, created int64, n int, chat bool) *completionStream {
	c := &completionStream{chat: chat, choices: make([]streamChoice, n), model: model, created: created}
	c.setHead(id)
	c.sseStream = newSSEStream(w, "text/event-stream", s.streamPing())
	return c
}

// setHead builds the chunks' head for id.
func (c *completionStream) setHead(id string) {
	c.callPrefix = "call_" + id[len(id)-12:] + "_"
	object := "text_completion"
	if c.chat {
		object = "chat.completion.chunk"
	}
	c.head = append(c.head[:0], `{"id":`...)
	c.head = agents.AppendJSONString(c.head, id)
	c.head = append(c.head, `,"object":"`...)
	c.head = append(c.head, object...)
	c.head = append(c.head, `","created":`...)
	c.head = strconv.AppendInt(c.head, c.created, 10)
	c.head = append(c.head, `,"model":`...)
	c.head = agents.AppendJSONString(c.head, c.model)
	c.head = append(c.head, ',')
}

// setID makes id the stream's id, unless a chunk already carried another.
func (c *completionStream) setID(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.headSent {
		c.setHead(id)
	}
}

// chunkStart starts an event with the chunk's head. c.mu is held.
func (c *completionStream) chunkStart() {
	c.headSent = true
	c.buf = append(c.buf[:0], "data: "...)
	c.buf = append(c.buf, c.head...)
}

// chunkEnd ends a chunk whose choice is open after its delta or text, with
// finish (empty means null). c.mu is held.
func (c *completionStream) chunkEnd(finish string) {
	if c.chat {
		c.buf = append(c.buf, `},"logprobs":null,"finish_reason":`...)
	} else {
		c.buf = append(c.buf, `,"logprobs":null,"finish_reason":`...)
	}
	if finish == "" {
		c.buf = append(c.buf, "null"...)
	} else {
		c.buf = agents.AppendJSONString(c.buf, finish)
	}
	c.buf = append(c.buf, "}]}\n\n"...)
}

// choiceStart opens choice i's object up to its delta's fields (chat) or
// its text (text completion). c.mu is held.
func (c *completionStream) choiceStart(i int) {
	if c.chat {
		c.buf = append(c.buf, `"choices":[{"index":`...)
		c.buf = strconv.AppendInt(c.buf, int64(i), 10)
		c.buf = append(c.buf, `,"delta":{`...)
		return
	}
	c.buf = append(c.buf, `"choices":[{"index":`...)
	c.buf = strconv.AppendInt(c.buf, int64(i), 10)
	c.buf = append(c.buf, `,"text":`...)
}

// delta sends a piece of choice i's answer. It is a provider's emit.
func (c *completionStream) delta(i int, d agents.Delta) error {
	if d.ToolCall == nil && d.Text == "" {
		return nil
	}
	if d.ToolCall != nil && !c.chat {
		return nil // a text completion offers no tools
	}
	if tc := d.ToolCall; tc != nil && (tc.Index < 0 || tc.Index >= agents.MaxToolCalls) {
		// Providers refuse such an index; one that does not must not
		// size ch.calls.
		return fmt.Errorf("the model sent tool call index %d", tc.Index)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	ch := &c.choices[i]
	c.chunkStart()
	c.choiceStart(i)
	if !c.chat {
		c.buf = agents.AppendJSONString(c.buf, d.Text)
		c.chunkEnd("")
		return c.send()
	}
	if !ch.role {
		c.buf = append(c.buf, `"role":"assistant",`...)
		ch.role = true
	}
	if tc := d.ToolCall; tc != nil {
		c.buf = append(c.buf, `"tool_calls":[{"index":`...)
		c.buf = strconv.AppendInt(c.buf, int64(tc.Index), 10)
		first := tc.Index >= len(ch.calls) || !ch.calls[tc.Index]
		if first {
			// Clients (the AI SDK among them) want the id and the name
			// in a call's first piece.
			for tc.Index >= len(ch.calls) {
				ch.calls = append(ch.calls, false)
			}
			ch.calls[tc.Index] = true
			id := tc.ID
			if id == "" {
				id = c.callPrefix + strconv.Itoa(i) + "_" + strconv.Itoa(tc.Index)
			}
			c.buf = append(c.buf, `,"id":`...)
			c.buf = agents.AppendJSONString(c.buf, id)
			c.buf = append(c.buf, `,"type":"function","function":{"name":`...)
			c.buf = agents.AppendJSONString(c.buf, tc.Name)
			c.buf = append(c.buf, ',')
		} else {
			c.buf = append(c.buf, `,"function":{`...)
		}
		c.buf = append(c.buf, `"arguments":`...)
		c.buf = agents.AppendJSONString(c.buf, tc.Arguments)
		c.buf = append(c.buf, "}}]"...)
	} else {
		c.buf = append(c.buf, `"content":`...)
		c.buf = agents.AppendJSONString(c.buf, d.Text)
	}
	c.chunkEnd("")
	return c.send()
}

// finish sends choice i's last chunk, with its finish_reason.
func (c *completionStream) finish(i int, resp agents.ModelResponse) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := &c.choices[i]
	if c.chat && !ch.role {
		// An empty answer still has its role.
		c.chunkStart()
		c.choiceStart(i)
		c.buf = append(c.buf, `"role":"assistant","content":""`...)
		c.chunkEnd("")
		ch.role = true
		if err := c.send(); err != nil {
			return err
		}
	}
	c.chunkStart()
	c.choiceStart(i)
	if !c.chat {
		c.buf = append(c.buf, `""`...)
	}
	c.chunkEnd(oaiFinish(resp))
	return c.send()
}

// usage sends the usage chunk: no choices, the whole response's usage.
func (c *completionStream) usage(u agents.Usage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.chunkStart()
	c.buf = append(c.buf, `"choices":[],"usage":{"prompt_tokens":`...)
	c.buf = strconv.AppendInt(c.buf, int64(u.InputTokens), 10)
	c.buf = append(c.buf, `,"completion_tokens":`...)
	c.buf = strconv.AppendInt(c.buf, int64(u.OutputTokens), 10)
	c.buf = append(c.buf, `,"total_tokens":`...)
	c.buf = strconv.AppendInt(c.buf, int64(u.InputTokens+u.OutputTokens), 10)
	c.buf = append(c.buf, "}}\n\n"...)
	return c.send()
}

// done ends a whole stream.
func (c *completionStream) done() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf[:0], "data: [DONE]\n\n"...)
	return c.send()
}

// fail ends a stream that failed with an error event (and no [DONE]).
func (c *completionStream) fail(e *oaiError) {
	b, _ := json.Marshal(e.view())
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf[:0], "data: "...)
	c.buf = append(c.buf, b...)
	c.buf = append(c.buf, "\n\n"...)
	c.send()
}

// oaiFinish is a response's finish_reason; the agents Finish constants
// are OpenAI's words.
func oaiFinish(resp agents.ModelResponse) string {
	if resp.FinishReason == "" {
		if len(resp.ToolCalls) > 0 {
			return agents.FinishToolCalls
		}
		return agents.FinishStop
	}
	return resp.FinishReason
}
