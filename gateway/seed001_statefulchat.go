package gateway

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Seed 001's stateful chat, POST /v1/api/chat: {chatId, messages
// (UIMessage[]: {id, role, parts: [{type: "text", text}]}, or {role,
// content}), model, stream, streamType: "text" | "data", temperature,
// maxTokens}, or the short form {message, stream}. With an agent as the
// model, chatId names the agent's conversation (kept by the server, like
// seed 003's session): only the last user message is sent, and the agent's
// memory supplies the rest. With a catalogue model, the messages are the
// conversation. Errors are seed 001's {"error": {type, message, code}}.

// uiMessage is a UIMessage (the Vercel AI SDK's) or a plain message.
type uiMessage struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Content string `json:"content"`
	Parts   []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"parts"`
}

func (m uiMessage) text() string {
	if len(m.Parts) == 0 {
		return m.Content
	}
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

type statefulChatRequest struct {
	ChatID      string      `json:"chatId"`
	Messages    []uiMessage `json:"messages"`
	Message     string      `json:"message"`
	Model       string      `json:"model"`
	Stream      bool        `json:"stream"`
	StreamType  string      `json:"streamType"`
	Temperature *float64    `json:"temperature"`
	MaxTokens   *int        `json:"maxTokens"`
}

// check validates the sampling settings as the completions endpoints do.
func (req *statefulChatRequest) check() error {
	if req.StreamType != "" && req.StreamType != "text" && req.StreamType != "data" {
		return oaiInvalidParam("invalid_parameter", "streamType", `streamType must be "text" or "data".`)
	}
	if t := req.Temperature; t != nil && (*t < 0 || *t > 2) {
		return oaiInvalidParam("invalid_value", "temperature", fmt.Sprintf("Invalid 'temperature': %g is out of range. Expected a value between 0 and 2.", *t))
	}
	if n := req.MaxTokens; n != nil && *n < 1 {
		return oaiInvalidParam("invalid_value", "maxTokens", fmt.Sprintf("Invalid 'maxTokens': expected a value >= 1, got %d.", *n))
	}
	return nil
}

// chatError writes seed 001's error shape.
func chatError(w http.ResponseWriter, status int, typ, message, code string) {
	writeJSON(w, status, (&oaiError{Status: status, Type: typ, Code: code, Message: message}).view())
}

// chatFail writes err in seed 001's shape (as the OpenAI-compatible
// endpoints do).
func (s *server) chatFail(w http.ResponseWriter, r *http.Request, err error) {
	s.writeOAIError(w, r, err)
}

// chatCaller is who calls seed 001's chat: a user (JWT or user key), or an
// agent key (which reaches its agent only).
type chatCaller struct {
	user  workspaces.UserID
	agent *agents.Agent
}

func (s *server) chatAuth(r *http.Request) (chatCaller, error) {
	if key := agentKey(r); key != "" {
		a, _, err := s.Agents.ResolveKey(r.Context(), key)
		if err != nil {
			return chatCaller{}, err
		}
		return chatCaller{user: a.Owner, agent: &a}, s.checkRate("", key)
	}
	// A user's key or login token: as the completions endpoints take it.
	c, err := s.oaiCaller(r)
	return chatCaller{user: c.User}, err
}

// handleStatefulChat is POST /v1/api/chat.
func (s *server) handleStatefulChat() http.Handler {
	// A catalogue model's conversations by chatId (an agent's live in its
	// conversation): kept as stored responses are, on every node.
	store := newResponseStore(responseStoreConfig{Durable: s.durableResponses()})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.chatAuth(r)
		if err != nil {
			s.chatFail(w, r, err)
			return
		}
		var req statefulChatRequest
		if err := s.decodeOAI(w, r, &req); err != nil {
			s.chatFail(w, r, err)
			return
		}
		if err := req.check(); err != nil {
			s.chatFail(w, r, err)
			return
		}
		var msgs []agents.ModelMessage
		lastEmpty := false // the last message has no text
		for _, m := range req.Messages {
			switch m.Role {
			case agents.RoleUser, agents.RoleAssistant, agents.RoleSystem:
			default:
				chatError(w, http.StatusBadRequest, oaiInvalidRequest, "Each message's role must be user, assistant or system", "invalid_parameter")
				return
			}
			t := m.text()
			if lastEmpty = t == ""; !lastEmpty {
				msgs = append(msgs, agents.ModelMessage{Role: m.Role, Content: t})
			}
		}
		if req.Message != "" {
			msgs, lastEmpty = append(msgs, agents.ModelMessage{Role: agents.RoleUser, Content: req.Message}), false
		}
		switch {
		case lastEmpty:
			chatError(w, http.StatusBadRequest, oaiInvalidRequest, `The last message has no text: send it as "content" or as parts of {"type": "text", "text"}`, "missing_parameter")
			return
		case len(msgs) == 0 || msgs[len(msgs)-1].Role != agents.RoleUser:
			chatError(w, http.StatusBadRequest, oaiInvalidRequest, "The conversation must end with a user message", "missing_parameter")
			return
		}
		// The model: an agent (the key's own, or the caller's by id), or a
		// catalogue model.
		var agent *agents.Agent
		switch {
		case caller.agent != nil && (req.Model == "" || req.Model == string(caller.agent.ID) || strings.EqualFold(req.Model, caller.agent.Name)):
			agent = caller.agent
		case caller.agent != nil:
			chatError(w, http.StatusNotFound, oaiInvalidRequest, "The model '"+req.Model+"' does not exist or you do not have access to it: this API key reaches only its own agent ('"+string(caller.agent.ID)+"')", "model_not_found")
			return
		case req.Model == "":
			chatError(w, http.StatusBadRequest, oaiInvalidRequest, "Agent ID is required", "missing_parameter")
			return
		case s.Catalogue != nil && s.catalogueHas(req.Model):
			if !s.Catalogue.Available(req.Model) {
				s.chatFail(w, r, oaiInvalidParam("model_not_available", "model", s.Catalogue.Why(req.Model)))
				return
			}
		default:
			a, err := s.Agents.Owned(r.Context(), caller.user, agents.ID(req.Model))
			if err != nil {
				s.chatFail(w, r, &oaiError{Status: http.StatusNotFound, Type: oaiInvalidRequest, Code: "model_not_found", Param: "model",
					Message: "No agent or model named '" + req.Model + "' (see GET /v1/api/models)."})
				return
			}
			agent = &a
		}
		chat := &chatStream{w: w, ping: s.streamPing(), data: req.StreamType != "text", on: req.Stream}
		defer chat.close() // when a provider panics, too
		if agent != nil {
			s.statefulAgentChat(r, chat, *agent, req, msgs)
			return
		}
		s.statefulModelChat(r, chat, store, caller.user, req, msgs)
	})
}

func (s *server) catalogueHas(model string) bool {
	_, ok := s.Catalogue.Lookup(model)
	return ok
}

// statefulAgentChat asks the agent in the conversation chatId names.
func (s *server) statefulAgentChat(r *http.Request, chat *chatStream, a agents.Agent, req statefulChatRequest, msgs []agents.ModelMessage) {
	q := agents.Ask{Agent: a, Content: msgs[len(msgs)-1].Content, Source: "chat-api", Session: req.ChatID}
	if req.ChatID == "" {
		q.Preamble = msgs[:len(msgs)-1]
	}
	asked, err := s.Conversations.Ask(r.Context(), q)
	if err != nil {
		s.chatFail(chat.w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), syncAnswerTimeout)
	defer cancel()
	var delta func(string) error
	if chat.on {
		chat.start()
		delta = chat.delta
	}
	res, err := s.Conversations.Await(ctx, a.ID, asked.Workspace, asked.Conversation, asked.Request, asked.Seq, delta)
	meta := map[string]any{"model": a.ID, "chatId": req.ChatID, "conversationId": asked.Conversation, "executionId": asked.Request}
	switch {
	case err != nil:
		chat.fail(r, s, workspaces.E(workspaces.KindUnavailable, "The agent is still answering; its answer stays in the conversation"))
	case res.Status != agents.RunCompleted:
		chat.fail(r, s, workspaces.E(workspaces.KindInternal, "The agent could not answer: "+res.Error))
	default:
		meta["tokensUsed"], meta["finishReason"] = res.Usage.InputTokens+res.Usage.OutputTokens, "stop"
		chat.done("msg_"+string(asked.Request), res.Answer, string(asked.Request), meta)
	}
}

// statefulModelChat answers with a catalogue model directly; a client that
// leaves cancels the model call. As on the completions endpoints, the
// caller pays: refused with 402 when out of credits, charged for what the
// model produced (also when the client left half-way).
//
// With a chatId the conversation is kept (24 hours): a request that sends
// only its new message gets the earlier ones before it, and one that sends
// several is taken as the whole conversation (as the AI SDK's useChat
// sends it).
func (s *server) statefulModelChat(r *http.Request, chat *chatStream, store *responseStore, user workspaces.UserID, req statefulChatRequest, msgs []agents.ModelMessage) {
	m, _ := s.Catalogue.Lookup(req.Model)
	provider, upstream, _ := s.Catalogue.Provider(m.Name)
	if err := s.Workspaces.CheckCredits(r.Context(), user); err != nil {
		s.chatFail(chat.w, r, err)
		return
	}
	owner, key := storeOwner(apiCaller{User: user}), "chat-api:"+req.ChatID
	if req.ChatID != "" && len(msgs) == 1 {
		if earlier, ok := store.get(r.Context(), owner, key); ok {
			msgs = append(slices.Clip(earlier), msgs...) // stored entries are shared: copy
		}
	}
	t := modelTarget{Name: m.Name, Model: m, Provider: provider, Upstream: upstream}
	reqs := []agents.ModelRequest{{Model: upstream, Messages: msgs, Temperature: req.Temperature}}
	if req.MaxTokens != nil {
		reqs[0].MaxTokens = *req.MaxTokens
	}
	var sink choiceSink
	if chat.on {
		chat.start()
		sink = chatModelSink{chat}
	}
	results := runChoices(r.Context(), t, reqs, sink)
	usage := totalUsage(reqs, results)
	err := firstFailure(results)
	s.recordUsage(r, apiCaller{User: user}, t, usage, err)
	if err != nil {
		if r.Context().Err() == nil {
			chat.fail(r, s, err) // the upstream's 429 stays a 429
		}
		return
	}
	resp := results[0].resp
	if req.ChatID != "" {
		kept := append(slices.Clip(msgs), agents.ModelMessage{Role: agents.RoleAssistant, Content: resp.Text})
		if err := store.keep(r.Context(), owner, map[string][]agents.ModelMessage{key: kept}); err != nil {
			s.Logger.Warn("keep a chat API conversation", "err", err) // memory has it
		}
	}
	id := "msg_" + workspaces.NewID()
	chat.done(id, resp.Text, id, map[string]any{"model": req.Model, "tokensUsed": usage.InputTokens + usage.OutputTokens, "finishReason": resp.FinishReason, "chatId": req.ChatID})
}

// chatModelSink streams a model's answer (runChoices' one choice) into a
// chat stream: its text only, since the chat API offers no tools.
type chatModelSink struct{ c *chatStream }

func (k chatModelSink) delta(_ int, d agents.Delta) error {
	if d.Text == "" {
		return nil
	}
	return k.c.delta(d.Text)
}

func (chatModelSink) finish(int, agents.ModelResponse) error { return nil }

// chatStream writes seed 001's chat answer: one JSON message, or a stream
// of {"type": "content", "delta"} … {"type": "done"} events (streamType
// "data"), or of the bare text (streamType "text"). As on the completions
// endpoints, a stream sends its status with its first piece, so a model
// that fails before it (a rate limit, a refused request) still gets its
// own HTTP status; an event stream slow to start pings (sseStream), which
// makes it a 200. A bare text stream cannot ping, since a comment would be
// part of the text.
type chatStream struct {
	w    http.ResponseWriter
	ping time.Duration
	data bool
	on   bool
	// sse is the stream once start has made it; nil before.
	sse *sseStream
}

func (c *chatStream) start() {
	if c.data {
		c.sse = newSSEStream(c.w, "text/event-stream", c.ping)
	} else {
		c.sse = newSSEStream(c.w, "text/plain; charset=utf-8", 0)
	}
}

// close stops the pings.
func (c *chatStream) close() {
	if c.sse != nil {
		c.sse.close()
	}
}

func (c *chatStream) delta(text string) error {
	if c.data {
		return c.sse.event(map[string]string{"type": "content", "delta": text})
	}
	return c.sse.write([]byte(text))
}

func (c *chatStream) done(id, text, execution string, meta map[string]any) {
	switch {
	case c.sse == nil:
		writeJSON(c.w, http.StatusOK, map[string]any{"id": id, "role": "assistant",
			"parts": []map[string]string{{"type": "text", "text": text}}, "metadata": meta})
	case c.data:
		c.sse.event(map[string]any{"type": "done", "execution_id": execution, "metadata": meta})
	default:
		c.sse.open() // an empty answer still has its status
	}
}

// fail reports err: as an error response before the stream started, as an
// error event after (so a cut answer is never mistaken for a whole one).
func (c *chatStream) fail(r *http.Request, s *server, err error) {
	if c.sse != nil {
		c.sse.close() // no ping may start the response now
	}
	if c.sse == nil || !c.sse.Started() {
		s.chatFail(c.w, r, err)
		return
	}
	if c.data {
		e := s.asOAIError(r, err)
		c.sse.event(map[string]any{"type": "error", "error": map[string]string{"type": e.Type, "message": e.Message, "code": e.Code}})
		return
	}
	// Bare text has no way to say it: break the connection instead.
	panic(http.ErrAbortHandler)
}
