package web

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// serve starts a server on 127.0.0.1 answering each path with its body
// and content type ("" sends no Content-Type at all).
func serve(t *testing.T, pages map[string]page) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(pagesHandler(pages))
	t.Cleanup(srv.Close)
	return srv
}

type page struct {
	contentType string
	body        string
	status      int
	header      map[string]string
}

func pagesHandler(pages map[string]page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		// Setting the header to nil keeps net/http from sniffing one.
		w.Header()["Content-Type"] = nil
		if p.contentType != "" {
			w.Header().Set("Content-Type", p.contentType)
		}
		for k, v := range p.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(p.body)))
		if p.status != 0 {
			w.WriteHeader(p.status)
		}
		w.Write([]byte(p.body))
	})
}

// allowLocal is a client that may reach the test servers on 127.0.0.1.
func allowLocal(cfg safehttp.Config) *safehttp.Client {
	cfg.Allow = append(cfg.Allow, "127.0.0.1")
	return safehttp.New(cfg)
}

func call(t *testing.T, tool agents.Tool, url string) (string, error) {
	t.Helper()
	args, _ := json.Marshal(map[string]string{"url": url})
	out, err := tool.Call(t.Context(), agents.ToolInput{Arguments: args})
	if err == nil && !utf8.ValidString(out.Content) {
		t.Errorf("the content is not valid UTF-8: %q", out.Content)
	}
	return out.Content, err
}

func mustCall(t *testing.T, tool agents.Tool, url string) string {
	t.Helper()
	got, err := call(t, tool, url)
	if err != nil {
		t.Fatalf("url_resolver(%s): %v", url, err)
	}
	return got
}

func contains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("the content lacks %q:\n%s", w, got)
		}
	}
}

func lacks(t *testing.T, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Errorf("the content has %q:\n%s", w, got)
		}
	}
}

func TestSpec(t *testing.T) {
	t.Parallel()
	spec := NewURLResolver(nil).Spec()
	if spec.Name != "url_resolver" || spec.Description == "" {
		t.Errorf("spec = %+v", spec)
	}
	var schema struct {
		Type       string
		Properties map[string]struct{ Type, Description string }
		Required   []string
	}
	if err := json.Unmarshal(spec.Parameters, &schema); err != nil {
		t.Fatalf("parameters: %v", err)
	}
	if schema.Type != "object" || schema.Properties["url"].Type != "string" ||
		schema.Properties["url"].Description == "" || len(schema.Required) != 1 || schema.Required[0] != "url" {
		t.Errorf("schema = %+v", schema)
	}
}

func TestHTMLPage(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string]page{"/page": {contentType: "text/html; charset=utf-8", body: `<!doctype html>
<html><head><title>  Test
   Page </title><style>body { color: red }</style>
<script>var secret = "head script";</script></head>
<body>
<script>alert("body script")</script>
<noscript>noscript text</noscript>
<template><p>template text</p></template>
<svg><title>svg title</title><text>svg text</text></svg>
<div hidden>hidden text</div>
<h1>Main   heading</h1>
<p>First
   paragraph with <b>bold</b> and <a href="/docs">the docs</a>.</p>
<p>Second<br>line</p>
<ul><li>one</li><li>two</li></ul>
<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ann</td><td>41</td></tr></table>
<pre>  keep
    this</pre>
</body></html>`}})
	got := mustCall(t, NewURLResolver(allowLocal(safehttp.Config{})), srv.URL+"/page")

	contains(t, got,
		"URL: "+srv.URL+"/page\nStatus: 200 OK\n",
		"Title: Test Page\n",
		"# Main heading\n\nFirst paragraph with bold and the docs ("+srv.URL+"/docs).\n\nSecond\nline",
		"- one\n- two",
		"Name | Age\nAnn | 41",
		"  keep\n    this",
	)
	lacks(t, got, "script", "color", "noscript", "template", "svg", "hidden", "<")
}

