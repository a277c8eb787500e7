package smoothl1

import (
	"fmt"
	"math"

	"github.com/gokernels/smoothl1/generated"
)

// This file holds the weighted reductions (WeightedSum, WeightedMean and their
// fused gradients). The per-element and per-lane order is the weighted families' in
// gen/kernel (weighted.go). Inputs longer than a chunk follow the chunk grid of the
// canonical order (chunkLen, mergeTree: kernels.go), on the thread pool for long
// ones (threads.go): the weighted lanes fill the first 8 (float32) or 16 (float64)
// elements of lanes, the rest zero, and merge32 and merge64 merge them as Sum's.
// The lanes are then combined pairwise and rounded by the scalar code here, shared
// by every implementation.

// noParams are the parameters of WeightSum, which reads none.
var noParams generated.Params

// combineDD adds the lane double-doubles of a (hi in [0:8], lo in [8:16]) pairwise,
// ((0+1)+(2+3))+((4+5)+(6+7)), hi parts by TwoSum.
func combineDD(a []float64) (hi, lo float64) {
	add := func(h0, l0, h1, l1 float64) (float64, float64) {
		s, e := twoSum(h0, h1)
		return s, (l0 + l1) + e
	}
	h01, l01 := add(a[0], a[8], a[1], a[9])
	h23, l23 := add(a[2], a[10], a[3], a[11])
	h45, l45 := add(a[4], a[12], a[5], a[13])
	h67, l67 := add(a[6], a[14], a[7], a[15])
	h03, l03 := add(h01, l01, h23, l23)
	h47, l47 := add(h45, l45, h67, l67)
	return add(h03, l03, h47, l47)
}

