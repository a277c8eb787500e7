package smoothl1

import (
	"fmt"
	"math/big"
	"testing"
)

// weightedGolden is one case of testdata/weighted-golden.json.gz, written by
// testdata/weighted_golden.py: inputs, exact results (Python's fractions, correctly
// rounded by the script) and PyTorch 1.13's results, as hex bit patterns.
type weightedGolden struct {
	Name          string   `json:"name"`
	Loss          string   `json:"loss"`
	Dtype         string   `json:"dtype"`
	Beta          string   `json:"beta"`
	X             []string `json:"x"`
	Y             []string `json:"y"`
	W             []string `json:"w"`
	Cols          int      `json:"cols"`
	TorchSum      string   `json:"torch_sum"`
	TorchMean     string   `json:"torch_mean"`
	TorchGrad     []string `json:"torch_grad"`
	TorchRows     []string `json:"torch_rows"`
	TorchRowMeans []string `json:"torch_row_means"`
	ExactSum      *string  `json:"exact_sum"`
	ExactMean     *string  `json:"exact_mean"`
	ExactGrad     []string `json:"exact_grad"`
	ExactRows     []string `json:"exact_rows"`
	ExactRowMeans []string `json:"exact_row_means"`
}

func loadWeightedGolden(t *testing.T) []weightedGolden {
	t.Helper()
	return readCases[weightedGolden](t, "testdata/weighted-golden.json.gz", 270)
}

// TestWeightedGolden checks every case of the weighted golden file on every
// implementation: with non-negative weights WeightedSum and WeightedMean within 1
// ulp of the exact results, with weights of both signs within the documented
// bound; WeightedSumAndGrad's gradient within 2 ulp of the exact gradient; RowSums
// and RowMeans within 1 ulp of each row's exact sum and mean; and, where the inputs
// are not finite, the special values PyTorch gives (NaN for a masked NaN or
// infinite loss).
func TestWeightedGolden(t *testing.T) {
	cases := loadWeightedGolden(t)
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			for i, c := range cases {
				name := fmt.Sprintf("%d:%s/%s/%s/beta=%s", i, c.Name, c.Loss, c.Dtype, c.Beta)
				if c.Dtype == "float32" {
					checkWeightedGolden[float32](t, name, c)
				} else {
					checkWeightedGolden[float64](t, name, c)
				}
			}
		})
	}
}

func checkWeightedGolden[T Float](t *testing.T, name string, c weightedGolden) {
	l := mustLoss(t, c.Loss, fromHex[float64](t, c.Beta))
	x, y, w := hexSlice[T](t, c.X), hexSlice[T](t, c.Y), hexSlice[T](t, c.W)
	n, cols := len(x), c.Cols
	rows := n / cols
	sum, mean := WeightedSum(l, x, y, w), WeightedMean(l, x, y, w)
	grad := make([]T, n)
	if fs := WeightedSumAndGrad(l, grad, x, y, w, 1); !sameBits(fs, sum) {
		t.Errorf("%s: WeightedSumAndGrad %v, WeightedSum %v", name, fs, sum)
	}
	rs, rm := make([]T, rows), make([]T, rows)
	RowSums(l, rs, x[:rows*cols], y[:rows*cols], cols)
	RowMeans(l, rm, x[:rows*cols], y[:rows*cols], cols)
	if c.ExactSum == nil {
		// Special values: PyTorch's results.
		if want := fromHex[T](t, c.TorchSum); !same(sum, want) {
			t.Errorf("%s: WeightedSum = %v, PyTorch %v", name, sum, want)
		}
		if want := fromHex[T](t, c.TorchMean); !same(mean, want) {
			t.Errorf("%s: WeightedMean = %v, PyTorch %v", name, mean, want)
		}
		for r := range rs {
			if want := fromHex[T](t, c.TorchRows[r]); !same(rs[r], want) {
				t.Errorf("%s: RowSums[%d] = %v, PyTorch %v", name, r, rs[r], want)
			}
		}
		return
	}
	nonNeg := true
	for _, v := range w {
		nonNeg = nonNeg && v >= 0
	}
	exact := fromHex[T](t, *c.ExactSum)
	if nonNeg {
		if ulps(sum, exact) > 1 {
			t.Errorf("%s: WeightedSum = %v, exact %v: %d ulp", name, sum, exact, ulps(sum, exact))
		}
		if c.ExactMean != nil {
			if em := fromHex[T](t, *c.ExactMean); ulps(mean, em) > 1 {
				t.Errorf("%s: WeightedMean = %v, exact %v: %d ulp", name, mean, em, ulps(mean, em))
			}
		} else if mean == mean {
			t.Errorf("%s: weights sum to 0: WeightedMean = %v, want NaN", name, mean)
		}
	} else if ulps(sum, exact) > 1 {
		// The bound for weights of both signs, from the sum of |w*loss|.
		s, _, abs, _ := refWeighted(l, x, y, w)
		rel := 0x1p-60
		if isF32[T]() {
			rel = 0x1p-28
		}
		bound := new(big.Rat).Mul(abs, new(big.Rat).SetFloat64(rel))
		bound.Add(bound, new(big.Rat).Abs(new(big.Rat).Sub(rat(exact), s)))
		if new(big.Rat).Abs(new(big.Rat).Sub(rat(sum), s)).Cmp(bound) > 0 {
			t.Errorf("%s: WeightedSum = %v, exact %v: beyond the bound", name, sum, exact)
		}
	}
	for i := range grad {
		if e := fromHex[T](t, c.ExactGrad[i]); ulps(grad[i], e) > 2 {
			t.Errorf("%s: WeightedSumAndGrad dst[%d] = %v, exact %v", name, i, grad[i], e)
		}
	}
	for r := range rs {
		if e := fromHex[T](t, c.ExactRows[r]); ulps(rs[r], e) > 1 {
			t.Errorf("%s: RowSums[%d] = %v, exact %v", name, r, rs[r], e)
		}
		if e := fromHex[T](t, c.ExactRowMeans[r]); ulps(rm[r], e) > 1 {
			t.Errorf("%s: RowMeans[%d] = %v, exact %v", name, r, rm[r], e)
		}
	}
}
