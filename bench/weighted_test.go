package main

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"

	"github.com/gokernels/smoothl1"
)

// The benchmarks of the weighted and per-row operations (issue 15). BenchmarkRowShapes
// has the baselines of the row targets as sibling sub-benchmarks, so that one run
// gives the ratios (benchstat -col /impl):
//
//	go test -run - -bench 'RowShapes' -count 5 | tee rows.txt
//	benchstat -col /impl rows.txt
//
// impl=smoothl1 is RowSums on its automatic implementation; impl=sum-per-row calls
// Sum once per row; impl=sum is Sum over all the elements at once; impl=roofline
// streams the same bytes. Inputs are random normal values.

func wInputs[T smoothl1.Float](n int) (x, y []T) {
	r := rand.New(rand.NewPCG(uint64(n), 15))
	x, y = make([]T, n), make([]T, n)
	for i := range x {
		x[i], y[i] = T(r.NormFloat64()), T(r.NormFloat64())
	}
	return x, y
}

// The weighted operations and RowSums (cols = 4) run in the suite of bench_test.go
// (every implementation, the naive loop, the roofline; ring inputs), as the other
// operations do.
func BenchmarkWeightedSum(b *testing.B)        { benchOp(b, "WeightedSum") }
func BenchmarkWeightedSumAndGrad(b *testing.B) { benchOp(b, "WeightedSumAndGrad") }
func BenchmarkRowSums(b *testing.B)            { benchOp(b, "RowSums") }

// BenchmarkRowShapes compares RowSums with calling Sum once per row and with Sum
// over all the elements at once, for boxes (cols = 4), points (3, 2), a column of
// targets (1), rows of 8 and 32 columns and long rows (cols = 1000). The roofline
// reads x and y (for rows of one column, dst is a third of the traffic, which it
// leaves out).
func BenchmarkRowShapes(b *testing.B) {
	benchRows[float32](b)
	benchRows[float64](b)
}

func benchRows[T smoothl1.Float](b *testing.B) {
	l, _ := smoothl1.SmoothL1(1)
	dtype, size := fmt.Sprintf("%T", T(0)), int64(unsafe.Sizeof(T(0)))
	// Rows of 8 and 32 columns have no row kernel yet: Sum's kernel runs per row.
	shapes := [][2]int{{4, 1 << 20}, {3, 1 << 20}, {2, 1 << 20}, {1, 1 << 20}, {8, 1 << 19}, {32, 1 << 17}, {1000, 1 << 10}}
	if testing.Short() {
		shapes = [][2]int{{4, 1 << 16}, {3, 1 << 16}, {2, 1 << 16}, {1, 1 << 16}, {8, 1 << 15}, {32, 1 << 13}, {1000, 1 << 6}}
	}
	for _, sh := range shapes {
		cols, rows := sh[0], sh[1]
		n := cols * rows
		x, y := wInputs[T](n)
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

// BenchmarkRowGrad times RowGrad on 2^22 elements (rows of 1, 3, 4 and 1000 columns) on
// one goroutine and on every goroutine, against the roofline of its traffic (x and y
// read, dst written; the upstream gradients are a fraction of that, but for rows of
// one column, where they are as many as x's and the roofline leaves them out),
// streamed on as many goroutines:
//
//	go test -run - -bench 'RowGrad$' -count 5 | tee rowgrad.txt
//	benchstat -col /threads rowgrad.txt
func BenchmarkRowGrad(b *testing.B) {
	benchRowGrad[float32](b)
	benchRowGrad[float64](b)
}

func benchRowGrad[T smoothl1.Float](b *testing.B) {
	l, _ := smoothl1.SmoothL1(1)
	dtype, size := fmt.Sprintf("%T", T(0)), int64(unsafe.Sizeof(T(0)))
	n := 1 << 22
	if testing.Short() {
		n = 1 << 16
	}
	x, y := wInputs[T](n)
	dst := make([]T, n)
	defer smoothl1.SetThreads(smoothl1.SetThreads(0))
	for _, cols := range []int{1, 3, 4, 1000} {
		m := n / cols * cols
		x, y, dst := x[:m], y[:m], dst[:m]
		// gradOut: a stream of its own; s: the roofline's bytes, those RowGrad is
		// timed on.
		gradOut := append([]T(nil), y[:m/cols]...)
		s := set[T]{x: x, y: y, dst: dst}
		for _, th := range []int{1, runtime.GOMAXPROCS(0)} {
			for _, impl := range []string{"smoothl1", "roofline"} {
				b.Run(fmt.Sprintf("impl=%s/dtype=%s/cols=%d/threads=%d", impl, dtype, cols, th), func(b *testing.B) {
					smoothl1.SetThreads(th)
					b.SetBytes(3 * size * int64(m))
					for b.Loop() {
						if impl == "smoothl1" {
							smoothl1.RowGrad(l, dst, x, y, gradOut, cols)
						} else {
							rooflineParallel("Elementwise", &s, th)
						}
					}
				})
			}
		}
	}
}
