package generate

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// readOnlyBodies is the SDK's HTTP client, with its request bodies stripped
// of io.WriterTo, as in the Bedrock provider (agents/provider/bedrock,
// httpclient.go, which explains the race in full): the SDK closes a
// request's body when the response headers arrive, net/http may then copy
// the rest through WriteTo, get io.EOF, and close the connection under the
// response being read. Through Read, the closed body is a clean end.
type readOnlyBodies struct{ next aws.HTTPClient }

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
