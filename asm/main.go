// Command asm writes the AVX2 and AVX-512 kernels of smoothl1 with avo, from the
// canonical kernel description in package kernel (gen/kernel), the same description
// the portable Go kernels are generated from. Run it with `go generate ./...` at the
// repository root.
//
// Each operation of the description becomes one instruction on a vector of float64
// lanes: one ZMM register for AVX-512, two YMM registers (lanes 0-3 and 4-7) for
// AVX2. float32 data is widened on load (VCVTPS2PD) and narrowed on store
// (VCVTPD2PS). The last, partial block of 8 elements is loaded with masked loads
// that read zeros for the missing lanes (opmask registers for AVX-512, VMASKMOV for
// AVX2) and stored with masked stores, so nothing outside the slices is touched.
//
// Where an operation's result lives is chosen to save instructions, never to change
// what is computed (see plan): FMA addends and accumulators are overwritten in
// place when nothing reads them later, and on AVX-512 a select of a single-use
// operation becomes that operation merge-masked into the other value's register.
// The AVX-512 Sum kernels handle two blocks per iteration with their operations
// interleaved (body2), and most AVX-512 kernels prefetch their inputs 8 KiB ahead,
// some also 1 KiB ahead (loops, prefetch, prefetchNear).
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// Comparison predicates of VCMPPD.
const (
	cmpUnordQ = 0x03
	cmpNeqUQ  = 0x04
	cmpLtOQ   = 0x11
	cmpLeOQ   = 0x12
)

type isa struct {
	name   string // "AVX2" or "AVX512"
	halves int    // vector registers per block of 8 lanes
}

var (
	avx2   = isa{"AVX2", 2}
	avx512 = isa{"AVX512", 1}
)

var tail64, tail32, tailK Mem

// unroll names the kernels whose AVX-512 loop handles two blocks per iteration, with
// their operations interleaved (body2). Measured on Zen 5 at n = 4096: float64 Sum
// 8-10% faster, float32 Sum 2-3%; the other kernels gained nothing measurable (they
// wait on memory, or have few operations per element), and SumGradF64 does not fit
// in 32 vector registers twice.
var unroll = map[string]bool{"SumF32": true, "SumF64": true}

// prefetch names the kernels whose AVX-512 loops prefetch their inputs. A/B at
// 2^24 elements, each kernel with and without in the same run, % of the streaming
// roofline: Elem float32 89-98 -> 99-122, float64 86-92 -> 103-108; Grad 78-87 ->
// 89-106 and 93-98 -> 103-105; SumGrad float32 77-86 -> 90-101; Sum 89-97 -> 91-101
// and 83-86 -> 87-89; GradElem float32 77 -> 82-83. Not GradElemF64 (three input
// streams: 78-79 -> 74-76) nor SumGradF64 (out of vector registers).
var prefetch = map[string]bool{
	"ElemF32": true, "ElemF64": true, "GradF32": true, "GradF64": true, "GradElemF32": true,
	"SumF32": true, "SumF64": true, "SumGradF32": true,
}

// prefetchClamped names the kernels that prefetch in their one loop over single
// blocks, at an address clamped to the last full block near the end, instead:
// SumGradF64, where avo cannot allocate registers for a second copy of its loop.
// A/B at 2^24, same run: 86-89% -> 105-108% of the read-read-write roofline. The
// clamped loop for every kernel (no loop copies) was slower where measured, in the
// same runs: float64 Sum 96 -> 93 and 93 -> 85% of the roofline, Elem 103-105 ->
// 94-97%, Grad float32 105-109 -> 102-105%; the others even.
var prefetchClamped = map[string]bool{"SumGradF64": true}

// prefetchDist is how far ahead, in bytes, the loops of the kernels in prefetch
// prefetch their inputs (PREFETCHNTA, which also keeps a long stream from evicting
// the caller's cached data). The kernels have so many operations per byte that the
// processor's window holds few loads at a time; the float64 Sum kernel reached
// 78-86% of the streaming roofline at 2^24 elements without prefetches and 84-92%
// with them, in the same runs (distances of 1 to 32 KiB and PREFETCHT0/T1/T2 were
// tried; 8-16 KiB NTA did best).
const prefetchDist = 8192

