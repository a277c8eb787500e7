package smoothl1

import (
	"math"

	"github.com/gokernels/smoothl1/generated"
)

// This file turns a Loss into kernel parameters, calls the kernel of the chosen
// implementation, and combines the lane accumulators. Everything here is shared by
// all implementations, so it cannot make them differ.

// lossParams are the kernel parameters of a loss, computed once when the Loss is
// made: index 0 for float32 data, 1 for float64. The gradient scales GA and GB are
// left zero; setupGrad sets them per call.
type lossParams struct {
	p   [2]generated.Params
	deg [2]bool // degenerate parameters: the scalar path of degenerate.go
}

// defaultParams are the parameters of the zero Loss, SmoothL1Loss(beta=1).
var defaultParams = newLossParams(kindSmoothL1, 1)

func (l Loss) params() *lossParams {
	if l.lp == nil {
		return defaultParams
	}
	return l.lp
}

// param returns beta or delta: K of the float64 parameters, which is the value given.
func (l Loss) param() float64 { return l.params().p[1][generated.PK] }

func newLossParams(kind lossKind, param float64) *lossParams {
	lp := new(lossParams)
	for i, single := range []bool{true, false} {
		lp.p[i], lp.deg[i] = baseParams(kind, param, single)
	}
	return lp
}

// baseParams returns the kernel parameters for a loss on element type float32 (single)
// or float64, and reports degenerate parameters.
func baseParams(kind lossKind, param float64, single bool) (p generated.Params, degenerate bool) {
	k := param
	if single {
		k = float64(float32(k)) // beta is converted to T once
	}
	p[generated.PK] = k
	p[generated.PH] = 0.5 * k
	p[generated.PNegZero] = math.Copysign(0, -1)
	p[generated.PInf] = math.Inf(1)
	// The smallest float64 that rounds to +Inf in float32: 2^128 - 2^103, the
	// midpoint between MaxFloat32 and 2^128, rounds to even, which is 2^128.
	p[generated.POvf] = 0x1p128 - 0x1p103
	if kind == kindHuber {
		p[generated.PAh] = 0.5
		p[generated.PB] = k
		p[generated.PDq] = 1
		if single && math.IsInf(k, 1) {
			// The float32 kernels (but Elementwise) keep the float64 |x - y| where x - y
			// overflows float32: z < Ovf is false there, as +Inf < +Inf would be.
			p[generated.PK] = p[generated.POvf]
		}
		return p, false
	}
	// SmoothL1. beta = +Inf, and (float64) a subnormal beta whose reciprocal
	// overflows, follow PyTorch's formula literally on the scalar path.
	if math.IsInf(k, 1) || (!single && k > 0 && k < 0x1p-1022) {
		return p, true
	}
	p[generated.PB] = 1
	p[generated.PDq] = k
	if k > 0 {
		ah := 0.5 / k
		p[generated.PAh] = ah
		if !single {
			p[generated.PAl] = math.FMA(-ah, k, 0.5) / k
		}
	}
	return p, false
}

// setup returns the kernel parameters for loss l on float32 (single) or float64 data,
// and reports degenerate parameters.
func setup(l Loss, single bool) (p *generated.Params, degenerate bool) {
	lp := l.params()
	if single {
		return &lp.p[0], lp.deg[0]
	}
	return &lp.p[1], lp.deg[1]
}

// setupGrad is setup with the gradient scale sh + sl (a double-double).
func setupGrad(l Loss, single bool, sh, sl float64) (p generated.Params, degenerate bool) {
	pp, degenerate := setup(l, single)
	p = *pp
	if l.kind == kindHuber {
		k := p[generated.PB] // delta (K may be clamped: baseParams)
		p[generated.PGA] = sh + sl
		p[generated.PGB] = sh * k
		if sl != 0 { // (not with delta = +Inf, where sl*k would be NaN)
			p[generated.PGB] = math.FMA(sh, k, float64(sl*k))
		}
	} else {
		k := p[generated.PK]
		p[generated.PGB] = sh + sl
		if k > 0 {
			p[generated.PGA] = ddDiv(sh, sl, k)
		}
	}
	return p, degenerate
}

// ddDiv returns (ah + al) / b rounded to float64 (to within a hair of correct rounding).
func ddDiv(ah, al, b float64) float64 {
	q := ah / b
	r := math.FMA(-q, b, ah) + al
	return q + r/b
}

// twoSum returns s = a + b rounded and the exact error e: s + e == a + b (Knuth).
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bv := s - a
	return s, (a - (s - bv)) + (b - bv)
}

// meanScale returns g/n as a double-double.
func meanScale(g float64, n int) (sh, sl float64) {
	nf := float64(n)
	sh = g / nf
	sl = math.FMA(-sh, nf, g) / nf
	return sh, sl
}

