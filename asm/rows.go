package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"

	"github.com/gokernels/smoothl1/gen/kernel"
)

// This file is the load of a row family (kernel.FamilyInfo.Cols): a block is
// kernel.Lanes rows, one per lane, and a Load names a column (the NEON backend's
// is in neonops.go: LD2, LD3, LD4).

// colLoader is an ISA with row families: it loads a block of rows of one input
// and transposes it into one register per column.
type colLoader interface {
	loadCols(g *gen, sl string, h int) []Op // h: the register of the block (AVX2: rows 4h..4h+3)
}

// colTables writes the index tables of the transpositions (VPERMI2PS, VPERMI2PD),
// by number of columns (2 to 4, the row families'). For 4 columns: t32 holds, for
// each column c, the dword indices c + 4j of lanes j = 0..7 (and again for lanes
// 8..15, which are not read): column c of 8 rows of float32 in two registers
// (float64 rows of 4 columns need no table: loadCols unpacks them). For 2 columns:
// the indices c + 2j, column c of 8 rows in one register (float32) or two
// (float64).
func colTables() (t32, t64 map[int]Mem) {
	t32, t64 = map[int]Mem{}, map[int]Mem{}
	// 3 columns: float32, the dword indices c + 3j (j = 0..7, again for lanes
	// 8..15), all below 24: the first 16 elements (rows 0-4 and column 0 of row
	// 5) in one register, the other 8 in the low half of the other. float64, two
	// tables per column c (at 128c): first the qword indices c + 3j of the rows in
	// the first two registers (those of the third taken mod 16, and replaced
	// next), then, for the permutation of that result and the third register, j
	// where c + 3j < 16 and 8 + (c + 3j - 16) elsewhere.
	t32[3] = GLOBL("rowcols32x3", RODATA|NOPTR)
	for c := 0; c < 3; c++ {
		for j := 0; j < 16; j++ {
			DATA(64*c+4*j, U32(uint32(c+3*(j%8))))
		}
	}
	t64[3] = GLOBL("rowcols64x3", RODATA|NOPTR)
	for c := 0; c < 3; c++ { // (the assembler wants the offsets in order)
		for j := 0; j < 8; j++ {
			DATA(128*c+8*j, U64(uint64((c+3*j)%16)))
		}
		for j := 0; j < 8; j++ {
			second := uint64(j)
			if c+3*j >= 16 {
				second = uint64(8 + c + 3*j - 16)
			}
			DATA(128*c+64+8*j, U64(second))
		}
	}
	t32[4] = GLOBL("rowcols32", RODATA|NOPTR)
	for c := 0; c < 4; c++ {
		for j := 0; j < 16; j++ {
			DATA(64*c+4*j, U32(uint32(c+4*(j%8))))
		}
	}
	t32[2] = GLOBL("rowcols32x2", RODATA|NOPTR)
	for c := 0; c < 2; c++ {
		for j := 0; j < 16; j++ {
			DATA(64*c+4*j, U32(uint32(c+2*(j%8))))
		}
	}
	t64[2] = GLOBL("rowcols64x2", RODATA|NOPTR) // (DATA writes the last GLOBL)
	for c := 0; c < 2; c++ {
		for j := 0; j < 8; j++ {
			DATA(64*c+8*j, U64(uint64(c+2*j)))
		}
	}
	return t32, t64
}

// rowStart returns the number of columns of the kernel's rows and a register
// holding the element index of the block's first row (row i, column 0: i*cols);
// it panics for a column count the loads are not written for.
func rowStart(g *gen) (cols int, e reg.GPVirtual) {
	cols = g.k.Info().Cols
	e = GP64()
	rowElems(g, g.i, e)
	return cols, e
}

