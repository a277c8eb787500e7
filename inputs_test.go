package smoothl1

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Test inputs: random values with special values mixed in, pairs at the
// boundary |x - y| == beta, the loss definitions the differential tests run,
// slices at chosen offsets with NaN guard bands around them, and the lengths and
// positions that reach every loop of the AVX-512 kernels.

func nextToward[T Float](v T, dir float64) T {
	if isF32[T]() {
		return T(math.Nextafter32(float32(v), float32(math.Inf(int(dir)))))
	}
	return T(math.Nextafter(float64(v), math.Inf(int(dir))))
}

// specials64 are the values mixed into random inputs: signed zeros, subnormals, the
// largest finite values, infinities, NaN, and ordinary numbers.
var specials64 = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.5, 2, math.Inf(1), math.Inf(-1), math.NaN(),
	math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
	0x1p-1022, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-20, 3e-20, 1e30, -1e30,
}

// randomValue returns a random T: mostly normal numbers at a random scale, sometimes
// a special value, sometimes y's value shifted by exactly, just under or just over
// beta (when near is non-nil).
func randomValue[T Float](r *rand.Rand, specials bool) T {
	switch {
	case specials && r.IntN(8) == 0:
		return T(specials64[r.IntN(len(specials64))])
	case r.IntN(4) == 0:
		return T(r.NormFloat64() * math.Pow(10, float64(r.IntN(13)-6)))
	}
	return T(r.NormFloat64())
}

// randomInputs returns x and y of length n; some pairs are placed at |x - y| == beta
// and one float step either side of it.
func randomInputs[T Float](r *rand.Rand, n int, beta float64, specials bool) (x, y []T) {
	x, y = make([]T, n), make([]T, n)
	b := T(beta)
	for i := range x {
		x[i], y[i] = randomValue[T](r, specials), randomValue[T](r, specials)
		if r.IntN(6) == 0 && finite(b) && finite(y[i]) {
			x[i] = y[i] + b
			switch r.IntN(3) {
			case 1:
				x[i] = nextToward(x[i], -1)
			case 2:
				x[i] = nextToward(x[i], 1)
			}
		}
	}
	return x, y
}

// testLosses are the loss definitions the differential tests run: every branch of
// the parameter set-up, the degenerate scalar path included.
func testLosses() []Loss {
	var ls []Loss
	for _, b := range []float64{1, 0, 0.1, 3, 1e-30, 1e30, 1e-310, math.Inf(1)} {
		l, _ := SmoothL1(b)
		ls = append(ls, l)
	}
	for _, d := range []float64{1, 0.5, 7, 1e-30, 1e200, math.Inf(1)} {
		l, _ := Huber(d)
		ls = append(ls, l)
	}
	return ls
}

const guard = 16

// sentinel is a NaN with a payload no operation produces, for the guard bands.
func sentinel[T Float]() T {
	if isF32[T]() {
		return T(math.Float32frombits(0x7fa5a5a5))
	}
	return T(math.Float64frombits(0x7ff4a5a5a5a5a5a5))
}

// outBuf returns a slice of length n at offset off inside a buffer filled with the
// sentinel, and a function that reports writes outside it.
func outBuf[T Float](t testing.TB, n, off int) ([]T, func(what string)) {
	buf := make([]T, off+n+guard)
	s := sentinel[T]()
	for i := range buf {
		buf[i] = s
	}
	return buf[off : off+n : off+n], func(what string) {
		t.Helper()
		for i, v := range buf {
			if (i < off || i >= off+n) && !sameRaw(v, s) {
				t.Fatalf("%s: wrote outside dst: buf[%d] = %v (dst is buf[%d:%d])", what, i, v, off, off+n)
			}
		}
	}
}

// inBuf copies s to offset off of a fresh buffer, to test unaligned starts.
func inBuf[T Float](s []T, off int) []T {
	buf := make([]T, off+len(s)+guard)
	copy(buf[off:], s)
	return buf[off : off+len(s) : off+len(s)]
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

// fill returns n copies of v.
func fill[T Float](v T, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// rep returns n copies of v: 15 elements put a value in every lane of a full block
// and in lanes 0-6 of the masked tail.
func rep[T Float](v T) []T { return fill(v, 15) }

// longN is long enough for the AVX-512 loops that prefetch 8 KiB ahead, which run
// first, then hand over to the loops that do not, then to the masked tail.
const longN = 2103

// longPositions returns positions in longN elements that put an element in every
// lane of every loop: in the far profile float32 kernels prefetch over elements 0-47
// (float64: 0-1071); in the Zen 4 profile the short copies stop 512 bytes before
// the end of the full blocks (at element 1968 for float32, 2032 for float64) or,
// with the 4 KiB PREFETCHT1 of float64 WeightedSum, Sum and SumAndGrad, 4 KiB
// before it (at 1584); the loops without prefetches go on to 2095, and the tail
// holds 7. (eachImpl runs the AVX-512 kernels in both profiles.)
func longPositions() []int {
	var at []int
	for _, r := range [][2]int{{0, 48}, {1000, 1016}, {1100, 1116}, {2080, 2103}} {
		for i := r[0]; i < r[1]; i++ {
			at = append(at, i)
		}
	}
	return at
}

func clone[T any](s []T) []T { return append([]T(nil), s...) }