// prefetchNear names the kernels that also prefetch prefetchNearDist bytes ahead
// (PREFETCHT0), next to the far prefetch: by then the far one has brought the line
// near, and the near one makes sure it is in L1 when the loads come. A/B at 2^24
// elements, same runs, % of the streaming roofline: float64 Sum 75-86 -> 95-98
// (1 KiB; 2 KiB 92-97, 512 B 94-96), SumGrad float32 97-100 -> 97-106, float64
// 101 -> 104; Elem and Grad unchanged (99-108 either way), so they do without.
var prefetchNear = map[string]bool{"SumF64": true, "SumGradF32": true, "SumGradF64": true}

// prefetchNearDist is how far ahead, in bytes, the kernels in prefetchNear also
// prefetch.
const prefetchNearDist = 1024

// prefetchOp is one prefetch of every input: how far ahead, and with which
// instruction.
type prefetchOp struct {
	dist int
	ins  func(Mem)
}

// prefetches returns the prefetches of kernel k's loops, far first: prefetchDist
// (PREFETCHNTA), and prefetchNearDist (PREFETCHT0) for the kernels in prefetchNear.
func prefetches(k *kernel.Kernel) []prefetchOp {
	ps := []prefetchOp{{prefetchDist, func(m Mem) { PREFETCHNTA(m) }}}
	if prefetchNear[k.Name] {
		ps = append(ps, prefetchOp{prefetchNearDist, func(m Mem) { PREFETCHT0(m) }})
	}
	return ps
}

func main() {
	ConstraintExpr("!purego")
	// Sliding-window tail masks for AVX2: 8 all-ones lanes then 8 zero lanes; the
	// mask for r valid lanes starts at lane 8-r.
	tail64 = slidingMask("tailmask64", 8)
	tail32 = slidingMask("tailmask32", 4)
	// Opmasks for AVX-512: entry r-1 is (1<<r)-1, for r = 1..7 valid lanes.
	tailK = GLOBL("tailmaskk", RODATA|NOPTR)
	for r := 1; r < 8; r++ {
		DATA(2*(r-1), U16(uint16(1)<<r-1))
	}
	for _, k := range kernel.Kernels() {
		for _, s := range []isa{avx2, avx512} {
			emit(k, s)
		}
	}
	roofline()
	Generate()
}

// slidingMask writes a table of 8 all-ones lanes of width bytes then 8 zero lanes.
func slidingMask(name string, width int) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		var v uint64
		if i < 8 {
			v = ^uint64(0)
		}
		if width == 8 {
			DATA(8*i, U64(v))
		} else {
			DATA(4*i, U32(uint32(v)))
		}
	}
	return m
}

func name(k *kernel.Kernel, s isa) string {
	op := k.Op
	return fmt.Sprintf("%c%s%s%s", op[0]+'a'-'A', op[1:], k.Type.Suffix(), s.name)
}

func signature(k *kernel.Kernel) string {
	sig := fmt.Sprintf("func(p *[%d]float64", len(kernel.Params))
	var slices []string
	if k.Out != "" {
		slices = append(slices, k.Out)
	}
	slices = append(slices, k.Ins...)
	for _, s := range slices {
		sig += fmt.Sprintf(", %s []%s", s, k.Type.Name())
	}
	if k.HasAcc() {
		sig += fmt.Sprintf(", acc *[%d]float64", kernel.Lanes*len(k.Accs))
	}
	return sig + ")"
}

func paramIndex(n string) int {
	for i, p := range kernel.Params {
		if p == n {
			return i
		}
	}
	panic("asm: unknown parameter " + n)
}

// gen holds the state of one function being generated.
type gen struct {
	k      *kernel.Kernel
	s      isa
	p      reg.GPVirtual            // *Params
	ptr    map[string]reg.GPVirtual // slice bases
	i      reg.GPVirtual            // element index of the block
	acc    map[string][]reg.VecVirtual
	param  map[string]reg.VecVirtual // AVX-512: hoisted broadcasts
	r      reg.GPVirtual             // in the tail: number of valid lanes
	kmask  reg.OpmaskVirtual         // AVX-512 tail mask
	blk    int                       // block of the operation being emitted, in an unrolled loop
	last   []int                     // when each value is read last (an index into k.Ops)
	at     []int                     // where each operation is emitted: its index, or its select's
	masked []int                     // for a select, the operation merge-masked into it, or -1
	toAcc  []string                  // accumulator an operation writes in place, or ""
	onAcc  []bool                    // the operation reads an accumulator, directly or not (body2)
}

