package main

import (
	"fmt"

	. "github.com/dave/jennifer/jen"

	"github.com/gokernels/smoothl1/gen/kernel"
)

func kernels(ks []*kernel.Kernel) *File {
	f := newFile("")
	for _, k := range ks {
		goKernel(f, k)
	}
	return f
}

// accVar is the variable of lane lane of accumulator acc: acc<name><lane>, which no
// value name (letters, then the value's index) can be.
func accVar(acc string, lane int) string { return fmt.Sprintf("acc%s%d", acc, lane) }

func bits(c Code) *Statement { return Qual("math", "Float64bits").Call(c) }

func fromBits(c Code) *Statement { return Qual("math", "Float64frombits").Call(c) }

// goKernel writes the portable kernel: the canonical block, one lane after the other.
func goKernel(f *File, k *kernel.Kernel) {
	if k.Info().Cols > 0 {
		goRowKernel(f, k)
		return
	}
	T := k.Type.GoName()
	L := kernel.Lanes
	blk := func(s string) string { return s + "b" }
	var body []Code
	ins, out := k.Info().Ins, k.Info().Out
	// Every slice in order: the inputs, then the output.
	slices := append([]string{}, ins...)
	if out != "" {
		slices = append(slices, out)
	}
	body = append(body, Id("n").Op(":=").Len(Id(ins[0])))
	for _, s := range slices[1:] {
		body = append(body, Id(s).Op("=").Id(s).Index(Empty(), Id("n")))
	}
	body = append(body, hoistParams(k)...)
	// Accumulators, one variable per lane, starting at zero.
	for _, a := range k.Accs {
		for l := 0; l < L; l++ {
			body = append(body, Var().Id(accVar(a, l)).Float64())
		}
	}
	// Tail buffers.
	var tails []Code
	for _, s := range slices {
		tails = append(tails, Id("t"+s))
	}
	body = append(body, Var().List(tails...).Index(Lit(L)).Id(T))
	var loop []Code
	var blocks []Code
	for _, s := range slices {
		blocks = append(blocks, Id(blk(s)))
	}
	loop = append(loop, Var().List(blocks...).Op("*").Index(Lit(L)).Id(T))
	var full, part []Code
	for _, s := range slices {
		full = append(full, Id(blk(s)).Op("=").Parens(Op("*").Index(Lit(L)).Id(T)).Parens(Id(s).Index(Id("i"), Id("i").Op("+").Lit(L))))
		if s != out {
			part = append(part, Copy(Id("t"+s).Index(Empty(), Empty()), Id(s).Index(Id("i"), Empty())))
		}
		part = append(part, Id(blk(s)).Op("=").Op("&").Id("t"+s))
	}
	loop = append(loop, If(Id("n").Op("-").Id("i").Op(">=").Lit(L)).Block(full...).Else().Block(part...))
	uses := k.Uses()
	for l := 0; l < L; l++ {
		var lane []Code
		for i, op := range k.Ops {
			lane = append(lane, goOp(k, i, op, l, blk)...)
			if uses[i] == 0 && op.Kind != kernel.Store && op.Kind != kernel.SetAcc {
				lane = append(lane, Id("_").Op("=").Id(k.ValueName(i)))
			}
		}
		loop = append(loop, Comment(fmt.Sprintf("lane %d", l)), Block(lane...))
	}
	if out != "" {
		loop = append(loop, If(Id(blk(out)).Op("==").Op("&").Id("t"+out)).Block(
			Copy(Id(out).Index(Id("i"), Empty()), Id("t"+out).Index(Empty(), Id("n").Op("-").Id("i"))),
		))
	}
	body = append(body, For(Id("i").Op(":=").Lit(0), Id("i").Op("<").Id("n"), Id("i").Op("+=").Lit(L)).Block(loop...))
	for ai, a := range k.Accs {
		for l := 0; l < L; l++ {
			body = append(body, Id("acc").Index(Lit(ai*L+l)).Op("=").Id(accVar(a, l)))
		}
	}
	f.Commentf("%s %s", k.GoName(), k.Info().Doc)
	f.Commentf("It is the portable implementation of the canonical %s kernel for %s (see gen/kernel).", k.Family, T)
	f.Commentf("All slices must have the length of %s.", ins[0])
	f.Func().Id(k.GoName()).Params(signature(k)...).Block(body...)
}

