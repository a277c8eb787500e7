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
	testSumAccuracy[float32](t, 1<<24+3)
	testSumAccuracy[float64](t, 1<<24+3)
}

// TestSumAccuracy is the same check at lengths that run in every mode.
func TestSumAccuracy(t *testing.T) {
	for _, n := range []int{1, 9, 1000, 100003} {
		testSumAccuracy[float32](t, n)
		testSumAccuracy[float64](t, n)
	}
}

func testSumAccuracy[T Float](t *testing.T, n int) {
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
					if got := Sum(l, x, y); ulps(got, wantSum) > 1 {
						t.Errorf("%T %s %s n=%d: Sum = %v, exact %v: %d ulp", T(0), data, l, n, got, wantSum, ulps(got, wantSum))
					}
					if got := Mean(l, x, y); ulps(got, wantMean) > 1 {
						t.Errorf("%T %s %s n=%d: Mean = %v, exact %v: %d ulp", T(0), data, l, n, got, wantMean, ulps(got, wantMean))
					}
				})
			}
		}
	}
}
