package smoothl1

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gokernels/smoothl1/generated"
)

// TestRows holds RowSums, RowMeans and RowGrad to their definitions, on every
// implementation: each row gives exactly the bits of Sum and Mean over that row,
// and RowGrad those of GradElementwise with each row's upstream gradient repeated
// over the row; each row sum and mean is also within 1 ulp of the exact one.
// Column counts cover one partial block, exact blocks, several blocks and a
// stretch longer than RowGrad's buffer; special values sit in some rows.
func TestRows(t *testing.T) {
	testRows[float32](t)
	testRows[float64](t)
}

func testRows[T Float](t *testing.T) {
	r := newRand(12)
	for _, cols := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 100, 1000, 1500} {
		for _, rows := range []int{0, 1, 3, 17} {
			if cols*rows > 20000 {
				continue
			}
			n := rows * cols
			x, y := makeInputs[T](r, n, cols%2 == 1)
			g := makeWeights[T](r, "signed", rows)
			if rows == 17 && cols > 2 {
				x[cols+1] = T(math.NaN())          // row 1
				x[2*cols] = T(math.Inf(1))         // row 2
				y[5*cols+cols-1] = T(math.Inf(-1)) // row 5, last column
			}
			for _, l := range weightLosses(t)[:4] {
				name := fmt.Sprintf("%T cols=%d rows=%d %s", T(0), cols, rows, l)
				var want [3][]T
				for k, in := range eachImpl(t) {
					sums, means, grad := make([]T, rows), make([]T, rows), make([]T, n)
					RowSums(l, sums, x, y, cols)
					RowMeans(l, means, x, y, cols)
					RowGrad(l, grad, x, y, g, cols)
					for i := 0; i < rows; i++ {
						row := func(s []T) []T { return s[i*cols : (i+1)*cols] }
						if s := Sum(l, row(x), row(y)); !sameBits(sums[i], s) {
							t.Fatalf("%s %s: RowSums[%d] = %v, Sum of the row %v", name, in.name, i, sums[i], s)
						}
						if m := Mean(l, row(x), row(y)); !sameBits(means[i], m) {
							t.Fatalf("%s %s: RowMeans[%d] = %v, Mean of the row %v", name, in.name, i, means[i], m)
						}
					}
					ge := make([]T, n)
					for i := range ge {
						ge[i] = g[i/cols]
					}
					gw := make([]T, n)
					GradElementwise(l, gw, x, y, ge)
					for i := range gw {
						if !sameBits(grad[i], gw[i]) {
							t.Fatalf("%s %s: RowGrad[%d] = %v, GradElementwise %v", name, in.name, i, grad[i], gw[i])
						}
					}
					got := [3][]T{sums, means, grad}
					if k == 0 {
						want = got
						continue
					}
					for j := range got {
						for i := range got[j] {
							if !sameBits(got[j][i], want[j][i]) {
								t.Fatalf("%s: %s differs from generic in result %d [%d]", name, in.name, j, i)
							}
						}
					}
				}
				// The exact reference, per row, where the row is finite.
				for i := 0; i < rows; i++ {
					xs, ys := x[i*cols:(i+1)*cols], y[i*cols:(i+1)*cols]
					if s, ok := refSum(l, xs, ys, false); ok && ulps(want[0][i], s) > 1 {
						t.Errorf("%s: RowSums[%d] = %v, exact %v", name, i, want[0][i], s)
					}
					if m, ok := refSum(l, xs, ys, true); ok && ulps(want[1][i], m) > 1 {
						t.Errorf("%s: RowMeans[%d] = %v, exact %v", name, i, want[1][i], m)
					}
				}
			}
		}
	}
}