// rowElems sets e to the element index of row r of the kernel's rows (r*cols); it
// panics for a column count the loads are not written for.
func rowElems(g *gen, r reg.Register, e reg.GPVirtual) {
	switch cols := g.k.Info().Cols; cols {
	case 2, 4:
		MOVQ(r, e)
		SHLQ(U8(cols/2), e) // 2 -> 1, 4 -> 2
	case 3:
		LEAQ(Mem{Base: r, Index: r, Scale: 2}, e)
	default:
		panic(fmt.Sprintf("asm: %s: a row family of %d columns (only 2 to 4 are written)", g.k.GoName(), cols))
	}
}

// loadCols loads the block of kernel.Lanes rows of input sl and returns its
// columns, widened to float64, one register each.
func (s avx512) loadCols(g *gen, sl string, _ int) []Op {
	n, e := rowStart(g)
	Commentf("The rows of %s, transposed into its %d columns.", sl, n)
	sz := g.k.Type.Size()
	blk := g.blk * kernel.Lanes * n * sz // the block's offset in an unrolled loop
	at := func(bytes int) Mem { return Mem{Base: g.ptr[sl], Index: e, Scale: uint8(sz), Disp: blk + bytes} }
	cols := make([]Op, n)
	if g.k.Type == kernel.F32 {
		// 4 columns: rows 0-3 in one register, 4-7 in the other (memory); 3
		// columns: 16 elements in one register, the last 8 in the low half of
		// the other (a 256-bit load, which zeroes the upper half: nothing after
		// the block is read); 2 columns: all 8 rows in one register, both
		// tables. One permutation per column, then the widening.
		a := ZMM()
		VMOVUPS(at(0), a)
		var b Op = at(64)
		switch n {
		case 2:
			b = a // (the block is 64 bytes: nothing after it is read)
		case 3:
			t := ZMM()
			VMOVUPS(at(64), t.AsY())
			b = t
		}
		for c := range cols {
			d := ZMM()
			VMOVUPS(s.cols32[n].Offset(64*c), d)
			VPERMI2PS(b, a, d)
			w := ZMM()
			VCVTPS2PD(d.AsY(), w)
			cols[c] = w
		}
		return cols
	}
	if n == 3 {
		// The 24 elements in three registers (A, B, C): per column, one
		// permutation of A and B, then one of that result and C (colTables).
		var r [3]reg.VecVirtual
		for q := range r {
			r[q] = ZMM()
			VMOVUPD(at(64*q), r[q])
		}
		for c := range cols {
			d := ZMM()
			VMOVUPD(s.cols64[3].Offset(128*c), d)
			VPERMI2PD(r[1], r[0], d)
			e := ZMM()
			VMOVUPD(s.cols64[3].Offset(128*c+64), e)
			VPERMI2PD(r[2], d, e)
			cols[c] = e
		}
		return cols
	}
	if n == 2 {
		// Rows 0-3 in one register, 4-7 in the other (memory): one permutation
		// per column.
		a := ZMM()
		VMOVUPD(at(0), a)
		for c := range cols {
			d := ZMM()
			VMOVUPD(s.cols64[2].Offset(64*c), d)
			VPERMI2PD(at(64), a, d)
			cols[c] = d
		}
		return cols
	}
	// Rows 0-1, 2-3, 4-5, 6-7 in four registers (A, B, C, D). Unpacking the
	// pairs (A, B) and (C, D) puts, in each 128-bit lane, one column of two rows:
	// AB.lo = (0c0 2c0 | 0c2 2c2 | 1c0 3c0 | 1c2 3c2), AB.hi the same for columns 1
	// and 3. Lanes 0 and 2 of AB and of CD then make column 0 (columns 1-3 alike),
	// with the rows in the lane order 0 2 1 3 4 6 5 7, which every operation of the
	// kernel keeps lane for lane and the store puts back (rowOrder64).
	// In-lane unpacks and four lane shuffles: 6% faster on Zen 4 than two-source
	// permutations (bench/ports' rows loop, docs/tuning.md).
	var r [4]reg.VecVirtual
	for q := range r {
		r[q] = ZMM()
		VMOVUPD(at(64*q), r[q])
	}
	var lo, hi [2]reg.VecVirtual // [AB, CD]
	for p := range lo {
		lo[p], hi[p] = ZMM(), ZMM()
		VUNPCKLPD(r[2*p+1], r[2*p], lo[p])
		VUNPCKHPD(r[2*p+1], r[2*p], hi[p])
	}
	for c := range cols {
		src := lo
		if c%2 == 1 {
			src = hi
		}
		imm := uint8(0x88) // 128-bit lanes 0 and 2 of AB, then of CD: columns 0, 1
		if c >= 2 {
			imm = 0xDD // lanes 1 and 3: columns 2, 3
		}
		d := ZMM()
		VSHUFF64X2(U8(imm), src[1], src[0], d)
		cols[c] = d
	}
	return cols
}

