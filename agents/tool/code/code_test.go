package code_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/code"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// newExecutor returns an executor with cfg, skipping the test where the
// machine has no Python at all. A machine with Python but no sandbox fails
// the test: the tool's whole point is the sandbox.
func newExecutor(t *testing.T, cfg code.Config, store code.Store) *code.Executor {
	t.Helper()
	// As root the code runs as nobody; a developer's tests, not as root,
	// may run it as their own user.
	cfg.AllowSameUser = os.Geteuid() != 0
	e := code.New(cfg, store)
	_, err := e.Call(t.Context(), agents.ToolInput{Arguments: json.RawMessage(`{"code": "pass"}`)})
	if errors.Is(err, code.ErrUnavailable) && strings.Contains(err.Error(), "no python3 found") {
		t.Skipf("no Python here: %v", err)
	}
	if err != nil {
		t.Fatalf("the executor cannot run code: %v", err)
	}
	return e
}

// run calls the executor with program src and returns its result.
func run(t *testing.T, e *code.Executor, in agents.ToolInput, src string) agents.ToolOutput {
	t.Helper()
	in.Arguments, _ = json.Marshal(map[string]string{"code": src})
	out, err := e.Call(t.Context(), in)
	if err != nil {
		t.Fatalf("code_executor: %v", err)
	}
	if !utf8.ValidString(out.Content) {
		t.Errorf("the result is not valid UTF-8: %q", out.Content)
	}
	return out
}

func mustContain(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("the result lacks %q:\n%s", w, got)
		}
	}
}

func TestPrintsOutputAndExitStatus(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, code.Config{}, nil)
	out := run(t, e, agents.ToolInput{}, "import sys\nprint('hello', 6 * 7)\nprint('señal ☃', file=sys.stderr)\nsys.exit(3)\n")
	mustContain(t, out.Content, "Exit status: 3", "stdout:\nhello 42\n", "stderr:\nseñal ☃")
	if len(out.FileIDs) != 0 {
		t.Errorf("FileIDs = %v without a store", out.FileIDs)
	}
	out = run(t, e, agents.ToolInput{}, "x = 1\n")
	mustContain(t, out.Content, "Exit status: 0", "printed nothing")
}

func TestErrorsShowTheirTraceback(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, code.Config{}, nil)
	out := run(t, e, agents.ToolInput{}, "print('before')\ndef f(:\n    pass\n")
	mustContain(t, out.Content, "Exit status: 1", "SyntaxError", "def f(:", "line 2")
	if strings.Contains(out.Content, "before") {
		t.Errorf("a program that does not compile printed:\n%s", out.Content)
	}
	out = run(t, e, agents.ToolInput{}, "def f(d):\n    return 1 / d\n\nprint(f(0))\n")
	mustContain(t, out.Content, "Exit status: 1", "Traceback (most recent call last)", "return 1 / d", "ZeroDivisionError")
	if strings.Contains(out.Content, "execv") || strings.Contains(out.Content, "resource") {
		t.Errorf("the traceback shows the sandbox's start-up:\n%s", out.Content)
	}
}

func TestTheNetworkIsUnreachable(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "reached")
	}))
	defer srv.Close()
	e := newExecutor(t, code.Config{}, nil)
	out := run(t, e, agents.ToolInput{}, fmt.Sprintf(`import socket, urllib.request
print("interfaces:", [n for _, n in socket.if_nameindex()])
try:
    print(urllib.request.urlopen(%q, timeout=3).read())
except Exception as e:
    print("http blocked:", e)
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    print("CONNECTED out")
except OSError as e:
    print("internet blocked:", e)
try:
    socket.getaddrinfo("example.com", 443)
    print("RESOLVED")
except OSError as e:
    print("dns blocked:", e)
`, srv.URL))
	mustContain(t, out.Content, "interfaces: ['lo']", "http blocked:", "internet blocked:", "dns blocked:")
	for _, bad := range []string{"reached", "CONNECTED", "RESOLVED"} {
		if strings.Contains(out.Content, bad) {
			t.Errorf("the code got through (%s):\n%s", bad, out.Content)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the test server saw %d requests from the sandbox", n)
	}
}