func (g *gen) vec() reg.VecVirtual {
	if g.s.halves == 1 {
		return ZMM()
	}
	return YMM()
}

func emit(k *kernel.Kernel, s isa) {
	TEXT(name(k, s), NOSPLIT, signature(k))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s %s", name(k, s), k.Doc), fmt.Sprintf("It is the %s implementation of the canonical %s kernel for %s (see gen/kernel).", s.name, k.Op, k.Type.Name()))
	g := &gen{k: k, s: s, ptr: map[string]reg.GPVirtual{}, acc: map[string][]reg.VecVirtual{}, param: map[string]reg.VecVirtual{}}
	g.plan()
	g.p = Load(Param("p"), GP64()).(reg.GPVirtual)
	n := Load(Param("x").Len(), GP64()).(reg.Register)
	slices := append([]string{}, k.Ins...)
	if k.Out != "" {
		slices = append(slices, k.Out)
	}
	for _, sl := range slices {
		g.ptr[sl] = Load(Param(sl).Base(), GP64()).(reg.GPVirtual)
	}
	var accp reg.GPVirtual
	if k.HasAcc() {
		accp = Load(Param("acc"), GP64()).(reg.GPVirtual)
		Comment("Zero the lane accumulators (acc is written, never read: a wide load of")
		Comment("what the caller just zeroed with narrow stores would stall store forwarding).")
		for _, a := range k.Accs {
			for h := 0; h < s.halves; h++ {
				v := g.vec()
				if s.halves == 1 {
					VPXORQ(v, v, v)
				} else {
					VXORPD(v, v, v)
				}
				g.acc[a] = append(g.acc[a], v)
			}
		}
	}
	if s.halves == 1 {
		Comment("Broadcast the parameters.")
		for _, op := range k.Ops {
			if op.Kind == kernel.Param && g.param[op.Name] == nil {
				v := ZMM()
				VBROADCASTSD(Mem{Base: g.p, Disp: 8 * paramIndex(op.Name)}, v)
				g.param[op.Name] = v
			}
		}
	}
	g.i = GP64()
	XORQ(g.i, g.i)
	if g.unrolled() {
		// AVX-512: two blocks per iteration, their operations interleaved; the
		// last full block, if odd, goes to the loop of one block.
		g.loops(n, 2, "loop1start")
	}
	g.loops(n, 1, "tail")

	Label("tail")
	Comment("The last, partial block: masked loads read zeros for the missing lanes.")
	g.r = GP64()
	MOVQ(n, g.r)
	SUBQ(g.i, g.r)
	JZ(LabelRef("done"))
	if s.halves == 1 {
		g.kmask = K()
		tk := GP64()
		LEAQ(tailK, tk)
		KMOVW(Mem{Base: tk, Index: g.r, Scale: 2, Disp: -2}, g.kmask)
	} else {
		// r becomes the byte offset of the window start: 8 - r lanes.
		NEGQ(g.r)
		ADDQ(Imm(kernel.Lanes), g.r)
	}
	g.body(true)

	Label("done")
	if k.HasAcc() {
		Comment("Store the lane accumulators, 256 bits at a time: the caller reads them")
		Comment("back as scalars at once, and narrower stores forward to those loads better.")
		for ai, a := range k.Accs {
			for h := 0; h < s.halves; h++ {
				v := g.acc[a][h]
				if s.halves == 1 {
					VMOVUPD(v.AsY(), Mem{Base: accp, Disp: 64 * ai})
					hi := YMM()
					VEXTRACTF64X4(U8(1), v, hi)
					VMOVUPD(hi, Mem{Base: accp, Disp: 64*ai + 32})
					continue
				}
				VMOVUPD(v, Mem{Base: accp, Disp: 64*ai + 32*h})
			}
		}
	}
	VZEROUPPER()
	RET()
}

// unrolled reports whether the kernel's loop handles two blocks per iteration
// (AVX-512, kernels in unroll).
func (g *gen) unrolled() bool { return g.s.halves == 1 && unroll[g.k.Name] }

