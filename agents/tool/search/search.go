package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
)

// WebSearchName is the web_search tool's name, as agent configurations
// enable it.
const WebSearchName = "web_search"

// The environment variables cmd/atrium reads into Config; errors name
// them so an operator knows what to set.
const (
	EnvSearXNGURL   = "ATRIUM_SEARCH_SEARXNG_URL"
	EnvBraveAPIKey  = "ATRIUM_SEARCH_BRAVE_API_KEY"
	EnvTavilyAPIKey = "ATRIUM_SEARCH_TAVILY_API_KEY"
)

// Default endpoints of the hosted APIs.
const (
	DefaultBraveURL  = "https://api.search.brave.com/res/v1/web/search"
	DefaultTavilyURL = "https://api.tavily.com/search"
)

// Limits of a search.
const (
	defaultResults = 5
	maxResults     = 10
	maxQueryRunes  = 400 // Brave's limit; the others take as much
	defaultTimeout = 20 * time.Second
)

// Config configures WebSearch. The zero value has no backend: the tool
// then fails with an error naming the environment variables to set.
type Config struct {
	// SearXNGURL is the base URL of a SearXNG instance with the JSON
	// format enabled (search.formats in its settings.yml), like
	// "https://searx.example.org" (ATRIUM_SEARCH_SEARXNG_URL).
	SearXNGURL string
	// BraveAPIKey is a Brave Search API subscription token
	// (ATRIUM_SEARCH_BRAVE_API_KEY).
	BraveAPIKey string
	// BraveURL is Brave's web search endpoint. Empty means DefaultBraveURL.
	BraveURL string
	// TavilyAPIKey is a Tavily API key (ATRIUM_SEARCH_TAVILY_API_KEY).
	TavilyAPIKey string
	// TavilyURL is Tavily's search endpoint. Empty means DefaultTavilyURL.
	TavilyURL string
	// HTTPClient sends the requests. Nil means a client with a 20 s
	// timeout. It need not refuse internal addresses: the backends' URLs
	// are the operator's, never the model's.
	HTTPClient *http.Client
}

// WebSearch is the web_search tool. It is safe for concurrent use.
type WebSearch struct {
	backends []backend
	client   *http.Client
}

var _ agents.Tool = (*WebSearch)(nil)

// New returns the web_search tool with the backends cfg configures.
func New(cfg Config) *WebSearch {
	s := &WebSearch{client: cfg.HTTPClient}
	if s.client == nil {
		// A transport of its own: http.DefaultTransport's idle connections
		// are anyone's to close (httptest.Server.Close closes them), which
		// breaks a request that has just picked one.
		s.client = &http.Client{Timeout: defaultTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if u := strings.TrimSpace(cfg.SearXNGURL); u != "" {
		s.backends = append(s.backends, searxng{base: u})
	}
	if k := strings.TrimSpace(cfg.BraveAPIKey); k != "" {
		s.backends = append(s.backends, brave{url: orDefault(cfg.BraveURL, DefaultBraveURL), key: k})
	}
	if k := strings.TrimSpace(cfg.TavilyAPIKey); k != "" {
		s.backends = append(s.backends, tavily{url: orDefault(cfg.TavilyURL, DefaultTavilyURL), key: k})
	}
	return s
}

func orDefault(s, def string) string {
	if s = strings.TrimSpace(s); s != "" {
		return s
	}
	return def
}

// Configured reports whether the tool has a backend to ask.
func (s *WebSearch) Configured() bool { return len(s.backends) > 0 }

// webSearchParams is the JSON schema of the tool's arguments.
const webSearchParams = `{"type":"object","properties":{` +
	`"query":{"type":"string","description":"What to search for, as you would type it into a search engine."},` +
	`"num_results":{"type":"integer","minimum":1,"maximum":10,"description":"How many results to return. Default 5, at most 10."}},` +
	`"required":["query"]}`

const webSearchExample = `{"query": "weather in Lisbon today", "num_results": 5}`

// Spec describes the tool to the model.
func (s *WebSearch) Spec() agents.ToolSpec {
	return agents.ToolSpec{
		Name: WebSearchName,
		Description: "Search the web and return the top results: each one's title, URL and a short snippet. " +
			"Use it for current events, facts you are unsure of, and pages to read; " +
			"fetch a result's URL with url_resolver to read the whole page.",
		Parameters: json.RawMessage(webSearchParams),
	}
}

// Call searches for the query of the arguments. A failure of every
// backend is returned as an error, which the model reads as the tool's
// failure; no results is not one.
func (s *WebSearch) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		Query      *string  `json:"query"`
		NumResults *float64 `json:"num_results"`
	}
	if err := json.Unmarshal(in.Arguments, &args); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "num_results" {
			return agents.ToolOutput{}, fmt.Errorf("the num_results argument must be a number, like %s", webSearchExample)
		}
		if errors.As(err, &te) && te.Field == "query" {
			return agents.ToolOutput{}, fmt.Errorf("the query argument must be a string, like %s", webSearchExample)
		}
		return agents.ToolOutput{}, fmt.Errorf("the arguments must be a JSON object like %s", webSearchExample)
	}
	if args.Query == nil || strings.TrimSpace(*args.Query) == "" {
		return agents.ToolOutput{}, fmt.Errorf("the query argument is required, like %s", webSearchExample)
	}
	query := strings.Join(strings.Fields(*args.Query), " ")
	if n := utf8.RuneCountInString(query); n > maxQueryRunes {
		return agents.ToolOutput{}, fmt.Errorf("the query is too long (%d characters); use at most %d", n, maxQueryRunes)
	}
	n := defaultResults
	if args.NumResults != nil {
		n = int(min(max(*args.NumResults, 1), maxResults))
	}
	if len(s.backends) == 0 {
		return agents.ToolOutput{}, fmt.Errorf("web search is not set up on this server: the operator must set %s, %s or %s",
			EnvSearXNGURL, EnvBraveAPIKey, EnvTavilyAPIKey)
	}

	var errs []error
	for _, b := range s.backends {
		results, err := b.search(ctx, s.client, query, n)
		if err == nil {
			return agents.ToolOutput{Content: format(query, b.name(), results, n)}, nil
		}
		if ctx.Err() != nil {
			return agents.ToolOutput{}, context.Cause(ctx)
		}
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return agents.ToolOutput{}, errs[0]
	}
	return agents.ToolOutput{}, fmt.Errorf("every search backend failed: %w", errors.Join(errs...))
}
