package smoothl1

import (
	"math"
	"math/big"

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

func finite[T Float](v T) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

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

// fill returns n copies of v.
func fill[T Float](v T, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}
