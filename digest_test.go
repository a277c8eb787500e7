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
// values, values at many scales, every loss branch) and hashes all result bits.
func digestOf[T Float]() string {
	h := sha256.New()
	r := rand.New(rand.NewPCG(2026, 11))
	for _, l := range testLosses() {
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
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDigest compares a SHA-256 of every result bit over a fixed corpus with the
// digest committed in testdata/digest.txt, on every implementation. CI runs it on
// amd64 (each implementation), arm64, purego and GOAMD64=v3: the same digest must
// hold everywhere. Changing the canonical order of operations changes the digest;
// then, and only then, rewrite it with: go test -run TestDigest -update-digest
func TestDigest(t *testing.T) {
	want := map[string]string{}
	if !*updateDigest {
		b, err := os.ReadFile(digestFile)
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
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			d32, d64 := digestOf[float32](), digestOf[float64]()
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
		if err := os.WriteFile(digestFile, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
