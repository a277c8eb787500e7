package smoothl1

import (
	"math"
	"math/big"
	"runtime"
	"sync"
	"testing"

	"github.com/gokernels/smoothl1/internal/reference"
)

// The scalar reference of internal/reference, on slices of T: exact rational
// results rounded once to T. It is defined for finite x, y and finite beta (and
// Huber with delta = +Inf); callers compare special values against PyTorch or the
// special-value table instead.

func newRef[T Float](l Loss) (reference.Loss, bool) {
	return reference.New(l.IsHuber(), float64(T(l.Param())))
}

func rat[T Float](v T) *big.Rat { return new(big.Rat).SetFloat64(float64(v)) }

func round[T Float](r *big.Rat) T {
	if isF32[T]() {
		f, _ := r.Float32()
		return T(f)
	}
	f, _ := r.Float64()
	return T(f)
}

// refElem returns the exact losses rounded to T, and for each whether the reference
// applies (finite inputs and beta).
func refElem[T Float](l Loss, x, y []T) ([]T, []bool) {
	out, ok := make([]T, len(x)), make([]bool, len(x))
	r, rok := newRef[T](l)
	for i := range x {
		if rok && finite(x[i]) && finite(y[i]) {
			out[i], ok[i] = round[T](r.Loss(rat(x[i]), rat(y[i]))), true
		}
	}
	return out, ok
}

// refSumRat returns the exact sum of the exact losses, and whether the reference
// applies (finite inputs and beta).
func refSumRat[T Float](l Loss, x, y []T) (*big.Rat, bool) {
	r, ok := newRef[T](l)
	if !ok {
		return nil, false
	}
	s := new(big.Rat)
	for i := range x {
		if !finite(x[i]) || !finite(y[i]) {
			return nil, false
		}
		s.Add(s, r.Loss(rat(x[i]), rat(y[i])))
	}
	return s, true
}

// refSum returns the exact sum (or mean) of the exact losses rounded to T.
func refSum[T Float](l Loss, x, y []T, mean bool) (T, bool) {
	s, ok := refSumRat(l, x, y)
	if !ok {
		return 0, false
	}
	if mean {
		if len(x) == 0 {
			return T(math.NaN()), true
		}
		s.Quo(s, big.NewRat(int64(len(x)), 1))
	}
	return round[T](s), true
}

// refGrad returns the exact gradients times g[i], divided by n for a mean, rounded to T.
func refGrad[T Float](l Loss, x, y, g []T, mean bool) ([]T, []bool) {
	out, ok := make([]T, len(x)), make([]bool, len(x))
	r, rok := newRef[T](l)
	for i := range x {
		if !rok || !finite(x[i]) || !finite(y[i]) || !finite(g[i]) {
			continue
		}
		d := r.Deriv(rat(x[i]), rat(y[i]))
		d.Mul(d, rat(g[i]))
		if mean {
			d.Quo(d, big.NewRat(int64(len(x)), 1))
		}
		out[i], ok[i] = round[T](d), true
	}
	return out, ok
}

// exactSumRat returns the exact sum of the exact per-element losses (refSumRat), as a
// big.Float of 2048 bits: for any beta, not only powers of two.
func exactSumRat(t *testing.T, l Loss, x, y []float64) *big.Float {
	s, ok := refSumRat(l, x, y)
	if !ok {
		t.Fatalf("%s: no exact reference", l)
	}
	return new(big.Float).SetPrec(2048).SetRat(s)
}

