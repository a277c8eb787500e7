package main

import (
	"fmt"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// roofline writes the streaming kernels that the benchmarks measure the loss kernels
// against: they only read the inputs (and write the output) as fast as AVX2 can,
// 128 bytes of each slice per iteration, all slices at once as the loss kernels read
// them. They process len(a) &^ 127 bytes.
func roofline() {
	rooflineRead("rooflineReadAVX2", []string{"a", "b"})
	rooflineReadWrite("rooflineReadWriteAVX2", []string{"a", "b"})
	// Three inputs (the weighted sums, GradElementwise): read together, as their
	// kernels read them, not two slices and then the third.
	rooflineRead("rooflineRead3AVX2", []string{"a", "b", "c"})
	rooflineReadWrite("rooflineRead3WriteAVX2", []string{"a", "b", "c"})
	// RowSums of rows of 4: x and y read, a quarter of their length written (a value
	// per row of 4 elements).
	rooflineReadQuarter("rooflineReadQuarterAVX2", []string{"a", "b"})
}

// streamSig returns the Go signature of a roofline kernel over slices ins (and
// dst first, with out).
func streamSig(ins []string, out bool, ret string) string {
	ps := ins
	if out {
		ps = append([]string{"dst"}, ins...)
	}
	return fmt.Sprintf("func(%s []byte)%s", strings.Join(ps, ", "), ret)
}

// streamArgs loads the base of every slice of ins and the length of a, rounded
// down to 128 bytes (n), and zeroes the index i.
func streamArgs(ins []string) (ps []reg.Register, n, i reg.Register) {
	ps = make([]reg.Register, len(ins))
	for k, s := range ins {
		ps[k] = Load(Param(s).Base(), GP64())
	}
	n = Load(Param("a").Len(), GP64())
	ANDQ(I32(-128), n)
	i = GP64()
	XORQ(i, i)
	return ps, n, i
}

// rooflineRead writes a kernel that reads every slice of ins and returns a checksum.
func rooflineRead(name string, ins []string) {
	TEXT(name, NOSPLIT, streamSig(ins, false, " uint64"))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s reads %s (len(a) &^ 127 bytes of each) and returns a checksum.", name, strings.Join(ins, ", ")))
	ps, n, i := streamArgs(ins)
	var acc [4]reg.VecVirtual
	for k := range acc {
		acc[k] = YMM()
		VPXOR(acc[k], acc[k], acc[k])
	}
	Label("loop")
	CMPQ(i, n)
	JAE(LabelRef("done"))
	for k := range acc {
		for _, p := range ps {
			VPXOR(Mem{Base: p, Index: i, Scale: 1, Disp: 32 * k}, acc[k], acc[k])
		}
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
}

// rooflineReadWrite writes a kernel that writes the XOR of the slices of ins to dst.
func rooflineReadWrite(name string, ins []string) {
	rooflineStore(name, ins, fmt.Sprintf("%s writes %s to dst, len(a) &^ 127 bytes.", name, strings.Join(ins, " ^ ")), false)
}

// rooflineReadQuarter writes a kernel that reads every slice of ins and writes a
// quarter of their length to dst, as RowSums of rows of 4 does (a value per row):
// for each 128 bytes of the slices, the XOR of its four 32-byte parts (of the XOR of
// the slices) goes to the next 32 bytes of dst.
func rooflineReadQuarter(name string, ins []string) {
	rooflineStore(name, ins, fmt.Sprintf("%s writes to dst[i/4:i/4+32] the XOR of the four 32-byte parts of %s at i, for each i < len(a) &^ 127 step 128.", name, strings.Join(ins, " ^ ")), true)
}

// rooflineStore writes the kernels of rooflineReadWrite and, with quarter,
// rooflineReadQuarter: each 128 bytes of the XOR of ins go to dst as they are, or
// folded to 32 bytes.
func rooflineStore(name string, ins []string, doc string, quarter bool) {
	TEXT(name, NOSPLIT, streamSig(ins, true, ""))
	Pragma("noescape")
	Doc(doc)
	pd := Load(Param("dst").Base(), GP64())
	ps, n, i := streamArgs(ins)
	Label("loop")
	CMPQ(i, n)
	JAE(LabelRef("done"))
	var v [4]reg.VecVirtual
	for k := range v {
		v[k] = YMM()
		VMOVDQU(Mem{Base: ps[0], Index: i, Scale: 1, Disp: 32 * k}, v[k])
		for _, p := range ps[1:] {
			VPXOR(Mem{Base: p, Index: i, Scale: 1, Disp: 32 * k}, v[k], v[k])
		}
		if !quarter {
			VMOVDQU(v[k], Mem{Base: pd, Index: i, Scale: 1, Disp: 32 * k})
		}
	}
	if quarter {
		VPXOR(v[1], v[0], v[0])
		VPXOR(v[3], v[2], v[2])
		VPXOR(v[2], v[0], v[0])
		VMOVDQU(v[0], Mem{Base: pd})
		ADDQ(Imm(32), pd)
	}
	ADDQ(Imm(128), i)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
