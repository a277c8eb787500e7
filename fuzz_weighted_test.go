package smoothl1

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

// Differential fuzzing of the weighted and per-row operations. The inputs are
// decoded as the other targets' (decodeFuzz, elements): x, y, and g, which serves as
// the weights (WeightedSum ...) or, its first rows elements, as the upstream
// gradients of the rows (RowGrad). Every implementation must give the same bits;
// fused forms the unfused forms' bits; in place the same bits; and the results
// must match the exact reference where it applies, or the rules of the special
// values where it does not. Each function has its own target; a target checks all
// the operations of its group, and its own function's in-place runs.

// weightedRun runs every weighted operation.
func weightedRun[T Float](l Loss, x, y, w []T, g T) weightedResult[T] {
	return runWeighted(l, x, y, w, g)
}

// fuzzWeighted runs a weighted case on every implementation.
func fuzzWeighted[T Float](t *testing.T, c fuzzCase, fn string) {
	x, y, w := elements[T](c)
	x, y, w = inBuf(x, c.off), inBuf(y, (c.off+5)%16), inBuf(w, (c.off+11)%16)
	g := T(c.scale)
	defer SetImplementation("")
	var first weightedResult[T]
	for k, impl := range Implementations() {
		SetImplementation(impl)
		got := weightedRun(c.loss, x, y, w, g)
		if !sameBits(got.sum, got.fsum) || !sameBits(got.mean, got.fmean) {
			t.Fatalf("%s %T %s n=%d: fused %v %v, unfused %v %v", impl, T(0), c.loss, c.n, got.fsum, got.fmean, got.sum, got.mean)
		}
		if k == 0 {
			first = got
			continue
		}
		if d := sameResult(first, got); d != "" {
			t.Fatalf("%T %s n=%d: %s differs from %s: %s", T(0), c.loss, c.n, impl, Implementations()[0], d)
		}
	}
	checkWeightedFuzz(t, c, x, y, w, g, first)
	// In place: dst == x, y or w, for the function of this target.
	var op func(Loss, []T, []T, []T, []T, T) T
	var want []T
	switch fn {
	case "WeightedSumAndGrad":
		op, want = WeightedSumAndGrad[T], first.gsum
	case "WeightedMeanAndGrad":
		op, want = WeightedMeanAndGrad[T], first.gmean
	default:
		return
	}
	for which := 0; which < 3; which++ {
		xc, yc, wc := append([]T(nil), x...), append([]T(nil), y...), append([]T(nil), w...)
		d := [][]T{xc, yc, wc}[which]
		op(c.loss, d, xc, yc, wc, g)
		for i := range want {
			if !sameBits(d[i], want[i]) {
				t.Fatalf("%s in place (dst = input %d) [%d]: %v, want %v", fn, which, i, d[i], want[i])
			}
		}
	}
}

