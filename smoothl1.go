// Package smoothl1 computes the Smooth L1 loss and the Huber loss, forward and
// backward, with every reduction of PyTorch's torch.nn.SmoothL1Loss and
// torch.nn.HuberLoss, for float32 and float64, as fast as the CPU allows and with
// the same bits on every CPU.
//
// The behaviour contract (formulas, parameters, special values, accuracy,
// reproducibility, aliasing, threads), which this documentation summarises, is
// docs/SEMANTICS.md in the repository.
//
// # The losses
//
// With d = x - y and z = |d|, per element:
//
//	SmoothL1(beta), beta > 0:  z < beta ? 0.5*z*z/beta : z - 0.5*beta
//	SmoothL1(0):               z (the L1 loss)
//	Huber(delta), delta > 0:   z < delta ? 0.5*z*z : delta*(z - 0.5*delta)
//
// The boundary z == beta belongs to the linear branch. The gradient with respect
// to x is d/beta or sign(d) (SmoothL1; for beta == 0 it is sign(d), and 0 at
// d == 0) and d or delta*sign(d) (Huber). The gradient with respect to y is the
// negation of the gradient with respect to x, everywhere: negate the result of
// Grad, GradElementwise, SumAndGrad or MeanAndGrad to get it.
//
// # The API
//
// A Loss (from SmoothL1 or Huber) is a validated loss definition. Elementwise,
// Sum and Mean are the forward pass for the reductions 'none', 'sum' and 'mean';
// Reduce takes the Reduction as a value, as PyTorch's module does. Grad and
// GradElementwise are the backward passes, SumAndGrad and MeanAndGrad do forward
// and backward in one pass over the data. Every function is generic over Float.
// Inputs are flat slices of equal length; there is no broadcasting, and a length
// mismatch panics. No function allocates.
//
// # Aliasing
//
// A destination slice (cut to len(x)) may be exactly an input, x, y or gradOut:
// the same first element and length. The operation is then in place. A dst that
// shares some elements with an input but is not exactly it would give results
// that depend on the implementation, and panics instead, with a message that
// names the operation, the input and where they start relative to each other.
// Disjoint parts of one array are fine.
//
// WeightedSum, WeightedMean and their fused gradients take per-element weights (or a
// mask of 0 and 1); RowSums, RowMeans and RowGrad reduce each row of a row-major
// matrix (one loss per sample of a batch).
//
// # Accuracy
//
// Elementwise losses and gradients are within 2 ulp of the exact result of the
// given inputs (in practice within 1), and Sum and Mean within 1 ulp of the exact
// sum (mean) of the exact per-element losses, at every length, wherever no
// intermediate result overflows or underflows. float32 data is computed in
// float64 and rounded once; float64 data is computed in double-double arithmetic
// (error-free transformations with FMA), and sums are accumulated in
// double-double, so a Sum of 2^24 or 2^30 elements is as accurate as a Sum of 10.
//
// # Reproducibility
//
// For the same inputs, every implementation (the portable Go kernels, AVX2,
// AVX-512, NEON, on any architecture) returns the same bits, and an element's result
// does not depend on its position in the slice or the slice's alignment; NaN
// payloads are the only exception. All kernels are generated from one description
// of the operations and their order (see package generated and gen/kernel).
//
// # Threads
//
// Calls on long inputs (2^18 elements and more; RowSums and RowMeans too, in runs
// of whole rows of up to 2^16 columns; longer rows, and losses with extreme
// parameters that take the scalar paths, go row by row, each row one Sum call,
// which splits from 2^18 columns) run on several goroutines:
// runtime.GOMAXPROCS(0) of them by default, or as SetThreads (or the environment
// variable SMOOTHL1_THREADS) says. The number of threads changes the speed, never the
// results: sums are taken over a fixed grid of chunks of 2^16 elements, combined in a
// fixed tree over the chunk index, however the chunks are shared out, so every
// setting returns the same bits.
//
// # Implementations
//
// The fastest implementation usable on the CPU is chosen at start-up: on amd64
// "avx512" (AVX-512 F and VL) or "avx2" (AVX2 and FMA), on arm64 "neon" (Advanced
// SIMD), else "generic" (portable Go, and the only one with the purego build tag or
// on other architectures). The environment variable
// SMOOTHL1_IMPL=avx512|avx2|neon|generic forces one at start-up; a value that is
// unknown or not usable on the CPU is reported on standard error and ignored.
// SetImplementation changes it at run time. One exception is made for speed: on the
// avx512 path, float32 Sum and Mean of fewer than 32 elements run the AVX2 kernel,
// which is 1% to 5% faster there (the results are the same bits either way).
// Another: the avx512 kernels of long inputs software-prefetch them far ahead, which
// is faster on AMD Zen 5 but slower on Zen 4, so on AMD CPU family 0x19 (Zen 4) they
// run without, and some (the weighted sums, the rows, float64 Sum and SumAndGrad)
// prefetch a short distance instead; SMOOTHL1_PREFETCH=on|off forces the far or the
// Zen 4 profile at start-up (a bad value is reported on standard error and ignored).
// Prefetches are hints: same bits again.
package smoothl1

