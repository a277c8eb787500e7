package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// This file is instruction selection for the x86 ISAs: one operation of the
// description becomes one instruction on a vector of float64 lanes (two for the
// loads and stores of float32 data, which widen and narrow). What differs between
// AVX2 and AVX-512 is asked of the ISA (isa.go).

// arith holds the instructions of the two-operand arithmetic (operands: b, a, the
// destination); a select merge-masks those plan finds mergeable (operands: b, a,
// the mask, the destination).
var arith = map[kernel.Kind]func(...Op){
	kernel.Add: func(o ...Op) { VADDPD(o...) },
	kernel.Sub: func(o ...Op) { VSUBPD(o...) },
	kernel.Mul: func(o ...Op) { VMULPD(o...) },
	kernel.Div: func(o ...Op) { VDIVPD(o...) },
	kernel.Max: func(o ...Op) { VMAXPD(o...) }, // a0 > a1 ? a0 : a1
	kernel.Min: func(o ...Op) { VMINPD(o...) }, // a0 < a1 ? a0 : a1
}

// predicate holds the VCMPPD predicate of each compare.
var predicate = map[kernel.Kind]uint8{
	kernel.LT: cmpLtOQ, kernel.LE: cmpLeOQ, kernel.NE: cmpNeqUQ, kernel.IsNaN: cmpUnordQ,
}

// instr emits the instructions of operation i of half h of the block g.blk and returns the register of its
// value (nil for stores); vals holds the registers of the values before it.
func (g *gen) instr(i int, vals []Op, h int) Op {
	op, isa, pl := g.k.Ops[i], g.isa, g.pl
	a := func(j int) Op { return vals[op.Args[j]] }
	// bin emits a two-operand instruction into a new register, or into the
	// accumulator that plan chose.
	bin := func(ins func(...Op)) Op {
		var d Op = isa.vec()
		if acc := pl.ToAcc[i]; acc != "" {
			d = g.acc[acc][h]
		}
		ins(a(1), a(0), d)
		return d
	}
	switch op.Kind {
	case kernel.Load:
		if g.k.Info().Cols > 0 {
			// The first load of an input in the block reads its rows and
			// transposes them into one register per column.
			key := fmt.Sprintf("%s%d", op.Ref, g.blk)
			if g.cols[key] == nil {
				g.cols[key] = isa.(colLoader).loadCols(g, op.Ref, h)
			}
			return g.cols[key][op.Col]
		}
		return isa.load(g, g.elem(op.Ref, h), h)
	case kernel.Param:
		return isa.param(g, op.Ref)
	case kernel.Acc:
		return g.acc[op.Ref][h]
	case kernel.Add, kernel.Sub, kernel.Mul, kernel.Div, kernel.Max, kernel.Min:
		return bin(arith[op.Kind])
	case kernel.FMA, kernel.FMS:
		var d Op = a(2)
		if acc := pl.ToAcc[i]; acc != "" {
			d = g.acc[acc][h] // the addend: accumulate in place
		} else if !pl.Temp(g.k.Ops, op.Args[2], i) {
			// The addend lives on: overwrite a factor that does not (213 form).
			for j := 0; j < 2; j++ {
				if f := op.Args[j]; pl.Temp(g.k.Ops, f, i) && op.Args[1-j] != f {
					if op.Kind == kernel.FMA {
						VFMADD213PD(a(2), a(1-j), a(j)) // a_j = a_(1-j)*a_j + a2
					} else {
						VFMSUB213PD(a(2), a(1-j), a(j)) // a_j = a_(1-j)*a_j - a2
					}
					return a(j)
				}
			}
			d = isa.vec()
			VMOVAPD(a(2), d)
		}
		if op.Kind == kernel.FMA {
			VFMADD231PD(a(1), a(0), d) // d = a0*a1 + d
		} else {
			VFMSUB231PD(a(1), a(0), d) // d = a0*a1 - d
		}
		return d
	case kernel.And, kernel.AndNot, kernel.Xor:
		return bin(isa.logic(op.Kind))
	case kernel.LT, kernel.LE, kernel.NE:
		m := isa.newMask()
		VCMPPD(U8(predicate[op.Kind]), a(1), a(0), m)
		return m
	case kernel.IsNaN:
		m := isa.newMask()
		VCMPPD(U8(cmpUnordQ), a(0), a(0), m)
		return m
	case kernel.Select:
		if t := pl.Masked[i]; t >= 0 {
			// f{m} = t: the operation t, merge-masked into f's register.
			d, ta := a(2), g.k.Ops[t].Args
			arith[g.k.Ops[t].Kind](vals[ta[1]], vals[ta[0]], a(0), d)
			return d
		}
		var d Op = isa.vec()
		if acc := pl.ToAcc[i]; acc != "" {
			d = g.acc[acc][h]
		}
		isa.blend(a(0), a(1), a(2), d)
		return d
	case kernel.SetAcc:
		if pl.ToAcc[op.Args[0]] == "" && a(0) != Op(g.acc[op.Ref][h]) {
			VMOVAPD(a(0), g.acc[op.Ref][h])
		}
		return nil
	case kernel.Store:
		isa.store(g, a(0), g.elem(op.Ref, h), h)
		return nil
	}
	panic(fmt.Sprintf("asm: unknown op kind %d", op.Kind))
}
