package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

// startProcess builds atrium and runs `atrium serve` as a process of its
// own with env, returning it and the URL it listens on once it prints it.
func startProcess(t *testing.T, env []string) (*exec.Cmd, string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "atrium")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve")
	// Only env configures it: the test's own ATRIUM_TEST_* settings are
	// unknown to atrium, which refuses them.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ATRIUM_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), "listening on "); ok {
			go func() {
				for lines.Scan() {
				}
			}()
			return cmd, strings.Fields(rest)[0]
		}
	}
	cmd.Wait()
	t.Fatalf("atrium serve exited before listening: %s", stderr.String())
	return nil, ""
}

// TestClientOfAKilledNodeResumesOnAnother kills (SIGKILL, no shutdown) the
// node a client watches a run through; the client reconnects to another
// node sharing NATS and the database and, joining with since, gets every
// event after the last it saw, with no gap, to the end of the run.
func TestClientOfAKilledNodeResumesOnAnother(t *testing.T) {
	t.Parallel()
	dbURL := sqldbtest.URL(t)
	if dbURL == "" {
		t.Skip("two processes share a database only on PostgreSQL: set ATRIUM_TEST_DATABASE_URL (CI does)")
	}
	nats, err := bus.Start(context.Background(), bus.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nats.Close() })
	env := func(roles string) []string {
		return []string{
			"ATRIUM_ADDR=127.0.0.1:0", "ATRIUM_DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + dbURL, "ATRIUM_ROLES=" + roles,
			"NATS_URL=" + nats.ClientURL(), "ATRIUM_LOG_LEVEL=warn", "ATRIUM_JWT_SECRET=" + strings.Repeat("s", 32),
			"ATRIUM_ECHO_RATE=50", "ATRIUM_ECHO_TOKENS=60",
		}
	}
	// A serves the client only; B runs the agent (and serves too), so the
	// run goes on while A is gone.
	procA, a := startProcess(t, env("gateway,hub"))
	b := startNode(t, env("gateway,hub,runner")).url

	token, chat, ms := echoChat(t, a, b)

	onA := dialLive(t, a, token)
	onA.send("join", map[string]any{"chat_id": chat})
	onA.send("message", map[string]any{"chat_id": chat, "message_string": ms, "content": "hello"})
	seen := onA.until("run.delta")
	last := seqOf(seen[len(seen)-1])
	if err := procA.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	procA.Wait()

	resumeOn(t, b, token, chat, last)
}