// TestRowsInPlace checks the aliasing RowSums and RowGrad allow: dst == x with one
// column, and RowGrad's dst == x or y.
func TestRowsInPlace(t *testing.T) {
	testRowsInPlace1[float32](t)
	testRowsInPlace1[float64](t)
	r := newRand(13)
	x, y := makeInputs[float64](r, 40, false)
	l := Loss{}
	want := make([]float64, 40)
	RowSums(l, want, x, y, 1)
	xc := append([]float64(nil), x...)
	RowSums(l, xc, xc, y, 1)
	for i := range want {
		if !sameBits(xc[i], want[i]) {
			t.Fatalf("RowSums in place [%d]: %v, want %v", i, xc[i], want[i])
		}
	}
	g := makeWeights[float64](r, "signed", 10)
	gw := make([]float64, 40)
	RowGrad(l, gw, x, y, g, 4)
	checkInPlaceOp(t, "RowGrad", x, y, gw, func(dst, x, y []float64) { RowGrad(l, dst, x, y, g, 4) })
	// One column: gradOut may be dst.
	g40 := makeWeights[float64](r, "signed", 40)
	RowGrad(l, gw, x, y, g40, 1)
	gc := append([]float64(nil), g40...)
	RowGrad(l, gc, x, y, gc, 1)
	for i := range gw {
		if !sameBits(gc[i], gw[i]) {
			t.Fatalf("RowGrad dst == gradOut [%d]: %v, want %v", i, gc[i], gw[i])
		}
	}
}

// testRowsInPlace1 holds RowSums and RowMeans of one column (the kernel RowSums1) with
// dst == x and dst == y to the out-of-place bits, on every implementation (both
// prefetch settings: eachImpl), for rows enough to run the AVX-512 loop copy that
// prefetches, and a tail.
func testRowsInPlace1[T Float](t *testing.T) {
	r := newRand(19)
	const n = 3*1024 + 5
	x, y := makeInputs[T](r, n, false)
	l, _ := Huber(0.5)
	for _, in := range eachImpl(t) {
		for _, mean := range []bool{false, true} {
			op := func(dst, x, y []T) {
				if mean {
					RowMeans(l, dst, x, y, 1)
				} else {
					RowSums(l, dst, x, y, 1)
				}
			}
			want := make([]T, n)
			op(want, x, y)
			checkInPlaceOp(t, fmt.Sprintf("%s %T RowSums/RowMeans (mean=%v) of one column", in.name, T(0), mean), x, y, want, op)
		}
	}
}

// rowPairs are (x, y) pairs that stress the per-row path of short rows: x - y
// overflowing float32, differences with a rounding error (the float64 two-sum),
// subnormal differences, squares that overflow or underflow, infinities, NaN and
// signed zeros.
var rowPairs = [][2]float64{
	{math.MaxFloat32, -math.MaxFloat32}, {3e38, -3e38}, {-math.MaxFloat32, 1e38},
	{1, 1e-17}, {1e300, -1e-300}, {1e16, -1}, {-0.1, 0.7}, {1 + 0x1p-52, -0x1p-60},
	{2 * math.SmallestNonzeroFloat64, math.SmallestNonzeroFloat64}, {0x1p-1022, 0x1.8p-1022},
	{2 * math.SmallestNonzeroFloat32, math.SmallestNonzeroFloat32}, {0x1p-126, -0x1p-149},
	{math.Inf(1), math.Inf(1)}, {math.Inf(1), math.Inf(-1)}, {math.Inf(-1), 1}, {1, math.Inf(1)},
	{math.NaN(), 1}, {0, math.NaN()}, {0, math.Copysign(0, -1)}, {math.Copysign(0, -1), 0},
	{1e200, 0}, {1e155, -1e154}, {1e-160, 0}, {math.MaxFloat64, -math.MaxFloat64}, {1e30, 1e30},
	// |x - y| exactly Ovf = 2^128 - 2^103, the float32 midpoint that rounds to +Inf
	// (an overflow), and the next float32 difference below it (none)
	{math.MaxFloat32, -0x1p103}, {-0x1p103, math.MaxFloat32}, {math.MaxFloat32, -0x1p102},
}

// TestRowsShort holds the per-row path of short rows (rows_short.go) to its
// definition: on every implementation, each row's RowSums and RowMeans are the bits
// of Sum and Mean called on that row there. Every column count from 1 to 16 (the
// path takes up to 8, the rest checks the switch-over) and a few longer; both
// types; losses with every branch of the parameter set-up (degenerate, huge, tiny,
// zero and infinite parameters, Huber); rows of ordinary values, of values at
// |x - y| = beta and a step either side, of special values, and of the pairs of
// rowPairs.
func TestRowsShort(t *testing.T) {
	testRowsShort[float32](t)
	testRowsShort[float64](t)
}

