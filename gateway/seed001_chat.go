package gateway

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// apiCaller is who sent a request to the OpenAI-compatible API.
type apiCaller struct {
	// User is set for a user API key (atk_…) or a login JWT.
	User workspaces.UserID
	// AgentKey is set, instead, for an agent API key (ata_…): it is
	// resolved only where agents are answered (see completionTarget).
	AgentKey string
}

// oaiCaller authenticates a request as OpenAI's clients send it,
// "Authorization: Bearer <key>", and counts it against the caller's rate
// limit. A user API key costs one SQL query (ResolveKey); a JWT none.
func (s *server) oaiCaller(r *http.Request) (apiCaller, error) {
	c, err := s.oaiIdentity(r)
	if err != nil {
		return c, err
	}
	return c, s.checkRate(c.User, c.AgentKey)
}

// oaiIdentity is oaiCaller without the rate limit.
func (s *server) oaiIdentity(r *http.Request) (apiCaller, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return apiCaller{}, &oaiError{Status: http.StatusUnauthorized, Type: oaiAuthentication, Code: "missing_api_key",
			Message: "You didn't provide an API key. Send it in an Authorization header using Bearer auth (Authorization: Bearer YOUR_KEY)."}
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return apiCaller{}, &oaiError{Status: http.StatusUnauthorized, Type: oaiAuthentication, Code: "invalid_api_key",
			Message: "Bad Authorization header: expected 'Authorization: Bearer YOUR_KEY'."}
	}
	if workspaces.IsKey(token, workspaces.AgentKey) {
		return apiCaller{AgentKey: token}, nil
	}
	user, err := s.bearerUser(r, token)
	if err != nil {
		if workspaces.ErrorKind(err) == workspaces.KindUnauthenticated {
			msg := "Incorrect API key provided."
			if m := workspaces.ErrorMessage(err); strings.Contains(m, "expired") {
				msg = "Incorrect API key provided: " + m + "." // a login token that has expired
			}
			return apiCaller{}, &oaiError{Status: http.StatusUnauthorized, Type: oaiAuthentication, Code: "invalid_api_key", Message: msg}
		}
		return apiCaller{}, err
	}
	return apiCaller{User: user}, nil
}

// modelTarget is what answers a completion request.
type modelTarget struct {
	// Name is the model's name in responses (the catalogue's spelling).
	Name string
	// Model is the catalogue entry (its prices, for credits).
	Model    agents.Model
	Provider agents.Provider
	// Upstream is the model's name at its provider.
	Upstream string
	// Agent is true when an agent answers: its runs pay for themselves.
	Agent bool
}

// completionTarget resolves a request's "model" for its caller. Today
// that is a catalogue model, answered directly: unknown models are 404
// model_not_found; a listed model that this server has no upstream for is
// 400 (not 503: it will not work until an operator configures the
// upstream, and OpenAI's clients retry every 5xx), with Catalogue.Why's
// reason.
func (s *server) completionTarget(r *http.Request, c apiCaller, model string) (modelTarget, error) {
	// An agent API key, or a model that is one of the caller's agents: the
	// agent answers (seed001_agent.go).
	if t, ok, err := s.agentTarget(r, c, model); ok || err != nil {
		return t, err
	}
	var m agents.Model
	ok := s.Catalogue != nil
	if ok {
		m, ok = s.Catalogue.Lookup(model)
	}
	if !ok {
		return modelTarget{}, &oaiError{Status: http.StatusNotFound, Type: oaiInvalidRequest, Code: "model_not_found", Param: "model",
			Message: "The model '" + model + "' does not exist or you do not have access to it (see GET /v1/models)."}
	}
	p, up, ok := s.Catalogue.Provider(m.Name)
	if !ok {
		return modelTarget{}, &oaiError{Status: http.StatusBadRequest, Type: oaiInvalidRequest, Code: "model_not_available", Param: "model",
			Message: s.Catalogue.Why(m.Name)}
	}
	if err := s.Workspaces.CheckCredits(r.Context(), c.User); err != nil {
		return modelTarget{}, err
	}
	return modelTarget{Name: m.Name, Model: m, Provider: p, Upstream: up}, nil
}

