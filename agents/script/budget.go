package script

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// The memory budget (Limits.MaxAllocBytes) is charged by the hidden
// built-ins that instrument routes operators and calls through. What an
// operation may allocate out of proportion to its operands (a repetition,
// a concatenation, a replace, a join, a str() of a list holding one big
// string many times over) is estimated and charged before it runs, so the
// allocation never happens if it would not fit. What only copies its input
// (list(), sorted(), str.upper()) is charged after. The estimates are
// deliberately rough: they must bound memory, not measure it.

const (
	// wordSize is what each element of a list, tuple, dict or set costs
	// at least: one interface value.
	wordSize = 16
	// maxIntBits bounds the integers * and << make. Otherwise x = x * x
	// doubles an integer's size each step, and converting a huge one to
	// text takes a long, uninterruptible step.
	maxIntBits = 1 << 16
	// maxIntDigits bounds the strings int() parses, as Python does
	// (4300 digits), for the same reason.
	maxIntDigits = 4300
	// maxRange bounds range(). A script cannot iterate further within its
	// steps, but list(), max() or "".join() would run through it in one
	// uninterruptible step.
	maxRange = 10_000_000
	// maxCallDepth bounds nested calls, counting the hidden built-in each
	// call goes through, so runaway recursion fails with a message rather
	// than growing the Go stack.
	maxCallDepth = 2000
	// maxReprDepth bounds how deeply values may nest to be shown.
	maxReprDepth = 1000
)

// charge adds n bytes to what the script has used, failing once that
// passes MaxAllocBytes.
func (r *run) charge(n int64) error {
	r.alloc = addSat(r.alloc, n)
	if r.alloc > r.limits.MaxAllocBytes {
		return limitf("the script used more than its %s of memory", byteSize(r.limits.MaxAllocBytes))
	}
	return nil
}

// budgetLeft is how many bytes the script may still use.
func (r *run) budgetLeft() int64 { return max(0, r.limits.MaxAllocBytes-r.alloc) }

// callBuiltin is __atrium_call(f, args...): it calls f(args...), first
// bounding call depth and, when f is a built-in, charging its result.
func (r *run) callBuiltin(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, errors.New("internal error: call without a function")
	}
	if thread.CallStackDepth() > maxCallDepth {
		return nil, limitf("calls nest more than %d deep (does a function call itself without end?)", maxCallDepth/2)
	}
	fn, args := args[0], args[1:]
	b, ok := fn.(*starlark.Builtin)
	if !ok {
		return starlark.Call(thread, fn, args, kwargs)
	}
	return r.guarded(thread, b, args, kwargs)
}