func testRowsShort[T Float](t *testing.T) {
	r := newRand(14)
	const rows = 47 // not a multiple of the rows per window
	colsList := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 24, 33}
	losses := append(testLosses(), weightLosses(t)...)
	if testing.Short() {
		colsList = []int{1, 2, 3, 4, 5, 7, 8, 9, 16}
	}
	for _, cols := range colsList {
		for _, l := range losses {
			beta := l.param()
			n := rows * cols
			x, y := make([]T, 0, n), make([]T, 0, n)
			for i := 0; i < rows; i++ {
				xs, ys := rowInputs[T](r, cols, beta, i)
				x, y = append(x, xs...), append(y, ys...)
			}
			name := fmt.Sprintf("%T cols=%d %s", T(0), cols, l)
			for _, in := range eachImpl(t) {
				checkRowsSum(t, name+" "+in.name, l, x, y, cols)
			}
		}
	}
}

// rowInputs returns row i of the rows of TestRowsShort (kind i mod 6): ordinary
// values, values at |x - y| = beta and a step either side, special values,
// stress pairs, few-bit values at spread exponents, and differences at ties.
func rowInputs[T Float](r *rand.Rand, cols int, beta float64, i int) (xs, ys []T) {
	switch i % 6 {
	case 0: // ordinary values
		xs, ys = makeInputs[T](r, cols, i%8 == 4)
	case 1: // at beta and a step either side
		xs, ys = randomInputs[T](r, cols, beta, false)
	case 2: // special values
		xs, ys = randomInputs[T](r, cols, beta, true)
	case 4: // few-bit values at spread exponents: sums with ties, where
		// the order of the additions shows in the rounded result
		xs, ys = make([]T, cols), make([]T, cols)
		for j := range xs {
			xs[j] = T(math.Ldexp(float64(1+r.IntN(4)), r.IntN(60)-30))
			if r.IntN(2) == 0 {
				ys[j] = T(math.Ldexp(float64(1+r.IntN(4)), r.IntN(60)-30))
			}
		}
	case 5: // differences B, B*(1 + 2^-24), B/2^24, B/2^53 and 0: sums at
		// a tie of float32 (float64) rounding, or off it, depending on
		// the order of the additions (for SmoothL1(0), where l = z)
		xs, ys = make([]T, cols), make([]T, cols)
		b := math.Ldexp(1, r.IntN(40)-20)
		for j := range xs {
			p := [][2]float64{{b, 0}, {-b, 0}, {b, -b * 0x1p-24}, {-b, b * 0x1p-24},
				{b * 0x1p-24, 0}, {b * 0x1p-53, 0}, {-b * 0x1p-53, 0}, {0, 0}}[r.IntN(8)]
			xs[j], ys[j] = T(p[0]), T(p[1])
		}
	case 3: // stress pairs among ordinary values
		xs, ys = makeInputs[T](r, cols, false)
		for j := range xs {
			if r.IntN(2) == 0 {
				p := rowPairs[r.IntN(len(rowPairs))]
				xs[j], ys[j] = T(p[0]), T(p[1])
			}
		}
	}
	return xs, ys
}

// TestRowsShortOrder holds the order of the additions of the per-row path of short
// rows to Sum's, through the result: rows of SmoothL1(0) (where a lane's l is the
// difference z itself) drawn from differences that make a sum land on a tie of the
// float32 rounding, or off it, depending on the order: B*(1 + 2^-24) (a float32
// midpoint), B/2^53, B/2^24, B and 0. For float64 the lanes' double-double sums
// hide the order from the result; TestRowsShortLanes holds them.
func TestRowsShortOrder(t *testing.T) {
	testRowsShortOrder[float32](t)
	testRowsShortOrder[float64](t)
}

