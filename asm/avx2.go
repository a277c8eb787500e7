package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// avx2 is AVX2 with FMA: a block is two YMM registers, lanes 0-3 and 4-7; the tail
// is loaded and stored with VMASKMOV through a sliding window of all-ones lanes.
type avx2 struct {
	tail64, tail32 Mem // the sliding windows (tables): 64-bit and 32-bit lanes
}

func (avx2) Impl() kernel.Impl                   { return kernel.AVX2.Impl() }
func (avx2) Props() Props                        { return Props{Regs: 2} }
func (avx2) Tuning(*kernel.Kernel) kernel.Tuning { return kernel.Tuning{Unroll: 1} }
func (avx2) vec() reg.VecVirtual                 { return YMM() }
func (avx2) zero(v reg.VecVirtual)               { VXORPD(v, v, v) }
func (avx2) prologue(*gen)                       {}
func (avx2) newMask() Op                         { return YMM() }

func (avx2) param(g *gen, name string) Op {
	d := YMM()
	VBROADCASTSD(Mem{Base: g.p, Disp: 8 * kernel.ParamIndex(name)}, d)
	return d
}

// tailMask makes g.r the byte offset of the window start: 8 - r lanes.
func (avx2) tailMask(g *gen) {
	NEGQ(g.r)
	ADDQ(Imm(kernel.Lanes), g.r)
}

// mask returns, in a fresh register, the tail mask of half h: 64-bit lanes for
// float64 data (YMM), 32-bit lanes for float32 data (XMM).
func (s avx2) mask(g *gen, h int) reg.VecVirtual {
	t := GP64()
	if g.k.Type == kernel.F64 {
		LEAQ(s.tail64, t)
		m := YMM()
		VMOVDQU(Mem{Base: t, Index: g.r, Scale: 8, Disp: 32 * h}, m)
		return m
	}
	LEAQ(s.tail32, t)
	m := XMM()
	VMOVDQU(Mem{Base: t, Index: g.r, Scale: 4, Disp: 16 * h}, m)
	return m
}

func (s avx2) load(g *gen, mem Mem, h int) Op {
	d := YMM()
	f32 := g.k.Type == kernel.F32
	switch {
	case !g.tail && f32:
		VCVTPS2PD(mem, d)
	case !g.tail:
		VMOVUPD(mem, d)
	case f32:
		x := XMM()
		VMASKMOVPS(mem, s.mask(g, h), x)
		VCVTPS2PD(x, d)
	default:
		VMASKMOVPD(mem, s.mask(g, h), d)
	}
	return d
}

func (s avx2) store(g *gen, v Op, mem Mem, h int) {
	if g.k.Type == kernel.F32 {
		x := XMM()
		VCVTPD2PSY(v, x)
		if g.tail {
			VMASKMOVPS(x, s.mask(g, h), mem)
		} else {
			VMOVUPS(x, mem)
		}
		return
	}
	if g.tail {
		VMASKMOVPD(v, s.mask(g, h), mem)
	} else {
		VMOVUPD(v, mem)
	}
}

func (avx2) logic(k kernel.Kind) func(...Op) {
	switch k {
	case kernel.And:
		return func(o ...Op) { VANDPD(o...) }
	case kernel.AndNot:
		return func(o ...Op) { VANDNPD(o...) } // ^a0 & a1
	}
	return func(o ...Op) { VXORPD(o...) }
}

func (avx2) blend(m, t, f, d Op) {
	VBLENDVPD(m, t, f, d)
}

func (avx2) storeAcc(accp reg.GPVirtual, ai, h int, v reg.VecVirtual) {
	VMOVUPD(v, Mem{Base: accp, Disp: 64*ai + 32*h})
}
