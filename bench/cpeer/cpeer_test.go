//go:build cgo

package cpeer

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// replica is the C loop written in Go, operation for operation (each product
// rounded by an explicit conversion, so that no FMA is fused): the plain C build
// must match it bit for bit, since it may not reorder anything.
func replica[T float32 | float64](dst, x, y []T, offs []int64, n int, beta, g T, op string) float64 {
	total := 0.0
	scale := g
	if op == "MeanAndGrad" {
		scale = g / T(n)
	}
	for _, o := range offs {
		var sum T
		for i := int(o); i < int(o)+n; i++ {
			d := x[i] - y[i]
			z := T(math.Abs(float64(d)))
			var loss T
			if z < beta {
				loss = T(T(T(0.5)*z)*z) / beta
			} else {
				loss = z - T(T(0.5)*beta)
			}
			sum += loss
			switch op {
			case "Elementwise":
				dst[i] = loss
			case "SumAndGrad", "MeanAndGrad":
				switch {
				case d <= -beta:
					dst[i] = -scale
				case d >= beta:
					dst[i] = scale
				default:
					dst[i] = T(scale*d) / beta
				}
			}
		}
		switch op {
		case "Elementwise":
		case "Mean", "MeanAndGrad":
			total += float64(sum / T(n))
		default:
			total += float64(sum)
		}
	}
	return total
}

func TestKernels(t *testing.T) {
	if Name(true) == "" {
		if strings.HasPrefix(Compiler(), "gcc ") {
			t.Fatalf("the fast-math pragma did not take (compiler %s)", Compiler())
		}
		t.Logf("compiler %s: no fast-math variant (its pragma is GCC's)", Compiler())
	}
	t.Logf("compiler: %s; variants %s, %s", Compiler(), Name(false), Name(true))
	testKernels[float32](t, 1e-5)
	testKernels[float64](t, 1e-13)
}

func testKernels[T float32 | float64](t *testing.T, tol float64) {
	r := rand.New(rand.NewPCG(1, 2))
	const size, n = 5000, 1003
	x, y := make([]T, size), make([]T, size)
	for i := range x {
		x[i], y[i] = T(r.NormFloat64()*2), T(r.NormFloat64())
	}
	offs := []int64{0, 17, 3997, 2000}
	w := NewWindows(offs, n, size)
	for _, beta := range []T{1, 0.75} {
		for _, op := range Ops {
			want := make([]T, size)
			wantTotal := replica(want, x, y, offs, n, beta, 0.5, op)
			for _, fast := range []bool{false, true} {
				if Name(fast) == "" {
					continue
				}
				dst := make([]T, size)
				got := Kernel[T](op, fast)(dst, x, y, w, beta, 0.5)
				name := Name(fast)
				if !fast && (got != wantTotal || !equal(dst, want)) {
					t.Errorf("%T %s beta=%v %s: total %v, want %v bit for bit (or the elements differ)", T(0), op, beta, name, got, wantTotal)
				}
				if d := math.Abs(got - wantTotal); d > tol*math.Abs(wantTotal) {
					t.Errorf("%T %s beta=%v %s: total %v, want %v within %g", T(0), op, beta, name, got, wantTotal, tol)
				}
				for i := range dst {
					if d := math.Abs(float64(dst[i] - want[i])); d > tol*max(1, math.Abs(float64(want[i]))) {
						t.Errorf("%T %s beta=%v %s: dst[%d] = %v, want %v", T(0), op, beta, name, i, dst[i], want[i])
						break
					}
				}
			}
		}
	}
}

func equal[T float32 | float64](a, b []T) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWindowChecks(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("window past the end", func() { NewWindows([]int64{0, 5}, 10, 14) })
	mustPanic("negative offset", func() { NewWindows([]int64{-1}, 10, 14) })
	w := NewWindows([]int64{0, 4}, 10, 14)
	x := make([]float64, 14)
	mustPanic("short x", func() { Kernel[float64]("Sum", false)(nil, x[:13], x, w, 1, 1) })
	mustPanic("short dst", func() { Kernel[float64]("Elementwise", false)(x[:13], x, x, w, 1, 1) })
	if got := Kernel[float64]("Sum", false)(nil, x, x, w, 1, 1); got != 0 {
		t.Errorf("Sum of zero losses = %v", got)
	}
	if Kernel[float32]("Grad", true) != nil {
		t.Error("Kernel of an operation the C loops lack is not nil")
	}
}
