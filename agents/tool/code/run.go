package code

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bootstrap is the Python that sets a run's limits on itself and execs a
// fresh interpreter on the code (see the package doc). It reads no user
// input but its arguments: CPU seconds, address space, file size, open
// files, processes, the interpreter and the script. A failure exits 125
// with a line starting "atrium-sandbox:", and the code does not run.
const bootstrap = `import os, resource as r, sys
def lim(k, soft, hard):
    cur = r.getrlimit(k)[1]
    if cur != r.RLIM_INFINITY:
        soft, hard = min(soft, cur), min(hard, cur)
    r.setrlimit(k, (soft, hard))
try:
    cpu, mem, fsize, files, procs = (int(a) for a in sys.argv[1:6])
    lim(r.RLIMIT_CPU, cpu, cpu)
    lim(r.RLIMIT_AS, mem, mem)
    lim(r.RLIMIT_FSIZE, fsize, fsize)
    lim(r.RLIMIT_NOFILE, files, files)
    lim(r.RLIMIT_NPROC, procs, procs)
    lim(r.RLIMIT_CORE, 0, 0)
    os.execv(sys.argv[6], [sys.argv[6], "-I", sys.argv[7]])
except BaseException as e:
    sys.stderr.write("atrium-sandbox: %s\n" % e)
    sys.stderr.flush()
    os._exit(125)
`

// bootstrapFailed is the exit status and stderr prefix of a bootstrap
// that could not set the limits.
const (
	bootstrapFailed = 125
	bootstrapPrefix = "atrium-sandbox: "
)

// waitDelay is how long Wait waits for output after the process ended or
// was killed: a process the code left behind holding the pipes (possible
// only without a process namespace) cannot hold up the call.
const waitDelay = 2 * time.Second

// outcome is how a run ended.
type outcome struct {
	stdout, stderr *stream
	capture        *capture
	exitCode       int            // -1 when a signal ended it
	signal         syscall.Signal // the signal that ended it, if one did
	timedOut       bool           // killed at the wall-clock limit
	flooded        bool           // killed for printing without end
	cpu            time.Duration
	wall           time.Duration
}

// env is the whole environment of a run: nothing of Atrium's.
func (s *scratch) env(python string) []string {
	path := "/usr/local/bin:/usr/bin:/bin"
	if dir := filepath.Dir(python); !slices.Contains(filepath.SplitList(path), dir) {
		path = dir + ":" + path // the python3 of a subprocess is the run's
	}
	return []string{
		"PATH=" + path,
		"HOME=" + s.home,
		"TMPDIR=" + s.tmp,
		"LANG=C.UTF-8",
		"LC_ALL=C.UTF-8",
		// Headless plotting, and libraries that would start a thread per
		// CPU (and reserve address space for each) kept to one.
		"MPLBACKEND=Agg",
		"OMP_NUM_THREADS=1",
		"OPENBLAS_NUM_THREADS=1",
		"MKL_NUM_THREADS=1",
		"MALLOC_ARENA_MAX=2",
	}
}

// run runs the script of scratch s with plan p, within the configured
// limits. An error means the sandbox could not start or set its limits;
// how the code itself ended is in the outcome.
func (e *Executor) run(ctx context.Context, p plan, s *scratch) (outcome, error) {
	runCtx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	cpu := int64(math.Ceil(e.cfg.CPUTime.Seconds()))
	cmd := exec.CommandContext(runCtx, p.python, "-I", "-S", "-c", bootstrap,
		strconv.FormatInt(cpu, 10), strconv.FormatInt(e.cfg.MemoryBytes, 10), strconv.FormatInt(e.cfg.FileBytes, 10),
		strconv.Itoa(e.cfg.OpenFiles), strconv.Itoa(e.cfg.Processes), p.python, s.script)
	cmd.Dir = s.work
	cmd.Env = s.env(p.python)
	cmd.SysProcAttr = p.box.attr()
	killGroup := func() error {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != syscall.ESRCH {
			return err
		}
		return os.ErrProcessDone // the group is gone already: Wait reports how it ended
	}
	cmd.Cancel = killGroup
	cmd.WaitDelay = waitDelay
	capt, stdout, stderr := newCapture(e.cfg.OutputBytes, func() { killGroup() })
	cmd.Stdout, cmd.Stderr = stdout, stderr

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return outcome{}, err
	}
	waitErr := cmd.Wait()
	wall := time.Since(start)
	if !p.box.pidNS() {
		// What the code left running in its group goes now; in a process
		// namespace it went with the code's first process.
		killGroup()
	}
	if ctx.Err() != nil {
		return outcome{}, context.Cause(ctx)
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) && !errors.Is(waitErr, exec.ErrWaitDelay) {
		return outcome{}, waitErr
	}
	ps := cmd.ProcessState
	o := outcome{stdout: stdout, stderr: stderr, capture: capt, exitCode: ps.ExitCode(),
		cpu: ps.UserTime() + ps.SystemTime(), wall: wall}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		o.signal = ws.Signal()
	}
	// A kill of ours ends the run with SIGKILL; a run that ended by itself
	// as the clock ran out was not killed.
	killed := o.signal == syscall.SIGKILL
	o.timedOut = killed && runCtx.Err() != nil
	o.flooded = killed && capt.wasFlooded()
	if o.exitCode == bootstrapFailed && !o.timedOut {
		if msg := stderr.text(e.cfg.OutputBytes); strings.HasPrefix(msg, bootstrapPrefix) {
			return outcome{}, errors.New("the sandbox could not set its limits: " + strings.TrimSpace(strings.TrimPrefix(msg, bootstrapPrefix)))
		}
	}
	return o, nil
}
