package smoothl1

import (
	"math"
	"math/big"
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
	half := 0.5 * float64(b)
	bb := float64(b) * float64(b) // exact: b has at most 53 bits, and float32 b 24
	for _, in := range eachImpl(t) {
		for _, sign := range []T{1, -1} {
			// Lanes 0-6 hold two elements (full block and tail), lane 7 one and
			// the padding, which is quadratic.
			x, y := rep(sign*b), rep(T(0))
			if isF32[T]() {
				// w = min(z, K) = K either way; z - w = 0.
				p, _ := setup(l, true)
				var acc acc32
				generated.SumF32Impl(in.id, p, f32(x), f32(y), &acc)
				want := acc32{2 * bb, 2 * bb, 2 * bb, 2 * bb, 2 * bb, 2 * bb, 2 * bb, bb}
				if acc != want {
					t.Errorf("%s float32 %s at the boundary: lanes %v, want %v", in.name, l, acc, want)
				}
			} else {
				// Linear: V = P*z = 2*beta*beta, its error exact in lo; not counted
				// as quadratic. The quadratic branch would give V = beta*beta and
				// count the element: the same loss, other lanes.
				p, _ := setup(l, false)
				var acc acc64
				generated.SumF64Impl(in.id, p, f64(x), f64(y), &acc)
				hi := p[generated.PP] * float64(b)
				lo := math.FMA(p[generated.PP], float64(b), -hi)
				var want acc64
				for k := range generated.Lanes {
					want[k], want[generated.Lanes+k] = 2*hi, 2*lo
				}
				want[generated.Lanes-1], want[2*generated.Lanes-1], want[3*generated.Lanes-1] = hi, lo, 1
				if acc != want {
					t.Errorf("%s float64 %s at the boundary: lanes %v, want %v", in.name, l, acc, want)
				}
			}
			// 15 elements, and longN for the AVX-512 loops that prefetch. The long
			// sum is exact: longN*half rounded once, to T.
			for _, n := range []int{len(x), longN} {
				x, y := fill(sign*b, n), fill(T(0), n)
				if n > len(rep(b)) {
					if s, want := Sum(l, x, y), T(longN*half); s != want {
						t.Errorf("%s %T %s at the boundary: Sum of %d = %v, want %v", in.name, T(0), l, n, s, want)
					}
				}
				d := make([]T, n)
				for _, op := range []string{"Grad", "SumAndGrad"} {
					if op == "Grad" {
						Grad(l, d, x, y, 3)
					} else {
						SumAndGrad(l, d, x, y, 3)
					}
					for i := range d {
						if d[i] != 3*sign {
							t.Fatalf("%s %T %s at the boundary: %s[%d of %d] = %v, want %v", in.name, T(0), l, op, i, n, d[i], 3*sign)
						}
					}
				}
			}
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
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
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
				// 15 elements: every lane of a full block and of the tail; longN: also
				// the AVX-512 loops that prefetch, which need long inputs.
				for _, n := range []int{15, longN} {
					x, y := fill(c.x, n), fill(c.y, n)
					d := make([]float32, n)
					Elementwise(c.l, d, x, y)
					for i := range d {
						if !same(d[i], c.loss) {
							t.Fatalf("%s loss(%v, %v) [%d of %d] = %v, want %v", c.l, c.x, c.y, i, n, d[i], c.loss)
						}
					}
					var wantSum *float32 // a finite loss times n is not checked here
					if !finite(c.loss) {
						wantSum = &c.loss
					}
					checkGrads(t, c.l, x, y, 1, c.grad, wantSum)
				}
				x, y := rep(c.x), rep(c.y)
				// The float32 Sum and SumAndGrad kernels leave the overflow to their
				// caller: every lane of a full block alone (8), then of the masked tail
				// alone (7), must show it, so that one cannot hide the other:
				// SumAndGrad keeps the exact float64 |x - y| as the largest z of the
				// lane, Sum a lane sum at or above ovfQ or ovfL wherever z reaches Ovf.
				for _, n := range []int{8, 7} {
					p, _ := setupGrad(c.l, true, 1, 0)
					var acc acc32
					var accG acc32g
					generated.SumF32Impl(in.id, &p, x[:n], y[:n], &acc)
					generated.SumAndGradF32Impl(in.id, &p, make([]float32, n), x[:n], y[:n], &accG)
					z := math.Abs(float64(c.x) - float64(c.y))
					for k, m := range accG[2*generated.Lanes:] {
						want := z
						if k >= n {
							want = 0
						}
						if m != want {
							t.Errorf("%s SumAndGrad of %d x (%v, %v): largest z of lane %d = %v, want %v", c.l, n, c.x, c.y, k, m, want)
						}
					}
					for k := range generated.Lanes {
						// (Lane sums that large without an overflow only cost a search.)
						over := k < n && z >= p[generated.POvf]
						if shows := acc[k] >= ovfQ || acc[generated.Lanes+k] >= ovfL; over && !shows {
							t.Errorf("%s Sum of %d x (%v, %v): lane %d (q %v, l %v) hides the overflow", c.l, n, c.x, c.y, k, acc[k], acc[generated.Lanes+k])
						}
					}
				}
				// One such element among zeros, at every position of 40: two blocks
				// (the AVX-512 loop over pairs), one block and a tail; Sum and Mean are
				// its loss, whichever lane and loop holds it. Then in longN elements, at
				// every lane of every loop (longPositions).
				var at [][2]int // length, position
				for i := range 40 {
					at = append(at, [2]int{40, i})
				}
				for _, i := range longPositions() {
					at = append(at, [2]int{longN, i})
				}
				for _, a := range at {
					n, i := a[0], a[1]
					xs, ys := make([]float32, n), make([]float32, n)
					xs[i], ys[i] = c.x, c.y
					want := c.loss
					if s := Sum(c.l, xs, ys); !same(s, want) {
						t.Errorf("%s Sum with (%v, %v) at %d of %d = %v, want %v", c.l, c.x, c.y, i, n, s, want)
					}
					if s := SumAndGrad(c.l, make([]float32, n), xs, ys, 1); !same(s, want) {
						t.Errorf("%s SumAndGrad with (%v, %v) at %d of %d = %v, want %v", c.l, c.x, c.y, i, n, s, want)
					}
					if s := Mean(c.l, xs, ys); !finite(want) && !same(s, want) {
						t.Errorf("%s Mean with (%v, %v) at %d of %d = %v, want %v", c.l, c.x, c.y, i, n, s, want)
					}
				}
			}
			// With a scale of 1/2 the quadratic gradient of a finite |d| = 2^128 - 2^103
			// would round to 2^127; the overflowed (linear) one is +Inf. 15 elements,
			// then longN for the AVX-512 loops that prefetch.
			for _, n := range []int{15, longN} {
				x, y := fill[float32](math.MaxFloat32, n), fill[float32](-0x1p103, n)
				checkGrads(t, huInf, x, y, 0.5, inf, &nan)
			}
		})
	}
}

