package kernel

// This file describes the row families RowSums4 and RowMeans4, RowSums3 and
// RowMeans3, RowSums2 and RowMeans2: RowSums and RowMeans of rows of 4 columns
// (boxes), 3 (points in space) and 2 (points in the plane), one row per lane; and
// RowSums1, rows of one column (below, before init). Their
// canonical order is not their own: it is Sum's for a row of 4 (3, 2) elements, so
// that RowSums gives each row the bits of Sum over that row (the root package's
// contract). Sum on 4 elements is one partial block: element c in lane c, padding
// lanes of x = y = 0, every accumulator from zero, one step; then the root package
// adds the lanes pairwise and finishes. These kernels compute the same per row, with
// the row's 4 (3, 2) elements in 4 (3, 2) values of one lane:
//
//	for each column c: the difference of x[c] and y[c] as Sum's kernel forms it,
//	               and what Sum's step from zero accumulators leaves in the
//	               lane, written as that value: float32 q = w*w and l = z - w
//	               (the step's fma(w, w, +0) and +0 + (z - w): w and z - w are
//	               >= +0 or NaN, so adding +0 changes nothing); float64 h = hi, l
//	               = lo and the count 1 or 0 (the step's h = 0 + hi, and l = (err
//	               + lo) + 0 with err = 0 - (hi - hi) = +0 and lo never -0, for a
//	               finite hi; for hi = +Inf or NaN the step's l is NaN where this
//	               l may not be, but then the row's hi is +Inf or NaN and the
//	               finish never reads its l)
//	tree:          ((0+1)+(2+3)) over the columns (3 columns: (0+1)+2; 2: 0+1), as the root package's pairwise
//	               (float32) or combine64 (float64, addDD: TwoSum of the h parts,
//	               the l parts and the error added). The padding lanes of Sum's
//	               block drop out: their values are +0, the lane sums are >= +0
//	               or NaN, and adding +0 changes none of them (rows_short.go in
//	               the root package says why in full).
//	finish:        finishSum32 or finishSum64 of the root package, operation for
//	               operation, their branches as selects: both sides are computed
//	               and the one the scalar code takes is kept, so the bits are the
//	               same. RowMeans4 divides by RowDiv = 4 as the mean's finish
//	               does (ddDiv for float64).
//
// Some float64 additions are written x*1 + y (addM, subM; the kernel's builder.m),
// as in Sum's kernels: the same rounding, on the multiply-add units, where the
// adders are the busier ones.
//
// The float32 finish adds the loss of an element whose x - y overflowed float32
// where the largest z of the row is at least Ovf, which is finishSum32's test
// (overflows32) without the sums' pre-check: the pre-check holds wherever an
// element overflows (the package doc's Float32 overflow), and a NaN z, which max
// may drop, makes the row's sum NaN either way.
//
// RowSums1 is a row of one column per element: no tree, the lane's values finished
// as above. It has Elementwise's shape (family.go). RowMeans of one column takes the
// same kernel, as the division by RowDiv = 1 changes no bit: float32 s/1 is s; for
// float64, ddDiv by 1 gives qd = q, rd = fma(-q, 1, q) + r = +0 + r, and qd + rd =
// q + r but where r = -0 and q = -0 (q + r is then -0, q + rd +0), and q is never
// -0: hi >= +0 (or NaN), Di > 0. (Where q overflows, both are NaN; NaN payloads are
// not part of the promise.) TestRowsShort holds RowMeans of one column to Mean.
func init() {
	body[RowSums1] = func(b *builder, t Type, _ diff) {
		if t == F32 {
			b.rows32(1, false)
		} else {
			b.m = true
			b.rows64(1, false)
		}
	}
	for _, f := range Families {
		mean, cols := f.Info().Mean, f.Info().Cols
		if cols == 0 {
			continue
		}
		body[f] = func(b *builder, t Type, _ diff) {
			if t == F32 {
				b.rows32(cols, mean)
			} else {
				b.m = true
				b.rows64(cols, mean)
			}
		}
	}
}

// column builds the difference of column c.
func (b *builder) column(t Type, c int) diff {
	b.col = c
	d := b.difference(t, false)
	b.col = 0
	return d
}

// rows32 is the float32 sum (mean) of a row of cols (1 to 4) columns: Sum's lane
// values of each column, added in the pairwise tree, and finishSum32.
func (b *builder) rows32(cols int, mean bool) {
	var q, l, z [4]int
	for c := range cols {
		d := b.column(F32, c)
		w := b.clampK(d)
		q[c], l[c], z[c] = b.named("q", b.mul(w, w)), b.named("zw", b.sub(d.z, w)), d.z
	}
	qs, ls, zmax := q[0], l[0], z[0] // one column: the lane itself
	if cols > 1 {
		qs = b.named("qs", b.add(q[0], q[1]))
		ls = b.named("ls", b.add(l[0], l[1]))
		zmax = b.named("zmax", b.max(z[0], z[1]))
	}
	switch cols {
	case 4:
		qs = b.named("qs", b.add(qs, b.add(q[2], q[3])))
		ls = b.named("ls", b.add(ls, b.add(l[2], l[3])))
		zmax = b.named("zmax", b.max(zmax, b.max(z[2], z[3])))
	case 3:
		// (0+1)+(2+pad): the padding lane's +0 drops out.
		qs = b.named("qs", b.add(qs, q[2]))
		ls = b.named("ls", b.add(ls, l[2]))
		zmax = b.named("zmax", b.max(zmax, z[2]))
	}
	bb := b.param("B")
	// s = Ah*q; s += B*l where l != 0 (B may be +Inf where l = 0).
	s := b.named("s", b.mul(b.param("Ah"), qs))
	s = b.named("s", b.sel(b.ne(ls, b.param("Zero")), b.add(s, b.mul(bb, ls)), s))
	// An element whose x - y overflowed: the loss at z = +Inf.
	s = b.named("s", b.sel(b.named("ovf", b.le(b.param("Ovf"), zmax)), b.add(s, b.param("BInf")), s))
	if mean {
		s = b.div(s, b.param("RowDiv"))
	}
	b.store("dst", s)
}

