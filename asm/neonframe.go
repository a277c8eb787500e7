// The NEON function frame: register plan, prologue, the loop over full blocks
// and the accumulators (see neon.go for the layout).

package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gokernels/smoothl1/gen/kernel"
)

type neonGen struct {
	k     *kernel.Kernel
	w     *bytes.Buffer
	f32   bool
	pl    *Plan             // lifetimes (Last) and values computed into an accumulator (ToAcc)
	ptr   map[string]string // slice -> general register holding its pointer
	param map[string]vreg   // hoisted parameters
	acc   map[string][quarters]vreg
	raw   map[string]vreg // float32: the 4 loaded elements of each input
	out   vreg            // float32: the narrowed output of 2 quarters
	free  [32]bool        // registers free for values

	inverted []bool // the mask is kept inverted (NE, IsNaN read only by selects)
	pinned   [32]bool

	// Per quarter.
	q    int
	reg  []vreg            // where each value lives
	cols map[string][]vreg // a row family: the columns of each input, loaded at its first load
}

func (g *neonGen) printf(format string, a ...any) { fmt.Fprintf(g.w, format, a...) }

// word writes an encoded instruction.
func (g *neonGen) word(in neonInst) { g.printf("\tWORD $0x%08x // %s\n", in.word, in.text) }

// alloc returns a free register, or fails generation: the kernels never spill.
func (g *neonGen) alloc() vreg {
	for r := range g.free {
		if g.free[r] {
			g.free[r] = false
			return vreg(r)
		}
	}
	panic(fmt.Sprintf("out of vector registers in quarter %d (the NEON backend does not spill)", g.q))
}

// allocRun returns the first of n consecutive free registers (for LD2, LD3, LD4), or
// fails generation.
func (g *neonGen) allocRun(n int) vreg {
	for r := 0; r+n <= len(g.free); r++ {
		run := true
		for j := r; j < r+n; j++ {
			run = run && g.free[j]
		}
		if run {
			for j := r; j < r+n; j++ {
				g.free[j] = false
			}
			return vreg(r)
		}
	}
	panic(fmt.Sprintf("no %d consecutive free vector registers in quarter %d", n, g.q))
}

// release frees register r if it holds a value (not a pinned register).
func (g *neonGen) release(r vreg) {
	if !g.pinned[r] {
		g.free[r] = true
	}
}

// plan computes the shared plan (lifetimes, values computed straight into an
// accumulator) and the masks kept inverted, and checks what the loop relies on.
func (g *neonGen) plan() error {
	ops := g.k.Ops
	g.pl = plan(ops, neon{}.Props(), 1)
	accOp := map[string]int{}
	seen := map[string]bool{}
	for i, op := range ops {
		switch op.Kind {
		case kernel.Acc:
			if _, dup := accOp[op.Ref]; dup {
				return fmt.Errorf("accumulator %s read twice", op.Ref)
			}
			accOp[op.Ref] = i
		case kernel.Load, kernel.Store:
			// Loads and stores post-increment the slice's pointer (a row family
			// loads all the columns of an input at its first load).
			if op.Kind == kernel.Load && g.k.Info().Cols > 0 {
				continue
			}
			if seen[op.Ref] {
				return fmt.Errorf("slice %s loaded or stored twice in a block", op.Ref)
			}
			seen[op.Ref] = true
		}
	}
	for s, op := range ops {
		if op.Kind != kernel.SetAcc {
			continue
		}
		a, ok := accOp[op.Ref]
		if !ok {
			return fmt.Errorf("accumulator %s set but never read", op.Ref)
		}
		if g.pl.Last[a] > s {
			return fmt.Errorf("accumulator %s read after it is set", op.Ref)
		}
	}
	g.inverted = make([]bool, len(ops))
	for i, op := range ops {
		if op.Kind != kernel.NE && op.Kind != kernel.IsNaN {
			continue
		}
		g.inverted[i] = true
		for _, r := range ops {
			for j, a := range r.Args {
				if a == i && (r.Kind != kernel.Select || j != 0) {
					g.inverted[i] = false
				}
			}
		}
	}
	return nil
}

