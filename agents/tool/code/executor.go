package code

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/workspaces"
)

// Name is the tool's name, as agent configurations enable it.
const Name = "code_executor"

// Config configures the executor. Its zero value works.
type Config struct {
	// Timeout is the wall-clock time a run may take before it is killed.
	// Zero means 10 seconds.
	Timeout time.Duration
	// CPUTime is the CPU time each process of a run may use, in whole
	// seconds (rounded up). Zero means Timeout.
	CPUTime time.Duration
	// MemoryBytes caps each process's address space (RLIMIT_AS). Zero
	// means 256 MiB.
	MemoryBytes int64
	// OutputBytes caps what the result shows of stdout and stderr
	// together; the rest is read and dropped. Zero means 60 KiB, so the
	// result with its status lines stays under the agent loop's 64 KiB.
	OutputBytes int
	// FileBytes caps each file the code writes (RLIMIT_FSIZE), and so each
	// file kept from a run. Zero means 10 MiB.
	FileBytes int64
	// OpenFiles caps each process's open files (RLIMIT_NOFILE). Zero means
	// 256.
	OpenFiles int
	// Processes caps processes and threads (RLIMIT_NPROC). The kernel
	// counts them per user, so when Atrium runs as root, and every run's
	// code as nobody, concurrent runs share it. Zero means 128.
	Processes int
	// Python is the interpreter, a path or a name on PATH. Empty means
	// python3: the first on PATH that the sandbox's user can run, else
	// /usr/bin/python3 or /usr/local/bin/python3.
	Python string
	// Dir is where each run's temporary directory is made; nobody must be
	// able to search it when Atrium runs as root. Empty means os.TempDir().
	Dir string
	// Concurrency is how many runs may go at once; more wait their turn.
	// Zero means the number of CPUs.
	Concurrency int
	// AllowSameUser lets code run when Atrium is not root. It then runs
	// as Atrium's own user in a user namespace: without network, and
	// unable to reach other processes, but able to read and write every
	// file Atrium's user can, the database included. False (the default)
	// refuses to run code there: run Atrium as root, and code runs as
	// nobody.
	AllowSameUser bool
}

// Limits that are not configured.
const (
	// maxCodeBytes bounds the code of one call.
	maxCodeBytes = 100 << 10
	// timeoutMargin is what Timeout adds to a run's limit for setting up
	// the sandbox and keeping the files, so that the agent loop's own
	// deadline does not cut a run that is still within its limit.
	timeoutMargin = 15 * time.Second
)

// Store keeps the files runs read and write; *agents.Files is one.
type Store interface {
	// List returns the files the conversation may see, newest first.
	List(ctx context.Context, agent agents.ID, conv workspaces.ChatID) ([]agents.File, error)
	// Open opens a file's bytes; the caller closes them.
	Open(f agents.File) (*os.File, error)
	// Save stores a new file.
	Save(ctx context.Context, a agents.Agent, conv workspaces.ChatID, name, contentType, source string, r io.Reader) (agents.File, error)
}

var _ Store = (*agents.Files)(nil)

// Executor is the code_executor tool. It is safe for concurrent use.
type Executor struct {
	cfg   Config
	store Store
	slots chan struct{} // one token per run going

	mu   sync.Mutex // guards the following field
	plan *plan      // how runs are sandboxed; nil until one worked
}

var (
	_ agents.Tool      = (*Executor)(nil)
	_ agents.TimedTool = (*Executor)(nil)
)

// New returns the code_executor tool. Files of the conversation are
// copied into each run and the files it writes are saved to store; a nil
// store means neither.
func New(cfg Config, store Store) *Executor {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.CPUTime <= 0 {
		cfg.CPUTime = cfg.Timeout
	}
	if cfg.MemoryBytes <= 0 {
		cfg.MemoryBytes = 256 << 20
	}
	if cfg.OutputBytes <= 0 {
		cfg.OutputBytes = 60 << 10
	}
	if cfg.FileBytes <= 0 {
		cfg.FileBytes = 10 << 20
	}
	if cfg.OpenFiles <= 0 {
		cfg.OpenFiles = 256
	}
	if cfg.Processes <= 0 {
		cfg.Processes = 128
	}
	if cfg.Dir == "" {
		cfg.Dir = os.TempDir()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = runtime.NumCPU()
	}
	return &Executor{cfg: cfg, store: store, slots: make(chan struct{}, cfg.Concurrency)}
}

// Timeout is the longest one call may take: a run's limit and the time to
// set it up and keep its files.
func (e *Executor) Timeout() time.Duration { return e.cfg.Timeout + timeoutMargin }

const params = `{"type":"object","properties":{"code":{"type":"string",` +
	`"description":"A complete Python 3 program. Print what you want to see."}},"required":["code"]}`

// Spec describes the tool to the model.
func (e *Executor) Spec() agents.ToolSpec {
	return agents.ToolSpec{
		Name: Name,
		Description: fmt.Sprintf("Run a Python 3 program in a sandbox and return its stdout, stderr and exit status. "+
			"Use it to calculate, analyse data or make files. The sandbox has no network access. "+
			"A run may take %v, use %s of memory and show %s of output. "+
			"The conversation's files are in the working directory under their names; "+
			"files the program writes there (at most %d, %s each) are kept as the conversation's files.",
			e.cfg.Timeout, safehttp.FormatSize(e.cfg.MemoryBytes), safehttp.FormatSize(int64(e.cfg.OutputBytes)),
			maxKeptFiles, safehttp.FormatSize(e.cfg.FileBytes)),
		Parameters: json.RawMessage(params),
	}
}

// Call runs the code in the arguments. A program that fails is a result
// (its traceback and exit status are what the model needs); an error means
// the code could not be run.
func (e *Executor) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	code, err := parseCode(in.Arguments)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	case <-ctx.Done():
		return agents.ToolOutput{}, ctx.Err()
	}
	p, err := e.setup(ctx)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	return e.execute(ctx, p, in, code)
}

// parseCode returns the code argument, refusing a missing, empty or
// oversized one.
func parseCode(args json.RawMessage) (string, error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(args, &obj) != nil || obj == nil {
		return "", errors.New(`the arguments must be a JSON object like {"code": "print(1 + 1)"}`)
	}
	raw, ok := obj["code"]
	if !ok {
		return "", errors.New(`the code argument is required, like {"code": "print(1 + 1)"}`)
	}
	var code string
	if string(raw) == "null" || json.Unmarshal(raw, &code) != nil {
		return "", errors.New("the code argument must be a string holding a Python program")
	}
	if strings.TrimSpace(code) == "" {
		return "", errors.New("the code is empty: write a Python program that prints what you want to see")
	}
	if len(code) > maxCodeBytes {
		return "", fmt.Errorf("the code is %s, more than the %s a run takes: write shorter code, or have it read its data from a file",
			safehttp.FormatSize(int64(len(code))), safehttp.FormatSize(maxCodeBytes))
	}
	return code, nil
}
