package gateway

import (
	"net/http"
	"strconv"

	"github.com/atrium-hq/atrium/agents"
)

// responseStream writes a streamed Response as OpenAI does: server-sent
// events "event: <type>\ndata: {"type": <type>, "sequence_number": n,
// ...}", in this order:
//
//	response.created, response.in_progress (the response, in_progress)
//	for the answer's text, a message item:
//	  response.output_item.added, response.content_part.added,
//	  response.output_text.delta ..., response.output_text.done,
//	  response.content_part.done, response.output_item.done
//	for each call, a function_call item:
//	  response.output_item.added, response.function_call_arguments.delta ...,
//	  response.function_call_arguments.done, response.output_item.done
//	response.completed (or response.incomplete): the whole response, usage
//	included
//
// A failure after the stream started is an "error" event, then
// response.failed, and no response.completed, so no client takes a cut
// answer for a whole one (the openai SDKs throw on the error event; the
// AI SDK reports it).
//
// The transport is the chat completions' (completionStream): nothing is
// sent before the model's first piece, so a model that fails at once
// still gets its HTTP status, and ": ping" comments keep an idle stream
// open. The text message closes when the first call starts (text after
// the calls is a new message); calls stay open until the answer ends,
// since a model may stream pieces of several at once.
type responseStream struct {
	// sse is the transport; its mu guards the fields below too, and its
	// buf holds the events being written.
	sse *completionStream
	// resp is the response before it has an answer.
	resp oaiResponse

	// seq numbers the events.
	seq int
	// opened is whether response.created and response.in_progress are
	// sent.
	opened bool
	items  []streamItem
	// msg is the index in items of the open message, or -1.
	msg int
	// calls maps a tool call's index (agents.ToolCallDelta.Index) to its
	// item.
	calls map[int]int
}

// streamItem is an output item as it streams.
type streamItem struct {
	responseItem
	text []byte // a message's text, or a call's arguments
	open bool
}

var _ choiceSink = (*responseStream)(nil)

func (s *server) newResponseStream(w http.ResponseWriter, resp oaiResponse) *responseStream {
	return &responseStream{sse: s.newCompletionStream(w, resp.ID, resp.Model, resp.CreatedAt, 1, true), resp: resp, msg: -1}
}

// Started reports whether the response's status is sent: after that,
// errors go in the stream.
func (rs *responseStream) Started() bool { return rs.sse.Started() }

// clientGone reports whether a write to the client failed.
func (rs *responseStream) clientGone() bool { return rs.sse.clientGone() }

// close stops the pings.
func (rs *responseStream) close() { rs.sse.close() }

// item returns the item with its text or arguments so far.
func (it *streamItem) item() responseItem {
	out := it.responseItem
	if out.Call {
		out.Arguments = string(it.text)
	} else {
		out.Text = string(it.text)
	}
	return out
}

// event starts an event of type typ in buf, up to its sequence number.
// mu is held.
func (rs *responseStream) event(typ string) {
	rs.sse.buf = append(rs.sse.buf, "event: "...)
	rs.sse.buf = append(rs.sse.buf, typ...)
	rs.sse.buf = append(rs.sse.buf, "\ndata: {\"type\":\""...)
	rs.sse.buf = append(rs.sse.buf, typ...)
	rs.sse.buf = append(rs.sse.buf, `","sequence_number":`...)
	rs.sse.buf = strconv.AppendInt(rs.sse.buf, int64(rs.seq), 10)
	rs.seq++
}

// end ends an event. mu is held.
func (rs *responseStream) end() { rs.sse.buf = append(rs.sse.buf, "}\n\n"...) }

// str, num and raw add a field to an event. mu is held.
func (rs *responseStream) str(key, v string) {
	rs.sse.buf = append(rs.sse.buf, `,"`...)
	rs.sse.buf = append(rs.sse.buf, key...)
	rs.sse.buf = append(rs.sse.buf, `":`...)
	rs.sse.buf = agents.AppendJSONString(rs.sse.buf, v)
}

