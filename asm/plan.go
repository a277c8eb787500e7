package main

import "github.com/gokernels/smoothl1/gen/kernel"

// This file is the ISA-independent half of instruction selection: where each value
// lives (plan) and in which order the operations are emitted (schedule). Both are
// pure functions of the kernel's operations and the ISA's Props, and use no avo, so
// that a backend with its own emitter (arm64) can share them.

// Props are the properties of an ISA that plan and schedule read.
type Props struct {
	// Regs is the number of vector registers that hold one block of Lanes float64s.
	Regs int
	// MergeMask: an arithmetic operation can write, under a mask, only some lanes of
	// its destination (AVX-512's merge-masking), so a select of it needs no blend.
	MergeMask bool
}

// Plan is where each operation of a kernel writes its result. It never changes
// what is computed, only which register holds it.
type Plan struct {
	At     []int    // where each operation is emitted: its own index, or its select's
	Last   []int    // when each value is read last: the Pos of its last reader, with At applied
	Masked []int    // for a select, the operation merge-masked into it, or -1
	ToAcc  []string // the accumulator an operation writes in place, or ""
	OnAcc  []bool   // the operation reads an accumulator, directly or not
	// Unrolled: the kernel's first loop handles two blocks per iteration, in the
	// order of schedule(2), which puts what reads an accumulator last; its other
	// loops and its tail keep that order too (see Pos).
	Unrolled bool
}

// mergeable reports whether an operation of kind k can be merge-masked into a select.
func mergeable(k kernel.Kind) bool {
	return k == kernel.Add || k == kernel.Sub || k == kernel.Mul || k == kernel.Div
}

// plan finds where an operation can write its result into a register that already
// exists instead of a new one, to save instructions:
//
//   - the last reading of a value may overwrite it (the addend of an FMA);
//   - an operation whose only use is to become an accumulator may write the
//     accumulator register once the accumulator's old value has no later reader;
//   - with MergeMask: for a select m ? t : f, where t is an addition, subtraction,
//     multiplication or division read by nothing else and f is read last there
//     (or f is the accumulator that the select alone updates: a masked count),
//     t is computed at the select, merge-masked by m into f's register, which
//     saves the blend;
//   - an FMA whose addend is its accumulator accumulates in place; a blend or an
//     addition that becomes an accumulator may write its register even if it is
//     read again later in the block (nothing else writes that register until the
//     block ends).
//
// The operations and their results do not change, only where they live; an
// operation moved to its select reads the same, unchanged values. blocks is the
// number of blocks per iteration of the kernel's first loop (Tuning.Unroll).
func plan(ops []kernel.Op, props Props, blocks int) *Plan {
	uses := make([]int, len(ops))
	accAt := map[string]int{} // the Acc operation of each accumulator
	for i, op := range ops {
		for _, a := range op.Args {
			uses[a]++
		}
		if op.Kind == kernel.Acc {
			accAt[op.Ref] = i
		}
	}
	p := &Plan{At: make([]int, len(ops)), Masked: make([]int, len(ops)), Unrolled: blocks > 1}
	for i := range ops {
		p.At[i] = i
	}
	p.OnAcc = make([]bool, len(ops))
	for i, op := range ops {
		p.OnAcc[i] = op.Kind == kernel.Acc || op.Kind == kernel.SetAcc
		for _, a := range op.Args {
			p.OnAcc[i] = p.OnAcc[i] || p.OnAcc[a]
		}
	}
	// setsAcc reports whether value v becomes accumulator ref.
	setsAcc := func(v int, ref string) bool {
		for _, op := range ops {
			if op.Kind == kernel.SetAcc && op.Ref == ref && op.Args[0] == v {
				return true
			}
		}
		return false
	}
	// intoAcc: f is an accumulator that select i alone reads (with the operation
	// merged into it) and updates.
	intoAcc := func(f, i int) bool {
		return ops[f].Kind == kernel.Acc && p.Last[f] == p.Pos(i) && uses[i] == 1 && setsAcc(i, ops[f].Ref)
	}
	p.last(ops)
	for i, op := range ops {
		p.Masked[i] = -1
		if !props.MergeMask || op.Kind != kernel.Select {
			continue
		}
		t, f := op.Args[1], op.Args[2]
		if mergeable(ops[t].Kind) && uses[t] == 1 && (p.Temp(ops, f, i) || intoAcc(f, i)) {
			p.Masked[i], p.At[t] = t, i
		}
	}
	// A moved operation must not read a value after a select has overwritten it.
	for changed := true; changed; {
		changed = false
		p.last(ops)
		for i, t := range p.Masked {
			if t < 0 {
				continue
			}
			if f := ops[i].Args[2]; !p.Temp(ops, f, i) && !intoAcc(f, i) {
				p.Masked[i], p.At[t], changed = -1, t, true
			}
		}
	}
	p.ToAcc = make([]string, len(ops))
	for _, op := range ops {
		if op.Kind != kernel.SetAcc {
			continue
		}
		v := op.Args[0]
		switch ops[v].Kind {
		case kernel.Add, kernel.Sub, kernel.Mul, kernel.Max:
		case kernel.Select:
			if uses[v] != 1 {
				continue
			}
		case kernel.FMA: // in place only where the accumulator is the addend
			if ops[v].Args[2] != accAt[op.Ref] {
				continue
			}
		default:
			continue
		}
		if p.At[v] == v && p.Last[accAt[op.Ref]] <= p.Pos(v) {
			p.ToAcc[v] = op.Ref
		}
	}
	return p
}

