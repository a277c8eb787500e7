package main

import "fmt"

// This file encodes the Advanced SIMD (NEON) instructions the kernels use that the
// Go assembler does not know, as 32-bit words (Arm Architecture Reference Manual,
// A64, "Advanced SIMD three same", "two-register miscellaneous" and "copy"
// encoding groups). Each encoder returns the word and the instruction in the
// syntax Debian's aarch64-linux-gnu-objdump prints for it (its preferred
// disassembly, e.g. MOV for ORR with equal sources), which the generated assembly
// writes as the comment of the WORD; TestNEONWords in the root package
// disassembles the built binary and checks every word against its comment.

// vreg is a SIMD&FP register number, 0-31.
type vreg int

// neonInst is one encoded instruction: the word and its disassembly.
type neonInst struct {
	word uint32
	text string
}

func (v vreg) check() uint32 {
	if v < 0 || v > 31 {
		panic(fmt.Sprintf("arm64: no register V%d", int(v)))
	}
	return uint32(v)
}

// Base words of the "three same" instructions on 2 float64 lanes (Q = 1, sz = 1) or
// on 16 bytes, with Rd = Rn = Rm = 0: Rm goes to bits 16-20, Rn to 5-9, Rd to 0-4.
const (
	neonFADD  = 0x4e60d400 // FADD  Vd.2D, Vn.2D, Vm.2D: n + m
	neonFSUB  = 0x4ee0d400 // FSUB  Vd.2D, Vn.2D, Vm.2D: n - m
	neonFMUL  = 0x6e60dc00 // FMUL  Vd.2D, Vn.2D, Vm.2D: n * m
	neonFDIV  = 0x6e60fc00 // FDIV  Vd.2D, Vn.2D, Vm.2D: n / m
	neonFMLA  = 0x4e60cc00 // FMLA  Vd.2D, Vn.2D, Vm.2D: d + n*m, one rounding
	neonFCMEQ = 0x4e60e400 // FCMEQ Vd.2D, Vn.2D, Vm.2D: n == m (false with NaN)
	neonFCMGE = 0x6e60e400 // FCMGE Vd.2D, Vn.2D, Vm.2D: n >= m (false with NaN)
	neonFCMGT = 0x6ee0e400 // FCMGT Vd.2D, Vn.2D, Vm.2D: n > m (false with NaN)
	neonAND   = 0x4e201c00 // AND   Vd.16B, Vn.16B, Vm.16B: n & m
	neonBIC   = 0x4e601c00 // BIC   Vd.16B, Vn.16B, Vm.16B: n &^ m
	neonORR   = 0x4ea01c00 // ORR   Vd.16B, Vn.16B, Vm.16B: n | m (MOV when n == m)
	neonEOR   = 0x6e201c00 // EOR   Vd.16B, Vn.16B, Vm.16B: n ^ m
	neonBSL   = 0x6e601c00 // BSL   Vd.16B, Vn.16B, Vm.16B: d ? n : m, bitwise
	neonBIT   = 0x6ea01c00 // BIT   Vd.16B, Vn.16B, Vm.16B: m ? n : d, bitwise
	neonBIF   = 0x6ee01c00 // BIF   Vd.16B, Vn.16B, Vm.16B: m ? d : n, bitwise
)

// Two-register words, Rn in bits 5-9, Rd in 0-4.
const (
	neonFNEG   = 0x6ee0f800 // FNEG   Vd.2D, Vn.2D
	neonMVN    = 0x6e205800 // MVN    Vd.16B, Vn.16B (NOT)
	neonFCVTL  = 0x0e617800 // FCVTL  Vd.2D, Vn.2S: the low 2 float32 lanes of n, widened
	neonFCVTL2 = 0x4e617800 // FCVTL2 Vd.2D, Vn.4S: the high 2 float32 lanes of n, widened
	neonFCVTN  = 0x0e616800 // FCVTN  Vd.2S, Vn.2D: n narrowed into the low half of d, high half zeroed
	neonFCVTN2 = 0x4e616800 // FCVTN2 Vd.4S, Vn.2D: n narrowed into the high half of d, low half kept
)

// neonMnemonics names the base words, for the comments and for the mutation tool.
var neonMnemonics = map[uint32]string{
	neonFADD: "FADD", neonFSUB: "FSUB", neonFMUL: "FMUL", neonFDIV: "FDIV", neonFMLA: "FMLA",
	neonFCMEQ: "FCMEQ", neonFCMGE: "FCMGE", neonFCMGT: "FCMGT",
	neonAND: "AND", neonBIC: "BIC", neonORR: "ORR", neonEOR: "EOR", neonBSL: "BSL", neonBIT: "BIT", neonBIF: "BIF",
	neonFNEG: "FNEG", neonMVN: "MVN", neonFCVTL: "FCVTL", neonFCVTL2: "FCVTL2", neonFCVTN: "FCVTN", neonFCVTN2: "FCVTN2",
}

// three encodes a "three same" instruction: on 2 float64 lanes, or on 16 bytes for
// the bitwise ones.
func neon3(op uint32, d, n, m vreg) neonInst {
	w := op | m.check()<<16 | n.check()<<5 | d.check()
	arr := "2D"
	if op&0x9f20fc00 == 0x0e201c00 { // the logical group: AND, BIC, ORR, EOR, BSL, BIT, BIF
		arr = "16B"
	}
	name := neonMnemonics[op]
	if op == neonORR && n == m {
		return neonInst{w, fmt.Sprintf("MOV V%d.16B, V%d.16B", d, n)}
	}
	return neonInst{w, fmt.Sprintf("%s V%d.%s, V%d.%s, V%d.%s", name, d, arr, n, arr, m, arr)}
}

// two encodes a two-register instruction.
func neon2(op uint32, d, n vreg) neonInst {
	w := op | n.check()<<5 | d.check()
	ad, an := "2D", "2D"
	switch op {
	case neonMVN:
		ad, an = "16B", "16B"
	case neonFCVTL:
		an = "2S"
	case neonFCVTL2:
		an = "4S"
	case neonFCVTN:
		ad = "2S"
	case neonFCVTN2:
		ad = "4S"
	}
	return neonInst{w, fmt.Sprintf("%s V%d.%s, V%d.%s", neonMnemonics[op], d, ad, n, an)}
}

// mov copies n to d (ORR Vd.16B, Vn.16B, Vn.16B).
func neonMov(d, n vreg) neonInst { return neon3(neonORR, d, n, n) }
