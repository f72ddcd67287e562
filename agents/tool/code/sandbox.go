package code

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// ErrUnavailable is wrapped by the error of a call that could not run
// code: no Python, or no sandbox for it.
var ErrUnavailable = errors.New("code_executor is unavailable")

// errNoPython is wrapped with ErrUnavailable when no interpreter exists at
// all, as opposed to one the sandbox cannot start.
var errNoPython = errors.New("no python3 found")

// nobody is the user and group code runs as when Atrium runs as root.
const nobody = 65534

// sandbox is one way of isolating a run: the namespaces its process is
// cloned into and the user it runs as.
type sandbox struct {
	name  string
	flags uintptr
	// uid and gid are the host's ids of the code's user, which owns the
	// run's directories.
	uid, gid int
	// drop switches to uid and gid; otherwise the code keeps Atrium's.
	drop bool
}

// Namespaces of a sandbox beyond the network's, each tried where it works.
const (
	allNS = syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
	netNS = syscall.CLONE_NEWNET
)

// sandboxes lists the ways a run may be isolated here, the strongest
// first. Each has its own network namespace; none runs code without one.
func sandboxes() []sandbox {
	if os.Geteuid() == 0 {
		return []sandbox{
			{"network, process, IPC and UTS namespaces, as nobody", allNS, nobody, nobody, true},
			// Root without CAP_SYS_ADMIN (a container's, say) may still make
			// a user namespace and the others inside it.
			{"user, network, process, IPC and UTS namespaces, as nobody", syscall.CLONE_NEWUSER | allNS, nobody, nobody, true},
			{"a network namespace, as nobody", netNS, nobody, nobody, true},
			{"user and network namespaces, as nobody", syscall.CLONE_NEWUSER | netNS, nobody, nobody, true},
		}
	}
	uid, gid := os.Getuid(), os.Getgid()
	return []sandbox{
		{"user, network, process, IPC and UTS namespaces", syscall.CLONE_NEWUSER | allNS, uid, gid, false},
		{"user and network namespaces", syscall.CLONE_NEWUSER | netNS, uid, gid, false},
	}
}

// attr is the SysProcAttr that starts a process in the sandbox: in its
// own process group, so that a kill reaches all it started, and killed
// should Atrium die first.
func (s sandbox) attr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: s.flags}
	if s.flags&syscall.CLONE_NEWUSER != 0 {
		// The code's user is mapped to itself: nobody when Atrium is root,
		// who may map any user and so may also drop its groups; else
		// Atrium's own user, the only one an unprivileged process may map.
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: s.uid, HostID: s.uid, Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: s.gid, HostID: s.gid, Size: 1}}
		a.GidMappingsEnableSetgroups = s.drop
	}
	if s.drop {
		a.Credential = &syscall.Credential{Uid: uint32(s.uid), Gid: uint32(s.gid), Groups: []uint32{}}
	}
	return a
}

// pidNS reports whether the sandbox has its own process namespace, where
// the end of the code's first process ends every process it started.
func (s sandbox) pidNS() bool { return s.flags&syscall.CLONE_NEWPID != 0 }

// plan is how this executor runs code: which interpreter, in which
// sandbox.
type plan struct {
	python string
	box    sandbox
}

// probeCode is what setup runs to see that a sandbox works.
const probeCode = "import sys\nprint(sys.version_info[0])\n"

