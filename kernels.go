package smoothl1

import (
	"math"
	"math/bits"

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
	// slowSum: float64 data, a K whose square (subtracted from the sum of V once
	// per linear element, see gen/kernel) is not a normal float64: K finite and
	// above 2^511, or positive and below 2^-511. Sums then take sumSlow64.
	slowSum bool
}

// The accumulator arrays of the kernels with a sum (see gen/kernel): float32 Sum
// q and l; float32 SumAndGrad q, l and m; float64 h, l and c, Lanes each.
type (
	acc32  = [2 * generated.Lanes]float64
	acc32g = [3 * generated.Lanes]float64
	acc64  = [3 * generated.Lanes]float64
)

// lanes holds the accumulators of one kernel call (a chunk) or of merged chunks, for
// every kernel with a sum: acc64 itself, and acc32 or acc32g in its first 16 or 24
// elements (the rest zero).
type lanes = acc64

// chunkLen is C, the length of the chunk grid of the canonical order (gen/kernel):
// an input of n elements is cut into chunks of C elements (the last one shorter),
// each chunk is reduced into its own lane accumulators by one kernel call, and the
// chunks' accumulators are combined by mergeTree in a fixed tree over the chunk
// index, then finished (finish64 or finish32) as a one-chunk input's. The tree does
// not depend on the number of threads, so neither do the results; an input of at
// most C elements is one chunk. The elementwise kernels have no accumulators: any
// split at a multiple of Lanes gives the same bits. Chunks are a multiple of Lanes
// long, so only the last one is padded, as the whole input would be.
//
// C = 2^16 was chosen by measurement (see the README): a chunk boundary costs a kernel
// call and a merge, 40-50 ns on AMD EPYC Zen 4, 0.3% of a float32 chunk in cache
// (0.1% of a float64 one; 2^14 would cost 1%), and an input at the parallel threshold
// (parallelMin, 2^18) still has 4 chunks to share out.
const chunkLen = 1 << 16

// merge64 merges the float64 accumulators b of later chunks into a, lane by lane:
// h by an exact two-sum of the two h parts, l the sum of the two l parts and the
// error of h (as combine64 adds lanes), and the counts c added (exact integers).
// A new accumulator layout changes this function and merge32, nothing else.
func merge64(a, b lanes) lanes {
	const n = generated.Lanes
	for i := 0; i < n; i++ {
		s, e := twoSum(a[i], b[i])
		a[i], a[n+i] = s, (a[n+i]+b[n+i])+e
		a[2*n+i] += b[2*n+i]
	}
	return a
}

// merge32 merges the float32 accumulators b of later chunks into a, lane by lane:
// the sums q and l are added, and SumAndGrad's largest z m is the larger one (the
// float32 Sum leaves m zero).
func merge32(a, b lanes) lanes {
	const n = generated.Lanes
	for i := 0; i < n; i++ {
		a[i] += b[i]
		a[n+i] += b[n+i]
		if b[2*n+i] > a[2*n+i] {
			a[2*n+i] = b[2*n+i]
		}
	}
	return a
}

