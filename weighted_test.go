package smoothl1

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gokernels/smoothl1/generated"
)

// The exact reference of the weighted reductions: the exact losses and derivatives
// of internal/reference times the weights, in rational arithmetic.

// refWeighted returns the exact weighted sum, the exact sum of the weights and the
// exact sum of |w*loss|, or false where the reference does not apply (non-finite
// values, or beta = +Inf for SmoothL1).
func refWeighted[T Float](l Loss, x, y, w []T) (s, ws, abs *big.Rat, ok bool) {
	r, ok := newRef[T](l)
	if !ok {
		return nil, nil, nil, false
	}
	s, ws, abs = new(big.Rat), new(big.Rat), new(big.Rat)
	for i := range x {
		if !finite(x[i]) || !finite(y[i]) || !finite(w[i]) {
			return nil, nil, nil, false
		}
		t := r.Loss(rat(x[i]), rat(y[i]))
		t.Mul(t, rat(w[i]))
		s.Add(s, t)
		abs.Add(abs, new(big.Rat).Abs(t))
		ws.Add(ws, rat(w[i]))
	}
	return s, ws, abs, true
}

// refWeightedGrad returns the exact gradients g * w[i] * dloss/dx (divided by div,
// if not nil) rounded to T.
func refWeightedGrad[T Float](l Loss, x, y, w []T, g T, div *big.Rat) ([]T, bool) {
	r, ok := newRef[T](l)
	if !ok || !finite(g) {
		return nil, false
	}
	out := make([]T, len(x))
	for i := range x {
		if !finite(x[i]) || !finite(y[i]) || !finite(w[i]) {
			return nil, false
		}
		d := r.Deriv(rat(x[i]), rat(y[i]))
		d.Mul(d, rat(g))
		d.Mul(d, rat(w[i]))
		if div != nil {
			d.Quo(d, div)
		}
		out[i] = round[T](d)
	}
	return out, true
}

// wLanes are the lanes of a float64 weighted kernel (h, l), or of a float32 one in
// the first 8.
type wLanes = [2 * generated.Lanes]float64

// weightKinds are the weight patterns of the tests: masks of 0 and 1, random
// non-negative weights, non-negative weights of wide range, and weights of both
// signs.
var weightKinds = []string{"mask", "uniform", "wide", "signed"}

func makeWeights[T Float](r *rand.Rand, kind string, n int) []T {
	w := make([]T, n)
	for i := range w {
		switch kind {
		case "mask":
			w[i] = T(r.IntN(2))
		case "uniform":
			w[i] = T(r.Float64())
		case "wide":
			w[i] = T(r.Float64() * math.Ldexp(1, r.IntN(31)-15))
		case "signed":
			w[i] = T(r.NormFloat64() * math.Ldexp(1, r.IntN(11)-5))
		}
	}
	return w
}

func makeInputs[T Float](r *rand.Rand, n int, wide bool) (x, y []T) {
	x, y = make([]T, n), make([]T, n)
	for i := range x {
		if wide {
			x[i] = T(r.NormFloat64() * math.Ldexp(1, r.IntN(31)-15))
			y[i] = T(r.NormFloat64() * math.Ldexp(1, r.IntN(31)-15))
		} else {
			x[i], y[i] = T(r.NormFloat64()), T(r.NormFloat64())
		}
	}
	return x, y
}

// weightLosses are losses with power-of-two and inexact parameters, and SmoothL1(0).
func weightLosses(t testing.TB) []Loss {
	return []Loss{{}, mustLoss(t, "smooth_l1", 0.3), mustLoss(t, "huber", 1.7), mustLoss(t, "huber", 0.5), mustLoss(t, "smooth_l1", 0)}
}

// weightedResult is everything the weighted operations return for one input.
type weightedResult[T Float] struct {
	sum, mean, fsum, fmean T
	gsum, gmean            []T
}

func runWeighted[T Float](l Loss, x, y, w []T, g T) weightedResult[T] {
	var res weightedResult[T]
	res.sum = WeightedSum(l, x, y, w)
	res.mean = WeightedMean(l, x, y, w)
	res.gsum, res.gmean = make([]T, len(x)), make([]T, len(x))
	res.fsum = WeightedSumAndGrad(l, res.gsum, x, y, w, g)
	res.fmean = WeightedMeanAndGrad(l, res.gmean, x, y, w, g)
	return res
}

