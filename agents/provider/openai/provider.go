package openai

import (
	"context"
	"maps"
	"net/http"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"

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
	// HTTPClient makes the requests. Nil means http.DefaultClient. Leave
	// its Timeout zero: it would cut long streams; use Timeout instead.
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
	cfg  Config
	chat openai.ChatCompletionService
}

var _ agents.Provider = (*Provider)(nil)

// New returns a provider for the API cfg describes, with cfg's zero fields
// set to their documented defaults.
func New(cfg Config) *Provider {
	if cfg.BaseURL == "" {
		cfg.BaseURL = defaultBaseURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
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

	opts := []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithHTTPClient(cfg.HTTPClient),
		option.WithMaxRetries(cfg.MaxRetries),
	}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	for k, v := range cfg.Headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	// The service, not openai.NewClient: the client would fill in whatever
	// OPENAI_API_KEY and OPENAI_BASE_URL the process happens to have.
	return &Provider{cfg: cfg, chat: openai.NewChatCompletionService(opts...)}
}

// Stream answers req, emitting text and tool-call pieces as they arrive.
//
// Besides the agents.Provider contract: an upstream HTTP error, an error
// sent inside the stream, a stream that ends before the model finished and
// a timeout (ModelError.Code "timeout", its Err a net.Error-style error
// whose Timeout method reports true) all come back as errors wrapping an
// *agents.ModelError.
func (p *Provider) Stream(ctx context.Context, req agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	params, err := p.params(req)
	if err != nil {
		return agents.ModelResponse{}, err
	}
	c := p.newCall(ctx)
	defer c.end()

	resp, err := c.stream(params, emit)
	if err != nil && req.MaxTokens > 0 && c.failure.wantsMaxCompletionTokens() {
		// OpenAI's reasoning models refuse max_tokens, which every other
		// server understands, and say so with a 400 before streaming
		// anything; ask again the way they want.
		params.MaxTokens = param.Opt[int64]{}
		params.MaxCompletionTokens = openai.Int(int64(req.MaxTokens))
		resp, err = c.stream(params, emit)
	}
	return resp, err
}
