package main

import "encoding/binary"

// The roofline baselines: what the memory system allows for a kernel that moves the
// same bytes as an operation. The assembly bulk (roofline_amd64.s, written by
// `go generate` at the repository root from asm/roofline.go) streams with AVX2; the
// Go loops do the rest, and everything elsewhere.

// rooflineRead reads all of a and b (of equal length, a multiple of 8 bytes) and
// returns a checksum, with the AVX2 bulk if asm and the build has it.
func rooflineRead(asm bool, a, b []byte) uint64 {
	var s uint64
	n := 0
	b = b[:len(a)]
	if asm && hasRooflineAsm {
		n = len(a) &^ 127
		s = rooflineReadAVX2(a, b)
	}
	for i := n; i+8 <= len(a); i += 8 {
		s ^= binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:])
	}
	return s
}

// rooflineReadWrite writes a ^ b to dst (all of equal length, a multiple of 8
// bytes), with the AVX2 bulk if asm and the build has it.
func rooflineReadWrite(asm bool, dst, a, b []byte) {
	n := 0
	b = b[:len(a)]
	if asm && hasRooflineAsm {
		n = len(a) &^ 127
		rooflineReadWriteAVX2(dst, a, b)
	}
	for i := n; i+8 <= len(a); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(a[i:])^binary.LittleEndian.Uint64(b[i:]))
	}
}

// rooflineRead3 reads all of a, b and c (of equal length, a multiple of 8 bytes)
// together, as the kernels with three inputs read them, and returns a checksum.
func rooflineRead3(asm bool, a, b, c []byte) uint64 {
	var s uint64
	n := 0
	b, c = b[:len(a)], c[:len(a)]
	if asm && hasRooflineAsm {
		n = len(a) &^ 127
		s = rooflineRead3AVX2(a, b, c)
	}
	for i := n; i+8 <= len(a); i += 8 {
		s ^= binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]) ^ binary.LittleEndian.Uint64(c[i:])
	}
	return s
}

// rooflineRead3Write writes a ^ b ^ c to dst (all of equal length, a multiple of 8
// bytes), reading the three together.
func rooflineRead3Write(asm bool, dst, a, b, c []byte) {
	n := 0
	b, c = b[:len(a)], c[:len(a)]
	if asm && hasRooflineAsm {
		n = len(a) &^ 127
		rooflineRead3WriteAVX2(dst, a, b, c)
	}
	for i := n; i+8 <= len(a); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(a[i:])^binary.LittleEndian.Uint64(b[i:])^binary.LittleEndian.Uint64(c[i:]))
	}
}