// checkWeightedFuzz checks the results against the exact reference where every
// element is finite and in the range of the ulp bounds, and against the rules of
// the special values where some loss or weight is not finite.
func checkWeightedFuzz[T Float](t *testing.T, c fuzzCase, x, y, w []T, g T, got weightedResult[T]) {
	t.Helper()
	l := c.loss
	refL, okL := refElem(l, x, y)
	allFinite := true
	nanTerm, posInf, negInf := false, false, false
	r, rok := newRef[T](l) // beta converted to T
	for i := range x {
		lv := float64(refL[i])
		if !okL[i] {
			s, _ := special(l, x[i], y[i])
			lv = float64(s)
			allFinite = false
		} else {
			if !checkableLoss(refL[i], x[i], y[i]) || !finite(w[i]) || !productInRange(float64(refL[i]), float64(w[i])) {
				allFinite = false
			}
			// The kernels keep a float32 loss in float64: one that underflows
			// float32 is not 0 there (times an infinite weight it is infinite, not
			// NaN); one that overflows float32 is +Inf (see gen/kernel).
			if isF32[T]() && rok {
				if v, _ := r.Loss(rat(x[i]), rat(y[i])).Float64(); v < 0x1p128-0x1p103 {
					lv = v
				}
			}
			if lv != 0 && math.Abs(lv) < 0x1p-1000 && math.IsInf(float64(w[i]), 0) {
				return // zero or not depends on the last bits of an underflowing loss
			}
		}
		term := lv * float64(w[i])
		nanTerm = nanTerm || term != term
		posInf = posInf || math.IsInf(term, 1)
		negInf = negInf || math.IsInf(term, -1)
	}
	name := fmt.Sprintf("%T %s n=%d", T(0), l, c.n)
	switch {
	case nanTerm || (posInf && negInf):
		if got.sum == got.sum {
			t.Errorf("%s: WeightedSum = %v, want NaN (a NaN term, or infinite terms of both signs)", name, got.sum)
		}
		return
	case posInf || negInf:
		want := math.Inf(1)
		if negInf {
			want = math.Inf(-1)
		}
		if float64(got.sum) != want && got.sum == got.sum {
			t.Errorf("%s: WeightedSum = %v, want %v", name, got.sum, want)
		}
		return
	case !allFinite || len(x) >= 300:
		return
	}
	s, ws, abs, ok := refWeighted(l, x, y, w)
	if !ok {
		return
	}
	exact := round[T](s)
	if !checkable(exact, 0, 0) {
		return
	}
	// The documented bound: 1 ulp with non-negative weights, else 2^-60 (float32 data
	// 2^-28) of the sum of |w*loss| besides the final rounding.
	rel := 0x1p-60
	if isF32[T]() {
		rel = 0x1p-28
	}
	err := new(big.Rat).Abs(new(big.Rat).Sub(rat(got.sum), s))
	bound := new(big.Rat).Mul(abs, new(big.Rat).SetFloat64(rel))
	bound.Add(bound, new(big.Rat).Abs(new(big.Rat).Sub(rat(exact), s)))
	if ulps(got.sum, exact) > 1 && err.Cmp(bound) > 0 {
		t.Errorf("%s: WeightedSum = %v, exact %v: beyond the bound", name, got.sum, exact)
	}
	nonNeg := true
	for _, v := range w {
		nonNeg = nonNeg && v >= 0
	}
	if nonNeg && ws.Sign() > 0 {
		m := round[T](new(big.Rat).Quo(s, ws))
		if checkable(m, 0, 0) && ulps(got.mean, m) > 1 {
			t.Errorf("%s: WeightedMean = %v, exact %v", name, got.mean, m)
		}
	}
	if ws.Sign() == 0 && got.mean == got.mean {
		t.Errorf("%s: weights sum to 0, WeightedMean = %v, want NaN", name, got.mean)
	}
}

// productInRange reports whether a*b is zero or normal (in float64, and below
// MaxFloat32), judged from the exponents without computing the product, which may
// underflow to 0.
func productInRange(a, b float64) bool {
	if a == 0 || b == 0 {
		return true
	}
	e := math.Log2(math.Abs(a)) + math.Log2(math.Abs(b))
	return e >= -1021 && e < 127
}

