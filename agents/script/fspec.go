package script

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Starlark's str.format has no format specs ("{:.2f}"), and its %
// operator has no widths or precisions, so f"{price:.2f}" could not be
// expressed at all. fmtBuiltin implements the common part of Python's
// format-spec mini-language instead:
//
//	[[fill]align][sign][#][0][width][grouping][.precision][type]
//
// with the types s, d, n, b, o, x, X, c, e, E, f, F, g, G and %. Widths and
// precisions are capped so a spec cannot ask for a gigabyte of padding.

// maxFormatWidth bounds widths and precisions in format specs.
const maxFormatWidth = 10_000

// fmtBuiltin is __atrium_fmt(value, conversion, spec), which the f-string
// rewrite calls for a field with a format spec.
func (r *run) fmtBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	var conv, spec string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 3, &v, &conv, &spec); err != nil {
		return nil, err
	}
	switch conv {
	case "":
	case "r", "s":
		if _, isString := v.(starlark.String); conv == "r" || !isString {
			if err := r.chargeRepr(v); err != nil {
				return nil, err
			}
			v = starlark.String(v.String())
		}
	default:
		return nil, fmt.Errorf("f-string: invalid conversion %q", conv)
	}
	fs, err := parseSpec(spec)
	if err != nil {
		return nil, fmt.Errorf("f-string format spec %q: %w", spec, err)
	}
	if _, isString := v.(starlark.String); !isString {
		if err := r.chargeRepr(v); err != nil {
			return nil, err
		}
	}
	out, err := fs.format(v)
	if err != nil {
		return nil, fmt.Errorf("f-string format spec %q: %w", spec, err)
	}
	if err := r.charge(int64(len(out))); err != nil {
		return nil, err
	}
	return starlark.String(out), nil
}

// chargeRepr charges showing v.
func (r *run) chargeRepr(v starlark.Value) error {
	n, _, err := reprSizes(r.budgetLeft(), v)
	if err != nil {
		return err
	}
	return r.charge(n)
}

// formatSpec is a parsed format spec.
type formatSpec struct {
	fill     rune
	align    rune // '<', '>', '^', '=' or 0 for the type's default
	sign     rune // '+', '-', ' ' or 0
	alt      bool // '#'
	zero     bool // '0'
	width    int
	grouping rune // ',', '_' or 0
	prec     int  // -1 when absent
	typ      rune // 0 when absent
}

func parseSpec(s string) (formatSpec, error) {
	fs := formatSpec{fill: ' ', prec: -1}
	rs := []rune(s)
	i := 0
	isAlign := func(r rune) bool { return r == '<' || r == '>' || r == '^' || r == '=' }
	switch {
	case len(rs) >= 2 && isAlign(rs[1]):
		fs.fill, fs.align, i = rs[0], rs[1], 2
	case len(rs) >= 1 && isAlign(rs[0]):
		fs.align, i = rs[0], 1
	}
	if i < len(rs) && (rs[i] == '+' || rs[i] == '-' || rs[i] == ' ') {
		fs.sign = rs[i]
		i++
	}
	if i < len(rs) && rs[i] == 'z' {
		return fs, fmt.Errorf("the z option is not supported")
	}
	if i < len(rs) && rs[i] == '#' {
		fs.alt = true
		i++
	}
	if i < len(rs) && rs[i] == '0' {
		fs.zero = true
		i++
	}
	var err error
	if fs.width, i, err = number(rs, i); err != nil {
		return fs, err
	}
	if i < len(rs) && (rs[i] == ',' || rs[i] == '_') {
		fs.grouping = rs[i]
		i++
	}
	if i < len(rs) && rs[i] == '.' {
		start := i + 1
		if fs.prec, i, err = number(rs, start); err != nil {
			return fs, err
		}
		if i == start {
			return fs, fmt.Errorf("format specifier missing precision")
		}
	}
	if i < len(rs) {
		if !strings.ContainsRune("sdnboxXceEfFgG%", rs[i]) {
			return fs, fmt.Errorf("unknown format code %q", rs[i])
		}
		fs.typ = rs[i]
		i++
	}
	if i < len(rs) {
		return fs, fmt.Errorf("invalid format specifier")
	}
	if fs.zero && fs.align == 0 {
		fs.fill, fs.align = '0', '='
	}
	return fs, nil
}

// number reads the decimal digits at rs[i:], returning -1 if there are
// none.
func number(rs []rune, i int) (int, int, error) {
	n, start := 0, i
	for i < len(rs) && '0' <= rs[i] && rs[i] <= '9' {
		n = n*10 + int(rs[i]-'0')
		if n > maxFormatWidth {
			return 0, i, limitf("widths and precisions may be at most %d", maxFormatWidth)
		}
		i++
	}
	if i == start {
		return -1, i, nil
	}
	return n, i, nil
}

func (fs formatSpec) format(v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.String:
		return fs.formatString(string(v))
	case starlark.Int:
		return fs.formatInt(v)
	case starlark.Float:
		return fs.formatFloat(float64(v))
	case starlark.Bool:
		if fs.typ != 0 && fs.typ != 's' {
			n := 0
			if v {
				n = 1
			}
			return fs.formatInt(starlark.MakeInt(n))
		}
		return fs.formatString(v.String())
	default:
		return fs.formatString(v.String())
	}
}

