// Package reference is the scalar reference of smoothl1: the losses and gradients
// of docs/SEMANTICS.md evaluated exactly in rational arithmetic, written for readability
// and not for speed. It shares no code with the kernels. The tests of the root
// package and the benchmark report's self-check both hold the kernels against it.
package reference

import (
	"math"
	"math/big"
)

// Loss is an exact loss definition.
type Loss struct {
	huber bool
	inf   bool     // delta = +Inf (Huber): every finite z is quadratic
	beta  *big.Rat // beta or delta, as converted to the element type
}

// New returns the reference for SmoothL1 (huber false) or Huber with parameter
// beta, already converted to the element type. It reports false for SmoothL1 with
// beta = +Inf, which is PyTorch's formula literally (0.5*z*z/Inf), not an exact
// value: callers compare it as a special value.
func New(huber bool, beta float64) (Loss, bool) {
	if math.IsInf(beta, 0) {
		return Loss{huber: true, inf: true}, huber
	}
	return Loss{huber: huber, beta: new(big.Rat).SetFloat64(beta)}, true
}

// quadratic reports whether z is in the quadratic branch (z == beta is linear).
func (r Loss) quadratic(z *big.Rat) bool { return r.inf || z.Cmp(r.beta) < 0 }

// Loss returns the exact loss of x and y.
func (r Loss) Loss(x, y *big.Rat) *big.Rat {
	d := new(big.Rat).Sub(x, y)
	z := new(big.Rat).Abs(d)
	half := big.NewRat(1, 2)
	if r.quadratic(z) { // 0.5*z*z (/beta)
		q := new(big.Rat).Mul(z, z)
		q.Mul(q, half)
		if !r.huber {
			q.Quo(q, r.beta)
		}
		return q
	}
	// z - 0.5*beta, or delta*(z - 0.5*delta)
	l := new(big.Rat).Sub(z, new(big.Rat).Mul(r.beta, half))
	if r.huber {
		l.Mul(l, r.beta)
	}
	return l
}

// Deriv returns the exact derivative of the loss with respect to x.
func (r Loss) Deriv(x, y *big.Rat) *big.Rat {
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
