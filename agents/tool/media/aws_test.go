package media

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// fakeAWS is Polly, Textract and Transcribe Streaming on one TLS server
// speaking HTTP/2, as the services do: Polly's REST-JSON POST /v1/speech,
// Textract's JSON 1.1 POST / with X-Amz-Target, and Transcribe's
// bidirectional event stream on POST /stream-transcription. Each request
// is recorded for the test to check.
type fakeAWS struct {
	srv *httptest.Server
	// The handlers answer; a test sets the ones it uses.
	polly      func(w http.ResponseWriter, body pollyRequest)
	textract   func(w http.ResponseWriter, body textractRequest)
	transcribe func(w http.ResponseWriter, r *http.Request)
	seen       chan seenRequest
}

type seenRequest struct {
	path   string
	header http.Header
	body   any
}

type pollyRequest struct {
	Text, VoiceId, Engine, OutputFormat, TextType string
}

type textractRequest struct {
	Document struct{ Bytes []byte }
}

func newFakeAWS(t *testing.T) *fakeAWS {
	t.Helper()
	f := &fakeAWS{seen: make(chan seenRequest, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/speech", func(w http.ResponseWriter, r *http.Request) {
		f.check(t, r)
		var body pollyRequest
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("polly body: %v", err)
		}
		f.record(t, r, body)
		f.polly(w, body)
	})
	mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) {
		f.check(t, r)
		if got := r.Header.Get("X-Amz-Target"); got != "Textract.DetectDocumentText" {
			t.Errorf("X-Amz-Target = %q", got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
			t.Errorf("Content-Type = %q", got)
		}
		var body textractRequest
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("textract body: %v", err)
		}
		f.record(t, r, body)
		f.textract(w, body)
	})
	mux.HandleFunc("POST /stream-transcription", func(w http.ResponseWriter, r *http.Request) {
		f.check(t, r)
		f.transcribe(w, r)
	})
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.EnableHTTP2 = true
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// check checks what every AWS request has: HTTP/2 and a SigV4 signature.
func (f *fakeAWS) check(t *testing.T, r *http.Request) {
	t.Helper()
	if r.ProtoMajor != 2 {
		t.Errorf("%s %s over %s, want HTTP/2", r.Method, r.URL.Path, r.Proto)
	}
	if a := r.Header.Get("Authorization"); !bytes.HasPrefix([]byte(a), []byte("AWS4-HMAC-SHA256 Credential=AKIDTEST/")) {
		t.Errorf("Authorization = %q", a)
	}
}

func (f *fakeAWS) record(t *testing.T, r *http.Request, body any) {
	select {
	case f.seen <- seenRequest{path: r.URL.Path, header: r.Header.Clone(), body: body}:
	default:
		t.Errorf("more requests than the test expected")
	}
}

// requests returns the requests seen so far.
func (f *fakeAWS) requests() []seenRequest {
	var out []seenRequest
	for {
		select {
		case r := <-f.seen:
			out = append(out, r)
		default:
			return out
		}
	}
}

// config is an AWS configuration pointing at the fake, with static
// credentials and one attempt per call. A nil fake is no AWS.
func (f *fakeAWS) config() *aws.Config {
	if f == nil {
		return nil
	}
	return &aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   f.srv.Client(),
		Retryer:      func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 1) },
	}
}

// awsError answers as the AWS JSON protocols refuse a request. The
// message member is "message" in Polly's and Textract's models and
// "Message" in Transcribe's; each SDK reads its own.
func awsError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message, "Message": message})
}

// eventFrame encodes one event-stream message.
func eventFrame(t *testing.T, headers map[string]string, payload []byte) []byte {
	t.Helper()
	var m eventstream.Message
	for k, v := range headers {
		m.Headers.Set(k, eventstream.StringValue(v))
	}
	m.Payload = payload
	var buf bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAudioEvents reads the client's signed event stream to its end and
// returns the audio of its AudioEvents. Each frame on the wire is a signed
// envelope (:date, :chunk-signature) whose payload is the event; the last
// is an empty envelope.
func readAudioEvents(t *testing.T, body io.Reader, onChunk func()) ([]byte, error) {
	dec := eventstream.NewDecoder()
	var audio []byte
	for {
		outer, err := dec.Decode(body, nil)
		if errors.Is(err, io.EOF) {
			return audio, nil
		}
		if err != nil {
			return audio, err
		}
		if outer.Headers.Get(":chunk-signature") == nil || outer.Headers.Get(":date") == nil {
			t.Errorf("an audio frame is not signed: %v", outer.Headers)
		}
		if len(outer.Payload) == 0 {
			continue // the end of the stream
		}
		inner, err := dec.Decode(bytes.NewReader(outer.Payload), nil)
		if err != nil {
			return audio, err
		}
		if got := inner.Headers.Get(":event-type"); got == nil || got.String() != "AudioEvent" {
			t.Errorf("event type = %v, want AudioEvent", got)
		}
		if got := inner.Headers.Get(":message-type"); got == nil || got.String() != "event" {
			t.Errorf("message type = %v", got)
		}
		audio = append(audio, inner.Payload...)
		if onChunk != nil {
			onChunk()
		}
	}
}
