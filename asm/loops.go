package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// prefetchOp is one prefetch of every input: how far ahead, and with which
// instruction.
type prefetchOp struct {
	dist int
	ins  func(Mem)
}

// prefetches returns the prefetches of a kernel's loops, far first: kernel.FarDist
// with PREFETCHNTA, which also keeps a long stream from evicting the caller's cached
// data, and, with tu.Near, kernel.NearDist with PREFETCHT0, which makes sure the
// line is in L1 when the loads come (docs/tuning.md).
func prefetches(tu kernel.Tuning) []prefetchOp {
	ps := []prefetchOp{{kernel.FarDist, func(m Mem) { PREFETCHNTA(m) }}}
	if tu.Near {
		ps = append(ps, prefetchOp{kernel.NearDist, func(m Mem) { PREFETCHT0(m) }})
	}
	return ps
}

// noPrefetch is the package variable generated.NoPrefetch: when it is not zero the
// kernels skip their software prefetches (see loops). The root package
// sets it once at init (before any kernel runs); a plain 32-bit load reads it.
var noPrefetch = Mem{Symbol: Symbol{Name: "·NoPrefetch"}, Base: reg.StaticBase}

// loops emits the loop over the full blocks, bpi blocks per iteration, up to the
// last multiple of bpi blocks, and then jumps to label next. It starts at label
// loop<bpi>start. The first loop (the two-block one where there is one) prefetches
// as the kernel's tuning says: kernel.LoopCopy puts a copy of it first that also
// prefetches the inputs of later iterations and runs while that address is inside
// the slices' capacity (capEnd); kernel.Clamped makes the loop itself prefetch at
// an address clamped to the last full block within it. Prefetches load no
// register; they are only hints, but they never name an address outside the
// slices' capacity either (the row families': outside the slices). When
// generated.NoPrefetch is set, the kernel.LoopCopy kernels go straight to the plain
// loop (or, with Tuning.Short, to a copy that prefetches Short bytes ahead), and
// the kernel.Clamped ones to a copy of their loop without the prefetches (with
// Tuning.Short, after such a copy): the far prefetches cost Zen 4 what they gain
// on Zen 5 (docs/tuning.md). The row families prefetch from their one loop
// (rowPrefetches): far (kernel.Clamped) where generated.NoPrefetch is clear, and
// Tuning.Short ahead where it is set.
func (g *gen) loops(n reg.Register, bpi int, next string) {
	k := g.k
	tu := g.isa.Tuning(k)
	first := bpi == tu.Unroll
	rows := k.Info().Cols > 0
	copied := first && tu.Prefetch == kernel.LoopCopy
	clamped := first && tu.Prefetch == kernel.Clamped && !rows
	stride := bpi * kernel.Lanes // elements per iteration
	sz := k.Type.Size()
	loop := fmt.Sprintf("loop%d", bpi)
	Label(loop + "start") // where an earlier loop ends
	end := GP64()
	MOVQ(n, end)
	ANDQ(I32(-stride), end)
	iter := func() {
		g.body(bpi)
		ADDQ(Imm(uint64(stride)), g.i)
	}
	// The end of the inputs' capacity, and where a short copy stops (both kinds).
	var capEnd, spEnd reg.GPVirtual
	if copied || clamped {
		capEnd = g.capEnd(stride)
		if tu.Short != 0 {
			spEnd = upTo(end, capEnd, shortBound(tu, sz, stride)) // may be negative: a signed comparison
		}
	}
	if copied {
		pfEnd := upTo(end, capEnd, kernel.FarDist/sz) // may be negative: a signed comparison
		// generated.NoPrefetch set: skip the copy, run the plain loop, or with
		// tu.Short the copy that prefetches tu.Short bytes ahead (docs/tuning.md).
		CMPL(noPrefetch, Imm(0))
		if tu.Short != 0 {
			JNE(LabelRef(loop + "sp"))
		} else {
			JNE(LabelRef(loop))
		}
		Label(loop + "pf")
		CMPQ(g.i, pfEnd)
		JGE(LabelRef(loop))
		for _, sl := range k.Info().Ins {
			for off := 0; off < max(stride*sz, 64); off += 64 {
				for _, pf := range prefetches(tu) {
					pf.ins(Mem{Base: g.ptr[sl], Index: g.i, Scale: uint8(sz), Disp: pf.dist + off})
				}
			}
		}
		iter()
		JMP(LabelRef(loop + "pf"))
		if tu.Short != 0 {
			g.shortCopy(loop+"sp", loop, spEnd, tu, stride, iter)
		}
	}
	// The row families' prefetches: in the one loop (the float64 rows have no
	// registers for a copy of it), behind a test of generated.NoPrefetch.
	inLoop := first && rows && (tu.Short != 0 || tu.Prefetch == kernel.Clamped)
	var limit reg.GPVirtual
	if inLoop {
		limit = before(end, stride) // the last full block
	}
	if clamped {
		// generated.NoPrefetch set: the same loop without its prefetches, after the
		// prefetching one (docs/tuning.md); with tu.Short, first its short copy.
		CMPL(noPrefetch, Imm(0))
		if tu.Short != 0 {
			JNE(LabelRef(loop + "sp"))
		} else {
			JNE(LabelRef(loop + "np"))
		}
		limit = before(capEnd, stride) // the last full block within the capacity
	}
	Label(loop)
	CMPQ(g.i, end)
	JAE(LabelRef(next))
	if inLoop {
		g.rowPrefetches(loop, limit, tu, stride)
	}
	if clamped {
		// Prefetch pf.dist bytes ahead, or the last full block near the end.
		for _, pf := range prefetches(tu) {
			at := g.ahead(pf.dist/sz, limit)
			for _, sl := range k.Info().Ins {
				pf.ins(Mem{Base: g.ptr[sl], Index: at, Scale: uint8(sz)})
			}
		}
	}
	iter()
	JMP(LabelRef(loop))
	if clamped {
		if tu.Short != 0 {
			g.shortCopy(loop+"sp", loop+"np", spEnd, tu, stride, iter)
		}
		Label(loop + "np")
		CMPQ(g.i, end)
		JAE(LabelRef(next))
		iter()
		JMP(LabelRef(loop + "np"))
	}
}

