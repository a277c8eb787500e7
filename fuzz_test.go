package smoothl1

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Differential fuzzing: each input runs on every implementation usable here, which
// must agree bit for bit, stay inside dst (sentinel guard bands around it), give
// the same results in place, and match the scalar reference of reference_test.go
// (exact rational arithmetic, within the ulp bounds of docs/SEMANTICS.md) or, for
// special values, the special-value table of docs/SEMANTICS.md.

// fuzzBetas are the parameter choices of a fuzz input: 0, tiny, ordinary, huge, +Inf.
var fuzzBetas = []float64{1, 0, 0.5, 2, 0.1, 3, 1e-30, 1e-310, 1e-45, 1e30, 1e200, math.Inf(1), 1000, 0.25}

// fuzzCase is a decoded fuzz input.
type fuzzCase struct {
	f32   bool
	loss  Loss
	n     int
	off   int
	scale float64
	vals  []byte
}

// decodeFuzz turns the fuzzer's bytes into a case: element type, loss kind and
// parameter, length (0 to 399), offset (0 to 15), and the bytes the elements are
// made from.
func decodeFuzz(data []byte) (c fuzzCase, ok bool) {
	if len(data) < 5 {
		return c, false
	}
	c.f32 = data[0]&1 != 0
	beta := fuzzBetas[int(data[1])%len(fuzzBetas)]
	var err error
	if data[0]&2 != 0 {
		if beta == 0 {
			beta = 1
		}
		c.loss, err = Huber(beta)
	} else {
		c.loss, err = SmoothL1(beta)
	}
	if err != nil {
		return c, false
	}
	c.n = int(binary.LittleEndian.Uint16(data[2:4])) % 400
	c.off = int(data[4]) % 16
	c.scale = []float64{1, 0.5, -3, 1e-3, 7}[int(data[0]>>2)%5]
	c.vals = data[5:]
	return c, true
}

// elements makes x, y and g of length n from the bytes: each element takes a control
// byte that picks a special value, a value at exactly, just under or just over beta
// from y, or raw bits from the following bytes.
func elements[T Float](c fuzzCase) (x, y, g []T) {
	x, y, g = make([]T, c.n), make([]T, c.n), make([]T, c.n)
	pos := 0
	next := func() byte {
		if len(c.vals) == 0 {
			return 0
		}
		b := c.vals[pos%len(c.vals)]
		pos++
		return b
	}
	raw := func() T {
		var u uint64
		for k := 0; k < 8; k++ {
			u = u<<8 | uint64(next())
		}
		if isF32[T]() {
			return T(math.Float32frombits(uint32(u)))
		}
		return T(math.Float64frombits(u))
	}
	value := func() T {
		ctl := next()
		switch ctl % 4 {
		case 0:
			return T(specials64[int(ctl/4)%len(specials64)])
		case 1:
			return T(float64(int8(next())) / 16) // small ordinary numbers
		}
		return raw()
	}
	beta := T(c.loss.Param())
	for i := range x {
		y[i] = value()
		x[i] = value()
		g[i] = value()
		if ctl := next(); ctl%3 == 0 && finite(y[i]) && finite(beta) {
			x[i] = y[i] + beta
			switch ctl % 9 {
			case 3:
				x[i] = nextToward(x[i], -1)
			case 6:
				x[i] = nextToward(x[i], 1)
			}
		}
	}
	return x, y, g
}

