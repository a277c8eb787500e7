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
//	               (GradElem: d*g/Dq and sign(d)*B*g with g the upstream gradient).
//
// Float32 overflow. Only the float32 Elem kernel, which stores the loss of each
// element, replaces an overflowing z by +Inf (a compare and a select per element).
// The others keep the float64 |x - y| and still take PyTorch's branches: for
// float32 data K is at most Ovf (a delta of +Inf becomes Ovf, see the root
// package's baseParams), so z < K is false exactly where the replaced z would
// compare false, and the gradient reads only d and that mask. The kernels with a
// sum (Sum, SumGrad) keep in their lanes, besides the sum s, the largest z seen
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

// Lanes is the number of float64 lanes of the canonical layout: one AVX-512 register,
// two AVX2 registers.
const Lanes = 8

// Params are the names of the kernel parameters, in the order of the generated
// Params array. Every parameter is a float64, whatever the element type.
var Params = []string{
	"K",       // threshold: beta (SmoothL1) or delta (Huber), converted to T; float32: at most Ovf
	"H",       // K/2 (before the float32 clamp: +Inf for delta = +Inf)
	"Ah",      // quadratic factor, high part: 0.5/beta or 0.5
	"Al",      // quadratic factor, low part (float64 kernels)
	"B",       // linear slope: 1 or delta
	"Dq",      // divisor of the quadratic gradient in GradElem: beta or 1
	"GA",      // scale of the quadratic gradient: scale/beta or scale
	"GB",      // scale of the linear gradient: scale or scale*delta
	"NegZero", // -0.0: the sign bit
	"Inf",     // +Inf
	"Zero",    // +0.0
	"Ovf",     // float32 kernels: |d| at or above this rounds to +Inf in float32
}

// Type is an element type.
type Type int

// The element types.
const (
	F32 Type = iota
	F64
)

// Name is the Go name of the type.
func (t Type) Name() string {
	if t == F32 {
		return "float32"
	}
	return "float64"
}

// Suffix is the suffix of kernel names for the type.
func (t Type) Suffix() string {
	if t == F32 {
		return "F32"
	}
	return "F64"
}

// Size is the size of an element in bytes.
func (t Type) Size() int {
	if t == F32 {
		return 4
	}
	return 8
}

// Kind is an operation kind.
type Kind int

// The operation kinds. Arithmetic is on float64 lanes; masks are lane-wise booleans.
const (
	Load   Kind = iota // Name: input slice; widened to float64
	Param              // Name: parameter
	Acc                // Name: accumulator, value at the start of the block
	Add                // a + b
	Sub                // a - b
	Mul                // a * b (never fused)
	Div                // a / b
	FMA                // a*b + c, one rounding
	FMS                // a*b - c, one rounding
	And                // a & b, bitwise
	AndNot             // ^a & b, bitwise
	Xor                // a ^ b, bitwise
	LT                 // mask a < b (false if either is NaN)
	LE                 // mask a <= b (false if either is NaN)
	NE                 // mask a != b (true if either is NaN)
	IsNaN              // mask: a is NaN
	Max                // a > b ? a : b (b if either is NaN)
	Min                // a < b ? a : b (b if either is NaN)
	Select             // a ? b : c, with a mask
	SetAcc             // Name: accumulator = a, at the end of the block
	Store              // Name: output slice; rounded to T
)

// IsMask reports whether the kind produces a mask.
func (k Kind) IsMask() bool { return k == LT || k == LE || k == NE || k == IsNaN }

// Op is one operation. Dst is the value it defines (its index in Kernel.Ops); Args are
// the values it reads.
type Op struct {
	Kind Kind
	Args []int
	Name string
}

// Kernel is one kernel for one element type.
type Kernel struct {
	Name string // e.g. "SumF64"
	Op   string // e.g. "Sum"
	Type Type
	Doc  string
	Ins  []string // input slices, in argument order after p
	Out  string   // output slice, or ""
	Accs []string // accumulators, each Lanes float64s in the acc array, in this order
	Ops  []Op
}

// HasAcc reports whether the kernel has accumulators.
func (k *Kernel) HasAcc() bool { return len(k.Accs) > 0 }

// Uses reports how many operations read each value.
func (k *Kernel) Uses() []int {
	u := make([]int, len(k.Ops))
	for _, op := range k.Ops {
		for _, a := range op.Args {
			u[a]++
		}
	}
	return u
}

// prune removes the operations whose values no store or accumulator update needs,
// renumbering the rest.
func (k *Kernel) prune() {
	live := make([]bool, len(k.Ops))
	for i := len(k.Ops) - 1; i >= 0; i-- {
		op := k.Ops[i]
		if op.Kind == Store || op.Kind == SetAcc {
			live[i] = true
		}
		if live[i] {
			for _, a := range op.Args {
				live[a] = true
			}
		}
	}
	index := make([]int, len(k.Ops))
	var ops []Op
	for i, op := range k.Ops {
		if !live[i] {
			continue
		}
		args := make([]int, len(op.Args))
		for j, a := range op.Args {
			args[j] = index[a]
		}
		op.Args = args
		index[i] = len(ops)
		ops = append(ops, op)
	}
	k.Ops = ops
}