func goOp(k *kernel.Kernel, i int, op kernel.Op, lane int, blk func(string) string) []Code {
	v := k.ValueName(i)
	a := func(j int) *Statement { return Id(k.ValueName(op.Args[j])) }
	def := func(c Code) []Code { return []Code{Id(v).Op(":=").Add(c)} }
	widen := func(c *Statement) *Statement {
		if k.Type == kernel.F32 {
			return Float64().Call(c)
		}
		return c
	}
	mask := func(cond Code) []Code {
		return []Code{
			Var().Id(v).Uint64(),
			If(cond).Block(Id(v).Op("=").Op("^").Uint64().Call(Lit(0))),
		}
	}
	switch op.Kind {
	case kernel.Load:
		if c := k.Info().Cols; c > 0 {
			return def(widen(Id(blk(op.Ref)).Index(Lit(lane*c + op.Col))))
		}
		return def(widen(Id(blk(op.Ref)).Index(Lit(lane))))
	case kernel.Param:
		return def(Id("p" + op.Ref))
	case kernel.Acc:
		return def(Id(accVar(op.Ref, lane)))
	case kernel.Add:
		return def(a(0).Op("+").Add(a(1)))
	case kernel.Sub:
		return def(a(0).Op("-").Add(a(1)))
	case kernel.Mul:
		// The conversion forbids fusing this product into a later addition.
		return def(Float64().Call(a(0).Op("*").Add(a(1))))
	case kernel.Div:
		return def(a(0).Op("/").Add(a(1)))
	case kernel.FMA:
		if isOne(k, op.Args[1]) { // a*1 + c: one rounding of a + c (an FMA unit in assembly)
			return append(def(a(0).Op("+").Add(a(2))), Id("_").Op("=").Add(a(1)))
		}
		return def(Qual("math", "FMA").Call(a(0), a(1), a(2)))
	case kernel.FMS:
		if isOne(k, op.Args[1]) {
			return append(def(a(0).Op("-").Add(a(2))), Id("_").Op("=").Add(a(1)))
		}
		return def(Qual("math", "FMA").Call(a(0), a(1), Op("-").Add(a(2))))
	case kernel.And:
		return def(fromBits(bits(a(0)).Op("&").Add(bits(a(1)))))
	case kernel.AndNot:
		return def(fromBits(bits(a(1)).Op("&^").Add(bits(a(0)))))
	case kernel.Xor:
		return def(fromBits(bits(a(0)).Op("^").Add(bits(a(1)))))
	case kernel.LT:
		return mask(a(0).Op("<").Add(a(1)))
	case kernel.LE:
		return mask(a(0).Op("<=").Add(a(1)))
	case kernel.NE:
		return mask(a(0).Op("!=").Add(a(1)))
	case kernel.IsNaN:
		return mask(a(0).Op("!=").Add(a(0)))
	case kernel.Max, kernel.Min:
		// As VMAXPD (VMINPD): the first operand if it is greater (less), else the
		// second. Go branches on a float comparison: against an accumulator the
		// branch is predictable (a running sum soon outgrows each term, a running
		// maximum rarely changes); otherwise the outcome may be as unpredictable
		// as the data, and a mask selects the result instead.
		cond := a(0).Op(">").Add(a(1))
		if op.Kind == kernel.Min {
			cond = a(1).Op(">").Add(a(0))
		}
		if k.Ops[op.Args[0]].Kind == kernel.Acc || k.Ops[op.Args[1]].Kind == kernel.Acc {
			return []Code{
				Id(v).Op(":=").Add(a(1)),
				If(cond).Block(Id(v).Op("=").Add(a(0))),
			}
		}
		m := Id(v + "m")
		return []Code{
			Var().Add(m).Uint64(),
			If(cond).Block(m.Clone().Op("=").Op("^").Uint64().Call(Lit(0))),
			Id(v).Op(":=").Add(fromBits(bits(a(0)).Op("&").Add(m.Clone()).Op("|").Add(bits(a(1))).Op("&^").Add(m.Clone()))),
		}
	case kernel.Select:
		return def(fromBits(bits(a(1)).Op("&").Add(a(0)).Op("|").Add(bits(a(2))).Op("&^").Add(a(0))))
	case kernel.SetAcc:
		return []Code{Id(accVar(op.Ref, lane)).Op("=").Add(a(0))}
	case kernel.Store:
		if k.Type == kernel.F32 {
			return []Code{Id(blk(op.Ref)).Index(Lit(lane)).Op("=").Float32().Call(a(0))}
		}
		return []Code{Id(blk(op.Ref)).Index(Lit(lane)).Op("=").Add(a(0))}
	}
	panic(fmt.Sprintf("gen: unknown op kind %d", op.Kind))
}