// rowOrder64 is the VPERMPD immediate that puts the lanes of a float64 block of 4
// columns (rows 0 2 1 3 4 6 5 7, loadCols) back in row order before the store.
const rowOrder64 = 0xD8

// loadCols loads rows 4h..4h+3 of the block of input sl (half h of the block's
// lanes) and returns its columns, widened to float64, one register each: a 4x4
// transposition in 128-bit (float32) or 256-bit (float64) registers, for 3 columns
// a gather of each column from three loads, for 2 columns a 4x2 transposition.
func (avx2) loadCols(g *gen, sl string, h int) []Op {
	n, e := rowStart(g)
	Commentf("Rows %d-%d of %s, transposed into its %d columns.", 4*h, 4*h+3, sl, n)
	sz := g.k.Type.Size()
	row := func(r int) Mem {
		return Mem{Base: g.ptr[sl], Index: e, Scale: uint8(sz), Disp: sz * n * (kernel.Lanes*g.blk + 4*h + r)}
	}
	cols := make([]Op, n)
	switch {
	case n == 3:
		// The 12 elements of the 4 rows a, b, c, d in three registers: L0 = a0 a1
		// a2 b0, L1 = b1 b2 c0 c1, L2 = c2 d0 d1 d2. Each column has its
		// elements at different positions of the three: two blends gather them,
		// one in-register permutation puts them in row order.
		at := func(k int) Mem {
			return Mem{Base: g.ptr[sl], Index: e, Scale: uint8(sz), Disp: sz * (n*(kernel.Lanes*g.blk+4*h) + 4*k)}
		}
		var l [3]reg.VecVirtual
		for k := range l {
			if g.k.Type == kernel.F32 {
				l[k] = XMM()
				VMOVUPS(at(k), l[k])
			} else {
				l[k] = YMM()
				VMOVUPD(at(k), l[k])
			}
		}
		// For column c: the register whose positions are taken first, the
		// blend immediates (from the second, then the third register), and the
		// permutation, as positions: the element of row r is at position
		// perm[r].
		type gather struct {
			first, second, third int
			m1, m2               uint8
			perm                 [4]uint8
		}
		gs := [3]gather{
			{0, 1, 2, 0b0100, 0b0010, [4]uint8{0, 3, 2, 1}}, // a0 d0 c0 b0 -> a0 b0 c0 d0
			{1, 0, 2, 0b0010, 0b0100, [4]uint8{1, 0, 3, 2}}, // b1 a1 d1 c1
			{2, 1, 0, 0b0010, 0b0100, [4]uint8{2, 1, 0, 3}}, // c2 b2 a2 d2
		}
		for c, gt := range gs {
			imm := gt.perm[0] | gt.perm[1]<<2 | gt.perm[2]<<4 | gt.perm[3]<<6
			if g.k.Type == kernel.F32 {
				t, u := XMM(), XMM()
				VBLENDPS(U8(gt.m1), l[gt.second], l[gt.first], t)
				VBLENDPS(U8(gt.m2), l[gt.third], t, u)
				VPERMILPS(U8(imm), u, u)
				w := YMM()
				VCVTPS2PD(u, w)
				cols[c] = w
				continue
			}
			t, u := YMM(), YMM()
			VBLENDPD(U8(gt.m1), l[gt.second], l[gt.first], t)
			VBLENDPD(U8(gt.m2), l[gt.third], t, u)
			VPERMPD(U8(imm), u, u)
			cols[c] = u
		}
		return cols
	case n == 2 && g.k.Type == kernel.F32:
		lo, hi := XMM(), XMM()
		VMOVUPS(row(0), lo)                       // r0c0 r0c1 r1c0 r1c1
		VMOVUPS(row(2), hi)                       // r2c0 r2c1 r3c0 r3c1
		for c, imm := range []uint8{0x88, 0xDD} { // elements 0, 2 (1, 3) of each
			d := XMM()
			VSHUFPS(U8(imm), hi, lo, d)
			w := YMM()
			VCVTPS2PD(d, w)
			cols[c] = w
		}
		return cols
	case n == 2:
		a, b := YMM(), YMM()
		VMOVUPD(row(0), a) // r0c0 r0c1 | r1c0 r1c1
		VMOVUPD(row(2), b) // r2c0 r2c1 | r3c0 r3c1
		t0, t1 := YMM(), YMM()
		VPERM2F128(U8(0x20), b, a, t0) // r0c0 r0c1 | r2c0 r2c1
		VPERM2F128(U8(0x31), b, a, t1) // r1c0 r1c1 | r3c0 r3c1
		c0, c1 := YMM(), YMM()
		VUNPCKLPD(t1, t0, c0) // r0c0 r1c0 | r2c0 r3c0
		VUNPCKHPD(t1, t0, c1) // r0c1 r1c1 | r2c1 r3c1
		cols[0], cols[1] = c0, c1
		return cols
	case g.k.Type == kernel.F32:
		var r [4]reg.VecVirtual
		for i := range r {
			r[i] = XMM()
			VMOVUPS(row(i), r[i])
		}
		t0, t1, t2, t3 := XMM(), XMM(), XMM(), XMM()
		VUNPCKLPS(r[1], r[0], t0) // r0c0 r1c0 r0c1 r1c1
		VUNPCKHPS(r[1], r[0], t1) // r0c2 r1c2 r0c3 r1c3
		VUNPCKLPS(r[3], r[2], t2) // r2c0 r3c0 r2c1 r3c1
		VUNPCKHPS(r[3], r[2], t3) // r2c2 r3c2 r2c3 r3c3
		c := [4]reg.VecVirtual{XMM(), XMM(), XMM(), XMM()}
		VMOVLHPS(t2, t0, c[0]) // low halves: column 0
		VMOVHLPS(t0, t2, c[1]) // high halves: column 1
		VMOVLHPS(t3, t1, c[2])
		VMOVHLPS(t1, t3, c[3])
		for i := range cols {
			w := YMM()
			VCVTPS2PD(c[i], w)
			cols[i] = w
		}
		return cols
	}
	var r [4]reg.VecVirtual
	for i := range r {
		r[i] = YMM()
		VMOVUPD(row(i), r[i])
	}
	t0, t1, t2, t3 := YMM(), YMM(), YMM(), YMM()
	VUNPCKLPD(r[1], r[0], t0) // r0c0 r1c0 | r0c2 r1c2
	VUNPCKHPD(r[1], r[0], t1) // r0c1 r1c1 | r0c3 r1c3
	VUNPCKLPD(r[3], r[2], t2) // r2c0 r3c0 | r2c2 r3c2
	VUNPCKHPD(r[3], r[2], t3) // r2c1 r3c1 | r2c3 r3c3
	for i := range cols {
		d := YMM()
		src, imm := t0, uint8(0x20) // low 128-bit halves of t0 and t2: column 0
		other := t2
		switch i {
		case 1:
			src, other = t1, t3
		case 2:
			imm = 0x31 // high halves: column 2
		case 3:
			src, other, imm = t1, t3, 0x31
		}
		VPERM2F128(U8(imm), other, src, d)
		cols[i] = d
	}
	return cols
}