import (
	"fmt"
	"math"
	"strconv"
	"unsafe"
)

// Float is the element type of the losses: float32 or float64.
type Float interface{ float32 | float64 }

// Reduction is how the per-element losses are reduced, as PyTorch's reduction argument.
type Reduction int

// The reductions.
const (
	ReductionMean Reduction = iota // the mean of the per-element losses; PyTorch's default
	ReductionSum                   // the sum of the per-element losses
	ReductionNone                  // no reduction: the per-element losses
)

var reductionNames = [...]string{"mean", "sum", "none"}

// String returns PyTorch's name of the reduction: "mean", "sum" or "none".
func (r Reduction) String() string {
	if r >= 0 && int(r) < len(reductionNames) {
		return reductionNames[r]
	}
	return "Reduction(" + strconv.Itoa(int(r)) + ")"
}

// ParseReduction returns the reduction with PyTorch's name s: "mean", "sum",
// "none", or "elementwise_mean" (PyTorch's deprecated alias of "mean").
func ParseReduction(s string) (Reduction, error) {
	switch s {
	case "mean", "elementwise_mean":
		return ReductionMean, nil
	case "sum":
		return ReductionSum, nil
	case "none":
		return ReductionNone, nil
	}
	return 0, fmt.Errorf("smoothl1: %q is not a valid value for reduction: valid names are \"mean\", \"sum\", \"none\" (and the deprecated \"elementwise_mean\")", s)
}

// LegacyReduction returns the reduction that PyTorch's legacy size_average and
// reduce arguments select. nil means unset, which counts as true: reduce false
// gives ReductionNone; reduce true with size_average true gives ReductionMean, and
// with size_average false ReductionSum.
func LegacyReduction(sizeAverage, reduce *bool) Reduction {
	if reduce != nil && !*reduce {
		return ReductionNone
	}
	if sizeAverage != nil && !*sizeAverage {
		return ReductionSum
	}
	return ReductionMean
}

type lossKind uint8

const (
	kindSmoothL1 lossKind = iota
	kindHuber
)

// Loss is a validated loss definition: SmoothL1Loss(beta) or HuberLoss(delta). The
// zero value is SmoothL1Loss(beta=1), PyTorch's default.
type Loss struct {
	kind lossKind
	lp   *lossParams // kernel parameters (beta or delta among them); nil in the zero value
}

// SmoothL1 returns the Smooth L1 loss with threshold beta, as
// torch.nn.SmoothL1Loss(beta=beta). beta must be non-negative (+Inf is allowed);
// beta == 0 is the L1 loss.
func SmoothL1(beta float64) (Loss, error) {
	if math.IsNaN(beta) || beta < 0 {
		return Loss{}, fmt.Errorf("smoothl1: beta must be non-negative, got %v", beta)
	}
	return Loss{kind: kindSmoothL1, lp: newLossParams(kindSmoothL1, beta)}, nil
}

// Huber returns the Huber loss with threshold delta, as
// torch.nn.HuberLoss(delta=delta). delta must be positive (+Inf is allowed).
func Huber(delta float64) (Loss, error) {
	if math.IsNaN(delta) || delta <= 0 {
		return Loss{}, fmt.Errorf("smoothl1: delta must be positive, got %v", delta)
	}
	return Loss{kind: kindHuber, lp: newLossParams(kindHuber, delta)}, nil
}

// IsHuber reports whether l is a Huber loss (else it is a Smooth L1 loss).
func (l Loss) IsHuber() bool { return l.kind == kindHuber }

// Param returns beta (Smooth L1) or delta (Huber).
func (l Loss) Param() float64 { return l.param() }

// String returns the loss as PyTorch prints the module, e.g. "SmoothL1Loss(beta=1)"
// or "HuberLoss(delta=0.5)".
func (l Loss) String() string {
	v := strconv.FormatFloat(l.param(), 'g', -1, 64)
	if l.kind == kindHuber {
		return "HuberLoss(delta=" + v + ")"
	}
	return "SmoothL1Loss(beta=" + v + ")"
}

