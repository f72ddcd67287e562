package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/atrium-hq/atrium/agents"
)

// handleResponses is POST /v1/api/responses (under seed 001's base URL)
// and POST /v1/responses: OpenAI's Responses API, which the Vercel AI
// SDK's default model speaks (seed 001's createOpenAI({baseURL, apiKey})
// then ashna(modelId)), as does the openai npm package's
// client.responses.create. It answers with the models and agents the
// chat completions answer (completionTarget), streamed or not, with
// client-side function tools; what it answers is kept for later requests
// unless "store" is false (see responseStore).
func (s *server) handleResponses() http.Handler {
	store := newResponseStore(responseStoreConfig{Durable: s.durableResponses()})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.oaiCaller(r)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		var body oaiResponsesRequest
		if err := s.decodeOAI(w, r, &body); err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		req, turns, err := body.check()
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		owner := storeOwner(caller)
		var previous []agents.ModelMessage
		if id := body.PreviousResponseID; id != "" {
			var ok bool
			if previous, ok = store.get(r.Context(), owner, id); !ok {
				s.writeOAIError(w, r, oaiInvalidParam("previous_response_not_found", "previous_response_id",
					"Previous response with id '"+id+"' not found: this server keeps stored responses for a while. Send the whole conversation in 'input' instead."))
				return
			}
		}
		if req.Messages, err = resolve(r.Context(), store, owner, previous, turns); err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		t, err := s.completionTarget(r, caller, body.Model)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		req.Model = t.Upstream
		rc := responseCall{ctx: context.WithoutCancel(r.Context()), log: s.Logger, store: store, owner: owner, body: &body, req: req, base: newResponse(&body, t.Name)}
		s.respond(w, r, caller, t, rc)
	})
}

// responseCall is one request to answer.
type responseCall struct {
	// ctx is the request's, not cancelled with it: what was answered is
	// stored even when the client has gone.
	ctx   context.Context
	log   *slog.Logger
	store *responseStore
	owner string
	body  *oaiResponsesRequest
	req   agents.ModelRequest
	// base is the response before it has an answer (in_progress).
	base oaiResponse
}

// respond answers rc with t's model, as one Response object or streamed,
// records the usage, and keeps the answer when it is to be stored.
func (s *server) respond(w http.ResponseWriter, r *http.Request, caller apiCaller, t modelTarget, rc responseCall) {
	reqs := []agents.ModelRequest{rc.req}
	if !rc.body.Stream {
		results := runChoices(r.Context(), t, reqs, nil)
		usage := totalUsage(reqs, results)
		err := firstFailure(results)
		s.recordUsage(r, caller, t, usage, err)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		out := rc.finished(responseItems(results[0].resp), results[0].resp.FinishReason, usage)
		writeJSON(w, http.StatusOK, out)
		return
	}

	rs := s.newResponseStream(w, rc.base)
	defer rs.close() // when a provider panics, too
	results := runChoices(r.Context(), t, reqs, rs)
	// No ping from here on: it could start the response as a 200 while
	// an error is being written with its own status.
	rs.close()
	usage := totalUsage(reqs, results)
	err := firstFailure(results)
	s.recordUsage(r, caller, t, usage, err)
	switch {
	case err == nil:
		rs.complete(rc.finished(rs.answer(), results[0].resp.FinishReason, usage))
	case r.Context().Err() != nil || rs.clientGone():
		// The client left: nobody to tell.
	case rs.Started():
		rs.fail(s.asOAIError(r, err), usage)
	default:
		s.writeOAIError(w, r, err)
	}
}

// finished returns the whole response of items, and keeps it unless the
// request said not to store it.
func (rc *responseCall) finished(items []responseItem, finish string, usage agents.Usage) oaiResponse {
	out := rc.base
	out.Status, out.IncompleteDetails = responseOutcome(finish)
	if out.Status == respCompleted {
		now := time.Now().Unix()
		out.CompletedAt = &now
	}
	out.Output = make([]any, len(items))
	for i := range items {
		out.Output[i] = items[i].view(out.Status)
	}
	out.Usage = oaiResponseUsageView(usage)
	if rc.body.stores() {
		entries := make(map[string][]agents.ModelMessage, len(items)+1)
		for _, it := range items {
			entries[it.ID] = []agents.ModelMessage{itemTurn(it)}
		}
		// The request's messages are its own (resolve built them): the
		// store may keep them.
		entries[out.ID] = append(slices.Clip(rc.req.Messages), answered(items))
		if err := rc.store.keep(rc.ctx, rc.owner, entries); err != nil {
			rc.log.Warn("responses: store", "response", out.ID, "err", err)
		}
	}
	return out
}

// newResponse is the response to body before it is answered: what the
// stream's response.created shows, with the request's settings echoed as
// OpenAI does.
func newResponse(body *oaiResponsesRequest, model string) oaiResponse {
	out := oaiResponse{
		ID: newOAIID("resp_"), Object: "response", CreatedAt: time.Now().Unix(), Status: respInProgress,
		Instructions: body.Instructions, MaxOutputTokens: body.MaxOutputTokens, Model: model, Output: []any{},
		ParallelToolCalls: body.ParallelToolCalls == nil || *body.ParallelToolCalls, Store: body.stores(),
		Temperature: body.Temperature, TopP: body.TopP, Text: body.Text, ToolChoice: body.ToolChoice,
		Tools: body.Tools, Truncation: "disabled", User: body.User, Metadata: body.Metadata,
	}
	if body.PreviousResponseID != "" {
		out.PreviousResponseID = &body.PreviousResponseID
	}
	if rawNull(out.Text) {
		out.Text = json.RawMessage(`{"format":{"type":"text"}}`)
	}
	if rawNull(out.ToolChoice) {
		out.ToolChoice = json.RawMessage(`"auto"`)
	}
	if out.Tools == nil {
		out.Tools = []oaiResponsesTool{}
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	return out
}

// newOAIID returns a new id of a Response or of one of its items: prefix
// ("resp_", "msg_", "fc_", "call_") and 48 random hex digits, as OpenAI's.
// They are random from crypto/rand, since a stored item is found by its id.
func newOAIID(prefix string) string {
	var raw [24]byte
	rand.Read(raw[:])
	b := make([]byte, len(prefix)+hex.EncodedLen(len(raw)))
	copy(b, prefix)
	hex.Encode(b[len(prefix):], raw[:])
	return string(b)
}

// marshalJSON encodes v as writeJSON does (no HTML escaping), without the
// newline.
func marshalJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // the shapes here always encode
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// durableResponses is where stored responses outlive the node, when the
// server has a database for them.
func (s *server) durableResponses() responseDurable {
	if s.ResponseItems == nil {
		return nil
	}
	return s.ResponseItems
}