func sameResult[T Float](a, b weightedResult[T]) string {
	switch {
	case !sameBits(a.sum, b.sum):
		return fmt.Sprintf("WeightedSum %v vs %v", a.sum, b.sum)
	case !sameBits(a.mean, b.mean):
		return fmt.Sprintf("WeightedMean %v vs %v", a.mean, b.mean)
	case !sameBits(a.fsum, b.fsum):
		return fmt.Sprintf("WeightedSumAndGrad %v vs %v", a.fsum, b.fsum)
	case !sameBits(a.fmean, b.fmean):
		return fmt.Sprintf("WeightedMeanAndGrad %v vs %v", a.fmean, b.fmean)
	}
	for i := range a.gsum {
		if !sameBits(a.gsum[i], b.gsum[i]) {
			return fmt.Sprintf("WeightedSumAndGrad dst[%d] %v vs %v", i, a.gsum[i], b.gsum[i])
		}
		if !sameBits(a.gmean[i], b.gmean[i]) {
			return fmt.Sprintf("WeightedMeanAndGrad dst[%d] %v vs %v", i, a.gmean[i], b.gmean[i])
		}
	}
	return ""
}

// TestWeighted holds the weighted reductions, on every implementation, against the
// exact reference: with non-negative weights the sums and means within 1 ulp, and
// with weights of both signs within the documented bound; gradients within 2 ulp;
// the fused forms bit-identical to the unfused ones; every implementation the same
// bits as the portable Go. Lengths cover every tail, two and three chunks.
func TestWeighted(t *testing.T) {
	testWeighted[float32](t)
	testWeighted[float64](t)
}

func testWeighted[T Float](t *testing.T) {
	r := newRand(15)
	// 5003: the prefetching copies of the loops (far prefetch distance, 8 KiB).
	lengths := []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 100, 1001, 5003}
	if !testing.Short() {
		lengths = append(lengths, chunkLen, chunkLen+9, 2*chunkLen+3)
	}
	for _, n := range lengths {
		for _, wk := range weightKinds {
			if n > 2000 && (wk == "mask" || wk == "uniform") {
				continue // the long inputs (chunks) with two kinds of weights
			}
			x, y := makeInputs[T](r, n, wk == "wide")
			w := makeWeights[T](r, wk, n)
			for li, l := range weightLosses(t) {
				if n > 2000 && li != 1 {
					continue
				}
				name := fmt.Sprintf("%T n=%d %s %s", T(0), n, wk, l)
				g := T(0.75)
				var want weightedResult[T]
				for k, in := range eachImpl(t) {
					got := runWeighted(l, x, y, w, g)
					if k == 0 {
						want = got
					} else if d := sameResult(got, want); d != "" {
						t.Fatalf("%s: %s differs from generic: %s", name, in.name, d)
					}
				}
				if !sameBits(want.fsum, want.sum) || !sameBits(want.fmean, want.mean) {
					t.Errorf("%s: fused %v %v, unfused %v %v", name, want.fsum, want.fmean, want.sum, want.mean)
				}
				checkWeightedExact(t, name, l, x, y, w, g, want, wk == "signed")
			}
		}
	}
}

func checkWeightedExact[T Float](t *testing.T, name string, l Loss, x, y, w []T, g T, got weightedResult[T], signed bool) {
	t.Helper()
	s, ws, abs, ok := refWeighted(l, x, y, w)
	if !ok {
		t.Fatalf("%s: no reference", name)
	}
	exactSum := round[T](s)
	var exactMean T = T(math.NaN())
	if ws.Sign() != 0 {
		exactMean = round[T](new(big.Rat).Quo(s, ws))
	}
	if !signed {
		if ulps(got.sum, exactSum) > 1 {
			t.Errorf("%s: WeightedSum = %v, exact %v: %d ulp", name, got.sum, exactSum, ulps(got.sum, exactSum))
		}
		if ulps(got.mean, exactMean) > 1 {
			t.Errorf("%s: WeightedMean = %v, exact %v: %d ulp", name, got.mean, exactMean, ulps(got.mean, exactMean))
		}
	} else {
		// The documented bound: 2^-60 (float32 data 2^-28) of the sum of |w*loss|,
		// besides the final rounding (half an ulp of the result).
		rel := 0x1p-60
		if isF32[T]() {
			rel = 0x1p-28
		}
		err := new(big.Rat).Sub(rat(got.sum), s)
		err.Abs(err)
		bound := new(big.Rat).Mul(abs, new(big.Rat).SetFloat64(rel))
		if ulps(got.sum, exactSum) > 1 && err.Cmp(bound.Add(bound, new(big.Rat).Abs(new(big.Rat).Sub(rat(exactSum), s)))) > 0 {
			t.Errorf("%s: WeightedSum = %v, exact %v: beyond the bound for signed weights", name, got.sum, exactSum)
		}
	}
	gs, ok := refWeightedGrad(l, x, y, w, g, nil)
	if !ok {
		t.Fatalf("%s: no gradient reference", name)
	}
	for i := range gs {
		if ulps(got.gsum[i], gs[i]) > 2 {
			t.Fatalf("%s: WeightedSumAndGrad dst[%d] = %v, exact %v (x=%v y=%v w=%v)", name, i, got.gsum[i], gs[i], x[i], y[i], w[i])
		}
	}
	if ws.Sign() == 0 {
		for i, v := range got.gmean {
			if v == v {
				t.Fatalf("%s: weights sum to 0, WeightedMeanAndGrad dst[%d] = %v, want NaN", name, i, v)
			}
		}
		return
	}
	if signed {
		// A weight sum that cancels is known only to its absolute error: W is
		// rounded; the gradients are then only as good as W.
		return
	}
	gm, _ := refWeightedGrad(l, x, y, w, g, ws)
	for i := range gm {
		if ulps(got.gmean[i], gm[i]) > 2 {
			t.Fatalf("%s: WeightedMeanAndGrad dst[%d] = %v, exact %v (x=%v y=%v w=%v)", name, i, got.gmean[i], gm[i], x[i], y[i], w[i])
		}
	}
}