// Elementwise writes the loss of each element to dst: dst[i] = loss(x[i], y[i]), the
// forward pass of reduction 'none'. dst may be x or y. It panics if x and y differ
// in length, or dst is shorter than x or overlaps x or y partially.
func Elementwise[T Float](l Loss, dst, x, y []T) { elementwise("Elementwise", l, dst, x, y) }

func elementwise[T Float](op string, l Loss, dst, x, y []T) {
	dst = checkDst(op, dst, x, y)
	if isF32[T]() {
		elem32(l, f32(dst), f32(x), f32(y))
	} else {
		elem64(l, f64(dst), f64(x), f64(y))
	}
}

// Sum returns the sum of the per-element losses, the forward pass of reduction
// 'sum'; 0 for empty input. It panics if x and y differ in length.
func Sum[T Float](l Loss, x, y []T) T {
	checkLen("Sum", x, y)
	if isF32[T]() {
		return T(sum32(l, f32(x), f32(y), false))
	}
	return T(sum64(l, f64(x), f64(y), false))
}

// Mean returns the mean of the per-element losses, the forward pass of reduction
// 'mean'; NaN for empty input. It panics if x and y differ in length.
func Mean[T Float](l Loss, x, y []T) T {
	checkLen("Mean", x, y)
	if isF32[T]() {
		return T(sum32(l, f32(x), f32(y), true))
	}
	return T(sum64(l, f64(x), f64(y), true))
}

// Reduce is the forward pass with the reduction r, shaped like PyTorch's module:
// for ReductionNone it writes the per-element losses to dst and returns 0; for
// ReductionMean and ReductionSum it returns Mean or Sum and does not touch dst,
// which may be nil. It panics on an invalid r, on a length mismatch, or if r is
// ReductionNone and dst is shorter than x or overlaps x or y partially.
func Reduce[T Float](l Loss, r Reduction, dst, x, y []T) T {
	switch r {
	case ReductionNone:
		elementwise("Reduce", l, dst, x, y)
		return 0
	case ReductionSum:
		return Sum(l, x, y)
	case ReductionMean:
		return Mean(l, x, y)
	}
	panic(fmt.Sprintf("smoothl1: Reduce: invalid reduction %d (valid: ReductionMean, ReductionSum, ReductionNone)", int(r)))
}

// Grad writes the gradient of scale * loss with respect to x to dst:
// dst[i] = scale * d loss(x[i], y[i]) / d x[i]. It is the backward pass of the
// reductions 'sum' (scale = the upstream gradient) and 'mean' (scale = the upstream
// gradient / len(x)). The gradient with respect to y is -dst. dst may be x or y. It
// panics if x and y differ in length, or dst is shorter than x or overlaps x or y
// partially.
func Grad[T Float](l Loss, dst, x, y []T, scale T) {
	dst = checkDst("Grad", dst, x, y)
	if isF32[T]() {
		grad32(l, f32(dst), f32(x), f32(y), float64(scale), 0)
	} else {
		grad64(l, f64(dst), f64(x), f64(y), float64(scale), 0)
	}
}

// GradElementwise writes the gradient with respect to x of each element's loss,
// times its upstream gradient, to dst: dst[i] = gradOut[i] * d loss(x[i], y[i]) / d x[i],
// the backward pass of reduction 'none'. The gradient with respect to y is -dst.
// dst may be x, y or gradOut. It panics if x, y and gradOut differ in length, or
// dst is shorter than x or overlaps x, y or gradOut partially.
func GradElementwise[T Float](l Loss, dst, x, y, gradOut []T) {
	dst = checkDst("GradElementwise", dst, x, y)
	if len(gradOut) != len(x) {
		panic(fmt.Sprintf("smoothl1: GradElementwise: length mismatch: len(gradOut) = %d, len(x) = %d", len(gradOut), len(x)))
	}
	checkOverlap("GradElementwise", dst, "gradOut", gradOut)
	gradElem(l, dst, x, y, gradOut)
}

// gradElem is GradElementwise after its checks (RowGrad of one column takes it too).
func gradElem[T Float](l Loss, dst, x, y, gradOut []T) {
	if isF32[T]() {
		gradElem32(l, f32(dst), f32(x), f32(y), f32(gradOut))
	} else {
		gradElem64(l, f64(dst), f64(x), f64(y), f64(gradOut))
	}
}

