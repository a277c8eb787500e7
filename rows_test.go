package smoothl1

import (
	"fmt"
	"math"
	"testing"
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
