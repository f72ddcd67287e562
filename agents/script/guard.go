package script

import (
	"strings"

	"go.starlark.net/syntax"
)

// Starlark bounds a script's steps but not its memory: "x" * 10**9 or
// [0] * 10**9 is one step, and s = s + s doubles a string in four. So
// instrument rewrites the parsed script, before it is compiled, to route
// every operation that can make a value much bigger than its operands
// through a hidden built-in that estimates the result's size first and
// charges it to the run's memory budget (see budget.go):
//
//	f(a, k=b)   →  __atrium_call(f, a, k=b)
//	x + y       →  __atrium_add(x, y)    (likewise *, %, <<)
//	x += y      →  x += __atrium_iadd(x, y)
//	a[i] += y   →  __atrium_x = a; __atrium_i = i
//	               __atrium_x[__atrium_i] += __atrium_iadd(__atrium_x[__atrium_i], y)
//
// Every call goes through __atrium_call because built-ins such as
// str.replace, str.join and str may return far more than they are given,
// and because it is the one place to bound how deeply calls nest.
// Positions are copied from the nodes replaced, so errors still point at
// the script's own lines.

// reservedPrefix starts the names of the hidden built-ins. A script may
// not use such names: one that rebound __atrium_call would step around
// the budget.
const reservedPrefix = "__atrium_"

// Names of the hidden built-ins and temporaries instrument introduces.
const (
	callName = "__atrium_call"
	tmpX     = "__atrium_x"
	tmpIndex = "__atrium_i"
)

// binaryNames maps each guarded binary operator to its built-in.
func binaryName(op syntax.Token) (string, bool) {
	switch op {
	case syntax.PLUS:
		return "__atrium_add", true
	case syntax.STAR:
		return "__atrium_mul", true
	case syntax.PERCENT:
		return "__atrium_mod", true
	case syntax.LTLT:
		return "__atrium_shl", true
	}
	return "", false
}

// augName maps each guarded augmented assignment to its built-in, which
// checks the operation's result and returns its right operand unchanged.
func augName(op syntax.Token) (string, bool) {
	switch op {
	case syntax.PLUS_EQ:
		return "__atrium_iadd", true
	case syntax.STAR_EQ:
		return "__atrium_imul", true
	case syntax.PERCENT_EQ:
		return "__atrium_imod", true
	case syntax.LTLT_EQ:
		return "__atrium_ishl", true
	}
	return "", false
}

