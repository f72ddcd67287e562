package text

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// translateRequest is the body of a TranslateText request.
type translateRequest struct {
	Text               string
	SourceLanguageCode string
	TargetLanguageCode string
}

// fakeTranslate is Amazon Translate on a real socket, speaking its JSON
// 1.1 protocol. It answers TranslateText with the text in upper case,
// wrapped in the target code, and the source "en" when asked to detect
// it; fail, when set, answers instead.
type fakeTranslate struct {
	srv  *httptest.Server
	fail func(w http.ResponseWriter)

	mu   sync.Mutex // guards reqs
	reqs []translateRequest
}

func newFakeTranslate(t *testing.T, fail func(w http.ResponseWriter)) *fakeTranslate {
	t.Helper()
	f := &fakeTranslate{fail: fail}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if got := r.Header.Get("X-Amz-Target"); got != "AWSShineFrontendService_20170701.TranslateText" {
			t.Errorf("X-Amz-Target = %q", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
			t.Errorf("Content-Type = %q", got)
		}
		if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") ||
			!strings.Contains(got, "/us-west-2/translate/aws4_request") {
			t.Errorf("Authorization = %q", got)
		}
		raw, _ := io.ReadAll(r.Body)
		var req translateRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			t.Errorf("body %s: %v", raw, err)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.mu.Unlock()
		if f.fail != nil {
			f.fail(w)
			return
		}
		src := req.SourceLanguageCode
		if src == "auto" {
			src = "en"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]string{
			"TranslatedText":     "<" + req.TargetLanguageCode + ">" + strings.ToUpper(req.Text) + "</>",
			"SourceLanguageCode": src,
			"TargetLanguageCode": req.TargetLanguageCode,
		})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTranslate) requests() []translateRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]translateRequest(nil), f.reqs...)
}

// tool returns a translation tool talking to f with static credentials and
// no retries.
func (f *fakeTranslate) tool() *Translation {
	return NewTranslation(TranslationConfig{AWS: &aws.Config{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(f.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}})
}

// awsError answers like Translate refusing a request.
func awsFailure(status int, code, message string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
	}
}

func TestTranslateWithAWS(t *testing.T) {
	t.Parallel()
	f := newFakeTranslate(t, nil)
	m := canned("the model must not be asked")
	out := mustRun(t, f.tool(), input(t, `{"text": "Good morning", "target_language": "French"}`, m))
	if want := "Translated from English (en) (detected) to French (fr) by Amazon Translate:\n\n<fr>GOOD MORNING</>"; out.Content != want {
		t.Errorf("content = %q, want %q", out.Content, want)
	}
	if len(m.seen()) != 0 {
		t.Errorf("the model was asked")
	}
	if got := f.requests(); len(got) != 1 || got[0] != (translateRequest{"Good morning", "auto", "fr"}) {
		t.Errorf("requests = %+v", got)
	}
	if !strings.Contains(f.tool().Spec().Description, "Amazon Translate") {
		t.Errorf("the description does not name Amazon Translate")
	}
}

func TestTranslateLanguageCodes(t *testing.T) {
	t.Parallel()
	f := newFakeTranslate(t, nil)
	for _, c := range []struct{ target, source, wantTarget, wantSource string }{
		{"fr", "", "fr", "auto"},
		{"pt-BR", "auto", "pt", "auto"},
		{"Chinese (Traditional)", "German", "zh-TW", "de"},
		{"zh_CN", "en-US", "zh", "en"},
		{"portuguese (portugal)", "Farsi", "pt-PT", "fa"},
		{"Spanish (Mexico)", "nb", "es-MX", "no"},
		{"HE", "iw", "he", "he"}, // same language: no request
	} {
		before := len(f.requests())
		out, err := run(t, f.tool(), input(t, map[string]any{"text": "Hi", "target_language": c.target, "source_language": c.source}, nil))
		if err != nil {
			t.Errorf("%s→%s: %v", c.source, c.target, err)
			continue
		}
		reqs := f.requests()
		if c.wantTarget == c.wantSource {
			contains(t, out.Content, "already in Hebrew")
			if len(reqs) != before {
				t.Errorf("a request for the same language")
			}
			continue
		}
		if len(reqs) != before+1 {
			t.Fatalf("%d requests", len(reqs)-before)
		}
		if r := reqs[len(reqs)-1]; r.TargetLanguageCode != c.wantTarget || r.SourceLanguageCode != c.wantSource {
			t.Errorf("%q→%q sent %s→%s, want %s→%s", c.source, c.target, r.SourceLanguageCode, r.TargetLanguageCode, c.wantSource, c.wantTarget)
		}
	}
}