// fuzzRows runs a per-row case on every implementation: cols from the case's
// scale byte and offset, the rows' upstream gradients from g.
func fuzzRows[T Float](t *testing.T, c fuzzCase, fn string) {
	x, y, g := elements[T](c)
	cols := 1 + (c.off*7+int(c.scale*3))%13
	if cols <= 0 {
		cols = 1 + c.off
	}
	rows := len(x) / cols
	n := rows * cols
	x, y = inBuf(x[:n], c.off), inBuf(y[:n], (c.off+5)%16)
	gr := g[:rows]
	defer SetImplementation("")
	var first [3][]T
	for k, impl := range Implementations() {
		SetImplementation(impl)
		sums, means, grad := make([]T, rows), make([]T, rows), make([]T, n)
		RowSums(c.loss, sums, x, y, cols)
		RowMeans(c.loss, means, x, y, cols)
		RowGrad(c.loss, grad, x, y, gr, cols)
		got := [3][]T{sums, means, grad}
		// Each row is Sum and Mean of the row on every implementation (the per-row
		// path of short rows computes its lanes without Sum: rows_short.go).
		for r := 0; r < rows; r++ {
			xs, ys := x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols]
			if s := Sum(c.loss, xs, ys); !sameBits(sums[r], s) {
				t.Fatalf("%s cols=%d: RowSums[%d] = %v, Sum of the row %v", impl, cols, r, sums[r], s)
			}
			if m := Mean(c.loss, xs, ys); !sameBits(means[r], m) {
				t.Fatalf("%s cols=%d: RowMeans[%d] = %v, Mean of the row %v", impl, cols, r, means[r], m)
			}
		}
		if k == 0 {
			first = got
			ge := make([]T, n)
			for i := range ge {
				ge[i] = gr[i/cols]
			}
			gw := make([]T, n)
			GradElementwise(c.loss, gw, x, y, ge)
			for i := range gw {
				if !sameBits(grad[i], gw[i]) {
					t.Fatalf("cols=%d: RowGrad[%d] = %v, GradElementwise %v", cols, i, grad[i], gw[i])
				}
			}
			continue
		}
		for j := range got {
			for i := range got[j] {
				if !sameBits(got[j][i], first[j][i]) {
					t.Fatalf("%T %s cols=%d: %s differs from %s in result %d [%d]", T(0), c.loss, cols, impl, Implementations()[0], j, i)
				}
			}
		}
	}
	if fn == "RowGrad" {
		checkInPlaceOp(t, "RowGrad", x, y, first[2], func(d, xc, yc []T) { RowGrad(c.loss, d, xc, yc, gr, cols) })
	}
	if cols == 1 && fn != "RowGrad" {
		want := first[0]
		op := RowSums[T]
		if fn == "RowMeans" {
			want, op = first[1], RowMeans[T]
		}
		checkInPlaceOp(t, fn, x, y, want, func(d, xc, yc []T) { op(c.loss, d, xc, yc, 1) })
	}
}

func fuzzTargetW(f *testing.F, fn string) {
	for _, s := range seedInputs() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ok := decodeFuzz(data)
		if !ok {
			return
		}
		rows := fn == "RowSums" || fn == "RowMeans" || fn == "RowGrad"
		switch {
		case rows && c.f32:
			fuzzRows[float32](t, c, fn)
		case rows:
			fuzzRows[float64](t, c, fn)
		case c.f32:
			fuzzWeighted[float32](t, c, fn)
		default:
			fuzzWeighted[float64](t, c, fn)
		}
	})
}

// One target per function.
func FuzzWeightedSum(f *testing.F)         { fuzzTargetW(f, "WeightedSum") }
func FuzzWeightedMean(f *testing.F)        { fuzzTargetW(f, "WeightedMean") }
func FuzzWeightedSumAndGrad(f *testing.F)  { fuzzTargetW(f, "WeightedSumAndGrad") }
func FuzzWeightedMeanAndGrad(f *testing.F) { fuzzTargetW(f, "WeightedMeanAndGrad") }
func FuzzRowSums(f *testing.F)             { fuzzTargetW(f, "RowSums") }
func FuzzRowMeans(f *testing.F)            { fuzzTargetW(f, "RowMeans") }
func FuzzRowGrad(f *testing.F)             { fuzzTargetW(f, "RowGrad") }

// weightedTargets are the targets of this file, for the seed corpus.
var weightedTargets = []string{"FuzzWeightedSum", "FuzzWeightedMean", "FuzzWeightedSumAndGrad", "FuzzWeightedMeanAndGrad", "FuzzRowSums", "FuzzRowMeans", "FuzzRowGrad"}

// TestWriteCorpusWeighted writes the committed seed corpus of these targets (with
// -write-corpus), as TestWriteCorpus does for the others: every length 0 to 67.
func TestWriteCorpusWeighted(t *testing.T) {
	if !*writeCorpus {
		t.Skip("use -write-corpus to rewrite testdata/fuzz")
	}
	for _, target := range weightedTargets {
		dir := filepath.Join("testdata", "fuzz", target)
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= 67; n++ {
			data := []byte{byte(n%4) | byte(n%5)<<2, byte(n % len(fuzzBetas)), byte(n), 0, byte(n % 16)}
			for k := 0; k < 3*n+8; k++ {
				data = append(data, byte(k*4*((n%len(specials64))+1)+k%4), byte(k*37+n), byte(k*11+3*n))
			}
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", n)), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
