package script_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents/script"
)

// Each of these would, without the memory guard, allocate gigabytes in a
// few steps and take the server down with it.
func TestMemoryGuard(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, src, msg string }{
		{"string repeat", `s = "x" * 1000000000`, "memory"},
		{"list repeat", `l = [0] * 1000000000`, "memory"},
		{"repeat on the left", `l = 1000000000 * [0, 1]`, "memory"},
		{"doubling string", "s = 'ab'\nwhile True:\n    s = s + s", "memory"},
		{"doubling with +=", "s = 'ab'\nwhile True:\n    s += s", "memory"},
		{"doubling a list with +=", "l = [1]\nwhile True:\n    l += l", "memory"},
		{"doubling in a dict", "d = {'k': 'ab'}\nwhile True:\n    d['k'] += d['k']", "memory"},
		{"doubling with *=", "s = 'ab'\nwhile True:\n    s *= 2", "memory"},
		{"extend itself", "l = [1]\nwhile True:\n    l.extend(l)", "memory"},
		{"replace explodes", "s = 'a' * 1000\nwhile True:\n    s = s.replace('', s)", "memory"},
		{"join repeats", "s = 'a' * 100000\nx = ','.join([s] * 100000)", "memory"},
		{"format repeats", "s = 'a' * 1000\nwhile True:\n    s = '{}{}'.format(s, s)", "memory"},
		{"percent repeats", "s = 'a' * 1000\nwhile True:\n    s = '%s%s' % (s, s)", "memory"},
		{"str of shared big string", "s = 'a' * 1000000\nx = str([s] * 1000)", "memory"},
		{"print of shared big string", "s = 'a' * 1000000\nprint([s] * 1000)", "memory"},
		{"sorted by str", "s = 'a' * 1000000\nl = [[s] * 100] * 1000\nsorted(l, key=str)", "memory"},
		{"f-string of shared big string", "s = 'a' * 1000000\nl = [s] * 1000\nx = f'{l!r:>5}'", "memory"},
		{"list of huge range", "l = list(range(2000000000))", "range"},
		{"squaring integers", "x = 3\nwhile True:\n    x = x * x", "integer of more than"},
		{"shifting integers", "x = 1\nwhile True:\n    x = x << 500", "integer of more than"},
		{"int of a long string", "x = int('9' * 5000)", "limit of 4300"},
		{"f-string width", "x = f'{1:>100000}'", "at most 10000"},
		{"endless recursion", "def f(n):\n    return f(n + 1)\nf(0)", "calls nest more than 1000 deep"},
		{"mutual recursion", "def a(n):\n    return b(n)\ndef b(n):\n    return a(n)\na(0)", "calls nest more than"},
		{"recursive lambda", "f = lambda n: f(n)\nf(1)", "calls nest more than"},
		{"deeply nested list", "l = []\nfor i in range(2000):\n    l = [l]\nprint(l)", "too deep to show"},
		{"deep parens", "x = " + strings.Repeat("(", 500) + "1" + strings.Repeat(")", 500), "nest more than 100 deep"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := script.Run(context.Background(), tt.src, nil, nil, script.Limits{})
			if !errors.Is(err, script.ErrLimit) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want a limit error containing %q", err, tt.msg)
			}
			var e *script.Error
			if errors.As(err, &e); e.Line == 0 {
				t.Errorf("err = %v has no line", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestMemoryBudgetIsConfigurable(t *testing.T) {
	t.Parallel()
	src := "s = 'x' * 2000"
	if _, err := script.Run(context.Background(), src, nil, nil, script.Limits{MaxAllocBytes: 1000}); !errors.Is(err, script.ErrLimit) {
		t.Errorf("with 1000 bytes: err = %v, want the limit", err)
	}
	if _, err := script.Run(context.Background(), src, nil, nil, script.Limits{MaxAllocBytes: 4000}); err != nil {
		t.Errorf("with 4000 bytes: %v", err)
	}
}

// The guards must not change what ordinary Python-like code does.
func TestOrdinaryScripts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, src, out string }{
		{"arithmetic", "print(1 + 2, 7 * 6, 7 % 3, 1 << 4, 2.5 * 2, -3 // 2)", "3 42 1 16 5.0 -2\n"},
		{"strings", "s = 'ab' + 'cd'\ns += '!'\nprint(s * 2, '%s=%d' % ('x', 3), '%(a)s' % {'a': 1})", "abcd!abcd! x=3 1\n"},
		{"lists", "l = [1, 2] + [3]\nl += [4]\nl += (5,)\nl *= 2\nprint(l, [0] * 3)", "[1, 2, 3, 4, 5, 1, 2, 3, 4, 5] [0, 0, 0]\n"},
		{"list += aliases", "a = [1]\nb = a\nb += [2]\nprint(a)", "[1, 2]\n"},
		{"indexed +=", "d = {'n': 1}\nd['n'] += 41\nl = [[1]]\nl[0] += [2]\nprint(d, l)", "{\"n\": 42} [[1, 2]]\n"},
		{"indexed += evaluates the index once", "calls = []\ndef k():\n    calls.append(1)\n    return 0\nl = [10]\nl[k()] += 5\nprint(l, len(calls))", "[15] 1\n"},
		{"augmented inside a function", "def f():\n    d = {'a': 'x'}\n    d['a'] += 'y'\n    n = 1\n    n <<= 3\n    n %= 5\n    return d['a'], n\nprint(f())", "(\"xy\", 3)\n"},
		{"parenthesized target", "x = 1\n(x) += 1\nprint(x)", "2\n"},
		{"comprehensions", "print([x * x for x in range(5) if x % 2 == 0], {k: v + 1 for k, v in [('a', 1)]})", "[0, 4, 16] {\"a\": 2}\n"},
		{"top-level control", "n = 0\nfor i in range(10):\n    if i % 2:\n        n += i\nwhile n > 20:\n    n -= 1\nprint(n)", "20\n"},
		{"one-line if without else", "if True: print('y')\nif False: print('n')", "y\n"},
		{"global reassign", "x = 1\nx = 2\nprint(x)", "2\n"},
		{"recursion", "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(15))", "610\n"},
		{"keyword and star arguments", "def f(a, b=2, *args, **kw):\n    return a + b + len(args) + len(kw)\nprint(f(1), f(1, 2, 3, 4, x=5), f(*[1, 1], **{'y': 1}))", "3 6 3\n"},
		{"lambda and default", "f = lambda x, y=10: x + y\nprint(f(1), f(1, y=2))", "11 3\n"},
		{"sorted with key", "print(sorted(['bb', 'a', 'ccc'], key=len), max([1, 3, 2]), min('b', 'a'))", "[\"a\", \"bb\", \"ccc\"] 3 a\n"},
		{"string methods", "s = 'a,b,c'\nprint(s.split(','), '-'.join(['x', 'y']), s.replace(',', ';'), 'x{}'.format(1), 'A b'.lower())", "[\"a\", \"b\", \"c\"] x-y a;b;c x1 a b\n"},
		{"str and repr", "print(str([1, 'a']), repr('a'), str(None), str('s'))", "[1, \"a\"] \"a\" None s\n"},
		{"set", "print(sorted(set([3, 1, 3])))", "[1, 3]\n"},
		{"cyclic list prints", "l = [1]\nl.append(l)\nprint(l)", "[1, [...]]\n"},
		{"big but allowed", "s = 'x' * 1000000\nprint(len(s + s))", "2000000\n"},
		{"int conversions", "print(int('123'), int('ff', 16), 2 * 3 * 4, 12345678901234567890 * 10)", "123 255 24 123456789012345678900\n"},
		{"conversation as data", "last = conversation[-1]\nprint(last['role'], len(conversation), [m['role'] for m in conversation])", "user 1 [\"user\"]\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := script.Run(context.Background(), tt.src, []script.Message{user("hi")}, nil, script.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Output != tt.out {
				t.Errorf("Output = %q, want %q", res.Output, tt.out)
			}
		})
	}
}

