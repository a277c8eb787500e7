package smoothl1

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveSum is the loop a Go user writes by hand: the baseline of the benchmarks.
func naiveSum[T Float](beta T, x, y []T) T {
	var s T
	for i := range x {
		z := T(math.Abs(float64(x[i] - y[i])))
		if z < beta {
			s += 0.5 * z * z / beta
		} else {
			s += z - 0.5*beta
		}
	}
	return s
}

var sinkF32 float32
var sinkF64 float64

func benchData[T Float](n int) (x, y, g, dst []T) {
	r := rand.New(rand.NewPCG(7, uint64(n)))
	x, y, g, dst = make([]T, n), make([]T, n), make([]T, n), make([]T, n)
	for i := range x {
		// |x - y| < 1 about half of the time: a branchy loop mispredicts.
		x[i], y[i], g[i] = T(r.NormFloat64()), T(r.NormFloat64()), T(r.NormFloat64())
	}
	return
}

// BenchmarkSum compares Sum on every implementation with the naive loop:
// go test -run - -bench Sum . | benchstat -col /impl -
func BenchmarkSum(b *testing.B) {
	benchSum[float32](b)
	benchSum[float64](b)
}

func benchSum[T Float](b *testing.B) {
	defer SetImplementation("")
	l := Loss{}
	for _, n := range []int{16, 4096, 1 << 20} {
		x, y, _, _ := benchData[T](n)
		names := append([]string{"naive"}, Implementations()...)
		for _, impl := range names {
			b.Run(fmt.Sprintf("impl=%s/dtype=%T/n=%d", impl, T(0), n), func(b *testing.B) {
				b.SetBytes(int64(2 * n * int(sizeOf[T]())))
				var s T
				if impl == "naive" {
					for b.Loop() {
						s += naiveSum(T(1), x, y)
					}
				} else {
					SetImplementation(impl)
					for b.Loop() {
						s += Sum(l, x, y)
					}
				}
				sinkF64 += float64(s)
			})
		}
	}
}

func sizeOf[T Float]() uintptr {
	if isF32[T]() {
		return 4
	}
	return 8
}
