// Package code holds the code_executor built-in tool (seed 000:
// "code_executor - Execute Python code"), which runs a model's Python 3
// in a sandbox and returns its output, exit status and the files it wrote.
//
// # The sandbox
//
// Each run gets a fresh temporary directory, removed afterwards: its
// working directory, HOME and TMPDIR are inside it, and the code itself
// sits beside them where the code cannot change it. The interpreter starts
// in isolated mode (-I: no PYTHON* variables, no user site) with a minimal
// environment, so none of Atrium's variables (OPENAI_API_KEY, AWS_*,
// DATABASE_URL, …) reach it.
//
// The process is cloned into new Linux namespaces: a network namespace, so
// the code has no network at all (not even loopback), and, where the
// kernel allows, process, IPC and host-name namespaces. When Atrium runs as
// root the code runs as nobody (65534), so it cannot read or write
// Atrium's data. Otherwise it could only run as Atrium's own user (in a
// user namespace, which still keeps it off the network and away from
// other processes, /proc/PID/environ included, but not away from that
// user's files, Atrium's database among them), so that is refused unless
// Config.AllowSameUser says it is acceptable. If no namespace can be made
// (a container whose seccomp profile refuses them, say), or no python3 is
// found, the tool says so and runs nothing: code never runs outside the
// sandbox.
//
// A run is killed, with its whole process group (and, in a process
// namespace, every process the code started), when it passes its
// wall-clock time. Go cannot set a child's resource limits, so the sandbox
// starts Python twice: a few lines of Python (-I -S, no user code) set the
// limits with the standard resource module and exec a fresh interpreter on
// the code. Limits survive exec, so they hold from the code's first
// instruction, its tracebacks have no trace of the start-up, and nothing
// beyond python3 is needed: prlimit is not in every image (Alpine,
// distroless) and a shell's ulimit flags and units differ between dash,
// bash and busybox. The limits are CPU seconds (RLIMIT_CPU), address space
// (RLIMIT_AS), file size (RLIMIT_FSIZE), open files (RLIMIT_NOFILE), and
// processes (RLIMIT_NPROC); no core dumps. Output past a cap is read and
// dropped (the result keeps the start and the end of each stream), and a
// run printing without end is killed.
//
// What the sandbox does not do: the code can read world-readable files of
// the machine and write to world-writable directories such as /tmp and
// /dev/shm; the disk it fills is bounded per file, not in total; the host
// name is the machine's.
package code