// combinePlain adds the float64 lane sums a[0:8] pairwise.
func combinePlain(a []float64) float64 {
	return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

// isFinite reports whether v is neither infinite nor NaN.
func isFinite(v float64) bool { return v-v == 0 }

// ddRound rounds the double-double hi + lo; lo is meaningless where hi is not finite.
func ddRound(hi, lo float64) float64 {
	if !isFinite(hi) {
		return hi
	}
	return hi + lo
}

// ddQuo returns (hi + lo) / (wh + wl) rounded to float64, to within a hair of correct
// rounding; NaN where the divisor is 0.
func ddQuo(hi, lo, wh, wl float64) float64 {
	if wh+wl == 0 {
		return math.NaN()
	}
	if !isFinite(hi) || !isFinite(wh) {
		return hi / wh
	}
	q := hi / wh
	r := math.FMA(-q, wh, hi) + lo - float64(q*wl)
	return q + r/wh
}

// wScale returns g / (wh + wl) as a double-double: the gradient scale of a weighted
// mean.
func wScale(g, wh, wl float64) (sh, sl float64) {
	sh = g / wh
	if !isFinite(sh) || !isFinite(wh) {
		return sh, 0
	}
	sl = (math.FMA(-sh, wh, g) - float64(sh*wl)) / wh
	return sh, sl
}

// weightSum64 returns the sum of the float64 weights as a double-double, in the
// canonical order (WeightSum lanes, chunk tree, pairwise lanes).
func weightSum64(w []float64) (hi, lo float64) {
	var acc lanes
	if len(w) <= chunkLen {
		generated.WeightSumF64Impl(impl(), &noParams, w, (*[2 * generated.Lanes]float64)(acc[:]))
	} else {
		acc = run(&call{op: opWeightSum64, impl: impl(), n: len(w), w64: w})
	}
	return combineDD(acc[:])
}

// weightSum32 returns the sum of the float32 weights in float64, in the canonical
// order.
func weightSum32(w []float32) float64 {
	var acc lanes
	if len(w) <= chunkLen {
		generated.WeightSumF32Impl(impl(), &noParams, w, (*[generated.Lanes]float64)(acc[:]))
	} else {
		acc = run(&call{op: opWeightSum32, impl: impl(), n: len(w), w32: w})
	}
	return combinePlain(acc[:])
}

// wsum64 returns the weighted sum of the float64 losses as a double-double, and
// writes the weighted gradient to dst if dst is not nil (p then holds its scale).
// scale is the gradient scale, for the scalar path of degenerate parameters.
func wsum64(l Loss, p *generated.Params, deg bool, scale float64, dst, x, y, w []float64) (hi, lo float64) {
	if deg {
		hi, lo = degWeightedSum(l.param(), x, y, w) // before dst, which may be an input, is written
		if dst != nil {
			degWeightedGrad(l.param(), dst, x, y, w, scale)
		}
		return hi, lo
	}
	var acc lanes
	a := (*[2 * generated.Lanes]float64)(acc[:])
	switch n := len(x); {
	case n > chunkLen && dst != nil:
		acc = run(&call{op: opWSumGrad64, impl: impl(), n: n, p: *p, d64: dst, x64: x, y64: y, w64: w})
	case n > chunkLen:
		acc = run(&call{op: opWSum64, impl: impl(), n: n, p: *p, x64: x, y64: y, w64: w})
	case dst != nil:
		generated.WeightedSumAndGradF64Impl(impl(), p, dst, x, y, w, a)
	default:
		generated.WeightedSumF64Impl(impl(), p, x, y, w, a)
	}
	return combineDD(acc[:])
}

// wsum32 is wsum64 for float32 data: the sum in float64, rounded by the caller.
func wsum32(l Loss, p *generated.Params, deg bool, scale float64, dst, x, y, w []float32) float64 {
	if deg {
		hi, lo := degWeightedSum(float32(l.param()), x, y, w)
		if dst != nil {
			degWeightedGrad(float32(l.param()), dst, x, y, w, float32(scale))
		}
		return ddRound(hi, lo)
	}
	var acc lanes
	a := (*[generated.Lanes]float64)(acc[:])
	switch n := len(x); {
	case n > chunkLen && dst != nil:
		acc = run(&call{op: opWSumGrad32, impl: impl(), n: n, p: *p, d32: dst, x32: x, y32: y, w32: w})
	case n > chunkLen:
		acc = run(&call{op: opWSum32, impl: impl(), n: n, p: *p, x32: x, y32: y, w32: w})
	case dst != nil:
		generated.WeightedSumAndGradF32Impl(impl(), p, dst, x, y, w, a)
	default:
		generated.WeightedSumF32Impl(impl(), p, x, y, w, a)
	}
	return combinePlain(acc[:])
}

// degWeightedSum is the weighted sum on the scalar path of degenerate parameters:
// each loss in T, as degSum, times w in float64 with its exact error, added in
// double-double.
func degWeightedSum[T Float](beta T, x, y, w []T) (hi, lo float64) {
	for i := range x {
		l, wi := float64(degLoss(beta, x[i], y[i])), float64(w[i])
		p := float64(l * wi)
		pe := math.FMA(l, wi, -p)
		var e float64
		hi, e = twoSum(hi, p)
		lo += e + pe
	}
	return hi, lo
}

// degWeightedGrad is the weighted gradient on the scalar path of degenerate
// parameters: the derivative times the scale, then times w, in T.
func degWeightedGrad[T Float](beta T, dst, x, y, w []T, scale T) {
	for i := range x {
		dst[i] = T(degDeriv(beta, x[i], y[i])*scale) * w[i]
	}
}

// WeightedSum returns the sum of the per-element losses times their weights,
// w[0]*loss(x[0], y[0]) + w[1]*loss(x[1], y[1]) + ..., PyTorch's
// (loss(x, y, reduction='none') * w).sum(); 0 for empty input.
//
// Weights are ordinary values, not a mask: 0*NaN and 0*Inf are NaN, so a weight of 0
// does not hide a NaN prediction or an infinite loss (zero such elements, or drop
// them, before the call). With non-negative weights the result is within 1 ulp of
// the exact weighted sum of the exact losses, at every length. With weights of both
// signs the sum is computed in the same canonical order, and its error before the
// final rounding is at most about 2^-60 (float32 data: 2^-28) times the sum of
// |w[i]*loss(x[i], y[i])|: terms that cancel leave the absolute error of that size,
// not a relative one. The result has the same bits on every implementation.
//
// It panics if x, y and w differ in length.
func WeightedSum[T Float](l Loss, x, y, w []T) T {
	checkWeights("WeightedSum", x, y, w)
	if isF32[T]() {
		p, deg := setup(l, true)
		return T(float32(wsum32(l, p, deg, 0, nil, f32(x), f32(y), f32(w))))
	}
	p, deg := setup(l, false)
	return T(ddRound(wsum64(l, p, deg, 0, nil, f64(x), f64(y), f64(w))))
}

// WeightedMean returns the weighted mean of the per-element losses,
// WeightedSum(l, x, y, w) divided by the sum of the weights, PyTorch's
// (loss * w).sum() / w.sum(); NaN where the weights sum to 0, and for empty input.
// Both sums are carried in extended precision and divided once: with non-negative
// weights the result is within 1 ulp of the exact weighted mean. Weights are
// ordinary values, as in WeightedSum. It panics if x, y and w differ in length.
func WeightedMean[T Float](l Loss, x, y, w []T) T {
	checkWeights("WeightedMean", x, y, w)
	if isF32[T]() {
		p, deg := setup(l, true)
		s := wsum32(l, p, deg, 0, nil, f32(x), f32(y), f32(w))
		ws := weightSum32(f32(w))
		if ws == 0 {
			return T(math.NaN())
		}
		return T(float32(s / ws))
	}
	p, deg := setup(l, false)
	hi, lo := wsum64(l, p, deg, 0, nil, f64(x), f64(y), f64(w))
	wh, wl := weightSum64(f64(w))
	return T(ddQuo(hi, lo, wh, wl))
}

// WeightedSumAndGrad returns WeightedSum(l, x, y, w) and writes the gradient of
// gradOut times that sum with respect to x to dst, in one pass over the data:
// dst[i] = gradOut * w[i] * d loss(x[i], y[i]) / d x[i], computed as the gradient of
// Grad (with scale gradOut) times w[i], rounded once. The sum is bit-identical to
// WeightedSum's. The gradient with respect to y is -dst. dst may be x, y or w (the
// sum is of the inputs as they were). It panics if x, y, w and dst differ in length,
// or dst overlaps an input partially.
func WeightedSumAndGrad[T Float](l Loss, dst, x, y, w []T, gradOut T) T {
	checkWeightedDst("WeightedSumAndGrad", dst, x, y, w)
	if isF32[T]() {
		p, deg := setupGrad(l, true, float64(gradOut), 0)
		return T(float32(wsum32(l, &p, deg, float64(gradOut), f32(dst), f32(x), f32(y), f32(w))))
	}
	p, deg := setupGrad(l, false, float64(gradOut), 0)
	return T(ddRound(wsum64(l, &p, deg, float64(gradOut), f64(dst), f64(x), f64(y), f64(w))))
}

// WeightedMeanAndGrad returns WeightedMean(l, x, y, w) and writes the gradient of
// gradOut times that mean with respect to x to dst: dst[i] = gradOut * w[i] / W *
// d loss(x[i], y[i]) / d x[i], with W the sum of the weights and gradOut / W carried
// in extended precision. The mean is bit-identical to WeightedMean's. Where the
// weights sum to 0 (or the input is empty) it returns NaN and fills dst with NaN.
// It reads w twice (the sum of the weights first, then the fused pass), and
// otherwise behaves as WeightedSumAndGrad.
func WeightedMeanAndGrad[T Float](l Loss, dst, x, y, w []T, gradOut T) T {
	checkWeightedDst("WeightedMeanAndGrad", dst, x, y, w)
	if isF32[T]() {
		ws := weightSum32(f32(w))
		if ws == 0 {
			fillNaN(dst)
			return T(math.NaN())
		}
		sh, sl := wScale(float64(gradOut), ws, 0)
		p, deg := setupGrad(l, true, sh, sl)
		s := wsum32(l, &p, deg, sh+sl, f32(dst), f32(x), f32(y), f32(w))
		return T(float32(s / ws))
	}
	wh, wl := weightSum64(f64(w))
	if wh+wl == 0 {
		fillNaN(dst)
		return T(math.NaN())
	}
	sh, sl := wScale(float64(gradOut), wh, wl)
	p, deg := setupGrad(l, false, sh, sl)
	hi, lo := wsum64(l, &p, deg, sh+sl, f64(dst), f64(x), f64(y), f64(w))
	return T(ddQuo(hi, lo, wh, wl))
}

func fillNaN[T Float](dst []T) {
	for i := range dst {
		dst[i] = T(math.NaN())
	}
}

func checkWeights[T Float](op string, x, y, w []T) {
	if len(x) != len(y) || len(w) != len(x) {
		panic(fmt.Sprintf("smoothl1: %s: length mismatch: len(x) = %d, len(y) = %d, len(w) = %d", op, len(x), len(y), len(w)))
	}
}

func checkWeightedDst[T Float](op string, dst, x, y, w []T) {
	checkWeights(op, x, y, w)
	if len(dst) != len(x) {
		panic(fmt.Sprintf("smoothl1: %s: dst has the wrong length: len(dst) = %d, len(x) = %d", op, len(dst), len(x)))
	}
	checkOverlap(op, dst, "x", x)
	checkOverlap(op, dst, "y", y)
	checkOverlap(op, dst, "w", w)
}