// shortBound returns how many elements before the end of the full blocks the short
// copy of a loop (stride elements per iteration, of sz bytes) stops: its farthest
// prefetch distance D, rounded up to whole iterations. The copy runs while i < end -
// shortBound, so i <= end - shortBound - stride, and every address it prefetches,
// i*sz + D + off with off < stride*sz, lies before end*sz: inside the slices
// (TestShortBound). Without the rounding, a distance of an odd number of lines
// would name the line after the slices from a loop of two float64 blocks.
func shortBound(tu kernel.Tuning, sz, stride int) int {
	k := max(tu.Short, tu.ShortFar) / sz
	return (k + stride - 1) / stride * stride
}

// capEnd returns a new register holding the smallest capacity of the kernel's
// inputs, in elements, rounded down to whole iterations of stride elements: the
// end of the full blocks that the prefetches of the loops other than the row
// families' may name. The root package hands the kernels slices of the caller's
// data whose capacity ends where that data ends (f32 and f64 cut it to the length),
// so past len and within cap lie only the elements that the next kernel call of
// the same operation reads: the next chunk of the chunk grid or the next row of
// RowSums' long rows on the same goroutine (or the next task of the threads, which
// another goroutine usually takes: a few KiB prefetched for nothing). A prefetch
// bounded by len left them to that call's first loads; for rows of 1000 float64
// columns the far prefetch (8 KiB) is longer than the row, and none of it was
// prefetched (docs/tuning.md).
func (g *gen) capEnd(stride int) reg.GPVirtual {
	var c reg.GPVirtual
	for i, sl := range g.k.Info().Ins {
		ci := Load(Param(sl).Cap(), GP64()).(reg.GPVirtual)
		if i == 0 {
			c = ci
			continue
		}
		CMPQ(ci, c)
		CMOVQLT(ci, c)
	}
	ANDQ(I32(-stride), c)
	return c
}