// combine64 adds the float64 lane accumulators (hi in acc[0:8], lo in acc[8:16]) in
// double-double, pairwise: ((0+1)+(2+3))+((4+5)+(6+7)), which keeps the chain of
// dependent additions short for short inputs.
func combine64(acc *[2 * generated.Lanes]float64) (hi, lo float64) {
	add := func(h0, l0, h1, l1 float64) (float64, float64) {
		s, e := twoSum(h0, h1)
		return s, (l0 + l1) + e
	}
	h01, l01 := add(acc[0], acc[8], acc[1], acc[9])
	h23, l23 := add(acc[2], acc[10], acc[3], acc[11])
	h45, l45 := add(acc[4], acc[12], acc[5], acc[13])
	h67, l67 := add(acc[6], acc[14], acc[7], acc[15])
	h03, l03 := add(h01, l01, h23, l23)
	h47, l47 := add(h45, l45, h67, l67)
	return add(h03, l03, h47, l47)
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

// finish32 adds the lane sums of the float32 Sum and SumAndGrad kernels (acc[0:8])
// pairwise, ((0+1)+(2+3))+((4+5)+(6+7)), and returns the sum or the mean, rounded to
// float32 by the caller. It first adds what the kernels leave to their caller (see
// gen/kernel): where the largest z of some lane (m, acc[8:16]) reaches Ovf, some
// x - y overflowed float32, and the loss of such an element, +Inf, or NaN for Huber
// with delta = +Inf, goes to lane 0, as it would be with the replaced losses.
func finish32(p *generated.Params, acc *[2 * generated.Lanes]float64, mean bool, n int) float64 {
	for _, z := range acc[generated.Lanes:] {
		if z >= p[generated.POvf] {
			// The linear branch at z = +Inf (+Inf < K is false for every K).
			acc[0] += p[generated.PB] * (math.Inf(1) - p[generated.PH])
			break
		}
	}
	s := ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
	if mean {
		return s / float64(n)
	}
	return s
}

func elem64(l Loss, dst, x, y []float64) {
	p, deg := setup(l, false)
	if deg {
		degElementwise(l.param(), dst, x, y)
		return
	}
	generated.ElementwiseF64Impl(impl(), p, dst, x, y)
}

func elem32(l Loss, dst, x, y []float32) {
	p, deg := setup(l, true)
	if deg {
		degElementwise(float32(l.param()), dst, x, y)
		return
	}
	generated.ElementwiseF32Impl(impl(), p, dst, x, y)
}

func sum64(l Loss, x, y []float64, mean bool) float64 {
	p, deg := setup(l, false)
	if deg {
		hi, lo := degSum(l.param(), x, y)
		return finish64(hi, lo, mean, len(x))
	}
	var acc [2 * generated.Lanes]float64
	generated.SumF64Impl(impl(), p, x, y, &acc)
	hi, lo := combine64(&acc)
	return finish64(hi, lo, mean, len(x))
}

func sum32(l Loss, x, y []float32, mean bool) float32 {
	p, deg := setup(l, true)
	if deg {
		hi, lo := degSum(float32(l.param()), x, y)
		return float32(finish64(hi, lo, mean, len(x)))
	}
	id := impl()
	if id == generated.ImplAVX512 && len(x) < avx512MinSum32 {
		id = generated.ImplAVX2 // usable: the avx512 gate includes AVX2 and FMA
	}
	var acc [2 * generated.Lanes]float64
	generated.SumF32Impl(id, p, x, y, &acc)
	return float32(finish32(p, &acc, mean, len(x)))
}

func grad64(l Loss, dst, x, y []float64, sh, sl float64) {
	p, deg := setupGrad(l, false, sh, sl)
	if deg {
		degGrad(l.param(), dst, x, y, sh+sl)
		return
	}
	generated.GradF64Impl(impl(), &p, dst, x, y)
}

func grad32(l Loss, dst, x, y []float32, sh, sl float64) {
	p, deg := setupGrad(l, true, sh, sl)
	if deg {
		degGrad(float32(l.param()), dst, x, y, float32(sh+sl))
		return
	}
	generated.GradF32Impl(impl(), &p, dst, x, y)
}

func gradElem64(l Loss, dst, x, y, g []float64) {
	p, deg := setup(l, false)
	if deg {
		degGradElementwise(l.param(), dst, x, y, g)
		return
	}
	generated.GradElementwiseF64Impl(impl(), p, dst, x, y, g)
}

func gradElem32(l Loss, dst, x, y, g []float32) {
	p, deg := setup(l, true)
	if deg {
		degGradElementwise(float32(l.param()), dst, x, y, g)
		return
	}
	generated.GradElementwiseF32Impl(impl(), p, dst, x, y, g)
}

func sumGrad64(l Loss, dst, x, y []float64, g float64, mean bool) float64 {
	sh, sl := g, 0.0
	if mean {
		sh, sl = meanScale(g, len(x))
	}
	p, deg := setupGrad(l, false, sh, sl)
	if deg {
		hi, lo := degSum(l.param(), x, y) // before dst, which may be x or y, is written
		degGrad(l.param(), dst, x, y, sh+sl)
		return finish64(hi, lo, mean, len(x))
	}
	var acc [2 * generated.Lanes]float64
	generated.SumAndGradF64Impl(impl(), &p, dst, x, y, &acc)
	hi, lo := combine64(&acc)
	return finish64(hi, lo, mean, len(x))
}

func sumGrad32(l Loss, dst, x, y []float32, g float64, mean bool) float32 {
	sh, sl := g, 0.0
	if mean {
		sh, sl = meanScale(g, len(x))
	}
	p, deg := setupGrad(l, true, sh, sl)
	if deg {
		hi, lo := degSum(float32(l.param()), x, y)
		degGrad(float32(l.param()), dst, x, y, float32(sh+sl))
		return float32(finish64(hi, lo, mean, len(x)))
	}
	var acc [2 * generated.Lanes]float64
	generated.SumAndGradF32Impl(impl(), &p, dst, x, y, &acc)
	return float32(finish32(&p, &acc, mean, len(x)))
}
