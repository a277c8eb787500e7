// Package kernel is the canonical description of every smoothl1 kernel: one list of
// vector operations per kernel and element type, read by both code generators (the
// jennifer generator in gen/ for portable Go and the avo generator in asm/ for AVX2 and
// AVX-512). Because both generators translate the same operation list one operation
// at a time, and every operation is a single IEEE-754 rounding (or a bitwise
// operation), every implementation returns the same bits.
//
// # The canonical order of operations (second edition)
//
// The first edition carried each float64 loss in double-double and scaled it per
// element (about 36 vector operations per block of 8); the second defers the
// scaling of the sums to the end, so that the loop only forms |d|, its square or
// a multiple, and adds. Its results differ from the first edition's in the last
// bits (the digest changed with it), never beyond the contract.
//
// Lanes. A kernel processes blocks of Lanes (8) elements. Element i of the input
// belongs to lane i mod 8. The last, partial block is padded with x = y = 0 (and
// upstream gradient 0): masked loads in assembly, a zeroed copy in Go. A padded
// element contributes exactly +0 to every sum (and 1 to the float64 count of
// quadratic elements, for K > 0) and is never stored.
//
// Arithmetic. All arithmetic is in float64, also for float32 data: float32 inputs
// are widened exactly on load and results are rounded to float32 once, on store
// (or, for sums, once at the very end). No multiply is ever fused with an add
// unless the description says FMA, which is then a true fused multiply-add on
// every path (math.FMA in Go, VFMADD/VFMSUB in assembly). Some additions are
// written x*1 + y (addM, subM): the same rounding of the same sum, computed on the
// multiply-add units of a processor whose adders are the busier ones; Go writes
// them as additions.
//
// Per element, d = x - y, z = |d| rounded, and for float64 data the exact error e
// of d (TwoSum), so that |d| = z + zl exactly with zl = ±e. K is beta (delta).
//
//	Elementwise, float32:  z < K ? (z*z)*Ah : B*z - B*H (one FMS), z replaced by +Inf
//	                where x - y overflows float32 (see Float32 overflow)
//	Elementwise, float64:  z < K ? fma(p, Ah, fma(p, Al, pl*Ah)) : fma(B, mh, B*ml),
//	                p + pl = (z + zl)^2 but zl^2, mh + ml = z + zl - H exactly
//	                (Fast2Sum: z >= K >= H); B*mh alone for z = +Inf
//	gradient:       z >= Kg ? sign(d)*GB : d*GA (float64: fma(s, GA, e*GA));
//	                GradElementwise: sign(d)*B*g : d*g/Dq. NaN d fails z >= Kg and the
//	                quadratic branch gives NaN; Kg = K, but the least subnormal
//	                for K = 0, where d = 0 is then quadratic with gradient 0.
//	Sum, float32:   w = min(z, K); lane sums q += w*w (FMA) and l += z - w.
//	                The root package returns Ah*q + B*l (B*l left out when l = 0:
//	                B may be +Inf), since loss = Ah*w^2 + B*(z - w) in both branches.
//	Sum, float64:   V = z < K ? |d|^2 : P*|d| (P = 2K; 1 for K = 0): c = z or P,
//	                hi = c*z, lo = fma(c, zz, fms(c, z, hi)) with zz = 2zl or zl;
//	                lane double-double (h, l) += hi + lo, and count c += 1 for a
//	                quadratic element. The root package subtracts K*K per linear
//	                element (8*ceil(n/8) - count) and divides by D (2K for
//	                SmoothL1, 2 for Huber, 1 for K = 0): for SmoothL1 V/2K is
//	                z^2/2K or z - K/2 after the subtraction; for Huber V/2 is z^2/2
//	                or K*(z - K/2). A K whose square is not a normal float64
//	                (float64 data, K > 2^511 or 0 < K < 2^-511) takes a scalar
//	                path in the first edition's order instead.
//	SumAndGrad:     the gradient, stored first, then Sum's accumulation (float32
//	                data also keeps m, the largest z of each lane).
//
// At z == K both forms agree exactly: the float32 sums have no branch (w = K, z -
// w = 0); a float64 V at the boundary is linear, P*K - K*K = K*K, the quadratic
// value.
//
// Float32 overflow. Only the float32 Elementwise kernel, which stores the loss of each
// element, replaces an overflowing z by +Inf (a compare and a select per element).
// The others keep the float64 |x - y| and still take PyTorch's branches: for
// float32 data K is at most Ovf (a delta of +Inf becomes Ovf, see the root
// package's baseParams), so z < K is false exactly where the replaced z would
// compare false, and the gradient reads only d and that mask. An element whose x -
// y overflowed has z >= Ovf: the float32 Sum's lane sums show it, l >= Ovf -
// MaxFloat32 = 2^103 where K < Ovf, q >= Ovf^2 > 2^255 where K = Ovf (and then so do
// the totals of the lanes), and sums that large (rare, and only then) make the root
// package look through the inputs for such an element; SumAndGrad, whose dst may be an input, keeps the largest z of
// each lane instead. Where one is found, the caller adds the loss at z = +Inf
// (+Inf, or NaN for Huber with delta = +Inf). That is the sum of the replaced
// losses: the element itself added a finite term, and a sum of such terms,
// non-negative finite losses and +Inf (NaN) is +Inf (NaN).
//
// Lanes are combined after the loop, pairwise as ((0+1)+(2+3))+((4+5)+(6+7)) (in
// double-double for float64 data), by the scalar code of the root package, which
// is shared by all implementations.
//
// Chunks. An input longer than C = 2^16 elements (chunkLen in the root package) is cut
// into chunks of C elements, the last one shorter (only it is padded), and each chunk
// is one kernel call with its own accumulators, as above. The chunks' accumulators
// are merged lane by lane (float64 data: an exact two-sum of the h parts, the l
// parts added, the counts c added; float32 data: q and l added, m the larger) in a
// fixed tree over the chunk index: tree(lo, hi) is the chunk itself if hi - lo = 1,
// else merge(tree(lo, lo+p), tree(lo+p, hi)) with p the largest power of two below
// hi - lo. Then the lanes are combined and finished as above. The tree does not
// depend on the number of threads that run the chunks, so neither do the results;
// an input of at most C elements is one chunk, one call. (The merge of each layout
// is merge64 or merge32 in the root package's kernels.go.) A lane then accumulates at
// most m = C/8 elements in one run, and the merges add errors near 2^-104 per level
// of the tree, so the bound below holds with m <= 2^13 at any length.
//
// # Why the float64 Sum is within 1 ulp at every length
//
// Write u = 2^-53, m = ceil(n/8) the elements of a lane, S the exact sum of the
// exact V of the lane (all >= 0). Where z*z and c*z are normal and finite:
//
//   - Branch. z < K decides on the rounded z; it differs from |d| < K only within
//     half an ulp of K, where both branches give the loss to within (|d| - K)^2/2K,
//     below 2^-104 of it.
//   - One element. fms(c, z, hi) is the exact error of hi = c*z (FMA). lo rounds
//     c*zz + that error once: |lo| <= 2^-51 hi, so its rounding is below 2^-103 V;
//     the square leaves out zl^2 <= 2^-106 z^2. So hi + lo = V (1 + 2^-102).
//   - Accumulation. h + hi is rounded to s; both are >= 0, so max and min are also
//     the larger and the smaller in magnitude, and Fast2Sum on them gives the
//     exact error err: h + l keeps every err and lo exactly, but for the
//     roundings of l itself. |err| <= u*S, |lo| <= 2^-51 hi, so |l| <= (m*u +
//     2^-51)*S and the m roundings of l cost at most m*u*(m*u + 2^-51)*S: below
//     2^-63 S for n = 2^24, 2^-57 S for n = 2^27 (the bound is quadratic in m and
//     pessimistic: it needs every error of l of one sign and the largest size; it
//     proves 1 ulp up to about 2^28 elements, as the first edition's, which
//     accumulated the same way).
//   - Combining 8 lanes in double-double (TwoSum) adds errors near 2^-104.
//   - Subtraction. lin*K*K is formed exactly but for lin*kl (2^-106 of it); the
//     linear elements have V = P*z >= 2K*K, so it takes at most half of the sum:
//     the relative error at most doubles.
//   - Division by D: a product by 1/D as a double-double (to 2^-106), and by n
//     (Mean): a double-double quotient; errors near 2^-104.
//
// So the double-double before the final rounding is within 2*(m*u)^2 + 2^-80 of
// the exact sum (relative): the rounded result is within 1 ulp of the exact sum
// (in fact correctly rounded unless the exact sum lies that close to a midpoint).
// The float32 sums need far less: each lane sum of m terms >= 0 has a relative
// error below (m + 2)*u (2^-32 for n = 2^24), the terms themselves below 2u, the
// final Ah*q + B*l and the pairwise combination a few u: within 2^-30 before the
// rounding to float32, half an ulp after it.
//
// # Row families
//
// RowSums4 (rows.go) takes a block of 8 rows of 4 columns (RowSums3: 3, RowSums2: 2;
// RowSums1, Elementwise-shaped, any number of rows of 1), one row per lane, and
// gives each row exactly what Sum gives that row alone: Sum's step from zero
// accumulators on each column, the lanes' pairwise tree over the columns, and the
// root package's finish, written as operations of the description. Its canonical
// order is Sum's; rows.go states how each piece maps. The assembly backends load a
// block of rows and transpose it into columns (AVX-512: permutations of two
// registers, for float64 rows of 3 two chained ones over three, for float64 rows of
// 4 in-lane unpacks and lane shuffles; AVX2: 4x4, 4x3 or 4x2 transpositions per half
// block; NEON: LD4, LD3, LD2).
//
// Error-free transformations used: TwoSum(x, -y) (exact for any finite x, y
// without overflow); FMS for the exact error of a product (exact when the product
// and its error are normal); Fast2Sum(max, min) of two non-negative floats (exact:
// the larger has the larger exponent); Fast2Sum(z, -H) with z >= 2H >= 0 in Elementwise
// (exact, same reason). Outside these conditions (overflow, underflow) the result
// is what the operations give, the same on every path.
package kernel
