package kernel

// This file describes the weighted families (issue 15): WeightedSum,
// WeightedSumAndGrad and WeightSum. Their canonical order is their own, stated
// here; it does not follow Sum's, so that Sum's order may change without changing
// theirs. Sum's second edition defers the scaling (a sum of V, then K*K subtracted
// once per linear element): weighted, that would need the weights of the linear
// elements summed in double-double too, and the subtraction cancels where the
// weights have both signs; the weighted sums carry each element's loss in
// double-double instead (the first edition's loss), and multiply it by w exactly.
//
// # The canonical order of the weighted sums
//
// Per element, with w the weight (float32 data widened exactly):
//
//	float32 data:  z is replaced by +Inf where x - y overflows float32 (as in
//	               Elementwise), loss = z < K ? (z*z)*Ah : B*(z - H) in float64,
//	               replaced by +Inf where it rounds to +Inf in float32 (loss >=
//	               Ovf), so that every loss is the float32 loss's value or a
//	               closer one, and infinite where that one is; t = loss*w
//	               rounded to float64; lane sums s += t (WeightedSum)
//	               and ws += w (WeightSum), plain float64 additions.
//	float64 data:  the loss in double-double, hi + lo, exactly as the first
//	               edition of Sum computed it (lossDD below); the product with w
//	               as ph = hi*w and pl = fma(lo, w, fms(hi, w, ph)) (the exact
//	               error of hi*w plus lo*w, one rounding); lane double-doubles
//	               (h, l) += ph + pl and (wh, wl) += w, each hi part by an exact
//	               TwoSum (6 operations: the weights, and so the terms, may have
//	               either sign), each lo part by plain addition of the error and,
//	               for the loss, pl. (h, l) and (wh, wl) are the accumulators of
//	               two kernels: WeightedSum and WeightSum.
//	gradient:      the gradient of the Grad family (scale folded into GA and GB),
//	               times w, rounded once to T on store.
//
// 0*Inf and 0*NaN are NaN: a weight of 0 does not hide a NaN or an infinite loss,
// as in PyTorch's (loss * w).sum(). WeightedSumAndGrad sums the losses operation for
// operation as WeightedSum does, so the two give the same bits.
//
// Accuracy. With non-negative weights every term is non-negative: the float64 lane
// double-doubles keep every error of the hi parts, and a term carries a relative
// error near 2^-104 (lossDD's, the product's); the lo parts' own roundings stay
// below m*u*(m*u + 2^-51) of the lane sum for m elements per lane (u = 2^-53), as
// for the first edition of Sum. So the sum before its final rounding is within
// 2^-60 (relative) for m up to 2^25, and the rounded result within 1 ulp. The float32
// sums: each term within 3u, each lane sum of m terms within (m + 3)u, below 2^-28
// for 2^24 elements: within 1 ulp of float32 after rounding. With weights of both
// signs the same bounds hold relative to the sum of |w|*loss instead of the sum:
// the error before the final rounding is at most about 2^-60 (float64; float32
// 2^-28) times the sum of |w[i]*loss[i]|, which is an absolute bound, not a
// relative one, where the terms cancel.

// familyAccs gives the accumulators of the families whose lanes are not Sum's.
// WeightedSum does not also sum the weights, though WeightedMean needs both sums:
// with (wh, wl) besides (h, l) its float64 AVX2 kernel needs more than the 16
// vector registers AVX2 has. WeightedMean runs WeightSum as well.
var familyAccs = map[Family]func(Type) []string{
	WeightedSum:        weightedAccs,
	WeightedSumAndGrad: weightedAccs,
	WeightSum: func(t Type) []string {
		if t == F32 {
			return []string{"ws"}
		}
		return []string{"wh", "wl"}
	},
}

// weightedAccs are the accumulators of the weighted loss sums: float32 data the
// float64 lane sums s, float64 data the lane double-doubles (h, l).
func weightedAccs(t Type) []string {
	if t == F32 {
		return []string{"s"}
	}
	return []string{"h", "l"}
}

