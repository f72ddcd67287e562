package bedrock_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/atrium-hq/atrium/agents/provider/bedrock"
)

// bodyCheck is an HTTP client that notes whether the request bodies it is
// given can be written with io.WriterTo.
type bodyCheck struct {
	client   *http.Client
	writerTo chan bool
}

func (c bodyCheck) Do(req *http.Request) (*http.Response, error) {
	_, ok := req.Body.(io.WriterTo)
	c.writerTo <- ok
	return c.client.Do(req)
}

func TestRequestBodiesHaveNoWriteTo(t *testing.T) {
	t.Parallel()
	// Through WriteTo, the SDK's closed body makes net/http drop the
	// connection under a live response stream (see readOnlyBodies); the
	// caller's own HTTP client gets the guarded body too.
	f := newFake(t, script(messageStart(), text(0, "ok"), messageStop("end_turn")))
	hc := bodyCheck{client: &http.Client{Transport: &http.Transport{}}, writerTo: make(chan bool, 4)}
	defer hc.client.CloseIdleConnections()
	awsCfg := testAWSConfig()
	awsCfg.HTTPClient = hc
	p := bedrock.NewFromConfig(awsCfg, bedrock.Config{Endpoint: f.srv.URL})
	resp, err := p.Stream(context.Background(), hello(), (&recorder{}).emit)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "ok" {
		t.Errorf("text = %q", resp.Text)
	}
	if <-hc.writerTo {
		t.Error("the request body has WriteTo")
	}
}