func TestMissingSchemeGetsHTTPS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(pagesHandler(map[string]page{"/x": {contentType: "text/plain", body: "over TLS"}}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tool := NewURLResolver(allowLocal(safehttp.Config{RootCAs: roots}))

	hostPort := strings.TrimPrefix(srv.URL, "https://")
	got := mustCall(t, tool, hostPort+"/x")
	contains(t, got, "URL: https://"+hostPort+"/x\n", "over TLS")
}

func TestRedirectFollowed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("the new place"))
	}))
	t.Cleanup(srv.Close)
	got := mustCall(t, NewURLResolver(allowLocal(safehttp.Config{})), srv.URL+"/old")
	contains(t, got, "URL: "+srv.URL+"/new\nStatus: 200 OK\n", "the new place")
}

func TestErrorStatus(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string]page{"/teapot": {status: http.StatusTeapot, body: "short and stout"}})
	tool := NewURLResolver(allowLocal(safehttp.Config{}))

	_, err := call(t, tool, srv.URL+"/missing")
	if err == nil || !strings.Contains(err.Error(), "the page answered 404 Not Found") {
		t.Errorf("404: error = %v", err)
	}
	_, err = call(t, tool, srv.URL+"/teapot")
	if err == nil || !strings.Contains(err.Error(), "the page answered 418 I'm a teapot") {
		t.Errorf("418: error = %v", err)
	}
}

func TestBlockedAddress(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string]page{"/": {contentType: "text/plain", body: "internal secrets"}})
	_, err := call(t, NewURLResolver(nil), srv.URL+"/")
	if err == nil || !strings.Contains(err.Error(), "refusing to connect to 127.0.0.1: loopback address") ||
		!strings.Contains(err.Error(), "ATRIUM_TOOLS_ALLOW_HOSTS") {
		t.Errorf("error = %v, want a refusal naming ATRIUM_TOOLS_ALLOW_HOSTS", err)
	}
	if strings.Contains(err.Error(), `Get "`) {
		t.Errorf("error = %v, want it without url.Error's prefix", err)
	}
}

func TestHugePageCut(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("<html><head><title>" + strings.Repeat("long title ", 1000) + "</title></head><body>")
	for i := range 10000 {
		b.WriteString("<p>paragraph " + strconv.Itoa(i) + "</p>")
	}
	b.WriteString("</body></html>")
	srv := serve(t, map[string]page{"/": {contentType: "text/html", body: b.String()}})

	got := mustCall(t, NewURLResolver(allowLocal(safehttp.Config{})), srv.URL+"/")
	contains(t, got, "paragraph 0\n\nparagraph 1\n", "\n\n[text cut at 20,000 characters; the page has more]")
	lacks(t, got, "paragraph 9999")
	titleLine := got[strings.Index(got, "Title: "):]
	titleLine = titleLine[:strings.IndexByte(titleLine, '\n')]
	if n := utf8.RuneCountInString(titleLine); n > len("Title: ")+maxTitleRunes {
		t.Errorf("the title line has %d characters", n)
	}
	text := got[strings.Index(got, "\n\n")+2 : strings.LastIndex(got, "\n\n[text cut")]
	if n := utf8.RuneCountInString(text); n > maxTextRunes || n < maxTextRunes-20 {
		t.Errorf("the text has %d characters, want about %d", n, maxTextRunes)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string]page{"/": {contentType: "text/plain", body: strings.Repeat("abc ", 1000)}})
	got := mustCall(t, NewURLResolver(allowLocal(safehttp.Config{MaxBodyBytes: 1000})), srv.URL+"/")
	contains(t, got, "abc abc", "[the rest of the page was not read: response body too large: it is larger than 1000 bytes]")
}

func TestBinaryDescribed(t *testing.T) {
	t.Parallel()
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0, 0xff, 0x10}, 700)...)
	srv := serve(t, map[string]page{
		"/img":     {contentType: "image/png", body: string(png)},
		"/sniffed": {body: string(png)},
		"/octet":   {contentType: "application/octet-stream", body: "\x00\x01\x02\x03binary", header: map[string]string{"Content-Disposition": `attachment; filename="data.bin"`}},
		"/pdf":     {contentType: "application/pdf", body: "%PDF-1.7 ..."},
	})
	tool := NewURLResolver(allowLocal(safehttp.Config{}))

	got := mustCall(t, tool, srv.URL+"/img")
	contains(t, got, "Content-Type: image/png\n", "The URL returned a image/png file (2.1 KiB); its content is not text, so it is not shown.")
	lacks(t, got, "PNG", "IHDR")
	contains(t, mustCall(t, tool, srv.URL+"/sniffed"), "a image/png file")
	contains(t, mustCall(t, tool, srv.URL+"/octet"), "a application/octet-stream file (10 bytes)", "File name: data.bin.")
	contains(t, mustCall(t, tool, srv.URL+"/pdf"), "a application/pdf file (12 bytes)")
}

