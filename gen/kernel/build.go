package kernel

// This file is the description itself: the operations of every kernel, built one
// value at a time. Values carry names (d, z, qh, ...) that the generated code repeats.

type builder struct {
	k *Kernel
	// m: the kernel moves some additions to the multiply-add units (addA, subA).
	m bool
	// col: the column that loads read, in a row family.
	col int
}

func (b *builder) op(kind Kind, ref string, args ...int) int {
	b.k.Ops = append(b.k.Ops, Op{Kind: kind, Args: args, Ref: ref, Name: ref, Col: b.col})
	return len(b.k.Ops) - 1
}

// named gives value v a name and returns v.
func (b *builder) named(name string, v int) int {
	b.k.Ops[v].Name = name
	return v
}

func (b *builder) load(n string) int  { return b.op(Load, n) }
func (b *builder) param(n string) int { return b.op(Param, n) }
func (b *builder) add(x, y int) int   { return b.op(Add, "", x, y) }

// addM and subM are add and sub computed as x*1 + y and x*1 - y: the same result
// (the product is exact, the sum rounded once), but on the multiply-add units,
// where the adders are the busier ones.
func (b *builder) addM(x, y int) int { return b.fma(x, b.param("One"), y) }
func (b *builder) subM(x, y int) int { return b.fms(x, b.param("One"), y) }

// addA and subA are addM and subM in the kernels that move additions (builder.m),
// else add and sub.
func (b *builder) addA(x, y int) int {
	if b.m {
		return b.addM(x, y)
	}
	return b.add(x, y)
}

func (b *builder) subA(x, y int) int {
	if b.m {
		return b.subM(x, y)
	}
	return b.sub(x, y)
}
func (b *builder) sub(x, y int) int      { return b.op(Sub, "", x, y) }
func (b *builder) mul(x, y int) int      { return b.op(Mul, "", x, y) }
func (b *builder) div(x, y int) int      { return b.op(Div, "", x, y) }
func (b *builder) fma(x, y, z int) int   { return b.op(FMA, "", x, y, z) }
func (b *builder) fms(x, y, z int) int   { return b.op(FMS, "", x, y, z) }
func (b *builder) and(x, y int) int      { return b.op(And, "", x, y) }
func (b *builder) andNot(x, y int) int   { return b.op(AndNot, "", x, y) }
func (b *builder) xor(x, y int) int      { return b.op(Xor, "", x, y) }
func (b *builder) lt(x, y int) int       { return b.op(LT, "", x, y) }
func (b *builder) le(x, y int) int       { return b.op(LE, "", x, y) }
func (b *builder) ne(x, y int) int       { return b.op(NE, "", x, y) }
func (b *builder) max(x, y int) int      { return b.op(Max, "", x, y) }
func (b *builder) min(x, y int) int      { return b.op(Min, "", x, y) }
func (b *builder) sel(m, x, y int) int   { return b.op(Select, "", m, x, y) }
func (b *builder) store(n string, v int) { b.op(Store, n, v) }

func (b *builder) acc(n string) int       { return b.op(Acc, n) }
func (b *builder) setAcc(n string, v int) { b.op(SetAcc, n, v) }

// diff holds the per-element difference d = s + e (e only for float64), its absolute
// value z (+ zl), its sign bit sg and the branch mask m = z < K.
type diff struct{ s, e, z, zl, sg, m int }

// difference loads x and y and builds their difference. With ovf, float32 kernels
// replace a z whose float32 difference overflows by +Inf;
// without, z stays the float64 |x - y| (see Float32 overflow in the package doc).
func (b *builder) difference(t Type, ovf bool) diff {
	x, y := b.load("x"), b.load("y")
	var d diff
	d.s = b.named("d", b.sub(x, y))
	d.e, d.zl = -1, -1
	if t == F64 {
		// TwoSum(x, -y): s + e == x - y exactly.
		ts := b.sub(d.s, x)
		u := b.sub(d.s, ts)
		v := b.subA(x, u)
		w := b.addA(y, ts)
		d.e = b.named("e", b.sub(v, w))
	}
	nz := b.param("NegZero")
	d.z = b.named("z", b.andNot(nz, d.s))
	if t == F32 && ovf {
		// x - y in float32 overflows where the exact difference rounds to ±Inf;
		// keep PyTorch's infinite |d| there (the sign of d is unchanged).
		d.z = b.named("z", b.sel(b.named("ovf", b.le(b.param("Ovf"), d.z)), b.param("Inf"), d.z))
	}
	d.sg = b.named("sg", b.and(d.s, nz))
	if t == F64 {
		d.zl = b.named("zl", b.xor(d.e, d.sg)) // |x - y| == z + zl exactly
	}
	d.m = b.named("quad", b.lt(d.z, b.param("K")))
	return d
}