// checkAgainstReference checks one implementation's results for the case.
func checkAgainstReference[T Float](t *testing.T, impl string, c fuzzCase, x, y, g []T, got results[T]) {
	t.Helper()
	l := c.loss
	scale := T(c.scale)
	refL, okL := refElem(l, x, y)
	gs := fill(scale, len(x))
	refG, okG := refGrad(l, x, y, gs, false)
	refGE, okGE := refGrad(l, x, y, g, false)
	bad := func(what string, i int, gotv, want T, bound uint64) {
		t.Helper()
		t.Errorf("%s %T %s n=%d: %s[%d] = %v, want %v (bound %d ulp; x=%v y=%v g=%v)", impl, T(0), l, c.n, what, i, gotv, want, bound, x[i], y[i], g[i])
	}
	for i := range x {
		if okL[i] {
			if checkableLoss(refL[i], x[i], y[i]) && ulps(got.elem[i], refL[i]) > 2 {
				bad("Elementwise", i, got.elem[i], refL[i], 2)
			}
		} else if sl, _ := special(l, x[i], y[i]); !same(got.elem[i], sl) {
			bad("Elementwise", i, got.elem[i], sl, 0)
		}
		_, sd := special(l, x[i], y[i])
		for _, gc := range []struct {
			name string
			v    []T
			ref  []T
			ok   []bool
			s    T
		}{{"Grad", got.grad, refG, okG, scale}, {"SumAndGrad grad", got.sumGrad, refG, okG, scale}, {"GradElementwise", got.gradElem, refGE, okGE, g[i]}} {
			if gc.ok[i] {
				// The quadratic gradient is (d*g)/beta: for float64 the product d*g is
				// an intermediate that must not overflow or underflow either.
				d, gv := math.Abs(float64(x[i])-float64(y[i])), math.Abs(float64(gc.s))
				e := math.Log2(d) + math.Log2(gv) // the exponent of d*g, without computing it
				inRange := isF32[T]() || d == 0 || gv == 0 || (e >= -1022 && e < 1023)
				if inRange && checkable(gc.ref[i], x[i], y[i]) && ulps(gc.v[i], gc.ref[i]) > 2 {
					bad(gc.name, i, gc.v[i], gc.ref[i], 2)
				}
			} else if !okL[i] && finite(gc.s) {
				// special inputs; the reference for finite g needs no rounding check
				if want := sd * gc.s; !same(gc.v[i], want) && !(want == 0 && gc.v[i] == 0) {
					bad(gc.name, i, gc.v[i], want, 0)
				}
			}
		}
	}
	// Sums: exact where every element is finite and checkable, else NaN/Inf rules.
	allCheckable := true
	anyNaN, anyInf := false, false
	for i := range x {
		if !okL[i] {
			allCheckable = false
			sl, _ := special(l, x[i], y[i])
			anyNaN = anyNaN || sl != sl
			anyInf = anyInf || math.IsInf(float64(sl), 1)
		} else if !checkableLoss(refL[i], x[i], y[i]) {
			allCheckable = false
		}
	}
	switch {
	case allCheckable && len(x) < 300:
		var sum T // the exact sum, from the first pass
		for _, mean := range []bool{false, true} {
			want, ok := refSum(l, x, y, mean)
			if !ok {
				break
			}
			v := got.sum
			if mean {
				v = got.mean
				// The mean is the sum divided by n: where the exact sum is not a
				// normal T (it overflows), an intermediate result has overflowed,
				// and the bound does not apply (docs/SEMANTICS.md, Accuracy).
				if !checkable(sum, 0, 0) {
					break
				}
			} else {
				sum = want
			}
			if checkable(want, 0, 0) && ulps(v, want) > 1 {
				t.Errorf("%s %T %s n=%d: mean=%v: %v, exact %v", impl, T(0), l, c.n, mean, v, want)
			}
		}
	case anyNaN:
		if got.sum == got.sum || got.mean == got.mean {
			t.Errorf("%s %T %s n=%d: Sum %v Mean %v, want NaN", impl, T(0), l, c.n, got.sum, got.mean)
		}
	case anyInf:
		if !math.IsInf(float64(got.sum), 1) {
			t.Errorf("%s %T %s n=%d: Sum %v, want +Inf", impl, T(0), l, c.n, got.sum)
		}
	}
}

