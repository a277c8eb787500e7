// The NEON instruction selection: one or more instructions per operation of the
// description, with the semantics neon.go lists.

package main

import (
	"fmt"
	"strings"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// op emits operation i for the current quarter.
func (g *neonGen) op(i int, op kernel.Op) {
	k := g.k
	r := func(j int) vreg { return g.reg[op.Args[j]] }
	// dies reports whether argument j is read for the last time here and lives in a
	// register of its own (not a parameter's or an accumulator's).
	dies := func(j int) bool { return g.pl.Last[op.Args[j]] == i && !g.pinned[r(j)] }
	// target is the accumulator register the result goes to, or -1.
	target := vreg(-1)
	if a := g.pl.ToAcc[i]; a != "" {
		target = g.acc[a][g.q]
	}
	// releaseArgs frees the registers of the arguments read for the last time,
	// except the result's.
	releaseArgs := func(keep vreg) {
		for j := range op.Args {
			if dies(j) && r(j) != keep {
				g.release(r(j))
			}
		}
	}
	// single emits a one-instruction operation whose result may take the register
	// of an argument that dies here.
	single := func(enc func(d vreg) neonInst) {
		d := target
		if d < 0 {
			releaseArgs(-1)
			d = g.alloc()
		} else {
			releaseArgs(d)
		}
		g.word(enc(d))
		g.reg[i] = d
	}
	bin := func(opc uint32, n, m int) {
		single(func(d vreg) neonInst { return neon3(opc, d, r(n), r(m)) })
	}
	switch op.Kind {
	case kernel.Load:
		p := g.ptr[op.Ref]
		if c := k.Info().Cols; c > 0 {
			g.reg[i] = g.loadCols(op.Ref, c)[op.Col]
			return
		}
		d := g.alloc()
		if !g.f32 {
			g.printf("\tVLD1.P 16(%s), [V%d.D2]\n", p, d)
		} else {
			raw := g.raw[op.Ref]
			if g.q%2 == 0 {
				g.printf("\tVLD1.P 16(%s), [V%d.S4]\n", p, raw)
				g.word(neon2(neonFCVTL, d, raw))
			} else {
				g.word(neon2(neonFCVTL2, d, raw))
			}
		}
		g.reg[i] = d
	case kernel.Param:
		g.reg[i] = g.param[op.Ref]
	case kernel.Acc:
		g.reg[i] = g.acc[op.Ref][g.q]
	case kernel.Add:
		bin(neonFADD, 0, 1)
	case kernel.Sub:
		bin(neonFSUB, 0, 1)
	case kernel.Mul:
		bin(neonFMUL, 0, 1)
	case kernel.Div:
		bin(neonFDIV, 0, 1)
	case kernel.And:
		bin(neonAND, 0, 1)
	case kernel.AndNot:
		bin(neonBIC, 1, 0) // ^a0 & a1 = a1 BIC a0
	case kernel.Xor:
		bin(neonEOR, 0, 1)
	case kernel.LT:
		bin(neonFCMGT, 1, 0) // a0 < a1 = a1 > a0
	case kernel.LE:
		bin(neonFCMGE, 1, 0) // a0 <= a1 = a1 >= a0
	case kernel.NE, kernel.IsNaN:
		// FCMEQ is false with NaN: its inverse is NE (true with NaN), and
		// FCMEQ a, a is false exactly for NaN.
		m := 1
		if op.Kind == kernel.IsNaN {
			m = 0
		}
		bin(neonFCMEQ, 0, m)
		if !g.inverted[i] {
			g.word(neon2(neonMVN, g.reg[i], g.reg[i]))
		}
	case kernel.FMA, kernel.FMS:
		a, b, c := r(0), r(1), r(2)
		d := target
		if d >= 0 && (d == a || d == b) && (op.Kind == kernel.FMS || d != c) {
			d = -1 // the accumulator is a factor: computed elsewhere, then moved
		}
		if d < 0 {
			if dies(2) && (op.Kind == kernel.FMA || (c != a && c != b)) {
				d = c
			} else {
				d = g.alloc() // before the factors are released: d must not be one
			}
		}
		if op.Kind == kernel.FMA {
			if d != c {
				g.word(neonMov(d, c))
			}
		} else {
			// a*b - c = a*b + (-c), one rounding; FNEG is exact.
			g.word(neon2(neonFNEG, d, c))
		}
		g.word(neon3(neonFMLA, d, a, b))
		releaseArgs(d)
		g.reg[i] = d
	case kernel.Max, kernel.Min:
		a, b := r(0), r(1)
		m := g.alloc()
		if op.Kind == kernel.Max {
			g.word(neon3(neonFCMGT, m, a, b)) // a > b
		} else {
			g.word(neon3(neonFCMGT, m, b, a)) // a < b
		}
		d := g.sel(m, true, 0, 1, dies(0), dies(1), target, op)
		if d != m {
			g.release(m)
		}
		releaseArgs(d)
		g.reg[i] = d
	case kernel.Select:
		t, f, dt, df := 1, 2, dies(1), dies(2)
		if g.inverted[op.Args[0]] {
			t, f, dt, df = f, t, df, dt
		}
		d := g.sel(r(0), dies(0), t, f, dt, df, target, op)
		releaseArgs(d)
		g.reg[i] = d
	case kernel.SetAcc:
		if d := g.acc[op.Ref][g.q]; r(0) != d {
			g.word(neonMov(d, r(0)))
		}
		releaseArgs(-1)
	case kernel.Store:
		p := g.ptr[op.Ref]
		if !g.f32 {
			g.printf("\tVST1.P [V%d.D2], 16(%s)\n", r(0), p)
		} else if g.q%2 == 0 {
			g.word(neon2(neonFCVTN, g.out, r(0)))
		} else {
			g.word(neon2(neonFCVTN2, g.out, r(0)))
			g.printf("\tVST1.P [V%d.S4], 16(%s)\n", g.out, p)
		}
		releaseArgs(-1)
	default:
		panic(fmt.Sprintf("%s: op kind %v has no NEON translation", k.GoName(), op.Kind))
	}
}

// sel emits mask ? args[t] : args[f] with the mask in register m (dm: m dies here)
// and returns the register of the result: target if it is >= 0, else a register
// that dies here (the mask's or a value's) or a new one. BSL overwrites the mask,
// BIT the false value, BIF the true value.
func (g *neonGen) sel(m vreg, dm bool, t, f int, dt, df bool, target vreg, op kernel.Op) vreg {
	rt, rf := g.reg[op.Args[t]], g.reg[op.Args[f]]
	switch {
	case target >= 0 && target == rf:
		g.word(neon3(neonBIT, rf, rt, m))
		return rf
	case target >= 0 && target == rt:
		g.word(neon3(neonBIF, rt, rf, m))
		return rt
	case target >= 0:
		g.word(neonMov(target, m))
		g.word(neon3(neonBSL, target, rt, rf))
		return target
	case dm && !g.pinned[m]:
		g.word(neon3(neonBSL, m, rt, rf))
		return m
	case df:
		g.word(neon3(neonBIT, rf, rt, m))
		return rf
	case dt:
		g.word(neon3(neonBIF, rt, rf, m))
		return rt
	}
	d := g.alloc()
	g.word(neonMov(d, m))
	g.word(neon3(neonBSL, d, rt, rf))
	return d
}

// loadCols returns the registers of the columns of input sl for the current
// quarter's two rows, loading them at the first call: LD2, LD3 or LD4 takes the rows
// apart, column c into the c-th of cols consecutive registers (float32: widened in
// place).
func (g *neonGen) loadCols(sl string, cols int) []vreg {
	if cs := g.cols[sl]; cs != nil {
		return cs
	}
	if cols < 2 || cols > 4 {
		panic(fmt.Sprintf("%s: a row family of %d columns (only 2 to 4 are written)", g.k.GoName(), cols))
	}
	v := g.allocRun(cols)
	var cs []vreg
	for c := range cols {
		cs = append(cs, v+vreg(c))
	}
	arr, size := "D2", 16*cols // 2 rows of cols float64
	if g.f32 {
		arr, size = "S2", 8*cols
	}
	var regs []string
	for _, c := range cs {
		regs = append(regs, fmt.Sprintf("V%d.%s", c, arr))
	}
	g.printf("\tVLD%d.P %d(%s), [%s]\n", cols, size, g.ptr[sl], strings.Join(regs, ", "))
	if g.f32 {
		for _, c := range cs {
			g.word(neon2(neonFCVTL, c, c))
		}
	}
	g.cols[sl] = cs
	return cs
}