// handleChatCompletions is POST /v1/api/chat/completions (seed 001) and
// POST /v1/chat/completions: OpenAI's chat completions, streamed or not,
// with n choices and client-side tools.
func (s *server) handleChatCompletions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.oaiCaller(r)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		var body oaiChatRequest
		if err := s.decodeOAI(w, r, &body); err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		req, n, err := body.modelRequest()
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		t, err := s.completionTarget(r, caller, body.Model)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		req.Model = t.Upstream
		reqs := make([]agents.ModelRequest, n)
		for i := range reqs {
			reqs[i] = req
		}
		s.complete(w, r, caller, t, reqs, true, body.Stream, body.includeUsage())
	})
}

// handleCompletions is POST /v1/api/completions (seed 001) and POST
// /v1/completions: OpenAI's legacy text completions. Each prompt is asked
// as a user message; a prompt array gets prompts × n choices, prompt i's
// at indexes i×n to i×n+n-1.
func (s *server) handleCompletions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := s.oaiCaller(r)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		var body oaiCompletionRequest
		if err := s.decodeOAI(w, r, &body); err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		req, n, err := body.params()
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		texts, err := promptList(body.Prompt)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		if len(texts)*n > maxOAIJobs {
			s.writeOAIError(w, r, oaiInvalidParam("invalid_value", "prompt", fmt.Sprintf("Too many completions in one request: prompts × n must be at most %d.", maxOAIJobs)))
			return
		}
		t, err := s.completionTarget(r, caller, body.Model)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		req.Model = t.Upstream
		reqs := make([]agents.ModelRequest, 0, len(texts)*n)
		for _, p := range texts {
			one := req
			one.Messages = []agents.ModelMessage{{Role: agents.RoleUser, Content: p}}
			for range n {
				reqs = append(reqs, one)
			}
		}
		s.complete(w, r, caller, t, reqs, false, body.Stream, body.includeUsage())
	})
}

// choiceSink receives the choices' answers as they stream.
type choiceSink interface {
	delta(i int, d agents.Delta) error
	finish(i int, resp agents.ModelResponse) error
}

// choiceResult is how one choice ended.
type choiceResult struct {
	resp agents.ModelResponse
	err  error
	// out counts the bytes of text and arguments streamed, to estimate
	// usage when the provider reports none.
	out int
}

