// Package kernel is the canonical description of every smoothl1 kernel: one list of
// vector operations per kernel and element type, read by both code generators (the
// jennifer generator in gen/ for portable Go and the avo generator in asm/ for AVX2 and
// AVX-512). Because both generators translate the same operation list one operation
// at a time, and every operation is a single IEEE-754 rounding (or a bitwise
// operation), every implementation returns the same bits.
//
// # The canonical order of operations
//
// Lanes. A kernel processes blocks of Lanes (8) elements. Element i of the input
// belongs to lane i mod 8. The last, partial block is padded with x = y = 0 (and
// upstream gradient 0): masked loads in assembly, a zeroed copy in Go. A padded
// element contributes exactly +0 to every accumulator and is never stored.
//
// Arithmetic. All arithmetic is in float64, also for float32 data: float32 inputs
// are widened exactly on load and results are rounded to float32 once, on store
// (or, for sums, once at the very end). No multiply is ever fused with an add
// unless the description says FMA, which is then a true fused multiply-add on
// every path (math.FMA in Go, VFMADD/VFMSUB in assembly).
//
// Per element, with d = x - y, z = |d| (for float32 data +Inf where x - y overflows
// float32, as in float32 arithmetic; but see Float32 overflow below), and the
// parameters of Params:
//
//	float32 data:  loss = z < K ? (z*z)*Ah : B*(z - H)
//	float64 data:  the same formula carried in double-double: d is split exactly
//	               into s + e (TwoSum), z*z into p + pl (FMA), the products and
//	               the subtraction of H likewise, so that the loss is hi + lo with
//	               an error near 2^-100 relative before the final rounding.
//	gradient:      d < K ? d*GA : sign(d)*GB, with sign(0) = 0 and NaN for NaN d
//	               (GradElementwise: d*g/Dq and sign(d)*B*g with g the upstream gradient).
//
// Float32 overflow. Only the float32 Elementwise kernel, which stores the loss of each
// element, replaces an overflowing z by +Inf (a compare and a select per element).
// The others keep the float64 |x - y| and still take PyTorch's branches: for
// float32 data K is at most Ovf (a delta of +Inf becomes Ovf, see the root
// package's baseParams), so z < K is false exactly where the replaced z would
// compare false, and the gradient reads only d and that mask. The kernels with a
// sum (Sum, SumAndGrad) keep in their lanes, besides the sum s, the largest z seen
// (accumulator m), and where some m >= Ovf the caller adds the loss at z = +Inf
// (+Inf, or NaN for Huber with delta = +Inf) to the combined sum. That is the sum
// of the replaced losses: an element whose x - y overflowed adds B*(z - H) with a
// finite z, which is finite, or -Inf for delta = +Inf (B = H = +Inf), where the
// sum is NaN anyway; and a sum of such terms, non-negative finite losses and +Inf
// (NaN) is +Inf (NaN).
//
// Sums. Each lane keeps its own accumulator, starting at +0: float32 data a float64 running sum;
// float64 data a double-double (hi by an exact two-sum: Fast2Sum on the larger and
// the smaller of the two non-negative addends; lo by plain addition of its errors
// and the per-element low parts). Lanes are combined after the loop,
// pairwise as ((0+1)+(2+3))+((4+5)+(6+7)) (in double-double for float64 data), by
// the scalar code of the root package, which is shared by all implementations.
package kernel
