package code

import (
	"context"
	"fmt"
	"math"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// execute runs code with plan p for the call in and reports the outcome.
func (e *Executor) execute(ctx context.Context, p plan, in agents.ToolInput, code string) (agents.ToolOutput, error) {
	s, err := newScratch(e.cfg.Dir, p.box, code)
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("could not run the code: %w", err)
	}
	defer s.remove()
	files := e.store != nil && in.Agent.ID != ""
	var copied inputs
	var notes []string
	if files {
		copied, notes = e.copyInputs(ctx, in, s, p.box)
	}
	o, err := e.run(ctx, p, s)
	if err != nil {
		if ctx.Err() != nil {
			return agents.ToolOutput{}, err
		}
		return agents.ToolOutput{}, fmt.Errorf("could not run the code: %w", err)
	}
	var kept []agents.File
	if files {
		var more []string
		kept, more = e.keepFiles(ctx, in, s, p.box, copied)
		notes = append(notes, more...)
	}
	ids := make([]string, len(kept))
	for i, f := range kept {
		ids[i] = f.ID
	}
	return agents.ToolOutput{Content: e.report(o, kept, notes), FileIDs: ids}, nil
}

// report is the result the model reads: how the run ended and why, the
// files it made, then its output.
func (e *Executor) report(o outcome, kept []agents.File, notes []string) string {
	var b strings.Builder
	if o.signal != 0 {
		fmt.Fprintf(&b, "Exit status: killed by %s", unix.SignalName(o.signal))
	} else {
		fmt.Fprintf(&b, "Exit status: %d", o.exitCode)
	}
	fmt.Fprintf(&b, " (ran %.2f s)\n", o.wall.Seconds())
	outShare, errShare := o.capture.shares(o.stdout, o.stderr)
	stdout, stderr := o.stdout.text(outShare), o.stderr.text(errShare)
	for _, n := range e.limitNotes(o, stderr) {
		b.WriteString(n + "\n")
	}
	if len(kept) > 0 {
		b.WriteString("Files kept: " + keptList(kept) + "\n")
	}
	for _, n := range notes {
		b.WriteString(n + "\n")
	}
	if stdout == "" && stderr == "" && o.signal == 0 && o.exitCode == 0 && len(kept) == 0 {
		b.WriteString("The program printed nothing: print() what you want to see.\n")
	}
	section(&b, "stdout", stdout)
	section(&b, "stderr", stderr)
	return strings.TrimRight(b.String(), "\n")
}

func section(b *strings.Builder, name, text string) {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		fmt.Fprintf(b, "\n%s: (empty)\n", name)
		return
	}
	fmt.Fprintf(b, "\n%s:\n%s\n", name, text)
}

// limitNotes says which of the sandbox's limits ended or hurt the run.
func (e *Executor) limitNotes(o outcome, stderr string) []string {
	var notes []string
	cpu := time.Duration(math.Ceil(e.cfg.CPUTime.Seconds())) * time.Second // as the limit was set
	switch {
	case o.timedOut:
		notes = append(notes, fmt.Sprintf("Killed after %v: a run may take at most %v, so it was stopped.", e.cfg.Timeout, e.cfg.Timeout))
	case o.flooded:
		notes = append(notes, fmt.Sprintf("Killed after printing more than %s: only %s of output is shown, so print less.",
			safehttp.FormatSize(floodBytes), safehttp.FormatSize(int64(e.cfg.OutputBytes))))
	case o.signal == syscall.SIGXCPU, o.signal == syscall.SIGKILL && o.cpu >= cpu/2:
		// The soft and hard limits are one, so the kernel sends SIGKILL (a
		// process namespace's first process ignores SIGXCPU anyway). The
		// CPU time wait reports is sampled, and under load it falls short
		// of what the kernel's limit counted: a SIGKILL that was not ours
		// after half the limit is taken for it.
		notes = append(notes, fmt.Sprintf("Killed: it used up its CPU time limit of %v.", cpu))
	case o.signal == syscall.SIGKILL:
		notes = append(notes, "Killed from outside the sandbox: the machine may have run out of memory.")
	}
	if strings.Contains(stderr, "MemoryError") || strings.Contains(stderr, "Cannot allocate memory") {
		notes = append(notes, fmt.Sprintf("It ran out of memory: a run may use at most %s.", safehttp.FormatSize(e.cfg.MemoryBytes)))
	}
	if strings.Contains(stderr, "File too large") {
		notes = append(notes, fmt.Sprintf("A file may be at most %s.", safehttp.FormatSize(e.cfg.FileBytes)))
	}
	return notes
}
