package kernel

// This file is the description itself: the operations of every kernel, built one
// value at a time. Values carry names (d, z, qh, ...) that the generated code repeats.

type builder struct{ k *Kernel }

func (b *builder) op(kind Kind, ref string, args ...int) int {
	b.k.Ops = append(b.k.Ops, Op{Kind: kind, Args: args, Ref: ref, Name: ref})
	return len(b.k.Ops) - 1
}

// named gives value v a name and returns v.
func (b *builder) named(name string, v int) int {
	b.k.Ops[v].Name = name
	return v
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
		v := b.sub(x, u)
		w := b.add(y, ts)
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

// loss returns the per-element loss: hi (and lo for float64, else -1).
func (b *builder) loss(t Type, d diff) (hi, lo int) {
	z := d.z
	if t == F32 {
		q := b.named("q", b.mul(b.named("zz", b.mul(z, z)), b.param("Ah")))
		l := b.named("l", b.mul(b.param("B"), b.named("zh", b.sub(z, b.param("H")))))
		return b.named("loss", b.sel(d.m, q, l)), -1
	}
	// Quadratic branch: (z + zl)^2 * (Ah + Al) as qh + ql.
	ah := b.param("Ah")
	p := b.named("p", b.mul(z, z))
	pl0 := b.fms(z, z, p)
	pl := b.named("pl", b.fma(b.add(z, z), d.zl, pl0))
	qh := b.named("qh", b.mul(p, ah))
	ql0 := b.fms(p, ah, qh)
	ql1 := b.fma(pl, ah, ql0)
	ql := b.named("ql", b.fma(p, b.param("Al"), ql1))
	// Linear branch: B * ((z + zl) - H) as lh + ll. z >= K >= H, so Fast2Sum is exact.
	h, bb := b.param("H"), b.param("B")
	mh := b.named("mh", b.sub(z, h))
	ml := b.named("ml", b.add(b.sub(b.sub(z, mh), h), d.zl))
	lh := b.named("lh", b.mul(bb, mh))
	ll0 := b.fms(bb, mh, lh)
	ll := b.named("ll", b.fma(bb, ml, ll0))
	return b.named("hi", b.sel(d.m, qh, lh)), b.named("lo", b.sel(d.m, ql, ll))
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
	b.named("gq", gq)
	zero := b.param("Zero")
	gl := b.named("gl", b.xor(b.sel(b.named("nonzero", b.ne(d.s, zero)), b.param("GB"), zero), d.sg))
	g := b.named("branch", b.sel(d.m, gq, gl))
	return b.named("grad", b.sel(b.named("nan", b.isNaN(d.s)), d.s, g))
}

// gradElementwise returns the gradient scaled by the per-element upstream gradient g.
func (b *builder) gradElementwise(t Type, d diff) int {
	g := b.load("g")
	var gq int
	if t == F64 {
		gq = b.div(b.fma(d.s, g, b.mul(d.e, g)), b.param("Dq"))
	} else {
		gq = b.div(b.mul(d.s, g), b.param("Dq"))
	}
	b.named("gq", gq)
	zero := b.param("Zero")
	gl := b.named("gl", b.mul(b.xor(b.sel(b.named("nonzero", b.ne(d.s, zero)), b.param("B"), zero), d.sg), g))
	r := b.named("branch", b.sel(d.m, gq, gl))
	return b.named("grad", b.sel(b.named("nan", b.isNaN(d.s)), d.s, r))
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
	// h + hi in double-double by Fast2Sum on the larger and the smaller addend (both
	// are >= +0), the exact error of s in five operations (docs/tuning.md).
	h, l := b.acc("h"), b.acc("l")
	s := b.named("s", b.add(h, hi))
	big, small := b.named("big", b.max(h, hi)), b.named("small", b.min(h, hi))
	err := b.named("err", b.sub(small, b.sub(s, big)))
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
	fin := b.named("fin", b.lt(hi, b.param("Inf")))
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

// body is the description of each family, given the difference of x and y.
var body = [numFamilies]func(b *builder, t Type, d diff){
	Elementwise: func(b *builder, t Type, d diff) { hi, lo := b.loss(t, d); b.storeLoss(t, hi, lo) },
	Sum:         func(b *builder, t Type, d diff) { hi, lo := b.loss(t, d); b.accumulate(t, d, hi, lo) },
	Grad:        func(b *builder, t Type, d diff) { b.store("dst", b.grad(t, d)) },
	GradElementwise: func(b *builder, t Type, d diff) {
		b.store("dst", b.gradElementwise(t, d))
	},
	SumAndGrad: func(b *builder, t Type, d diff) {
		hi, lo := b.loss(t, d)
		b.accumulate(t, d, hi, lo)
		b.store("dst", b.grad(t, d))
	},
}

// Kernels returns every kernel, for both element types.
func Kernels() []*Kernel {
	var ks []*Kernel
	for _, t := range []Type{F32, F64} {
		for _, f := range Families {
			k := &Kernel{Family: f, Type: t, Tuning: tuning(f, t)}
			if f.Info().Accumulates {
				k.Accs = accs(t)
			}
			b := &builder{k}
			body[f](b, t, b.difference(t, f.Info().ReplacesOverflow))
			k.prune()
			k.validate()
			ks = append(ks, k)
		}
	}
	return ks
}