func TestTheTimeoutKillsEverything(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, code.Config{Timeout: 3 * time.Second}, nil)
	if e.Timeout() <= 3*time.Second {
		t.Fatalf("Timeout() = %v: the agent loop would cut the run before its own limit", e.Timeout())
	}
	for name, src := range map[string]string{
		"busy loop": "print('started', flush=True)\nwhile True: pass\n",
		"sleep":     "import time\ntime.sleep(60)\n",
		// A child in its own session, holding the output pipes, outside
		// the process group: only the end of the namespace (or the wait
		// delay) stops it from holding up the call.
		"escaped child": "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nelse:\n    time.sleep(60)\n",
	} {
		start := time.Now()
		out := run(t, e, agents.ToolInput{}, src)
		took := time.Since(start)
		mustContain(t, strings.ToLower(out.Content), "killed after 3s")
		if took > 20*time.Second { // far from the 60 s the code would take; loose for a loaded machine
			t.Errorf("%s: the call took %v with a 3s timeout", name, took)
		}
		if name == "busy loop" {
			mustContain(t, out.Content, "stdout:\nstarted")
		}
	}
	// A program that leaves a child behind ends when it does.
	start := time.Now()
	out := run(t, e, agents.ToolInput{}, "import subprocess\nsubprocess.Popen(['sleep', '60'])\nprint('bye')\n")
	mustContain(t, out.Content, "Exit status: 0", "bye")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("a program that left a sleeping child took %v", took)
	}
}

func TestMemoryIsCapped(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, code.Config{}, nil)
	out := run(t, e, agents.ToolInput{}, "x = bytearray(1024 ** 3)\nprint('ALLOCATED', len(x))\n")
	mustContain(t, out.Content, "MemoryError", "ran out of memory", "256 MiB")
	if strings.Contains(out.Content, "ALLOCATED") {
		t.Fatalf("1 GiB was allocated:\n%s", out.Content)
	}
	out = run(t, e, agents.ToolInput{}, "x = bytearray(100 * 1024 ** 2)\nprint('ALLOCATED', len(x))\n")
	mustContain(t, out.Content, "Exit status: 0", "ALLOCATED 104857600")
}

func TestCPUTimeIsCapped(t *testing.T) {
	t.Parallel()
	// The wall-clock limit is far off: the CPU limit must be what stops
	// the loop (on a loaded machine 1 s of CPU may take a few).
	e := newExecutor(t, code.Config{CPUTime: time.Second, Timeout: 30 * time.Second}, nil)
	out := run(t, e, agents.ToolInput{}, "while True: pass\n")
	mustContain(t, out.Content, "killed by SIGKILL", "CPU time limit of 1s")
	if strings.Contains(out.Content, "Killed after") {
		t.Fatalf("the wall clock stopped the loop, not the CPU limit:\n%s", out.Content)
	}
}

func TestOutputIsCapped(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, code.Config{OutputBytes: 2000}, nil)
	out := run(t, e, agents.ToolInput{}, "import sys\nprint('FIRST')\nfor i in range(20000): print('line', i)\nprint('LAST')\nprint('Traceback-like END', file=sys.stderr)\n")
	mustContain(t, out.Content, "Exit status: 0", "FIRST", "LAST", "Traceback-like END", "of output cut here")
	if len(out.Content) > 2600 {
		t.Errorf("the result is %d bytes with a 2000-byte output cap", len(out.Content))
	}

	// Output without end is killed, well before the time limit.
	e = newExecutor(t, code.Config{Timeout: 30 * time.Second}, nil)
	start := time.Now()
	out = run(t, e, agents.ToolInput{}, "import sys\nwhile True: sys.stdout.write('y' * 65536)\n")
	mustContain(t, out.Content, "Killed after printing more than 16 MiB")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the flood ran %v", took)
	}
	if len(out.Content) > 64<<10 {
		t.Errorf("the result is %d bytes", len(out.Content))
	}
}

