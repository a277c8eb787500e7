package main

import "encoding/binary"

// The roofline baselines: what the memory system allows for a kernel that moves the
// same bytes as an operation. The assembly bulk (roofline_amd64.s, written by
// `go generate` at the repository root from asm/roofline.go) streams with AVX2; the
// Go loops do the rest, and everything elsewhere.

// xorTail returns the XOR of the 8-byte words of a ^ b (^ c, if not nil) from byte
// n on, word by word, and writes each to dst if not nil. Written out for two and
// three slices: a loop over the slices per word made the Go roofline (all of it
// outside amd64) 2.5x slower.
func xorTail(dst, a, b, c []byte, n int) (s uint64) {
	b = b[:len(a)]
	if c == nil {
		for i := n; i+8 <= len(a); i += 8 {
			w := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:])
			if dst != nil {
				binary.LittleEndian.PutUint64(dst[i:], w)
			}
			s ^= w
		}
		return s
	}
	c = c[:len(a)]
	for i := n; i+8 <= len(a); i += 8 {
		w := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]) ^ binary.LittleEndian.Uint64(c[i:])
		if dst != nil {
			binary.LittleEndian.PutUint64(dst[i:], w)
		}
		s ^= w
	}
	return s
}

// third returns in[2], or nil for two slices.
func third(in [][]byte) []byte {
	if len(in) == 3 {
		return in[2]
	}
	return nil
}

// rooflineRead reads all of the two or three slices of in together (of the length
// of the first, a multiple of 8 bytes), as a kernel with that many inputs reads
// them, and returns a checksum, with the AVX2 bulk if asm and the build has it.
func rooflineRead(asm bool, in ...[]byte) uint64 {
	var s uint64
	n := 0
	if asm && hasRooflineAsm {
		n = len(in[0]) &^ 127
		if len(in) == 3 {
			s = rooflineRead3AVX2(in[0], in[1], in[2])
		} else {
			s = rooflineReadAVX2(in[0], in[1])
		}
	}
	return s ^ xorTail(nil, in[0], in[1], third(in), n)
}

// rooflineReadWrite writes the XOR of the two or three slices of in to dst (all of
// the length of the first, a multiple of 8 bytes), reading them together, with the
// AVX2 bulk if asm and the build has it.
func rooflineReadWrite(asm bool, dst []byte, in ...[]byte) {
	n := 0
	if asm && hasRooflineAsm {
		n = len(in[0]) &^ 127
		if len(in) == 3 {
			rooflineRead3WriteAVX2(dst, in[0], in[1], in[2])
		} else {
			rooflineReadWriteAVX2(dst, in[0], in[1])
		}
	}
	xorTail(dst, in[0], in[1], third(in), n)
}

// rooflineReadQuarter reads a and b together (of the length of a, a multiple of 16
// bytes) and writes a quarter of that length to dst, as RowSums of rows of 4 moves
// its bytes (a value per row): for each 128 bytes of a ^ b (the last group may be
// shorter), word m of its 32 bytes of dst is the XOR of its words m, m+4, m+8 and
// m+12. The AVX2 bulk runs if asm and the build has it.
func rooflineReadQuarter(asm bool, dst, a, b []byte) {
	b = b[:len(a)] // (before the assembly, which does not check)
	dst = dst[:len(a)/4]
	n := 0
	if asm && hasRooflineAsm {
		n = len(a) &^ 127
		rooflineReadQuarterAVX2(dst, a, b)
	}
	le := binary.LittleEndian
	// Whole groups, written out (all of the roofline outside amd64).
	for ; n+128 <= len(a); n += 128 {
		for m := 0; m < 4; m++ {
			i := n + 8*m
			w := le.Uint64(a[i:]) ^ le.Uint64(b[i:]) ^ le.Uint64(a[i+32:]) ^ le.Uint64(b[i+32:]) ^
				le.Uint64(a[i+64:]) ^ le.Uint64(b[i+64:]) ^ le.Uint64(a[i+96:]) ^ le.Uint64(b[i+96:])
			le.PutUint64(dst[n/4+8*m:], w)
		}
	}
	// The last group, shorter (at most one).
	if n < len(a) {
		var w [4]uint64
		for i := n; i < len(a); i += 8 {
			w[(i-n)/8%4] ^= le.Uint64(a[i:]) ^ le.Uint64(b[i:])
		}
		out := dst[n/4:]
		for m := range w {
			if o := 8 * m; o < len(out) {
				var word [8]byte
				le.PutUint64(word[:], w[m])
				copy(out[o:], word[:])
			}
		}
	}
}
