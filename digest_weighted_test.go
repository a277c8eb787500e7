package smoothl1

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

const digestWeightedFile = "testdata/digest-weighted.txt"

// digestWeightedOf runs the weighted and per-row operations over a fixed corpus
// (lengths 0..120 and two lengths of several chunks, weights of both signs, zeros,
// special values, every loss branch; rows of 1 to 9 and 64 columns) and hashes all
// result bits.
func digestWeightedOf[T Float]() string {
	h := sha256.New()
	r := rand.New(rand.NewPCG(2026, 15))
	lengths := []int{}
	for n := 0; n <= 120; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 2*chunkLen+1, 5*chunkLen+13)
	for li, l := range testLosses() {
		for _, n := range lengths {
			if n > chunkLen && li > 1 {
				continue
			}
			x, y, w := make([]T, n), make([]T, n), make([]T, n)
			for i := range x {
				x[i], y[i], w[i] = T(digestValue(r)), T(digestValue(r)), T(digestValue(r))
				if i%5 == 0 && finite(y[i]) {
					x[i] = y[i] + T(l.Param()) // |x - y| at beta
				}
				if i%7 == 3 {
					w[i] = 0
				}
			}
			g := T(digestValue(r))
			d := make([]T, n)
			s := []T{WeightedSum(l, x, y, w), WeightedMean(l, x, y, w), WeightedSumAndGrad(l, d, x, y, w, g)}
			hashSlice(h, d)
			s = append(s, WeightedMeanAndGrad(l, d, x, y, w, g))
			hashSlice(h, d)
			hashSlice(h, s)
			if n > 1000 {
				continue
			}
			for _, cols := range []int{1, 2, 3, 4, 5, 8, 9, 64} {
				rows := n / cols
				m := rows * cols
				rs := make([]T, rows)
				RowSums(l, rs, x[:m], y[:m], cols)
				hashSlice(h, rs)
				RowMeans(l, rs, x[:m], y[:m], cols)
				hashSlice(h, rs)
				RowGrad(l, d[:m], x[:m], y[:m], w[:rows], cols)
				hashSlice(h, d[:m])
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDigestWeighted is TestDigest for the weighted and per-row operations: a
// SHA-256 of every result bit over a fixed corpus, the same on every
// implementation and architecture (CI runs it on amd64, arm64 under qemu, purego
// and GOAMD64=v3) and equal to testdata/digest-weighted.txt. RowSums follows Sum's
// canonical order, so a change of Sum's order changes this digest too; rewrite it
// then, and only then, with: go test -run TestDigestWeighted -update-digest
func TestDigestWeighted(t *testing.T) {
	checkDigest(t, digestWeightedFile, func(int) (d32, d64 string) {
		return digestWeightedOf[float32](), digestWeightedOf[float64]()
	})
}