// loss returns the per-element loss, for Elementwise: float32 data in float64,
// rounded once to float32 on store; float64 data from the exact |d| = z + zl, each
// branch rounded once (but for the rounding of Ah), by a final FMA whose addend
// carries the low-order terms.
func (b *builder) loss(t Type, d diff) int {
	z := d.z
	if t == F32 {
		// B*(z - H) as B*z - B*H, one rounding: z >= K >= 2H, so B*H is at most
		// half of B*z, and its rounding at most 2^-54 of the loss.
		q := b.named("q", b.mul(b.named("zz", b.mul(z, z)), b.param("Ah")))
		l := b.named("l", b.fms(b.param("B"), z, b.param("BH")))
		return b.named("loss", b.sel(d.m, q, l))
	}
	// Quadratic branch: (z + zl)^2 * (Ah + Al) = p*Ah + (pl*Ah + p*Al), p + pl the
	// square (but zl^2, 2^-106 of it).
	ah := b.param("Ah")
	p := b.named("p", b.mul(z, z))
	pl := b.named("pl", b.fma(b.add(z, z), d.zl, b.fms(z, z, p)))
	q := b.named("q", b.fma(p, ah, b.fma(p, b.param("Al"), b.mul(pl, ah))))
	// Linear branch: B * ((z + zl) - H) = B*mh + B*ml, with mh + ml = z + zl - H
	// (z >= K >= H: Fast2Sum is exact). For z = +Inf, ml is NaN: B*mh alone, which
	// is +Inf (or NaN for H = +Inf, as PyTorch's formula).
	h, bb := b.param("H"), b.param("B")
	mh := b.named("mh", b.sub(z, h))
	ml := b.named("ml", b.add(b.sub(b.sub(z, mh), h), d.zl))
	lh := b.named("lh", b.mul(bb, mh))
	fin := b.named("fin", b.lt(z, b.param("Inf")))
	l := b.named("l", b.sel(fin, b.fma(bb, mh, b.mul(bb, ml)), lh))
	return b.named("loss", b.sel(d.m, q, l))
}

// linear returns the mask of the linear branch of the gradient, z >= Kg: false for
// a NaN d, which takes the quadratic branch and gives NaN there; for K = 0
// (SmoothL1(0)) false for d = 0 alone, whose quadratic gradient is 0.
func (b *builder) linear(d diff) int { return b.named("lin", b.le(b.param("Kg"), d.z)) }

// grad returns the gradient with the scale folded into GA and GB:
// z >= Kg ? sign(d)*GB : d*GA.
func (b *builder) grad(t Type, d diff) int {
	ga := b.param("GA")
	var gq int
	if t == F64 {
		gq = b.fma(d.s, ga, b.mul(d.e, ga))
	} else {
		gq = b.mul(d.s, ga)
	}
	b.named("gq", gq)
	gl := b.named("gl", b.xor(b.param("GB"), d.sg))
	return b.named("grad", b.sel(b.linear(d), gl, gq))
}

// gradElementwise returns the gradient scaled by the per-element upstream gradient
// g: z >= Kg ? sign(d)*B*g : d*g/Dq.
func (b *builder) gradElementwise(t Type, d diff) int {
	g := b.load("g")
	var gq int
	if t == F64 {
		gq = b.div(b.fma(d.s, g, b.mul(d.e, g)), b.param("Dq"))
	} else {
		gq = b.div(b.mul(d.s, g), b.param("Dq"))
	}
	b.named("gq", gq)
	gl := b.named("gl", b.mul(b.xor(b.param("B"), d.sg), g))
	return b.named("grad", b.sel(b.linear(d), gl, gq))
}

// twoSum is Knuth's TwoSum as the root package writes it, s + e == x + y exactly for
// values of any sign: s = x + y, bv = s - x, e = (x - (s - bv)) + (y - bv). The
// weighted sums accumulate with it, the row kernels add their columns with it.
func (b *builder) twoSum(x, y int) (s, e int) {
	s = b.named("s", b.add(x, y))
	bv := b.named("bv", b.sub(s, x))
	return s, b.named("e", b.add(b.sub(x, b.sub(s, bv)), b.sub(y, bv)))
}

