package smoothl1

import (
	"math"

	"github.com/gokernels/smoothl1/generated"
)

// This file turns a Loss into kernel parameters, calls the kernel of the chosen
// implementation, and combines the lane accumulators. Everything here is shared by
// all implementations, so it cannot make them differ.

// setup returns the kernel parameters for loss l on element type float32 (f32) or
// float64, with the gradient scale sh + sl (a double-double; 0 where unused). It
// reports degenerate parameters, which take the scalar path of degenerate.go.
func setup(l Loss, f32 bool, sh, sl float64) (p generated.Params, degenerate bool) {
	k := l.param()
	if f32 {
		k = float64(float32(k)) // beta is converted to T once
	}
	p[generated.PK] = k
	p[generated.PH] = 0.5 * k
	p[generated.PNegZero] = math.Copysign(0, -1)
	p[generated.PInf] = math.Inf(1)
	// The largest float64 that rounds to a finite float32: 2^128 - 2^103 is the
	// midpoint between MaxFloat32 and 2^128 and rounds (to even) to +Inf.
	p[generated.POvf] = math.Nextafter(0x1p128-0x1p103, 0)
	if l.kind == kindHuber {
		p[generated.PAh] = 0.5
		p[generated.PB] = k
		p[generated.PDq] = 1
		p[generated.PGA] = sh + sl
		p[generated.PGB] = math.FMA(sh, k, float64(sl*k))
		return p, false
	}
	// SmoothL1. beta = +Inf, and (float64) a subnormal beta whose reciprocal
	// overflows, follow PyTorch's formula literally on the scalar path.
	if math.IsInf(k, 1) || (!f32 && k > 0 && k < 0x1p-1022) {
		return p, true
	}
	p[generated.PB] = 1
	p[generated.PDq] = k
	p[generated.PGB] = sh + sl
	if k > 0 {
		ah := 0.5 / k
		p[generated.PAh] = ah
		if !f32 {
			p[generated.PAl] = math.FMA(-ah, k, 0.5) / k
		}
		p[generated.PGA] = ddDiv(sh, sl, k)
	}
	return p, false
}

// ddDiv returns (ah + al) / b rounded to float64 (to within a hair of correct rounding).
func ddDiv(ah, al, b float64) float64 {
	q := ah / b
	r := math.FMA(-q, b, ah) + al
	return q + r/b
}

// meanScale returns g/n as a double-double.
func meanScale(g float64, n int) (sh, sl float64) {
	nf := float64(n)
	sh = g / nf
	sl = math.FMA(-sh, nf, g) / nf
	return sh, sl
}

// combine64 adds the float64 lane accumulators (hi in acc[0:8], lo in acc[8:16]) in
// lane order, in double-double.
func combine64(acc *[2 * generated.Lanes]float64) (hi, lo float64) {
	for k := 0; k < generated.Lanes; k++ {
		s := hi + acc[k]
		bv := s - hi
		e := (hi - (s - bv)) + (acc[k] - bv)
		hi = s
		lo += e + acc[generated.Lanes+k]
	}
	return hi, lo
}

// finish64 rounds the double-double sum hi + lo, or the mean (hi + lo)/n, to float64.
func finish64(hi, lo float64, mean bool, n int) float64 {
	if mean && n == 0 {
		return math.NaN()
	}
	if !(hi < math.Inf(1)) { // +Inf or NaN: lo is meaningless
		if mean {
			return hi / float64(n)
		}
		return hi
	}
	if !mean {
		return hi + lo
	}
	return ddDiv(hi, lo, float64(n))
}

// finish32 adds the float32 lane accumulators in lane order and returns the sum or
// the mean, rounded to float32 by the caller.
func finish32(acc *[generated.Lanes]float64, mean bool, n int) float64 {
	var s float64
	for _, a := range acc {
		s += a
	}
	if mean {
		return s / float64(n)
	}
	return s
}

