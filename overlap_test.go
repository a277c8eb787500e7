package smoothl1

import (
	"fmt"
	"testing"
)

// The aliasing rule of docs/SEMANTICS.md: dst may be exactly an input (in place),
// or share no element with it; a partial overlap panics, naming the operation, the
// input and where the two start relative to each other.

// dstOp is an operation with a dst, run on the current implementation. It returns
// the operation's scalar result (0 where there is none).
type dstOp[T Float] struct {
	name   string
	inputs []string // the inputs dst may alias: "x", "y", "gradOut"
	run    func(l Loss, dst, x, y, g []T) T
}

func dstOps[T Float]() []dstOp[T] {
	xy := []string{"x", "y"}
	return []dstOp[T]{
		{"Elementwise", xy, func(l Loss, d, x, y, _ []T) T { Elementwise(l, d, x, y); return 0 }},
		{"Reduce", xy, func(l Loss, d, x, y, _ []T) T { return Reduce(l, ReductionNone, d, x, y) }},
		{"Grad", xy, func(l Loss, d, x, y, _ []T) T { Grad(l, d, x, y, 0.75); return 0 }},
		{"GradElementwise", []string{"x", "y", "gradOut"}, func(l Loss, d, x, y, g []T) T { GradElementwise(l, d, x, y, g); return 0 }},
		{"SumAndGrad", xy, func(l Loss, d, x, y, _ []T) T { return SumAndGrad(l, d, x, y, 3) }},
		{"MeanAndGrad", xy, func(l Loss, d, x, y, _ []T) T { return MeanAndGrad(l, d, x, y, 3) }},
	}
}

// TestOverlap checks the aliasing rule for every operation with a dst, both types,
// every implementation.
func TestOverlap(t *testing.T) {
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			testOverlap[float32](t)
			testOverlap[float64](t)
		})
	}
}

func testOverlap[T Float](t *testing.T) {
	losses := []Loss{{}, mustLoss(t, "huber", 0.7), mustLoss(t, "smooth_l1", 0)}
	for _, op := range dstOps[T]() {
		for _, l := range losses {
			for _, n := range []int{1, 2, 7, 16, 33, 100} {
				x0, y0 := randomInputs[T](newRand(n), n, l.Param(), false)
				g0, _ := randomInputs[T](newRand(n+1), n, 1, false)
				// The out-of-place result, on slices of their own.
				want := make([]T, n)
				wantS := op.run(l, want, clone(x0), clone(y0), clone(g0))
				name := fmt.Sprintf("%T %s %s n=%d", T(0), op.name, l, n)

				// Each input in turn in one buffer at [b, b+n), with dst at
				// [b+s, b+s+n): s = 0 is in place, 0 < |s| < n a partial overlap,
				// |s| >= n disjoint slices of the same array.
				for _, in := range op.inputs {
					for _, s := range shifts(n) {
						b := n + 1
						buf := make([]T, 3*n+2)
						x, y, g := clone(x0), clone(y0), clone(g0)
						src := map[string]*[]T{"x": &x, "y": &y, "gradOut": &g}[in]
						copy(buf[b:b+n], *src)
						*src = buf[b : b+n]
						dst := buf[b+s : b+s+n]
						switch {
						case s == 0 || s <= -n || s >= n:
							got := op.run(l, dst, x, y, g)
							what := fmt.Sprintf("%s with dst = %s shifted by %d", name, in, s)
							checkSameBits(t, what, dst, want)
							if !sameBits(got, wantS) {
								t.Fatalf("%s returned %v, want %v", what, got, wantS)
							}
						default:
							before := clone(buf)
							where := fmt.Sprintf("dst[0] is %s[%d]", in, s)
							if s < 0 {
								where = fmt.Sprintf("%s[0] is dst[%d]", in, -s)
							}
							mustPanic(t, []string{op.name + ": ", "dst partially overlaps " + in + ": " + where + " "}, func() { op.run(l, dst, x, y, g) })
							checkSameBits(t, name+": the refused call wrote", buf, before)
						}
					}
				}
			}
		}
	}
}

// shifts returns the offsets of dst from an input of length n that TestOverlap
// tries: in place, partial overlaps by one, two, half and all but one element
// either way, and disjoint (adjacent, and further).
func shifts(n int) []int {
	s := []int{0, n, -n, n + 1, -n - 1}
	for _, k := range []int{1, 2, n / 2, n - 1} {
		if k > 0 && k < n {
			s = append(s, k, -k)
		}
	}
	return s
}

// TestOverlapEdges checks the cases around the rule: dst longer than x is cut to
// len(x) before the check, so a dst that starts at x (or ends, beyond len(x), in
// x) is allowed; empty slices never overlap; inputs may overlap each other.
func TestOverlapEdges(t *testing.T) {
	var l Loss
	buf := []float64{0.5, 2, -3, 4, 0.25, 7, 1, -1}
	want := make([]float64, 4)
	Elementwise(l, want, buf[0:4], buf[1:5])

	// x and y overlap each other (read only): allowed; dst elsewhere.
	got := make([]float64, 4)
	Elementwise(l, got, buf[0:4], buf[1:5])
	checkSameBits(t, "x and y overlapping", got, want)

	// dst = buf[0:8] is longer than x = buf[0:4]: cut, it is x exactly.
	b := clone(buf)
	Elementwise(l, b[0:8], b[0:4], clone(buf[1:5]))
	checkSameBits(t, "long dst starting at x", b[:4], want)
	checkSameBits(t, "long dst beyond len(x)", b[4:], buf[4:])

	// dst = buf[0:8] with x = buf[4:8]: cut to buf[0:4], disjoint from x.
	b = clone(buf)
	xs, ys := clone(buf[0:4]), clone(buf[1:5])
	copy(b[4:8], xs)
	Elementwise(l, b[0:8], b[4:8], ys)
	checkSameBits(t, "long dst ending in x", b[:4], want)

	// Empty slices, even pointing into each other, never overlap.
	e := buf[2:2]
	Elementwise(l, buf[1:1], e, e)
	Grad(l, e, buf[:0], buf[2:2], 1)
	GradElementwise(l, e, e, e, e)
	if m := MeanAndGrad(l, buf[3:3], e, e, 1); m == m {
		t.Errorf("MeanAndGrad of nothing = %v", m)
	}

	// The message names the operation, the input and the offsets.
	x32 := make([]float32, 10)
	mustPanic(t, []string{"smoothl1: GradElementwise: dst partially overlaps gradOut: gradOut[0] is dst[3] (both of length 4); dst must be exactly gradOut or share no element with it"},
		func() { GradElementwise(l, x32[0:4], make([]float32, 4), make([]float32, 4), x32[3:7]) })
}