// runChoices asks t's model each of reqs at once: the first on the calling
// goroutine, the others on their own. The first failure cancels the rest.
// sink, if not nil, gets every piece from the choice's goroutine.
func runChoices(ctx context.Context, t modelTarget, reqs []agents.ModelRequest, sink choiceSink) []choiceResult {
	results := make([]choiceResult, len(reqs))
	run := func(ctx context.Context, i int) (err error) {
		res := &results[i]
		defer func() {
			// Choices after the first run on goroutines of their own,
			// out of the server's reach: a panic is this choice's error.
			if p := recover(); p != nil {
				res.err = fmt.Errorf("choice %d: panic: %v", i, p)
				err = res.err
			}
		}()
		if sink == nil {
			// Nobody watches the answer arrive: one piece costs less.
			res.resp, res.err = agents.Complete(ctx, t.Provider, reqs[i])
			if res.err == nil {
				res.out = len(res.resp.Text)
				for _, c := range res.resp.ToolCalls {
					res.out += len(c.Name) + len(c.Arguments)
				}
			}
			return res.err
		}
		res.resp, res.err = t.Provider.Stream(ctx, reqs[i], func(d agents.Delta) error {
			res.out += len(d.Text)
			if d.ToolCall != nil {
				res.out += len(d.ToolCall.Arguments) + len(d.ToolCall.Name)
			}
			return sink.delta(i, d)
		})
		if res.err == nil {
			res.err = sink.finish(i, res.resp)
		}
		return res.err
	}
	if len(reqs) == 1 {
		run(ctx, 0)
		return results
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := 1; i < len(reqs); i++ {
		wg.Go(func() {
			if run(ctx, i) != nil {
				cancel()
			}
		})
	}
	if run(ctx, 0) != nil {
		cancel()
	}
	wg.Wait()
	return results
}

// firstFailure returns the error that ended a request: a choice's own
// failure rather than the cancellation it caused in the others.
func firstFailure(results []choiceResult) error {
	var canceled error
	for _, res := range results {
		if res.err == nil {
			continue
		}
		if !errors.Is(res.err, context.Canceled) {
			return res.err
		}
		canceled = res.err
	}
	return canceled
}

// complete answers reqs (one per choice) with t's model, streamed or as
// one JSON response, then records the usage.
func (s *server) complete(w http.ResponseWriter, r *http.Request, caller apiCaller, t modelTarget, reqs []agents.ModelRequest, chat, stream, includeUsage bool) {
	id := completionID(chat)
	created := time.Now().Unix()
	var results []choiceResult
	ctx := r.Context()
	var asked sync.Once // the first choice's run names the completion
	var askedID string
	if t.Agent {
		ctx = context.WithValue(ctx, askedKey{}, func(run agents.RunID) {
			asked.Do(func() { askedID = agentCompletionID(chat, run) })
		})
	}
	if !stream {
		results = runChoices(ctx, t, reqs, nil)
		if askedID != "" {
			id = askedID
		}
		usage := totalUsage(reqs, results)
		err := firstFailure(results)
		s.recordUsage(r, caller, t, usage, err)
		if err != nil {
			s.writeOAIError(w, r, err)
			return
		}
		if chat {
			writeJSON(w, http.StatusOK, oaiChatCompletionView(id, created, t.Name, results, usage))
		} else {
			writeJSON(w, http.StatusOK, oaiTextCompletionView(id, created, t.Name, results, usage))
		}
		return
	}

	cs := s.newCompletionStream(w, id, t.Name, created, len(reqs), chat)
	defer cs.close() // when a provider panics, too
	if t.Agent {
		ctx = context.WithValue(r.Context(), askedKey{}, func(run agents.RunID) {
			asked.Do(func() { cs.setID(agentCompletionID(chat, run)) })
		})
	}
	results = runChoices(ctx, t, reqs, cs)
	// No ping from here on: it could start the response as a 200 while
	// an error is being written with its own status.
	cs.close()
	usage := totalUsage(reqs, results)
	err := firstFailure(results)
	s.recordUsage(r, caller, t, usage, err)
	switch {
	case err == nil:
		if includeUsage {
			cs.usage(usage)
		}
		cs.done()
	case r.Context().Err() != nil || cs.clientGone():
		// The client left: nobody to tell.
	case cs.Started():
		cs.fail(s.asOAIError(r, err))
	default:
		s.writeOAIError(w, r, err)
	}
}

// completionID returns a new response id, "chatcmpl-…" or "cmpl-…".
func completionID(chat bool) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var raw [24]byte
	binary.LittleEndian.PutUint64(raw[0:], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[16:], rand.Uint64())
	prefix := "cmpl-"
	if chat {
		prefix = "chatcmpl-"
	}
	b := make([]byte, len(prefix), len(prefix)+len(raw))
	copy(b, prefix)
	for _, c := range raw {
		b = append(b, alphabet[int(c)%len(alphabet)])
	}
	return string(b)
}

// totalUsage adds up the choices' usage. A provider that reports no
// tokens gets an estimate of about 4 bytes a token, so usage (and later
// credits) never reads zero for work done. Each choice is its own upstream
// call, so n choices count their prompt n times.
func totalUsage(reqs []agents.ModelRequest, results []choiceResult) agents.Usage {
	var total agents.Usage
	for i, res := range results {
		u := res.resp.Usage
		if u.InputTokens == 0 {
			u.InputTokens = estimateTokens(promptBytes(reqs[i]))
		}
		if u.OutputTokens == 0 {
			u.OutputTokens = estimateTokens(res.out)
		}
		total = total.Add(u)
	}
	return total
}

// promptBytes is the size of what a request sends the model.
func promptBytes(req agents.ModelRequest) int {
	n := len(req.System)
	for _, m := range req.Messages {
		n += len(m.Content)
		for _, tc := range m.ToolCalls {
			n += len(tc.Name) + len(tc.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	return n
}

func estimateTokens(bytes int) int { return (bytes + 3) / 4 }

// recordUsage charges a direct model call to its caller, at the model's
// per-token prices (what it produced is billed even when the request
// failed half-way: the upstream billed it too), and logs it. An agent's
// runs are charged to its owner by the runner instead.
func (s *server) recordUsage(r *http.Request, c apiCaller, t modelTarget, u agents.Usage, err error) {
	s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "model usage",
		slog.String("user", string(c.User)),
		slog.String("model", t.Name),
		slog.String("upstream", t.Model.Upstream),
		slog.Int("prompt_tokens", u.InputTokens),
		slog.Int("completion_tokens", u.OutputTokens),
		slog.Bool("ok", err == nil))
	if t.Agent || c.User == "" {
		return
	}
	s.charge(r, c.User, t.Model.Credits(agents.PlanDedicated, u), "model "+t.Name, "")
}