// setup returns the plan of a run, finding one the first time: it tries
// each interpreter with each sandbox, strongest first, with a tiny program
// run exactly as the model's code will be. A failure is not remembered, so
// installing Python or allowing namespaces needs no restart.
func (e *Executor) setup(ctx context.Context) (plan, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.plan != nil {
		return *e.plan, nil
	}
	if os.Geteuid() != 0 && !e.cfg.AllowSameUser {
		return plan{}, fmt.Errorf("%w: Atrium is not running as root, so the code would run as Atrium's own user, "+
			"able to read and write Atrium's files and database; run Atrium as root (code then runs as nobody), "+
			"or allow it with the tool's AllowSameUser setting where that is acceptable", ErrUnavailable)
	}
	pythons, err := e.pythons(ctx)
	if err != nil {
		return plan{}, err
	}
	var boxes, failures []string
	for _, box := range sandboxes() {
		if err := searchable(e.cfg.Dir, box); err != nil {
			return plan{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		boxes = append(boxes, box.name)
		for _, py := range pythons {
			p := plan{python: py, box: box}
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := e.probe(pctx, p)
			cancel()
			if err == nil {
				e.plan = &p
				return p, nil
			}
			if ctx.Err() != nil {
				return plan{}, ctx.Err()
			}
			if msg := err.Error(); !slices.Contains(failures, msg) {
				failures = append(failures, msg)
			}
		}
	}
	return plan{}, fmt.Errorf("%w: no sandbox could be set up on this machine, so no code was run. Tried %s with %s: %s",
		ErrUnavailable, strings.Join(boxes, "; "), strings.Join(pythons, ", "), strings.Join(failures, "; "))
}

// searchable checks that box's user can reach run directories made in
// dir: every directory above them must let it pass.
func searchable(dir string, box sandbox) error {
	if !box.drop {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for d := abs; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("the directory for runs: %w", err)
		}
		sys, _ := st.Sys().(*syscall.Stat_t)
		perm := st.Mode().Perm()
		ok := perm&0o001 != 0 ||
			sys != nil && int(sys.Uid) == box.uid && perm&0o100 != 0 ||
			sys != nil && int(sys.Gid) == box.gid && perm&0o010 != 0
		if !ok {
			return fmt.Errorf("code runs as user %d, which cannot pass through %s (mode %v), above the directory for runs %s: "+
				"give Atrium's code_executor a Dir that every user can pass through, like /tmp", box.uid, d, perm, abs)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// probe runs probeCode with plan p.
func (e *Executor) probe(ctx context.Context, p plan) error {
	s, err := newScratch(e.cfg.Dir, p.box, probeCode)
	if err != nil {
		return err
	}
	defer s.remove()
	r, err := e.run(ctx, p, s)
	if err != nil {
		return err
	}
	if r.exitCode != 0 || strings.TrimSpace(r.stdout.text(e.cfg.OutputBytes)) != "3" {
		return fmt.Errorf("the test program failed: exit status %d: %s", r.exitCode, strings.TrimSpace(r.stderr.text(500)))
	}
	return nil
}

// pythons returns the interpreters to try, each resolved to its real
// executable: a pyenv or asdf shim is a script that needs Atrium's
// environment, which the sandbox does not pass on.
func (e *Executor) pythons(ctx context.Context) ([]string, error) {
	var names []string
	if e.cfg.Python != "" {
		names = []string{e.cfg.Python}
	} else {
		for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
			if dir != "" && filepath.IsAbs(dir) {
				names = append(names, filepath.Join(dir, "python3"))
			}
		}
		names = append(names, "/usr/bin/python3", "/usr/local/bin/python3")
	}
	var out []string
	seen := map[string]bool{}
	for _, name := range names {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		real := resolvePython(ctx, path)
		key, err := filepath.EvalSymlinks(real) // /bin/python3 is often /usr/bin/python3
		if err != nil {
			key = real
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, real)
		}
	}
	if len(out) == 0 {
		what := "python3 on PATH, /usr/bin or /usr/local/bin"
		if e.cfg.Python != "" {
			what = e.cfg.Python
		}
		return nil, fmt.Errorf("%w: %w (looked for %s); install Python 3 to run code", ErrUnavailable, errNoPython, what)
	}
	return out, nil
}

// resolvePython asks the interpreter at path where its executable is; path
// itself when it cannot say.
func resolvePython(ctx context.Context, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-I", "-S", "-c", "import sys; sys.stdout.write(sys.executable)").Output()
	if real := strings.TrimSpace(string(out)); err == nil && filepath.IsAbs(real) {
		return real
	}
	return path
}