// fuzzRun runs the case on every implementation with the given checks.
func fuzzRun[T Float](t *testing.T, c fuzzCase, family string) {
	x, y, g := elements[T](c)
	x, y, g = inBuf(x, c.off), inBuf(y, (c.off+5)%16), inBuf(g, (c.off+11)%16)
	var first results[T]
	for k, in := range eachImpl(t) {
		got := runAll(t, c.loss, x, y, g, T(c.scale), c.off)
		if !sameBits(got.sum, got.sumF) || !sameBits(got.mean, got.meanF) {
			t.Fatalf("%s: fused forward differs from Sum/Mean", in.name)
		}
		if k == 0 {
			// The others must give the same bits: the reference checks once.
			first = got
			checkAgainstReference(t, in.name, c, x, y, g, got)
		} else if d := diffResults(first, got); d != "" {
			t.Fatalf("%T %s n=%d off=%d: %s differs from generic: %s", T(0), c.loss, c.n, c.off, in.name, d)
		}
		// In place on every implementation: each reads and writes in its own order.
		checkInPlace(t, c, x, y, g, got, family)
	}
}

// checkInPlace reruns the family's operations with dst == x and dst == y.
func checkInPlace[T Float](t *testing.T, c fuzzCase, x, y, g []T, want results[T], family string) {
	t.Helper()
	l, s := c.loss, T(c.scale)
	run := func(name string, want []T, f func(d, xc, yc []T)) { checkInPlaceOp(t, name, x, y, want, f) }
	switch family {
	case "elementwise":
		run("Elementwise", want.elem, func(d, xc, yc []T) { Elementwise(l, d, xc, yc) })
	case "grad":
		run("Grad", want.grad, func(d, xc, yc []T) { Grad(l, d, xc, yc, s) })
		run("GradElementwise", want.gradElem, func(d, xc, yc []T) { GradElementwise(l, d, xc, yc, g) })
	case "fused":
		run("SumAndGrad", want.sumGrad, func(d, xc, yc []T) {
			if v := SumAndGrad(l, d, xc, yc, s); !sameBits(v, want.sum) {
				t.Fatalf("SumAndGrad in place returned %v, want %v", v, want.sum)
			}
		})
		run("MeanAndGrad", want.meanGrad, func(d, xc, yc []T) { MeanAndGrad(l, d, xc, yc, s) })
	}
}

func fuzzTarget(f *testing.F, family string) {
	for _, s := range seedInputs() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ok := decodeFuzz(data)
		if !ok {
			return
		}
		if c.f32 {
			fuzzRun[float32](t, c, family)
		} else {
			fuzzRun[float64](t, c, family)
		}
	})
}

// One target per family of operations. Each checks every operation (they share a
// decoder), and the in-place checks of its own family.
func FuzzElementwise(f *testing.F) { fuzzTarget(f, "elementwise") }
func FuzzReductions(f *testing.F)  { fuzzTarget(f, "reductions") }
func FuzzGradients(f *testing.F)   { fuzzTarget(f, "grad") }
func FuzzFused(f *testing.F)       { fuzzTarget(f, "fused") }

// seedInputs are a few in-code seeds; the committed corpus in testdata/fuzz adds
// every length 0 to 67 with every kind of value.
func seedInputs() [][]byte {
	return [][]byte{
		{0, 0, 17, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		{3, 2, 64, 0, 3, 4, 8, 12, 16, 20, 24, 28, 32},
	}
}

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the seed corpus in testdata/fuzz")

// TestWriteCorpus writes the committed seed corpus (with -write-corpus): for every
// length 0 to 67, both types, both losses, several parameters and offsets, with
// element bytes that cycle through every special value, every boundary placement
// and raw bit patterns.
func TestWriteCorpus(t *testing.T) {
	if !*writeCorpus {
		t.Skip("use -write-corpus to rewrite testdata/fuzz")
	}
	for _, target := range []string{"FuzzElementwise", "FuzzReductions", "FuzzGradients", "FuzzFused"} {
		dir := filepath.Join("testdata", "fuzz", target)
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= 67; n++ {
			data := []byte{byte(n % 4), byte(n % len(fuzzBetas)), byte(n), 0, byte(n % 16)}
			for k := 0; k < 3*n+8; k++ {
				data = append(data, byte(k*4*((n%len(specials64))+1)+k%4), byte(k*37+n), byte(k*11+3*n))
			}
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", n)), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
