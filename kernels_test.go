package smoothl1

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/gokernels/smoothl1/generated"
)

// TestLaneAccumulators checks the raw lane accumulators of the float64 Sum and
// SumGrad kernels, not only the rounded sums: every implementation must produce the
// same bits in all 16 lanes (hi and lo), SumGrad the same as Sum, and the
// double-double total must be within 2^-95 (relative) of the exact sum. A damaged
// low-order term (a dropped compensation) changes a rounded sum only now and then,
// but always shows here.
func TestLaneAccumulators(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	// Parameters that make 0.5/beta inexact (smooth_l1 0.3: the products with Ah
	// and Al have errors to carry) and delta inexact in binary (huber 1.7), besides
	// power-of-two ones; every tail length, in both halves of an AVX2 block.
	losses := []Loss{{}, mustLoss(t, "huber", 2), mustLoss(t, "smooth_l1", 0.5), mustLoss(t, "smooth_l1", 0.3), mustLoss(t, "huber", 1.7)}
	lengths := []int{64, 1001, longN} // longN: the AVX-512 loops that prefetch
	for n := 1; n <= 15; n++ {
		lengths = append(lengths, n)
	}
	for _, l := range losses {
		for _, n := range lengths {
			x, y := make([]float64, n), make([]float64, n)
			for i := range x {
				// Inputs of very different magnitudes make x - y inexact, so the
				// low parts of d matter.
				x[i] = r.NormFloat64() * math.Ldexp(1, r.IntN(41)-20)
				y[i] = r.NormFloat64() * math.Ldexp(1, r.IntN(41)-20)
			}
			exact := exactSumRat(t, l, x, y)
			p, _ := setupGrad(l, false, 1, 0)
			var want acc64
			for k, in := range eachImpl(t) {
				var acc, accG acc64
				generated.SumF64Impl(in.id, &p, x, y, &acc)
				generated.SumAndGradF64Impl(in.id, &p, make([]float64, n), x, y, &accG)
				if acc != accG {
					t.Fatalf("%s %s n=%d: SumGrad lanes %v differ from Sum lanes %v", in.name, l, n, accG, acc)
				}
				if k == 0 {
					want = acc
				} else if acc != want {
					t.Fatalf("%s %s n=%d: lanes %v differ from %v", in.name, l, n, acc, want)
				}
				// (sum of hi and lo - linear*K*K) / D, exactly.
				got := new(big.Float).SetPrec(2048)
				for _, a := range acc[:2*generated.Lanes] {
					got.Add(got, big.NewFloat(a))
				}
				quad := 0.0
				for _, c := range acc[2*generated.Lanes:] {
					quad += c
				}
				lin := float64(generated.Lanes*((n+generated.Lanes-1)/generated.Lanes)) - quad
				k := big.NewFloat(p[generated.PK])
				kk := new(big.Float).SetPrec(2048).Mul(k, k)
				got.Sub(got, kk.Mul(kk, big.NewFloat(lin)))
				di := new(big.Float).SetPrec(2048).Add(big.NewFloat(p[generated.PDi]), big.NewFloat(p[generated.PDl]))
				got.Mul(got, di) // 1/D to 2^-106
				diff := new(big.Float).Sub(got, exact)
				rel, _ := new(big.Float).Quo(diff.Abs(diff), exact).Float64()
				if rel > 0x1p-95 {
					t.Errorf("%s %s n=%d: double-double lanes are %g (relative) from the exact sum", in.name, l, n, rel)
				}
			}
		}
	}
}

// TestLaneAccumulators32 compares the raw lanes of the float32 Sum and SumAndGrad
// kernels (float64 sums of w*w and z - w, and SumAndGrad's largest |x - y| of each lane) of every
// implementation with the generic ones, bit for bit: the float32 rounding of the
// public sums hides a damaged last bit of a lane.
func TestLaneAccumulators32(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	losses := []Loss{{}, mustLoss(t, "huber", 1.7), mustLoss(t, "smooth_l1", 0.3)}
	for _, l := range losses {
		for _, n := range []int{1, 7, 8, 15, 16, 31, 64, 1001, longN} {
			x, y := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(21)-10))
				y[i] = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(21)-10))
			}
			p, _ := setupGrad(l, true, 1, 0)
			var want acc32
			var wantG acc32g
			for k, in := range eachImpl(t) {
				var acc acc32
				var accG acc32g
				generated.SumF32Impl(in.id, &p, x, y, &acc)
				generated.SumAndGradF32Impl(in.id, &p, make([]float32, n), x, y, &accG)
				if acc != acc32(accG[:2*generated.Lanes]) {
					t.Fatalf("%s %s n=%d: SumAndGrad lanes %v differ from Sum lanes %v", in.name, l, n, accG, acc)
				}
				if k == 0 {
					want, wantG = acc, accG
					continue
				}
				for j := range accG {
					if math.Float64bits(accG[j]) != math.Float64bits(wantG[j]) {
						t.Fatalf("%s %s n=%d: lanes %v and SumGrad lanes %v, generic has %v and %v", in.name, l, n, acc, accG, want, wantG)
					}
				}
			}
		}
	}
}
