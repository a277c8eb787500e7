package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"unsafe"

	"github.com/gokernels/smoothl1"
)

// The operations of the suite, in report order.
var allOps = []string{"Elementwise", "Sum", "Mean", "Grad", "GradElementwise", "SumAndGrad", "MeanAndGrad",
	"WeightedSum", "WeightedSumAndGrad", "RowSums"}

// rowCols is the number of columns of the RowSums points: boxes of 4 coordinates.
const rowCols = 4

// The lengths of the sweep.
var allLengths = []int{16, 256, 4096, 65536, 1 << 20, 1 << 24}

// Baselines run under the names of implementations.
const (
	implNaive    = "naive"    // the loop a Go user writes by hand
	implRoofline = "roofline" // only moves the bytes the operation moves
)

// traffic returns how many slices of n elements the operation reads, and how many it
// writes of n/outDiv(op) elements.
func traffic(op string) (reads, writes int) {
	switch op {
	case "Sum", "Mean":
		return 2, 0
	case "GradElementwise", "WeightedSumAndGrad":
		return 3, 1
	case "WeightedSum":
		return 3, 0
	}
	return 2, 1
}

// outDiv is the number of elements per value the operation writes: rowCols for
// RowSums (a value per row), else 1.
func outDiv(op string) int {
	if op == "RowSums" {
		return rowCols
	}
	return 1
}

// ringBytes is the total size of the input sets a point cycles through (at least 256
// sets where that fits in about 64 MiB): the same data every call would let the branch predictor
// learn the pattern of a short input (it does, for thousands of elements), which no
// real training loop allows.
const ringBytes = 512 << 10

// windowMax is the longest input drawn as a random window rather than as the next set.
const windowMax = 1024

// ringSets is the most sets of n elements that keep a ring near 64 MiB or less.
func ringSets(n int) int { return max(1, (8<<20)/n) }

// set is one input of an operation.
type set[T smoothl1.Float] struct{ x, y, g, dst []T }

// ringData is the input of a point: sets of n elements laid end to end, and all of
// them as one set, from which short inputs are drawn as windows (see point).
type ringData[T smoothl1.Float] struct {
	sets []set[T]
	all  set[T]
}

// ringCache keeps the input of the last length and type, which every operation and
// implementation of a sweep shares.
var ringCache struct {
	key string
	r   any
}

// ring returns the input for n elements of T.
func ring[T smoothl1.Float](n int) ringData[T] {
	var z T
	key := fmt.Sprintf("%T/%d", z, n)
	if ringCache.key == key {
		return ringCache.r.(ringData[T])
	}
	ringCache.r = nil
	size := int(unsafe.Sizeof(z))
	k := ringBytes / (4 * n * size)
	k = max(min(256, ringSets(n)), min(k, 4096))
	r0 := rand.New(rand.NewPCG(7, uint64(n)))
	all := set[T]{make([]T, k*n), make([]T, k*n), make([]T, k*n), make([]T, k*n)}
	sets := make([]set[T], k)
	for i := range sets {
		lo, hi := i*n, (i+1)*n
		s := set[T]{all.x[lo:hi], all.y[lo:hi], all.g[lo:hi], all.dst[lo:hi]}
		for j := range s.x {
			// |x - y| < 1 about half the time, so a branchy loop mispredicts.
			s.x[j], s.y[j], s.g[j] = T(r0.NormFloat64()), T(r0.NormFloat64()), T(r0.NormFloat64())
			s.dst[j] = 1 // touch every page now, not in the first timed call
		}
		sets[i] = s
	}
	r := ringData[T]{sets, all}
	ringCache.key, ringCache.r = key, r
	return r
}