func elem64(l Loss, dst, x, y []float64) {
	p, deg := setup(l, false, 0, 0)
	if deg {
		degElem(l.param(), dst, x, y)
		return
	}
	generated.ElemF64Impl(impl(), &p, dst, x, y)
}

func elem32(l Loss, dst, x, y []float32) {
	p, deg := setup(l, true, 0, 0)
	if deg {
		degElem(float32(l.param()), dst, x, y)
		return
	}
	generated.ElemF32Impl(impl(), &p, dst, x, y)
}

func sum64(l Loss, x, y []float64, mean bool) float64 {
	p, deg := setup(l, false, 0, 0)
	if deg {
		hi, lo := degSum(l.param(), x, y)
		return finish64(hi, lo, mean, len(x))
	}
	var acc [2 * generated.Lanes]float64
	generated.SumF64Impl(impl(), &p, x, y, &acc)
	hi, lo := combine64(&acc)
	return finish64(hi, lo, mean, len(x))
}

func sum32(l Loss, x, y []float32, mean bool) float32 {
	p, deg := setup(l, true, 0, 0)
	if deg {
		hi, lo := degSum(float32(l.param()), x, y)
		return float32(finish64(hi, lo, mean, len(x)))
	}
	var acc [generated.Lanes]float64
	generated.SumF32Impl(impl(), &p, x, y, &acc)
	return float32(finish32(&acc, mean, len(x)))
}

func grad64(l Loss, dst, x, y []float64, sh, sl float64) {
	p, deg := setup(l, false, sh, sl)
	if deg {
		degGrad(l.param(), dst, x, y, sh+sl)
		return
	}
	generated.GradF64Impl(impl(), &p, dst, x, y)
}

func grad32(l Loss, dst, x, y []float32, sh, sl float64) {
	p, deg := setup(l, true, sh, sl)
	if deg {
		degGrad(float32(l.param()), dst, x, y, float32(sh+sl))
		return
	}
	generated.GradF32Impl(impl(), &p, dst, x, y)
}

func gradElem64(l Loss, dst, x, y, g []float64) {
	p, deg := setup(l, false, 0, 0)
	if deg {
		degGradElem(l.param(), dst, x, y, g)
		return
	}
	generated.GradElemF64Impl(impl(), &p, dst, x, y, g)
}

func gradElem32(l Loss, dst, x, y, g []float32) {
	p, deg := setup(l, true, 0, 0)
	if deg {
		degGradElem(float32(l.param()), dst, x, y, g)
		return
	}
	generated.GradElemF32Impl(impl(), &p, dst, x, y, g)
}

func sumGrad64(l Loss, dst, x, y []float64, g float64, mean bool) float64 {
	sh, sl := g, 0.0
	if mean {
		sh, sl = meanScale(g, len(x))
	}
	p, deg := setup(l, false, sh, sl)
	if deg {
		hi, lo := degSum(l.param(), x, y) // before dst, which may be x or y, is written
		degGrad(l.param(), dst, x, y, sh+sl)
		return finish64(hi, lo, mean, len(x))
	}
	var acc [2 * generated.Lanes]float64
	generated.SumGradF64Impl(impl(), &p, dst, x, y, &acc)
	hi, lo := combine64(&acc)
	return finish64(hi, lo, mean, len(x))
}

func sumGrad32(l Loss, dst, x, y []float32, g float64, mean bool) float32 {
	sh, sl := g, 0.0
	if mean {
		sh, sl = meanScale(g, len(x))
	}
	p, deg := setup(l, true, sh, sl)
	if deg {
		hi, lo := degSum(float32(l.param()), x, y)
		degGrad(float32(l.param()), dst, x, y, float32(sh+sl))
		return float32(finish64(hi, lo, mean, len(x)))
	}
	var acc [generated.Lanes]float64
	generated.SumGradF32Impl(impl(), &p, dst, x, y, &acc)
	return float32(finish32(&acc, mean, len(x)))
}