// instrument refuses load statements and reserved names, then rewrites f
// in place as described above.
func instrument(f *syntax.File) error {
	var err error
	syntax.Walk(f, func(n syntax.Node) bool {
		if err != nil {
			return false
		}
		switch n := n.(type) {
		case *syntax.LoadStmt:
			err = posError(n.Load, "load statements are not allowed in agent scripts")
		case *syntax.Ident:
			if strings.HasPrefix(n.Name, reservedPrefix) && n.Name != fmtName {
				err = posError(n.NamePos, "name %s is reserved", n.Name)
			}
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	f.Stmts = stmts(f.Stmts)
	return nil
}

func stmts(list []syntax.Stmt) []syntax.Stmt {
	if len(list) == 0 {
		return list // keep nil nil: an IfStmt's Span reads a non-nil False as an else block
	}
	out := make([]syntax.Stmt, 0, len(list))
	for _, s := range list {
		out = append(out, stmt(s)...)
	}
	return out
}

func stmt(s syntax.Stmt) []syntax.Stmt {
	switch s := s.(type) {
	case *syntax.AssignStmt:
		if name, ok := augName(s.Op); ok {
			return augmented(s, name)
		}
		s.LHS = expr(s.LHS)
		s.RHS = expr(s.RHS)
	case *syntax.DefStmt:
		s.Params = exprs(s.Params)
		s.Body = stmts(s.Body)
	case *syntax.ExprStmt:
		s.X = expr(s.X)
	case *syntax.ForStmt:
		s.Vars = expr(s.Vars)
		s.X = expr(s.X)
		s.Body = stmts(s.Body)
	case *syntax.WhileStmt:
		s.Cond = expr(s.Cond)
		s.Body = stmts(s.Body)
	case *syntax.IfStmt:
		s.Cond = expr(s.Cond)
		s.True = stmts(s.True)
		s.False = stmts(s.False)
	case *syntax.ReturnStmt:
		s.Result = expr(s.Result)
	}
	return []syntax.Stmt{s}
}

// augmented rewrites x op= y so that name checks the result before the
// interpreter computes it. An indexed target is evaluated once, into
// temporaries, as the compiler would.
func augmented(s *syntax.AssignStmt, name string) []syntax.Stmt {
	rhs := expr(s.RHS)
	switch lhs := unparen(s.LHS).(type) {
	case *syntax.Ident:
		s.RHS = hiddenCall(name, s.OpPos, ident(lhs.Name, lhs.NamePos), rhs)
		return []syntax.Stmt{s}
	case *syntax.IndexExpr:
		setX := &syntax.AssignStmt{OpPos: s.OpPos, Op: syntax.EQ, LHS: ident(tmpX, lhs.Lbrack), RHS: expr(lhs.X)}
		setI := &syntax.AssignStmt{OpPos: s.OpPos, Op: syntax.EQ, LHS: ident(tmpIndex, lhs.Lbrack), RHS: expr(lhs.Y)}
		element := func() *syntax.IndexExpr {
			return &syntax.IndexExpr{X: ident(tmpX, lhs.Lbrack), Lbrack: lhs.Lbrack, Y: ident(tmpIndex, lhs.Lbrack), Rbrack: lhs.Rbrack}
		}
		s.LHS = element()
		s.RHS = hiddenCall(name, s.OpPos, element(), rhs)
		return []syntax.Stmt{setX, setI, s}
	default:
		// x.f op= y: nothing a script can reach has fields it may set.
		s.LHS = expr(s.LHS)
		s.RHS = rhs
		return []syntax.Stmt{s}
	}
}

func exprs(list []syntax.Expr) []syntax.Expr {
	for i, e := range list {
		list[i] = expr(e)
	}
	return list
}

// expr rewrites e and everything in it. It keeps the kind of every node
// that may be assigned to (names, indexes, fields, tuples, lists), so it is
// safe on the left of an assignment and on name=value arguments.
func expr(e syntax.Expr) syntax.Expr {
	switch e := e.(type) {
	case *syntax.ParenExpr:
		e.X = expr(e.X)
	case *syntax.CallExpr:
		args := make([]syntax.Expr, 0, len(e.Args)+1)
		args = append(args, expr(e.Fn))
		args = append(args, exprs(e.Args)...)
		return &syntax.CallExpr{
			Fn:     ident(callName, syntax.Start(e.Fn)),
			Lparen: e.Lparen,
			Args:   args,
			Rparen: e.Rparen,
		}
	case *syntax.DotExpr:
		e.X = expr(e.X)
	case *syntax.Comprehension:
		e.Body = expr(e.Body)
		for _, c := range e.Clauses {
			switch c := c.(type) {
			case *syntax.ForClause:
				c.Vars = expr(c.Vars)
				c.X = expr(c.X)
			case *syntax.IfClause:
				c.Cond = expr(c.Cond)
			}
		}
	case *syntax.DictExpr:
		e.List = exprs(e.List)
	case *syntax.DictEntry:
		e.Key = expr(e.Key)
		e.Value = expr(e.Value)
	case *syntax.LambdaExpr:
		e.Params = exprs(e.Params)
		e.Body = expr(e.Body)
	case *syntax.ListExpr:
		e.List = exprs(e.List)
	case *syntax.TupleExpr:
		e.List = exprs(e.List)
	case *syntax.CondExpr:
		e.Cond = expr(e.Cond)
		e.True = expr(e.True)
		e.False = expr(e.False)
	case *syntax.UnaryExpr:
		e.X = expr(e.X)
	case *syntax.BinaryExpr:
		e.X = expr(e.X)
		e.Y = expr(e.Y)
		if name, ok := binaryName(e.Op); ok {
			return hiddenCall(name, e.OpPos, e.X, e.Y)
		}
	case *syntax.SliceExpr:
		e.X = expr(e.X)
		e.Lo = expr(e.Lo)
		e.Hi = expr(e.Hi)
		e.Step = expr(e.Step)
	case *syntax.IndexExpr:
		e.X = expr(e.X)
		e.Y = expr(e.Y)
	}
	return e
}

// hiddenCall is a call of the hidden built-in name, placed at pos.
func hiddenCall(name string, pos syntax.Position, args ...syntax.Expr) *syntax.CallExpr {
	return &syntax.CallExpr{Fn: ident(name, pos), Lparen: pos, Args: args, Rparen: pos}
}

func ident(name string, pos syntax.Position) *syntax.Ident {
	return &syntax.Ident{NamePos: pos, Name: name}
}

func unparen(e syntax.Expr) syntax.Expr {
	for {
		p, ok := e.(*syntax.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}
