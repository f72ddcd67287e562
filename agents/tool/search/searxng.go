package search

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// searxng is a SearXNG instance's JSON API: GET {base}/search?q=…&format=json.
type searxng struct {
	base string
}

func (searxng) name() string { return "SearXNG" }

func (s searxng) search(ctx context.Context, client *http.Client, query string, _ int) ([]result, error) {
	u, err := url.Parse(strings.TrimSpace(s.base))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the SearXNG URL %q is not an http(s) URL: the operator must fix %s", s.base, EnvSearXNGURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/search"
	u.RawPath = ""
	u.RawQuery = url.Values{"q": {query}, "format": {"json"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	var answer struct {
		Results []struct {
			Title   string `json:"title"`
			URL     string `json:"url"`
			Content string `json:"content"`
		} `json:"results"`
	}
	if err := call(client, req, s.name(), EnvSearXNGURL, &answer); err != nil {
		return nil, err
	}
	out := make([]result, len(answer.Results))
	for i, r := range answer.Results {
		out[i] = result{title: r.Title, url: r.URL, snippet: r.Content}
	}
	return out, nil
}
