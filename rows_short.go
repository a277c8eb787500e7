package smoothl1

import (
	"math"

	"github.com/gokernels/smoothl1/generated"
)

// The per-row paths of RowSums and RowMeans for rows of at most chunkLen columns
// (one chunk each), without Sum's per-call costs for every row: the set-up, the
// checks and the parameters are hoisted out of the row loop. Rows of more than Lanes
// columns make Sum's kernel call and finish for each row. Shorter rows share kernel
// calls, as follows.
//
// A row of n <= Lanes elements is one partial block of the canonical order
// (gen/kernel): element j goes to lane j, lanes n..Lanes-1 get the padding x = y =
// 0, every lane starts from zero, and a lane's values after its one step depend on
// its element alone, not on its position. The lanes are then added in the pairwise
// tree ((0+1)+(2+3))+((4+5)+(6+7)) and finished. This path computes the same lane
// values for many rows at once: the Sum kernel of the implementation in use, called
// on a window of Lanes/n whole rows, leaves each element's values in its own lane
// (the float32 path of 2 to 4 columns computes them in Go instead, with the
// kernel's operations: lane32). Each row's lanes are then added in the same tree
// and finished by the same code as Sum's (finishSum64, finishSum32). Degenerate
// parameters, float64 slowSum and rows longer than a chunk keep the per-row Sum
// (rowSums).
//
// The padding lanes drop out of the tree, which is why a row's lanes may sit
// anywhere in the window: every lane value and partial sum is >= +0 or NaN, never
// -0 (z = |x - y|, K and P >= 0, and the kernels' errors are sums of differences a
// - b of such values, a - a being +0), and a padding lane's values are +0 (its count
// aside). So adding a padding lane's +0 changes nothing, and combine64's addDD of a
// lane (h, l) and a padding lane (0, 0) is (h, l) for a finite h; where h is +Inf or
// NaN the row's sum is too, and finishSum64 then never reads l. The counts of
// quadratic elements are small integers, added exactly in any order, and a padding
// lane (z = 0) is quadratic exactly where K > 0, the only case where finishSum64
// reads lin: lin = Lanes - quad is then the number of the row's own elements that
// are not quadratic.
//
// Rows of 2, 3 and 4 columns (points, boxes) go to the row kernels (gen/kernel/rows.go),
// which do all of the above for 8 rows at a time in vector lanes, one row per lane,
// where that is the faster path (rowKernel); the rows after their last whole block
// of 8 take the paths below. Rows of one column go to RowSums1 on every
// implementation, which takes every row (so the window path of float64 below never
// sees one column).
//
// TestRowsShort and TestRowsShortOrder hold this path to Sum and Mean called per
// row, bit for bit, and TestRowsShortLanes its lane sums from a window to those of
// the Sum kernel on each row alone.

// rowsDirect reports whether RowSums and RowMeans of loss l on rows of cols columns
// take the paths of this file (rows of at most chunkLen columns: one chunk each),
// and returns the parameters.
func rowsDirect(l Loss, single bool, cols int) (p *generated.Params, ok bool) {
	if cols > chunkLen {
		return nil, false
	}
	p, deg := setup(l, single)
	if deg || (!single && l.params().slowSum) {
		return nil, false
	}
	return p, true
}

// rowKernel reports whether RowSums and RowMeans of rows of cols (1 to 4) columns
// take the row kernels (gen/kernel: RowSums1, RowSums2, RowSums3, RowSums4, ...) on
// implementation id: every assembly implementation has its own, and the portable
// float64 kernels beat the per-row path; the portable float32 kernels of 2 to 4
// columns do not (0.6x of its speed), so generic float32 keeps the per-row path
// below for them. docs/tuning.md has the measurements.
func rowKernel(id int, single bool, cols int) bool {
	return id != generated.ImplGeneric || !single || cols == 1
}

