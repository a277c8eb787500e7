package kernel

import "fmt"

// Family is a kernel family: one kernel per element type, named as the API
// operation it serves.
type Family int

// The kernel families. Sum also serves Mean, and SumAndGrad MeanAndGrad: the mean
// differs only in the scalar code of the root package.
const (
	Elementwise Family = iota
	Sum
	Grad
	GradElementwise
	SumAndGrad
	WeightedSum
	WeightedSumAndGrad
	WeightSum
	RowSums4
	RowMeans4
	RowSums2
	RowMeans2
	RowSums3
	RowMeans3
	RowSums1
	numFamilies
)

// Families lists every family, in the order of the generated files.
var Families = []Family{Elementwise, Sum, Grad, GradElementwise, SumAndGrad, WeightedSum, WeightedSumAndGrad, WeightSum, RowSums4, RowMeans4, RowSums2, RowMeans2, RowSums3, RowMeans3, RowSums1}

// FamilyInfo are the facts of a family that every generator and the root package share.
type FamilyInfo struct {
	Name string   // as in the API, e.g. "GradElementwise"
	Doc  string   // completes "<kernel name> ..."
	Ins  []string // the input slices; the first one's length is the kernel's
	Out  string   // the output slice, or ""
	// Accumulates: the kernel keeps lane sums in an acc array (Sum, SumAndGrad,
	// and the weighted families).
	Accumulates bool
	// ReplacesOverflow: the float32 kernel replaces a z whose float32 x - y
	// overflows by +Inf itself; the others leave it to their caller (package doc).
	ReplacesOverflow bool
	// Cols > 0: a row family. (RowSums1, rows of one column, has Cols 0: its shape is
	// Elementwise's, a row per element.) Each lane is a row of Cols elements of every
	// input (Load's Col names the column); the kernel's length is the output's, one
	// value per row, and the inputs hold Cols elements per row. Its kernels take
	// whole blocks of Lanes rows only (len(dst) a multiple of Lanes; the caller
	// does the rest), so they have no tail.
	Cols int
	// Mean: a row family's mean (RowMeans4, ...), the sum divided by p's RowDiv.
	Mean bool
}

var families = [numFamilies]FamilyInfo{
	Elementwise: {Name: "Elementwise", Doc: "writes the per-element loss of x and y to dst.",
		Ins: []string{"x", "y"}, Out: "dst", ReplacesOverflow: true},
	Sum: {Name: "Sum", Doc: "writes the lane sums of the deferred parts of the losses of x and y to acc.",
		Ins: []string{"x", "y"}, Accumulates: true},
	Grad: {Name: "Grad", Doc: "writes the gradient with respect to x, scaled by p's GA and GB, to dst.",
		Ins: []string{"x", "y"}, Out: "dst"},
	GradElementwise: {Name: "GradElementwise", Doc: "writes the gradient with respect to x, times the upstream gradient g, to dst.",
		Ins: []string{"x", "y", "g"}, Out: "dst"},
	SumAndGrad: {Name: "SumAndGrad", Doc: "writes the scaled gradient to dst and the lane sums of the deferred parts of the losses to acc, in one pass.",
		Ins: []string{"x", "y"}, Out: "dst", Accumulates: true},
	WeightedSum: {Name: "WeightedSum", Doc: "writes the lane sums of w times the per-element losses of x and y to acc.",
		Ins: []string{"x", "y", "w"}, Accumulates: true, ReplacesOverflow: true},
	WeightedSumAndGrad: {Name: "WeightedSumAndGrad", Doc: "writes the lane sums of w times the losses to acc and the scaled gradient times w to dst, in one pass.",
		Ins: []string{"x", "y", "w"}, Out: "dst", Accumulates: true, ReplacesOverflow: true},
	WeightSum: {Name: "WeightSum", Doc: "writes the lane sums of the weights w to acc.",
		Ins: []string{"w"}, Accumulates: true},
	RowSums4: {Name: "RowSums4", Doc: "writes the sum of the losses of each row of 4 columns of x and y to dst, for whole blocks of 8 rows.",
		Ins: []string{"x", "y"}, Out: "dst", Cols: 4},
	RowMeans4: {Name: "RowMeans4", Doc: "writes the mean of the losses of each row of 4 columns of x and y (the sum divided by p's RowDiv) to dst, for whole blocks of 8 rows.",
		Ins: []string{"x", "y"}, Out: "dst", Cols: 4, Mean: true},
	RowSums2: {Name: "RowSums2", Doc: "writes the sum of the losses of each row of 2 columns of x and y to dst, for whole blocks of 8 rows.",
		Ins: []string{"x", "y"}, Out: "dst", Cols: 2},
	RowMeans2: {Name: "RowMeans2", Doc: "writes the mean of the losses of each row of 2 columns of x and y (the sum divided by p's RowDiv) to dst, for whole blocks of 8 rows.",
		Ins: []string{"x", "y"}, Out: "dst", Cols: 2, Mean: true},
	RowSums3: {Name: "RowSums3", Doc: "writes the sum of the losses of each row of 3 columns of x and y to dst, for whole blocks of 8 rows.",
		Ins: []string{"x", "y"}, Out: "dst", Cols: 3},
	RowMeans3: {Name: "RowMeans3", Doc: "writes the mean of the losses of each row of 3 columns of x and y (the sum divided by p's RowDiv) to dst, for whole blocks of 8 rows.",
		Ins: []string{"x", "y"}, Out: "dst", Cols: 3, Mean: true},
	// Rows of one column: every element is its own row, so the kernel has
	// Elementwise's shape (Cols 0: any length, a tail of its own) and RowSums4's
	// arithmetic for one column (rows.go). RowMeans of one column is the same
	// kernel: dividing by 1 changes no bit (rows.go says why).
	RowSums1: {Name: "RowSums1", Doc: "writes the sum of the losses of each row of 1 column of x and y (each element's loss, as Sum forms it for one element) to dst.",
		Ins: []string{"x", "y"}, Out: "dst"},
}

