package search

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
)

// seen is a request as a fake backend received it.
type seen struct {
	method, path, rawQuery string
	query                  map[string][]string
	header                 http.Header
	body                   []byte
}

// fake starts a backend answering every request with status and body,
// and sends each request it gets on the returned channel.
func fake(t *testing.T, status int, body string) (*httptest.Server, <-chan seen) {
	t.Helper()
	reqs := make(chan seen, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		reqs <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.URL.Query(), r.Header.Clone(), raw}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, reqs
}

func search(t *testing.T, cfg Config, args string) (string, error) {
	t.Helper()
	out, err := New(cfg).Call(t.Context(), agents.ToolInput{Arguments: json.RawMessage(args)})
	if err == nil && !utf8.ValidString(out.Content) {
		t.Errorf("the content is not valid UTF-8: %q", out.Content)
	}
	return out.Content, err
}

func mustSearch(t *testing.T, cfg Config, args string) string {
	t.Helper()
	got, err := search(t, cfg, args)
	if err != nil {
		t.Fatalf("web_search(%s): %v", args, err)
	}
	return got
}

func wantError(t *testing.T, err error, want ...string) {
	t.Helper()
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error = %v, want one containing %q", err, w)
		}
	}
}

// The query of the tests has characters that must be escaped.
const (
	query     = "c++ & go/generics? 100% naïve"
	queryArgs = `{"query": "  c++ & go/generics?   100% naïve "}`
)

func TestSpec(t *testing.T) {
	t.Parallel()
	spec := New(Config{}).Spec()
	if spec.Name != "web_search" || spec.Description == "" {
		t.Errorf("spec = %+v", spec)
	}
	var schema struct {
		Type       string
		Properties map[string]struct{ Type, Description string }
		Required   []string
	}
	if err := json.Unmarshal(spec.Parameters, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Type != "object" || schema.Properties["query"].Type != "string" ||
		schema.Properties["num_results"].Type != "integer" || len(schema.Required) != 1 || schema.Required[0] != "query" {
		t.Errorf("schema = %+v", schema)
	}
}

func TestSearXNG(t *testing.T) {
	t.Parallel()
	srv, reqs := fake(t, 200, `{"query": "x", "results": [
		{"title": "Generics in <b>Go</b>", "url": "https://go.dev/doc/tutorial/generics", "content": "Learn  the\n<em>basics</em> &amp; more."},
		{"title": "", "url": "https://example.com/a", "content": ""},
		{"title": "Dup", "url": "https://go.dev/doc/tutorial/generics", "content": "same URL"},
		{"title": "Bad", "url": "javascript:alert(1)", "content": "x"},
		{"title": "Third", "url": "http://example.org/3", "content": "three"},
		{"title": "Fourth", "url": "http://example.org/4", "content": "four"}]}`)
	got := mustSearch(t, Config{SearXNGURL: srv.URL + "/searx/"}, `{"query": "`+strings.ReplaceAll(query, `"`, `\"`)+`", "num_results": 3}`)

	want := `Web results for "c++ & go/generics? 100% naïve" (SearXNG):

1. Generics in Go — https://go.dev/doc/tutorial/generics
   Learn the basics & more.

2. example.com — https://example.com/a

3. Third — http://example.org/3
   three`
	if got != want {
		t.Errorf("content =\n%s\nwant\n%s", got, want)
	}
	r := <-reqs
	if r.method != http.MethodGet || r.path != "/searx/search" {
		t.Errorf("request %s %s", r.method, r.path)
	}
	if r.query["q"][0] != query || r.query["format"][0] != "json" {
		t.Errorf("query = %v", r.query)
	}
	if !strings.Contains(r.rawQuery, "q=c%2B%2B+%26+go%2Fgenerics%3F+100%25+na%C3%AFve") {
		t.Errorf("raw query = %s", r.rawQuery)
	}
}

func TestBrave(t *testing.T) {
	t.Parallel()
	srv, reqs := fake(t, 200, `{"type": "search", "web": {"results": [
		{"title": "Go &amp; generics", "url": "https://go.dev/blog/intro-generics",
		 "description": "An <strong>introduction</strong> to <strong>generics</strong><script>x()</script>."}]}}`)
	got := mustSearch(t, Config{BraveAPIKey: "brave-key", BraveURL: srv.URL + "/res/v1/web/search"}, queryArgs)
	want := "Web results for \"c++ & go/generics? 100% naïve\" (Brave Search):\n\n" +
		"1. Go & generics — https://go.dev/blog/intro-generics\n   An introduction to generics."
	if got != want {
		t.Errorf("content =\n%s\nwant\n%s", got, want)
	}
	r := <-reqs
	if r.method != http.MethodGet || r.path != "/res/v1/web/search" || r.header.Get("X-Subscription-Token") != "brave-key" {
		t.Errorf("request %s %s, token %q", r.method, r.path, r.header.Get("X-Subscription-Token"))
	}
	if r.query["q"][0] != query || r.query["count"][0] != "5" {
		t.Errorf("query = %v", r.query)
	}
	if !strings.Contains(r.rawQuery, "q=c%2B%2B+%26+go%2Fgenerics%3F+100%25+na%C3%AFve") {
		t.Errorf("raw query = %s", r.rawQuery)
	}
}

func TestTavily(t *testing.T) {
	t.Parallel()
	srv, reqs := fake(t, 200, `{"query": "x", "results": [
		{"title": "One", "url": "https://one.example", "content": "first", "score": 0.9},
		{"title": "Two", "url": "https://two.example", "content": "second", "score": 0.8}]}`)
	got := mustSearch(t, Config{TavilyAPIKey: "tvly-key", TavilyURL: srv.URL + "/search"}, `{"query": "q\"uote", "num_results": 50}`)
	if want := "Web results for \"q\\\"uote\" (Tavily):\n\n1. One — https://one.example\n   first\n\n2. Two — https://two.example\n   second"; got != want {
		t.Errorf("content =\n%s\nwant\n%s", got, want)
	}
	r := <-reqs
	if r.method != http.MethodPost || r.path != "/search" || r.header.Get("Authorization") != "Bearer tvly-key" ||
		r.header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s, headers %v", r.method, r.path, r.header)
	}
	var body struct {
		Query      string `json:"query"`
		MaxResults int    `json:"max_results"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Query != `q"uote` || body.MaxResults != 10 {
		t.Errorf("body %s: %+v, %v", r.body, body, err)
	}
}