// loops emits the loop over the full blocks, bpi blocks per iteration, up to the
// last multiple of bpi blocks, and then jumps to label next. It starts at label
// loop<bpi>start. On AVX-512, for the kernels in prefetch, a copy of the first loop
// (the two-block one where there is one) comes first that also prefetches,
// prefetchDist bytes ahead, the inputs of the iteration after next ones, and runs
// while that address is inside the slices; for those in prefetchClamped, the loop
// itself prefetches at an address clamped to the last full block (prefetches load
// no register; they are only hints, but they never name an address outside the
// slices either).
func (g *gen) loops(n reg.Register, bpi int, next string) {
	k := g.k
	first := bpi == 2 || !g.unrolled()
	pf := g.s.halves == 1 && first && prefetch[k.Name]
	clamped := g.s.halves == 1 && first && prefetchClamped[k.Name]
	step := bpi * kernel.Lanes
	sz := k.Type.Size()
	name := fmt.Sprintf("loop%d", bpi)
	Label(name + "start") // where an earlier loop ends
	end := GP64()
	MOVQ(n, end)
	ANDQ(I32(-step), end)
	iter := func() {
		if bpi == 2 {
			g.body2()
		} else {
			g.body(false)
		}
		ADDQ(Imm(uint64(step)), g.i)
	}
	if pf {
		pfEnd := GP64()
		MOVQ(end, pfEnd)
		SUBQ(I32(prefetchDist/sz), pfEnd) // may be negative: a signed comparison
		Label(name + "pf")
		CMPQ(g.i, pfEnd)
		JGE(LabelRef(name))
		for _, sl := range k.Ins {
			for off := 0; off < max(step*sz, 64); off += 64 {
				for _, pf := range prefetches(k) {
					pf.ins(Mem{Base: g.ptr[sl], Index: g.i, Scale: uint8(sz), Disp: pf.dist + off})
				}
			}
		}
		iter()
		JMP(LabelRef(name + "pf"))
	}
	var limit reg.GPVirtual
	if clamped {
		limit = GP64()
		MOVQ(end, limit)
		SUBQ(I32(step), limit) // the last full block
	}
	Label(name)
	CMPQ(g.i, end)
	JAE(LabelRef(next))
	if limit != nil {
		// Prefetch pf.dist bytes ahead, or the last full block near the end.
		for _, pf := range prefetches(k) {
			at := GP64()
			MOVQ(g.i, at)
			ADDQ(I32(pf.dist/sz), at)
			CMPQ(at, limit)
			CMOVQGT(limit, at)
			for _, sl := range k.Ins {
				pf.ins(Mem{Base: g.ptr[sl], Index: at, Scale: uint8(sz)})
			}
		}
	}
	iter()
	JMP(LabelRef(name))
}

// elem returns the memory operand of lanes 4h.. of the block in slice sl.
func (g *gen) elem(sl string, h int) Mem {
	sz := g.k.Type.Size()
	return Mem{Base: g.ptr[sl], Index: g.i, Scale: uint8(sz), Disp: (kernel.Lanes*g.blk + 4*h) * sz}
}

// mask returns, in a fresh register, the AVX2 tail mask of half h: 64-bit lanes for
// float64 data (YMM), 32-bit lanes for float32 data (XMM).
func (g *gen) mask(h int) reg.VecVirtual {
	t := GP64()
	if g.k.Type == kernel.F64 {
		LEAQ(tail64, t)
		m := YMM()
		VMOVDQU(Mem{Base: t, Index: g.r, Scale: 8, Disp: 32 * h}, m)
		return m
	}
	LEAQ(tail32, t)
	m := XMM()
	VMOVDQU(Mem{Base: t, Index: g.r, Scale: 4, Disp: 16 * h}, m)
	return m
}

