package script

import (
	"math"
	"math/bits"

	"go.starlark.net/starlark"
)

// Rough sizes of Starlark values, for charging the memory budget.

// unitSize is what one copy of a repeatable value costs.
func unitSize(v starlark.Value) (int64, bool) {
	switch v := v.(type) {
	case starlark.String:
		return int64(len(v)), true
	case starlark.Bytes:
		return int64(len(v)), true
	case *starlark.List:
		return mulSat(int64(v.Len()), wordSize), true
	case starlark.Tuple:
		return mulSat(int64(len(v)), wordSize), true
	}
	return 0, false
}

// repeatCount reads the integer operand of a repetition.
func repeatCount(v starlark.Value) (int64, bool) {
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, false
	}
	n, ok := i.Int64()
	if !ok {
		if i.Sign() < 0 {
			return 0, true
		}
		return math.MaxInt64, true
	}
	return max(n, 0), true
}

func intBits(i starlark.Int) int64 {
	if n, ok := i.Int64(); ok {
		if n < 0 {
			return int64(bits.Len64(uint64(-(n + 1)) + 1))
		}
		return int64(bits.Len64(uint64(n)))
	}
	return int64(i.BigInt().BitLen())
}

// shallowSize is roughly what a value just made owns itself, not counting
// elements it shares with other values.
func shallowSize(v starlark.Value) int64 {
	switch v := v.(type) {
	case starlark.String:
		return int64(len(v))
	case starlark.Bytes:
		return int64(len(v))
	case starlark.Int:
		return intBits(v) / 8
	case *starlark.List:
		return mulSat(int64(v.Len()), wordSize)
	case starlark.Tuple:
		return mulSat(int64(len(v)), wordSize)
	case *starlark.Dict:
		return mulSat(int64(v.Len()), 3*wordSize)
	case *starlark.Set:
		return mulSat(int64(v.Len()), 2*wordSize)
	}
	return 0
}

// reprSizes estimates the lengths of str(v) or repr(v) for each of vs,
// returning their total and the biggest. It gives up (with an answer above
// limit) once the total passes limit, so that measuring a list holding one
// big string a million times costs little, and fails on values nested more
// deeply than maxReprDepth, which str() would recurse through.
func reprSizes(limit int64, vs ...starlark.Value) (total, biggest int64, err error) {
	for _, v := range vs {
		s := sizer{limit: limit - total}
		s.walk(v, 0)
		if s.deep {
			return 0, 0, limitf("a value nested more than %d deep is too deep to show", maxReprDepth)
		}
		total = addSat(total, s.n)
		biggest = max(biggest, s.n)
		if total > limit {
			break
		}
	}
	return total, biggest, nil
}

type sizer struct {
	n, limit int64
	deep     bool             // a value nests more than maxReprDepth deep
	path     []starlark.Value // the lists and dicts being walked, to spot cycles
}

func (s *sizer) walk(v starlark.Value, depth int) {
	if s.n > s.limit {
		return
	}
	if depth > maxReprDepth {
		s.deep = true
		s.n = addSat(s.limit, 1)
		return
	}
	switch v := v.(type) {
	case starlark.String:
		s.add(int64(len(v)) + 2)
	case starlark.Bytes:
		s.add(4*int64(len(v)) + 3)
	case starlark.Int:
		s.add(intBits(v)/3 + 2)
	case starlark.Float:
		s.add(32)
	case starlark.NoneType, starlark.Bool:
		s.add(5)
	case *starlark.List:
		if s.onPath(v) {
			s.add(5) // [...]
			return
		}
		s.path = append(s.path, v)
		s.add(2)
		for i := 0; i < v.Len() && s.n <= s.limit; i++ {
			s.walk(v.Index(i), depth+1)
			s.add(2)
		}
		s.path = s.path[:len(s.path)-1]
	case starlark.Tuple:
		s.add(2)
		for i := 0; i < len(v) && s.n <= s.limit; i++ {
			s.walk(v[i], depth+1)
			s.add(2)
		}
	case *starlark.Dict:
		if s.onPath(v) {
			s.add(5) // {...}
			return
		}
		s.path = append(s.path, v)
		s.add(2)
		s.walkIterable(v, depth, func(k starlark.Value) {
			val, _, _ := v.Get(k)
			s.walk(val, depth+1)
		})
		s.path = s.path[:len(s.path)-1]
	case *starlark.Set:
		s.add(5)
		s.walkIterable(v, depth, nil)
	default:
		// Functions, built-ins, ranges, string.elems(): their text is
		// short or no longer than a value already charged.
		s.add(int64(len(v.String())))
	}
}

// walkIterable walks each element of v, and with each calls also, if set.
func (s *sizer) walkIterable(v starlark.Iterable, depth int, also func(starlark.Value)) {
	iter := v.Iterate()
	defer iter.Done()
	var e starlark.Value
	for s.n <= s.limit && iter.Next(&e) {
		s.walk(e, depth+1)
		if also != nil {
			also(e)
		}
		s.add(4)
	}
}

func (s *sizer) add(n int64) { s.n = addSat(s.n, n) }

func (s *sizer) onPath(v starlark.Value) bool {
	for _, p := range s.path {
		if p == v {
			return true
		}
	}
	return false
}

func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSat(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
