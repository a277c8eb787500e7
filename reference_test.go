package smoothl1

import (
	"math"
	"math/big"
)

// The scalar reference: the losses and gradients of SEMANTICS.md evaluated exactly in
// rational arithmetic, written for readability and not for speed, and rounded once
// to T. It shares no code with the kernels. It is defined for finite x, y and
// finite beta; callers compare special values against PyTorch instead.

type refLoss struct {
	huber bool
	inf   bool     // delta = +Inf (Huber): every finite z is quadratic
	beta  *big.Rat // beta or delta, converted to T
}

func newRef[T Float](l Loss) (refLoss, bool) {
	b := float64(T(l.Param()))
	if math.IsInf(b, 0) {
		// SmoothL1 with beta = +Inf is PyTorch's formula literally (0.5*z*z/Inf),
		// not an exact value: the callers compare it as a special value.
		return refLoss{huber: true, inf: true}, l.IsHuber()
	}
	return refLoss{huber: l.IsHuber(), beta: new(big.Rat).SetFloat64(b)}, true
}

// quadratic reports whether z is in the quadratic branch.
func (r refLoss) quadratic(z *big.Rat) bool { return r.inf || z.Cmp(r.beta) < 0 }

func rat[T Float](v T) *big.Rat { return new(big.Rat).SetFloat64(float64(v)) }

// loss returns the exact loss of x and y.
func (r refLoss) loss(x, y *big.Rat) *big.Rat {
	d := new(big.Rat).Sub(x, y)
	z := new(big.Rat).Abs(d)
	half := big.NewRat(1, 2)
	if r.quadratic(z) { // quadratic: 0.5*z*z (/beta)
		q := new(big.Rat).Mul(z, z)
		q.Mul(q, half)
		if !r.huber {
			q.Quo(q, r.beta)
		}
		return q
	}
	// linear: z - 0.5*beta, or delta*(z - 0.5*delta)
	hb := new(big.Rat).Mul(r.beta, half)
	l := new(big.Rat).Sub(z, hb)
	if r.huber {
		l.Mul(l, r.beta)
	}
	return l
}

// deriv returns the exact derivative of the loss with respect to x.
func (r refLoss) deriv(x, y *big.Rat) *big.Rat {
	d := new(big.Rat).Sub(x, y)
	z := new(big.Rat).Abs(d)
	if r.quadratic(z) {
		if r.huber {
			return d
		}
		return d.Quo(d, r.beta)
	}
	s := big.NewRat(int64(d.Sign()), 1) // sign(d), 0 at d == 0
	if r.huber {
		s.Mul(s, r.beta)
	}
	return s
}

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
			out[i], ok[i] = round[T](r.loss(rat(x[i]), rat(y[i]))), true
		}
	}
	return out, ok
}

// refSum returns the exact sum (or mean) of the exact losses rounded to T.
func refSum[T Float](l Loss, x, y []T, mean bool) (T, bool) {
	r, ok := newRef[T](l)
	if !ok {
		return 0, false
	}
	s := new(big.Rat)
	for i := range x {
		if !finite(x[i]) || !finite(y[i]) {
			return 0, false
		}
		s.Add(s, r.loss(rat(x[i]), rat(y[i])))
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
		d := r.deriv(rat(x[i]), rat(y[i]))
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
