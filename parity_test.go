package smoothl1

import (
	"math/rand/v2"
	"testing"
)

// TestImplementationsAgree runs every operation on every implementation for random
// inputs (specials included) of every length 0 to 300 and some longer ones, starting at every offset 0
// to 15 elements into a larger slice, and requires the same bits from all of them,
// no write outside dst, and fused results equal to the plain ones.
func TestImplementationsAgree(t *testing.T) {
	testAgree[float32](t)
	testAgree[float64](t)
}

func testAgree[T Float](t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	maxN := 300
	if testing.Short() {
		maxN = 80
	}
	type length struct {
		n        int
		specials bool
	}
	var ns []length
	for n := 0; n <= maxN; n++ {
		ns = append(ns, length{n, true})
	}
	// Long enough for the AVX-512 prefetching loops, which run while the input
	// goes on 8 KiB past the current blocks (from n = 1032 or 1040 for float64,
	// 2056 or 2064 for float32), then hand over to the loops without prefetches.
	// Each without special values, where some NaN or Inf would hide every other
	// difference in the sums, and with them, for the elementwise results.
	for _, n := range []int{1039, 1040, 1057, 2063, 2064, 2081, 4099} {
		ns = append(ns, length{n, false}, length{n, true})
	}
	for _, l := range testLosses() {
		for _, ln := range ns {
			n := ln.n
			offs := []int{n % 16}
			if n <= 20 || n%64 <= 1 || n == maxN {
				offs = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
			}
			x0, y0 := randomInputs[T](r, n, l.Param(), ln.specials)
			g0, _ := randomInputs[T](r, n, 1, true)
			gs := randomValue[T](r, false)
			for _, off := range offs {
				x, y, g := inBuf(x0, off), inBuf(y0, (off*7)%16), inBuf(g0, (off*3)%16)
				var want results[T]
				for k, in := range eachImpl(t) {
					got := runAll(t, l, x, y, g, gs, off)
					if !sameBits(got.sum, got.sumF) || !sameBits(got.mean, got.meanF) {
						t.Fatalf("%s %s n=%d: fused forward differs: Sum %v SumAndGrad %v, Mean %v MeanAndGrad %v", in.name, l, n, got.sum, got.sumF, got.mean, got.meanF)
					}
					for i := range got.grad { // docs/SEMANTICS.md: SumAndGrad's gradient is Grad's
						if !sameBits(got.grad[i], got.sumGrad[i]) {
							t.Fatalf("%s %s n=%d: SumAndGrad gradient [%d] = %v, Grad %v", in.name, l, n, i, got.sumGrad[i], got.grad[i])
						}
					}
					if k == 0 {
						want = got
						continue
					}
					if d := diffResults(want, got); d != "" {
						t.Fatalf("%T %s n=%d off=%d: %s differs from %s: %s", T(0), l, n, off, in.name, "generic", d)
					}
				}
			}
		}
	}
}
