package smoothl1

import (
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"testing"
)

// TestSumAccuracyLarge holds Sum and Mean within 1 ulp of the exact sum (mean) of the
// exact per-element losses at 2^24 + 3 elements, for random inputs and for inputs
// spanning 12 orders of magnitude, float32 and float64, on every implementation.
// (A running float32 sum is off by percents at this length; a running float64 sum
// by several ulp.)
func TestSumAccuracyLarge(t *testing.T) {
	if testing.Short() || os.Getenv("SMOOTHL1_SKIP_LARGE") != "" {
		t.Skip("large accuracy test skipped in -short mode")
	}
	// 257 chunks (the last of 3 elements): an unbalanced merge tree, on one thread
	// and on two; the exact sums are computed once for both.
	testSumAccuracy[float32](t, 1<<24+3, 1, 2)
	testSumAccuracy[float64](t, 1<<24+3, 1, 2)
}

// TestSumAccuracy is the same check at lengths that run in every mode.
func TestSumAccuracy(t *testing.T) {
	for _, n := range []int{1, 9, 1000, 100003} {
		testSumAccuracy[float32](t, n)
		testSumAccuracy[float64](t, n)
	}
}

// testSumAccuracy checks Sum and Mean on n elements on every implementation, with
// each of the thread counts given (none: the default).
func testSumAccuracy[T Float](t *testing.T, n int, threads ...int) {
	sl, _ := SmoothL1(1)
	sl2, _ := SmoothL1(0.5)
	hu, _ := Huber(2)
	r := rand.New(rand.NewPCG(uint64(n), 5))
	x, y := make([]T, n), make([]T, n)
	for _, data := range []string{"normal", "wide"} {
		for i := range x {
			if data == "normal" {
				x[i], y[i] = T(r.NormFloat64()), T(r.NormFloat64())
			} else {
				x[i] = T(r.NormFloat64() * math.Pow(2, float64(r.IntN(41)-20)))
				y[i] = T(r.NormFloat64() * math.Pow(2, float64(r.IntN(41)-20)))
			}
		}
		for _, l := range []Loss{sl, sl2, hu} {
			if n > 1<<20 && l != sl && l != hu {
				continue
			}
			exact := exactSumPow2(t, l, x, y)
			wantSum := roundBig[T](exact)
			wantMean := roundBig[T](new(big.Float).Quo(exact, new(big.Float).SetInt64(int64(n))))
			for _, in := range eachImpl(t) {
				t.Run("impl="+in.name, func(t *testing.T) {
					check := func(th int) {
						if got := Sum(l, x, y); ulps(got, wantSum) > 1 {
							t.Errorf("%T %s %s n=%d threads=%d: Sum = %v, exact %v: %d ulp", T(0), data, l, n, th, got, wantSum, ulps(got, wantSum))
						}
						if got := Mean(l, x, y); ulps(got, wantMean) > 1 {
							t.Errorf("%T %s %s n=%d threads=%d: Mean = %v, exact %v: %d ulp", T(0), data, l, n, th, got, wantMean, ulps(got, wantMean))
						}
					}
					if len(threads) == 0 {
						check(Threads())
					}
					for _, th := range threads {
						withThreads(th, 0, func() { check(th) })
					}
				})
			}
		}
	}
}

