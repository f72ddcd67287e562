package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// instantModel answers at once with words pieces: what is left of a
// request's time is the gateway's.
type instantModel struct{ words int }

func (m instantModel) Stream(ctx context.Context, req agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	for range m.words {
		if err := emit(agents.Delta{Text: " word"}); err != nil {
			return agents.ModelResponse{}, err
		}
	}
	return agents.ModelResponse{Text: strings.Repeat(" word", m.words), FinishReason: agents.FinishStop, Usage: agents.Usage{InputTokens: 5, OutputTokens: m.words}}, nil
}

// benchServer is the gateway with only what the completion routes use on
// a login JWT: the user's credits come from a SQLite database (read once a
// second, as in production), everything else is in memory.
func benchServer(b testing.TB) (http.Handler, string) {
	cat, err := agents.NewCatalogue([]agents.Model{{Name: "instant", Upstream: "instant"}}, map[string]agents.Provider{"instant": instantModel{words: 50}}, "")
	if err != nil {
		b.Fatal(err)
	}
	ws := workspaces.New(sqldbtest.Open(b), workspaces.Config{CreditCheckTTL: time.Second})
	user, err := ws.Register(context.Background(), "bench@example.com", "bench-password-1")
	if err != nil {
		b.Fatal(err)
	}
	tokens := workspaces.NewTokens([]byte("bench-secret-bench-secret-bench-secret"), time.Hour, nil)
	jwt, _, err := tokens.Issue(user.ID)
	if err != nil {
		b.Fatal(err)
	}
	h := NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Workspaces: ws, Tokens: tokens, Catalogue: cat}, Config{})
	return h, jwt
}

// BenchmarkSeed001Chat measures the gateway's own cost of one chat
// completion of 50 pieces, streamed and not: auth (a JWT), decoding,
// the model call, encoding.
func BenchmarkSeed001Chat(b *testing.B) {
	h, jwt := benchServer(b)
	for _, stream := range []bool{false, true} {
		body := benchChatBody(stream)
		b.Run(fmt.Sprintf("stream=%v", stream), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchChat(b, h, jwt, body)
			}
		})
	}
}

// TestSeed001BenchServerAnswers keeps BenchmarkSeed001Chat's setup working:
// `make test` does not run benchmarks.
func TestSeed001BenchServerAnswers(t *testing.T) {
	h, jwt := benchServer(t)
	if got := benchChat(t, h, jwt, benchChatBody(false)).Body.String(); !strings.Contains(got, strings.Repeat(" word", 50)) {
		t.Fatalf("answer: %s", got)
	}
	got := benchChat(t, h, jwt, benchChatBody(true)).Body.String()
	if strings.Count(got, `"content":" word"`) != 50 || !strings.HasSuffix(got, "data: [DONE]\n\n") {
		t.Fatalf("stream: %s", got)
	}
}

func benchChatBody(stream bool) string {
	return `{"model": "instant", "stream": ` + fmt.Sprint(stream) + `, "stream_options": {"include_usage": true}, "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there, how are you?"}], "temperature": 0.7, "max_tokens": 500}`
}

// benchChat posts one chat completion and fails unless it is answered.
func benchChat(tb testing.TB, h http.Handler, jwt, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/v1/api/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+jwt)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec
}

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return io.Discard.Write(p) }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Flush()                      {}

// BenchmarkSeed001StreamDelta measures one streamed chunk.
func BenchmarkSeed001StreamDelta(b *testing.B) {
	s := &server{cfg: Config{StreamPing: time.Hour}}
	cs := s.newCompletionStream(&discardWriter{h: http.Header{}}, completionID(true), "gpt-4o-mini", time.Now().Unix(), 1, true)
	defer cs.close()
	d := agents.Delta{Text: " token"}
	b.ReportAllocs()
	for b.Loop() {
		if err := cs.delta(0, d); err != nil {
			b.Fatal(err)
		}
	}
}
