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

func testBoundary[T Float](t *testing.T, l Loss) {
	b := T(l.Param())
	for _, in := range impls {
		if !usable(in) {
			continue
		}
		for _, sign := range []T{1, -1} {
			x, y := []T{sign * b}, []T{0}
			if isF32[T]() {
				p, _ := setup(l, true)
				var acc [generated.Lanes]float64
				generated.SumF32Impl(in.id, &p, f32(x), f32(y), &acc)
				if acc != [generated.Lanes]float64{0.5 * float64(b)} {
					t.Errorf("%s float32 %s at the boundary: lanes %v, want [%v 0 ...]", in.name, l, acc, 0.5*float64(b))
				}
			} else {
				p, _ := setup(l, false)
				var acc [2 * generated.Lanes]float64
				generated.SumF64Impl(in.id, &p, f64(x), f64(y), &acc)
				if acc != [2 * generated.Lanes]float64{0.5 * float64(b)} {
					t.Errorf("%s float64 %s at the boundary: lanes %v, want [%v 0 ...]", in.name, l, acc, 0.5*float64(b))
				}
			}
			SetImplementation(in.name)
			d := make([]T, 1)
			Grad(l, d, x, y, 3)
			if d[0] != 3*sign {
				t.Errorf("%s %T %s at the boundary: Grad = %v, want %v", in.name, T(0), l, d[0], 3*sign)
			}
			SumAndGrad(l, d, x, y, 3)
			if d[0] != 3*sign {
				t.Errorf("%s %T %s at the boundary: SumAndGrad grad = %v, want %v", in.name, T(0), l, d[0], 3*sign)
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
			d := make([]float32, 1)
			Elementwise(c.l, d, []float32{c.x}, []float32{c.y})
			if !same(d[0], c.loss) {
				t.Errorf("%s loss(%v, %v) = %v, want %v", c.l, c.x, c.y, d[0], c.loss)
			}
			Grad(c.l, d, []float32{c.x}, []float32{c.y}, 1)
			if !same(d[0], c.grad) {
				t.Errorf("%s grad(%v, %v) = %v, want %v", c.l, c.x, c.y, d[0], c.grad)
			}
		}
		// With a scale of 1/2 the quadratic gradient of a finite |d| = 2^128 - 2^103
		// would round to 2^127; the overflowed (linear) one is +Inf.
		d := make([]float32, 1)
		x, y := []float32{math.MaxFloat32}, []float32{-0x1p103}
		Grad(huInf, d, x, y, 0.5)
		if d[0] != inf {
			t.Errorf("%s Grad(scale 0.5) = %v, want +Inf", huInf, d[0])
		}
		GradElementwise(huInf, d, x, y, []float32{0.5})
		if d[0] != inf {
			t.Errorf("%s GradElementwise(0.5) = %v, want +Inf", huInf, d[0])
		}
	})
}