// guarded calls the built-in b, charging what it makes.
func (r *run) guarded(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	kwargs = r.guardKey(b, kwargs)
	cost, known, err := r.precost(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if err := r.charge(cost); err != nil {
		return nil, err
	}
	res, err := starlark.Call(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if !known && makesValue(b) {
		if err := r.charge(shallowSize(res)); err != nil {
			return nil, err
		}
	}
	if b.Receiver() == nil && b.Name() == "range" {
		if n := starlark.Len(res); n > maxRange {
			return nil, limitf("range: %d elements is more than the limit of %d", n, maxRange)
		}
	}
	return res, nil
}

// guardKey wraps a built-in passed as the key of sorted, min or max (the
// only Starlark built-ins that call back), so sorted(xs, key=str) is
// charged like str(x).
func (r *run) guardKey(b *starlark.Builtin, kwargs []starlark.Tuple) []starlark.Tuple {
	if b.Receiver() != nil || (b.Name() != "sorted" && b.Name() != "min" && b.Name() != "max") {
		return kwargs
	}
	for i, kv := range kwargs {
		key, ok := kv[1].(*starlark.Builtin)
		if !ok || kv[0] != starlark.String("key") {
			continue
		}
		wrapped := starlark.NewBuiltin(key.Name(), func(t *starlark.Thread, _ *starlark.Builtin, a starlark.Tuple, k []starlark.Tuple) (starlark.Value, error) {
			return r.guarded(t, key, a, k)
		})
		out := make([]starlark.Tuple, len(kwargs))
		copy(out, kwargs)
		out[i] = starlark.Tuple{kv[0], wrapped}
		return out
	}
	return kwargs
}

// precost estimates what calling b will allocate, when that can be known
// (known) before the call; it fails when the call must not run at all.
func (r *run) precost(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (cost int64, known bool, err error) {
	left := r.budgetLeft()
	switch recv := b.Receiver().(type) {
	case nil:
		return universeCost(b.Name(), args, kwargs, left)
	case starlark.String:
		return stringMethodCost(string(recv), b.Name(), args, kwargs, left)
	case *starlark.List:
		if b.Name() == "extend" && len(args) == 1 {
			if n := starlark.Len(args[0]); n >= 0 {
				return mulSat(int64(n), wordSize), true, nil
			}
		}
	case *starlark.Dict:
		if b.Name() == "update" && len(args) == 1 {
			if n := starlark.Len(args[0]); n >= 0 {
				return mulSat(int64(n), 3*wordSize), true, nil
			}
		}
	}
	return 0, false, nil
}

func universeCost(name string, args starlark.Tuple, kwargs []starlark.Tuple, left int64) (int64, bool, error) {
	switch name {
	case "str", "repr":
		if len(args) != 1 {
			break
		}
		if _, ok := args[0].(starlark.String); ok && name == "str" {
			return 0, true, nil // str of a string is the string
		}
		n, _, err := reprSizes(left, args[0])
		return n, true, err
	case "print", "fail":
		n, _, err := reprSizes(left, args...)
		if err != nil {
			return 0, true, err
		}
		for _, kv := range kwargs { // sep and end
			sep, _, err := reprSizes(left, kv[1])
			if err != nil {
				return 0, true, err
			}
			n = addSat(n, mulSat(sep, int64(len(args))))
		}
		return n, true, nil
	case "int":
		if len(args) > 0 {
			if s, ok := args[0].(starlark.String); ok && len(s) > maxIntDigits {
				return 0, true, limitf("int: a string of %d characters is more than the limit of %d", len(s), maxIntDigits)
			}
		}
		return 0, true, nil
	case "bytes":
		if len(args) == 1 {
			if n := starlark.Len(args[0]); n >= 0 {
				return int64(n), true, nil
			}
		}
	case "list", "tuple", "sorted", "reversed", "set":
		if len(args) >= 1 {
			if n := starlark.Len(args[0]); n >= 0 {
				return mulSat(int64(n), wordSize), true, nil
			}
		}
	case "dict", "enumerate":
		if len(args) >= 1 {
			if n := starlark.Len(args[0]); n >= 0 {
				return mulSat(int64(n), 4*wordSize), true, nil
			}
		}
	case "zip":
		shortest := int64(math.MaxInt64)
		for _, a := range args {
			n := starlark.Len(a)
			if n < 0 {
				return 0, false, nil
			}
			shortest = min(shortest, int64(n))
		}
		if len(args) > 0 {
			return mulSat(shortest, int64(len(args)+2)*wordSize), true, nil
		}
	}
	return 0, false, nil
}

func stringMethodCost(s, name string, args starlark.Tuple, kwargs []starlark.Tuple, left int64) (int64, bool, error) {
	switch name {
	case "join":
		if len(args) != 1 {
			break
		}
		iter := starlark.Iterate(args[0])
		if iter == nil {
			break
		}
		defer iter.Done()
		var n int64
		var x starlark.Value
		for n <= left && iter.Next(&x) {
			if e, ok := x.(starlark.String); ok {
				n = addSat(n, int64(len(e)))
			}
			n = addSat(n, int64(len(s)))
		}
		return n, true, nil
	case "replace":
		if len(args) < 2 {
			break
		}
		old, ok1 := starlark.AsString(args[0])
		repl, ok2 := starlark.AsString(args[1])
		if !ok1 || !ok2 {
			break
		}
		var hits int64
		if old == "" {
			hits = int64(utf8.RuneCountInString(s)) + 1
		} else {
			hits = int64(strings.Count(s, old))
		}
		if len(args) > 2 {
			if c, err := starlark.AsInt32(args[2]); err == nil && c >= 0 {
				hits = min(hits, int64(c))
			}
		}
		return addSat(int64(len(s)), mulSat(hits, int64(len(repl)))), true, nil
	case "format":
		// Each field is at most the largest argument, shown.
		values := append([]starlark.Value(nil), args...)
		for _, kv := range kwargs {
			values = append(values, kv[1])
		}
		_, biggest, err := reprSizes(left, values...)
		if err != nil {
			return 0, true, err
		}
		fields := int64(strings.Count(s, "{"))
		return addSat(int64(len(s)), mulSat(fields, biggest)), true, nil
	case "split", "rsplit":
		sep := arg(args, kwargs, 0, "sep")
		var parts int64
		if sep == nil || sep == starlark.None {
			parts = fields(s)
		} else if sep, ok := starlark.AsString(sep); ok && sep != "" {
			parts = int64(strings.Count(s, sep)) + 1
		} else {
			break
		}
		if m := arg(args, kwargs, 1, "maxsplit"); m != nil {
			if m, err := starlark.AsInt32(m); err == nil && m >= 0 {
				parts = min(parts, int64(m)+1)
			}
		}
		return mulSat(parts, 2*wordSize), true, nil
	case "splitlines":
		lines := int64(strings.Count(s, "\n")+strings.Count(s, "\r")) + 1
		return mulSat(lines, 2*wordSize), true, nil
	}
	return 0, false, nil
}

// arg returns the argument at position i or named name, or nil.
func arg(args starlark.Tuple, kwargs []starlark.Tuple, i int, name string) starlark.Value {
	if i < len(args) {
		return args[i]
	}
	for _, kv := range kwargs {
		if kv[0] == starlark.String(name) {
			return kv[1]
		}
	}
	return nil
}

// fields counts the runs of non-space runes in s, as split() would.
func fields(s string) int64 {
	var n int64
	inField := false
	for _, r := range s {
		space := unicode.IsSpace(r)
		if !space && !inField {
			n++
		}
		inField = !space
	}
	return n
}

// makesValue reports whether b returns a value it has just made, which
// guarded charges when precost could not say in advance what it costs.
func makesValue(b *starlark.Builtin) bool {
	switch b.Receiver().(type) {
	case nil:
		switch b.Name() {
		case "str", "repr", "list", "tuple", "dict", "set", "sorted", "reversed", "enumerate", "zip", "bytes", "dir":
			return true
		}
	case starlark.String:
		return true
	case *starlark.Dict:
		switch b.Name() {
		case "items", "keys", "values":
			return true
		}
	case *starlark.Set:
		switch b.Name() {
		case "union", "difference", "intersection", "symmetric_difference":
			return true
		}
	}
	return false
}

// binaryBuiltin is the hidden built-in for x op y.
func (r *run) binaryBuiltin(op syntax.Token) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) != 2 || len(kwargs) != 0 {
			return nil, fmt.Errorf("%s: internal error: want two operands", b.Name())
		}
		if err := r.chargeBinary(op, args[0], args[1]); err != nil {
			return nil, err
		}
		return starlark.Binary(op, args[0], args[1])
	}
}

