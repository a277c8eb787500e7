package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

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
