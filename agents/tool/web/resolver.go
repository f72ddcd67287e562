package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// URLResolverName is the url_resolver tool's name, as agent
// configurations enable it.
const URLResolverName = "url_resolver"

// Limits of what the tool returns to the model. The rune cap keeps a page
// from filling the model's context; the byte cap keeps the result under
// the agent loop's 64 KiB cut even for text of 4-byte characters.
const (
	maxTextRunes  = 20000
	maxTextBytes  = 60000
	maxTitleRunes = 300
)

// urlResolverParams is the JSON schema of the tool's arguments.
const urlResolverParams = `{"type":"object","properties":{"url":{"type":"string",` +
	`"description":"The URL to fetch, like https://example.com/page. https:// is added when the scheme is missing."}},` +
	`"required":["url"]}`

// URLResolver is the url_resolver tool: it fetches a URL and returns its
// content as text. It is safe for concurrent use.
type URLResolver struct {
	client *safehttp.Client
}

var _ agents.Tool = (*URLResolver)(nil)

// NewURLResolver returns the url_resolver tool fetching with client. A nil
// client means safehttp's defaults, which refuse every internal address.
func NewURLResolver(client *safehttp.Client) *URLResolver {
	if client == nil {
		client = safehttp.New(safehttp.Config{})
	}
	return &URLResolver{client: client}
}

// Spec describes the tool to the model.
func (r *URLResolver) Spec() agents.ToolSpec {
	return agents.ToolSpec{
		Name: URLResolverName,
		Description: "Fetch a web page or file by its URL and return its content as text: " +
			"the title and visible text of an HTML page (links shown as \"text (URL)\"), " +
			"the text of plain-text, JSON or XML answers, and the type and size of anything else. " +
			"Adds https:// when the URL has no scheme and follows redirects. " +
			"Use it to read a page the user mentions or a link found earlier. " +
			"Long pages are cut at 20,000 characters.",
		Parameters: json.RawMessage(urlResolverParams),
	}
}

// Call fetches the URL in the arguments. Failures (a refused address, a
// network error, a status other than 2xx) are returned as errors, which
// the model reads as the tool's failure.
func (r *URLResolver) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		URL *string `json:"url"`
	}
	if err := json.Unmarshal(in.Arguments, &args); err != nil {
		return agents.ToolOutput{}, errors.New(`the arguments must be a JSON object like {"url": "https://example.com"}`)
	}
	if args.URL == nil {
		return agents.ToolOutput{}, errors.New(`the url argument is required, like {"url": "https://example.com"}`)
	}
	u, err := normalizeURL(*args.URL)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	content, err := r.fetch(ctx, u)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	return agents.ToolOutput{Content: content}, nil
}

// fetch gets u and renders the answer for the model.
func (r *URLResolver) fetch(ctx context.Context, u *url.URL) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("%s is not a valid URL", u)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.5")
	resp, err := r.client.Do(req)
	if err != nil {
		return "", fetchError(u, err)
	}
	defer resp.Body.Close()

	final := resp.Request.URL
	status := statusLine(resp)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("the page answered %s (%s)", status, final)
	}

	var out strings.Builder
	fmt.Fprintf(&out, "URL: %s\nStatus: %s\n", final, status)
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		fmt.Fprintf(&out, "Content-Type: %s\n", strings.ToValidUTF8(ct, "\uFFFD"))
	}

	body := bufio.NewReaderSize(resp.Body, 512)
	k, mediaType, ok := kindOf(resp.Header.Get("Content-Type"))
	if !ok {
		head, _ := body.Peek(512) // a shorter body is fine; a read error shows below
		k, mediaType = sniff(head)
	}
	if k == kindBinary {
		out.WriteString("\n" + describeBinary(resp, mediaType))
		return out.String(), nil
	}

	raw, err := io.ReadAll(body)
	cutBody := errors.Is(err, safehttp.ErrBodyTooLarge)
	if err != nil && !cutBody {
		return "", fmt.Errorf("reading %s: %w", final, unwrapURLError(err))
	}
	text := decode(raw, resp.Header.Get("Content-Type"))
	if k == kindHTML {
		title, visible := htmlToText(text, final, maxTextRunes)
		if title != "" {
			title, _ = truncate(title, maxTitleRunes, 4*maxTitleRunes)
			fmt.Fprintf(&out, "Title: %s\n", title)
		}
		text = visible
	} else {
		text = strings.TrimSpace(text)
	}
	out.WriteString("\n")
	if text == "" {
		out.WriteString("[the page has no text]")
	}
	text, cut := truncate(text, maxTextRunes, maxTextBytes)
	out.WriteString(text)
	switch {
	case cut:
		fmt.Fprintf(&out, "\n\n[text cut at %s characters; the page has more]", formatCount(utf8.RuneCountInString(text)))
	case cutBody:
		fmt.Fprintf(&out, "\n\n[the rest of the page was not read: %v]", err)
	}
	return out.String(), nil
}

// fetchError words a failed request for the model. url.Error's
// `Get "https://…":` prefix repeats the URL and the method, so it is
// replaced with a plain sentence.
func fetchError(u *url.URL, err error) error {
	var be *safehttp.BlockedError
	if errors.As(err, &be) {
		return fmt.Errorf("could not fetch %s: %w", u, be)
	}
	return fmt.Errorf("could not fetch %s: %w", u, unwrapURLError(err))
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("it took too long: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}

// statusLine is "404 Not Found", with the standard text when the server
// sent none.
func statusLine(resp *http.Response) string {
	s := strings.ToValidUTF8(strings.TrimSpace(resp.Status), "\uFFFD")
	if s == "" || s == strconv.Itoa(resp.StatusCode) {
		s = strings.TrimSpace(fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	return s
}

// describeBinary tells the model what a non-text answer is, without its
// bytes, which would only be noise (and could be megabytes of it).
func describeBinary(resp *http.Response, mediaType string) string {
	if mediaType == "" {
		mediaType = "application/octet-stream"
	}
	size := "size not given"
	if resp.ContentLength >= 0 {
		size = safehttp.FormatSize(resp.ContentLength)
	}
	s := fmt.Sprintf("The URL returned a %s file (%s); its content is not text, so it is not shown.", mediaType, size)
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		s += fmt.Sprintf(" File name: %s.", strings.ToValidUTF8(params["filename"], "\uFFFD"))
	}
	return s
}

// truncate cuts s to at most maxRunes characters and maxBytes bytes, at a
// character boundary.
func truncate(s string, maxRunes, maxBytes int) (string, bool) {
	cut := false
	if len(s) > maxBytes {
		i := maxBytes
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s, cut = s[:i], true
	}
	if len(s) > maxRunes { // else it has fewer runes than bytes: nothing to count
		n := 0
		for i := range s {
			if n == maxRunes {
				s, cut = s[:i], true
				break
			}
			n++
		}
	}
	if cut {
		s = strings.TrimRight(s, " \n")
	}
	return s, cut
}

// formatCount writes 20000 as "20,000".
func formatCount(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
