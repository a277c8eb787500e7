package smoothl1

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// specials64 are the values mixed into random inputs: signed zeros, subnormals, the
// largest finite values, infinities, NaN, and ordinary numbers.
var specials64 = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.5, 2, math.Inf(1), math.Inf(-1), math.NaN(),
	math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
	0x1p-1022, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-20, 3e-20, 1e30, -1e30,
}

// randomValue returns a random T: mostly normal numbers at a random scale, sometimes
// a special value, sometimes y's value shifted by exactly, just under or just over
// beta (when near is non-nil).
func randomValue[T Float](r *rand.Rand, specials bool) T {
	switch {
	case specials && r.IntN(8) == 0:
		return T(specials64[r.IntN(len(specials64))])
	case r.IntN(4) == 0:
		return T(r.NormFloat64() * math.Pow(10, float64(r.IntN(13)-6)))
	}
	return T(r.NormFloat64())
}

// randomInputs returns x and y of length n; some pairs are placed at |x - y| == beta
// and one float step either side of it.
func randomInputs[T Float](r *rand.Rand, n int, beta float64, specials bool) (x, y []T) {
	x, y = make([]T, n), make([]T, n)
	b := T(beta)
	for i := range x {
		x[i], y[i] = randomValue[T](r, specials), randomValue[T](r, specials)
		if r.IntN(6) == 0 && finite(b) && finite(y[i]) {
			x[i] = y[i] + b
			switch r.IntN(3) {
			case 1:
				x[i] = nextToward(x[i], -1)
			case 2:
				x[i] = nextToward(x[i], 1)
			}
		}
	}
	return x, y
}

// testLosses are the loss definitions the differential tests run: every branch of
// the parameter set-up, the degenerate scalar path included.
func testLosses() []Loss {
	var ls []Loss
	for _, b := range []float64{1, 0, 0.1, 3, 1e-30, 1e30, 1e-310, math.Inf(1)} {
		l, _ := SmoothL1(b)
		ls = append(ls, l)
	}
	for _, d := range []float64{1, 0.5, 7, 1e-30, 1e200, math.Inf(1)} {
		l, _ := Huber(d)
		ls = append(ls, l)
	}
	return ls
}

// results is everything the public operations return for one input.
type results[T Float] struct {
	elem, grad, gradElem, sumGrad, meanGrad []T
	sum, mean, sumF, meanF                  T
}

const guard = 16

// sentinel is a NaN with a payload no operation produces, for the guard bands.
func sentinel[T Float]() T {
	if isF32[T]() {
		return T(math.Float32frombits(0x7fa5a5a5))
	}
	return T(math.Float64frombits(0x7ff4a5a5a5a5a5a5))
}

// outBuf returns a slice of length n at offset off inside a buffer filled with the
// sentinel, and a function that reports writes outside it.
func outBuf[T Float](t testing.TB, n, off int) ([]T, func(what string)) {
	buf := make([]T, off+n+guard)
	s := sentinel[T]()
	for i := range buf {
		buf[i] = s
	}
	return buf[off : off+n : off+n], func(what string) {
		t.Helper()
		for i, v := range buf {
			if (i < off || i >= off+n) && !sameRaw(v, s) {
				t.Fatalf("%s: wrote outside dst: buf[%d] = %v (dst is buf[%d:%d])", what, i, v, off, off+n)
			}
		}
	}
}

func sameRaw[T Float](a, b T) bool {
	if isF32[T]() {
		return math.Float32bits(float32(a)) == math.Float32bits(float32(b))
	}
	return math.Float64bits(float64(a)) == math.Float64bits(float64(b))
}

// inBuf copies s to offset off of a fresh buffer, to test unaligned starts.
func inBuf[T Float](s []T, off int) []T {
	buf := make([]T, off+len(s)+guard)
	copy(buf[off:], s)
	return buf[off : off+len(s) : off+len(s)]
}