// checkGrads runs Grad and SumAndGrad with scale, and GradElementwise with an
// upstream gradient of scale everywhere, on x and y, and requires every gradient
// to be want (NaN equal to NaN), and the sum of SumAndGrad to be *wantSum unless
// wantSum is nil.
func checkGrads(t *testing.T, l Loss, x, y []float32, scale, want float32, wantSum *float32) {
	t.Helper()
	n := len(x)
	d := make([]float32, n)
	for _, op := range []string{"Grad", "GradElementwise", "SumAndGrad"} {
		switch op {
		case "Grad":
			Grad(l, d, x, y, scale)
		case "GradElementwise":
			GradElementwise(l, d, x, y, fill(scale, n))
		case "SumAndGrad":
			if s := SumAndGrad(l, d, x, y, scale); wantSum != nil && !same(s, *wantSum) {
				t.Errorf("%s SumAndGrad(scale %v) of %d x (%v, %v) = %v, want %v", l, scale, n, x[0], y[0], s, *wantSum)
			}
		}
		for i := range d {
			if !same(d[i], want) {
				t.Fatalf("%s %s(scale %v) of (%v, %v) [%d of %d] = %v, want %v", l, op, scale, x[i], y[i], i, n, d[i], want)
			}
		}
	}
}

// TestBoundaryLanesLong compares the raw lane accumulators of the Sum and SumGrad
// kernels of every implementation with the generic ones, bit for bit, for longN
// elements, one of which has |x - y| == beta, at each of longPositions, the others
// zero. At the boundary the two branches agree to
// within rounding (exactly, for many beta), so a branch taken wrongly shows only in
// the last bits of one lane, which a rounded sum, or a lane summing many such
// elements, can hide.
func TestBoundaryLanesLong(t *testing.T) {
	const n = longN
	at := longPositions()
	// beta = 1.9 and 0.37: the float32 quadratic branch at z == beta is not
	// exactly the linear one in float64.
	for _, beta := range []float64{0.1, 1.9, 0.37} {
		l, _ := SmoothL1(beta)
		p32, _ := setupGrad(l, true, 1, 0)
		p64, _ := setupGrad(l, false, 1, 0)
		for _, i := range at {
			sign := float64(1 - 2*(i%2))
			x32, y32 := make([]float32, n), make([]float32, n)
			x64, y64 := make([]float64, n), make([]float64, n)
			x32[i], x64[i] = float32(sign)*float32(beta), sign*beta
			var want [4][3 * generated.Lanes]float64
			for k, in := range eachImpl(t) {
				var got [4][3 * generated.Lanes]float64
				generated.SumF32Impl(in.id, &p32, x32, y32, (*acc32)(got[0][:]))
				generated.SumF64Impl(in.id, &p64, x64, y64, &got[1])
				generated.SumAndGradF32Impl(in.id, &p32, make([]float32, n), x32, y32, &got[2])
				generated.SumAndGradF64Impl(in.id, &p64, make([]float64, n), x64, y64, &got[3])
				if k == 0 {
					want = got
					continue
				}
				for c, what := range []string{"float32 Sum", "float64 Sum", "float32 SumGrad", "float64 SumGrad"} {
					for j := range got[c] {
						if math.Float64bits(got[c][j]) != math.Float64bits(want[c][j]) {
							t.Errorf("%s %s %s, |x - y| = beta at %d: lane %d = %v, generic has %v", in.name, what, l, i, j, got[c][j], want[c][j])
						}
					}
				}
			}
		}
	}
}

