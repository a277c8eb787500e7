package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// gen holds the state of one function being generated.
type gen struct {
	k      *kernel.Kernel
	isa    x86
	pl     *Plan                    // where the values live
	p      reg.GPVirtual            // *Params
	ptr    map[string]reg.GPVirtual // slice bases
	i      reg.GPVirtual            // element index of the block
	acc    map[string][]reg.VecVirtual
	params map[string]reg.VecVirtual // parameters broadcast once (AVX-512)
	r      reg.GPVirtual             // in the tail: number of valid lanes
	kmask  reg.OpmaskVirtual         // AVX-512 tail mask
	tail   bool                      // the operations being emitted are the tail's
	blk    int                       // block of the operation being emitted, in an unrolled loop
	cols   map[string][]Op           // a row family: the columns of each input (and block) being emitted
}

// signature is the Go declaration of kernel k's assembly function.
func signature(k *kernel.Kernel) string {
	sig := fmt.Sprintf("func(p *[%d]float64", len(kernel.Params))
	for _, s := range k.Slices() {
		sig += fmt.Sprintf(", %s []%s", s, k.Type.GoName())
	}
	if k.AccLen() > 0 {
		sig += fmt.Sprintf(", acc *[%d]float64", k.AccLen())
	}
	return sig + ")"
}

// function writes kernel k for an ISA: the frame (arguments, accumulators, the
// loops over full blocks, the masked tail, the accumulators' store).
func function(k *kernel.Kernel, isa x86) {
	sym := k.AsmName(isa.Impl().Suffix)
	TEXT(sym, NOSPLIT, signature(k))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s %s", sym, k.Info().Doc), fmt.Sprintf("It is the %s implementation of the canonical %s kernel for %s (see gen/kernel).", isa.Impl().Suffix, k.Family, k.Type.GoName()))
	g := &gen{k: k, isa: isa, ptr: map[string]reg.GPVirtual{}, acc: map[string][]reg.VecVirtual{}, params: map[string]reg.VecVirtual{}}
	g.pl = plan(k.Ops, isa.Props(), isa.Tuning(k).Unroll)
	halves := isa.Props().Regs
	g.p = Load(Param("p"), GP64()).(reg.GPVirtual)
	lenOf := k.Info().Ins[0]
	if k.Info().Cols > 0 {
		lenOf = k.Info().Out // a row family: one block is Lanes rows
	}
	n := Load(Param(lenOf).Len(), GP64())
	slices := append([]string{}, k.Info().Ins...)
	if out := k.Info().Out; out != "" {
		slices = append(slices, out)
	}
	for _, sl := range slices {
		g.ptr[sl] = Load(Param(sl).Base(), GP64()).(reg.GPVirtual)
	}
	var accp reg.GPVirtual
	if k.AccLen() > 0 {
		accp = Load(Param("acc"), GP64()).(reg.GPVirtual)
		Comment("Zero the lane accumulators (acc is written, never read: a wide load of")
		Comment("what the caller just zeroed with narrow stores would stall store forwarding).")
		for _, a := range k.Accs {
			for h := 0; h < halves; h++ {
				v := isa.vec()
				isa.zero(v)
				g.acc[a] = append(g.acc[a], v)
			}
		}
	}
	isa.prologue(g)
	g.i = GP64()
	XORQ(g.i, g.i)
	if isa.Tuning(k).Unroll == 2 {
		// Two blocks per iteration, their operations interleaved; the last full
		// block, if odd, goes to the loop of one block.
		g.loops(n, 2, "loop1start")
	}
	if k.Info().Cols > 0 {
		// A row family takes whole blocks only: the caller does the last rows.
		g.loops(n, 1, "done")
	} else {
		g.loops(n, 1, "tail")
		g.tailBlock(n)
	}

	Label("done")
	if k.AccLen() > 0 {
		Comment("Store the lane accumulators, 256 bits at a time: the caller reads them")
		Comment("back as scalars at once, and narrower stores forward to those loads better.")
		for ai, a := range k.Accs {
			for h := 0; h < halves; h++ {
				isa.storeAcc(accp, ai, h, g.acc[a][h])
			}
		}
	}
	VZEROUPPER()
	RET()
}

// tailBlock emits the last, partial block of n elements, from label tail.
func (g *gen) tailBlock(n reg.Register) {
	Label("tail")
	Comment("The last, partial block: masked loads read zeros for the missing lanes.")
	g.r = GP64()
	MOVQ(n, g.r)
	SUBQ(g.i, g.r)
	JZ(LabelRef("done"))
	g.isa.tailMask(g)
	g.tail = true
	g.body(1)
	g.tail = false
}

// elem returns the memory operand of lanes 4h.. of the block in slice sl.
func (g *gen) elem(sl string, h int) Mem {
	sz := g.k.Type.Size()
	return Mem{Base: g.ptr[sl], Index: g.i, Scale: uint8(sz), Disp: (kernel.Lanes*g.blk + 4*h) * sz}
}

// body emits the operations of the kernel for blocks (1 or 2) consecutive blocks,
// in the order of schedule, each with a comment that names it as in the
// description. A block of several registers (AVX2) repeats the operations per
// register.
func (g *gen) body(blocks int) {
	halves := g.isa.Props().Regs
	if blocks == 2 {
		Comment("Two blocks, lanes 0-7 of each, interleaved.")
	}
	for h := 0; h < halves; h++ {
		if blocks == 1 {
			lanes := kernel.Lanes / halves
			if g.tail {
				Commentf("Tail, lanes %d-%d.", lanes*h, lanes*(h+1)-1)
			} else {
				Commentf("Lanes %d-%d.", lanes*h, lanes*(h+1)-1)
			}
		}
		g.cols = map[string][]Op{}
		vals := make([][]Op, blocks)
		for c := range vals {
			vals[c] = make([]Op, len(g.k.Ops))
		}
		for _, st := range g.pl.schedule(blocks) {
			g.blk = st.blk
			if g.k.Ops[st.op].Kind != kernel.Acc { // (an accumulator is a register: no instruction)
				g.describe(st.op, blocks)
			}
			vals[st.blk][st.op] = g.instr(st.op, vals[st.blk], h)
		}
	}
	g.blk = 0
}

// describe writes the comment that leads from the instructions of operation i back
// to the description: the operation, and the one merge-masked into it.
func (g *gen) describe(i, blocks int) {
	blk := ""
	if blocks > 1 {
		blk = fmt.Sprintf(" [block %d]", g.blk)
	}
	if t := g.pl.Masked[i]; t >= 0 {
		Commentf("%s%s, merged into:", g.k.Describe(t), blk)
	}
	Commentf("%s%s", g.k.Describe(i), blk)
}