// TestWeightedSpecial checks the special values: a weight of 0 does not hide a NaN
// or an infinite loss (0*NaN and 0*Inf are NaN, as PyTorch's (loss * w).sum()), an
// infinite loss takes the sign of its weight, a float32 x - y that overflows is an
// infinite loss, weights summing to 0 give a NaN mean, empty input gives 0 and NaN.
func TestWeightedSpecial(t *testing.T) {
	testWeightedSpecial[float32](t)
	testWeightedSpecial[float64](t)
}

func testWeightedSpecial[T Float](t *testing.T) {
	nan, inf := T(math.NaN()), T(math.Inf(1))
	big := T(3e38) // float32: 3e38 - (-3e38) overflows
	huge := big
	if !isF32[T]() {
		huge = T(math.Inf(1)) // x - y = Inf - (-Inf)
	}
	cases := []struct {
		name      string
		x, y, w   []T
		sum, mean T
	}{
		{"empty", nil, nil, nil, 0, nan},
		{"masked NaN", []T{nan, 1}, []T{0, 0}, []T{0, 1}, nan, nan},
		{"masked Inf", []T{inf, 1}, []T{0, 0}, []T{0, 1}, nan, nan},
		{"Inf weight 1", []T{inf, 1}, []T{0, 0}, []T{1, 1}, inf, inf},
		{"Inf weight -1", []T{inf, 1}, []T{0, 0}, []T{-1, 3}, -inf, -inf},
		{"Inf both signs", []T{inf, -inf}, []T{0, 0}, []T{1, -1}, nan, nan},
		{"overflow", []T{huge, 1}, []T{-huge, 1}, []T{2, 1}, inf, inf},
		{"masked overflow", []T{huge, 1}, []T{-huge, 1}, []T{0, 1}, nan, nan},
		{"weights sum to 0", []T{3, 1}, []T{0, 0}, []T{1, -1}, 2, nan},
		{"zero weights", []T{3, 1}, []T{0, 0}, []T{0, 0}, 0, nan},
		{"infinite weight", []T{3, 3}, []T{0, 0}, []T{inf, 1}, inf, nan},
	}
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			for _, l := range []Loss{{}, mustLoss(t, "huber", 2), mustLoss(t, "smooth_l1", math.Inf(1))} {
				for _, c := range cases {
					for pad := 0; pad <= 9; pad += 9 { // in the tail and in a full block
						x, y, w := c.x, c.y, c.w
						for k := 0; k < pad; k++ {
							x, y, w = append(x, 1), append(y, 0.5), append(w, 0)
						}
						if math.IsInf(l.Param(), 1) {
							switch c.name {
							case "weights sum to 0":
								continue // loss 0 for finite d: the sum is 0
							case "Inf weight 1", "Inf weight -1", "overflow", "infinite weight":
								// The formula's loss at z = +Inf is NaN (Inf - 0.5*Inf), and
								// the loss of a finite d is 0, times an infinite weight NaN.
								c.sum, c.mean = nan, nan
							}
						}
						got := WeightedSum(l, x, y, w)
						if !same(got, c.sum) && !(c.sum == 2 && got == got && got != 0) && !(c.sum == inf && got == inf) {
							t.Errorf("%s %s pad %d: WeightedSum = %v, want %v", l, c.name, pad, got, c.sum)
						}
						if c.sum != c.sum && got == got {
							t.Errorf("%s %s pad %d: WeightedSum = %v, want NaN", l, c.name, pad, got)
						}
						if m := WeightedMean(l, x, y, w); (c.mean != c.mean) != (m != m) || (c.mean == c.mean && m != c.mean) {
							t.Errorf("%s %s pad %d: WeightedMean = %v, want %v", l, c.name, pad, m, c.mean)
						}
						dst := make([]T, len(x))
						if fs := WeightedSumAndGrad(l, dst, x, y, w, 1); !sameBits(fs, got) {
							t.Errorf("%s %s: WeightedSumAndGrad = %v, WeightedSum %v", l, c.name, fs, got)
						}
						if fm, m := WeightedMeanAndGrad(l, dst, x, y, w, 1), WeightedMean(l, x, y, w); !sameBits(fm, m) {
							t.Errorf("%s %s: WeightedMeanAndGrad = %v, WeightedMean %v", l, c.name, fm, m)
						}
					}
				}
			}
		})
	}
}