// neonFunction writes the assembly function of kernel k, handling full blocks;
// name is its wrapper's name.
func neonFunction(w *bytes.Buffer, k *kernel.Kernel, name string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	g := &neonGen{k: k, w: w, f32: k.Type == kernel.F32, ptr: map[string]string{},
		param: map[string]vreg{}, acc: map[string][quarters]vreg{}, raw: map[string]vreg{}, out: -1}
	if err := g.plan(); err != nil {
		return err
	}
	for r := range g.free {
		g.free[r] = true
	}
	pin := func() vreg {
		r := g.alloc()
		g.pinned[r] = true
		return r
	}
	for _, a := range k.Accs {
		var rs [quarters]vreg
		for q := range rs {
			rs[q] = pin() // consecutive: the first registers are allocated in order
		}
		g.acc[a] = rs
	}
	var params []string
	for _, op := range k.Ops {
		if op.Kind == kernel.Param {
			if _, ok := g.param[op.Ref]; !ok {
				g.param[op.Ref] = pin()
				params = append(params, op.Ref)
			}
		}
	}
	if g.f32 {
		for _, in := range k.Info().Ins {
			if k.Info().Cols == 0 { // (a row family widens its columns in place)
				g.raw[in] = pin()
			}
		}
		if k.Info().Out != "" {
			g.out = pin()
		}
	}

	// Arguments: p, the slices (24 bytes each), acc.
	slices := k.Slices()
	size := 8 + 24*len(slices)
	if k.AccLen() > 0 {
		size += 8
	}
	blocks := name + "Blocks"
	features := strings.Join(neon{}.Impl().Features, ", ")
	g.printf("\n// func %s(%s)\n// Requires: %s\nTEXT ·%s(SB), NOSPLIT, $0-%d\n", blocks, neonParams(k), features, blocks, size)
	g.printf("\tMOVD p+0(FP), R0\n")
	first, nlen := k.Info().Ins[0], -1 // the slice whose length is the kernel's
	if k.Info().Cols > 0 {
		first = k.Info().Out // a row family: one row per lane
	}
	for i, s := range slices {
		g.ptr[s] = fmt.Sprintf("R%d", i+1)
		g.printf("\tMOVD %s_base+%d(FP), %s\n", s, 8+24*i, g.ptr[s])
		if s == first {
			nlen = 8 + 24*i + 8
		}
	}
	g.printf("\tMOVD %s_len+%d(FP), R10\n", first, nlen)
	g.printf("\tLSR $3, R10, R10\n")
	if k.AccLen() > 0 {
		g.printf("\tMOVD acc+%d(FP), R8\n", size-8)
	}
	g.printf("\n\t// Broadcast the parameters.\n")
	for _, p := range params {
		off := 8 * kernel.ParamIndex(p)
		if off == 0 {
			g.printf("\tVLD1R (R0), [V%d.D2]\n", g.param[p])
		} else {
			g.printf("\tADD $%d, R0, R9\n\tVLD1R (R9), [V%d.D2]\n", off, g.param[p])
		}
	}
	if k.AccLen() > 0 {
		g.printf("\n\t// Load the lane accumulators: lanes 2q and 2q+1 in register q of each.\n")
		for ai, a := range k.Accs {
			g.printf("\tVLD1 (%s), [%s]\n", g.accBase(ai), g.accList(a))
		}
	}
	g.printf("\tCBZ R10, done\n\nloop:\n")
	steps := g.pl.schedule(1)
	for g.q = 0; g.q < quarters; g.q++ {
		g.printf("\t// Lanes %d-%d.\n", 2*g.q, 2*g.q+1)
		g.reg = make([]vreg, len(k.Ops))
		g.cols = map[string][]vreg{}
		for _, st := range steps {
			// The operation's instructions after the line of the description
			// they translate and the register of its value.
			var ins bytes.Buffer
			g.w = &ins
			g.op(st.op, k.Ops[st.op])
			g.w = w
			switch k.Ops[st.op].Kind {
			case kernel.Store, kernel.SetAcc:
				g.printf("\t// %s\n", k.Describe(st.op))
			default:
				g.printf("\t// %s: V%d\n", k.Describe(st.op), g.reg[st.op])
			}
			w.Write(ins.Bytes())
		}
		for r := range g.free {
			if !g.pinned[r] && !g.free[r] {
				panic(fmt.Sprintf("V%d still holds a value after quarter %d", r, g.q))
			}
		}
	}
	g.printf("\tSUBS $1, R10, R10\n\tBNE loop\n\ndone:\n")
	if k.AccLen() > 0 {
		g.printf("\t// Store the lane accumulators.\n")
		for ai, a := range k.Accs {
			g.printf("\tVST1 [%s], (%s)\n", g.accList(a), g.accBase(ai))
		}
	}
	g.printf("\tRET\n")
	return nil
}

func (g *neonGen) accList(a string) string {
	var l []string
	for _, r := range g.acc[a] {
		l = append(l, fmt.Sprintf("V%d.D2", r))
	}
	return strings.Join(l, ", ")
}

// accBase returns the register that holds the address of accumulator ai's lanes:
// R8 for the first, else R9, set here to R8 plus the accumulator's offset.
func (g *neonGen) accBase(ai int) string {
	if ai == 0 {
		return "R8"
	}
	g.printf("\tADD $%d, R8, R9\n", 8*kernel.Lanes*ai)
	return "R9"
}