func init() {
	body[WeightedSum] = func(b *builder, t Type, d diff) {
		b.weightedTerm(t, d, b.named("w", b.load("w")))
	}
	body[WeightedSumAndGrad] = func(b *builder, t Type, d diff) {
		// The gradient first: its store frees the registers of d, e and the sign
		// for the loss (AVX2 has 16).
		w := b.named("w", b.load("w"))
		b.store("dst", b.named("wgrad", b.mul(b.grad(t, d), w)))
		b.weightedTerm(t, d, w)
	}
	body[WeightSum] = func(b *builder, t Type, d diff) {
		b.weightSum(t, b.named("w", b.load("w")))
	}
}

// lossDD returns the per-element loss as a double-double hi + lo (float64 data) or
// hi alone (lo = -1, float32 data), computed as the first edition of the canonical
// order computed every loss: for float64 data, from the exact |d| = z + zl, the
// square, the products and the subtraction of H carried with their exact errors.
func (b *builder) lossDD(t Type, d diff) (hi, lo int) {
	z := d.z
	if t == F32 {
		q := b.named("q", b.mul(b.named("zz", b.mul(z, z)), b.param("Ah")))
		l := b.named("l", b.mul(b.param("B"), b.named("zh", b.sub(z, b.param("H")))))
		loss := b.named("loss", b.sel(d.m, q, l))
		// A loss that rounds to +Inf in float32 is +Inf, as the float32 loss
		// of Elementwise (and PyTorch's): a weight of 0 then gives NaN.
		big := b.named("big", b.le(b.param("Ovf"), loss))
		return b.named("loss", b.sel(big, b.param("Inf"), loss)), -1
	}
	// Quadratic branch: (z + zl)^2 * (Ah + Al) as qh + ql.
	ah := b.param("Ah")
	p := b.named("p", b.mul(z, z))
	pl0 := b.fms(z, z, p)
	pl := b.named("pl", b.fma(b.add(z, z), d.zl, pl0))
	qh := b.named("qh", b.mul(p, ah))
	ql0 := b.fms(p, ah, qh)
	ql1 := b.fma(pl, ah, ql0)
	ql := b.named("ql", b.fma(p, b.param("Al"), ql1))
	// Linear branch: B * ((z + zl) - H) as lh + ll. z >= K >= H, so Fast2Sum is exact.
	h, bb := b.param("H"), b.param("B")
	mh := b.named("mh", b.sub(z, h))
	ml := b.named("ml", b.add(b.sub(b.sub(z, mh), h), d.zl))
	lh := b.named("lh", b.mul(bb, mh))
	ll0 := b.fms(bb, mh, lh)
	ll := b.named("ll", b.fma(bb, ml, ll0))
	return b.named("hi", b.sel(d.m, qh, lh)), b.named("lo", b.sel(d.m, ql, ll))
}

// twoSumAcc adds v (and, for a double-double, its low part vl, or -1) to the
// accumulator pair hiAcc, loAcc by an exact TwoSum, valid for addends of any sign.
func (b *builder) twoSumAcc(hiAcc, loAcc string, v, vl int) {
	h, l := b.acc(hiAcc), b.acc(loAcc)
	s, err := b.twoSum(h, v)
	err = b.named("err", err)
	b.setAcc(hiAcc, s)
	if vl >= 0 {
		err = b.add(err, vl)
	}
	b.setAcc(loAcc, b.add(l, err))
}

// weightedTerm adds w times the loss to the loss accumulators.
func (b *builder) weightedTerm(t Type, d diff, w int) {
	hi, lo := b.lossDD(t, d)
	if t == F32 {
		b.setAcc("s", b.add(b.acc("s"), b.named("term", b.mul(hi, w))))
		return
	}
	ph := b.named("ph", b.mul(hi, w))
	pl := b.named("pl", b.fma(lo, w, b.fms(hi, w, ph)))
	b.twoSumAcc("h", "l", ph, pl)
}

// weightSum adds w to the weight accumulators.
func (b *builder) weightSum(t Type, w int) {
	if t == F32 {
		b.setAcc("ws", b.add(b.acc("ws"), w))
		return
	}
	b.twoSumAcc("wh", "wl", w, -1)
}