// TestWeightedMask checks that weights of 0 and 1 give the Sum of the selected
// elements, bit for bit where they are one block's worth (a mask changes nothing
// but which elements count), and within 1 ulp of it always.
func TestWeightedMask(t *testing.T) {
	r := newRand(3)
	for _, n := range []int{5, 64, 1000} {
		x, y := makeInputs[float64](r, n, false)
		w := makeWeights[float64](r, "mask", n)
		var xs, ys []float64
		for i := range w {
			if w[i] == 1 {
				xs, ys = append(xs, x[i]), append(ys, y[i])
			}
		}
		for _, l := range weightLosses(t) {
			got, want := WeightedSum(l, x, y, w), Sum(l, xs, ys)
			if ulps(got, want) > 1 {
				t.Errorf("n=%d %s: masked WeightedSum %v, Sum of the selected %v", n, l, got, want)
			}
			if m, mw := WeightedMean(l, x, y, w), Mean(l, xs, ys); ulps(m, mw) > 1 {
				t.Errorf("n=%d %s: masked WeightedMean %v, Mean of the selected %v", n, l, m, mw)
			}
		}
	}
}

// TestWeightedDegenerate runs the scalar path of degenerate parameters (SmoothL1 with
// beta = +Inf; float64 with a subnormal beta): the fused forms agree with the
// unfused ones and the losses are PyTorch's formula (0 for finite d with beta =
// +Inf); every implementation gives the same bits.
func TestWeightedDegenerate(t *testing.T) {
	r := newRand(4)
	x, y := makeInputs[float64](r, 37, false)
	w := makeWeights[float64](r, "uniform", 37)
	for _, beta := range []float64{math.Inf(1), 1e-310} {
		l := mustLoss(t, "smooth_l1", beta)
		var want weightedResult[float64]
		for k, in := range eachImpl(t) {
			got := runWeighted(l, x, y, w, 0.5)
			if k == 0 {
				want = got
			} else if d := sameResult(got, want); d != "" {
				t.Fatalf("beta %v: %s: %s", beta, in.name, d)
			}
		}
		if want.sum != want.fsum || want.mean != want.fmean {
			t.Errorf("beta %v: fused differs", beta)
		}
		if math.IsInf(beta, 1) && (want.sum != 0 || want.gsum[3] != 0) {
			t.Errorf("beta +Inf: WeightedSum %v, gradient %v, want 0", want.sum, want.gsum[3])
		}
		if beta == 1e-310 {
			// Every element is linear: loss = |d| - beta/2.
			var s float64
			for i := range x {
				s += w[i] * math.Abs(x[i]-y[i])
			}
			if math.Abs(want.sum-s) > 1e-12*s {
				t.Errorf("beta 1e-310: WeightedSum %v, want about %v", want.sum, s)
			}
		}
	}
	x32, y32 := makeInputs[float32](r, 21, false)
	w32 := makeWeights[float32](r, "wide", 21)
	if got := WeightedSum(mustLoss(t, "smooth_l1", math.Inf(1)), x32, y32, w32); got != 0 {
		t.Errorf("float32 beta +Inf: WeightedSum %v, want 0", got)
	}
}

// TestWeightedInPlace checks dst == x, y or w: the same bits as out of place.
func TestWeightedInPlace(t *testing.T) {
	r := newRand(6)
	for _, n := range []int{3, 17, 1000} {
		x, y := makeInputs[float64](r, n, false)
		w := makeWeights[float64](r, "uniform", n)
		for _, l := range weightLosses(t)[:3] {
			for _, mean := range []bool{false, true} {
				op := WeightedSumAndGrad[float64]
				if mean {
					op = WeightedMeanAndGrad[float64]
				}
				dst := make([]float64, n)
				want := op(l, dst, x, y, w, 1.5)
				for which := 0; which < 3; which++ {
					xc, yc, wc := append([]float64(nil), x...), append([]float64(nil), y...), append([]float64(nil), w...)
					d := [][]float64{xc, yc, wc}[which]
					if got := op(l, d, xc, yc, wc, 1.5); !sameBits(got, want) {
						t.Errorf("n=%d mean=%v dst=input %d: %v, want %v", n, mean, which, got, want)
					}
					for i := range dst {
						if !sameBits(d[i], dst[i]) {
							t.Fatalf("n=%d mean=%v dst=input %d: dst[%d] = %v, want %v", n, mean, which, i, d[i], dst[i])
						}
					}
				}
			}
		}
	}
}