// clampK returns w = min(z, K): float32 sums add its square and z - w.
func (b *builder) clampK(d diff) int { return b.named("w", b.min(d.z, b.param("K"))) }

// sum32 adds, for float32 data, the deferred parts of the loss to the lane
// accumulators: q += w*w (one FMA) and l += z - w, with w = min(z, K).
func (b *builder) sum32(d diff) {
	w := b.clampK(d)
	b.setAcc("q", b.fma(w, w, b.acc("q")))
	b.setAcc("l", b.add(b.acc("l"), b.named("zw", b.sub(d.z, w))))
}

// term64 returns, for float64 data, V = z < K ? |d|^2 : P*|d| as hi + lo. With c
// = z or P, hi = c*z is rounded, fms(c, z, hi) is its exact error, and c times the
// low part of |d| (doubled for the square) completes lo.
func (b *builder) term64(d diff) (hi, lo int) {
	c := b.named("c", b.sel(d.m, d.z, b.param("P")))
	zz := b.named("zz", b.sel(d.m, b.add(d.zl, d.zl), d.zl))
	hi = b.named("hi", b.mul(c, d.z))
	return hi, b.named("lo", b.fma(c, zz, b.fms(c, d.z, hi)))
}

// sum64 adds, for float64 data, V as hi + lo (term64) to the lane double-double
// (h, l), and counts the quadratic elements in c.
func (b *builder) sum64(d diff) {
	hi, lo := b.term64(d)
	n := b.acc("c")
	b.setAcc("c", b.sel(d.m, b.add(n, b.param("One")), n))
	// h + hi in double-double. Both are >= +0, so the larger of the two is also
	// the larger in magnitude, and Fast2Sum on the larger and the smaller gives
	// the exact error of s (docs/tuning.md).
	h, l := b.acc("h"), b.acc("l")
	big, small := b.named("big", b.max(h, hi)), b.named("small", b.min(h, hi))
	s := b.named("s", b.add(h, hi)) // the last reading of h: s may take its register
	err := b.named("err", b.sub(small, b.sub(s, big)))
	b.setAcc("h", s)
	b.setAcc("l", b.addM(b.addM(err, lo), l)) // (l the addend: in place)
}

// sum adds the deferred parts of the loss to the accumulators (package doc).
func (b *builder) sum(t Type, d diff) {
	if t == F32 {
		b.sum32(d)
	} else {
		b.sum64(d)
	}
}

// accs returns the accumulators of a kernel with a sum. The float32 SumAndGrad
// also keeps m, the largest z of each lane: its caller cannot look through the
// inputs again for an x - y that overflowed float32, since dst may be one of them.
func accs(t Type, f Family) []string {
	switch {
	case t == F64:
		return []string{"h", "l", "c"}
	case f == SumAndGrad:
		return []string{"q", "l", "m"}
	}
	return []string{"q", "l"}
}

// body is the description of each family, given the difference of x and y.
var body = [numFamilies]func(b *builder, t Type, d diff){
	Elementwise: func(b *builder, t Type, d diff) { b.store("dst", b.loss(t, d)) },
	Sum:         func(b *builder, t Type, d diff) { b.sum(t, d) },
	Grad:        func(b *builder, t Type, d diff) { b.store("dst", b.grad(t, d)) },
	GradElementwise: func(b *builder, t Type, d diff) {
		b.store("dst", b.gradElementwise(t, d))
	},
	SumAndGrad: func(b *builder, t Type, d diff) {
		// The gradient first: its store frees registers for the sum.
		b.store("dst", b.grad(t, d))
		b.sum(t, d)
		if t == F32 {
			b.setAcc("m", b.max(b.acc("m"), d.z))
		}
	},
}

// Kernels returns every kernel, for both element types.
func Kernels() []*Kernel {
	var ks []*Kernel
	for _, t := range []Type{F32, F64} {
		for _, f := range Families {
			k := &Kernel{Family: f, Type: t, Tuning: tuning(f, t)}
			if f.Info().Accumulates {
				k.Accs = accs(t, f)
				if a := familyAccs[f]; a != nil {
					k.Accs = a(t)
				}
			}
			b := &builder{k: k, m: t == F64 && f.Info().Accumulates}
			if f.Info().Cols > 0 || f == RowSums1 {
				// The body builds the differences of its columns (RowSums1: of its
				// one column, as the row families do).
				body[f](b, t, diff{})
			} else {
				body[f](b, t, b.difference(t, f.Info().ReplacesOverflow))
			}
			k.prune()
			k.validate()
			ks = append(ks, k)
		}
	}
	return ks
}
