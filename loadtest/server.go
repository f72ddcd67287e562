package main

// Building and starting the Atrium server a scenario runs against, or
// pointing at one that already runs.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is the Atrium a scenario talks to.
type server struct {
	base string // http://host:port
	pid  int    // 0 when unknown (then no RSS or CPU figures)

	cmd    *exec.Cmd // nil for a server we did not start
	dir    string    // its temporary data directory
	exited chan struct{}
	keep   bool // keep dir after stopping (for its log)
}

// serverConfig is what a scenario asks of a server it starts.
type serverConfig struct {
	echoRate   float64 // ATRIUM_ECHO_RATE
	echoTokens int     // ATRIUM_ECHO_TOKENS
	sendQueue  int     // ATRIUM_SEND_QUEUE; 0 keeps the server's default
	runners    int     // ATRIUM_RUNNER_CONCURRENCY; 0 keeps the default
	// env is more NAME=value variables; they win over our own
	// environment's (the last of duplicates counts).
	env []string
}

// moduleRoot is the directory of the go.mod that holds cmd/atrium.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the atrium module: run from the repository or pass -bin")
	}
	return filepath.Dir(gomod), nil
}

// goTool is the go command: the one on PATH, else the toolchain's own.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// buildServer builds ./cmd/atrium of the module into dir and returns the
// binary's path.
func buildServer(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "atrium")
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "./cmd/atrium")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/atrium: %v\n%s", err, out)
	}
	return bin, nil
}

// startServer runs `bin serve` on a random loopback port with a fresh data
// directory and returns once it prints the address it listens on.
func startServer(ctx context.Context, bin string, cfg serverConfig) (*server, error) {
	dir, err := os.MkdirTemp("", "atrium-loadtest-")
	if err != nil {
		return nil, err
	}
	env := []string{
		"ATRIUM_ADDR=127.0.0.1:0",
		"ATRIUM_DATA_DIR=" + filepath.Join(dir, "data"),
		"ATRIUM_LOG_LEVEL=warn",
		"ATRIUM_ECHO_RATE=" + strconv.FormatFloat(cfg.echoRate, 'f', -1, 64),
		"ATRIUM_ECHO_TOKENS=" + strconv.Itoa(cfg.echoTokens),
	}
	if cfg.sendQueue > 0 {
		env = append(env, "ATRIUM_SEND_QUEUE="+strconv.Itoa(cfg.sendQueue))
	}
	if cfg.runners > 0 {
		env = append(env, "ATRIUM_RUNNER_CONCURRENCY="+strconv.Itoa(cfg.runners))
	}
	// Our own environment, less what would point the server elsewhere or
	// stop it (an unknown ATRIUM_* variable refuses to start).
	// ATRIUM_DEBUG_ADDR passes, to profile the server under load.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ATRIUM_") && k != "ATRIUM_DEBUG_ADDR" || k == "DATABASE_URL" || k == "NATS_URL" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, cfg.env...)
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stderr = logFile
	// The server must not outlive the load generator.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{pid: cmd.Process.Pid, cmd: cmd, dir: dir, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(s.exited)
	}()

	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "listening on "); ok {
				found <- strings.Fields(rest)[0]
				break
			}
		}
		close(found)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case base, ok := <-found:
		if ok && strings.HasPrefix(base, "http://") {
			s.base = base
			return s, nil
		}
		<-s.exited
		err = fmt.Errorf("atrium exited before listening: %s", s.logTail())
	case <-time.After(60 * time.Second):
		err = fmt.Errorf("atrium did not print its address within 60s: %s", s.logTail())
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.stop()
	return nil, err
}

// attachServer uses a server that already runs at base; pid may be 0.
func attachServer(base string, pid int) *server {
	return &server{base: strings.TrimRight(base, "/"), pid: pid}
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	if len(b) == 0 {
		return "(no log)"
	}
	return strings.TrimSpace(string(b))
}

// alive reports whether a server we started still runs.
func (s *server) alive() bool {
	if s.cmd == nil {
		return true
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop ends a server we started (SIGTERM, then SIGKILL after 20 s) and
// removes its data directory. It does nothing to a server we did not start.
func (s *server) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	if !s.keep {
		if os.RemoveAll(s.dir) != nil {
			time.Sleep(time.Second) // a file still being closed: try once more
			os.RemoveAll(s.dir)
		}
	}
	s.cmd = nil
}
