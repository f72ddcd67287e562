package hub_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents/provider/echo"
)

// nodeClient returns the path of the socket.io-client test script, failing
// the test if its npm packages are not installed (make test installs them).
func nodeClient(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is needed for the Socket.IO tests (the official socket.io-client)")
	}
	dir, _ := filepath.Abs("testdata/sio")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client")); err != nil {
		t.Fatalf("socket.io-client is not installed: run `npm ci --prefix %s` (make test does)", dir)
	}
	return filepath.Join(dir, "client.mjs")
}

func TestOfficialSocketIOClient(t *testing.T) {
	t.Parallel()
	script := nodeClient(t)
	e := newEnv(t, echo.Config{Tokens: 25, Rate: 500})
	g, err := e.ws.AuthorizeChat(context.Background(), e.viewer.ID, e.chat)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{
		"url":                      e.nodes[0].srv.URL,
		"chat_id":                  e.chat,
		"workspace_id":             e.wsID,
		"owner_token":              e.token(e.owner),
		"owner_email":              e.owner.Email,
		"member_token":             e.token(e.member),
		"viewer_connection_string": g.Token,
		"owner_message_string":     e.messageString(e.owner),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(os.Environ(), "ATRIUM_SIO_TEST="+string(cfg))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("socket.io-client run failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