func TestTextAndJSON(t *testing.T) {
	t.Parallel()
	srv := serve(t, map[string]page{
		"/txt":       {contentType: "text/plain; charset=utf-8", body: "  line one\n  <b>not html</b>\n"},
		"/json":      {contentType: "application/json", body: `{"name": "Ann", "tags": ["a", "b"]}`},
		"/problem":   {contentType: "application/problem+json", body: `{"title": "x"}`},
		"/unlabeled": {body: "just some text"},
		"/empty":     {contentType: "text/plain"},
	})
	tool := NewURLResolver(allowLocal(safehttp.Config{}))

	contains(t, mustCall(t, tool, srv.URL+"/txt"), "\n\nline one\n  <b>not html</b>")
	contains(t, mustCall(t, tool, srv.URL+"/json"), "\n\n"+`{"name": "Ann", "tags": ["a", "b"]}`)
	contains(t, mustCall(t, tool, srv.URL+"/problem"), `{"title": "x"}`)
	contains(t, mustCall(t, tool, srv.URL+"/unlabeled"), "\n\njust some text")
	contains(t, mustCall(t, tool, srv.URL+"/empty"), "[the page has no text]")
}

func TestCharsets(t *testing.T) {
	t.Parallel()
	filler := strings.Repeat("plain ascii filler ", 100) // past the 1024 bytes charset detection reads
	srv := serve(t, map[string]page{
		"/emoji":   {contentType: "text/html; charset=utf-8", body: "<title>Party 🎉</title><p>Hello 👋🏽 world 🇫🇷 — ok</p>"},
		"/late":    {contentType: "text/html", body: "<p>" + filler + "</p><p>late emoji 😀 and café</p>"},
		"/latin1":  {contentType: "text/plain; charset=iso-8859-1", body: "caf\xe9 cr\xe8me"},
		"/meta":    {contentType: "text/html", body: `<meta charset="windows-1252"><p>na` + "\xefve \x93quoted\x94</p>"},
		"/invalid": {contentType: "text/plain; charset=utf-8", body: "bad \xff\xfe bytes"},
		"/bom":     {contentType: "text/plain", body: "\xef\xbb\xbfwith BOM"},
	})
	tool := NewURLResolver(allowLocal(safehttp.Config{}))

	contains(t, mustCall(t, tool, srv.URL+"/emoji"), "Title: Party 🎉\n", "Hello 👋🏽 world 🇫🇷 — ok")
	contains(t, mustCall(t, tool, srv.URL+"/late"), "late emoji 😀 and café")
	contains(t, mustCall(t, tool, srv.URL+"/latin1"), "café crème")
	contains(t, mustCall(t, tool, srv.URL+"/meta"), "naïve “quoted”")
	contains(t, mustCall(t, tool, srv.URL+"/invalid"), "bad \uFFFD")
	contains(t, mustCall(t, tool, srv.URL+"/bom"), "\n\nwith BOM")
}

func TestBadArguments(t *testing.T) {
	t.Parallel()
	tool := NewURLResolver(nil)
	for args, want := range map[string]string{
		`{}`:                                     "the url argument is required",
		`{"url": 42}`:                            "must be a JSON object",
		`{"url": "  "}`:                          "the url argument is empty",
		`{"url": "ftp://example.com"}`:           "only http and https",
		`{"url": "javascript:alert(1)"}`:         "only http and https",
		`{"url": "https://user:pw@example.com"}`: "user name or password",
	} {
		_, err := tool.Call(t.Context(), agents.ToolInput{Arguments: json.RawMessage(args)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Call(%s) error = %v, want one containing %q", args, err, want)
		}
	}
}