// inputs returns the ring of n elements of T and a function that returns the
// next input of a point on it.
func inputs[T smoothl1.Float](n int) (ringData[T], func() *set[T]) {
	r := ring[T](n)
	sets := r.sets
	next := 0
	cur := func() *set[T] {
		s := &sets[next]
		next++
		if next == len(sets) {
			next = 0
		}
		return s
	}
	if n <= windowMax {
		// Short inputs: a window at a pseudo-random offset into the whole ring for
		// every call. Cycling through the sets in order repeats the same sequence of
		// branch outcomes every len(sets)*n elements, and at n = 16 (16,384 outcomes)
		// Zen's predictor learns it: the naive loop then runs at 1.3 ns/element
		// instead of 9. The offsets never repeat in a run (xorshift64).
		all := r.all
		m := uint64(len(all.x) - n + 1)
		var w set[T]
		state := uint64(0x9e3779b97f4a7c15)
		cur = func() *set[T] {
			state ^= state << 13
			state ^= state >> 7
			state ^= state << 17
			o := int((state >> 32) * m >> 32)
			w = set[T]{all.x[o : o+n], all.y[o : o+n], all.g[o : o+n], all.dst[o : o+n]}
			return &w
		}
	}
	return r, cur
}

// point prepares an operation on one implementation and returns a function that
// runs it once (on the next input set of its ring).
func point[T smoothl1.Float](op, impl string, n int) (func(), error) {
	_, cur := inputs[T](n)
	l := smoothl1.Loss{} // SmoothL1Loss(beta=1), PyTorch's default
	var sink T
	switch impl {
	case implNaive:
		return naiveOp[T](op, cur), nil
	case implRoofline:
		// The AVX2 streaming kernel serves every assembly path.
		asm := smoothl1.Implementations()[0] != "generic"
		return func() {
			s := cur()
			runtime.KeepAlive(rooflineMove(asm, op, bytes(s.dst), bytes(s.x), bytes(s.y), bytes(s.g)))
		}, nil
	}
	if err := setImpl(impl); err != nil {
		return nil, err
	}
	var f func(s *set[T])
	switch op {
	case "Elementwise":
		f = func(s *set[T]) { smoothl1.Elementwise(l, s.dst, s.x, s.y) }
	case "Sum":
		f = func(s *set[T]) { sink += smoothl1.Sum(l, s.x, s.y) }
	case "Mean":
		f = func(s *set[T]) { sink += smoothl1.Mean(l, s.x, s.y) }
	case "Grad":
		f = func(s *set[T]) { smoothl1.Grad(l, s.dst, s.x, s.y, 0.5) }
	case "GradElementwise":
		f = func(s *set[T]) { smoothl1.GradElementwise(l, s.dst, s.x, s.y, s.g) }
	case "SumAndGrad":
		f = func(s *set[T]) { sink += smoothl1.SumAndGrad(l, s.dst, s.x, s.y, 0.5) }
	case "MeanAndGrad":
		f = func(s *set[T]) { sink += smoothl1.MeanAndGrad(l, s.dst, s.x, s.y, 0.5) }
	case "WeightedSum": // the weights are g
		f = func(s *set[T]) { sink += smoothl1.WeightedSum(l, s.x, s.y, s.g) }
	case "WeightedSumAndGrad":
		f = func(s *set[T]) { sink += smoothl1.WeightedSumAndGrad(l, s.dst, s.x, s.y, s.g, 0.5) }
	case "RowSums":
		f = func(s *set[T]) { smoothl1.RowSums(l, s.dst[:len(s.x)/rowCols], s.x, s.y, rowCols) }
	default:
		return nil, fmt.Errorf("unknown operation %q", op)
	}
	return func() {
		f(cur())
		runtime.KeepAlive(sink) // the result is used: the loop cannot be dropped
	}, nil
}

// sinkF takes the C peers' results (peers.go); their tests read it.
var sinkF float64

func bytes[T smoothl1.Float](s []T) []byte {
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(z)))
}