// upTo returns a new register holding capEnd - k, or end where that is smaller:
// the index past which a copy of a loop, prefetching k units ahead within the
// capacity, stops (it never runs past the full blocks, end).
func upTo(end, capEnd reg.GPVirtual, k int) reg.GPVirtual {
	r := before(capEnd, k)
	CMPQ(r, end)
	CMOVQGT(end, r)
	return r
}

// before returns a new register holding end - k: the index past which a prefetch k
// units (elements, or rows in a row family) ahead would leave the slices, or, for k
// the units of an iteration, the last full block.
func before(end reg.GPVirtual, k int) reg.GPVirtual {
	r := GP64()
	MOVQ(end, r)
	SUBQ(I32(k), r)
	return r
}

// ahead returns a new register holding the loop index plus k units, or limit where
// that is larger: the block a prefetch k units ahead names, clamped to the last
// full block.
func (g *gen) ahead(k int, limit reg.GPVirtual) reg.GPVirtual {
	at := GP64()
	MOVQ(g.i, at)
	ADDQ(I32(k), at)
	CMPQ(at, limit)
	CMOVQGT(limit, at)
	return at
}

// rowPrefetches emits, inside a loop of a row family, its prefetches of every input
// (the whole rows within the distance), at an address clamped to the last full
// block (limit) near the end: where generated.NoPrefetch is set (AMD Zen 4),
// tu.Short bytes ahead with PREFETCHT0; elsewhere, with kernel.Clamped, the other
// kernels' far prefetch (prefetches; validate rules out the near one for rows). A
// predictable branch takes one side or the other; a side the tuning leaves empty is
// skipped. The index counts rows (rowStart).
func (g *gen) rowPrefetches(loop string, limit reg.GPVirtual, tu kernel.Tuning, stride int) {
	sz, cols := g.k.Type.Size(), g.k.Info().Cols
	at := func(pf prefetchOp) {
		e := GP64()
		rowElems(g, g.ahead(pf.dist/(sz*cols), limit), e)
		for _, sl := range g.k.Info().Ins {
			for off := 0; off < stride*sz*cols; off += 64 {
				pf.ins(Mem{Base: g.ptr[sl], Index: e, Scale: uint8(sz), Disp: off})
			}
		}
	}
	skip, far := loop+"nosp", loop+"far"
	CMPL(noPrefetch, Imm(0))
	if tu.Prefetch == kernel.Clamped {
		JE(LabelRef(far))
	} else {
		JE(LabelRef(skip))
	}
	if tu.Short != 0 {
		at(prefetchOp{tu.Short, func(m Mem) { PREFETCHT0(m) }})
	}
	if tu.Prefetch == kernel.Clamped {
		JMP(LabelRef(skip))
		Label(far)
		for _, pf := range prefetches(tu) {
			at(pf)
		}
	}
	Label(skip)
}

// shortCopy emits, at label from, the copy of a loop that the kernels with
// Tuning.Short run where generated.NoPrefetch is set (AMD Zen 4): it prefetches
// every input tu.Short bytes ahead with PREFETCHT0 (and, with tu.ShortFar, that far
// ahead with PREFETCHT1) while those addresses are inside the slices (below
// spEnd), then goes on to label to, the plain loop, for the last blocks. On Zen 4
// the far prefetches cost more than they gain, but these kernels without any
// prefetch keep too few of their loads in flight: their window holds few blocks,
// each of many operations (docs/tuning.md).
func (g *gen) shortCopy(from, to string, spEnd reg.GPVirtual, tu kernel.Tuning, stride int, iter func()) {
	sz := g.k.Type.Size()
	Label(from)
	CMPQ(g.i, spEnd)
	JGE(LabelRef(to))
	for _, sl := range g.k.Info().Ins {
		for off := 0; off < max(stride*sz, 64); off += 64 {
			PREFETCHT0(Mem{Base: g.ptr[sl], Index: g.i, Scale: uint8(sz), Disp: tu.Short + off})
			if tu.ShortFar != 0 {
				PREFETCHT1(Mem{Base: g.ptr[sl], Index: g.i, Scale: uint8(sz), Disp: tu.ShortFar + off})
			}
		}
	}
	iter()
	JMP(LabelRef(from))
}