// Info returns the facts of family f; it panics for a value that is no family.
func (f Family) Info() *FamilyInfo {
	if f < 0 || f >= numFamilies {
		panic(fmt.Sprintf("kernel: no family %d", int(f)))
	}
	return &families[f]
}

// String returns the family's name.
func (f Family) String() string { return f.Info().Name }

// PrefetchMode is how the loops of a kernel prefetch their inputs.
type PrefetchMode int

// The prefetch modes (docs/tuning.md).
const (
	NoPrefetch PrefetchMode = iota
	// LoopCopy: a copy of the first loop prefetches while the prefetched address is
	// inside the slices' capacity (which the root package ends where the caller's
	// data ends: the capacity past len is the next chunk or row of the same call, or
	// another goroutine's task); the loop proper, for the last blocks, does not.
	LoopCopy
	// Clamped: the one loop prefetches at an address clamped to the last full block
	// within the slices' capacity (in a row family: within their length).
	// The row families' one loop does so with its far prefetch only (their index
	// counts rows: rowPrefetches in the assembly generator converts it).
	Clamped
)

// Prefetch distances in bytes (docs/tuning.md): far with PREFETCHNTA, near with
// PREFETCHT0; the short ones (Tuning.Short) with PREFETCHT0, only where
// generated.NoPrefetch is set (AMD Zen 4): ShortDist for the weighted kernels and
// float64 Sum and SumAndGrad, RowShortDist for the row families; and beside
// ShortDist, for float64 WeightedSum, Sum and SumAndGrad, ShortFarDist with
// PREFETCHT1 (Tuning.ShortFar).
const (
	FarDist      = 8192
	NearDist     = 1024
	ShortDist    = 512
	RowShortDist = 2048
	ShortFarDist = 4096
)

// Tuning shapes the loops of a kernel on an ISA with 32 wide registers (AVX-512);
// it never changes what is computed. Why each kernel has its tuning: docs/tuning.md.
type Tuning struct {
	Unroll   int          // blocks per iteration of the first loop: 1, or 2 (interleaved)
	Prefetch PrefetchMode // how the first loop prefetches
	Near     bool         // also prefetch NearDist ahead (with a Prefetch mode)
	// Short, when not 0: where generated.NoPrefetch is set (Zen 4), the first loop
	// prefetches every input Short bytes ahead with PREFETCHT0, in place of the far
	// and near prefetches that it skips there. With LoopCopy or Clamped, from a copy
	// of its own that runs while that address is inside the slices; in the row
	// families (whose float64 loop has no registers for a copy), in the loop
	// itself, behind a test of the flag, at an address clamped to the last full
	// block, where the flag's other side has the far prefetch.
	Short int
	// ShortFar, when not 0 (with Short, in the short copy of LoopCopy or Clamped):
	// the short copy also prefetches every input ShortFar bytes ahead with
	// PREFETCHT1, into L2, and runs while that address is inside the slices (the
	// last ShortFar bytes, rounded up to whole iterations, go to the loop after
	// it). For loops that take longer per cache line than the memory's latency
	// allows with Short alone (docs/tuning.md).
	ShortFar int
}