// TestWeightedPanics checks the misuse panics: each starts with "smoothl1:" and
// names the values.
func TestWeightedPanics(t *testing.T) {
	l := Loss{}
	a, b := make([]float64, 10), make([]float64, 9)
	buf := make([]float64, 20)
	cases := []struct {
		name string
		f    func()
		want string
	}{
		{"WeightedSum w", func() { WeightedSum(l, a, a, b) }, "len(w) = 9"},
		{"WeightedSum y", func() { WeightedSum(l, a, b, a) }, "len(y) = 9"},
		{"WeightedMean", func() { WeightedMean(l, a, a, b) }, "len(w) = 9"},
		{"dst short", func() { WeightedSumAndGrad(l, b, a, a, a, 1) }, "len(dst) = 9"},
		{"dst long", func() { WeightedMeanAndGrad(l, buf, a, a, a, 1) }, "len(dst) = 20"},
		{"overlap x", func() { WeightedSumAndGrad(l, buf[1:11], buf[:10], a, a, 1) }, "dst partially overlaps x"},
		{"overlap w", func() { WeightedMeanAndGrad(l, buf[:10], a, a, buf[5:15], 1) }, "dst partially overlaps w"},
		{"cols 0", func() { RowSums(l, b, a, a, 0) }, "cols must be positive, got 0"},
		{"cols -2", func() { RowMeans(l, b, a, a, -2) }, "got -2"},
		{"not a multiple", func() { RowSums(l, make([]float64, 3), a, a, 3) }, "len(x) = 10 is not a multiple of cols = 3"},
		{"rows dst", func() { RowSums(l, make([]float64, 4), a, a, 5) }, "len(dst) = 4, want len(x)/cols = 10/5 = 2"},
		{"rows mismatch", func() { RowSums(l, make([]float64, 2), a, b, 5) }, "len(x) = 10, len(y) = 9"},
		{"rows overlap", func() { RowSums(l, buf[:2], buf[1:11], a, 5) }, "dst partially overlaps x"},
		{"rows dst is x", func() { RowSums(l, buf[:2], buf[:10], a, 5) }, "dst partially overlaps x"},
		{"RowGrad gradOut", func() { RowGrad(l, a, a, a, make([]float64, 3), 5) }, "len(gradOut) = 3"},
		{"RowGrad dst", func() { RowGrad(l, b, a, a, make([]float64, 2), 5) }, "len(dst) = 9"},
		{"RowGrad overlap", func() { RowGrad(l, buf[1:11], buf[:10], a, make([]float64, 2), 5) }, "dst partially overlaps x"},
		{"RowGrad gradOut overlap", func() { RowGrad(l, buf[:10], a, a, buf[9:11], 5) }, "dst partially overlaps gradOut"},
	}
	for _, c := range cases {
		func() {
			defer func() {
				r := recover()
				s, _ := r.(string)
				if !strings.HasPrefix(s, "smoothl1: ") || !strings.Contains(s, c.want) {
					t.Errorf("%s: panic %v, want one containing %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
}

// TestWeightedChunkTree holds the chunked order against an independent reference:
// the kernels called per chunk, their lanes merged in the recursive tree of the
// canonical order, then combined. It compares the unrounded double-double (float64
// data) and float64 sum (float32 data), where a changed merge order or a dropped
// error term shows even when the rounded result hides it.
func TestWeightedChunkTree(t *testing.T) {
	if testing.Short() {
		t.Skip("long inputs")
	}
	r := newRand(7)
	merge := func(dd bool) func(a, b wLanes) wLanes {
		return func(a, b wLanes) wLanes {
			for i := 0; i < 8; i++ {
				if !dd {
					a[i] += b[i]
					continue
				}
				s, e := twoSum(a[i], b[i])
				a[i], a[8+i] = s, (a[8+i]+b[8+i])+e
			}
			return a
		}
	}
	var tree func(lo, hi int, leaf func(int) wLanes, merge func(a, b wLanes) wLanes) wLanes
	tree = func(lo, hi int, leaf func(int) wLanes, merge func(a, b wLanes) wLanes) wLanes {
		if hi-lo == 1 {
			return leaf(lo)
		}
		p := 1 << (bits.Len(uint(hi-lo-1)) - 1)
		return merge(tree(lo, lo+p, leaf, merge), tree(lo+p, hi, leaf, merge))
	}
	l := mustLoss(t, "smooth_l1", 0.3)
	for _, chunks := range []int{2, 3, 5, 6, 7} {
		n := chunks*chunkLen - 5
		x, y := makeInputs[float64](r, n, true)
		w := makeWeights[float64](r, "signed", n)
		x32, y32 := makeInputs[float32](r, n, true)
		w32 := makeWeights[float32](r, "signed", n)
		p, _ := setup(l, false)
		p32, _ := setup(l, true)
		span := func(i int) (int, int) { return i * chunkLen, min((i+1)*chunkLen, n) }
		acc := tree(0, chunks, func(i int) wLanes {
			var a wLanes
			s, e := span(i)
			generated.WeightedSumF64Impl(generated.ImplGeneric, p, x[s:e], y[s:e], w[s:e], &a)
			return a
		}, merge(true))
		wantHi, wantLo := combineDD(acc[:])
		acc = tree(0, chunks, func(i int) wLanes {
			var a wLanes
			s, e := span(i)
			generated.WeightSumF64Impl(generated.ImplGeneric, &noParams, w[s:e], &a)
			return a
		}, merge(true))
		wantWh, wantWl := combineDD(acc[:])
		acc = tree(0, chunks, func(i int) wLanes {
			var a wLanes
			s, e := span(i)
			generated.WeightedSumF32Impl(generated.ImplGeneric, p32, x32[s:e], y32[s:e], w32[s:e], (*[8]float64)(a[:8]))
			return a
		}, merge(false))
		want32 := combinePlain(acc[:])
		for _, in := range eachImpl(t) {
			t.Run("impl="+in.name, func(t *testing.T) {
				if hi, lo := wsum64(l, p, false, 0, nil, x, y, w); hi != wantHi || lo != wantLo {
					t.Errorf("%d chunks: weighted sum %v + %v, tree reference %v + %v", chunks, hi, lo, wantHi, wantLo)
				}
				if wh, wl := weightSum64(w); wh != wantWh || wl != wantWl {
					t.Errorf("%d chunks: weight sum %v + %v, tree reference %v + %v", chunks, wh, wl, wantWh, wantWl)
				}
				if s := wsum32(l, p32, false, 0, nil, x32, y32, w32); s != want32 {
					t.Errorf("%d chunks: float32 weighted sum %v, tree reference %v", chunks, s, want32)
				}
			})
		}
	}
}

// TestWeightedNoAlloc checks that the weighted and per-row operations do not
// allocate, on short and chunked inputs.
func TestWeightedNoAlloc(t *testing.T) {
	for _, n := range []int{100, 3*chunkLen + 1} {
		x, y, w, dst := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		x32, y32, w32, dst32 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		rows := make([]float64, n/4)
		l := Loss{}
		allocs := testing.AllocsPerRun(3, func() {
			WeightedSum(l, x, y, w)
			WeightedMean(l, x, y, w)
			WeightedSumAndGrad(l, dst, x, y, w, 1)
			WeightedMeanAndGrad(l, dst, x, y, w, 1)
			WeightedSum(l, x32, y32, w32)
			WeightedMeanAndGrad(l, dst32, x32, y32, w32, 1)
			RowSums(l, rows, x[:len(rows)*4], y[:len(rows)*4], 4)
			RowGrad(l, dst[:len(rows)*4], x[:len(rows)*4], y[:len(rows)*4], rows, 4)
		})
		if allocs != 0 {
			t.Errorf("n=%d: %v allocations", n, allocs)
		}
	}
}

// TestWeightedLanes checks the raw lane accumulators of the float64 weighted
// kernels, not only the rounded sums: WeightedSumAndGrad's lanes are WeightedSum's,
// every implementation gives the same bits, and the double-double lanes are within
// 2^-95 (relative) of the exact weighted sum, and WeightSum's of the exact sum of the
// weights. A dropped low-order term changes a rounded sum only now and then, but
// always shows here.
func TestWeightedLanes(t *testing.T) {
	r := newRand(11)
	lengths := []int{64, 1001}
	for n := 1; n <= 17; n++ {
		lengths = append(lengths, n)
	}
	for _, l := range weightLosses(t)[:4] {
		for _, n := range lengths {
			x, y := makeInputs[float64](r, n, true)
			w := makeWeights[float64](r, "wide", n)
			s, ws, _, _ := refWeighted(l, x, y, w)
			p, _ := setupGrad(l, false, 1, 0)
			var want, wantW wLanes
			for k, in := range eachImpl(t) {
				var acc, accG, accW wLanes
				generated.WeightedSumF64Impl(in.id, &p, x, y, w, &acc)
				generated.WeightedSumAndGradF64Impl(in.id, &p, make([]float64, n), x, y, w, &accG)
				generated.WeightSumF64Impl(in.id, &noParams, w, &accW)
				if acc != accG {
					t.Fatalf("%s %s n=%d: WeightedSumAndGrad lanes %v differ from WeightedSum's %v", in.name, l, n, accG, acc)
				}
				if k == 0 {
					want, wantW = acc, accW
				} else if acc != want || accW != wantW {
					t.Fatalf("%s %s n=%d: lanes differ from generic", in.name, l, n)
				}
			}
			for _, c := range []struct {
				what  string
				acc   wLanes
				exact *big.Rat
			}{{"weighted sum", want, s}, {"weight sum", wantW, ws}} {
				got := new(big.Rat)
				for _, a := range c.acc {
					got.Add(got, new(big.Rat).SetFloat64(a))
				}
				diff := new(big.Rat).Sub(got, c.exact)
				if c.exact.Sign() == 0 {
					continue
				}
				rel, _ := new(big.Rat).Abs(diff.Quo(diff, c.exact)).Float64()
				if rel > 0x1p-95 {
					t.Errorf("%s n=%d: %s lanes %g (relative) from exact", l, n, c.what, rel)
				}
			}
		}
	}
	// float32: WeightedSumAndGrad's lane sums are WeightedSum's, on every implementation.
	x, y := makeInputs[float32](r, 333, true)
	w := makeWeights[float32](r, "signed", 333)
	p, _ := setupGrad(Loss{}, true, 1, 0)
	var want [8]float64
	for k, in := range eachImpl(t) {
		var acc, accG [8]float64
		generated.WeightedSumF32Impl(in.id, &p, x, y, w, &acc)
		generated.WeightedSumAndGradF32Impl(in.id, &p, make([]float32, 333), x, y, w, &accG)
		if acc != accG || (k > 0 && acc != want) {
			t.Fatalf("%s: float32 lanes %v, fused %v, generic %v", in.name, acc, accG, want)
		}
		want = acc
	}
}

// TestWeightedLossOverflow checks a loss that overflows T on its own (Huber(2) at z =
// 0.75*MaxT: 2*(z - 1) rounds to +Inf): it is +Inf, as the elementwise loss, so a
// weight of 0 gives NaN and a weight of 1e-10 +Inf, as PyTorch's (loss * w).sum().
func TestWeightedLossOverflow(t *testing.T) {
	l := mustLoss(t, "huber", 2)
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			x32, y32 := []float32{0, 1}, []float32{math.MaxFloat32 * 0.75, 1}
			x64, y64 := []float64{0, 1}, []float64{math.MaxFloat64 * 0.75, 1}
			if s := WeightedSum(l, x32, y32, []float32{0, 1}); s == s {
				t.Errorf("float32: masked overflowing loss: %v, want NaN", s)
			}
			if s := WeightedSum(l, x64, y64, []float64{0, 1}); s == s {
				t.Errorf("float64: masked overflowing loss: %v, want NaN", s)
			}
			if s := WeightedSum(l, x32, y32, []float32{1e-10, 1}); !math.IsInf(float64(s), 1) {
				t.Errorf("float32: overflowing loss times 1e-10: %v, want +Inf", s)
			}
			// float32 x - y exactly at the overflow threshold, 2^128 - 2^103, rounds
			// to +Inf in float32; just below it, to MaxFloat32. Huber(0.5) keeps the
			// loss of the latter finite, so only the replacement of z makes the
			// former +Inf. And a loss of exactly 2^128 - 2^103 (Huber(4) at z = 2^126
			// - 2^101: 4*(z - 2) rounds to it in float64) rounds to +Inf in float32.
			// Each special element sits in every lane of a full block and of the
			// tail: AVX2 has one register per half of a block, NEON one per pair of
			// lanes (lanes 0 and 5 alone left NEON's lanes 2-3 and 6-7 untested).
			for _, c := range []struct {
				name  string
				delta float64
				x, y  float32
				w     float32
				inf   bool // else finite
			}{
				{"x - y = 2^128 - 2^103", 0.5, math.MaxFloat32, -0x1p103, 1, true},
				{"x - y = 2^128 - 2^103, weight 0", 0.5, math.MaxFloat32, -0x1p103, 0, false},
				{"x - y just below the threshold", 0.5, math.MaxFloat32, -0x1p102, 1, false},
				{"loss = 2^128 - 2^103, weight 0", 4, 0x1p126 - 0x1p102, -0x1p101, 0, false},
				{"loss = 2^128 - 2^103", 4, 0x1p126 - 0x1p102, -0x1p101, 1, true},
			} {
				h := mustLoss(t, "huber", c.delta)
				for at := range 15 {
					x, y, w := fill[float32](1, 15), fill[float32](1, 15), fill[float32](1, 15)
					x[at], y[at], w[at] = c.x, c.y, c.w
					s := WeightedSum(h, x, y, w)
					if fs := WeightedSumAndGrad(h, make([]float32, 15), x, y, w, 1); !sameBits(fs, s) {
						t.Errorf("float32 %s at %d: WeightedSumAndGrad %v, WeightedSum %v", c.name, at, fs, s)
					}
					nan := c.w == 0 && c.name != "x - y just below the threshold"
					switch {
					case c.inf && !math.IsInf(float64(s), 1):
						t.Errorf("float32 %s at %d: %v, want +Inf", c.name, at, s)
					case nan && s == s:
						t.Errorf("float32 %s at %d: %v, want NaN", c.name, at, s)
					case !c.inf && !nan && (math.IsInf(float64(s), 0) || s != s):
						t.Errorf("float32 %s at %d: %v, want finite", c.name, at, s)
					}
				}
			}
		})
	}
}

// TestWeightedBoundary puts elements exactly at the branch boundary, |x - y| == beta
// (linear), and compares the raw lane accumulators and gradients of every
// implementation with the portable Go's: at the boundary the two branches give the
// same loss mathematically but not always the same float64 bits, so a compare
// that takes the wrong branch at equality shows in the lanes. Tails and full
// blocks both.
func TestWeightedBoundary(t *testing.T) {
	for _, beta := range []float64{0.3, 0.7, 1.1, 1.7, 3.3, 1e-3} {
		for _, kind := range []string{"smooth_l1", "huber"} {
			l := mustLoss(t, kind, beta)
			for _, n := range []int{1, 3, 7, 8, 11, 16, 21} {
				testWeightedBoundary[float32](t, l, n)
				testWeightedBoundary[float64](t, l, n)
			}
		}
	}
}

func testWeightedBoundary[T Float](t *testing.T, l Loss, n int) {
	b := T(l.Param())
	x, y, w := make([]T, n), make([]T, n), make([]T, n)
	for i := range x {
		// x - y == ±beta exactly: (beta, 0), (0, -beta), (2beta, beta), (-beta, 0).
		switch i % 4 {
		case 0:
			x[i] = b
		case 1:
			y[i] = -b
		case 2:
			x[i], y[i] = 2*b, b
		case 3:
			x[i] = -b
		}
		w[i] = T(1 + i%3)
	}
	single := isF32[T]()
	p, _ := setupGrad(l, single, 0.7, 0)
	var want, wantG wLanes
	var wantGrad []T
	for k, in := range eachImpl(t) {
		var acc, accG wLanes
		grad := make([]T, n)
		if single {
			generated.WeightedSumF32Impl(in.id, &p, f32(x), f32(y), f32(w), (*[8]float64)(acc[:8]))
			generated.WeightedSumAndGradF32Impl(in.id, &p, f32(grad), f32(x), f32(y), f32(w), (*[8]float64)(accG[:8]))
		} else {
			generated.WeightedSumF64Impl(in.id, &p, f64(x), f64(y), f64(w), &acc)
			generated.WeightedSumAndGradF64Impl(in.id, &p, f64(grad), f64(x), f64(y), f64(w), &accG)
		}
		if k == 0 {
			want, wantG, wantGrad = acc, accG, grad
			continue
		}
		if acc != want || accG != wantG {
			t.Fatalf("%T %s n=%d: %s lanes %v %v, generic %v %v", T(0), l, n, in.name, acc, accG, want, wantG)
		}
		for i := range grad {
			if !sameBits(grad[i], wantGrad[i]) {
				t.Fatalf("%T %s n=%d: %s gradient [%d] %v, generic %v", T(0), l, n, in.name, i, grad[i], wantGrad[i])
			}
		}
	}
	// And the lanes hold the linear branch: the exact weighted sum (linear and
	// quadratic agree there) to within the kernels' accuracy.
	s, _, _, _ := refWeighted(l, x, y, w)
	got := new(big.Rat)
	for _, a := range want {
		got.Add(got, new(big.Rat).SetFloat64(a))
	}
	diff := new(big.Rat).Abs(new(big.Rat).Sub(got, s))
	if rel, _ := diff.Quo(diff, s).Float64(); rel > 0x1p-50 {
		t.Errorf("%T %s n=%d: lanes %g (relative) from the exact sum", T(0), l, n, rel)
	}
}

// TestWeightedThreads checks that the weighted reductions give the same bits on any
// number of threads (the parallel threshold lowered to one chunk), on every
// implementation, for inputs of several chunks whose last chunk is short.
func TestWeightedThreads(t *testing.T) {
	defer func(m int) { parallelMin = m }(parallelMin)
	parallelMin = chunkLen
	defer SetThreads(SetThreads(0))
	r := newRand(16)
	n := 5*chunkLen + 13
	if testing.Short() {
		n = 3*chunkLen + 5
	}
	x, y := makeInputs[float64](r, n, true)
	w := makeWeights[float64](r, "signed", n)
	x32, y32 := makeInputs[float32](r, n, true)
	w32 := makeWeights[float32](r, "signed", n)
	l := mustLoss(t, "huber", 1.7)
	for _, in := range eachImpl(t) {
		var want weightedResult[float64]
		var want32 weightedResult[float32]
		for k, threads := range []int{1, 2, 3, 5} {
			SetThreads(threads)
			got, got32 := runWeighted(l, x, y, w, 0.5), runWeighted(l, x32, y32, w32, 0.5)
			if k == 0 {
				want, want32 = got, got32
				continue
			}
			if d := sameResult(got, want); d != "" {
				t.Fatalf("%s float64 threads=%d: %s", in.name, threads, d)
			}
			if d := sameResult(got32, want32); d != "" {
				t.Fatalf("%s float32 threads=%d: %s", in.name, threads, d)
			}
		}
	}
}
