package smoothl1

import "math"

// The scalar path for degenerate Smooth L1 parameters: beta = +Inf (in T), and for
// float64 a subnormal beta. It evaluates PyTorch's formula literally in T, so that
// the special values are PyTorch's (0.5*z*z/beta is NaN where z*z overflows T, and
// z - 0.5*beta is NaN for infinite z). It is the same code for every
// implementation, so their results cannot differ here either.

func degLoss[T Float](beta, x, y T) T {
	z := T(math.Abs(float64(x - y)))
	if z < beta {
		return T(T(0.5)*z) * z / beta
	}
	return z - T(T(0.5)*beta)
}

func degDeriv[T Float](beta, x, y T) T {
	d := x - y
	if T(math.Abs(float64(d))) < beta {
		return d / beta
	}
	switch {
	case d > 0:
		return 1
	case d < 0:
		return -1
	case d == 0:
		return 0
	}
	return d // NaN
}

func degElementwise[T Float](beta T, dst, x, y []T) {
	for i := range x {
		dst[i] = degLoss(beta, x[i], y[i])
	}
}

// degSum returns the sum of the losses as a double-double.
func degSum[T Float](beta T, x, y []T) (hi, lo float64) {
	for i := range x {
		var e float64
		hi, e = twoSum(hi, float64(degLoss(beta, x[i], y[i])))
		lo += e
	}
	return hi, lo
}

func degGrad[T Float](beta T, dst, x, y []T, scale T) {
	for i := range x {
		dst[i] = degDeriv(beta, x[i], y[i]) * scale
	}
}

func degGradElementwise[T Float](beta T, dst, x, y, g []T) {
	for i := range x {
		dst[i] = degDeriv(beta, x[i], y[i]) * g[i]
	}
}