func TestNoResults(t *testing.T) {
	t.Parallel()
	srv, _ := fake(t, 200, `{"results": []}`)
	got := mustSearch(t, Config{SearXNGURL: srv.URL}, `{"query": "zzqqxx"}`)
	if got != `No web results for "zzqqxx" (SearXNG).` {
		t.Errorf("content = %q", got)
	}
}

func TestErrorStatuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status int
		body   string
		want   []string
	}{
		{401, `{"error": "bad token"}`, []string{"Brave Search refused the API key (401 Unauthorized)", "check ATRIUM_SEARCH_BRAVE_API_KEY"}},
		{403, ``, []string{"Brave Search refused the API key (403 Forbidden)"}},
		{429, ``, []string{"Brave Search is rate limiting the searches, or its quota is used up (429 Too Many Requests); try again later"}},
		{502, `<html>bad gateway</html>`, []string{"Brave Search failed (502 Bad Gateway); try again later"}},
		{422, `{"type": "ErrorResponse", "error": {"detail": "Unable to validate request parameter(s)."}}`,
			[]string{"Brave Search answered 422 Unprocessable Entity: Unable to validate request parameter(s)."}},
		{200, `not json`, []string{"Brave Search's answer is not the JSON expected"}},
	} {
		srv, _ := fake(t, c.status, c.body)
		_, err := search(t, Config{BraveAPIKey: "k", BraveURL: srv.URL}, `{"query": "x"}`)
		wantError(t, err, c.want...)
	}

	srv, _ := fake(t, 403, `Forbidden`)
	_, err := search(t, Config{SearXNGURL: srv.URL}, `{"query": "x"}`)
	wantError(t, err, "SearXNG refused the search (403 Forbidden): its JSON format may be off", "search.formats")

	srv, _ = fake(t, 401, `{"detail": {"error": "Unauthorized: missing or invalid API key."}}`)
	_, err = search(t, Config{TavilyAPIKey: "k", TavilyURL: srv.URL}, `{"query": "x"}`)
	wantError(t, err, "Tavily refused the API key (401 Unauthorized): the operator must check ATRIUM_SEARCH_TAVILY_API_KEY")

	srv, _ = fake(t, 400, `{"detail": {"error": "Query is too long."}}`)
	_, err = search(t, Config{TavilyAPIKey: "k", TavilyURL: srv.URL}, `{"query": "x"}`)
	wantError(t, err, "Tavily answered 400 Bad Request: Query is too long.")

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, err = search(t, Config{SearXNGURL: closed.URL}, `{"query": "x"}`)
	wantError(t, err, "could not reach SearXNG: ")

	_, err = search(t, Config{SearXNGURL: "ftp://searx.example"}, `{"query": "x"}`)
	wantError(t, err, "is not an http(s) URL: the operator must fix ATRIUM_SEARCH_SEARXNG_URL")
}