// rowsKernel runs the row kernel of cols (1 to 4) columns (RowMeans2 to RowMeans4
// if mean) of implementation id on the whole blocks of rows and returns the rows
// after them; RowSums1, for one column, takes every row (RowMeans too:
// gen/kernel/rows.go) and returns none. (A switch, not a function value: through
// one, rp would escape to the heap.)
func rowsKernel[T Float](id int, p *generated.Params, dst, x, y []T, cols int, mean bool) (dstRest, xRest, yRest []T) {
	n := len(dst) &^ (generated.Lanes - 1)
	if cols == 1 {
		n = len(dst)
	}
	if n > 0 {
		rp := rowParams(p, cols)
		d, xs, ys := dst[:n], x[:cols*n], y[:cols*n]
		if isF32[T]() {
			d, xs, ys := f32(d), f32(xs), f32(ys)
			switch {
			case cols == 1:
				generated.RowSums1F32Impl(id, &rp, d, xs, ys)
			case cols == 2 && mean:
				generated.RowMeans2F32Impl(id, &rp, d, xs, ys)
			case cols == 2:
				generated.RowSums2F32Impl(id, &rp, d, xs, ys)
			case cols == 3 && mean:
				generated.RowMeans3F32Impl(id, &rp, d, xs, ys)
			case cols == 3:
				generated.RowSums3F32Impl(id, &rp, d, xs, ys)
			case mean:
				generated.RowMeans4F32Impl(id, &rp, d, xs, ys)
			default:
				generated.RowSums4F32Impl(id, &rp, d, xs, ys)
			}
		} else {
			d, xs, ys := f64(d), f64(xs), f64(ys)
			switch {
			case cols == 1:
				generated.RowSums1F64Impl(id, &rp, d, xs, ys)
			case cols == 2 && mean:
				generated.RowMeans2F64Impl(id, &rp, d, xs, ys)
			case cols == 2:
				generated.RowSums2F64Impl(id, &rp, d, xs, ys)
			case cols == 3 && mean:
				generated.RowMeans3F64Impl(id, &rp, d, xs, ys)
			case cols == 3:
				generated.RowSums3F64Impl(id, &rp, d, xs, ys)
			case mean:
				generated.RowMeans4F64Impl(id, &rp, d, xs, ys)
			default:
				generated.RowSums4F64Impl(id, &rp, d, xs, ys)
			}
		}
	}
	return dst[n:], x[cols*n:], y[cols*n:]
}

// rowParams returns the parameters p of a row family's kernel (gen/kernel:
// RowSums4, RowMeans4, RowSums3, ...) for rows of cols columns: RowCols, the
// columns where K > 0 (finishSum64 subtracts K*K per linear element only there),
// RowDiv, the divisor of the means, cols; KKh + KKl, K*K exactly, as finishSum64
// forms it; and BInf, the loss at z = +Inf, as finishSum32 forms it.
func rowParams(p *generated.Params, cols int) generated.Params {
	rp := *p
	rp[generated.PRowCols], rp[generated.PRowDiv] = 0, float64(cols)
	k := rp[generated.PK]
	if k > 0 {
		rp[generated.PRowCols] = float64(cols)
	}
	rp[generated.PKKh] = float64(k * k)
	rp[generated.PKKl] = math.FMA(k, k, -rp[generated.PKKh])
	rp[generated.PBInf] = float64(rp[generated.PB] * float64(math.Inf(1)-rp[generated.PH]))
	return rp
}

// lane32 is one step of the float32 Sum kernel from zero accumulators on one
// element: its lane's q and l. The kernel's q = FMA(w, w, 0) is w*w rounded, the
// product being >= +0; its l = 0 + (z - w) is z - w, which is not -0. Its w = K >
// z ? z : K is min(z, K) (branch-free: MINSD), but for a NaN z, where min gives NaN
// and the kernel K: then l is NaN either way, and so is the row's sum (B*l with B >
// 0); NaN payloads are not part of the promise.
func lane32(k float64, x, y float32) (q, l float64) {
	z := math.Abs(float64(x) - float64(y))
	w := min(z, k)
	return float64(w * w), z - w
}