// addDD is the root package's addDD: TwoSum of the h parts, the l parts added and
// the error of h added to them. (Fast2Sum on the larger and the smaller h, as Sum's
// step does, gives the same error in one operation less on AVX-512, but the
// portable Go kernels take a max and a min through masks: generic float64 rows were
// 10% slower with it.)
func (b *builder) addDD(h0, l0, h1, l1 int) (h, l int) {
	s, e := b.twoSum(h0, h1)
	return s, b.addA(b.addA(l0, l1), e)
}

// rows64 is the float64 sum (mean) of a row of cols (1 to 4) columns: Sum's lane
// values of each column, added in combine64's tree, and finishSum64.
func (b *builder) rows64(cols int, mean bool) {
	// Each pair of columns is added as soon as it is built, which keeps fewer
	// values live (the order of the additions is the tree's all the same). The
	// count of quadratic elements runs from column to column: whole numbers up to
	// 4, added exactly in any order (a select of an addition: one masked addition
	// where the ISA has them).
	quad := -1
	lane := func(c int) (h, l int) {
		d := b.column(F64, c)
		h, l = b.term64(d)
		if quad < 0 {
			quad = b.sel(d.m, b.param("One"), b.param("Zero"))
		} else {
			quad = b.sel(d.m, b.addA(quad, b.param("One")), quad)
		}
		quad = b.named("n", quad)
		return h, l
	}
	pair := func(c int) (h, l int) {
		h0, l0 := lane(c)
		h1, l1 := lane(c + 1)
		return b.addDD(h0, l0, h1, l1)
	}
	var hi, lo int
	if cols == 1 {
		hi, lo = lane(0) // one column: the lane itself
	} else {
		hi, lo = pair(0)
	}
	switch cols {
	case 4:
		h23, l23 := pair(2)
		hi, lo = b.addDD(hi, lo, h23, l23)
	case 3:
		// (0+1)+(2+pad): addDD of a lane and a padding lane (0, 0) is the lane for
		// a finite h; for h = +Inf or NaN the row's hi is too, and lo is not read.
		h2, l2 := lane(2)
		hi, lo = b.addDD(hi, lo, h2, l2)
	}
	hi, lo, quad = b.named("hi", hi), b.named("lo", lo), b.named("quad", quad)
	lin := b.named("lin", b.sub(b.param("RowCols"), quad))
	// Where lin > 0 (and K > 0: RowCols is 0 for K = 0), subtract lin*K*K as ch + cl.
	kh, kl := b.param("KKh"), b.param("KKl")
	ch := b.named("ch", b.mul(lin, kh))
	cl := b.named("cl", b.addA(b.fms(lin, kh, ch), b.mul(lin, kl)))
	//
	// finishSum64 takes hi - ch where hi is +Inf or NaN, and TwoSum(hi, -ch)
	// elsewhere. Both sides need no select here:
	//   - hi: TwoSum's sum hi + (-ch) is hi - ch, bit for bit (IEEE 754 defines the
	//     difference so; where lin > 0, ch is not NaN, so no NaN's sign can tell
	//     the two apart);
	//   - lo: where hi is +Inf or NaN, so is the corrected hi, and the store below
	//     takes q (nf), which does not read lo.
	inf := b.param("Inf")
	negch := b.named("negch", b.xor(ch, b.param("NegZero")))
	s, e := b.twoSum(hi, negch)
	corr := b.named("corr", b.lt(b.param("Zero"), lin))
	hi = b.named("hi", b.sel(corr, s, hi))
	lo = b.named("lo", b.sel(corr, b.addA(b.subA(lo, cl), e), lo))
	// Divide by D (Di + Dl); the mean then by RowDiv (ddDiv).
	di := b.param("Di")
	q := b.named("q", b.mul(hi, di))
	notFin := q // where hi is +Inf or NaN: lo is meaningless
	r := b.named("r", b.addA(b.fms(hi, di, q), b.fma(hi, b.param("Dl"), b.mul(lo, di))))
	res := b.add(q, r)
	if mean {
		dv := b.param("RowDiv")
		notFin = b.named("nf", b.div(notFin, dv))
		qd := b.named("qd", b.div(q, dv))
		rd := b.named("rd", b.addA(b.fma(b.named("negqd", b.xor(qd, b.param("NegZero"))), dv, q), r))
		res = b.add(qd, b.div(rd, dv))
	}
	b.store("dst", b.sel(b.lt(hi, inf), res, notFin))
}
