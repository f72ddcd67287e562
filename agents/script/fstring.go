package script

import (
	"strings"
	"unicode/utf8"

	"go.starlark.net/syntax"
)

// Starlark has no f-strings, but the seed's scripts are "Python" and use
// them (add("user", f"Explain your reasoning for that", conversation)), so
// rewriteFStrings turns each f-string into a Starlark expression before the
// source is parsed:
//
//	f"{name} is {age!r}"  →  "{} is {!r}".format((name), (age))
//	f"{x:>8.2f}"          →  "{}".format(__atrium_fmt((x), "", ">8.2f"))
//	f"{x=}"               →  "{}{!r}".format("x=", (x))
//
// Ordinary strings, bytes, comments and triple-quoted strings are copied as
// they are. The rewrite never adds or removes a newline, so the parser's
// line numbers still point at the script the user wrote. Replacement fields
// follow Python 3.12: a field may contain strings quoted like the f-string
// itself, and nested f-strings.
//
// The scanner also bounds how deeply brackets and f-strings nest, because
// Starlark's parser, resolver and compiler recurse once per level and a
// hostile script of nothing but "(((((" would otherwise cost them hundreds
// of megabytes of stack.

// maxNesting is how deeply brackets and f-strings may nest (Python's own
// parser stops at 200).
const maxNesting = 100

// fmtName is the hidden built-in that applies an f-string format spec.
const fmtName = "__atrium_fmt"

