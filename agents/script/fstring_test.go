package script_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents/script"
)

func TestRewriteFStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"no f-strings", `x = "a{b}c" + 'd{'`, `x = "a{b}c" + 'd{'`},
		{"plain f-string", `f"Explain your reasoning for that"`, `"Explain your reasoning for that"`},
		{"field", `f"hi {name}!"`, `"hi {}!".format((name))`},
		{"single quotes", `f'{a} and {b}'`, `'{} and {}'.format((a), (b))`},
		{"upper prefix", `F"{a}"`, `"{}".format((a))`},
		{"raw", `rf"\d{n}"`, `r"\d{}".format((n))`},
		{"raw other order", `Fr"\d{n}"`, `r"\d{}".format((n))`},
		{"escaped braces", `f"{{x}} {y}"`, `"{{x}} {}".format((y))`},
		{"only escaped braces", `f"{{}}"`, `"{{}}".format()`},
		{"call and index", `f"{len(c)} {c[-1]['content']}"`, `"{} {}".format((len(c)), (c[-1]['content']))`},
		{"nested same quotes", `f"{d["k"]}"`, `"{}".format((d["k"]))`},
		{"string with brace in field", `f"{'}'}"`, `"{}".format(('}'))`},
		{"dict in field", `f"{ {'a': 1}['a'] }"`, `"{}".format(( {'a': 1}['a'] ))`},
		{"slice in field", `f"{s[1:2]}"`, `"{}".format((s[1:2]))`},
		{"comparison", `f"{a != b}{a == b}{a <= b}"`, `"{}{}{}".format((a != b), (a == b), (a <= b))`},
		{"repr", `f"{x!r}"`, `"{!r}".format((x))`},
		{"str", `f"{x!s}"`, `"{}".format((x))`},
		{"spec", `f"{x:.2f}"`, `"{}".format(__atrium_fmt((x), "", ".2f"))`},
		{"conversion and spec", `f"{x!r:>10}"`, `"{}".format(__atrium_fmt((x), "r", ">10"))`},
		{"empty spec", `f"{x:}"`, `"{}".format((x))`},
		{"debug", `f"{x=}"`, `"{}{!r}".format("x=", (x))`},
		{"debug with spaces and spec", `f"{x = :.1f}"`, `"{}{}".format("x = ", __atrium_fmt((x ), "", ".1f"))`},
		{"nested f-string", `f"{f'{x}'}"`, `"{}".format(('{}'.format((x))))`},
		{"backslash before field", `f"\{x}"`, `"\\{}".format((x))`},
		{"escaped quote", `f"say \"{x}\""`, `"say \"{}\"".format((x))`},
		{"comment untouched", `x = 1 # f"{y}" and 'it''s'`, `x = 1 # f"{y}" and 'it''s'`},
		{"name ending in f", `elf"x"`, `elf"x"`},
		{"bytes untouched", `b"{x}"`, `b"{x}"`},
		{"triple-quoted untouched", "'''f\"{x}\"\n'''", "'''f\"{x}\"\n'''"},
		{"triple f-string", "f\"\"\"a\n{x}\nb\"\"\"", "\"\"\"a\n{}\nb\"\"\".format((x))"},
		{"field spanning lines", "f'''{\nx\n}'''", "'''{}'''.format((\nx\n))"},
		{"spec spanning lines keeps lines", "f'''{x:\n}'''", "'''{}'''.format(__atrium_fmt((x), \"\", \"\\n\"\n))"},
		{"method on result", `f"{a}".upper()`, `"{}".format((a)).upper()`},
		{"seed example", `follow_up = add("user", f"Explain your reasoning for that", conversation)`, `follow_up = add("user", "Explain your reasoning for that", conversation)`},
		{"unicode", `f"héllo {wörld}"`, `"héllo {}".format((wörld))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := script.RewriteFStrings(tt.in)
			if err != nil {
				t.Fatalf("RewriteFStrings(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("RewriteFStrings(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if strings.Count(got, "\n") != strings.Count(tt.in, "\n") {
				t.Errorf("RewriteFStrings(%q) changed the line count: %q", tt.in, got)
			}
		})
	}
}

func TestRewriteFStringsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"unterminated", "x = 1\ny = f\"abc", 2, 5, "unterminated f-string"},
		{"newline in single-quoted field", "f'{x\n}'", 1, 3, "unterminated f-string"},
		{"single close brace", `f"a}b"`, 1, 4, "single '}' is not allowed"},
		{"unclosed field", `f"{x"`, 1, 3, "expecting '}'"},
		{"empty field", `f"{ }"`, 1, 3, "empty expression not allowed"},
		{"comment in field", `f"{x # no}"`, 1, 6, "cannot include '#'"},
		{"bad conversion", `f"{x!z}"`, 1, 6, "invalid conversion character"},
		{"ascii conversion", `f"{x!a}"`, 1, 6, "!a is not supported"},
		{"nested spec", `f"{x:{w}}"`, 1, 6, "nested replacement fields"},
		{"unmatched paren", `f"{x)}"`, 1, 5, "unmatched ')'"},
		{"too deep", strings.Repeat("(", 101) + strings.Repeat(")", 101), 1, 101, "nest more than 100 deep"},
		{"error on a later line", "a = 1\n\n\nb = f'{}'", 4, 7, "empty expression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := script.RewriteFStrings(tt.in)
			var e *script.Error
			if !errors.As(err, &e) {
				t.Fatalf("RewriteFStrings(%q) = %v, want an *Error", tt.in, err)
			}
			if e.Line != tt.line || e.Col != tt.col || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("RewriteFStrings(%q) = line %d col %d %q, want line %d col %d containing %q", tt.in, e.Line, e.Col, e.Msg, tt.line, tt.col, tt.msg)
			}
		})
	}
}
