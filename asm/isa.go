package main

import (
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// ISA is what every backend states about itself; plan and schedule read only this.
type ISA interface {
	Impl() kernel.Impl                     // its implementation: name, symbol suffix, CPU features
	Props() Props                          // what plan and schedule need to know
	Tuning(k *kernel.Kernel) kernel.Tuning // the loop shape of kernel k (unroll, prefetch)
}

// x86 is an ISA emitted with avo: the instructions that differ between AVX2 and
// AVX-512. The frame, the loops and the instructions they share are in frame.go,
// loops.go and select.go; adding an x86 ISA is adding one type that implements x86.
type x86 interface {
	ISA
	vec() reg.VecVirtual                                      // a new vector register of Props().Regs per block
	zero(v reg.VecVirtual)                                    // v = 0
	prologue(g *gen)                                          // after the slice bases are loaded (AVX-512: broadcast the parameters)
	param(g *gen, name string) Op                             // the register holding parameter name
	tailMask(g *gen)                                          // in the tail, with g.r = valid lanes: make the masks of the loads and stores
	load(g *gen, mem Mem, h int) Op                           // load and widen half h of a block (masked in the tail)
	store(g *gen, v Op, mem Mem, h int)                       // narrow and store half h of a block (masked in the tail)
	logic(k kernel.Kind) func(...Op)                          // the instruction of And, AndNot or Xor (operands as arith)
	newMask() Op                                              // a register for a compare's mask
	blend(m, t, f, d Op)                                      // d = m ? t : f
	storeAcc(accp reg.GPVirtual, ai, h int, v reg.VecVirtual) // half h of accumulator ai to acc
}

// Comparison predicates of VCMPPD.
const (
	cmpUnordQ = 0x03
	cmpNeqUQ  = 0x04
	cmpLtOQ   = 0x11
	cmpLeOQ   = 0x12
)
