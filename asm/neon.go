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
	if c := k.Info().Cols; c > 0 {
		// A row family: whole blocks of rows only, the caller does the rest.
		out := k.Info().Out
		fmt.Fprintf(w, "\n// %s %s\n", blocks, k.Info().Doc)
		fmt.Fprintf(w, "// It is the NEON implementation of the canonical %s kernel for %s (see gen/kernel).\n", k.Family, T)
		fmt.Fprintf(w, "// len(%s) must be a multiple of %d, and the inputs %d times as long.\n//\n//go:noescape\nfunc %s(%s)\n", out, L, c, blocks, neonParams(k))
		fmt.Fprintf(w, "\n// %s %s\n", name, k.Info().Doc)
		fmt.Fprintf(w, "// It runs %s on the rows of the whole blocks; the rows after them are left alone.\n", blocks)
		fmt.Fprintf(w, "func %s(%s) {\nn := len(%s) &^ %d\n", name, neonParams(k), out, L-1)
		var args []string
		for _, s := range k.Slices() {
			if s == out {
				args = append(args, s+"[:n]")
			} else {
				args = append(args, fmt.Sprintf("%s[:%d*n]", s, c))
			}
		}
		fmt.Fprintf(w, "%s(p, %s)\n}\n", blocks, strings.Join(args, ", "))
		return
	}
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
