package openai

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/agents"
)

// Defaults of a zero Config.
const (
	defaultBaseURL     = "https://api.openai.com/v1"
	defaultName        = "openai"
	defaultTimeout     = 10 * time.Minute
	defaultIdleTimeout = 60 * time.Second
	defaultMaxRetries  = 2
)

// Config says where the API is and how patient to be with it. The zero
// value talks to api.openai.com without a key.
type Config struct {
	// BaseURL is the API's root, up to and including its version, such as
	// "http://localhost:11434/v1" for Ollama; requests go to
	// BaseURL/chat/completions. Empty means "https://api.openai.com/v1".
	BaseURL string
	// APIKey is sent as "Authorization: Bearer APIKey". Empty sends no
	// Authorization header, which local servers are happy with. The
	// OPENAI_* environment variables are never read: a key meant for
	// api.openai.com must not leak to another BaseURL.
	APIKey string
	// HTTPClient makes the requests. Nil means Atrium's own HTTP/1.1
	// client (conn.go), or net/http's where a proxy is configured
	// (HTTPS_PROXY and the like). Leave its Timeout zero: it would cut
	// long streams; use Timeout instead.
	HTTPClient *http.Client
	// Timeout caps a whole call, retries and streaming included. Zero means
	// 10 minutes; negative means no cap beyond ctx's.
	Timeout time.Duration
	// IdleTimeout caps each wait for the server: for the response headers
	// and for every next piece of the stream. It fails a server that hangs
	// long before Timeout would. Time spent in emit does not count. Zero
	// means 60 seconds; negative means no cap.
	IdleTimeout time.Duration
	// Name names the provider in errors (agents.ModelError.Provider).
	// Empty means "openai".
	Name string
	// MaxRetries is how many times a call is tried again when it fails
	// before the model sent anything: connection errors and statuses 408,
	// 409, 429 and 5xx, waiting as Retry-After says or backing off. Once a
	// stream has started nothing is retried. Zero means 2; negative means
	// none.
	MaxRetries int
	// Headers are sent with every request, for gateways that want their
	// own (OpenRouter's HTTP-Referer, a proxy's tenant header, ...).
	Headers map[string]string
}

// Provider streams answers from an OpenAI-compatible chat-completions API.
// It is safe for concurrent use.
type Provider struct {
	cfg Config
	url string // BaseURL/chat/completions
	// headers are the headers of a request not streamed [0] and
	// streamed [1], copied for each request made with cfg.HTTPClient.
	headers [2]http.Header
	// direct, when not nil, makes the requests instead of cfg.HTTPClient.
	direct *direct
}

var (
	_ agents.Provider  = (*Provider)(nil)
	_ agents.Completer = (*Provider)(nil)
)

// New returns a provider for the API cfg describes, with cfg's zero fields
// set to their documented defaults.
func New(cfg Config) *Provider {
	if cfg.BaseURL == "" {
		cfg.BaseURL = defaultBaseURL
	}
	direct := cfg.HTTPClient == nil
	if cfg.HTTPClient == nil {
		// For a proxied server: a pool big enough for many concurrent
		// streams (http.DefaultClient keeps 2 idle connections per host).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 4096, 1024
		cfg.HTTPClient = &http.Client{Transport: tr}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.Name == "" {
		cfg.Name = defaultName
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = defaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	// A copy, so a caller changing its map later cannot race our reads.
	cfg.Headers = maps.Clone(cfg.Headers)

	p := &Provider{cfg: cfg, url: strings.TrimSuffix(cfg.BaseURL, "/") + "/chat/completions"}
	if direct {
		p.direct = newDirect(p.url)
	}
	p.headers[0] = p.baseHeader("application/json")
	p.headers[1] = p.baseHeader("text/event-stream")
	return p
}

// baseHeader is the header of every request that accepts accept. The
// OPENAI_* environment variables are never read.
func (p *Provider) baseHeader(accept string) http.Header {
	h := make(http.Header, 4+len(p.cfg.Headers))
	for k, v := range p.cfg.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", accept)
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", "Atrium")
	}
	if p.cfg.APIKey != "" {
		h.Set("Authorization", "Bearer "+p.cfg.APIKey)
	}
	return h
}

// Stream answers req, emitting text and tool-call pieces as they arrive.
//
// Besides the agents.Provider contract: an upstream HTTP error, an error
// sent inside the stream, a stream that ends before the model finished and
// a timeout (ModelError.Code "timeout", its Err a net.Error-style error
// whose Timeout method reports true) all come back as errors wrapping an
// *agents.ModelError.
func (p *Provider) Stream(ctx context.Context, req agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	return p.answer(ctx, req, func(c *call, body []byte) (agents.ModelResponse, error) {
		return c.stream(body, emit)
	}, true)
}

// Complete answers req in one piece, as agents.Completer says: one JSON
// answer to read rather than a chunk per token. Its errors are Stream's.
func (p *Provider) Complete(ctx context.Context, req agents.ModelRequest) (agents.ModelResponse, error) {
	return p.answer(ctx, req, (*call).complete, false)
}

// bodies recycles request bodies.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// answer makes the call of Stream or Complete.
func (p *Provider) answer(ctx context.Context, req agents.ModelRequest, do func(*call, []byte) (agents.ModelResponse, error), stream bool) (agents.ModelResponse, error) {
	bp := bodies.Get().(*[]byte)
	defer func() {
		// The direct client has written the body by the time do returns;
		// net/http's may still hold it, so its bodies are not reused.
		if p.direct != nil && cap(*bp) <= 256<<10 {
			bodies.Put(bp)
		}
	}()
	b, err := body(*bp, req, encoding{stream: stream})
	*bp = b
	if err != nil {
		return agents.ModelResponse{}, err
	}
	c := p.newCall(ctx)
	defer c.end()

	resp, err := do(c, b)
	if err != nil && req.MaxTokens > 0 && c.failure.wantsMaxCompletionTokens() {
		// OpenAI's reasoning models refuse max_tokens, which every other
		// server understands, and say so with a 400 before answering
		// anything; ask again the way they want.
		if b, err = body(nil, req, encoding{stream: stream, maxCompletion: true}); err != nil {
			return agents.ModelResponse{}, err
		}
		resp, err = do(c, b)
	}
	return resp, err
}
