package script

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Error is what Check and Run return when a script fails: a syntax error, a
// runtime error, a failed query, a limit reached, a timeout or a
// cancellation. Its text is meant for the script's author.
type Error struct {
	// Line and Col locate the failure in the script as written (1-based);
	// zero when it has no place, such as a conversation left invalid at
	// the end.
	Line, Col int
	// Msg says what went wrong.
	Msg string
	// Err is the cause, when there is one to inspect: the Querier's error
	// (wrapped), context.DeadlineExceeded for a timeout, the context's
	// error for a cancellation, or ErrLimit for a limit reached.
	Err error
}

// ErrLimit is the cause of an *Error for a script that reached one of its
// Limits other than the timeout: too many steps, queries, messages or
// bytes.
var ErrLimit = errors.New("script limit reached")

// Error reads like "script line 3: name "foo" is not defined".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("script line %d: %s", e.Line, e.Msg)
	}
	return "script: " + e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func newError(line, col int, format string, args ...any) *Error {
	return &Error{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func posError(pos syntax.Position, format string, args ...any) *Error {
	return newError(int(pos.Line), int(pos.Col), format, args...)
}

// limitError is a limit reached inside the script; it is ErrLimit.
type limitError struct{ msg string }

func limitf(format string, args ...any) error {
	return &limitError{msg: fmt.Sprintf(format, args...)}
}

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == ErrLimit }

// compileError converts what parsing and resolving src return.
func compileError(src string, err error) error {
	var (
		se syntax.Error
		rl resolve.ErrorList
		re resolve.Error
		e  *Error
	)
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &se):
		e := posError(se.Pos, "%s", se.Msg)
		if strings.HasPrefix(se.Msg, "got newline") && e.Col == 1 && e.Line > 1 {
			// Starlark places a missing ':' or ')' at the start of the
			// next line; the author looks for it at the end of this one.
			e.Line--
			lines := strings.Split(src, "\n")
			if e.Line <= len(lines) {
				e.Col = utf8.RuneCountInString(strings.TrimRight(lines[e.Line-1], " \t\r")) + 1
			}
		}
		return e
	case errors.As(err, &rl):
		return posError(rl[0].Pos, "%s", pythonic(rl[0].Msg))
	case errors.As(err, &re):
		return posError(re.Pos, "%s", pythonic(re.Msg))
	}
	return &Error{Msg: err.Error(), Err: err}
}

// pythonic words Starlark's "undefined: x" as Python does, for script
// authors who know Python.
func pythonic(msg string) string {
	rest, ok := strings.CutPrefix(msg, "undefined: ")
	if !ok {
		return msg
	}
	name, more, _ := strings.Cut(rest, " ")
	if more != "" {
		more = " " + more
	}
	return fmt.Sprintf("name %q is not defined%s", name, more)
}

// byteSize writes n bytes for a message: "64 MiB", "1000 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// evalError converts an error from running the script, placing it at the
// innermost frame of the script itself (not of a built-in it called).
func evalError(err error) *Error {
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		return &Error{Msg: err.Error(), Err: err}
	}
	e := &Error{Msg: ee.Msg, Err: errors.Unwrap(ee)}
	for i := len(ee.CallStack) - 1; i >= 0; i-- {
		if pos := ee.CallStack[i].Pos; pos.Filename() == filename && pos.Line > 0 {
			e.Line, e.Col = int(pos.Line), int(pos.Col)
			break
		}
	}
	return e
}