func TestTranslateLongTextInPieces(t *testing.T) {
	t.Parallel()
	f := newFakeTranslate(t, nil)
	var b strings.Builder
	for b.Len() < 25000 {
		b.WriteString("This sentence is one of many. It has a friend.\n\n")
	}
	text := "\n  " + b.String() + " \n"
	out := mustRun(t, f.tool(), input(t, map[string]any{"text": text, "target_language": "de", "source_language": "English"}, nil))
	reqs := f.requests()
	if len(reqs) < 3 {
		t.Fatalf("%d requests, want 3 or more", len(reqs))
	}
	for _, r := range reqs {
		if len(r.Text) > 10000 {
			t.Errorf("a request has %d bytes", len(r.Text))
		}
		if !strings.HasSuffix(r.Text, "friend.") || strings.TrimSpace(r.Text) != r.Text {
			t.Errorf("a request does not end at a paragraph: …%q", r.Text[len(r.Text)-20:])
		}
		if r.SourceLanguageCode != "en" || r.TargetLanguageCode != "de" {
			t.Errorf("request %s→%s", r.SourceLanguageCode, r.TargetLanguageCode)
		}
	}
	// The pieces went out concurrently, so they are put together in the
	// text's order, with the spaces between them kept.
	got := strings.TrimPrefix(out.Content, "Translated from English (en) to German (de) by Amazon Translate:\n\n")
	if !strings.HasPrefix(got, "\n  <de>THIS SENTENCE") || !strings.HasSuffix(got, "FRIEND.</>\n\n \n") {
		t.Errorf("translation starts %q and ends %q", got[:30], got[len(got)-30:])
	}
	if n := strings.Count(got, "</>\n\n<de>"); n != len(reqs)-1 {
		t.Errorf("%d joins between pieces, want %d", n, len(reqs)-1)
	}
}

func TestTranslateAWSErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status     int
		code, want string
	}{
		{400, "UnsupportedLanguagePairException", "Amazon Translate cannot translate from the text's language to Welsh: no pair"},
		{400, "DetectedLanguageLowConfidenceException", "could not tell which language the text is in: give source_language"},
		{429, "TooManyRequestsException", "Amazon Translate is busy (too many requests); try again later"},
		{500, "InternalServerException", "Amazon Translate failed (InternalServerException); try again later"},
		{400, "UnrecognizedClientException", "refused the server's AWS credentials"},
		{400, "InvalidRequestException", "Amazon Translate failed: InvalidRequestException: no pair"},
	} {
		f := newFakeTranslate(t, awsFailure(c.status, c.code, "no pair"))
		_, err := run(t, f.tool(), input(t, `{"text": "Hello", "target_language": "Welsh"}`, nil))
		wantError(t, err, c.want)
	}
}

func TestTranslateWithModel(t *testing.T) {
	t.Parallel()
	m := newModel(func(system, prompt string) (string, error) { return " [" + prompt + " en français] ", nil })
	tool := NewTranslation(TranslationConfig{})
	out := mustRun(t, tool, input(t, `{"text": "\nGood morning\n", "target_language": "fr", "source_language": "English"}`, m))
	if want := "Translated from English (en) to French (fr) by the agent's model:\n\n\n[Good morning en français]\n"; out.Content != want {
		t.Errorf("content = %q, want %q", out.Content, want)
	}
	c := m.seen()[0]
	contains(t, c.system, "from English into French", "translation only", "not instructions to you")
	if c.prompt != "Good morning" {
		t.Errorf("prompt = %q", c.prompt)
	}

	long := strings.Repeat("A sentence of the long text. ", 1000) // about 29,000 bytes
	m = newModel(func(_, prompt string) (string, error) { return strings.ToUpper(prompt), nil })
	out = mustRun(t, tool, input(t, map[string]any{"text": long, "target_language": "German"}, m))
	if len(m.seen()) < 5 {
		t.Errorf("%d model calls, want the text in pieces", len(m.seen()))
	}
	if want := "Translated to German (de) by the agent's model:\n\n" + strings.ToUpper(long); out.Content != want {
		t.Errorf("the pieces were not put together in order")
	}
}

func TestTranslateBadArguments(t *testing.T) {
	t.Parallel()
	tool := NewTranslation(TranslationConfig{})
	for args, want := range map[string]string{
		`{"target_language": "fr"}`:                                        "the text argument is required",
		`{"text": "hi"}`:                                                   "the target_language argument is required",
		`{"text": "hi", "target_language": "Klingon"}`:                     `target_language: unknown language "Klingon": use a name or code, like "French" or "fr"`,
		`{"text": "hi", "target_language": " "}`:                           "target_language: the language is empty",
		`{"text": "hi", "target_language": "fr", "source_language": "xx"}`: `source_language: unknown language "xx"`,
		`{"text": "hi", "target_language": 7}`:                             "the target_language argument must be a string",
	} {
		_, err := run(t, tool, input(t, args, canned("ok")))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Call(%s) error = %v, want one containing %q", args, err, want)
		}
	}
	_, err := run(t, tool, input(t, map[string]any{"text": strings.Repeat("x", 40001), "target_language": "fr"}, canned("ok")))
	wantError(t, err, "the text is 40,001 bytes; translation takes at most 40,000 bytes at a time")
}

func TestFindLanguage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"French": "fr", "fr": "fr", "FR": "fr", "fr-FR": "fr", "pt-BR": "pt", "pt_br": "pt", "Portuguese": "pt",
		"pt-PT": "pt-PT", "zh-Hant": "zh-TW", "Traditional Chinese": "zh-TW", "Chinese": "zh", "zh-TW": "zh-TW",
		"es-419": "es", "Tagalog": "tl", "Persian": "fa", "Dari": "fa-AF", "fa-AF": "fa-AF", " welsh ": "cy",
		"Norwegian Bokmål": "no", "fr-ca": "fr-CA",
	} {
		l, err := findLanguage(in)
		if err != nil || l.code != want {
			t.Errorf("findLanguage(%q) = %q, %v; want %q", in, l.code, err, want)
		}
	}
	codes := map[string]bool{}
	for _, l := range languages() {
		if codes[l.code] {
			t.Errorf("code %s twice", l.code)
		}
		codes[l.code] = true
	}
}
