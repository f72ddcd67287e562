package hub_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/hub"
)

// TestSocketIOPacketsWithoutDataDoNotCrash sends, over Socket.IO's long
// polling (served by the library), event and ack packets without their
// data. The library's own handling of those panics on a goroutine of its
// own, which ended the process (and this test's); now the connection is
// closed and the server goes on serving. ("451-" announces a binary event
// whose attachment never comes: waited for, not a crash either.)
func TestSocketIOPacketsWithoutDataDoNotCrash(t *testing.T) {
	e := newEnvWith(t, echo.Config{Tokens: 3, Rate: -1}, hub.Config{SendQueue: 64})
	base := e.nodes[0].srv.URL + "/socket.io/?EIO=4&transport=polling"
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(method, url, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, packet := range []string{"42", "421", "43", "431", "42/,", "451-"} {
		st, open := do("GET", base, "")
		i := strings.Index(open, `"sid":"`)
		if st != http.StatusOK || i < 0 {
			t.Fatalf("handshake = %d %q", st, open)
		}
		sid := open[i+7:]
		sid = sid[:strings.IndexByte(sid, '"')]
		url := base + "&sid=" + sid
		if st, body := do("POST", url, `40{"token":"`+e.token(e.owner)+`"}`); st != http.StatusOK {
			t.Fatalf("connect = %d %q", st, body)
		}
		if st, body := do("GET", url, ""); st != http.StatusOK || !strings.Contains(body, "40{") {
			t.Fatalf("connect answer = %d %q", st, body)
		}
		// The library answers 429 when it closes the session under a
		// request; before, it crashed the process.
		if st, body := do("POST", url, packet); st == http.StatusOK && packet != "451-" {
			t.Errorf("POST %q = %d %q, want the session closed", packet, st, body)
		}
	}
	if st, body := do("GET", base, ""); st != http.StatusOK || !strings.Contains(body, `"sid"`) {
		t.Fatalf("a new handshake after the bad packets = %d %q", st, body)
	}
}