// augBuiltin is the hidden built-in for x op= y: it charges x op y and
// returns y for the interpreter to apply as usual.
func (r *run) augBuiltin(op syntax.Token) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) != 2 || len(kwargs) != 0 {
			return nil, fmt.Errorf("%s: internal error: want two operands", b.Name())
		}
		if err := r.chargeBinary(op, args[0], args[1]); err != nil {
			return nil, err
		}
		return args[1], nil
	}
}

// chargeBinary charges the result of x op y before it is computed.
func (r *run) chargeBinary(op syntax.Token, x, y starlark.Value) error {
	switch op {
	case syntax.PLUS:
		if _, ok := x.(*starlark.List); ok {
			// list + list, and list += any iterable
			if n := starlark.Len(y); n >= 0 {
				return r.charge(mulSat(int64(starlark.Len(x)+n), wordSize))
			}
			return nil
		}
		a, okx := unitSize(x)
		b, oky := unitSize(y)
		if okx && oky {
			return r.charge(addSat(a, b))
		}
	case syntax.STAR:
		if n, ok := repeatCount(y); ok {
			if unit, ok := unitSize(x); ok {
				return r.charge(mulSat(unit, n))
			}
		}
		if n, ok := repeatCount(x); ok {
			if unit, ok := unitSize(y); ok {
				return r.charge(mulSat(unit, n))
			}
		}
		xi, okx := x.(starlark.Int)
		yi, oky := y.(starlark.Int)
		if okx && oky {
			return r.chargeInt(intBits(xi) + intBits(yi))
		}
	case syntax.PERCENT:
		format, ok := starlark.AsString(x)
		if !ok {
			return nil
		}
		// Each conversion shows at most the largest argument.
		args := starlark.Tuple{y}
		if t, ok := y.(starlark.Tuple); ok {
			args = t
		}
		_, biggest, err := reprSizes(r.budgetLeft(), args...)
		if err != nil {
			return err
		}
		return r.charge(addSat(int64(len(format)), mulSat(int64(strings.Count(format, "%")), biggest)))
	case syntax.LTLT:
		xi, okx := x.(starlark.Int)
		yi, oky := y.(starlark.Int)
		if okx && oky {
			shift, ok := yi.Int64()
			if !ok {
				shift = math.MaxInt32 // Starlark refuses it anyway
			}
			return r.chargeInt(intBits(xi) + max(shift, 0))
		}
	}
	return nil
}

// chargeInt charges an integer of the given size, refusing huge ones.
func (r *run) chargeInt(bits int64) error {
	if bits > maxIntBits {
		return limitf("an integer of more than %d bits is too large", maxIntBits)
	}
	return r.charge(bits / 8)
}