type builder struct{ k *Kernel }

func (b *builder) op(kind Kind, name string, args ...int) int {
	b.k.Ops = append(b.k.Ops, Op{Kind: kind, Args: args, Name: name})
	return len(b.k.Ops) - 1
}

func (b *builder) load(n string) int      { return b.op(Load, n) }
func (b *builder) param(n string) int     { return b.op(Param, n) }
func (b *builder) add(x, y int) int       { return b.op(Add, "", x, y) }
func (b *builder) sub(x, y int) int       { return b.op(Sub, "", x, y) }
func (b *builder) mul(x, y int) int       { return b.op(Mul, "", x, y) }
func (b *builder) div(x, y int) int       { return b.op(Div, "", x, y) }
func (b *builder) fma(x, y, z int) int    { return b.op(FMA, "", x, y, z) }
func (b *builder) fms(x, y, z int) int    { return b.op(FMS, "", x, y, z) }
func (b *builder) and(x, y int) int       { return b.op(And, "", x, y) }
func (b *builder) andNot(x, y int) int    { return b.op(AndNot, "", x, y) }
func (b *builder) xor(x, y int) int       { return b.op(Xor, "", x, y) }
func (b *builder) lt(x, y int) int        { return b.op(LT, "", x, y) }
func (b *builder) le(x, y int) int        { return b.op(LE, "", x, y) }
func (b *builder) ne(x, y int) int        { return b.op(NE, "", x, y) }
func (b *builder) isNaN(x int) int        { return b.op(IsNaN, "", x) }
func (b *builder) max(x, y int) int       { return b.op(Max, "", x, y) }
func (b *builder) min(x, y int) int       { return b.op(Min, "", x, y) }
func (b *builder) sel(m, x, y int) int    { return b.op(Select, "", m, x, y) }
func (b *builder) store(n string, v int)  { b.op(Store, n, v) }
func (b *builder) acc(n string) int       { return b.op(Acc, n) }
func (b *builder) setAcc(n string, v int) { b.op(SetAcc, n, v) }

// diff holds the per-element difference d = s + e (e only for float64), its absolute
// value z (+ zl), its sign bit sg and the branch mask m = z < K.
type diff struct{ s, e, z, zl, sg, m int }

// With ovf, float32 kernels replace a z whose float32 difference overflows by +Inf;
// without, z stays the float64 |x - y| (see Float32 overflow in the package doc).
func (b *builder) diff(t Type, ovf bool) diff {
	x, y := b.load("x"), b.load("y")
	var d diff
	d.s = b.sub(x, y)
	d.e, d.zl = -1, -1
	if t == F64 {
		// TwoSum(x, -y): s + e == x - y exactly.
		t := b.sub(d.s, x)
		u := b.sub(d.s, t)
		v := b.sub(x, u)
		w := b.add(y, t)
		d.e = b.sub(v, w)
	}
	nz := b.param("NegZero")
	d.z = b.andNot(nz, d.s)
	if t == F32 && ovf {
		// x - y in float32 overflows where the exact difference rounds to ±Inf;
		// keep PyTorch's infinite |d| there (the sign of d is unchanged).
		d.z = b.sel(b.le(b.param("Ovf"), d.z), b.param("Inf"), d.z)
	}
	d.sg = b.and(d.s, nz)
	if t == F64 {
		d.zl = b.xor(d.e, d.sg) // |x - y| == z + zl exactly
	}
	d.m = b.lt(d.z, b.param("K"))
	return d
}

// loss returns the per-element loss: hi (and lo for float64, else -1).
func (b *builder) loss(t Type, d diff) (hi, lo int) {
	z := d.z
	if t == F32 {
		q := b.mul(b.mul(z, z), b.param("Ah"))
		l := b.mul(b.param("B"), b.sub(z, b.param("H")))
		return b.sel(d.m, q, l), -1
	}
	// Quadratic branch: (z + zl)^2 * (Ah + Al) as qh + ql.
	ah := b.param("Ah")
	p := b.mul(z, z)
	pl0 := b.fms(z, z, p)
	pl := b.fma(b.add(z, z), d.zl, pl0)
	qh := b.mul(p, ah)
	ql0 := b.fms(p, ah, qh)
	ql1 := b.fma(pl, ah, ql0)
	ql := b.fma(p, b.param("Al"), ql1)
	// Linear branch: B * ((z + zl) - H) as lh + ll. z >= K >= H, so Fast2Sum is exact.
	h, bb := b.param("H"), b.param("B")
	mh := b.sub(z, h)
	ml := b.add(b.sub(b.sub(z, mh), h), d.zl)
	lh := b.mul(bb, mh)
	ll0 := b.fms(bb, mh, lh)
	ll := b.fma(bb, ml, ll0)
	return b.sel(d.m, qh, lh), b.sel(d.m, ql, ll)
}