// TestWeightedBoundaryIsLinear holds the weighted sums to the linear branch at z ==
// beta. There the float32 quadratic branch's (z*z)*Ah may differ from z - H = beta/2
// by one rounding of float64 (the float64 one's double-double by about 2^-100:
// tieBeta64), which a result shows only at a tie. So the test
// takes a beta and a weight w (tieBeta) for which w*beta/2 is exactly a float32 tie,
// and for which the quadratic loss, times w, would lie on the side of the tie that
// rounding to even does not take; the want is w*beta/2 rounded to even. The element
// sits alone, at the start of a long input (the AVX-512 loop copy that prefetches,
// when eachImpl turns it on), near its end (the loop after that copy) and in its tail;
// the other elements are zeros, whose terms are +0.
func TestWeightedBoundaryIsLinear(t *testing.T) {
	b32, w32 := tieBeta(t)
	checkWeightedTie(t, b32, w32, float32(float64(w32)*(0.5*float64(b32))), 3<<12) // exact in float64: rounded to even
	b64, w64 := tieBeta64(t)
	exact := new(big.Float).SetPrec(200).SetFloat64(b64)
	exact.Mul(exact, new(big.Float).SetFloat64(w64))
	want64, _ := exact.Mul(exact, big.NewFloat(0.5)).Float64() // rounded to even
	checkWeightedTie(t, b64, w64, want64, 3<<11)
}

