package bedrock_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/bedrock"
)

func TestHTTPErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status   int
		code     string
		message  string
		attempts int // the SDK retries throttles and server faults
	}{
		{400, "ValidationException", "The provided model identifier is invalid.", 1},
		{403, "AccessDeniedException", "You don't have access to the model with the specified model ID.", 1},
		{403, "UnrecognizedClientException", "The security token included in the request is invalid.", 1},
		{404, "ResourceNotFoundException", "Model not found.", 1},
		{429, "ThrottlingException", "Too many requests, please wait before trying again.", 2},
		{500, "InternalServerException", "Internal server error.", 2},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, apiError(tc.status, tc.code, tc.message))
			var rec recorder
			_, err := f.provider(bedrock.Config{Name: "bedrock-eu"}).Stream(context.Background(), hello(), rec.emit)
			me, ok := agents.AsModelError(err)
			if !ok {
				t.Fatalf("err = %v, want a *agents.ModelError", err)
			}
			want := agents.ModelError{Provider: "bedrock-eu", Status: tc.status, Code: tc.code, Message: tc.message}
			if me.Provider != want.Provider || me.Status != want.Status || me.Code != want.Code || me.Message != want.Message {
				t.Errorf("error = %+v, want %+v", *me, want)
			}
			if len(rec.deltas) != 0 {
				t.Errorf("emitted %d deltas", len(rec.deltas))
			}
			if n := f.requests(); n != tc.attempts {
				t.Errorf("%d requests, want %d", n, tc.attempts)
			}
		})
	}
}

func TestSDKRetriesBeforeTheStream(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			apiError(503, "ServiceUnavailableException", "Service unavailable.")(w, r)
			return
		}
		script(messageStart(), text(0, "ok"), messageStop("end_turn"))(w, r)
	})
	resp, err := f.provider(bedrock.Config{}).Stream(context.Background(), hello(), (&recorder{}).emit)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "ok" || calls.Load() != 2 {
		t.Errorf("text %q after %d calls, want ok after 2", resp.Text, calls.Load())
	}
}

func TestExceptionsInTheStream(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ, code string
		status    int
	}{
		{"throttlingException", "ThrottlingException", 429},
		{"modelStreamErrorException", "ModelStreamErrorException", 424},
		{"internalServerException", "InternalServerException", 500},
		{"validationException", "ValidationException", 400},
		{"serviceUnavailableException", "ServiceUnavailableException", 503},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, script(messageStart(), text(0, "partial"), exception(tc.typ, "it broke")))
			var rec recorder
			_, err := f.provider(bedrock.Config{}).Stream(context.Background(), hello(), rec.emit)
			me, ok := agents.AsModelError(err)
			if !ok {
				t.Fatalf("err = %v, want a *agents.ModelError", err)
			}
			if me.Provider != "bedrock" || me.Code != tc.code || me.Status != tc.status || me.Message != "it broke" {
				t.Errorf("error = %+v", *me)
			}
			if rec.text() != "partial" {
				t.Errorf("emitted %q before the exception, want partial", rec.text())
			}
			// Deltas were emitted: the call must not be tried again.
			if n := f.requests(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestStreamCut(t *testing.T) {
	t.Parallel()
	cuts := map[string]http.HandlerFunc{
		// The response ends cleanly, between frames, before messageStop.
		"between frames": script(messageStart(), text(0, "par")),
		// The response ends cleanly in the middle of a frame.
		"mid frame": func(w http.ResponseWriter, r *http.Request) {
			startStream(w)
			send(w, messageStart(), text(0, "par"))
			b := text(0, "tial").encode()
			w.Write(b[:len(b)/2])
		},
		// The connection drops with no end to the chunked body.
		"connection dropped": func(w http.ResponseWriter, r *http.Request) {
			startStream(w)
			send(w, messageStart(), text(0, "par"))
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		},
	}
	for name, cut := range cuts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, cut)
			var rec recorder
			resp, err := f.provider(bedrock.Config{}).Stream(context.Background(), hello(), rec.emit)
			if err == nil {
				t.Fatalf("a cut stream succeeded: %+v", resp)
			}
			// The SDK reads a cut as the end of the stream; only the
			// missing messageStop tells them apart.
			if want := "bedrock: the stream ended before the model finished"; err.Error() != want {
				t.Errorf("err = %v, want %q", err, want)
			}
			if _, ok := agents.AsModelError(err); ok {
				t.Errorf("err = %v is a ModelError, but Bedrock did not say why", err)
			}
			if rec.text() != "par" {
				t.Errorf("emitted %q", rec.text())
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	t.Run("mid stream", func(t *testing.T) {
		t.Parallel()
		gone := make(chan struct{})
		f := newFake(t, hold(gone, messageStart(), text(0, "thinking")))
		var rec recorder
		_, err := f.provider(bedrock.Config{IdleTimeout: time.Second}).Stream(context.Background(), hello(), rec.emit)
		if !errors.Is(err, bedrock.ErrIdle) {
			t.Fatalf("err = %v, want ErrIdle", err)
		}
		if rec.text() != "thinking" {
			t.Errorf("emitted %q", rec.text())
		}
		waitClosed(t, gone, "the server to see the client leave")
	})
	t.Run("before the response", func(t *testing.T) {
		t.Parallel()
		gone := make(chan struct{})
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			defer close(gone)
			<-r.Context().Done()
		})
		_, err := f.provider(bedrock.Config{IdleTimeout: time.Second}).Stream(context.Background(), hello(), (&recorder{}).emit)
		if !errors.Is(err, bedrock.ErrIdle) {
			t.Fatalf("err = %v, want ErrIdle", err)
		}
		waitClosed(t, gone, "the server to see the client leave")
		if n := f.requests(); n != 1 {
			t.Errorf("%d requests, want 1: an idle call is not retried", n)
		}
	})
}

