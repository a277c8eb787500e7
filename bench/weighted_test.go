package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gokernels/smoothl1"
)

// The benchmarks of the weighted and per-row operations (issue 15), each with the
// baselines of its targets as sibling sub-benchmarks, so that one run gives the
// ratios (benchstat -col /impl):
//
//	go test -run - -bench 'Weighted|Rows' -count 5 | tee w.txt
//	benchstat -col /impl w.txt
//
// impl=smoothl1 is the library on its automatic implementation; impl=naive the
// plain Go loop a user would write; impl=roofline streams the same bytes with the
// benchmarks' AVX2 streaming kernels (read x and y, then w; for a gradient also
// write dst); impl=sum-per-row calls Sum once per row; impl=sum is Sum over all
// the elements at once. Inputs are random normal values: the branch of each
// element is a coin toss that no predictor learns.

func wInputs[T smoothl1.Float](n int) (x, y, w, dst []T) {
	r := rand.New(rand.NewPCG(uint64(n), 15))
	x, y, w, dst = make([]T, n), make([]T, n), make([]T, n), make([]T, n)
	for i := range x {
		x[i], y[i], w[i] = T(r.NormFloat64()), T(r.NormFloat64()), T(r.Float64())
	}
	return x, y, w, dst
}

// naiveWeightedSum is the loop a user writes: SmoothL1(1), summed in T.
func naiveWeightedSum[T smoothl1.Float](x, y, w []T) T {
	var s T
	for i := range x {
		d := x[i] - y[i]
		z := T(math.Abs(float64(d)))
		var l T
		if z < 1 {
			l = 0.5 * z * z
		} else {
			l = z - 0.5
		}
		s += w[i] * l
	}
	return s
}

// rooflineStreams reads x, y and w (and writes dst, if not nil) with the streaming
// kernels: the bytes of the operation, at the speed of the memory system.
func rooflineStreams[T smoothl1.Float](x, y, w, dst []T) uint64 {
	asm := runtime.GOARCH == "amd64"
	bx, by, bw := bytes(x), bytes(y), bytes(w)
	h := len(bw) / 2
	var c uint64
	if dst != nil {
		rooflineReadWrite(asm, bytes(dst), bx, by)
	} else {
		c = rooflineRead(asm, bx, by)
	}
	return c + rooflineRead(asm, bw[:h], bw[h:2*h])
}

func weightedLengths() []int {
	if testing.Short() {
		return []int{4096, 1 << 20}
	}
	return []int{4096, 1 << 20, 1 << 24}
}

func BenchmarkWeightedSum(b *testing.B) {
	benchWeighted[float32](b, false)
	benchWeighted[float64](b, false)
}

func BenchmarkWeightedSumAndGrad(b *testing.B) {
	benchWeighted[float32](b, true)
	benchWeighted[float64](b, true)
}

func benchWeighted[T smoothl1.Float](b *testing.B, grad bool) {
	l, _ := smoothl1.SmoothL1(1)
	dtype := fmt.Sprintf("%T", T(0))
	size := int64(4)
	if dtype == "float64" {
		size = 8
	}
	for _, n := range weightedLengths() {
		x, y, w, dst := wInputs[T](n)
		impls := []string{"smoothl1", "naive", "roofline"}
		if grad {
			impls = []string{"smoothl1", "roofline"}
		}
		for _, impl := range impls {
			b.Run(fmt.Sprintf("impl=%s/dtype=%s/n=%d", impl, dtype, n), func(b *testing.B) {
				streams := int64(3)
				if grad {
					streams = 4
				}
				b.SetBytes(streams * size * int64(n))
				var sink T
				var c uint64
				for b.Loop() {
					switch {
					case impl == "naive":
						sink += naiveWeightedSum(x, y, w)
					case impl == "roofline" && grad:
						c += rooflineStreams(x, y, w, dst)
					case impl == "roofline":
						c += rooflineStreams(x, y, w, nil)
					case grad:
						sink += smoothl1.WeightedSumAndGrad(l, dst, x, y, w, 1)
					default:
						sink += smoothl1.WeightedSum(l, x, y, w)
					}
				}
				runtime.KeepAlive(sink)
				runtime.KeepAlive(c)
			})
		}
	}
}

func BenchmarkRowSums(b *testing.B) {
	benchRows[float32](b)
	benchRows[float64](b)
}

func benchRows[T smoothl1.Float](b *testing.B) {
	l, _ := smoothl1.SmoothL1(1)
	dtype := fmt.Sprintf("%T", T(0))
	size := int64(4)
	if dtype == "float64" {
		size = 8
	}
	shapes := [][2]int{{4, 1 << 20}, {1000, 1 << 10}}
	if testing.Short() {
		shapes = [][2]int{{4, 1 << 16}, {1000, 1 << 6}}
	}
	for _, sh := range shapes {
		cols, rows := sh[0], sh[1]
		n := cols * rows
		x, y, _, _ := wInputs[T](n)
		dst := make([]T, rows)
		for _, impl := range []string{"smoothl1", "sum-per-row", "sum", "roofline"} {
			b.Run(fmt.Sprintf("impl=%s/dtype=%s/cols=%d/rows=%d", impl, dtype, cols, rows), func(b *testing.B) {
				b.SetBytes(2 * size * int64(n))
				var c uint64
				var sink T
				for b.Loop() {
					switch impl {
					case "smoothl1":
						smoothl1.RowSums(l, dst, x, y, cols)
					case "sum-per-row":
						for r := range dst {
							dst[r] = smoothl1.Sum(l, x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols])
						}
					case "sum":
						sink += smoothl1.Sum(l, x, y)
					case "roofline":
						c += rooflineRead(runtime.GOARCH == "amd64", bytes(x), bytes(y))
					}
				}
				runtime.KeepAlive(c)
				runtime.KeepAlive(sink)
			})
		}
	}
}
