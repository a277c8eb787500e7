package smoothl1

import (
	"compress/gzip"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// ulps returns the distance in units in the last place of T between a and b, with
// +0 and -0 equal; NaN against anything else is "infinitely" far.
func ulps[T Float](a, b T) uint64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxUint64
	}
	oa, ob := ordered(a), ordered(b)
	if oa > ob {
		return uint64(oa - ob)
	}
	return uint64(ob - oa)
}

// ordered maps a float to an integer that is monotonic in its value, adjacent floats
// being adjacent integers (-0 and +0 both map to 0).
func ordered[T Float](v T) int64 {
	if isF32[T]() {
		b := int64(math.Float32bits(float32(v)))
		if b&(1<<31) != 0 {
			return -(b &^ (1 << 31))
		}
		return b
	}
	b := math.Float64bits(float64(v))
	if b&(1<<63) != 0 {
		return -int64(b &^ (1 << 63))
	}
	return int64(b)
}

// same reports whether a and b are equal, NaN equal to NaN and +0 to -0.
func same[T Float](a, b T) bool { return a == b || (a != a && b != b) }

// sameBits reports whether a and b have the same bits, any NaN equal to any NaN.
func sameBits[T Float](a, b T) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	if isF32[T]() {
		return math.Float32bits(float32(a)) == math.Float32bits(float32(b))
	}
	return math.Float64bits(float64(a)) == math.Float64bits(float64(b))
}

type goldenCase struct {
	Name       string          `json:"name"`
	Loss       string          `json:"loss"`
	Dtype      string          `json:"dtype"`
	Beta       string          `json:"beta"`
	Reduction  string          `json:"reduction"`
	X          []string        `json:"x"`
	Y          []string        `json:"y"`
	GradOut    json.RawMessage `json:"grad_out"`
	TorchOut   json.RawMessage `json:"torch_out"`
	TorchGradX []string        `json:"torch_grad_x"`
	ExactOut   json.RawMessage `json:"exact_out"`
	ExactGradX []string        `json:"exact_grad_x"`
}

func loadGolden(t testing.TB) []goldenCase {
	t.Helper()
	f, err := os.Open("testdata/torch-golden.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.NewDecoder(z).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 500 {
		t.Fatalf("golden file has %d cases, want 540", len(doc.Cases))
	}
	return doc.Cases
}

// fromHex decodes an IEEE-754 bit pattern in hex as a T.
func fromHex[T Float](t testing.TB, h string) T {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatalf("bad hex %q: %v", h, err)
	}
	var u uint64
	for _, c := range b {
		u = u<<8 | uint64(c)
	}
	switch len(b) {
	case 4:
		return T(math.Float32frombits(uint32(u)))
	case 8:
		if isF32[T]() {
			t.Fatalf("8-byte value %q for float32", h)
		}
		return T(math.Float64frombits(u))
	}
	t.Fatalf("bad length %q", h)
	return 0
}

func hexSlice[T Float](t testing.TB, hs []string) []T {
	out := make([]T, len(hs))
	for i, h := range hs {
		out[i] = fromHex[T](t, h)
	}
	return out
}

// rawHex decodes a JSON value that is a hex string or a list of them.
func rawHex[T Float](t testing.TB, raw json.RawMessage) (one T, many []T, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil, false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return fromHex[T](t, s), nil, true
	}
	var ss []string
	if err := json.Unmarshal(raw, &ss); err != nil {
		t.Fatalf("bad value %s", raw)
	}
	return 0, hexSlice[T](t, ss), true
}

// forEachImpl runs f with each usable implementation forced in turn.
func forEachImpl(t *testing.T, f func(t *testing.T, impl string)) {
	t.Helper()
	defer SetImplementation("")
	for _, name := range Implementations() {
		if err := SetImplementation(name); err != nil {
			t.Fatal(err)
		}
		t.Run("impl="+name, func(t *testing.T) { f(t, name) })
	}
}

func mustLoss(t testing.TB, kind string, p float64) Loss {
	t.Helper()
	var l Loss
	var err error
	if kind == "huber" {
		l, err = Huber(p)
	} else {
		l, err = SmoothL1(p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newRand(seed int) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 99)) }

// checkInPlaceOp runs f with dst == x and then dst == y (on copies of x and y) and
// requires the bits of want, the out-of-place result.
func checkInPlaceOp[T Float](t testing.TB, name string, x, y, want []T, f func(dst, x, y []T)) {
	t.Helper()
	for which, dstName := range []string{"x", "y"} {
		xc, yc := append([]T(nil), x...), append([]T(nil), y...)
		dst := xc
		if which == 1 {
			dst = yc
		}
		f(dst, xc, yc)
		for i := range want {
			if !sameBits(dst[i], want[i]) {
				t.Fatalf("%s in place (dst == %s) n=%d [%d]: %v, want %v", name, dstName, len(x), i, dst[i], want[i])
			}
		}
	}
}

// usableGenericFirst returns the implementations usable here, generic first, so that
// a test can compare every other one with it.
func usableGenericFirst() []implInfo {
	var r []implInfo
	for k := range impls {
		if in := impls[len(impls)-1-k]; usable(in) {
			r = append(r, in)
		}
	}
	return r
}