// plan finds where an operation can write its result into a register that already
// exists instead of a new one, to save instructions:
//
//   - the last reading of a value may overwrite it (the addend of an FMA);
//   - an operation whose only use is to become an accumulator may write the
//     accumulator register once the accumulator's old value has no later reader;
//   - AVX-512: for a select m ? t : f, where t is an addition, subtraction,
//     multiplication or division read by nothing else and f is read last there,
//     t is computed at the select, merge-masked by m into f's register, which
//     saves the blend.
//
// The operations, their order and their results do not change, only where they
// live; an operation moved to its select reads the same, unchanged values.
func (g *gen) plan() {
	ops := g.k.Ops
	uses := g.k.Uses()
	accAt := map[string]int{} // the Acc operation of each accumulator
	for i, op := range ops {
		if op.Kind == kernel.Acc {
			accAt[op.Name] = i
		}
	}
	g.at = make([]int, len(ops))
	for i := range ops {
		g.at[i] = i
	}
	// last computes when each value is read last, with moved operations reading
	// at their select.
	last := func() {
		g.last = make([]int, len(ops))
		for i, op := range ops {
			for _, a := range op.Args {
				g.last[a] = max(g.last[a], g.at[i])
			}
		}
	}
	last()
	g.masked = make([]int, len(ops))
	for i, op := range ops {
		g.masked[i] = -1
		if g.s.halves != 1 || op.Kind != kernel.Select {
			continue
		}
		t, f := op.Args[1], op.Args[2]
		if arith[ops[t].Kind] != nil && uses[t] == 1 && g.temp(f, i) {
			g.masked[i], g.at[t] = t, i
		}
	}
	// A moved operation must not read a value after a select has overwritten it.
	for changed := true; changed; {
		changed = false
		last()
		for i, t := range g.masked {
			if t >= 0 && !g.temp(ops[i].Args[2], i) {
				g.masked[i], g.at[t], changed = -1, t, true
			}
		}
	}
	g.onAcc = make([]bool, len(ops))
	for i, op := range ops {
		g.onAcc[i] = op.Kind == kernel.Acc || op.Kind == kernel.SetAcc
		for _, a := range op.Args {
			g.onAcc[i] = g.onAcc[i] || g.onAcc[a]
		}
	}
	g.toAcc = make([]string, len(ops))
	for _, op := range ops {
		if op.Kind != kernel.SetAcc {
			continue
		}
		v := op.Args[0]
		switch ops[v].Kind {
		case kernel.Add, kernel.Sub, kernel.Mul, kernel.Max:
		default:
			continue
		}
		if uses[v] == 1 && g.at[v] == v && g.last[accAt[op.Name]] <= v {
			g.toAcc[v] = op.Name
		}
	}
}

// arith holds the instructions of the arithmetic operations that a select can
// merge-mask (with the operands of bin, then the mask, for AVX-512).
var arith = map[kernel.Kind]func(...Op){
	kernel.Add: func(o ...Op) { VADDPD(o...) },
	kernel.Sub: func(o ...Op) { VSUBPD(o...) },
	kernel.Mul: func(o ...Op) { VMULPD(o...) },
	kernel.Div: func(o ...Op) { VDIVPD(o...) },
}

// temp reports whether value v lives in a register of its own that operation i may
// overwrite: i is its last reader and it is neither a parameter nor an accumulator.
func (g *gen) temp(v, i int) bool {
	switch g.k.Ops[v].Kind {
	case kernel.Param, kernel.Acc:
		return false
	}
	return g.last[v] == i
}

// body emits the operations of the kernel for one block of 8 lanes.
func (g *gen) body(tail bool) {
	for h := 0; h < g.s.halves; h++ {
		if tail {
			Commentf("Tail, lanes %d-%d.", 8/g.s.halves*h, 8/g.s.halves*(h+1)-1)
		} else {
			Commentf("Lanes %d-%d.", 8/g.s.halves*h, 8/g.s.halves*(h+1)-1)
		}
		vals := make([]Op, len(g.k.Ops))
		for i, op := range g.k.Ops {
			if g.at[i] != i {
				continue // emitted at its select
			}
			vals[i] = g.op(i, op, vals, h, tail)
		}
	}
}

// body2 emits the operations of the kernel for two consecutive full blocks (AVX-512).
// The operations of the two blocks are interleaved, one after the other, so that
// the processor finds twice as many independent operations among the next ones it
// decodes; but everything that reads an accumulator comes after, the first block's
// before the second's, so that the accumulators see the blocks in order.
func (g *gen) body2() {
	ops, onAcc := g.k.Ops, g.onAcc
	Comment("Two blocks, lanes 0-7 of each, interleaved.")
	vals := [2][]Op{make([]Op, len(ops)), make([]Op, len(ops))}
	emit := func(c, i int) {
		g.blk = c
		vals[c][i] = g.op(i, ops[i], vals[c], 0, false)
	}
	for i := range ops {
		if g.at[i] == i && !onAcc[i] {
			emit(0, i)
			emit(1, i)
		}
	}
	for c := 0; c < 2; c++ {
		for i := range ops {
			if g.at[i] == i && onAcc[i] {
				emit(c, i)
			}
		}
	}
	g.blk = 0
}