// mergeTree returns the accumulators of the items lo..hi-1 (hi > lo) combined in the
// canonical tree: the leaf itself for one item, else merge(tree(lo, lo+p),
// tree(lo+p, hi)) with p the largest power of two strictly below hi-lo. leaf returns
// the accumulators of item i. (Accumulators pass by value: a pointer passed to a
// function value would move them to the heap.) The items are chunks, or, on the
// parallel path, aligned runs of a power-of-two number of chunks (each already a
// subtree of this tree) and a last, shorter run: the tree over those runs is the tree
// over their chunks.
func mergeTree(lo, hi int, leaf func(i int) lanes, merge func(a, b lanes) lanes) lanes {
	if hi-lo == 1 {
		return leaf(lo)
	}
	p := 1 << (bits.Len(uint(hi-lo-1)) - 1)
	return merge(mergeTree(lo, lo+p, leaf, merge), mergeTree(lo+p, hi, leaf, merge))
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
	k := lp.p[1][generated.PK]
	lp.slowSum = !lp.deg[1] && k < math.Inf(1) && (k > 0x1p511 || (k > 0 && k < 0x1p-511))
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
	p[generated.POne] = 1
	p[generated.PKg] = k
	if k == 0 {
		p[generated.PKg] = 0x1p-1074
	}
	// The float64 sums add V = z < K ? z*z : P*z and subtract K*K per linear
	// element: the sum of the losses is that over D (see gen/kernel).
	p[generated.PP] = 2 * k
	setDivisor(&p, 2*k)
	if k == 0 { // SmoothL1(0): every element is linear, V = z, and nothing to subtract
		p[generated.PP] = 1
		setDivisor(&p, 1)
	}
	if kind == kindHuber {
		p[generated.PAh] = 0.5
		p[generated.PB] = k
		p[generated.PDq] = 1
		setDivisor(&p, 2)
		p[generated.PBH] = k * p[generated.PH]
		if single && math.IsInf(k, 1) {
			// The float32 kernels (but Elementwise) keep the float64 |x - y| where x - y
			// overflows float32: z < Ovf is false there, as +Inf < +Inf would be.
			p[generated.PK], p[generated.PKg] = p[generated.POvf], p[generated.POvf]
		}
		return p, false
	}
	// SmoothL1. beta = +Inf, and (float64) a subnormal beta whose reciprocal
	// overflows, follow PyTorch's formula literally on the scalar path.
	if math.IsInf(k, 1) || (!single && k > 0 && k < 0x1p-1022) {
		return p, true
	}
	p[generated.PB] = 1
	p[generated.PBH] = p[generated.PH]
	p[generated.PDq] = k
	if k == 0 {
		p[generated.PDq] = 1 // the quadratic gradient of d = 0: 0*g/1
	}
	if k > 0 {
		ah := 0.5 / k
		p[generated.PAh] = ah
		if !single {
			p[generated.PAl] = math.FMA(-ah, k, 0.5) / k
		}
	}
	return p, false
}

// setDivisor sets Di + Dl to 1/d as a double-double, which finish64 multiplies by
// (a product instead of two divisions per call).
func setDivisor(p *generated.Params, d float64) {
	di := 1 / d
	p[generated.PDi], p[generated.PDl] = di, math.FMA(-di, d, 1)/d
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

// pairwise adds 8 lane values as ((0+1)+(2+3))+((4+5)+(6+7)).
func pairwise(a []float64) float64 {
	return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))
}

// combine64 adds the float64 lane double-doubles (hi in acc[0:8], lo in acc[8:16])
// pairwise: ((0+1)+(2+3))+((4+5)+(6+7)), which keeps the chain of dependent
// additions short for short inputs.
func combine64(acc *acc64) (hi, lo float64) {
	add := addDD
	h01, l01 := add(acc[0], acc[8], acc[1], acc[9])
	h23, l23 := add(acc[2], acc[10], acc[3], acc[11])
	h45, l45 := add(acc[4], acc[12], acc[5], acc[13])
	h67, l67 := add(acc[6], acc[14], acc[7], acc[15])
	h03, l03 := add(h01, l01, h23, l23)
	h47, l47 := add(h45, l45, h67, l67)
	return add(h03, l03, h47, l47)
}

// addDD adds two lanes' double-doubles as combine64 does: h by an exact two-sum,
// l the sum of the l parts and the error of h.
func addDD(h0, l0, h1, l1 float64) (h, l float64) {
	s, e := twoSum(h0, h1)
	return s, (l0 + l1) + e
}