// rowsShort32 is RowSums (RowMeans if mean) of float32 rows of cols <= chunkLen
// columns, with the kernels of implementation id.
func rowsShort32(id int, p *generated.Params, dst, x, y []float32, cols int, mean bool) {
	if cols <= 4 && rowKernel(id, true, cols) {
		dst, x, y = rowsKernel(id, p, dst, x, y, cols, mean) // the last rows below
	}
	if id == generated.ImplAVX512 && cols < avx512MinSum32 {
		id = generated.ImplAVX2 // as sum32 does for short inputs
	}
	k := p[generated.PK]
	switch {
	case cols > generated.Lanes:
		// Longer rows: Sum's kernel call and finish32 for each row, without Sum's
		// per-call set-up. (The kernel writes every lane of acc.)
		var acc acc32
		for r := range dst {
			xs, ys := x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols]
			generated.SumF32Impl(id, p, xs, ys, &acc)
			q, l := pairwise(acc[:generated.Lanes]), pairwise(acc[generated.Lanes:])
			ovf := (q >= ovfQ || l >= ovfL) && overflows32(p, xs, ys)
			dst[r] = float32(finishSum32(p, q, l, mean, cols, ovf))
		}
		return
	}
	switch cols { // (one column: RowSums1 above took every row)
	case 2:
		for r := range dst {
			xs, ys := x[2*r:2*r+2], y[2*r:2*r+2]
			q0, l0 := lane32(k, xs[0], ys[0])
			q1, l1 := lane32(k, xs[1], ys[1])
			q, l := q0+q1, l0+l1
			ovf := (q >= ovfQ || l >= ovfL) && overflows32(p, xs, ys)
			dst[r] = float32(finishSum32(p, q, l, mean, 2, ovf))
		}
	case 3:
		for r := range dst {
			xs, ys := x[3*r:3*r+3], y[3*r:3*r+3]
			q0, l0 := lane32(k, xs[0], ys[0])
			q1, l1 := lane32(k, xs[1], ys[1])
			q2, l2 := lane32(k, xs[2], ys[2])
			q, l := (q0+q1)+q2, (l0+l1)+l2
			ovf := (q >= ovfQ || l >= ovfL) && overflows32(p, xs, ys)
			dst[r] = float32(finishSum32(p, q, l, mean, 3, ovf))
		}
	case 4:
		for r := range dst {
			xs, ys := x[4*r:4*r+4], y[4*r:4*r+4]
			q0, l0 := lane32(k, xs[0], ys[0])
			q1, l1 := lane32(k, xs[1], ys[1])
			q2, l2 := lane32(k, xs[2], ys[2])
			q3, l3 := lane32(k, xs[3], ys[3])
			q, l := (q0+q1)+(q2+q3), (l0+l1)+(l2+l3)
			ovf := (q >= ovfQ || l >= ovfL) && overflows32(p, xs, ys)
			dst[r] = float32(finishSum32(p, q, l, mean, 4, ovf))
		}
	default: // 5 to 8 columns
		var acc acc32
		q, l := (*[generated.Lanes]float64)(acc[:generated.Lanes]), (*[generated.Lanes]float64)(acc[generated.Lanes:])
		per := generated.Lanes / cols // rows per window
		for r := 0; r < len(dst); r += per {
			nr := min(per, len(dst)-r)
			generated.SumF32Impl(id, p, x[r*cols:(r+nr)*cols], y[r*cols:(r+nr)*cols], &acc)
			for i := range nr {
				o := i * cols
				xs, ys := x[(r+i)*cols:(r+i+1)*cols], y[(r+i)*cols:(r+i+1)*cols]
				qs, ls := tree32(q, o, cols), tree32(l, o, cols)
				ovf := (qs >= ovfQ || ls >= ovfL) && overflows32(p, xs, ys)
				dst[r+i] = float32(finishSum32(p, qs, ls, mean, cols, ovf))
			}
		}
	}
}