// Pos is the position at which operation i is emitted in a block: its index, but in
// an unrolled kernel the operations that read an accumulator come after all others
// (schedule), in every loop and the tail, so that values are read last in the same
// order everywhere.
func (p *Plan) Pos(i int) int {
	if p.Unrolled && p.OnAcc[i] {
		return len(p.At) + i
	}
	return i
}

// last computes when each value is read last (Pos), with moved operations reading
// at their select.
func (p *Plan) last(ops []kernel.Op) {
	p.Last = make([]int, len(ops))
	for i, op := range ops {
		for _, a := range op.Args {
			p.Last[a] = max(p.Last[a], p.Pos(p.At[i]))
		}
	}
}

// Temp reports whether value v lives in a register of its own that operation i may
// overwrite: i is its last reader and it is neither a parameter nor an accumulator.
func (p *Plan) Temp(ops []kernel.Op, v, i int) bool {
	switch ops[v].Kind {
	case kernel.Param, kernel.Acc:
		return false
	}
	return p.Last[v] == p.Pos(i)
}

// step is one operation of one block of an iteration.
type step struct{ blk, op int }

// schedule returns the order in which the operations of blocks consecutive blocks
// (1 or 2) are emitted; an operation moved to its select is left out (its select
// emits it). With two blocks, the operations of the two are interleaved, one after
// the other, so that the processor finds twice as many independent operations
// among the next ones it decodes; but everything that reads an accumulator comes
// after, the first block's before the second's, so that the accumulators see the
// blocks in order.
//
// In an unrolled kernel, a single block (the odd last full block, the tail) is
// emitted in the same order as each block of two, so that Last holds for both.
func (p *Plan) schedule(blocks int) []step {
	var s []step
	for i := range p.At {
		if p.At[i] != i || (p.Unrolled && p.OnAcc[i]) {
			continue
		}
		for c := 0; c < blocks; c++ {
			s = append(s, step{c, i})
		}
	}
	if !p.Unrolled {
		return s
	}
	for c := 0; c < blocks; c++ {
		for i := range p.At {
			if p.At[i] == i && p.OnAcc[i] {
				s = append(s, step{c, i})
			}
		}
	}
	return s
}