// tuning returns the measured tuning of family f for element type t (docs/tuning.md).
func tuning(f Family, t Type) Tuning {
	switch {
	case f == Sum && t == F64:
		return Tuning{Unroll: 2, Prefetch: LoopCopy, Near: true, Short: ShortDist, ShortFar: ShortFarDist}
	case f == Sum:
		return Tuning{Unroll: 2, Prefetch: LoopCopy}
	case f == WeightedSumAndGrad && t == F64:
		return Tuning{Unroll: 1, Prefetch: Clamped, Near: true, Short: ShortDist} // no registers for a loop copy
	case f == WeightedSum && t == F64:
		return Tuning{Unroll: 1, Prefetch: LoopCopy, Short: ShortDist, ShortFar: ShortFarDist}
	case f == SumAndGrad && t == F64:
		return Tuning{Unroll: 1, Prefetch: Clamped, Near: true, Short: ShortDist, ShortFar: ShortFarDist} // no registers for a loop copy
	case f == SumAndGrad:
		return Tuning{Unroll: 1, Prefetch: LoopCopy, Near: true}
	case f == GradElementwise && t == F64:
		return Tuning{Unroll: 1} // three input streams: prefetching was slower
	case f.Info().Cols > 0:
		// float64: no register is left for a second block; float32: two blocks
		// per iteration were no faster (A/B on Zen 4, docs/tuning.md). The far
		// prefetch (Zen 5) and the short one (Zen 4) are both in the one loop.
		return Tuning{Unroll: 1, Prefetch: Clamped, Short: RowShortDist}
	case f == WeightedSumAndGrad || f == WeightedSum:
		return Tuning{Unroll: 1, Prefetch: LoopCopy, Short: ShortDist}
	}
	return Tuning{Unroll: 1, Prefetch: LoopCopy}
}

// validate panics (at go generate) on a tuning that no loop implements.
func (tu Tuning) validate(name string) {
	switch {
	case tu.Unroll != 1 && tu.Unroll != 2:
		panic(fmt.Sprintf("kernel: %s: unroll %d (1 or 2)", name, tu.Unroll))
	case tu.Prefetch < NoPrefetch || tu.Prefetch > Clamped:
		panic(fmt.Sprintf("kernel: %s: prefetch mode %d", name, tu.Prefetch))
	case tu.Near && tu.Prefetch == NoPrefetch:
		panic(fmt.Sprintf("kernel: %s: a near prefetch without a prefetch mode", name))
	case tu.Prefetch == Clamped && tu.Unroll != 1:
		panic(fmt.Sprintf("kernel: %s: the clamped prefetch is for the loop of single blocks", name))
	case tu.Short != 0 && tu.Unroll != 1 && tu.Prefetch != LoopCopy:
		panic(fmt.Sprintf("kernel: %s: the short prefetch of a loop of two blocks is a loop copy", name))
	case tu.Short < 0 || tu.Short%64 != 0:
		panic(fmt.Sprintf("kernel: %s: a short prefetch of %d bytes (a multiple of 64)", name, tu.Short))
	case tu.ShortFar != 0 && (tu.Short == 0 || tu.Prefetch == NoPrefetch):
		panic(fmt.Sprintf("kernel: %s: a far short prefetch without a short copy", name))
	case tu.ShortFar != 0 && (tu.ShortFar <= tu.Short || tu.ShortFar%64 != 0):
		panic(fmt.Sprintf("kernel: %s: a far short prefetch of %d bytes (a multiple of 64, beyond Short's %d)", name, tu.ShortFar, tu.Short))
	}
}

// ImplNum is the number of an implementation in package generated (its Impl*
// constant, which the *Impl functions switch on).
type ImplNum int

// The implementations, by number.
const (
	Generic ImplNum = iota
	AVX2
	AVX512
	NEON
)

// Impl is one implementation of every kernel.
type Impl struct {
	Num      ImplNum
	Name     string   // as given to SetImplementation, e.g. "avx2"
	Const    string   // the Go constant of its number in package generated, e.g. "ImplAVX2"
	Suffix   string   // of its assembly symbols, e.g. "AVX2"; "" for portable Go
	Doc      string   // what it is
	Features []string // CPU features it needs (avo's names in the "// Requires:" lines)
	Arch     string   // the GOARCH of its assembly; "" for portable Go
}

// Impls lists the implementations, fastest first; Generic, the portable Go, is last.
var Impls = []Impl{
	{AVX512, "avx512", "ImplAVX512", "AVX512", "AVX-512 (F, VL) assembly", []string{"AVX", "AVX2", "FMA3", "AVX512F", "AVX512VL"}, "amd64"},
	{AVX2, "avx2", "ImplAVX2", "AVX2", "AVX2 and FMA assembly", []string{"AVX", "AVX2", "FMA3"}, "amd64"},
	// NEON's feature is named as golang.org/x/sys/cpu names it (ARM64.HasASIMD).
	{NEON, "neon", "ImplNEON", "NEON", "NEON (Advanced SIMD) assembly on arm64", []string{"ASIMD"}, "arm64"},
	{Generic, "generic", "ImplGeneric", "", "portable Go", nil, ""},
}

// Impl returns the implementation numbered n; it panics for an unknown number.
func (n ImplNum) Impl() Impl {
	for _, in := range Impls {
		if in.Num == n {
			return in
		}
	}
	panic(fmt.Sprintf("kernel: no implementation %d", int(n)))
}
