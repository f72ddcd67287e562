package script

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Message is one turn of a conversation as a script sees it: a dict with
// "role" and "content".
type Message struct {
	// Role is "system", "user" or "assistant".
	Role    string
	Content string
}

// Querier answers a conversation with the named model; a script's query()
// calls it. It must return when ctx is done, which is how the script's
// timeout and the caller's cancellation reach a model call in flight. The
// conversation is the Querier's own copy.
type Querier func(ctx context.Context, model string, conversation []Message) (string, error)

// Limits bound one run of a script. The zero value of each field means its
// default.
type Limits struct {
	// MaxSteps bounds the interpreter's steps (roughly, bytecode
	// instructions). Default 1,000,000.
	MaxSteps uint64
	// Timeout bounds the whole run, queries included. Default 30s.
	Timeout time.Duration
	// MaxQueries bounds the calls to query(). Default 10.
	MaxQueries int
	// MaxOutputBytes bounds what print() keeps; the rest is dropped and
	// the output says so. Default 64 KiB.
	MaxOutputBytes int
	// MaxMessages bounds the conversation's length. Default 1000.
	MaxMessages int
	// MaxContentBytes bounds the total size of the conversation's
	// contents. Default 1 MiB.
	MaxContentBytes int
	// MaxAllocBytes bounds, approximately, the memory the script's own
	// values take: every string, list or number an operator or built-in
	// makes is charged when made and never refunded, so this also caps
	// the garbage a script churns through. Starlark has no memory limit
	// of its own, and without one s = s + s in a loop takes the process
	// down. Default 64 MiB.
	MaxAllocBytes int64
}

// The defaults for Limits.
const (
	DefaultMaxSteps        = 1_000_000
	DefaultTimeout         = 30 * time.Second
	DefaultMaxQueries      = 10
	DefaultMaxOutputBytes  = 64 << 10
	DefaultMaxMessages     = 1000
	DefaultMaxContentBytes = 1 << 20
	DefaultMaxAllocBytes   = 64 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxSteps == 0 {
		l.MaxSteps = DefaultMaxSteps
	}
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxQueries <= 0 {
		l.MaxQueries = DefaultMaxQueries
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if l.MaxMessages <= 0 {
		l.MaxMessages = DefaultMaxMessages
	}
	if l.MaxContentBytes <= 0 {
		l.MaxContentBytes = DefaultMaxContentBytes
	}
	if l.MaxAllocBytes <= 0 {
		l.MaxAllocBytes = DefaultMaxAllocBytes
	}
	return l
}

// MaxSourceBytes bounds a script's size. Agent scripts are short; the
// bound keeps parsing cheap.
const MaxSourceBytes = 128 << 10

// Result is what a script run produced.
type Result struct {
	// Answer is the text the last query() returned. It is empty if the
	// script never called query(); the caller then decides what the agent
	// answers (typically by running the conversation the usual way).
	Answer string
	// Conversation is the script's conversation when it ended: the value
	// of the global "conversation" (the list it started with, unless the
	// script rebound the name), with every query's answer and every add()
	// in it. Nil when Run fails.
	Conversation []Message
	// Output is what the script printed, one line per print() call, cut
	// at Limits.MaxOutputBytes.
	Output string
	// Queries is how many times the script called query().
	Queries int
	// Steps is how many interpreter steps the script took.
	Steps uint64
}

// filename names the script in positions, so errors inside it can be told
// from errors inside built-ins.
const filename = "script"

// fileOptions enables the Python a script author expects: if, for and
// while at the top level, rebinding globals, recursion and set().
func fileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{
		Set:             true,
		While:           true,
		TopLevelControl: true,
		GlobalReassign:  true,
		Recursion:       true,
	}
}

// Check parses and compiles src without running it, for validating a
// script when it is saved. It returns nil or an *Error that says where the
// script is wrong.
func Check(src string) error {
	_, err := compile(src)
	return err
}

func compile(src string) (*starlark.Program, error) {
	if len(src) > MaxSourceBytes {
		return nil, &Error{Msg: fmt.Sprintf("the script is %d bytes, more than the limit of %d", len(src), MaxSourceBytes), Err: ErrLimit}
	}
	rewritten, err := rewriteFStrings(src)
	if err != nil {
		return nil, err
	}
	f, err := fileOptions().Parse(filename, rewritten, 0)
	if err != nil {
		return nil, compileError(src, err)
	}
	if err := instrument(f); err != nil {
		return nil, err
	}
	prog, err := starlark.FileProgram(f, isPredeclared)
	if err != nil {
		return nil, compileError(src, err)
	}
	return prog, nil
}

// errTimedOut is the cause of the run's context when its Timeout passes.
var errTimedOut = errors.New("script timed out")

// Run runs src on a copy of conversation, calling query for each query()
// in it, and returns what the script produced. The script runs on the
// calling goroutine; Run returns when it ends, fails, reaches a limit, or
// ctx is done. Any failure is an *Error; the Result that comes with it
// still holds the output, the queries made, the steps taken and the last
// answer, for the log.
//
// Run is safe to call from many goroutines at once: each run has its own
// interpreter and shares nothing.
func Run(ctx context.Context, src string, conversation []Message, query Querier, limits Limits) (Result, error) {
	limits = limits.withDefaults()
	prog, err := compile(src)
	if err != nil {
		return Result{}, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, limits.Timeout, errTimedOut)
	defer cancel()

	r := &run{ctx: ctx, limits: limits, query: query}
	conv := toStarlark(conversation)
	if _, err := r.messages(conv); err != nil {
		return Result{}, &Error{Msg: err.Error(), Err: err}
	}

	thread := &starlark.Thread{
		Name:  "agent script",
		Print: r.print,
		Load: func(*starlark.Thread, string) (starlark.StringDict, error) {
			return nil, errors.New("load is not allowed in agent scripts")
		},
	}
	thread.SetMaxExecutionSteps(limits.MaxSteps)
	thread.OnMaxSteps = func(t *starlark.Thread) {
		r.tooManySteps = true
		t.Cancel("step limit")
	}
	// Cancel is the one Thread method safe from another goroutine; the
	// interpreter sees it before its next step.
	stop := context.AfterFunc(ctx, func() { thread.Cancel("context done") })
	defer stop()

	var globals starlark.StringDict
	if err = ctx.Err(); err == nil {
		globals, err = prog.Init(thread, r.predeclared(conv))
	}
	res := Result{
		Answer:  r.answer,
		Output:  r.out.String(),
		Queries: r.queries,
		Steps:   thread.ExecutionSteps(),
	}
	if err != nil {
		return res, r.failure(err)
	}
	final := starlark.Value(conv)
	if v, ok := globals["conversation"]; ok {
		final = v
	}
	msgs, err := r.messages(final)
	if err != nil {
		return res, &Error{Msg: "at the end of the script, " + err.Error(), Err: err}
	}
	res.Conversation = msgs
	return res, nil
}

// failure turns the error the interpreter stopped with into an *Error,
// saying which limit stopped it when one did.
func (r *run) failure(err error) *Error {
	e := evalError(err)
	switch {
	case r.tooManySteps:
		e.Msg = fmt.Sprintf("exceeded %d steps", r.limits.MaxSteps)
		e.Err = ErrLimit
	case errors.Is(context.Cause(r.ctx), errTimedOut):
		e.Msg = fmt.Sprintf("timed out after %s", r.limits.Timeout)
		e.Err = context.DeadlineExceeded
	case r.ctx.Err() != nil:
		e.Msg = "cancelled: " + context.Cause(r.ctx).Error()
		e.Err = context.Cause(r.ctx)
	}
	return e
}