// rewriteFStrings returns src with every f-string rewritten as Starlark. It
// fails, with an *Error pointing at the f-string, only on an f-string Python
// would reject or one using a feature the rewrite cannot express.
func rewriteFStrings(src string) (string, error) {
	s := &fscanner{src: src}
	var b strings.Builder
	b.Grow(len(src))
	if err := s.code(&b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// fscanner walks the source once, front to back.
type fscanner struct {
	src  string
	i    int // the next byte to read
	nest int // brackets and f-strings open around i
}

// code copies ordinary code up to the end of the source.
func (s *fscanner) code(b *strings.Builder) error {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; c {
		case '#':
			end := strings.IndexByte(s.src[s.i:], '\n')
			if end < 0 {
				end = len(s.src) - s.i
			}
			b.WriteString(s.src[s.i : s.i+end])
			s.i += end
		case '(', '[', '{':
			if err := s.open(); err != nil {
				return err
			}
			b.WriteByte(c)
			s.i++
		case ')', ']', '}':
			if s.nest > 0 {
				s.nest--
			}
			b.WriteByte(c)
			s.i++
		default:
			if err := s.token(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// open counts one more level of nesting at s.i.
func (s *fscanner) open() error {
	s.nest++
	if s.nest > maxNesting {
		e := s.errorf(s.i, "brackets and f-strings nest more than %d deep", maxNesting)
		e.Err = ErrLimit
		return e
	}
	return nil
}

// token copies one string literal (rewriting it if it is an f-string), one
// word (a name, keyword or number), or one other byte.
func (s *fscanner) token(b *strings.Builder) error {
	c := s.src[s.i]
	if c == '"' || c == '\'' {
		s.copyString(b, s.i)
		return nil
	}
	if !isWordByte(c) {
		b.WriteByte(c)
		s.i++
		return nil
	}
	start := s.i
	for s.i < len(s.src) && isWordByte(s.src[s.i]) {
		s.i++
	}
	if s.i < len(s.src) && (s.src[s.i] == '"' || s.src[s.i] == '\'') {
		if f, raw, ok := stringPrefix(s.src[start:s.i]); ok {
			if f {
				return s.fstring(b, start, raw)
			}
			s.copyString(b, start)
			return nil
		}
	}
	b.WriteString(s.src[start:s.i])
	return nil
}

// copyString copies the literal starting at start (its prefix, if any)
// whose opening quote is at s.i. An unterminated literal is copied up to
// the end of its line (or of the source) for the parser to report.
func (s *fscanner) copyString(b *strings.Builder, start int) {
	end := stringEnd(s.src, s.i)
	b.WriteString(s.src[start:end])
	s.i = end
}

// fstring rewrites the f-string starting at start (its prefix) whose
// opening quote is at s.i.
func (s *fscanner) fstring(b *strings.Builder, start int, raw bool) error {
	q := s.i
	delim := s.src[q : q+1]
	triple := isTriple(s.src, q)
	if triple {
		delim = s.src[q : q+3]
	}
	if err := s.open(); err != nil {
		return err
	}
	s.i = q + len(delim)
	var lit strings.Builder // the format string's body
	var args []string       // the arguments to format, in order
	escaped := false        // lit holds "{{" or "}}", so format must run
	for {
		if s.i >= len(s.src) {
			return s.errorf(start, "unterminated f-string")
		}
		c := s.src[s.i]
		switch {
		case strings.HasPrefix(s.src[s.i:], delim):
			s.i += len(delim)
			s.nest--
			if raw {
				b.WriteByte('r')
			}
			b.WriteString(delim)
			b.WriteString(lit.String())
			b.WriteString(delim)
			if len(args) > 0 || escaped {
				b.WriteString(".format(")
				b.WriteString(strings.Join(args, ", "))
				b.WriteByte(')')
			}
			return nil
		case c == '\n' && !triple:
			return s.errorf(start, "unterminated f-string")
		case c == '\\':
			s.i++
			next := byte(0)
			if s.i < len(s.src) {
				next = s.src[s.i]
			}
			if next == '{' || next == '}' {
				// Python keeps the backslash and still reads the brace
				// as a field or an escape; a lone backslash would be an
				// invalid escape in a Starlark string.
				if raw {
					lit.WriteByte('\\')
				} else {
					lit.WriteString(`\\`)
				}
				continue
			}
			lit.WriteByte('\\')
			if s.i < len(s.src) {
				lit.WriteByte(next)
				s.i++
			}
		case (c == '{' || c == '}') && s.i+1 < len(s.src) && s.src[s.i+1] == c:
			lit.WriteString(s.src[s.i : s.i+2])
			s.i += 2
			escaped = true
		case c == '}':
			return s.errorf(s.i, "f-string: single '}' is not allowed")
		case c == '{':
			placeholder, fieldArgs, err := s.field(triple)
			if err != nil {
				return err
			}
			lit.WriteString(placeholder)
			args = append(args, fieldArgs...)
		default:
			lit.WriteByte(c)
			s.i++
		}
	}
}

// field rewrites the replacement field whose '{' is at s.i, returning the
// placeholder for the format string and the arguments that fill it.
func (s *fscanner) field(triple bool) (string, []string, error) {
	open := s.i
	if err := s.open(); err != nil {
		return "", nil, err
	}
	s.i++
	exprStart := s.i
	var expr strings.Builder
	var debug, conv, spec string
	hasSpec := false
	depth := 0
scan:
	for {
		if s.i >= len(s.src) {
			return "", nil, s.errorf(open, "f-string: expecting '}'")
		}
		c := s.src[s.i]
		if depth == 0 {
			switch c {
			case '}':
				break scan
			case '!':
				if s.i+1 < len(s.src) && s.src[s.i+1] != '=' {
					break scan
				}
			case ':':
				break scan
			case '=':
				if end, ok := s.debugEnd(); ok {
					debug = s.src[exprStart:end]
					s.i = end
					break scan
				}
			}
		}
		switch c {
		case '\n':
			if !triple {
				return "", nil, s.errorf(open, "unterminated f-string")
			}
			expr.WriteByte(c)
			s.i++
		case '#':
			return "", nil, s.errorf(s.i, "f-string expression part cannot include '#'")
		case '(', '[', '{':
			if err := s.open(); err != nil {
				return "", nil, err
			}
			depth++
			expr.WriteByte(c)
			s.i++
		case ')', ']', '}':
			if depth == 0 {
				return "", nil, s.errorf(s.i, "f-string: unmatched '%c'", c)
			}
			depth--
			s.nest--
			expr.WriteByte(c)
			s.i++
		default:
			if err := s.token(&expr); err != nil {
				return "", nil, err
			}
		}
	}
	if strings.TrimSpace(expr.String()) == "" {
		return "", nil, s.errorf(open, "f-string: empty expression not allowed")
	}
	if s.src[s.i] == '!' {
		s.i++
		if s.i >= len(s.src) {
			return "", nil, s.errorf(open, "f-string: expecting '}'")
		}
		switch conv = s.src[s.i : s.i+1]; conv {
		case "r", "s":
		case "a":
			return "", nil, s.errorf(s.i, "f-string conversion !a is not supported; use !r")
		default:
			return "", nil, s.errorf(s.i, "f-string: invalid conversion character %q: expected 's' or 'r'", conv)
		}
		s.i++
		if s.i >= len(s.src) || (s.src[s.i] != ':' && s.src[s.i] != '}') {
			return "", nil, s.errorf(open, "f-string: expecting '}'")
		}
	}
	if s.src[s.i] == ':' {
		s.i++
		specStart := s.i
		for {
			if s.i >= len(s.src) {
				return "", nil, s.errorf(open, "f-string: expecting '}'")
			}
			c := s.src[s.i]
			if c == '}' {
				break
			}
			if c == '{' {
				return "", nil, s.errorf(s.i, "f-string: nested replacement fields in format specs are not supported")
			}
			if c == '\n' && !triple {
				return "", nil, s.errorf(open, "unterminated f-string")
			}
			s.i++
		}
		spec = s.src[specStart:s.i]
		hasSpec = spec != ""
	}
	s.i++ // the closing '}'
	s.nest--

	if debug != "" && conv == "" && !hasSpec {
		conv = "r" // Python shows {x=} with repr unless told otherwise
	}
	value := "(" + expr.String() + ")"
	var placeholder string
	var args []string
	if debug != "" {
		placeholder = "{}"
		args = append(args, quoteKeepLines(debug))
	}
	switch {
	case hasSpec:
		placeholder += "{}"
		args = append(args, fmtName+"("+value+", "+syntax.Quote(conv, false)+", "+quoteKeepLines(spec)+")")
	case conv == "r":
		placeholder += "{!r}"
		args = append(args, value)
	default:
		placeholder += "{}"
		args = append(args, value)
	}
	return placeholder, args, nil
}

// debugEnd reports whether the '=' at s.i ends a self-documenting
// expression ({x=}, {x = !r}, {x=:>8}) and, if so, where its text ends:
// after the '=' and any spaces that follow it.
func (s *fscanner) debugEnd() (int, bool) {
	if s.i > 0 && strings.IndexByte("=!<>", s.src[s.i-1]) >= 0 {
		return 0, false // the end of ==, !=, <= or >=
	}
	end := s.i + 1
	for end < len(s.src) && (s.src[end] == ' ' || s.src[end] == '\t') {
		end++
	}
	if end < len(s.src) && strings.IndexByte("}!:", s.src[end]) >= 0 {
		return end, true
	}
	return 0, false
}

// errorf returns an *Error at byte offset pos of the source.
func (s *fscanner) errorf(pos int, format string, args ...any) *Error {
	line, col := lineCol(s.src, pos)
	return newError(line, col, format, args...)
}

// lineCol converts a byte offset to a 1-based line and rune column.
func lineCol(src string, pos int) (line, col int) {
	pos = min(pos, len(src))
	before := src[:pos]
	line = 1 + strings.Count(before, "\n")
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCountInString(before[lineStart:])
}

// quoteKeepLines quotes s as a Starlark string and then adds back, as
// whitespace inside the format call's parentheses, the newlines the
// quoting escaped, so the rewrite keeps every line where it was.
func quoteKeepLines(s string) string {
	return syntax.Quote(s, false) + strings.Repeat("\n", strings.Count(s, "\n"))
}

// stringEnd returns the offset just past the string literal whose opening
// quote is at q; for an unterminated literal, the end of its line (or of
// the source, for a triple-quoted one).
func stringEnd(src string, q int) int {
	quote := src[q]
	triple := isTriple(src, q)
	i := q + 1
	if triple {
		i = q + 3
	}
	for i < len(src) {
		switch c := src[i]; {
		case c == '\\':
			i += 2
			continue
		case c == '\n' && !triple:
			return i
		case c == quote:
			if !triple {
				return i + 1
			}
			if i+2 < len(src) && src[i+1] == quote && src[i+2] == quote {
				return i + 3
			}
		}
		i++
	}
	return len(src)
}

// isTriple reports whether the quote at q opens a triple-quoted string.
func isTriple(src string, q int) bool {
	return q+2 < len(src) && src[q+1] == src[q] && src[q+2] == src[q]
}

// stringPrefix reports whether word is a Python string prefix, and if so
// whether it makes an f-string and whether a raw one.
func stringPrefix(word string) (f, raw, ok bool) {
	switch strings.ToLower(word) {
	case "f":
		return true, false, true
	case "rf", "fr":
		return true, true, true
	case "r", "rb", "br":
		return false, true, true
	case "b", "u":
		return false, false, true
	}
	return false, false, false
}

// isWordByte reports whether c can be part of a name, keyword or number.
// Bytes of multi-byte UTF-8 sequences count, as Starlark allows Unicode
// letters in names.
func isWordByte(c byte) bool {
	return c == '_' || c >= 0x80 ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}