// finish64 turns the accumulators of the float64 Sum and SumAndGrad kernels for n
// elements into the sum of the losses, or their mean, rounded once to float64. The
// lanes hold the sum of V as hi + lo (acc[0:16]) and the count of quadratic elements
// (acc[16:24]); every element not counted, padding included, is linear and had
// K*K too much in V (for K = 0 that is nothing). The sum of the losses is
// (sum V - linear*K*K) / D, D's reciprocal a double-double (setDivisor).
func finish64(p *generated.Params, acc *acc64, mean bool, n int) float64 {
	if mean && n == 0 {
		return math.NaN()
	}
	hi, lo := combine64(acc)
	quad := pairwise(acc[2*generated.Lanes:]) // integers below 2^53: exact
	lin := float64(generated.Lanes*((n+generated.Lanes-1)/generated.Lanes)) - quad
	return finishSum64(p, hi, lo, lin, mean, n)
}

// finishSum64 is finish64 after the lanes are combined: the sum of V is hi + lo, lin
// the number of linear elements (padding included; read only where K > 0), n > 0
// the number of elements. The per-row path of short rows (rows_short.go) calls it too.
func finishSum64(p *generated.Params, hi, lo, lin float64, mean bool, n int) float64 {
	if k := p[generated.PK]; lin > 0 && k > 0 {
		// lin*K*K as ch + cl: kh + kl = K*K exactly, lin*kh exactly, lin*kl rounded
		// (2^-106 of it). The linear elements have V = 2K*z >= 2K*K, so the
		// subtraction cancels at most half of hi: what is left keeps its
		// relative accuracy to within a factor of 2.
		kh := float64(k * k)
		kl := math.FMA(k, k, -kh)
		ch := float64(lin * kh)
		cl := math.FMA(lin, kh, -ch) + float64(lin*kl)
		if !(hi < math.Inf(1)) { // +Inf (or NaN): Huber with delta = +Inf gives NaN here
			hi -= ch
		} else {
			s, e := twoSum(hi, -ch)
			hi, lo = s, (lo-cl)+e
		}
	}
	di, dl := p[generated.PDi], p[generated.PDl]
	if !(hi < math.Inf(1)) { // +Inf or NaN: lo is meaningless
		hi *= di
		if mean {
			return hi / float64(n)
		}
		return hi
	}
	// (hi + lo)*(di + dl) as q + r, to within 2^-104: q*(1 + 2^-53) at most, so
	// the error of r's rounding is far below the 2^-80 of the sum itself.
	q := float64(hi * di)
	r := math.FMA(hi, di, -q) + math.FMA(hi, dl, float64(lo*di))
	if !mean {
		return q + r
	}
	return ddDiv(q, r, float64(n))
}

