package mcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atrium-hq/atrium/workspaces"
)

// dialed is an open client session and, for stdio, the child process
// and the end of its stderr.
type dialed struct {
	session *sdk.ClientSession
	cmd     *exec.Cmd   // nil for http
	stderr  *tailBuffer // nil for http
}

// close ends the session, waiting for a child process to exit (the SDK
// closes its stdin, then signals it), then kills what is left of the
// child's process group.
func (d dialed) close() {
	d.session.Close()
	if d.cmd != nil {
		killGroup(d.cmd)
	}
}

// dial connects to srv; onToolsChanged is called when the server says its
// tool list changed. ctx bounds connecting only. A failure is described
// for the user, with the end of a stdio child's stderr.
func (m *Manager) dial(ctx context.Context, srv Server, onToolsChanged func()) (d dialed, err error) {
	defer func() {
		if err != nil {
			err = describe(srv, "could not connect to", err, d.stderr)
		}
	}()
	client := sdk.NewClient(&sdk.Implementation{Name: "atrium", Version: m.cfg.Version}, &sdk.ClientOptions{
		Logger: m.cfg.SDKLogger,
		// No roots, sampling or elicitation: Atrium offers the server
		// nothing but tool calls.
		Capabilities: &sdk.ClientCapabilities{},
		ToolListChangedHandler: func(context.Context, *sdk.ToolListChangedRequest) {
			if onToolsChanged != nil {
				onToolsChanged()
			}
		},
	})
	switch srv.Transport {
	case TransportStdio:
		stderr := newTailBuffer(stderrKept)
		cmd, err := m.command(srv, stderr)
		if err != nil {
			return dialed{stderr: stderr}, err
		}
		t := &sdk.CommandTransport{Command: cmd, TerminateDuration: m.cfg.TerminateTimeout}
		s, err := client.Connect(ctx, t, nil)
		if err != nil {
			// Connect closes what it started, unless starting failed.
			if cmd.Process != nil {
				killGroup(cmd)
			}
			return dialed{stderr: stderr}, err
		}
		return dialed{session: s, cmd: cmd, stderr: stderr}, nil
	case TransportHTTP:
		u, err := url.Parse(srv.URL)
		if err != nil {
			return dialed{}, fmt.Errorf("url: %w", err)
		}
		t := &sdk.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: m.httpClient(u.Host, srv.Headers)}
		s, err := client.Connect(ctx, t, nil)
		if err != nil {
			return dialed{}, err
		}
		return dialed{session: s}, nil
	}
	return dialed{}, workspaces.Errorf(workspaces.KindInvalid, "Unknown transport_type %q", srv.Transport)
}

// command returns the child process of a stdio server, not started.
func (m *Manager) command(srv Server, stderr *tailBuffer) (*exec.Cmd, error) {
	if err := m.commands.check(srv.Command); err != nil {
		return nil, err
	}
	dir := filepath.Join(m.cfg.WorkDir, string(srv.ID))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make the working directory: %w", err)
	}
	cmd := exec.Command(srv.Command, srv.Args...)
	cmd.Dir = dir
	cmd.Env = m.childEnv(srv.Env)
	cmd.Stderr = stderr
	setProcessGroup(cmd)
	return cmd, nil
}

// childEnv is Config.BaseEnv's variables from Atrium's environment, then
// the server's own, sorted by name so a child's environment is stable.
func (m *Manager) childEnv(own map[string]string) []string {
	var env []string
	for _, k := range m.cfg.BaseEnv {
		if _, set := own[k]; set {
			continue
		}
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	for k, v := range own {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// httpClient returns a client that sends headers with every request to
// host, over the Manager's base client.
func (m *Manager) httpClient(host string, headers map[string]string) *http.Client {
	base := m.cfg.HTTPClient
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	h := make(http.Header, len(headers))
	for k, v := range headers {
		h.Set(k, v)
	}
	return &http.Client{
		Transport:     &headerTransport{next: next, host: host, headers: h},
		CheckRedirect: base.CheckRedirect,
		Jar:           base.Jar,
		// No Timeout: it would cut the long-lived event stream. Connecting
		// is bounded by Config.ConnectTimeout and calls by their context.
	}
}

// headerTransport adds a server's headers to the requests to its host,
// and only there: a redirect elsewhere must not carry its credentials.
type headerTransport struct {
	next    http.RoundTripper
	host    string
	headers http.Header
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(t.headers) == 0 || !strings.EqualFold(req.URL.Host, t.host) {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	for k, vs := range t.headers {
		r.Header[k] = vs
	}
	return t.next.RoundTrip(r)
}

// stderrKept is how much of a child's stderr is kept, and stderrShown
// how much of it an error message quotes.
const (
	stderrKept  = 8 << 10
	stderrShown = 2 << 10
)

// describe turns a failure of srv into an error for the user, with the
// end of a stdio child's stderr. A refused command is returned as is.
func describe(srv Server, what string, err error, stderr *tailBuffer) error {
	var we *workspaces.Error
	if errors.As(err, &we) {
		return err
	}
	msg := fmt.Sprintf("%s the MCP server %s: %v", what, srv.Name, err)
	if stderr != nil {
		if tail := stderr.last(stderrShown); tail != "" {
			msg += "\nstderr: " + tail
		}
	}
	return errors.New(msg)
}

// tailBuffer keeps the last bytes written to it: a child's stderr, for
// error messages.
type tailBuffer struct {
	max int

	mu  sync.Mutex // guards buf
	buf []byte
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{max: max} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept bytes as text, trimmed, starting at a line.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.ToValidUTF8(string(t.buf), "?")
	if len(t.buf) >= t.max {
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
	}
	return strings.TrimSpace(s)
}

// last returns at most n bytes of the end of the kept text, for messages.
func (t *tailBuffer) last(n int) string {
	s := t.String()
	if len(s) > n {
		s = "…" + strings.ToValidUTF8(s[len(s)-n:], "")
	}
	return s
}