func (g *gen) op(i int, op kernel.Op, vals []Op, h int, tail bool) Op {
	z := g.s.halves == 1
	f32 := g.k.Type == kernel.F32
	a := func(j int) Op { return vals[op.Args[j]] }
	bin := func(avx2, avx512 func(...Op)) Op {
		var d Op = g.vec()
		if n := g.toAcc[i]; n != "" {
			d = g.acc[n][h]
		}
		if z {
			avx512(a(1), a(0), d)
		} else {
			avx2(a(1), a(0), d)
		}
		return d
	}
	// cmp returns the mask x pred y: an opmask for AVX-512, a vector for AVX2.
	cmp := func(pred uint8, x, y Op) Op {
		var m Op = YMM()
		if z {
			m = K()
		}
		VCMPPD(U8(pred), y, x, m)
		return m
	}
	switch op.Kind {
	case kernel.Load:
		mem := g.elem(op.Name, h)
		d := g.vec()
		switch {
		case z && !tail && f32:
			VCVTPS2PD(mem, d)
		case z && !tail:
			VMOVUPD(mem, d)
		case z && f32:
			VCVTPS2PD_Z(mem, g.kmask, d)
		case z:
			VMOVUPD_Z(mem, g.kmask, d)
		case !tail && f32:
			VCVTPS2PD(mem, d)
		case !tail:
			VMOVUPD(mem, d)
		case f32:
			x := XMM()
			VMASKMOVPS(mem, g.mask(h), x)
			VCVTPS2PD(x, d)
		default:
			VMASKMOVPD(mem, g.mask(h), d)
		}
		return d
	case kernel.Param:
		if z {
			return g.param[op.Name]
		}
		d := YMM()
		VBROADCASTSD(Mem{Base: g.p, Disp: 8 * paramIndex(op.Name)}, d)
		return d
	case kernel.Acc:
		return g.acc[op.Name][h]
	case kernel.Add, kernel.Sub, kernel.Mul, kernel.Div:
		return bin(arith[op.Kind], arith[op.Kind])
	case kernel.FMA, kernel.FMS:
		var d Op = a(2)
		if !g.temp(op.Args[2], i) {
			d = g.vec()
			VMOVAPD(a(2), d)
		}
		if op.Kind == kernel.FMA {
			VFMADD231PD(a(1), a(0), d) // d = a0*a1 + d
		} else {
			VFMSUB231PD(a(1), a(0), d) // d = a0*a1 - d
		}
		return d
	case kernel.And:
		return bin(func(o ...Op) { VANDPD(o...) }, func(o ...Op) { VPANDQ(o...) })
	case kernel.AndNot:
		return bin(func(o ...Op) { VANDNPD(o...) }, func(o ...Op) { VPANDNQ(o...) }) // ^a0 & a1
	case kernel.Xor:
		return bin(func(o ...Op) { VXORPD(o...) }, func(o ...Op) { VPXORQ(o...) })
	case kernel.Max:
		return bin(func(o ...Op) { VMAXPD(o...) }, func(o ...Op) { VMAXPD(o...) }) // a0 > a1 ? a0 : a1
	case kernel.Min:
		return bin(func(o ...Op) { VMINPD(o...) }, func(o ...Op) { VMINPD(o...) }) // a0 < a1 ? a0 : a1
	case kernel.LT:
		return cmp(cmpLtOQ, a(0), a(1))
	case kernel.LE:
		return cmp(cmpLeOQ, a(0), a(1))
	case kernel.NE:
		return cmp(cmpNeqUQ, a(0), a(1))
	case kernel.IsNaN:
		return cmp(cmpUnordQ, a(0), a(0))
	case kernel.Select:
		if t := g.masked[i]; t >= 0 {
			// f{m} = t: the operation t, merge-masked into f's register.
			d, ta := a(2), g.k.Ops[t].Args
			arith[g.k.Ops[t].Kind](vals[ta[1]], vals[ta[0]], a(0), d)
			return d
		}
		d := g.vec()
		if z {
			VBLENDMPD(a(1), a(2), a(0), d) // a0 ? a1 : a2
		} else {
			VBLENDVPD(a(0), a(1), a(2), d)
		}
		return d
	case kernel.SetAcc:
		if g.toAcc[op.Args[0]] == "" {
			VMOVAPD(a(0), g.acc[op.Name][h])
		}
		return nil
	case kernel.Store:
		mem := g.elem(op.Name, h)
		v := a(0)
		switch {
		case z && f32:
			y := YMM()
			VCVTPD2PS(v, y)
			if tail {
				VMOVUPS(y, g.kmask, mem)
			} else {
				VMOVUPS(y, mem)
			}
		case z:
			if tail {
				VMOVUPD(v, g.kmask, mem)
			} else {
				VMOVUPD(v, mem)
			}
		case f32:
			x := XMM()
			VCVTPD2PSY(v, x)
			if tail {
				VMASKMOVPS(x, g.mask(h), mem)
			} else {
				VMOVUPS(x, mem)
			}
		default:
			if tail {
				VMASKMOVPD(v, g.mask(h), mem)
			} else {
				VMOVUPD(v, mem)
			}
		}
		return nil
	}
	panic(fmt.Sprintf("asm: unknown op kind %d", op.Kind))
}