func (rs *responseStream) num(key string, v int) {
	rs.sse.buf = append(rs.sse.buf, `,"`...)
	rs.sse.buf = append(rs.sse.buf, key...)
	rs.sse.buf = append(rs.sse.buf, `":`...)
	rs.sse.buf = strconv.AppendInt(rs.sse.buf, int64(v), 10)
}

func (rs *responseStream) raw(key string, v []byte) {
	rs.sse.buf = append(rs.sse.buf, `,"`...)
	rs.sse.buf = append(rs.sse.buf, key...)
	rs.sse.buf = append(rs.sse.buf, `":`...)
	rs.sse.buf = append(rs.sse.buf, v...)
}

// open sends response.created and response.in_progress, once. mu is held.
func (rs *responseStream) open() {
	if rs.opened {
		return
	}
	rs.opened = true
	resp := marshalJSON(&rs.resp)
	for _, typ := range []string{"response.created", "response.in_progress"} {
		rs.event(typ)
		rs.raw("response", resp)
		rs.end()
	}
}

// itemEvent writes response.output_item.added or .done for item i.
// mu is held.
func (rs *responseStream) itemEvent(typ string, i int, status string) {
	it := rs.items[i].item()
	rs.event(typ)
	rs.num("output_index", i)
	rs.raw("item", marshalJSON(it.view(status)))
	rs.end()
}

// openMessage starts a message item. mu is held.
func (rs *responseStream) openMessage() {
	rs.msg = len(rs.items)
	rs.items = append(rs.items, streamItem{responseItem: responseItem{ID: newOAIID("msg_")}, open: true})
	rs.itemEvent("response.output_item.added", rs.msg, respInProgress)
	rs.event("response.content_part.added")
	rs.str("item_id", rs.items[rs.msg].ID)
	rs.num("output_index", rs.msg)
	rs.num("content_index", 0)
	rs.raw("part", []byte(`{"type":"output_text","text":"","annotations":[],"logprobs":[]}`))
	rs.end()
}

// closeMessage ends the open message item. mu is held.
func (rs *responseStream) closeMessage(status string) {
	i := rs.msg
	rs.msg = -1
	it := &rs.items[i]
	it.open = false
	rs.event("response.output_text.done")
	rs.str("item_id", it.ID)
	rs.num("output_index", i)
	rs.num("content_index", 0)
	rs.str("text", string(it.text))
	rs.raw("logprobs", []byte("[]"))
	rs.end()
	rs.event("response.content_part.done")
	rs.str("item_id", it.ID)
	rs.num("output_index", i)
	rs.num("content_index", 0)
	rs.raw("part", marshalJSON(outputText(string(it.text))))
	rs.end()
	rs.itemEvent("response.output_item.done", i, status)
}

// closeCall ends call item i. mu is held.
func (rs *responseStream) closeCall(i int, status string) {
	it := &rs.items[i]
	it.open = false
	rs.event("response.function_call_arguments.done")
	rs.str("item_id", it.ID)
	rs.num("output_index", i)
	rs.str("name", it.Name)
	rs.str("arguments", string(it.text))
	rs.end()
	rs.itemEvent("response.output_item.done", i, status)
}