// tree32 adds the lanes a[o:o+n] of one row of 5 to 8 columns in pairwise's tree,
// the padding lanes dropped.
func tree32(a *[generated.Lanes]float64, o, n int) float64 {
	s := (a[o] + a[o+1]) + (a[o+2] + a[o+3])
	switch n {
	case 5:
		return s + a[o+4]
	case 6:
		return s + (a[o+4] + a[o+5])
	case 7:
		return s + ((a[o+4] + a[o+5]) + a[o+6])
	}
	return s + ((a[o+4] + a[o+5]) + (a[o+6] + a[o+7]))
}

// tree64 adds the lane double-doubles h[o:o+n], l[o:o+n] of one row in
// combine64's tree, the padding lanes dropped, and the counts c[o:o+n].
func tree64(h, l, c *[generated.Lanes]float64, o, n int) (hi, lo, quad float64) {
	switch n {
	case 1:
		return h[o], l[o], c[o]
	case 2:
		hi, lo = addDD(h[o], l[o], h[o+1], l[o+1])
		return hi, lo, c[o] + c[o+1]
	}
	h01, l01 := addDD(h[o], l[o], h[o+1], l[o+1])
	if n == 3 {
		hi, lo = addDD(h01, l01, h[o+2], l[o+2])
		return hi, lo, (c[o] + c[o+1]) + c[o+2]
	}
	h23, l23 := addDD(h[o+2], l[o+2], h[o+3], l[o+3])
	hi, lo = addDD(h01, l01, h23, l23)
	quad = (c[o] + c[o+1]) + (c[o+2] + c[o+3])
	if n == 4 {
		return hi, lo, quad
	}
	h4, l4, q4 := h[o+4], l[o+4], c[o+4]
	switch n {
	case 6:
		h4, l4 = addDD(h4, l4, h[o+5], l[o+5])
		q4 += c[o+5]
	case 7:
		h4, l4 = addDD(h4, l4, h[o+5], l[o+5])
		h4, l4 = addDD(h4, l4, h[o+6], l[o+6])
		q4 += c[o+5] + c[o+6]
	case 8:
		h45, l45 := addDD(h4, l4, h[o+5], l[o+5])
		h67, l67 := addDD(h[o+6], l[o+6], h[o+7], l[o+7])
		h4, l4 = addDD(h45, l45, h67, l67)
		q4 += c[o+5] + c[o+6] + c[o+7]
	}
	hi, lo = addDD(hi, lo, h4, l4)
	return hi, lo, quad + q4
}

// rowsShort64 is RowSums (RowMeans if mean) of float64 rows of cols <= chunkLen
// columns, with the kernels of implementation id: for at most Lanes columns the
// lanes from the Sum kernel, one call per window of Lanes/cols rows.
func rowsShort64(id int, p *generated.Params, dst, x, y []float64, cols int, mean bool) {
	if cols <= 4 && rowKernel(id, false, cols) {
		dst, x, y = rowsKernel(id, p, dst, x, y, cols, mean) // the last rows below
	}
	var acc acc64
	if cols > generated.Lanes {
		// Longer rows (at most chunkLen columns): Sum's kernel call and finish64 for
		// each row, without Sum's per-call set-up. (The kernel writes every lane.)
		for r := range dst {
			generated.SumF64Impl(id, p, x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols], &acc)
			dst[r] = finish64(p, &acc, mean, cols)
		}
		return
	}
	h := (*[generated.Lanes]float64)(acc[:generated.Lanes])
	l := (*[generated.Lanes]float64)(acc[generated.Lanes : 2*generated.Lanes])
	c := (*[generated.Lanes]float64)(acc[2*generated.Lanes:])
	per := generated.Lanes / cols // rows per window
	for r := 0; r < len(dst); r += per {
		nr := min(per, len(dst)-r)
		generated.SumF64Impl(id, p, x[r*cols:(r+nr)*cols], y[r*cols:(r+nr)*cols], &acc)
		for i := range nr {
			hi, lo, quad := tree64(h, l, c, i*cols, cols)
			dst[r+i] = finishSum64(p, hi, lo, float64(cols)-quad, mean, cols)
		}
	}
}
