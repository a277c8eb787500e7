package smoothl1

import (
	"math"
	"testing"

	"github.com/gokernels/smoothl1/generated"
)

// TestBoundaryIsLinear pins |x - y| == beta to the linear branch in the raw
// results: there both branches agree mathematically, so only exact values tell
// them apart. The lane sum must be exactly beta/2 (the linear value, exact) and the
// gradient exactly the scale times sign(d).
func TestBoundaryIsLinear(t *testing.T) {
	for _, beta := range []float64{0.1, 3, 0.7, 1e-3, 1.9} {
		l, _ := SmoothL1(beta)
		testBoundary[float32](t, l)
		testBoundary[float64](t, l)
	}
}

// rep returns n copies of v: 15 elements put a value in every lane of a full block
// and in lanes 0-6 of the masked tail.
func rep[T Float](v T) []T { return fill(v, 15) }

func testBoundary[T Float](t *testing.T, l Loss) {
	b := T(l.Param())
	half := 0.5 * float64(b)
	// Lanes 0-6 hold two elements (full block and tail), lane 7 one.
	wantLanes := [generated.Lanes]float64{2 * half, 2 * half, 2 * half, 2 * half, 2 * half, 2 * half, 2 * half, half}
	for _, in := range impls {
		if !usable(in) {
			continue
		}
		for _, sign := range []T{1, -1} {
			x, y := rep(sign*b), rep(T(0))
			if isF32[T]() {
				p, _ := setup(l, true)
				var acc [2 * generated.Lanes]float64
				generated.SumF32Impl(in.id, p, f32(x), f32(y), &acc)
				if [generated.Lanes]float64(acc[:generated.Lanes]) != wantLanes {
					t.Errorf("%s float32 %s at the boundary: lanes %v, want %v", in.name, l, acc[:generated.Lanes], wantLanes)
				}
				for k, m := range acc[generated.Lanes:] { // the largest |x - y| of each lane
					if m != float64(b) {
						t.Errorf("%s float32 %s at the boundary: largest z of lane %d = %v, want %v", in.name, l, k, m, b)
					}
				}
			} else {
				p, _ := setup(l, false)
				var acc [2 * generated.Lanes]float64
				generated.SumF64Impl(in.id, p, f64(x), f64(y), &acc)
				if [generated.Lanes]float64(acc[:generated.Lanes]) != wantLanes || [generated.Lanes]float64(acc[generated.Lanes:]) != ([generated.Lanes]float64{}) {
					t.Errorf("%s float64 %s at the boundary: lanes %v, want %v and zeros", in.name, l, acc, wantLanes)
				}
			}
			SetImplementation(in.name)
			d := make([]T, len(x))
			for _, op := range []string{"Grad", "SumAndGrad"} {
				if op == "Grad" {
					Grad(l, d, x, y, 3)
				} else {
					SumAndGrad(l, d, x, y, 3)
				}
				for i := range d {
					if d[i] != 3*sign {
						t.Errorf("%s %T %s at the boundary: %s[%d] = %v, want %v", in.name, T(0), l, op, i, d[i], 3*sign)
					}
				}
			}
			SetImplementation("")
		}
	}
}

