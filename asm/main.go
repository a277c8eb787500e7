// Command asm writes the AVX2 and AVX-512 kernels of smoothl1 with avo, from the
// canonical kernel description in package kernel (gen/kernel), the same description
// the portable Go kernels are generated from. Run it with `go generate ./...` at the
// repository root. With -roofline it writes instead the streaming kernels of the
// benchmarks (bench/roofline_amd64.s), which are no part of the library; with
// -arm64 the NEON kernels of arm64 (neon.go), which avo cannot write.
//
// Each operation of the description becomes one instruction on a vector of float64
// lanes: one ZMM register for AVX-512, two YMM registers (lanes 0-3 and 4-7) for
// AVX2. float32 data is widened on load (VCVTPS2PD) and narrowed on store
// (VCVTPD2PS). The last, partial block of 8 elements is loaded with masked loads
// that read zeros for the missing lanes and stored with masked stores, so nothing
// outside the slices is touched. Each operation's instructions follow a comment
// that names it as the description does (e.g. "z8 = andnot NegZero7, d4"), with the
// value names of gen/kernel.
//
// # Files
//
//   - main.go: this contract and the command.
//   - plan.go: where values live (plan) and the order of emission (schedule): pure
//     functions of the operations and the ISA's Props, shared by every backend.
//   - isa.go: the ISA interfaces. avx2.go, avx512.go: one type per x86 ISA.
//   - frame.go: a kernel's function: arguments, accumulators, tail, epilogue.
//   - loops.go: the loops over full blocks, unrolling and prefetching (the
//     tuning, per kernel, is in gen/kernel; why, in docs/tuning.md).
//   - select.go: instruction selection shared by the x86 ISAs.
//   - rows.go: the transposing loads of the row families.
//   - roofline.go: the benchmarks' streaming kernels.
//   - neon.go, neonenc.go: the NEON backend (arm64), with its own emitter and
//     encoder of the instructions the Go assembler lacks.
//
// # Backends
//
// A backend is a type that implements ISA: its implementation (kernel.Impls: name,
// symbol suffix, CPU features), its Props (vector registers per block of 8 lanes;
// whether a masked operation can merge into a select) and the loop Tuning it
// applies. Everything that decides what is computed is shared: the description,
// plan and schedule, which never change results, only registers and order of
// independent instructions. An avo-emitted backend also implements x86, the dozen
// instructions that differ (loads, stores, masks, blends, logic, parameters), and
// gets the frame, loops and instruction selection of this package. A backend with
// its own emitter (arm64: avo has none) implements ISA, calls plan(k.Ops, props)
// and p.schedule(blocks), and writes, for each step, the instructions of
// k.Ops[step.op] with the comment k.Describe(step.op); it must keep the canonical
// order of gen/kernel (lanes, padding of the tail with zeros, one rounding per
// operation).
//
// Where an operation's result lives is chosen to save instructions, never to change
// what is computed (see plan): FMA addends and accumulators are overwritten in
// place when nothing reads them later, and on AVX-512 a select of a single-use
// operation becomes that operation merge-masked into the other value's register.
package main

import (
	"flag"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/gokernels/smoothl1/gen/kernel"
)

func main() {
	rooflineOnly := flag.Bool("roofline", false, "write the benchmarks' streaming kernels instead of the loss kernels")
	arm64Dir := flag.String("arm64", "", "write the NEON kernels (kernels_arm64.s, kernels_arm64.go) into this directory instead of the x86 ones")
	flag.Parse()
	if *arm64Dir != "" {
		writeNEON(*arm64Dir) // neon.go: its own emitter, no avo
		return
	}
	ConstraintExpr("!purego")
	if *rooflineOnly {
		roofline()
		Generate()
		return
	}
	// Sliding-window tail masks for AVX2: 8 all-ones lanes then 8 zero lanes; the
	// mask for r valid lanes starts at lane 8-r.
	var a2 avx2
	a2.tail64 = slidingMask("tailmask64", 8)
	a2.tail32 = slidingMask("tailmask32", 4)
	// Opmasks for AVX-512: entry r-1 is (1<<r)-1, for r = 1..7 valid lanes.
	var a512 avx512
	a512.tailK = GLOBL("tailmaskk", RODATA|NOPTR)
	for r := 1; r < 8; r++ {
		DATA(2*(r-1), U16(uint16(1)<<r-1))
	}
	a512.cols32, a512.cols64 = colTables()
	for _, k := range kernel.Kernels() {
		for _, isa := range []x86{a2, a512} {
			function(k, isa)
		}
	}
	cpuid()
	Generate()
}

// cpuid writes CPUID(leaf): the registers of CPUID with EAX = leaf and ECX = 0. The
// root package reads the vendor (leaf 0) and the family (leaf 1) once at init to
// choose generated.NoPrefetch. CPUID is in every x86-64 CPU: no dispatch gate.
func cpuid() {
	TEXT("CPUID", NOSPLIT, "func(leaf uint32) (eax, ebx, ecx, edx uint32)")
	Doc("CPUID returns the registers of the CPUID instruction with EAX = leaf and ECX = 0.",
		"Every x86-64 CPU has it; the root package reads the vendor and family with it.")
	Load(Param("leaf"), reg.EAX)
	XORL(reg.ECX, reg.ECX)
	CPUID()
	Store(reg.EAX, Return("eax"))
	Store(reg.EBX, Return("ebx"))
	Store(reg.ECX, Return("ecx"))
	Store(reg.EDX, Return("edx"))
	RET()
}

// slidingMask writes a table of 8 all-ones lanes of width bytes then 8 zero lanes.
func slidingMask(table string, width int) Mem {
	m := GLOBL(table, RODATA|NOPTR)
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
