// This file writes the NEON (Advanced SIMD) kernels of smoothl1 as Go arm64
// assembly, from the canonical kernel description in package kernel (gen/kernel),
// the same description the portable Go and the AVX2/AVX-512 kernels come from. avo
// cannot write arm64, so this backend (the ISA neon) writes the text itself, with
// plan and schedule shared with the x86 backends (plan.go).
//
// # Layout
//
// A NEON register holds 2 float64 lanes, so a block of 8 lanes is 4 registers. The
// loop handles one block per iteration, as 4 quarters one after the other (lanes
// 0-1, 2-3, 4-5, 6-7), each running the whole operation list on one register per
// value, like the AVX2 backend runs it twice on halves. Float32 data is loaded 4
// elements at a time (for quarters 0-1 and 2-3), widened exactly per quarter with
// FCVTL/FCVTL2, and narrowed once on store with FCVTN/FCVTN2 into one register
// that is stored after quarters 1 and 3. float64 data is loaded and stored one
// register per quarter. Loads and stores post-increment the slice pointers.
//
// # Registers
//
// Pinned for the whole call: each accumulator (4 consecutive registers, one per
// quarter, loaded from and stored to acc with one instruction each), each parameter
// the kernel reads (broadcast once before the loop), and for float32 data one raw
// register per input and one for the narrowed output. The values of a quarter get
// the remaining registers by linear scan over their lifetimes (a value's register
// is free after its last reader); the kernels fit in 32 registers without spilling,
// and a description that does not fit stops the generator with an error.
//
// # Semantics that differ from x86
//
// Every operation of the description is translated exactly, one rounding each:
//
//   - Max(a, b) = a > b ? a : b and Min(a, b) = a < b ? a : b return b when either
//     is NaN (VMAXPD/VMINPD semantics); NEON's FMAX/FMIN propagate NaN instead, so
//     they become FCMGT (false with NaN) and a bitwise select (BSL, BIT or BIF,
//     whichever lets the result overwrite a register that dies there).
//   - FMA(a, b, c) = a*b + c is FMLA on a copy of c (or on c itself where c dies).
//     FMS(a, b, c) = a*b - c is FMLA on -c: FNEG is exact, and a*b + (-c) rounded
//     once is a*b - c rounded once, as math.FMA(a, b, -c) in the Go kernels. (FMLS
//     computes c - a*b; negating that afterwards would give -0 where a*b - c is +0.)
//   - LT(a, b) and LE(a, b) are FCMGT/FCMGE with the operands swapped (false with
//     NaN). NE(a, b) and IsNaN(a) are FCMEQ (a, a for IsNaN) kept inverted: a select
//     reading an inverted mask swaps its two values instead of spending a NOT (MVN
//     is emitted only where something else reads the mask).
//   - Select is BSL/BIT/BIF; And, AndNot, Xor are AND, BIC (operands swapped: ^a & b
//     is b BIC a) and EOR.
//
// The Go assembler knows loads, stores and integer instructions but few of these
// vector instructions, so every vector operation is a WORD with the instruction in
// ARM syntax as its comment (see neonenc.go; the root package's TestNEONWords checks
// every word against objdump).
//
// # Tails
//
// NEON has no masked loads. The assembly handles full blocks only; a Go wrapper
// beside it (kernels_arm64.go) calls it on the full blocks, then once more on a
// zero-padded copy of the last, partial block, with the same accumulators (the
// assembly reads acc on entry and writes it back; the wrapper zeroes it first, so
// that acc is written, never read, as for every kernel), and copies the results
// of the valid elements out: exactly the canonical zero padding, and nothing
// outside a slice is read or written. Scalar lanes in assembly would save the
// copies, but they would be a second translation of every operation to keep exact.

package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// neon is the ISA of the NEON kernels: a block of 8 float64 lanes is 4 registers
// (quarters), no operation merges into a select, one block per iteration.
type neon struct{}

func (neon) Impl() kernel.Impl                   { return kernel.NEON.Impl() }
func (neon) Props() Props                        { return Props{Regs: quarters} }
func (neon) Tuning(*kernel.Kernel) kernel.Tuning { return kernel.Tuning{Unroll: 1} }

var _ ISA = neon{}

// quarters is the number of 2-lane registers per block of kernel.Lanes lanes.
const quarters = kernel.Lanes / 2

// neonCommand is the command named in the DO NOT EDIT header of the NEON files.
const neonCommand = "go run -C asm . -arm64 ../generated"

// writeNEON writes the NEON kernels of every kernel into dir: kernels_arm64.s and
// kernels_arm64.go.
func writeNEON(dir string) {
	name := func(k *kernel.Kernel) string { return k.AsmName(neon{}.Impl().Suffix) }
	s, g, err := neonFiles(kernel.Kernels(), neonCommand, name)
	if err != nil {
		log.Fatalf("asm: arm64: %v", err)
	}
	for file, b := range map[string][]byte{"kernels_arm64.s": s, "kernels_arm64.go": g} {
		if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
			log.Fatalf("asm: %v", err)
		}
	}
}

