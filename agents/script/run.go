package script

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// run is the state of one script run. Only the goroutine running the
// script touches it: built-ins run there, and the one thing another
// goroutine does (cancelling on ctx.Done) goes through Thread.Cancel.
type run struct {
	ctx    context.Context
	limits Limits
	query  Querier

	answer       string // the last query's answer
	queries      int    // query() calls so far
	out          strings.Builder
	outFull      bool  // print output reached MaxOutputBytes
	alloc        int64 // bytes charged to MaxAllocBytes so far
	tooManySteps bool  // the step limit stopped the script
}

// predeclared is what a script sees besides Starlark's universe: the
// conversation, the seed's three functions, and the hidden built-ins that
// instrument's rewrite calls.
func (r *run) predeclared(conv *starlark.List) starlark.StringDict {
	d := starlark.StringDict{
		"conversation": conv,
		"query":        starlark.NewBuiltin("query", r.queryBuiltin),
		"add":          starlark.NewBuiltin("add", r.addBuiltin),
		"attach":       starlark.NewBuiltin("attach", r.attachBuiltin),
		callName:       starlark.NewBuiltin(callName, r.callBuiltin),
		fmtName:        starlark.NewBuiltin(fmtName, r.fmtBuiltin),
	}
	for _, op := range []syntax.Token{syntax.PLUS, syntax.STAR, syntax.PERCENT, syntax.LTLT} {
		name, _ := binaryName(op)
		d[name] = starlark.NewBuiltin(name, r.binaryBuiltin(op))
		name, _ = augName(op - syntax.PLUS + syntax.PLUS_EQ)
		d[name] = starlark.NewBuiltin(name, r.augBuiltin(op))
	}
	return d
}

// isPredeclared reports whether name is in every run's predeclared; the
// compiler needs to know before there is a run.
func isPredeclared(name string) bool {
	switch name {
	case "conversation", "query", "add", "attach", callName, fmtName:
		return true
	}
	for _, op := range []syntax.Token{syntax.PLUS, syntax.STAR, syntax.PERCENT, syntax.LTLT} {
		if b, _ := binaryName(op); name == b {
			return true
		}
		if a, _ := augName(op - syntax.PLUS + syntax.PLUS_EQ); name == a {
			return true
		}
	}
	return false
}

// print keeps what the script prints instead of writing to stderr, up to
// MaxOutputBytes; a script printing in a loop must not fill memory.
func (r *run) print(_ *starlark.Thread, msg string) {
	if r.outFull {
		return
	}
	line := msg + "\n"
	room := r.limits.MaxOutputBytes - r.out.Len()
	if len(line) <= room {
		r.out.WriteString(line)
		return
	}
	// Cut at a rune boundary so the output stays valid UTF-8.
	cut := room
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	r.out.WriteString(line[:cut])
	fmt.Fprintf(&r.out, "\n[output cut at %d bytes]\n", r.limits.MaxOutputBytes)
	r.outFull = true
}
