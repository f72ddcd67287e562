package script_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents/script"
)

// fuzzSeeds are scripts and f-string shapes worth mutating.
var fuzzSeeds = []string{
	chainOfThought,
	modelSwitching,
	"print('Hello World')",
	`f"{a} {b!r} {c:>8.2f} {d=} {{e}} {f'{g}'} {h["i"]}"`,
	"f'''\n{x:\n}\n'''",
	`rf"\d{x}" + b"{y}" + '''{z}''' # f"{comment}"`,
	"s = 'ab'\nwhile True:\n    s += s",
	"d = {}\nd['k'] = 1\nd['k'] += 1\nprint(f'{d}')",
	"def f(n):\n    return f(n - 1) if n else 0\nprint(f(10))",
	"attach('x', add('user', 'y', conversation), location='start')\nquery('m', conversation)",
	"print(str([conversation] * 10), '%s' % conversation, ','.join(['a'] * 3))",
	"x = f\"{",
	"f'{x!",
	"f'{x:",
}

func FuzzRewriteFStrings(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := script.RewriteFStrings(src)
		if err != nil {
			var e *script.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if lines := strings.Count(src, "\n") + 1; e.Line < 1 || e.Line > lines {
				t.Fatalf("error on line %d of a %d-line source", e.Line, lines)
			}
			return
		}
		if got, want := strings.Count(out, "\n"), strings.Count(src, "\n"); got != want {
			t.Fatalf("rewrite has %d newlines, source %d:\n%q\n%q", got, want, src, out)
		}
		if !strings.ContainsAny(src, "fF") && out != src {
			t.Fatalf("rewrite changed a source without f-strings:\n%q\n%q", src, out)
		}
	})
}

func FuzzRun(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	limits := script.Limits{
		MaxSteps:       20_000,
		Timeout:        2 * time.Second,
		MaxQueries:     3,
		MaxOutputBytes: 1024,
		MaxMessages:    50,
		MaxAllocBytes:  4 << 20,
	}
	f.Fuzz(func(t *testing.T, src string) {
		m := &fakeModel{}
		start := time.Now()
		res, err := script.Run(context.Background(), src, []script.Message{user("hi")}, m.query, limits)
		if d := time.Since(start); d > limits.Timeout+5*time.Second {
			t.Fatalf("Run took %s", d)
		}
		if err != nil {
			var e *script.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
		} else if res.Conversation == nil {
			t.Fatal("no conversation after success")
		}
		if res.Queries > limits.MaxQueries || len(m.recorded()) > limits.MaxQueries {
			t.Fatalf("%d queries", res.Queries)
		}
		if res.Steps > limits.MaxSteps {
			t.Fatalf("%d steps", res.Steps)
		}
		if len(res.Output) > limits.MaxOutputBytes+64 {
			t.Fatalf("%d bytes of output", len(res.Output))
		}
	})
}