// roofline writes the streaming kernels that the benchmarks measure the loss kernels
// against: they only read the inputs (and write the output) as fast as AVX2 can,
// 128 bytes of each slice per iteration. They process len(a) &^ 127 bytes.
func roofline() {
	TEXT("rooflineReadAVX2", NOSPLIT, "func(a, b []byte) uint64")
	Pragma("noescape")
	Doc("rooflineReadAVX2 reads a and b (len(a) &^ 127 bytes of each) and returns a checksum.")
	pa := Load(Param("a").Base(), GP64())
	pb := Load(Param("b").Base(), GP64())
	n := Load(Param("a").Len(), GP64())
	ANDQ(I32(-128), n)
	i := GP64()
	XORQ(i, i)
	var acc [4]reg.VecVirtual
	for k := range acc {
		acc[k] = YMM()
		VPXOR(acc[k], acc[k], acc[k])
	}
	Label("loop")
	CMPQ(i, n)
	JAE(LabelRef("done"))
	for k := range acc {
		VPXOR(Mem{Base: pa, Index: i, Scale: 1, Disp: 32 * k}, acc[k], acc[k])
		VPXOR(Mem{Base: pb, Index: i, Scale: 1, Disp: 32 * k}, acc[k], acc[k])
	}
	ADDQ(Imm(128), i)
	JMP(LabelRef("loop"))
	Label("done")
	VPXOR(acc[1], acc[0], acc[0])
	VPXOR(acc[3], acc[2], acc[2])
	VPXOR(acc[2], acc[0], acc[0])
	// Fold the four 64-bit words into one: the XOR of every word read.
	hi := XMM()
	VEXTRACTI128(U8(1), acc[0], hi)
	VPXOR(hi, acc[0].AsX(), hi)
	sw := XMM()
	VPSHUFD(U8(0x4e), hi, sw)
	VPXOR(sw, hi, hi)
	r := GP64()
	VMOVQ(hi, r)
	Store(r, ReturnIndex(0))
	VZEROUPPER()
	RET()

	TEXT("rooflineReadWriteAVX2", NOSPLIT, "func(dst, a, b []byte)")
	Pragma("noescape")
	Doc("rooflineReadWriteAVX2 writes a ^ b to dst, len(a) &^ 127 bytes.")
	pd := Load(Param("dst").Base(), GP64())
	pa = Load(Param("a").Base(), GP64())
	pb = Load(Param("b").Base(), GP64())
	n = Load(Param("a").Len(), GP64())
	ANDQ(I32(-128), n)
	i = GP64()
	XORQ(i, i)
	Label("loop")
	CMPQ(i, n)
	JAE(LabelRef("done"))
	for k := 0; k < 4; k++ {
		v := YMM()
		VMOVDQU(Mem{Base: pa, Index: i, Scale: 1, Disp: 32 * k}, v)
		VPXOR(Mem{Base: pb, Index: i, Scale: 1, Disp: 32 * k}, v, v)
		VMOVDQU(v, Mem{Base: pd, Index: i, Scale: 1, Disp: 32 * k})
	}
	ADDQ(Imm(128), i)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