// delta sends a piece of the answer. It is the provider's emit.
func (rs *responseStream) delta(_ int, d agents.Delta) error {
	if d.ToolCall == nil && d.Text == "" {
		return nil
	}
	rs.sse.mu.Lock()
	defer rs.sse.mu.Unlock()
	if rs.sse.err != nil {
		return rs.sse.err
	}
	rs.sse.buf = rs.sse.buf[:0]
	rs.open()
	if tc := d.ToolCall; tc != nil {
		if rs.msg >= 0 {
			rs.closeMessage(respCompleted)
		}
		i, ok := rs.calls[tc.Index]
		if !ok {
			callID := tc.ID
			if callID == "" {
				callID = newOAIID("call_")
			}
			i = len(rs.items)
			if rs.calls == nil {
				rs.calls = make(map[int]int)
			}
			rs.calls[tc.Index] = i
			rs.items = append(rs.items, streamItem{responseItem: responseItem{ID: newOAIID("fc_"), Call: true, CallID: callID, Name: tc.Name}, open: true})
			rs.itemEvent("response.output_item.added", i, respInProgress)
		}
		if tc.Arguments != "" {
			it := &rs.items[i]
			it.text = append(it.text, tc.Arguments...)
			rs.event("response.function_call_arguments.delta")
			rs.str("item_id", it.ID)
			rs.num("output_index", i)
			rs.str("delta", tc.Arguments)
			rs.end()
		}
		return rs.sse.send()
	}
	if rs.msg < 0 {
		rs.openMessage()
	}
	it := &rs.items[rs.msg]
	it.text = append(it.text, d.Text...)
	rs.event("response.output_text.delta")
	rs.str("item_id", it.ID)
	rs.num("output_index", rs.msg)
	rs.num("content_index", 0)
	rs.str("delta", d.Text)
	rs.raw("logprobs", []byte("[]"))
	rs.end()
	return rs.sse.send()
}

// finish ends the open items when the model has answered. An answer
// without any item gets an empty message, as a non-streamed one does.
func (rs *responseStream) finish(_ int, resp agents.ModelResponse) error {
	rs.sse.mu.Lock()
	defer rs.sse.mu.Unlock()
	rs.sse.buf = rs.sse.buf[:0]
	rs.open()
	status, _ := responseOutcome(resp.FinishReason)
	if len(rs.items) == 0 {
		rs.openMessage()
	}
	if rs.msg >= 0 {
		rs.closeMessage(status)
	}
	for i := range rs.items {
		if rs.items[i].open {
			rs.closeCall(i, status)
		}
	}
	return rs.sse.send()
}

// answer returns the items streamed, once the model has finished.
func (rs *responseStream) answer() []responseItem {
	rs.sse.mu.Lock()
	defer rs.sse.mu.Unlock()
	items := make([]responseItem, len(rs.items))
	for i := range rs.items {
		items[i] = rs.items[i].item()
	}
	return items
}

// complete ends a whole stream with the response: response.completed, or
// response.incomplete when the answer was cut.
func (rs *responseStream) complete(out oaiResponse) {
	rs.sse.mu.Lock()
	defer rs.sse.mu.Unlock()
	rs.sse.buf = rs.sse.buf[:0]
	typ := "response.completed"
	if out.Status == respIncomplete {
		typ = "response.incomplete"
	}
	rs.event(typ)
	rs.raw("response", marshalJSON(&out))
	rs.end()
	rs.sse.send()
}

// fail ends a stream that failed: an "error" event, in both the shape
// OpenAI documents (code, message, param) and the one its SDKs detect
// (an "error" object), then response.failed with what was answered.
func (rs *responseStream) fail(e *oaiError, usage agents.Usage) {
	rs.sse.mu.Lock()
	defer rs.sse.mu.Unlock()
	rs.sse.buf = rs.sse.buf[:0]
	rs.open()
	view := e.view().Error
	rs.event("error")
	rs.str("code", view.Code)
	rs.str("message", view.Message)
	rs.raw("param", marshalJSON(view.Param))
	rs.raw("error", marshalJSON(view))
	rs.end()
	out := rs.resp
	out.Status = respFailed
	out.Error = &oaiResponseError{Code: e.Code, Message: e.Message}
	out.Output = make([]any, len(rs.items))
	for i := range rs.items {
		it := rs.items[i].item()
		out.Output[i] = it.view(respIncomplete)
	}
	out.Usage = oaiResponseUsageView(usage)
	rs.event("response.failed")
	rs.raw("response", marshalJSON(&out))
	rs.end()
	rs.sse.send()
}