func TestCancel(t *testing.T) {
	t.Parallel()
	t.Run("mid stream", func(t *testing.T) {
		t.Parallel()
		gone := make(chan struct{})
		f := newFake(t, hold(gone, messageStart(), text(0, "first")))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Cancelled while the server holds the stream open; the default
		// idle timeout (60s) must not be what ends the call.
		start := time.Now()
		_, err := f.provider(bedrock.Config{}).Stream(ctx, hello(), func(agents.Delta) error {
			cancel()
			return nil
		})
		if err != context.Canceled {
			t.Fatalf("err = %v, want context.Canceled itself", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %s to return", d)
		}
		waitClosed(t, gone, "the server to see the client leave")
	})
	t.Run("before the response", func(t *testing.T) {
		t.Parallel()
		arrived, gone := make(chan struct{}), make(chan struct{})
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			defer close(gone)
			close(arrived)
			<-r.Context().Done()
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-arrived
			cancel()
		}()
		_, err := f.provider(bedrock.Config{}).Stream(ctx, hello(), (&recorder{}).emit)
		if err != context.Canceled {
			t.Fatalf("err = %v, want context.Canceled itself", err)
		}
		waitClosed(t, gone, "the server to see the client leave")
	})
}

func TestEmitError(t *testing.T) {
	t.Parallel()
	gone := make(chan struct{})
	f := newFake(t, hold(gone, messageStart(), text(0, "a"), text(0, "b")))
	stop := errors.New("the watcher left")
	calls := 0
	_, err := f.provider(bedrock.Config{}).Stream(context.Background(), hello(), func(agents.Delta) error {
		calls++
		return stop
	})
	if err != stop {
		t.Fatalf("err = %v, want emit's error itself", err)
	}
	if calls != 1 {
		t.Errorf("emit called %d times after failing", calls)
	}
	waitClosed(t, gone, "the server to see the client leave")
}

// hold sends frames, then keeps the stream open until the client leaves;
// it closes gone when the client has.
func hold(gone chan struct{}, frames ...frame) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer close(gone)
		startStream(w)
		send(w, frames...)
		<-r.Context().Done()
	}
}

// waitClosed waits for ch to close, failing after a generous deadline.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}
