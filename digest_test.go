package smoothl1

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"hash"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

var updateDigest = flag.Bool("update-digest", false, "rewrite testdata/digest.txt (only when the canonical order of operations changes on purpose)")

const digestFile = "testdata/digest.txt"

// digestValue returns a deterministic value built from integers only (no math
// library function whose last bit could differ between architectures): ordinary
// numbers at scales 2^-30..2^30, and now and then a special value.
func digestValue(r *rand.Rand) float64 {
	if r.IntN(10) == 0 {
		return specials64[r.IntN(len(specials64))]
	}
	m := float64(int64(r.Uint64()>>11)-(1<<52)) * 0x1p-52 // in [-1, 1)
	return math.Ldexp(m, r.IntN(61)-30)
}

func hashSlice[T Float](h hash.Hash, s []T) {
	var b [8]byte
	for _, v := range s {
		u := math.Float64bits(float64(v))
		if v != v {
			u = 0x7ff8000000000001 // NaN payloads are not part of the promise
		}
		binary.LittleEndian.PutUint64(b[:], u)
		h.Write(b[:])
	}
}

// digestOf runs every operation over a fixed corpus (every length 0..300, special
// values, values at many scales, every loss branch, and sums of several chunks) and
// hashes all result bits.
func digestOf[T Float]() string {
	h := sha256.New()
	r := rand.New(rand.NewPCG(2026, 11))
	for k, l := range testLosses() {
		for n := 0; n <= 300; n++ {
			x, y, g := make([]T, n), make([]T, n), make([]T, n)
			for i := range x {
				x[i], y[i], g[i] = T(digestValue(r)), T(digestValue(r)), T(digestValue(r))
				if i%5 == 0 && finite(y[i]) {
					x[i] = y[i] + T(l.Param()) // |x - y| at beta
				}
			}
			scale := T(digestValue(r))
			d := make([]T, n)
			Elementwise(l, d, x, y)
			hashSlice(h, d)
			Grad(l, d, x, y, scale)
			hashSlice(h, d)
			GradElementwise(l, d, x, y, g)
			hashSlice(h, d)
			s := []T{Sum(l, x, y), Mean(l, x, y), SumAndGrad(l, d, x, y, scale)}
			hashSlice(h, d)
			s = append(s, MeanAndGrad(l, d, x, y, scale))
			hashSlice(h, d)
			hashSlice(h, s)
		}
		// Inputs that span several chunks of the chunk grid (chunkLen), so that the
		// sums show the tree that combines the chunks: first finite values (a NaN
		// or Inf hides every other bit of a sum), then an infinite loss and a float32
		// overflow of x - y on chunk boundaries. Only the sums are hashed: the
		// elementwise results do not depend on the chunks.
		// (For four losses: SmoothL1 with beta 1 and 0.1, Huber with delta 0.5 and
		// +Inf, to keep the digest quick under the race detector.)
		for _, n := range []int{2*chunkLen + 1, 5*chunkLen + 13} {
			if k != 0 && k != 2 && k != 9 && k != 13 {
				break
			}
			x, y := make([]T, n), make([]T, n)
			for i := range x {
				x[i], y[i] = T(digestFinite(r)), T(digestFinite(r))
			}
			d := make([]T, n)
			scale := T(digestFinite(r))
			for k := 0; k < 3; k++ {
				switch k {
				case 1:
					x[chunkLen] = T(math.Inf(-1))
				case 2:
					x[chunkLen] = 0
					x[2*chunkLen-1], y[2*chunkLen-1] = T(math.MaxFloat32), T(-math.MaxFloat32)
				}
				hashSlice(h, []T{Sum(l, x, y), Mean(l, x, y), SumAndGrad(l, d, x, y, scale), MeanAndGrad(l, d, x, y, scale)})
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// digestFinite returns a finite value like digestValue's ordinary numbers.
func digestFinite(r *rand.Rand) float64 {
	m := float64(int64(r.Uint64()>>11)-(1<<52)) * 0x1p-52 // in [-1, 1)
	return math.Ldexp(m, r.IntN(41)-20)
}

// TestDigest compares a SHA-256 of every result bit over a fixed corpus with the
// digest committed in testdata/digest.txt, on every implementation. CI runs it on
// amd64 (each implementation), arm64, purego and GOAMD64=v3: the same digest must
// hold everywhere. Changing the canonical order of operations changes the digest;
// then, and only then, rewrite it with: go test -run TestDigest -update-digest
func TestDigest(t *testing.T) {
	checkDigest(t, digestFile, func(k int) (d32, d64 string) {
		// The implementations take turns at threads = 1 and threads = 3 (from
		// any length on): the digest must not change with the threads either.
		withThreads(1+2*(k%2), 1, func() {
			d32, d64 = digestOf[float32](), digestOf[float64]()
		})
		return d32, d64
	})
}

// checkDigest runs digest on every implementation (k counts them, generic first)
// and holds its float32 and float64 digests to each other's and to those committed
// in file, or, with -update-digest, writes them to file.
func checkDigest(t *testing.T, file string, digest func(k int) (d32, d64 string)) {
	want := map[string]string{}
	if !*updateDigest {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				want[f[0]] = f[1]
			}
		}
	}
	got := map[string]string{}
	for k, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			d32, d64 := digest(k)
			for typ, d := range map[string]string{"float32": d32, "float64": d64} {
				if prev, ok := got[typ]; ok && prev != d {
					t.Errorf("%s %s digest %s differs from another implementation's %s", in.name, typ, d, prev)
				}
				got[typ] = d
				if !*updateDigest && d != want[typ] {
					t.Errorf("%s %s digest %s, committed %s", in.name, typ, d, want[typ])
				}
			}
		})
	}
	if *updateDigest {
		out := "float32 " + got["float32"] + "\nfloat64 " + got["float64"] + "\n"
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
