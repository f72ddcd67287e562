package script_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents/script"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, src := range []string{chainOfThought, modelSwitching, "print('Hello World')", "", "# only a comment\n"} {
		if err := script.Check(src); err != nil {
			t.Errorf("Check(%q) = %v", src, err)
		}
	}
}

func TestErrorLines(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, src string
		line      int
		msg       string
		compile   bool // Check finds it too
	}{
		{"undefined name", "x = 1\ny = 2\nz = foo", 3, `name "foo" is not defined`, true},
		{"undefined name with suggestion", "query_x = 1\nquery_y", 2, `name "query_y" is not defined (did you mean`, true},
		{"syntax error", "x = 1\nif x\n    y = 2", 2, "got newline, want ':'", true},
		{"unexpected indent", "x = 1\n  y = 2", 2, "got indent", true},
		{"load refused", "x = 1\nload('//lib.star', 'helper')", 2, "load statements are not allowed", true},
		{"reserved name", "__atrium_call = print", 1, "name __atrium_call is reserved", true},
		{"reserved name in def", "def f(__atrium_x):\n    pass", 1, "is reserved", true},
		{"f-string error", "x = 1\n\nprint(f'{}')", 3, "empty expression", true},
		{"after a multi-line f-string", "s = f'''a\n{1}\nb'''\nt = f\"{s}\"\nnope()", 5, `name "nope" is not defined`, true},
		{"runtime error", "x = 1\ny = x + 'a'\n", 2, "unknown binary op: int + string", false},
		{"runtime error in function", "def f(d):\n    return d['missing']\n\nf({})", 2, `key "missing" not in dict`, false},
		{"error in called built-in", "x = [1]\nx.index(5)", 2, "index: value not in list", false},
		{"fail", "fail('stop here')", 1, "stop here", false},
		{"division by zero", "a = 1\nb = a // 0", 2, "division by zero", false},
		{"source too big", strings.Repeat("#\n", script.MaxSourceBytes), 0, "more than the limit", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := script.Run(context.Background(), tt.src, nil, nil, script.Limits{})
			var e *script.Error
			if !errors.As(err, &e) {
				t.Fatalf("Run: err = %v, want an *Error", err)
			}
			if e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("Run: line %d %q, want line %d containing %q", e.Line, e.Msg, tt.line, tt.msg)
			}
			if tt.line > 0 && !strings.HasPrefix(e.Error(), "script line ") {
				t.Errorf("Error() = %q", e.Error())
			}
			checkErr := script.Check(tt.src)
			if tt.compile != (checkErr != nil) {
				t.Errorf("Check = %v, want an error: %v", checkErr, tt.compile)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	e := &script.Error{Line: 3, Col: 5, Msg: `name "foo" is not defined`}
	if got := e.Error(); got != `script line 3: name "foo" is not defined` {
		t.Errorf("Error() = %q", got)
	}
	e = &script.Error{Msg: "no place"}
	if got := e.Error(); got != "script: no place" {
		t.Errorf("Error() = %q", got)
	}
}