func TestFallsBackToTheNextBackend(t *testing.T) {
	t.Parallel()
	down, downReqs := fake(t, 503, ``)
	up, _ := fake(t, 200, `{"results": [{"title": "T", "url": "https://t.example", "content": "c"}]}`)
	got := mustSearch(t, Config{SearXNGURL: down.URL, TavilyAPIKey: "k", TavilyURL: up.URL}, `{"query": "x"}`)
	if !strings.HasPrefix(got, `Web results for "x" (Tavily):`) {
		t.Errorf("content = %q", got)
	}
	if len(downReqs) != 1 {
		t.Errorf("SearXNG got %d requests, want 1", len(downReqs))
	}

	down2, _ := fake(t, 429, ``)
	_, err := search(t, Config{SearXNGURL: down.URL, BraveAPIKey: "k", BraveURL: down2.URL}, `{"query": "x"}`)
	wantError(t, err, "every search backend failed: SearXNG failed (503 Service Unavailable)", "\nBrave Search is rate limiting")
}

func TestNoBackend(t *testing.T) {
	t.Parallel()
	if New(Config{}).Configured() || New(Config{BraveAPIKey: "  "}).Configured() || !New(Config{TavilyAPIKey: "k"}).Configured() {
		t.Errorf("Configured is wrong")
	}
	_, err := search(t, Config{}, `{"query": "x"}`)
	wantError(t, err, "web search is not set up on this server",
		"ATRIUM_SEARCH_SEARXNG_URL", "ATRIUM_SEARCH_BRAVE_API_KEY", "ATRIUM_SEARCH_TAVILY_API_KEY")
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	cfg := Config{SearXNGURL: "http://127.0.0.1:1"}
	for args, want := range map[string]string{
		`{}`:                                    "the query argument is required",
		`{"query": "  "}`:                       "the query argument is required",
		`{"query": 7}`:                          "the query argument must be a string",
		`{"query": "x", "num_results": "many"}`: "the num_results argument must be a number",
		`[]`:                                    "must be a JSON object",
	} {
		_, err := search(t, cfg, args)
		wantError(t, err, want)
	}
	_, err := search(t, cfg, `{"query": "`+strings.Repeat("é", 401)+`"}`)
	wantError(t, err, "the query is too long (401 characters); use at most 400")
}

func TestClean(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"<p>Hello <b>world</b></p>":               "Hello world",
		"a &amp; b &lt;tag&gt; &#x1F600;":         "a & b <tag> 😀",
		"line\none\t\ttwo\u0007three":             "line one two three",
		"x<style>.a{}</style>y<script>z</script>": "xy",
		"bad \xff byte":                           "bad \uFFFD byte",
	} {
		if got := clean(in, 100); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("word ", 200)
	got := clean(long, 50)
	if !strings.HasSuffix(got, "word…") || utf8.RuneCountInString(got) > 51 {
		t.Errorf("clean(long) = %q", got)
	}
}

func FuzzClean(f *testing.F) {
	f.Add("<p>Hello <b>world</b> &amp; <script>x</script></p>")
	f.Add("a < b > c &unknown; \x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		got := clean(s, 50)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > 51 || strings.ContainsAny(got, "\n\r\t\x00") {
			t.Errorf("clean(%q) = %q", s, got)
		}
	})
}