// TestSumAccuracyAdversarial holds Sum, Mean, SumAndGrad and MeanAndGrad within 1
// ulp of the exact result on inputs built against the error bound of the canonical
// order (see gen/kernel), rather than random ones, on every implementation:
//   - every element linear and just past K, where V = P*|d| and the K*K subtracted
//     per linear element cancel the most (half of V);
//   - every element just below K (quadratic), and a mix of both at K;
//   - x - y inexact and rounded the same way in every element, so that only the
//     low part of |d| carries the difference;
//   - terms that double from element to element (each larger than the lane's sum
//     so far: the Fast2Sum takes max and min, not the order of the operands);
//   - one huge term, then many tiny ones that only the low parts keep.
//
// The parameters make 0.5/beta, K*K and 2K inexact or exact (0.3, 1.7, 1, 2^-20).
func TestSumAccuracyAdversarial(t *testing.T) {
	losses := []Loss{mustLoss(t, "smooth_l1", 0.3), mustLoss(t, "huber", 1.7), mustLoss(t, "smooth_l1", 1), mustLoss(t, "huber", 0x1p-20), mustLoss(t, "smooth_l1", 0)}
	const n = 3001
	for _, l := range losses {
		k := l.Param()
		for _, data := range []string{"linear", "quadratic", "at K", "inexact d", "doubling", "huge then tiny"} {
			x, y := make([]float64, n), make([]float64, n)
			for i := range x {
				switch data {
				case "linear":
					x[i], y[i] = k*(1+float64(i%7)*0x1p-50)+0x1p-40, 0
				case "quadratic":
					x[i], y[i] = k*(1-float64(i%7+1)*0x1p-50), 0
				case "at K":
					x[i], y[i] = k*(1+float64(i%3-1)*0x1p-52)+float64(i%2)*0x1p-60, -0x1p-60
				case "inexact d":
					// x - y = 1 + 2^-53 + 2^-60 exactly: rounds down, always.
					x[i], y[i] = 1+float64(i%5)*0x1p-52, -(0x1p-53 + 0x1p-60)
				case "doubling":
					x[i], y[i] = math.Ldexp(1+float64(i%3)*0x1p-51, i%200-100), math.Ldexp(-0x1p-40, i%200-100)
				case "huge then tiny":
					x[i], y[i] = 1e-9*(1+float64(i%11)*0x1p-30), -1e-9/3
					if i == n/2 {
						x[i] = 1e9
					}
				}
			}
			checkSumExact(t, l, data, x, y)
			x32, y32 := make([]float32, n), make([]float32, n)
			for i := range x {
				x32[i], y32[i] = float32(x[i]), float32(y[i])
			}
			checkSumExact(t, l, data, x32, y32)
		}
	}
}

func checkSumExact[T Float](t *testing.T, l Loss, data string, x, y []T) {
	t.Helper()
	want, ok := refSum(l, x, y, false)
	wantMean, _ := refSum(l, x, y, true)
	if !ok {
		t.Fatalf("%s %s: no exact reference", l, data)
	}
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			d := make([]T, len(x))
			for _, c := range []struct {
				what      string
				got, want T
			}{
				{"Sum", Sum(l, x, y), want},
				{"Mean", Mean(l, x, y), wantMean},
				{"SumAndGrad", SumAndGrad(l, d, x, y, 1), want},
				{"MeanAndGrad", MeanAndGrad(l, d, x, y, 1), wantMean},
			} {
				if ulps(c.got, c.want) > 1 {
					t.Errorf("%T %s %s: %s = %v, exact %v: %d ulp", T(0), l, data, c.what, c.got, c.want, ulps(c.got, c.want))
				}
			}
		})
	}
}

// TestSumAccuracyExtremeK holds the float64 Sum, Mean and the fused sums within 1
// ulp of the exact result for a K whose square is not a normal float64 (the scalar
// path sumSlow64), and for K just inside the range of the kernels' V, on every
// implementation; with data where the contract applies (z*z normal): quadratic
// elements of about 2^500 for a large K, linear ones of about 2^-300 for a small K
// (K*z normal too).
func TestSumAccuracyExtremeK(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 13))
	for _, k := range []float64{0x1p600, 0x1.8p511, 0x1p511, 0x1p-600, 0x1p-520, 0x1p-511} {
		for _, l := range []Loss{mustLoss(t, "huber", k), mustLoss(t, "smooth_l1", k)} {
			if slow := k > 0x1p511 || k < 0x1p-511; l.params().slowSum != slow {
				t.Fatalf("%s: slowSum = %v, want %v", l, l.params().slowSum, slow)
			}
			scale := 0x1p500
			if k < 1 {
				scale = 0x1p-300
			}
			for _, n := range []int{1, 15, 1001} {
				x, y := make([]float64, n), make([]float64, n)
				for i := range x {
					x[i] = scale * (1 + r.Float64())
					y[i] = scale * r.NormFloat64() * 0x1p-30
				}
				checkSumExact(t, l, "extreme K", x, y)
			}
		}
	}
	// Beyond the contract (z*z overflows or underflows), the linear loss z - K/2 of
	// SmoothL1 is still exact where K*K, 2K*z or the quotient by 2K would not be.
	for _, c := range []struct{ k, x, want float64 }{
		{0x1p600, 0x1p601, 0x1.8p600},
		{0x1p-600, 0x1p-599, 0x1.8p-600},
	} {
		l := mustLoss(t, "smooth_l1", c.k)
		x, y := fill(c.x, 9), fill(0.0, 9)
		for _, in := range eachImpl(t) {
			t.Run("impl="+in.name, func(t *testing.T) {
				if got := Sum(l, x, y); got != 9*c.want {
					t.Errorf("%s Sum of 9 x (%v, 0) = %v, want %v", l, c.x, got, 9*c.want)
				}
			})
		}
	}
}
