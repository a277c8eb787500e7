package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// avx512 is AVX-512 F and VL: a block is one ZMM register, the parameters are
// broadcast once, masks are opmask registers (merge-masking saves blends, see plan)
// and the tail is loaded and stored under an opmask from a table.
type avx512 struct {
	tailK          Mem         // opmasks: entry r-1 is (1<<r)-1
	cols32, cols64 map[int]Mem // the index tables of the row families' loads, by columns (rows.go)
}

func (avx512) Impl() kernel.Impl                     { return kernel.AVX512.Impl() }
func (avx512) Props() Props                          { return Props{Regs: 1, MergeMask: true} }
func (avx512) Tuning(k *kernel.Kernel) kernel.Tuning { return k.Tuning }
func (avx512) vec() reg.VecVirtual                   { return ZMM() }
func (avx512) zero(v reg.VecVirtual)                 { VPXORQ(v, v, v) }
func (avx512) newMask() Op                           { return K() }

// param returns the register of parameter name: the one the prologue broadcast it
// into, else (a row family's finish) a new broadcast.
func (avx512) param(g *gen, name string) Op {
	if v := g.params[name]; v != nil {
		return v
	}
	v := ZMM()
	VBROADCASTSD(Mem{Base: g.p, Disp: 8 * kernel.ParamIndex(name)}, v)
	return v
}

// prologue broadcasts the parameters the kernel reads, once: every one, but in a
// row family only those read before its last load. The others, which only its
// finish reads, are broadcast where they are read (param): the registers go to the
// columns of the rows.
func (avx512) prologue(g *gen) {
	Comment("Broadcast the parameters.")
	last := len(g.k.Ops)
	if g.k.Info().Cols > 0 {
		for i, op := range g.k.Ops {
			if op.Kind == kernel.Load {
				last = i
			}
		}
	}
	for i, op := range g.k.Ops {
		if op.Kind == kernel.Param && g.params[op.Ref] == nil && i < last {
			v := ZMM()
			VBROADCASTSD(Mem{Base: g.p, Disp: 8 * kernel.ParamIndex(op.Ref)}, v)
			g.params[op.Ref] = v
		}
	}
}

func (s avx512) tailMask(g *gen) {
	g.kmask = K()
	tk := GP64()
	LEAQ(s.tailK, tk)
	KMOVW(Mem{Base: tk, Index: g.r, Scale: 2, Disp: -2}, g.kmask)
}

func (avx512) load(g *gen, mem Mem, h int) Op {
	d := ZMM()
	f32 := g.k.Type == kernel.F32
	switch {
	case !g.tail && f32:
		VCVTPS2PD(mem, d)
	case !g.tail:
		VMOVUPD(mem, d)
	case f32:
		VCVTPS2PD_Z(mem, g.kmask, d)
	default:
		VMOVUPD_Z(mem, g.kmask, d)
	}
	return d
}

func (avx512) store(g *gen, v Op, mem Mem, h int) {
	if g.k.Type == kernel.F32 {
		y := YMM()
		VCVTPD2PS(v, y)
		if g.tail {
			VMOVUPS(y, g.kmask, mem)
		} else {
			VMOVUPS(y, mem)
		}
		return
	}
	if g.k.Info().Cols == 4 { // the rows back in order (loadCols)
		t := ZMM()
		VPERMPD(U8(rowOrder64), v, t)
		v = t
	}
	if g.tail {
		VMOVUPD(v, g.kmask, mem)
	} else {
		VMOVUPD(v, mem)
	}
}

func (avx512) logic(k kernel.Kind) func(...Op) {
	switch k {
	case kernel.And:
		return func(o ...Op) { VPANDQ(o...) }
	case kernel.AndNot:
		return func(o ...Op) { VPANDNQ(o...) } // ^a0 & a1
	}
	return func(o ...Op) { VPXORQ(o...) }
}

func (avx512) blend(m, t, f, d Op) {
	VBLENDMPD(t, f, m, d) // m ? t : f
}

// storeAcc stores 256 bits at a time: narrower stores forward better to the
// caller's scalar loads.
func (avx512) storeAcc(accp reg.GPVirtual, ai, h int, v reg.VecVirtual) {
	VMOVUPD(v.AsY(), Mem{Base: accp, Disp: 64 * ai})
	hi := YMM()
	VEXTRACTF64X4(U8(1), v, hi)
	VMOVUPD(hi, Mem{Base: accp, Disp: 64*ai + 32})
}