// grad returns the gradient with the scale folded into GA and GB.
func (b *builder) grad(t Type, d diff) int {
	ga := b.param("GA")
	var gq int
	if t == F64 {
		gq = b.fma(d.s, ga, b.mul(d.e, ga))
	} else {
		gq = b.mul(d.s, ga)
	}
	zero := b.param("Zero")
	gl := b.xor(b.sel(b.ne(d.s, zero), b.param("GB"), zero), d.sg)
	g := b.sel(d.m, gq, gl)
	return b.sel(b.isNaN(d.s), d.s, g)
}

// gradElem returns the gradient scaled by the per-element upstream gradient g.
func (b *builder) gradElem(t Type, d diff) int {
	g := b.load("g")
	var gq int
	if t == F64 {
		gq = b.div(b.fma(d.s, g, b.mul(d.e, g)), b.param("Dq"))
	} else {
		gq = b.div(b.mul(d.s, g), b.param("Dq"))
	}
	zero := b.param("Zero")
	gl := b.mul(b.xor(b.sel(b.ne(d.s, zero), b.param("B"), zero), d.sg), g)
	r := b.sel(d.m, gq, gl)
	return b.sel(b.isNaN(d.s), d.s, r)
}

// accumulate adds the loss to the lane accumulators. For float32 data, whose z is
// not replaced by +Inf where x - y overflows float32, it also keeps the largest z
// of each lane in m.
func (b *builder) accumulate(t Type, d diff, hi, lo int) {
	if t == F32 {
		b.setAcc("s", b.add(b.acc("s"), hi))
		b.setAcc("m", b.max(b.acc("m"), d.z))
		return
	}
	// h + hi in double-double. Both are >= +0 (sums of losses), so the larger of
	// the two is also the larger in magnitude, and Fast2Sum on the larger and the
	// smaller gives the exact error of s, the same number TwoSum gives, in five
	// operations instead of six (float64 Sum 3% faster in cache on Zen 5).
	h, l := b.acc("h"), b.acc("l")
	s := b.add(h, hi)
	big, small := b.max(h, hi), b.min(h, hi)
	err := b.sub(small, b.sub(s, big))
	b.setAcc("h", s)
	b.setAcc("l", b.add(l, b.add(err, lo)))
}

// storeLoss stores the loss rounded once to T.
func (b *builder) storeLoss(t Type, hi, lo int) {
	if t == F32 {
		b.store("dst", hi)
		return
	}
	// hi + lo, except where hi is Inf or NaN (lo is then meaningless).
	fin := b.lt(hi, b.param("Inf"))
	b.store("dst", b.sel(fin, b.add(hi, lo), hi))
}

// accs returns the accumulators of a kernel with a sum. The float32 ones also keep
// m, the largest z of each lane, and leave the float32 overflow of x - y to their
// caller.
func accs(t Type) []string {
	if t == F32 {
		return []string{"s", "m"}
	}
	return []string{"h", "l"}
}

// Kernels returns every kernel, for both element types.
func Kernels() []*Kernel {
	var ks []*Kernel
	for _, t := range []Type{F32, F64} {
		mk := func(op, doc string, ins []string, out string, hasAcc bool, body func(b *builder, d diff)) {
			k := &Kernel{Name: op + t.Suffix(), Op: op, Type: t, Doc: doc, Ins: ins, Out: out}
			if hasAcc {
				k.Accs = accs(t)
			}
			b := &builder{k}
			// Only Elem stores the loss of each element, which needs the replaced z.
			body(b, b.diff(t, op == "Elem"))
			k.prune()
			ks = append(ks, k)
		}
		mk("Elem", "writes the per-element loss of x and y to dst.", []string{"x", "y"}, "dst", false,
			func(b *builder, d diff) { hi, lo := b.loss(t, d); b.storeLoss(t, hi, lo) })
		mk("Sum", "writes the lane sums of the per-element losses of x and y to acc.", []string{"x", "y"}, "", true,
			func(b *builder, d diff) { hi, lo := b.loss(t, d); b.accumulate(t, d, hi, lo) })
		mk("Grad", "writes the gradient with respect to x, scaled by p's GA and GB, to dst.", []string{"x", "y"}, "dst", false,
			func(b *builder, d diff) { b.store("dst", b.grad(t, d)) })
		mk("GradElem", "writes the gradient with respect to x, times the upstream gradient g, to dst.", []string{"x", "y", "g"}, "dst", false,
			func(b *builder, d diff) { b.store("dst", b.gradElem(t, d)) })
		mk("SumGrad", "writes the lane sums of the losses to acc and the scaled gradient to dst, in one pass.", []string{"x", "y"}, "dst", true,
			func(b *builder, d diff) {
				hi, lo := b.loss(t, d)
				b.accumulate(t, d, hi, lo)
				b.store("dst", b.grad(t, d))
			})
	}
	return ks
}