func TestFileSizeIsCapped(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, code.Config{FileBytes: 1 << 20}, nil)
	out := run(t, e, agents.ToolInput{}, "open('big.bin', 'wb').write(b'x' * (2 << 20))\n")
	mustContain(t, out.Content, "File too large", "A file may be at most 1 MiB")
}

func TestOpenFilesAreCapped(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, code.Config{OpenFiles: 32}, nil)
	out := run(t, e, agents.ToolInput{}, "import resource\nprint('limits', resource.getrlimit(resource.RLIMIT_NOFILE))\nfs = [open('/dev/null') for _ in range(100)]\n")
	mustContain(t, out.Content, "limits (32, 32)", "Too many open files")
}

func TestEnvironmentSecretsAreNotVisible(t *testing.T) {
	// t.Setenv: not parallel.
	secrets := map[string]string{
		"OPENAI_API_KEY":        "sk-test-d0n0tleak",
		"AWS_SECRET_ACCESS_KEY": "aws-test-d0n0tleak",
		"DATABASE_URL":          "postgres://u:d0n0tleak@db/x",
		"PYTHONSTARTUP":         "/nonexistent-d0n0tleak.py",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	// Another process of Atrium's user, with the secrets in the
	// environment it was started with (Setenv does not change this test's
	// own /proc/PID/environ).
	other := exec.Command("sleep", "60")
	other.Env = append(os.Environ(), "OTHER_SECRET=d0n0tleak")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	e := newExecutor(t, code.Config{}, nil)
	out := run(t, e, agents.ToolInput{}, fmt.Sprintf(`import os
print(dict(os.environ))
for pid in (%d, %d, os.getppid(), 1):
    try:
        print(pid, open("/proc/%%d/environ" %% pid, "rb").read()[:4000])
    except OSError as e:
        print(pid, "denied:", e)
`, os.Getpid(), other.Process.Pid))
	if strings.Contains(out.Content, "d0n0tleak") {
		t.Fatalf("a secret of Atrium's environment reached the code:\n%s", out.Content)
	}
	mustContain(t, out.Content, "'HOME'", "Exit status: 0", fmt.Sprintf("%d denied:", other.Process.Pid))
}

func TestTheCodeCannotWriteOutsideItsDirectory(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("the code runs as Atrium's own user when Atrium is not root: only root can drop it to nobody")
	}
	private := t.TempDir()
	secret := filepath.Join(private, "secret.txt")
	if err := os.WriteFile(secret, []byte("private"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newExecutor(t, code.Config{}, nil)
	out := run(t, e, agents.ToolInput{}, fmt.Sprintf(`import os, sys
print("uid", os.getuid(), os.getgid(), os.getgroups())
for path in (%q, %q, os.path.abspath(sys.argv[0]), "/etc/atrium-pwned"):
    try:
        open(path, "a").write("pwned")
        print("WROTE", path)
    except OSError as e:
        print("refused:", path, e.strerror)
try:
    print("READ", open(%q).read())
except OSError as e:
    print("refused to read:", e.strerror)
open("mine.txt", "w").write("fine")
print("wrote mine.txt")
`, filepath.Join(private, "pwned"), secret, secret))
	mustContain(t, out.Content, "uid 65534 65534 []", "wrote mine.txt", "Permission denied")
	if strings.Contains(out.Content, "WROTE") || strings.Contains(out.Content, "READ") {
		t.Fatalf("the code reached outside its directory:\n%s", out.Content)
	}
	if _, err := os.Stat(filepath.Join(private, "pwned")); err == nil {
		t.Fatal("the code made a file in the test's directory")
	}
	if b, _ := os.ReadFile(secret); string(b) != "private" {
		t.Fatalf("the code changed a private file: %q", b)
	}
}

func TestTheRunDirectoryIsRemoved(t *testing.T) {
	t.Parallel()
	// Not t.TempDir(): nobody must pass through every directory above it.
	dir, err := os.MkdirTemp("", "code-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newExecutor(t, code.Config{Dir: dir}, nil)
	out := run(t, e, agents.ToolInput{}, "import os\nos.makedirs('a/b')\nopen('a/b/c', 'w').write('x')\nos.chmod('a', 0)\nprint(os.getcwd())\n")
	mustContain(t, out.Content, dir)
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Fatalf("the run left %v behind", left)
	}
}

// filesEnv is a real file store with an agent and a conversation.
func filesEnv(t *testing.T) (*agents.Files, agents.ToolInput) {
	t.Helper()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	u, err := ws.Register(ctx, "coder@x.io", "pw")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agents.New(db, ws).Create(ctx, u.ID, agents.NewAgent{Name: "coder", ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	store := agents.NewFiles(db, agents.FilesConfig{Dir: t.TempDir(), Secret: []byte("k")})
	return store, agents.ToolInput{Agent: a, ChatID: "chat-1"}
}

func readAll(t *testing.T, store *agents.Files, f agents.File) string {
	t.Helper()
	r, err := store.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWrittenFilesAreKept(t *testing.T) {
	t.Parallel()
	store, in := filesEnv(t)
	if _, err := store.Save(t.Context(), in.Agent, in.ChatID, "data.csv", "text/csv", "upload", strings.NewReader("n\n1\n2\n3\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(t.Context(), in.Agent, in.ChatID, "notes.txt", "text/plain", "upload", strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	e := newExecutor(t, code.Config{}, store)
	out := run(t, e, in, `import csv, os
rows = list(csv.DictReader(open("data.csv")))
total = sum(int(r["n"]) for r in rows)
print("total", total)
open("result.txt", "w").write("total=%d\n" % total)
open("notes.txt", "a").write(" and new")
os.makedirs("plots", exist_ok=True)
open("plots/chart.svg", "w").write("<svg/>")
os.makedirs(".cache", exist_ok=True)
open(".cache/junk", "w").write("junk")
os.symlink("/etc/passwd", "passwd-link")
open(os.path.join(os.environ["TMPDIR"], "scratch.tmp"), "w").write("tmp")
open(os.path.join(os.environ["HOME"], "rc"), "w").write("home")
`)
	mustContain(t, out.Content, "total 6", "Files kept:", "result.txt", "notes.txt", "chart.svg")
	if len(out.FileIDs) != 3 {
		t.Fatalf("FileIDs = %v, want result.txt, notes.txt and chart.svg:\n%s", out.FileIDs, out.Content)
	}
	want := map[string]string{"result.txt": "total=6\n", "notes.txt": "old and new", "chart.svg": "<svg/>"}
	for _, id := range out.FileIDs {
		f, err := store.File(t.Context(), in.Agent.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if f.Source != "tool" || f.Conversation != in.ChatID {
			t.Errorf("kept file %+v", f)
		}
		if got := readAll(t, store, f); got != want[f.Name] {
			t.Errorf("%s = %q, want %q", f.Name, got, want[f.Name])
		}
		if !strings.Contains(out.Content, id) {
			t.Errorf("the result does not name file_id %s", id)
		}
	}
	// The newest notes.txt is the run's; data.csv, left as it was, was not
	// kept again.
	f, err := store.Find(t.Context(), in.Agent.ID, in.ChatID, "notes.txt")
	if err != nil || readAll(t, store, f) != "old and new" {
		t.Fatalf("notes.txt now reads %v", err)
	}
	list, _ := store.List(t.Context(), in.Agent.ID, in.ChatID)
	if len(list) != 5 {
		t.Errorf("the conversation has %d files, want 2 uploads and 3 kept", len(list))
	}
	for _, bad := range []string{"passwd", "junk", "scratch.tmp", "rc"} {
		if _, err := store.Find(t.Context(), in.Agent.ID, in.ChatID, bad); err == nil || strings.Contains(out.Content, bad+" (") {
			t.Errorf("%s was kept:\n%s", bad, out.Content)
		}
	}
}

func TestAtMostFiveFilesAreKept(t *testing.T) {
	t.Parallel()
	store, in := filesEnv(t)
	e := newExecutor(t, code.Config{FileBytes: 1 << 20}, store)
	out := run(t, e, in, `for i in range(8):
    open("f%d.txt" % i, "w").write(str(i))
open("huge.bin", "wb").write(b"x" * (1 << 20))
`)
	if len(out.FileIDs) != 5 {
		t.Fatalf("FileIDs = %v, want 5", out.FileIDs)
	}
	mustContain(t, out.Content, "Not kept (a run keeps at most 5 files)", "f5.txt, f6.txt, f7.txt")
	if strings.Contains(out.Content, "huge.bin (") {
		t.Errorf("huge.bin was kept:\n%s", out.Content)
	}
}

func TestArgumentsAreChecked(t *testing.T) {
	t.Parallel()
	e := code.New(code.Config{}, nil) // no Python needed: nothing runs
	cases := []struct {
		name, args, want string
	}{
		{"not an object", `["print(1)"]`, "JSON object"},
		{"missing code", `{}`, "code argument is required"},
		{"misnamed", `{"source": "print(1)"}`, "code argument is required"},
		{"null code", `{"code": null}`, "must be a string"},
		{"number", `{"code": 42}`, "must be a string"},
		{"list", `{"code": ["print(1)"]}`, "must be a string"},
		{"empty", `{"code": ""}`, "empty"},
		{"blank", `{"code": " \n\t "}`, "empty"},
		{"huge", fmt.Sprintf(`{"code": "x = 1\n%s"}`, strings.Repeat(`# padding padding padding\n`, 8000)), "more than the 100 KiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.Call(t.Context(), agents.ToolInput{Arguments: json.RawMessage(c.args)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestARunDirectoryNobodyCannotReachIsReported(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only code run as nobody needs to pass through the directories above its own")
	}
	e := code.New(code.Config{Dir: t.TempDir()}, nil) // under a 0700 directory
	_, err := e.Call(t.Context(), agents.ToolInput{Arguments: json.RawMessage(`{"code": "print(1)"}`)})
	if !errors.Is(err, code.ErrUnavailable) || !strings.Contains(err.Error(), "cannot pass through") {
		t.Fatalf("error %v, want one saying nobody cannot pass through the directory", err)
	}
}

func TestNotRootNeedsAllowSameUser(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("as root, code runs as nobody")
	}
	e := code.New(code.Config{}, nil)
	_, err := e.Call(t.Context(), agents.ToolInput{Arguments: json.RawMessage(`{"code": "print(1)"}`)})
	if !errors.Is(err, code.ErrUnavailable) || !strings.Contains(err.Error(), "AllowSameUser") {
		t.Fatalf("error %v, want one naming AllowSameUser", err)
	}
}

func TestSpec(t *testing.T) {
	t.Parallel()
	e := code.New(code.Config{Timeout: 5 * time.Second}, nil)
	s := e.Spec()
	var schema map[string]any
	if s.Name != "code_executor" || json.Unmarshal(s.Parameters, &schema) != nil || schema["type"] != "object" {
		t.Fatalf("spec %+v", s)
	}
	mustContain(t, s.Description, "no network", "5s", "256 MiB")
	if e.Timeout() != 5*time.Second+15*time.Second {
		t.Errorf("Timeout() = %v", e.Timeout())
	}
}
