package search

import (
	"context"
	"net/http"
	"strconv"
)

// brave is the Brave Search API: GET {url}?q=…&count=… with the key in
// X-Subscription-Token.
type brave struct {
	url, key string
}

func (brave) name() string { return "Brave Search" }

func (b brave) search(ctx context.Context, client *http.Client, query string, n int) ([]result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url, nil)
	if err != nil {
		return nil, err
	}
	q := req.URL.Query()
	q.Set("q", query)
	q.Set("count", strconv.Itoa(n))
	req.URL.RawQuery = q.Encode()
	req.Header.Set("X-Subscription-Token", b.key)
	var answer struct {
		Web struct {
			Results []struct {
				Title       string `json:"title"`
				URL         string `json:"url"`
				Description string `json:"description"`
			} `json:"results"`
		} `json:"web"`
	}
	if err := call(client, req, b.name(), EnvBraveAPIKey, &answer); err != nil {
		return nil, err
	}
	out := make([]result, len(answer.Web.Results))
	for i, r := range answer.Web.Results {
		out[i] = result{title: r.Title, url: r.URL, snippet: r.Description}
	}
	return out, nil
}