// SumAndGrad returns Sum(l, x, y) and writes Grad(l, dst, x, y, gradOut), in one pass
// over the data. The sum is bit-identical to Sum's. dst may be x or y (the sum is
// of the inputs as they were). It panics if x and y differ in length, or dst is
// shorter than x or overlaps x or y partially.
func SumAndGrad[T Float](l Loss, dst, x, y []T, gradOut T) T {
	dst = checkDst("SumAndGrad", dst, x, y)
	if isF32[T]() {
		return T(sumGrad32(l, f32(dst), f32(x), f32(y), float64(gradOut), false))
	}
	return T(sumGrad64(l, f64(dst), f64(x), f64(y), float64(gradOut), false))
}

// MeanAndGrad returns Mean(l, x, y) and writes the gradient of the mean,
// Grad(l, dst, x, y, gradOut/len(x)) with gradOut/len(x) carried in extended
// precision, in one pass over the data. The mean is bit-identical to Mean's. dst
// may be x or y. It panics if x and y differ in length, or dst is shorter than x or
// overlaps x or y partially.
func MeanAndGrad[T Float](l Loss, dst, x, y []T, gradOut T) T {
	dst = checkDst("MeanAndGrad", dst, x, y)
	if isF32[T]() {
		return T(sumGrad32(l, f32(dst), f32(x), f32(y), float64(gradOut), true))
	}
	return T(sumGrad64(l, f64(dst), f64(x), f64(y), float64(gradOut), true))
}

func checkLen[T Float](op string, x, y []T) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("smoothl1: %s: length mismatch: len(x) = %d, len(y) = %d", op, len(x), len(y)))
	}
}

// checkDst checks the lengths of x, y and dst, and that dst does not overlap x or
// y partially, and returns dst cut to len(x). Its common path is a few compares
// (about 3 ns a call); the messages are built out of line, by dstPanic.
func checkDst[T Float](op string, dst, x, y []T) []T {
	d, n := addr(dst), uintptr(len(x))*unsafe.Sizeof(x[0])
	if len(x) != len(y) || len(dst) < len(x) || partial(d, addr(x), n) || partial(d, addr(y), n) {
		dstPanic(op, dst, x, y)
	}
	return dst[:len(x)]
}

// dstPanic reports what checkDst found wrong.
func dstPanic[T Float](op string, dst, x, y []T) {
	if len(x) != len(y) || len(dst) < len(x) {
		dstLenPanic(op, len(dst), len(x), len(y))
	}
	dst = dst[:len(x)]
	checkOverlap(op, dst, "x", x)
	checkOverlap(op, dst, "y", y)
}

// checkOverlap panics if dst and the input in (named name), of the same length,
// overlap partially.
func checkOverlap[T Float](op string, dst []T, name string, in []T) {
	if n := uintptr(len(in)) * unsafe.Sizeof(in[0]); partial(addr(dst), addr(in), n) {
		overlapPanic(op, name, addr(dst), addr(in), n, unsafe.Sizeof(in[0]))
	}
}

// partial reports whether the n bytes at d and the n bytes at s share some byte
// but do not start at the same address: a destination that overlaps an input
// partially. The kernels read and write in blocks, in an order that differs between
// implementations, so a partial overlap would give results that depend on the
// implementation. (Two slices of the same length overlap partially when their
// starts differ, by less than their length. Empty slices share nothing.)
func partial(d, s, n uintptr) bool { return d != s && d < s+n && s < d+n }

func addr[T Float](s []T) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(s))) }

func dstLenPanic(op string, lenDst, lenX, lenY int) {
	if lenX != lenY {
		panic(fmt.Sprintf("smoothl1: %s: length mismatch: len(x) = %d, len(y) = %d", op, lenX, lenY))
	}
	panic(fmt.Sprintf("smoothl1: %s: dst too short: len(dst) = %d, len(x) = %d", op, lenDst, lenX))
}

// overlapPanic reports the partial overlap of dst (at address d) with the input
// name (at s), with the element of one that the other starts at.
func overlapPanic(op, name string, d, s, n, size uintptr) {
	var where string
	if d >= s {
		where = fmt.Sprintf("dst[0] is %s[%d]", name, (d-s)/size)
	} else {
		where = fmt.Sprintf("%s[0] is dst[%d]", name, (s-d)/size)
	}
	panic(fmt.Sprintf("smoothl1: %s: dst partially overlaps %s: %s (both of length %d); dst must be exactly %s or share no element with it",
		op, name, where, n/size, name))
}

func isF32[T Float]() bool {
	var z T
	_, ok := any(z).(float32)
	return ok
}

// f32 and f64 view a []T as the concrete type it is; callers check isF32 first.
func f32[T Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func f64[T Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
