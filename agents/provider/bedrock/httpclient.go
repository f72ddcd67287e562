package bedrock

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// readOnlyBodies is the SDK's HTTP client, with its request bodies stripped
// of io.WriterTo.
//
// Why: the SDK closes a request's body as soon as the response headers
// arrive, and its body's WriteTo then fails with io.EOF. net/http, after
// writing a body of known length, copies the rest of it once more to check
// for extra bytes; when the response wins that race, the copy goes through
// WriteTo, the io.EOF counts as a failed write, and the connection is
// closed under the response stream being read ("use of closed network
// connection"). Through Read, the same closed body is a clean end. The race
// needs a starved writer goroutine, so it is rare against AWS and common
// on a loaded machine (fuzzing here lost it on about half the calls).
type readOnlyBodies struct{ next aws.HTTPClient }

// ReadOnlyBodies wraps an AWS SDK HTTP client so its request bodies are
// read only through Read (see readOnlyBodies for the race this avoids).
// Every AWS client of Atrium that streams a response should use it.
func ReadOnlyBodies(next aws.HTTPClient) aws.HTTPClient { return readOnlyBodies{next: next} }

// Do sends req with its body behind Read and Close only.
func (c readOnlyBodies) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return c.next.Do(req)
	}
	r := req.WithContext(req.Context()) // a shallow copy: req is the SDK's
	r.Body = readCloser{req.Body}
	return c.next.Do(r)
}

// readCloser hides every method of its ReadCloser but Read and Close.
type readCloser struct{ rc io.ReadCloser }

func (b readCloser) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readCloser) Close() error               { return b.rc.Close() }