// neonFiles returns the assembly (kernels_arm64.s) and the Go declarations and
// wrappers (kernels_arm64.go) of kernels ks. name is the name of a kernel's Go
// wrapper, which the generated *Impl functions call; its assembly function is
// name + "Blocks". cmd is the command named in the DO NOT EDIT header.
func neonFiles(ks []*kernel.Kernel, cmd string, name func(*kernel.Kernel) string) (asm, goSrc []byte, err error) {
	var s, g bytes.Buffer
	header := fmt.Sprintf("// Code generated by command: %s. DO NOT EDIT.\n\n//go:build !purego\n\n", cmd)
	s.WriteString(header)
	s.WriteString("#include \"textflag.h\"\n")
	g.WriteString(header)
	g.WriteString("package generated\n")
	for _, k := range ks {
		if err := neonFunction(&s, k, name(k)); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", name(k), err)
		}
		neonWrapper(&g, k, name(k))
	}
	goSrc, err = format.Source(g.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("formatting the Go file: %v", err)
	}
	return s.Bytes(), goSrc, nil
}

// neonParams is the parameter list of k's wrapper and assembly function.
func neonParams(k *kernel.Kernel) string {
	ps := []string{fmt.Sprintf("p *[%d]float64", len(kernel.Params))}
	for _, s := range k.Slices() {
		ps = append(ps, fmt.Sprintf("%s []%s", s, k.Type.GoName()))
	}
	if k.AccLen() > 0 {
		ps = append(ps, fmt.Sprintf("acc *[%d]float64", k.AccLen()))
	}
	return strings.Join(ps, ", ")
}

// neonWrapper writes the declaration of k's assembly function and its Go wrapper,
// which handles the last, partial block through a zero-padded copy.
func neonWrapper(w *bytes.Buffer, k *kernel.Kernel, name string) {
	T, L, blocks := k.Type.GoName(), kernel.Lanes, name+"Blocks"
	fmt.Fprintf(w, "\n// %s %s\n", blocks, k.Info().Doc)
	fmt.Fprintf(w, "// It is the NEON implementation of the canonical %s kernel for %s (see gen/kernel),\n", k.Family, T)
	fmt.Fprintf(w, "// for the full blocks of %d elements (len(%s)/%d of them) only.", L, k.Info().Ins[0], L)
	if k.AccLen() > 0 {
		fmt.Fprintf(w, " It continues\n// the lane sums in acc: it reads them on entry and writes them back.")
	}
	fmt.Fprintf(w, "\n//\n//go:noescape\nfunc %s(%s)\n", blocks, neonParams(k))

	var args, targs, ts []string
	for _, s := range k.Slices() {
		args = append(args, s+"[:m]")
		targs = append(targs, "t"+s+"[:]")
		ts = append(ts, "t"+s)
	}
	if k.AccLen() > 0 {
		args = append(args, "acc")
		targs = append(targs, "acc")
	}
	fmt.Fprintf(w, "\n// %s %s\n", name, k.Info().Doc)
	fmt.Fprintf(w, "// It runs %s on the full blocks, then on a copy of the last, partial\n", blocks)
	first := k.Info().Ins[0] // the length of every slice
	fmt.Fprintf(w, "// block padded with zeros (the canonical padding), so that nothing outside the\n// slices is read or written. All slices must have the length of %s.\n", first)
	fmt.Fprintf(w, "func %s(%s) {\n", name, neonParams(k))
	fmt.Fprintf(w, "n := len(%s)\nm := n &^ %d\n", first, L-1)
	if k.AccLen() > 0 {
		// The kernels' contract: acc is written, never read.
		fmt.Fprintf(w, "*acc = [%d]float64{} // the lane sums start at +0\n", k.AccLen())
	}
	fmt.Fprintf(w, "%s(p, %s)\n", blocks, strings.Join(args, ", "))
	fmt.Fprintf(w, "if m == n {\nreturn\n}\n")
	fmt.Fprintf(w, "var %s [%d]%s\n", strings.Join(ts, ", "), L, T)
	for _, s := range k.Info().Ins {
		fmt.Fprintf(w, "copy(t%s[:], %s[m:n])\n", s, s)
	}
	fmt.Fprintf(w, "%s(p, %s)\n", blocks, strings.Join(targs, ", "))
	if out := k.Info().Out; out != "" {
		fmt.Fprintf(w, "copy(%s[m:n], t%s[:])\n", out, out)
	}
	fmt.Fprintf(w, "}\n")
}

// neonGen holds the state of one function being generated.
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
	q   int
	reg []vreg // where each value lives
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
			// Loads and stores post-increment the slice's pointer.
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
			g.raw[in] = pin()
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
			base := "R8"
			if ai > 0 {
				g.printf("\tADD $%d, R8, R9\n", 8*kernel.Lanes*ai)
				base = "R9"
			}
			g.printf("\tVLD1 (%s), [%s]\n", base, g.accList(a))
		}
	}
	g.printf("\tCBZ R10, done\n\nloop:\n")
	steps := g.pl.schedule(1)
	for g.q = 0; g.q < quarters; g.q++ {
		g.printf("\t// Lanes %d-%d.\n", 2*g.q, 2*g.q+1)
		g.reg = make([]vreg, len(k.Ops))
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
			base := "R8"
			if ai > 0 {
				g.printf("\tADD $%d, R8, R9\n", 8*kernel.Lanes*ai)
				base = "R9"
			}
			g.printf("\tVST1 [%s], (%s)\n", g.accList(a), base)
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
