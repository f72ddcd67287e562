package custom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// maxResult caps the endpoint's answer the model reads.
const maxResult = 60000

// Tool is one custom tool. It is safe for concurrent use.
type Tool struct {
	def      agents.CustomTool
	schema   json.RawMessage
	required []string
	props    map[string]property
	client   *safehttp.Client
}

// property is what the schema says of one parameter.
type property struct {
	Type        any    `json:"type"`
	Description string `json:"description"`
	Title       string `json:"title"`
}

var (
	_ agents.AliasedTool = (*Tool)(nil)
	_ agents.TimedTool   = (*Tool)(nil)
)

func newTool(def agents.CustomTool, client *safehttp.Client) *Tool {
	t := &Tool{def: def, schema: def.EffectiveSchema(), client: client}
	var s struct {
		Properties map[string]property `json:"properties"`
		Required   []string            `json:"required"`
	}
	if json.Unmarshal(t.schema, &s) == nil {
		t.props, t.required = s.Properties, s.Required
	}
	return t
}

// Spec describes the tool to the model under its model name.
func (t *Tool) Spec() agents.ToolSpec {
	return agents.ToolSpec{Name: t.def.ModelName(), Description: t.def.Description, Parameters: t.schema}
}

// Alias is the name its owner gave it, which agent configurations may use.
func (t *Tool) Alias() string { return t.def.Name }

// Timeout is the owner's timeout, or DefaultTimeout, and a little more so
// the tool's own deadline reports first.
func (t *Tool) Timeout() time.Duration { return t.timeout() + 2*time.Second }

func (t *Tool) timeout() time.Duration {
	if t.def.Timeout > 0 {
		return t.def.Timeout
	}
	return DefaultTimeout
}

// Call asks for a missing required parameter, leaves a tool without an
// endpoint to the caller, and calls the endpoint of one with.
func (t *Tool) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args map[string]any
	if err := json.Unmarshal(in.Arguments, &args); err != nil || args == nil {
		return agents.ToolOutput{}, errors.New("the arguments must be a JSON object")
	}
	if missing := t.missing(args); missing != "" {
		return agents.ToolOutput{}, &agents.ToolPending{Name: t.def.Name, Question: t.question(missing)}
	}
	if t.def.Endpoint == "" {
		return agents.ToolOutput{}, &agents.ToolPending{Name: t.def.Name}
	}
	return t.call(ctx, args)
}

// missing returns the first required parameter args lacks or leaves empty.
func (t *Tool) missing(args map[string]any) string {
	for _, name := range t.required {
		v, ok := args[name]
		if s, isStr := v.(string); !ok || v == nil || (isStr && strings.TrimSpace(s) == "") {
			return name
		}
	}
	return ""
}

// question asks the user for parameter name, by its description or title
// when the schema gives one.
func (t *Tool) question(name string) string {
	what := strings.TrimSpace(t.props[name].Description)
	if what == "" {
		what = strings.TrimSpace(t.props[name].Title)
	}
	if what == "" {
		what = strings.ToLower(strings.NewReplacer("_", " ", "-", " ").Replace(splitCamel(name)))
	}
	what = strings.TrimRight(what, ".?! ")
	// "Order number" reads "order number" mid-sentence; "SKU" stays.
	if r, size := utf8.DecodeRuneInString(what); unicode.IsUpper(r) {
		if next, _ := utf8.DecodeRuneInString(what[size:]); unicode.IsLower(next) {
			what = string(unicode.ToLower(r)) + what[size:]
		}
	}
	if strings.HasPrefix(what, "the ") || strings.HasPrefix(what, "your ") || strings.HasPrefix(what, "a ") {
		return "Could you please tell me " + what + "?"
	}
	return "Could you please tell me your " + what + "?"
}

// splitCamel turns orderNumber into order Number.
func splitCamel(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// call sends args to the endpoint: {name} in the URL takes the argument of
// that name; GET and DELETE send the rest as query parameters, the other
// methods as a JSON body.
func (t *Tool) call(ctx context.Context, args map[string]any) (agents.ToolOutput, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout())
	defer cancel()
	endpoint, rest := expand(t.def.Endpoint, args)
	var body io.Reader
	if t.def.Method == http.MethodGet || t.def.Method == http.MethodDelete {
		u, err := url.Parse(endpoint)
		if err != nil {
			return agents.ToolOutput{}, fmt.Errorf("the tool's endpoint is not a valid URL: %v", err)
		}
		q := u.Query()
		keys := make([]string, 0, len(rest))
		for k := range rest {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			q.Set(k, scalar(rest[k]))
		}
		u.RawQuery = q.Encode()
		endpoint = u.String()
	} else {
		b, _ := json.Marshal(args)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, t.def.Method, endpoint, body)
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("the tool's endpoint is not a valid URL: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, text/plain;q=0.9, */*;q=0.5")
	for k, v := range t.def.Headers {
		req.Header.Set(k, v)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return agents.ToolOutput{}, fmt.Errorf("%s did not answer within %v", t.def.Name, t.timeout())
		}
		return agents.ToolOutput{}, fmt.Errorf("could not call %s: %v", t.def.Name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResult+1))
	if err != nil && !errors.Is(err, safehttp.ErrBodyTooLarge) {
		return agents.ToolOutput{}, fmt.Errorf("reading the answer of %s: %v", t.def.Name, err)
	}
	text := answerText(raw)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if text == "" {
			text = http.StatusText(resp.StatusCode)
		}
		return agents.ToolOutput{}, fmt.Errorf("%s answered %d: %s", t.def.Name, resp.StatusCode, cut(text, 2000))
	}
	if text == "" {
		text = fmt.Sprintf("%s answered %d with no content.", t.def.Name, resp.StatusCode)
	}
	return agents.ToolOutput{Content: text}, nil
}

// expand fills {name} placeholders of endpoint with args, escaped, and
// returns the arguments left.
func expand(endpoint string, args map[string]any) (string, map[string]any) {
	rest := make(map[string]any, len(args))
	for k, v := range args {
		ph := "{" + k + "}"
		if strings.Contains(endpoint, ph) {
			endpoint = strings.ReplaceAll(endpoint, ph, url.PathEscape(scalar(v)))
			continue
		}
		rest[k] = v
	}
	return endpoint, rest
}

// scalar writes v for a URL: strings as they are, the rest as JSON.
func scalar(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// answerText is the endpoint's answer as text: valid UTF-8, cut at
// maxResult.
func answerText(raw []byte) string {
	cutAt := len(raw) > maxResult
	if cutAt {
		raw = raw[:maxResult]
	}
	s := strings.TrimSpace(strings.ToValidUTF8(string(raw), "\uFFFD"))
	if cutAt {
		s += "\n[answer cut: it was longer than 60,000 bytes]"
	}
	return s
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