// naiveOp returns the hand-written Go loop for the operation, with beta = 1: the
// branchy formula, the way a Go user writes it today.
func naiveOp[T smoothl1.Float](op string, cur func() *set[T]) func() {
	const beta = 1
	loss := func(x, y T) T {
		z := T(math.Abs(float64(x - y)))
		if z < beta {
			return 0.5 * z * z / beta
		}
		return z - 0.5*beta
	}
	deriv := func(x, y T) T {
		d := x - y
		if T(math.Abs(float64(d))) < beta {
			return d / beta
		}
		if d > 0 {
			return 1
		} else if d < 0 {
			return -1
		}
		return 0
	}
	var sink T
	switch op {
	case "Elementwise":
		return func() {
			s := cur()
			for i := range s.x {
				s.dst[i] = loss(s.x[i], s.y[i])
			}
		}
	case "Sum", "Mean":
		return func() {
			s := cur()
			var sum T
			for i := range s.x {
				z := T(math.Abs(float64(s.x[i] - s.y[i])))
				if z < beta {
					sum += 0.5 * z * z / beta
				} else {
					sum += z - 0.5*beta
				}
			}
			if op == "Mean" {
				sum /= T(len(s.x))
			}
			sink += sum
			runtime.KeepAlive(sink) // the result is used: the loop cannot be dropped
		}
	case "Grad":
		return func() {
			s := cur()
			for i := range s.x {
				s.dst[i] = 0.5 * deriv(s.x[i], s.y[i])
			}
		}
	case "GradElementwise":
		return func() {
			s := cur()
			for i := range s.x {
				s.dst[i] = s.g[i] * deriv(s.x[i], s.y[i])
			}
		}
	case "WeightedSum":
		return func() {
			s := cur()
			var sum T
			for i := range s.x {
				sum += s.g[i] * loss(s.x[i], s.y[i])
			}
			sink += sum
			runtime.KeepAlive(sink)
		}
	case "WeightedSumAndGrad":
		return func() {
			s := cur()
			var sum T
			for i := range s.x {
				sum += s.g[i] * loss(s.x[i], s.y[i])
				s.dst[i] = 0.5 * s.g[i] * deriv(s.x[i], s.y[i])
			}
			sink += sum
			runtime.KeepAlive(sink)
		}
	case "RowSums":
		return func() {
			s := cur()
			for r := 0; r < len(s.x)/rowCols; r++ {
				var sum T
				for c := r * rowCols; c < (r+1)*rowCols; c++ {
					sum += loss(s.x[c], s.y[c])
				}
				s.dst[r] = sum
			}
		}
	default: // SumAndGrad, MeanAndGrad
		return func() {
			s := cur()
			var sum T
			scale := T(0.5)
			if op == "MeanAndGrad" {
				scale /= T(len(s.x))
			}
			for i := range s.x {
				sum += loss(s.x[i], s.y[i])
				s.dst[i] = scale * deriv(s.x[i], s.y[i])
			}
			if op == "MeanAndGrad" {
				sum /= T(len(s.x))
			}
			sink += sum
			runtime.KeepAlive(sink) // the result is used: the loop cannot be dropped
		}
	}
}

// implsFor returns the implementations the suite measures here: the baselines,
// every implementation usable on this CPU, and the peers of this build (peers.go).
func implsFor() []string {
	return append(append([]string{implNaive, implRoofline}, smoothl1.Implementations()...), peerImpls()...)
}

// rooflineMove moves the bytes op moves over its slices, as bytes, as its kernel
// moves them: it reads x and y and writes dst, or a quarter of dst's length
// (RowSums: a value per row of 4), or reads them alone (the sums); an
// operation with a third input g (the weights, GradElementwise's upstream gradient)
// reads the three together. It returns a checksum of what it read alone. Every
// roofline, on one goroutine or several (each on its share), moves bytes this way, so
// that the rooflines agree with traffic, which the report's byte counts come from.
func rooflineMove(asm bool, op string, dst, x, y, g []byte) uint64 {
	reads, writes := traffic(op)
	in := [][]byte{x, y, g}[:reads]
	if writes == 1 {
		switch d := outDiv(op); d {
		case 1:
			rooflineReadWrite(asm, dst, in...)
		case 4:
			rooflineReadQuarter(asm, dst, x, y)
		default:
			panic(fmt.Sprintf("bench: no roofline writes a value per %d elements", d))
		}
		return 0
	}
	return rooflineRead(asm, in...)
}

// bytesMoved is the bytes op reads and writes on n elements of size bytes.
func bytesMoved(op string, n, size int) int64 {
	r, w := traffic(op)
	return int64((r*n + w*(n/outDiv(op))) * size)
}