// checkWeightedTie runs WeightedSum and WeightedSumAndGrad of SmoothL1(b) on one
// element x = ±b, y = 0 with weight wt among zeros (weight 1), alone and in inputs of
// long elements or more (at their start, near their end, in their tail), on every
// implementation, and wants want.
func checkWeightedTie[T Float](t *testing.T, b, wt, want T, long int) {
	l, _ := SmoothL1(float64(b))
	for _, in := range eachImpl(t) {
		for _, c := range []struct{ n, at int }{{1, 0}, {long, 0}, {long, long - 16}, {long + 3, long + 1}} {
			for _, sign := range []T{1, -1} {
				x, y, w := make([]T, c.n), make([]T, c.n), fill(T(1), c.n)
				x[c.at], w[c.at] = sign*b, wt
				if got := WeightedSum(l, x, y, w); got != want {
					t.Errorf("%s %T WeightedSum, beta = %v, w = %v at %d of %d: %v, want %v", in.name, T(0), b, wt, c.at, c.n, got, want)
				}
				if got := WeightedSumAndGrad(l, make([]T, c.n), x, y, w, 1); got != want {
					t.Errorf("%s %T WeightedSumAndGrad, beta = %v, w = %v at %d of %d: %v, want %v", in.name, T(0), b, wt, c.at, c.n, got, want)
				}
			}
		}
	}
}

// tieBeta returns a float32 beta = m*2^-11 (m odd, 12 bits) and a weight w (odd, an
// integer) such that m*w has 25 bits, so that w*beta/2 is a float32 tie, and such that
// the quadratic loss (beta*beta)*(0.5/beta), rounded as the float32 kernels round it,
// times w rounded to float64, is not w*beta/2 and lies on the side of it that the tie
// does not round to.
func tieBeta(t *testing.T) (beta, w float32) {
	for m := 1<<12 - 1; m > 1<<11; m -= 2 {
		b := float64(m) * 0x1p-11
		quad, lin := float64(b*b)*(0.5/b), 0.5*b
		if quad == lin {
			continue
		}
		for wi := (1<<24)/m | 1; wi*m < 1<<25; wi += 2 {
			if wi*m < 1<<24 {
				continue
			}
			tq, tl := float64(float64(wi)*quad), float64(wi)*lin
			// m*w = 2a + 1 lies between the float32 mantissas a and a + 1: the
			// tie rounds up where a is odd.
			up := (wi*m-1)/2%2 == 1
			if tq != tl && (tq < tl) == up {
				return float32(b), float32(wi)
			}
		}
	}
	t.Fatal("no beta found")
	return 0, 0
}

// tieBeta64 is tieBeta for float64 data. There the quadratic loss is a double-double,
// (z*z)*(Ah + Al) with its errors, which may differ from the linear beta/2 by 2^-100
// or so, and the test's want comes from math/big. It returns beta = m*2^-26 (m odd,
// 27 bits) and an odd integer weight w such
// that m*w has 54 bits, so that w*beta/2 is a float64 tie, and such that the
// quadratic double-double loss at z = beta (gen/kernel's lossDD, with Ah = 0.5/beta
// and Al its error), times w as the kernels multiply it, rounds elsewhere than the
// tie does.
func tieBeta64(t *testing.T) (beta, w float64) {
	for m := 1<<27 - 1; m > 1<<26; m -= 2 {
		b := float64(m) * 0x1p-26
		ah := 0.5 / b
		al := math.FMA(-ah, b, 0.5) / b
		p := float64(b * b)
		pl := math.FMA(b, b, -p)
		qh := float64(p * ah)
		ql := math.FMA(p, al, math.FMA(pl, ah, math.FMA(p, ah, -qh)))
		if qh == 0.5*b && ql == 0 {
			continue
		}
		for k := range 64 {
			wi := float64((1<<53)/m + 2*k + 1)
			if wi*float64(m) >= 0x1p54 {
				break
			}
			exact := new(big.Float).SetPrec(200).SetFloat64(b)
			exact.Mul(exact, new(big.Float).SetFloat64(wi))
			tie, _ := exact.Mul(exact, big.NewFloat(0.5)).Float64()
			ph := float64(qh * wi)
			if ph+math.FMA(ql, wi, math.FMA(qh, wi, -ph)) != tie {
				return b, wi
			}
		}
	}
	t.Fatal("no beta found")
	return 0, 0
}