func testRowsShortOrder[T Float](t *testing.T) {
	r := newRand(15)
	l := mustLoss(t, "smooth_l1", 0)
	const rows = 2000
	for cols := 1; cols <= 9; cols++ {
		x, y := make([]T, rows*cols), make([]T, rows*cols)
		for i := range x {
			b := math.Ldexp(1, r.IntN(20)-10)
			p := [][2]float64{{b, -b * 0x1p-24}, {b * 0x1p-53, 0}, {b * 0x1p-24, 0}, {b, 0}, {0, 0}}[r.IntN(5)]
			x[i], y[i] = T(p[0]), T(p[1])
			if r.IntN(2) == 0 {
				x[i], y[i] = -x[i], -y[i]
			}
		}
		for _, in := range eachImpl(t) {
			checkRowsSum(t, fmt.Sprintf("%T cols=%d %s", T(0), cols, in.name), l, x, y, cols)
		}
	}
}

// TestRowsShortLanes holds the lane sums of the per-row path of short rows that
// come from a Sum kernel call on a window of rows (tree64, tree32) to those of Sum
// itself: for each row of a window, the lanes added in its tree must be, bit for
// bit, what combine64 (pairwise for float32) makes of the kernel's lanes for that
// row alone. The double-double's low part and the float32 lane sums show the order
// of the additions that the rounded results of TestRowsShortOrder may hide. The
// count of quadratic elements must be the kernel's less its padding lanes where K > 0
// (finishSum64 reads it only there).
func TestRowsShortLanes(t *testing.T) {
	r := newRand(16)
	const n = generated.Lanes
	for _, in := range eachImpl(t) {
		for cols := 1; cols <= n; cols++ {
			per := n / cols
			for _, l := range append(testLosses(), weightLosses(t)...) {
				p64, ok64 := rowsDirect(l, false, cols)
				p32, ok32 := rowsDirect(l, true, cols)
				for range 20 {
					x, y := randomInputs[float64](r, per*cols, l.param(), r.IntN(4) == 0)
					if ok64 {
						var win, row acc64
						generated.SumF64Impl(in.id, p64, x, y, &win)
						h, lo, c := (*[n]float64)(win[:n]), (*[n]float64)(win[n:2*n]), (*[n]float64)(win[2*n:])
						for i := range per {
							gh, gl, gq := tree64(h, lo, c, i*cols, cols)
							generated.SumF64Impl(in.id, p64, x[i*cols:(i+1)*cols], y[i*cols:(i+1)*cols], &row)
							wh, wl := combine64(&row)
							wq := pairwise(row[2*n:]) - float64(n-cols)
							if !sameBits(gh, wh) || (finite(wh) && math.Float64bits(gl) != math.Float64bits(wl)) || (p64[generated.PK] > 0 && gq != wq) {
								t.Fatalf("%s float64 cols=%d %s row %d of %v, %v: tree64 (%v, %v, %v), combine64 of the row (%v, %v, %v)",
									in.name, cols, l, i, x, y, gh, gl, gq, wh, wl, wq)
							}
						}
					}
					if ok32 && cols > 4 { // (2 to 4 columns compute the lanes in Go: lane32; 1 takes RowSums1)
						x32, y32 := make([]float32, len(x)), make([]float32, len(y))
						for i := range x {
							x32[i], y32[i] = float32(x[i]), float32(y[i])
						}
						var win, row acc32
						generated.SumF32Impl(in.id, p32, x32, y32, &win)
						for i := range per {
							generated.SumF32Impl(in.id, p32, x32[i*cols:(i+1)*cols], y32[i*cols:(i+1)*cols], &row)
							for j, what := range []string{"q", "l"} {
								got := tree32((*[n]float64)(win[j*n:(j+1)*n]), i*cols, cols)
								want := pairwise(row[j*n : (j+1)*n])
								if math.Float64bits(got) != math.Float64bits(want) && !(got != got && want != want) {
									t.Fatalf("%s float32 cols=%d %s row %d of %v, %v: tree32 of %s %v, pairwise of the row %v",
										in.name, cols, l, i, x32, y32, what, got, want)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestRowsShortThreads holds the per-row paths of rows_short.go on several threads
// (the parallel threshold lowered to one chunk of elements) to the same path on one,
// bit for bit, and every row to Sum and Mean of the row: rows of several chunks,
// the last one short, rows of 1000 columns, and dst == x with one column. RowGrad
// the same, against GradElementwise with the rows' upstream gradients repeated.
func TestRowsShortThreads(t *testing.T) {
	testRowsShortThreads[float32](t)
	testRowsShortThreads[float64](t)
}

func testRowsShortThreads[T Float](t *testing.T) {
	rows := 3*chunkLen + 5
	l := mustLoss(t, "huber", 0.5)
	colsList, counts := []int{1, 3, 4, 8, 9}, threadCounts
	if raceEnabled { // the race detector's pass: fewer, for its time
		colsList, counts = []int{1, 3}, threadCounts[:2]
	} else if testing.Short() { // (under qemu the long form takes minutes)
		rows, colsList, counts = 2*chunkLen+5, []int{1, 4, 9}, threadCounts[:2]
	}
	// Long rows too: threads share out runs of rows of about chunkLen elements.
	colsList = append(colsList, 1000)
	for k, cols := range colsList {
		rows := rows
		if cols == 1000 {
			rows = 4*chunkLen/cols + 7 // 269 rows, 65 to a task
		}
		x, y, _ := boundaryInputs[T](rows*cols, []string{"finite", "inf", "ovf32", "nan"}[k%4], cols)
		var want [2][]T
		for _, mean := range []bool{false, true} {
			op := RowSums[T]
			if mean {
				op = RowMeans[T]
			}
			one := make([]T, rows)
			withThreads(1, chunkLen, func() { op(l, one, x, y, cols) })
			for i := range one {
				xs, ys := x[i*cols:(i+1)*cols], y[i*cols:(i+1)*cols]
				s := Sum(l, xs, ys)
				if mean {
					s = Mean(l, xs, ys)
				}
				if !sameBits(one[i], s) {
					t.Fatalf("%T cols=%d mean=%v: row %d = %v, Sum/Mean of the row %v", T(0), cols, mean, i, one[i], s)
				}
			}
			for _, n := range counts {
				got := make([]T, rows)
				withThreads(n, chunkLen, func() { op(l, got, x, y, cols) })
				checkSameBits(t, fmt.Sprintf("%T cols=%d mean=%v threads=%d", T(0), cols, mean, n), got, one)
			}
			want[b2i(mean)] = one
		}
		if cols == 1 { // dst == x
			xc := clone(x)
			withThreads(3, chunkLen, func() { RowSums(l, xc, xc, y, 1) })
			checkSameBits(t, fmt.Sprintf("%T in place", T(0)), xc, want[0])
		}
		// RowGrad: GradElementwise with each row's upstream gradient repeated (one
		// goroutine, the whole input at once), then RowGrad on one and on several.
		gradOut := make([]T, rows)
		for r := range gradOut {
			gradOut[r] = T(r%7) - 2.5 // zeros and signs among them
		}
		g := make([]T, rows*cols)
		for i := range g {
			g[i] = gradOut[i/cols]
		}
		ref := make([]T, rows*cols)
		withThreads(1, chunkLen, func() { GradElementwise(l, ref, x, y, g) })
		for _, n := range append([]int{1}, counts...) {
			got := make([]T, rows*cols)
			withThreads(n, chunkLen, func() { RowGrad(l, got, x, y, gradOut, cols) })
			checkSameBits(t, fmt.Sprintf("%T cols=%d RowGrad threads=%d", T(0), cols, n), got, ref)
		}
		xc := clone(x) // dst == x
		withThreads(3, chunkLen, func() { RowGrad(l, xc, xc, y, gradOut, cols) })
		checkSameBits(t, fmt.Sprintf("%T cols=%d RowGrad in place", T(0), cols), xc, ref)
		if cols == 1 { // dst == gradOut, which one column allows
			gc := clone(gradOut)
			withThreads(3, chunkLen, func() { RowGrad(l, gc, x, y, gc, cols) })
			checkSameBits(t, fmt.Sprintf("%T cols=%d RowGrad into gradOut", T(0), cols), gc, ref)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkRowsSum holds RowSums and RowMeans of x, y to Sum and Mean of each row, bit
// for bit, on the implementation in force.
func checkRowsSum[T Float](t *testing.T, name string, l Loss, x, y []T, cols int) {
	t.Helper()
	rows := len(x) / cols
	sums, means := make([]T, rows), make([]T, rows)
	RowSums(l, sums, x, y, cols)
	RowMeans(l, means, x, y, cols)
	for i := 0; i < rows; i++ {
		xs, ys := x[i*cols:(i+1)*cols], y[i*cols:(i+1)*cols]
		if s := Sum(l, xs, ys); !sameBits(sums[i], s) {
			t.Fatalf("%s: RowSums[%d] = %v (%#x), Sum of the row %v (%#x); row x = %v, y = %v",
				name, i, sums[i], math.Float64bits(float64(sums[i])), s, math.Float64bits(float64(s)), xs, ys)
		}
		if m := Mean(l, xs, ys); !sameBits(means[i], m) {
			t.Fatalf("%s: RowMeans[%d] = %v (%#x), Mean of the row %v (%#x); row x = %v, y = %v",
				name, i, means[i], math.Float64bits(float64(means[i])), m, math.Float64bits(float64(m)), xs, ys)
		}
	}
}

// TestRowKernels holds the row kernels (gen/kernel: RowSums1, RowSums2, RowMeans2,
// RowSums3, RowMeans3, RowSums4, RowMeans4) of every implementation to Sum and Mean
// over each row, bit for bit: the portable ones too (RowSums takes the float64 ones
// and RowSums1 on generic; the float32 ones of 2 to 4 columns only here, since
// generic keeps the per-row path for them, rowKernel). A kernel of 2 to 4 columns
// takes whole blocks of 8 rows: it must leave the rows after them alone; RowSums1
// (also RowMeans of one column) takes every row.
func TestRowKernels(t *testing.T) {
	for _, cols := range []int{1, 2, 3, 4} {
		testRowKernels[float32](t, cols)
		testRowKernels[float64](t, cols)
	}
}

func testRowKernels[T Float](t *testing.T, cols int) {
	r := newRand(17 + cols)
	rows, whole := 8*7+5, 8*7
	if cols == 1 {
		// RowSums1 has Elementwise's loops: rows enough for the AVX-512 loop copy
		// that prefetches (it stops 8 KiB before the end: 2048 float32 elements,
		// 1024 float64), which eachImpl runs too.
		rows = 3*1024 + 5
		whole = rows
	}
	for _, l := range append(testLosses(), weightLosses(t)...) {
		p, ok := rowsDirect(l, isF32[T](), cols)
		if !ok {
			continue
		}
		for rep := range 4 {
			x, y := make([]T, 0, rows*cols), make([]T, 0, rows*cols)
			for i := range rows {
				xs, ys := rowInputs[T](r, cols, l.param(), i+rep)
				x, y = append(x, xs...), append(y, ys...)
			}
			for _, mean := range []bool{false, true} {
				for _, in := range eachImpl(t) {
					name, id := in.name, in.id
					dst := make([]T, rows)
					for i := range dst {
						dst[i] = 12345
					}
					rowsKernel(id, p, dst, x, y, cols, mean) // (the rows after the whole blocks are left)
					for i := range rows {
						xs, ys := x[i*cols:(i+1)*cols], y[i*cols:(i+1)*cols]
						want := T(12345)
						switch {
						case i >= whole:
						case mean:
							want = Mean(l, xs, ys)
						default:
							want = Sum(l, xs, ys)
						}
						if !sameBits(dst[i], want) {
							t.Fatalf("%s %T cols=%d %s mean=%v: row %d = %v (%#x), want %v (%#x); row x = %v, y = %v",
								name, T(0), cols, l, mean, i, dst[i], math.Float64bits(float64(dst[i])), want, math.Float64bits(float64(want)), xs, ys)
						}
					}
				}
			}
		}
	}
}