// runAll runs every operation on the current implementation, with outputs inside
// guard bands at offset off.
func runAll[T Float](t testing.TB, l Loss, x, y, g []T, gs T, off int) results[T] {
	n := len(x)
	var r results[T]
	out := func(f func(dst []T), what string) []T {
		dst, check := outBuf[T](t, n, off)
		f(dst)
		check(what)
		return append([]T(nil), dst...)
	}
	r.elem = out(func(d []T) { Elementwise(l, d, x, y) }, "Elementwise")
	r.grad = out(func(d []T) { Grad(l, d, x, y, gs) }, "Grad")
	r.gradElem = out(func(d []T) { GradElementwise(l, d, x, y, g) }, "GradElementwise")
	r.sumGrad = out(func(d []T) { r.sumF = SumAndGrad(l, d, x, y, gs) }, "SumAndGrad")
	r.meanGrad = out(func(d []T) { r.meanF = MeanAndGrad(l, d, x, y, gs) }, "MeanAndGrad")
	r.sum = Sum(l, x, y)
	r.mean = Mean(l, x, y)
	return r
}

// diffResults returns a description of the first difference in bits, or "".
func diffResults[T Float](a, b results[T]) string {
	for _, c := range []struct {
		name string
		a, b []T
	}{{"Elementwise", a.elem, b.elem}, {"Grad", a.grad, b.grad}, {"GradElementwise", a.gradElem, b.gradElem},
		{"SumAndGrad grad", a.sumGrad, b.sumGrad}, {"MeanAndGrad grad", a.meanGrad, b.meanGrad}} {
		for i := range c.a {
			if !sameBits(c.a[i], c.b[i]) {
				return fmt.Sprintf("%s[%d]: %v (%#x) vs %v (%#x)", c.name, i, c.a[i], ordered(c.a[i]), c.b[i], ordered(c.b[i]))
			}
		}
	}
	for _, c := range []struct {
		name string
		a, b T
	}{{"Sum", a.sum, b.sum}, {"Mean", a.mean, b.mean}, {"SumAndGrad sum", a.sumF, b.sumF}, {"MeanAndGrad mean", a.meanF, b.meanF}} {
		if !sameBits(c.a, c.b) {
			return fmt.Sprintf("%s: %v vs %v", c.name, c.a, c.b)
		}
	}
	return ""
}

// TestImplementationsAgree runs every operation on every implementation for random
// inputs (specials included) of every length 0 to 300 and some longer ones, starting at every offset 0
// to 15 elements into a larger slice, and requires the same bits from all of them,
// no write outside dst, and fused results equal to the plain ones.
func TestImplementationsAgree(t *testing.T) {
	testAgree[float32](t)
	testAgree[float64](t)
}

func testAgree[T Float](t *testing.T) {
	impls := Implementations()
	defer SetImplementation("")
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
				for k, impl := range impls {
					SetImplementation(impl)
					got := runAll(t, l, x, y, g, gs, off)
					if !sameBits(got.sum, got.sumF) || !sameBits(got.mean, got.meanF) {
						t.Fatalf("%s %s n=%d: fused forward differs: Sum %v SumAndGrad %v, Mean %v MeanAndGrad %v", impl, l, n, got.sum, got.sumF, got.mean, got.meanF)
					}
					for i := range got.grad { // docs/SEMANTICS.md: SumAndGrad's gradient is Grad's
						if !sameBits(got.grad[i], got.sumGrad[i]) {
							t.Fatalf("%s %s n=%d: SumAndGrad gradient [%d] = %v, Grad %v", impl, l, n, i, got.sumGrad[i], got.grad[i])
						}
					}
					if k == 0 {
						want = got
						continue
					}
					if d := diffResults(want, got); d != "" {
						t.Fatalf("%T %s n=%d off=%d: %s differs from %s: %s", T(0), l, n, off, impl, impls[0], d)
					}
				}
			}
		}
	}
}