// isOne reports whether value v is the parameter One, 1.0.
func isOne(k *kernel.Kernel, v int) bool {
	return k.Ops[v].Kind == kernel.Param && k.Ops[v].Ref == "One"
}

// goRowKernel writes the portable kernel of a row family: whole blocks of Lanes
// rows, one row (lane) after the other; the rows of a last partial block are the
// caller's.
func goRowKernel(f *File, k *kernel.Kernel) {
	T := k.Type.GoName()
	L, C := kernel.Lanes, k.Info().Cols
	blk := func(s string) string { return s + "b" }
	ins, out := k.Info().Ins, k.Info().Out
	body := []Code{Id("n").Op(":=").Len(Id(out)).Op("&^").Lit(L - 1)}
	for _, s := range ins {
		body = append(body, Id(s).Op("=").Id(s).Index(Empty(), Id("n").Op("*").Lit(C)))
	}
	body = append(body, hoistParams(k)...)
	var loop []Code
	for _, s := range ins {
		loop = append(loop, Id(blk(s)).Op(":=").Parens(Op("*").Index(Lit(C*L)).Id(T)).Parens(
			Id(s).Index(Id("i").Op("*").Lit(C), Parens(Id("i").Op("+").Lit(L)).Op("*").Lit(C))))
	}
	loop = append(loop, Id(blk(out)).Op(":=").Parens(Op("*").Index(Lit(L)).Id(T)).Parens(Id(out).Index(Id("i"), Id("i").Op("+").Lit(L))))
	uses := k.Uses()
	for l := 0; l < L; l++ {
		var lane []Code
		for i, op := range k.Ops {
			lane = append(lane, goOp(k, i, op, l, blk)...)
			if uses[i] == 0 && op.Kind != kernel.Store {
				lane = append(lane, Id("_").Op("=").Id(k.ValueName(i)))
			}
		}
		loop = append(loop, Comment(fmt.Sprintf("row %d of the block", l)), Block(lane...))
	}
	body = append(body, For(Id("i").Op(":=").Lit(0), Id("i").Op("<").Id("n"), Id("i").Op("+=").Lit(L)).Block(loop...))
	f.Commentf("%s %s", k.GoName(), k.Info().Doc)
	f.Commentf("It is the portable implementation of the canonical %s kernel for %s (see gen/kernel).", k.Family, T)
	f.Commentf("%s has one element per row, the inputs %d per row; rows past the last multiple of %d are left alone.", out, C, L)
	f.Func().Id(k.GoName()).Params(signature(k)...).Block(body...)
}

// hoistParams returns the statements that read each parameter of kernel k once,
// before the loop: p<Name> := p[P<Name>].
func hoistParams(k *kernel.Kernel) []Code {
	var c []Code
	seen := map[string]bool{}
	for _, op := range k.Ops {
		if op.Kind == kernel.Param && !seen[op.Ref] {
			seen[op.Ref] = true
			c = append(c, Id("p"+op.Ref).Op(":=").Id("p").Index(Id("P"+op.Ref)))
		}
	}
	return c
}