// finishDD rounds the double-double sum hi + lo of the scalar paths, or the mean
// (hi + lo)/n, to float64.
func finishDD(hi, lo float64, mean bool, n int) float64 {
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

// The lane sums of a float32 kernel with one element whose x - y overflowed float32
// (|x - y| >= Ovf > K): l >= Ovf - MaxFloat32 = 2^103 where K < Ovf, q >= Ovf^2 >=
// 2^255 where K = Ovf (Huber with delta = +Inf). Lane sums this large make the
// float32 Sum look for such an element (overflows32); smaller ones rule it out.
const (
	ovfL = 0x1p103
	ovfQ = 0x1p255
)

// finish32 returns the sum or the mean of the losses of the float32 Sum and
// SumAndGrad kernels, rounded to float32 by the caller, from their lane sums of w*w
// (q, acc[0:8]) and of z - w (l, acc[8:16]): Ah*q + B*l, the lanes added pairwise,
// ((0+1)+(2+3))+((4+5)+(6+7)). With B = +Inf (Huber, delta = +Inf) l is 0 unless
// some element overflowed, and B*l is then left out rather than NaN. overflow
// reports whether some x - y overflowed float32; it is asked only where the sums
// are large enough (ovfL, ovfQ: a lane that large makes its total as large, since
// the terms are >= 0). Then the loss of such an element, the linear branch at z =
// +Inf (+Inf, or NaN for Huber with delta = +Inf), is added, as it would be with
// the replaced z (see gen/kernel).
func finish32(p *generated.Params, acc []float64, mean bool, n int, overflow func() bool) float64 {
	q := pairwise(acc[:generated.Lanes])
	l := pairwise(acc[generated.Lanes : 2*generated.Lanes])
	return finishSum32(p, q, l, mean, n, (q >= ovfQ || l >= ovfL) && overflow())
}

// finishSum32 is finish32 after the lanes are added: q and l are the sums of the
// lanes, ovf reports an element whose x - y overflowed float32 (asked only where q
// or l is that large). The per-row path of short rows (rows_short.go) calls it too.
func finishSum32(p *generated.Params, q, l float64, mean bool, n int, ovf bool) float64 {
	// (The conversions keep the compiler from fusing a product into the sum.)
	s := float64(p[generated.PAh] * q)
	if l != 0 {
		s += float64(p[generated.PB] * l)
	}
	if ovf {
		s += float64(p[generated.PB] * (math.Inf(1) - p[generated.PH]))
	}
	if mean {
		return s / float64(n)
	}
	return s
}

// overflows32 reports whether some x - y overflows float32: |x - y| >= Ovf exactly.
func overflows32(p *generated.Params, x, y []float32) bool {
	for i := range x {
		if math.Abs(float64(x[i])-float64(y[i])) >= p[generated.POvf] {
			return true
		}
	}
	return false
}

// sumSlow64 returns the sum of the float64 losses as a double-double, for a K that
// the kernels' V cannot take (lossParams.slowSum): each loss as a double-double, as
// the first canonical order computed it, then added with TwoSum.
func sumSlow64(p *generated.Params, x, y []float64) (hi, lo float64) {
	k, h, ah, al, b := p[generated.PK], p[generated.PH], p[generated.PAh], p[generated.PAl], p[generated.PB]
	for i := range x {
		s, e := twoSum(x[i], -y[i])
		z, zl := math.Abs(s), float64(math.Copysign(1, s)*e)
		var vh, vl float64
		if z < k {
			pp := float64(z * z)
			pl := math.FMA(z+z, zl, math.FMA(z, z, -pp))
			vh = float64(pp * ah)
			vl = math.FMA(pp, al, math.FMA(pl, ah, math.FMA(pp, ah, -vh)))
		} else {
			mh := z - h
			ml := ((z - mh) - h) + zl
			vh = float64(b * mh)
			vl = math.FMA(b, ml, math.FMA(b, mh, -vh))
		}
		var err float64
		hi, err = twoSum(hi, vh)
		lo += err + vl
	}
	return hi, lo
}

func elem64(l Loss, dst, x, y []float64) {
	p, deg := setup(l, false)
	if deg {
		degElementwise(l.param(), dst, x, y)
		return
	}
	if len(x) < parallelMin {
		generated.ElementwiseF64Impl(impl(), p, dst, x, y)
		return
	}
	run(&call{op: opElem64, impl: impl(), n: len(x), p: *p, d64: dst, x64: x, y64: y})
}

func elem32(l Loss, dst, x, y []float32) {
	p, deg := setup(l, true)
	if deg {
		degElementwise(float32(l.param()), dst, x, y)
		return
	}
	if len(x) < parallelMin {
		generated.ElementwiseF32Impl(impl(), p, dst, x, y)
		return
	}
	run(&call{op: opElem32, impl: impl(), n: len(x), p: *p, d32: dst, x32: x, y32: y})
}

func sum64(l Loss, x, y []float64, mean bool) float64 {
	p, deg := setup(l, false)
	if deg {
		hi, lo := degSum(l.param(), x, y)
		return finishDD(hi, lo, mean, len(x))
	}
	if l.params().slowSum {
		hi, lo := sumSlow64(p, x, y)
		return finishDD(hi, lo, mean, len(x))
	}
	var acc lanes
	if len(x) <= chunkLen {
		generated.SumF64Impl(impl(), p, x, y, &acc)
	} else {
		acc = run(&call{op: opSum64, impl: impl(), n: len(x), p: *p, x64: x, y64: y})
	}
	return finish64(p, &acc, mean, len(x))
}

func sum32(l Loss, x, y []float32, mean bool) float32 {
	p, deg := setup(l, true)
	if deg {
		hi, lo := degSum(float32(l.param()), x, y)
		return float32(finishDD(hi, lo, mean, len(x)))
	}
	id := impl()
	if id == generated.ImplAVX512 && len(x) < avx512MinSum32 {
		id = generated.ImplAVX2 // usable: the avx512 gate includes AVX2 and FMA
	}
	var acc lanes
	if len(x) <= chunkLen {
		generated.SumF32Impl(id, p, x, y, (*acc32)(acc[:]))
	} else {
		acc = run(&call{op: opSum32, impl: id, n: len(x), p: *p, x32: x, y32: y})
	}
	return float32(finish32(p, acc[:2*generated.Lanes], mean, len(x), func() bool { return overflows32(p, x, y) }))
}

func grad64(l Loss, dst, x, y []float64, sh, sl float64) {
	p, deg := setupGrad(l, false, sh, sl)
	if deg {
		degGrad(l.param(), dst, x, y, sh+sl)
		return
	}
	if len(x) < parallelMin {
		generated.GradF64Impl(impl(), &p, dst, x, y)
		return
	}
	run(&call{op: opGrad64, impl: impl(), n: len(x), p: p, d64: dst, x64: x, y64: y})
}

func grad32(l Loss, dst, x, y []float32, sh, sl float64) {
	p, deg := setupGrad(l, true, sh, sl)
	if deg {
		degGrad(float32(l.param()), dst, x, y, float32(sh+sl))
		return
	}
	if len(x) < parallelMin {
		generated.GradF32Impl(impl(), &p, dst, x, y)
		return
	}
	run(&call{op: opGrad32, impl: impl(), n: len(x), p: p, d32: dst, x32: x, y32: y})
}

func gradElem64(l Loss, dst, x, y, g []float64) {
	p, deg := setup(l, false)
	if deg {
		degGradElementwise(l.param(), dst, x, y, g)
		return
	}
	if len(x) < parallelMin {
		generated.GradElementwiseF64Impl(impl(), p, dst, x, y, g)
		return
	}
	run(&call{op: opGradElem64, impl: impl(), n: len(x), p: *p, d64: dst, x64: x, y64: y, g64: g})
}

func gradElem32(l Loss, dst, x, y, g []float32) {
	p, deg := setup(l, true)
	if deg {
		degGradElementwise(float32(l.param()), dst, x, y, g)
		return
	}
	if len(x) < parallelMin {
		generated.GradElementwiseF32Impl(impl(), p, dst, x, y, g)
		return
	}
	run(&call{op: opGradElem32, impl: impl(), n: len(x), p: *p, d32: dst, x32: x, y32: y, g32: g})
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
		return finishDD(hi, lo, mean, len(x))
	}
	if l.params().slowSum {
		hi, lo := sumSlow64(&p, x, y) // before dst, which may be x or y, is written
		generated.GradF64Impl(impl(), &p, dst, x, y)
		return finishDD(hi, lo, mean, len(x))
	}
	var acc lanes
	if len(x) <= chunkLen {
		generated.SumAndGradF64Impl(impl(), &p, dst, x, y, &acc)
	} else {
		acc = run(&call{op: opSumGrad64, impl: impl(), n: len(x), p: p, d64: dst, x64: x, y64: y})
	}
	return finish64(&p, &acc, mean, len(x))
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
		return float32(finishDD(hi, lo, mean, len(x)))
	}
	var acc lanes
	if len(x) <= chunkLen {
		generated.SumAndGradF32Impl(impl(), &p, dst, x, y, (*acc32g)(acc[:]))
	} else {
		acc = run(&call{op: opSumGrad32, impl: impl(), n: len(x), p: p, d32: dst, x32: x, y32: y})
	}
	// dst may be x or y: the kernel kept the largest z of each lane (m) instead.
	ovf := false
	for _, z := range acc[2*generated.Lanes:] {
		ovf = ovf || z >= p[generated.POvf]
	}
	return float32(finish32(&p, acc[:], mean, len(x), func() bool { return ovf }))
}
