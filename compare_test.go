package smoothl1

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// Comparisons: ulp distances, equality with NaN and signed zeros, bit-for-bit
// comparison of every result of every operation (runAll, diffResults), in-place
// checks, and checks of panics.

// ulps returns the distance in units in the last place of T between a and b, with
// +0 and -0 equal; NaN against anything else is "infinitely" far.
func ulps[T Float](a, b T) uint64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxUint64
	}
	oa, ob := ordered(a), ordered(b)
	if oa > ob {
		return uint64(oa - ob)
	}
	return uint64(ob - oa)
}

// ordered maps a float to an integer that is monotonic in its value, adjacent floats
// being adjacent integers (-0 and +0 both map to 0).
func ordered[T Float](v T) int64 {
	if isF32[T]() {
		b := int64(math.Float32bits(float32(v)))
		if b&(1<<31) != 0 {
			return -(b &^ (1 << 31))
		}
		return b
	}
	b := math.Float64bits(float64(v))
	if b&(1<<63) != 0 {
		return -int64(b &^ (1 << 63))
	}
	return int64(b)
}

// same reports whether a and b are equal, NaN equal to NaN and +0 to -0.
func same[T Float](a, b T) bool { return a == b || (a != a && b != b) }

// sameBits reports whether a and b have the same bits, any NaN equal to any NaN.
func sameBits[T Float](a, b T) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	if isF32[T]() {
		return math.Float32bits(float32(a)) == math.Float32bits(float32(b))
	}
	return math.Float64bits(float64(a)) == math.Float64bits(float64(b))
}

// checkInPlaceOp runs f with dst == x and then dst == y (on copies of x and y) and
// requires the bits of want, the out-of-place result.
func checkInPlaceOp[T Float](t testing.TB, name string, x, y, want []T, f func(dst, x, y []T)) {
	t.Helper()
	for which, dstName := range []string{"x", "y"} {
		xc, yc := append([]T(nil), x...), append([]T(nil), y...)
		dst := xc
		if which == 1 {
			dst = yc
		}
		f(dst, xc, yc)
		for i := range want {
			if !sameBits(dst[i], want[i]) {
				t.Fatalf("%s in place (dst == %s) n=%d [%d]: %v, want %v", name, dstName, len(x), i, dst[i], want[i])
			}
		}
	}
}

// results is everything the public operations return for one input.
type results[T Float] struct {
	elem, grad, gradElem, sumGrad, meanGrad []T
	sum, mean, sumF, meanF                  T
}

func sameRaw[T Float](a, b T) bool {
	if isF32[T]() {
		return math.Float32bits(float32(a)) == math.Float32bits(float32(b))
	}
	return math.Float64bits(float64(a)) == math.Float64bits(float64(b))
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

func mustPanic(t *testing.T, want []string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, "smoothl1: ") {
			t.Fatalf("panic %v, want a message starting with smoothl1:", r)
		}
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("panic %q does not contain %q", msg, w)
			}
		}
	}()
	f()
}

// checkSameBits requires got[i] and want[i] to have the same bits for every i.
func checkSameBits[T Float](t testing.TB, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s [%d of %d]: %v, want %v", what, i, len(want), got[i], want[i])
		}
	}
}

func finite[T Float](v T) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