// TestFloat32Overflow checks the float32 overflow of x - y, which PyTorch has and
// the float64 arithmetic of the float32 kernels emulates: MaxFloat32 - (-2^103) is
// exactly the rounding midpoint 2^128 - 2^103 and rounds to +Inf; one float32 step
// less and it rounds to MaxFloat32.
func TestFloat32Overflow(t *testing.T) {
	sl, _ := SmoothL1(1)
	hu, _ := Huber(2)
	big, _ := SmoothL1(math.MaxFloat32) // z - beta/2 stays finite unless z is +Inf
	huInf, _ := Huber(math.Inf(1))      // Inf*(Inf - Inf) is NaN only for infinite z
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	forEachImpl(t, func(t *testing.T, impl string) {
		for _, c := range []struct {
			x, y       float32
			loss, grad float32
			l          Loss
		}{
			{math.MaxFloat32, -0x1p103, float32(math.Inf(1)), 1, sl},
			{-0x1p103, math.MaxFloat32, float32(math.Inf(1)), -1, sl},
			{math.MaxFloat32, -0x1p103, float32(math.Inf(1)), 2, hu},
			{math.MaxFloat32, -(0x1p103 - 0x1p79), math.MaxFloat32, 1, sl},
			{math.MaxFloat32, -0x1p103, inf, 1, big},
			{math.MaxFloat32, -(0x1p103 - 0x1p79), 0x1p127, 1, big}, // exact 2^127 - 2^79
			{math.MaxFloat32, -0x1p103, nan, inf, huInf},
		} {
			x, y := rep(c.x), rep(c.y)
			d := make([]float32, len(x))
			Elementwise(c.l, d, x, y)
			for i := range d {
				if !same(d[i], c.loss) {
					t.Errorf("%s loss(%v, %v) [%d] = %v, want %v", c.l, c.x, c.y, i, d[i], c.loss)
				}
			}
			Grad(c.l, d, x, y, 1)
			for i := range d {
				if !same(d[i], c.grad) {
					t.Errorf("%s grad(%v, %v) [%d] = %v, want %v", c.l, c.x, c.y, i, d[i], c.grad)
				}
			}
			// The float32 Sum kernel leaves the overflow to its caller: the largest
			// |x - y| of every lane of a full block alone (8), then of the masked tail
			// alone (7), must be the exact float64 |x - y|, so that one cannot hide
			// the other.
			for _, n := range []int{8, 7} {
				p, _ := setup(c.l, true)
				var acc [2 * generated.Lanes]float64
				generated.SumF32Impl(int(current.Load()), p, x[:n], y[:n], &acc)
				z := math.Abs(float64(c.x) - float64(c.y))
				for k, m := range acc[generated.Lanes:] {
					want := z
					if k >= n {
						want = 0
					}
					if m != want {
						t.Errorf("%s Sum of %d x (%v, %v): largest z of lane %d = %v, want %v", c.l, n, c.x, c.y, k, m, want)
					}
				}
			}
			// One such element among zeros, at every position of a full block and of
			// the tail: Sum and Mean are its loss, whichever lane holds it.
			for i := range x {
				xs, ys := make([]float32, len(x)), make([]float32, len(x))
				xs[i], ys[i] = c.x, c.y
				want := c.loss
				if s := Sum(c.l, xs, ys); !same(s, want) {
					t.Errorf("%s Sum with (%v, %v) at %d = %v, want %v", c.l, c.x, c.y, i, s, want)
				}
				if s := Mean(c.l, xs, ys); !finite(want) && !same(s, want) {
					t.Errorf("%s Mean with (%v, %v) at %d = %v, want %v", c.l, c.x, c.y, i, s, want)
				}
			}
		}
		// With a scale of 1/2 the quadratic gradient of a finite |d| = 2^128 - 2^103
		// would round to 2^127; the overflowed (linear) one is +Inf.
		x, y := rep[float32](math.MaxFloat32), rep[float32](-0x1p103)
		d := make([]float32, len(x))
		Grad(huInf, d, x, y, 0.5)
		for i := range d {
			if d[i] != inf {
				t.Errorf("%s Grad(scale 0.5) [%d] = %v, want +Inf", huInf, i, d[i])
			}
		}
		GradElementwise(huInf, d, x, y, rep[float32](0.5))
		for i := range d {
			if d[i] != inf {
				t.Errorf("%s GradElementwise(0.5) [%d] = %v, want +Inf", huInf, i, d[i])
			}
		}
		if s := SumAndGrad(huInf, d, x, y, 0.5); !same(s, nan) {
			t.Errorf("%s SumAndGrad = %v, want NaN", huInf, s)
		}
		for i := range d {
			if d[i] != inf {
				t.Errorf("%s SumAndGrad(0.5) grad [%d] = %v, want +Inf", huInf, i, d[i])
			}
		}
	})
}