func (fs formatSpec) formatString(s string) (string, error) {
	switch {
	case fs.typ != 0 && fs.typ != 's':
		return "", fmt.Errorf("format code %q is not for strings", fs.typ)
	case fs.sign != 0:
		return "", fmt.Errorf("sign not allowed in string format specifier")
	case fs.alt:
		return "", fmt.Errorf("alternate form (#) not allowed in string format specifier")
	case fs.grouping != 0:
		return "", fmt.Errorf("cannot specify %q with 's'", fs.grouping)
	case fs.align == '=':
		return "", fmt.Errorf("'=' alignment not allowed in string format specifier")
	}
	if fs.prec >= 0 && utf8.RuneCountInString(s) > fs.prec {
		s = string([]rune(s)[:fs.prec])
	}
	return fs.pad("", s, '<'), nil
}

func (fs formatSpec) formatInt(i starlark.Int) (string, error) {
	base := 10
	switch fs.typ {
	case 0, 'd', 'n':
	case 'b':
		base = 2
	case 'o':
		base = 8
	case 'x', 'X':
		base = 16
	case 'c':
		n, ok := i.Int64()
		if !ok || n < 0 || n > utf8.MaxRune {
			return "", fmt.Errorf("%%c arg not in range(0x110000)")
		}
		return fs.pad("", string(rune(n)), '<'), nil
	case 's':
		return "", fmt.Errorf("unknown format code 's' for int")
	default: // e, E, f, F, g, G, %
		return fs.formatFloat(float64(i.Float()))
	}
	if fs.prec >= 0 {
		return "", fmt.Errorf("precision not allowed in integer format specifier")
	}
	n := i.BigInt()
	digits := new(big.Int).Abs(n).Text(base)
	if fs.typ == 'X' {
		digits = strings.ToUpper(digits)
	}
	switch {
	case fs.grouping == ',' && base != 10:
		return "", fmt.Errorf("cannot specify ',' with %q", fs.typ)
	case fs.grouping != 0 && base == 10:
		digits = group(digits, 3, fs.grouping)
	case fs.grouping != 0:
		digits = group(digits, 4, fs.grouping)
	}
	prefix := ""
	if fs.alt {
		prefix = map[int]string{2: "0b", 8: "0o", 16: "0x", 10: ""}[base]
		if fs.typ == 'X' {
			prefix = "0X"
		}
	}
	return fs.pad(fs.signOf(n.Sign() < 0)+prefix, digits, '>'), nil
}

func (fs formatSpec) formatFloat(f float64) (string, error) {
	if fs.typ == 'c' || fs.typ == 's' || fs.typ == 'b' || fs.typ == 'o' || fs.typ == 'x' || fs.typ == 'X' || fs.typ == 'd' {
		return "", fmt.Errorf("unknown format code %q for float", fs.typ)
	}
	neg := math.Signbit(f) && !math.IsNaN(f)
	a := math.Abs(f)
	prec := fs.prec
	var text string
	switch {
	case math.IsInf(a, 0):
		text = "inf"
	case math.IsNaN(a):
		text = "nan"
	default:
		switch fs.typ {
		case 'e', 'E':
			text = strconv.FormatFloat(a, 'e', defaultPrec(prec), 64)
		case 'f', 'F':
			text = strconv.FormatFloat(a, 'f', defaultPrec(prec), 64)
		case '%':
			text = strconv.FormatFloat(a*100, 'f', defaultPrec(prec), 64) + "%"
		case 'g', 'G', 'n':
			text = strconv.FormatFloat(a, 'g', max(defaultPrec(prec), 1), 64)
		default: // no type: like str(), or 'g' with a precision
			if prec < 0 {
				text = starlark.Float(a).String()
			} else {
				text = strconv.FormatFloat(a, 'g', max(prec, 1), 64)
			}
		}
		if fs.grouping != 0 {
			intPart, rest := text, ""
			if k := strings.IndexAny(text, ".e%"); k >= 0 {
				intPart, rest = text[:k], text[k:]
			}
			text = group(intPart, 3, fs.grouping) + rest
		}
	}
	if fs.typ == 'E' || fs.typ == 'F' || fs.typ == 'G' {
		text = strings.ToUpper(text)
	}
	return fs.pad(fs.signOf(neg), text, '>'), nil
}

func defaultPrec(prec int) int {
	if prec < 0 {
		return 6
	}
	return prec
}

func (fs formatSpec) signOf(neg bool) string {
	switch {
	case neg:
		return "-"
	case fs.sign == '+':
		return "+"
	case fs.sign == ' ':
		return " "
	}
	return ""
}

// pad fills the field to the width, putting prefix (a sign, a base) before
// the padding when aligning with '='.
func (fs formatSpec) pad(prefix, body string, defaultAlign rune) string {
	n := fs.width - utf8.RuneCountInString(prefix) - utf8.RuneCountInString(body)
	if n <= 0 {
		return prefix + body
	}
	fill := strings.Repeat(string(fs.fill), n)
	align := fs.align
	if align == 0 {
		align = defaultAlign
	}
	switch align {
	case '<':
		return prefix + body + fill
	case '^':
		left := strings.Repeat(string(fs.fill), n/2)
		return left + prefix + body + strings.Repeat(string(fs.fill), n-n/2)
	case '=':
		return prefix + fill + body
	default:
		return fill + prefix + body
	}
}

// group puts sep between each size digits of digits, from the right.
func group(digits string, size int, sep rune) string {
	if len(digits) <= size {
		return digits
	}
	var b strings.Builder
	first := len(digits) % size
	if first > 0 {
		b.WriteString(digits[:first])
	}
	for i := first; i < len(digits); i += size {
		if b.Len() > 0 {
			b.WriteRune(sep)
		}
		b.WriteString(digits[i : i+size])
	}
	return b.String()
}