func TestFStringsRun(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ src, out string }{
		{`f"Explain your reasoning for that"`, "Explain your reasoning for that"},
		{`f"{name} has {len(items)} items: {items[0]!r}"`, `Bob has 2 items: "pen"`},
		{`f"{{literal}} {name}"`, "{literal} Bob"},
		{`f"{{}}"`, "{}"},
		{`f"{d["k"]} {d['k'].upper()}"`, "v V"},
		{`f"{name=}"`, `name="Bob"`},
		{`f"{pi:.2f}|{pi:8.3f}|{pi:<8.1f}|{pi:^9.2f}|{-pi:+.1f}|{pi:e}"`, "3.14|   3.142|3.1     |  3.14   |-3.1|3.141590e+00"},
		{`f"{n:5}|{n:<5}|{n:^5}|{n:05}|{n:+}|{-n:=+6}|{big:,}|{big:_}"`, "   42|42   | 42  |00042|+42|-   42|1,234,567|1_234_567"},
		{`f"{255:x}|{255:#X}|{5:b}|{8:#o}|{65:c}|{0.256:.1%}|{1234.5:,.2f}"`, "ff|0XFF|101|0o10|A|25.6%|1,234.50"},
		{`f"{name:>6}|{name:*<6}|{name:.2}|{name!r:>7}"`, `   Bob|Bob***|Bo|  "Bob"`},
		{`f"{1e20:g}|{0.0001:g}|{1.5:g}|{2.0}|{2.5:}"`, "1e+20|0.0001|1.5|2.0|2.5"},
		{"f'''a\n{name}\nb'''", "a\nBob\nb"},
		{`rf"\d+{name}"`, `\d+Bob`},
		{`f"{f'{name}!'}"`, "Bob!"},
		{`f"{True:d} {None} {items}"`, `1 None ["pen", "cup"]`},
	} {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			src := "name = 'Bob'\nitems = ['pen', 'cup']\nd = {'k': 'v'}\npi = 3.14159\nn = 42\nbig = 1234567\nprint(" + tt.src + ")"
			res, err := script.Run(context.Background(), src, nil, nil, script.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSuffix(res.Output, "\n"); got != tt.out {
				t.Errorf("got %q, want %q", got, tt.out)
			}
		})
	}
}

func TestFStringSpecErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ src, msg string }{
		{`f"{'a':d}"`, "format code 'd' is not for strings"},
		{`f"{1:.2d}"`, "precision not allowed"},
		{`f"{1:q}"`, "unknown format code"},
		{`f"{1:z}"`, "z option is not supported"},
		{`f"{'a':+}"`, "sign not allowed"},
		{`f"{1.5:x}"`, "unknown format code 'x' for float"},
	} {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := script.Run(context.Background(), "x = 1\ny = "+tt.src, nil, nil, script.Limits{})
			var e *script.Error
			if !errors.As(err, &e) || e.Line != 2 || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("err = %v, want line 2 containing %q", err, tt.msg)
			}
		})
	}
}
