package search

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
)

// tavily is the Tavily API: POST {url} with {"query", "max_results"} and
// the key as a bearer token.
type tavily struct {
	url, key string
}

func (tavily) name() string { return "Tavily" }

func (t tavily) search(ctx context.Context, client *http.Client, query string, n int) ([]result, error) {
	body, err := json.Marshal(map[string]any{"query": query, "max_results": n})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+t.key)
	var answer struct {
		Results []struct {
			Title   string `json:"title"`
			URL     string `json:"url"`
			Content string `json:"content"`
		} `json:"results"`
	}
	if err := call(client, req, t.name(), EnvTavilyAPIKey, &answer); err != nil {
		return nil, err
	}
	out := make([]result, len(answer.Results))
	for i, r := range answer.Results {
		out[i] = result{title: r.Title, url: r.URL, snippet: r.Content}
	}
	return out, nil
}