// exactSumPow2 returns the exact sum of the exact per-element losses, for a beta
// (delta) that is a power of two, so that every loss is a dyadic rational and
// big.Float arithmetic with enough precision is exact. It fails the test if any
// operation was inexact.
func exactSumPow2[T Float](t testing.TB, l Loss, x, y []T) *big.Float {
	beta := big.NewFloat(float64(T(l.Param())))
	if fr, _ := math.Frexp(l.Param()); fr != 0.5 {
		t.Fatalf("beta %v is not a power of two", l.Param())
	}
	workers := runtime.GOMAXPROCS(0)
	parts := make([]*big.Float, workers)
	var wg sync.WaitGroup
	var bad sync.Once
	inexact := false
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			acc := new(big.Float).SetPrec(4096)
			const prec = 400
			d, z, v := new(big.Float).SetPrec(prec), new(big.Float).SetPrec(prec), new(big.Float).SetPrec(prec)
			xf, yf := new(big.Float), new(big.Float)
			half := big.NewFloat(0.5)
			for i := w; i < len(x); i += workers {
				xf.SetFloat64(float64(x[i]))
				yf.SetFloat64(float64(y[i]))
				d.Sub(xf, yf)
				z.Abs(d)
				if z.Cmp(beta) < 0 {
					v.Mul(z, z)
					v.Mul(v, half)
					if !l.IsHuber() {
						v.Quo(v, beta)
					}
				} else {
					v.Mul(beta, half)
					v.Sub(z, v)
					if l.IsHuber() {
						v.Mul(v, beta)
					}
				}
				if v.Acc() != big.Exact {
					bad.Do(func() { inexact = true })
				}
				if acc.Add(acc, v).Acc() != big.Exact {
					bad.Do(func() { inexact = true })
				}
			}
			parts[w] = acc
		}(w)
	}
	wg.Wait()
	if inexact {
		t.Fatal("exact reference lost precision")
	}
	s := new(big.Float).SetPrec(8192)
	for _, p := range parts {
		s.Add(s, p)
	}
	return s
}

func roundBig[T Float](v *big.Float) T {
	if isF32[T]() {
		f, _ := v.Float32()
		return T(f)
	}
	f, _ := v.Float64()
	return T(f)
}

// checkable reports whether the ulp bound applies to a result: the exact value is
// zero or normal in T, and z*z is finite and normal in T (docs/SEMANTICS.md).
func checkable[T Float](exact T, x, y T) bool {
	minNormal, maxT := 0x1p-1022, math.MaxFloat64
	if isF32[T]() {
		minNormal, maxT = 0x1p-126, math.MaxFloat32
	}
	z := math.Abs(float64(x) - float64(y))
	zz := z * z
	if z != 0 && (zz < minNormal || zz > maxT || math.IsInf(zz, 0)) {
		return false
	}
	a := math.Abs(float64(exact))
	return a == 0 || (a >= minNormal && !math.IsInf(a, 0))
}

// checkableLoss is checkable for a loss: every loss of x != y is positive, so an
// exact loss that rounds to 0 in T has underflowed (Huber with a tiny delta), and
// the bounds do not apply to it, nor to any sum of it times a weight.
func checkableLoss[T Float](exact T, x, y T) bool {
	return checkable(exact, x, y) && (exact != 0 || x == y)
}

// special returns the loss and the derivative with respect to x for inputs where the
// exact reference does not apply (an infinite or NaN input, or beta = +Inf), as the
// table of docs/SEMANTICS.md and PyTorch's formula in T give them.
func special[T Float](l Loss, x, y T) (loss, deriv T) {
	beta := T(l.Param())
	d := x - y // in T: overflows to ±Inf as PyTorch's does
	nan := T(math.NaN())
	switch {
	case d != d:
		return nan, nan
	case math.IsInf(float64(d), 0):
		// The linear branch, literally in T (NaN for beta = +Inf, and for Huber
		// with delta = 0 in T or +Inf).
		z := T(math.Inf(1))
		sign := T(1)
		if d < 0 {
			sign = -1
		}
		if l.IsHuber() {
			return beta * (z - T(T(0.5)*beta)), sign * beta
		}
		return z - T(T(0.5)*beta), sign
	}
	// finite d, SmoothL1 with beta = +Inf: 0.5*z*z/Inf in T.
	z := T(math.Abs(float64(d)))
	return T(T(0.5)*z) * z / beta, d / beta
}
