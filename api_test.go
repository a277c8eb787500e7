package smoothl1

import (
	"math"
	"strings"
	"testing"
)

func TestConstructors(t *testing.T) {
	for _, c := range []struct {
		beta float64
		ok   bool
		msg  string
	}{{1, true, ""}, {0, true, ""}, {math.Inf(1), true, ""}, {-1, false, "beta must be non-negative, got -1"},
		{math.NaN(), false, "got NaN"}, {math.Inf(-1), false, "got -Inf"}} {
		_, err := SmoothL1(c.beta)
		if (err == nil) != c.ok || (err != nil && (!strings.HasPrefix(err.Error(), "smoothl1: ") || !strings.Contains(err.Error(), c.msg))) {
			t.Errorf("SmoothL1(%v): %v", c.beta, err)
		}
	}
	for _, c := range []struct {
		delta float64
		ok    bool
		msg   string
	}{{1, true, ""}, {math.Inf(1), true, ""}, {0, false, "delta must be positive, got 0"}, {-2, false, "got -2"}, {math.NaN(), false, "got NaN"}} {
		_, err := Huber(c.delta)
		if (err == nil) != c.ok || (err != nil && (!strings.HasPrefix(err.Error(), "smoothl1: ") || !strings.Contains(err.Error(), c.msg))) {
			t.Errorf("Huber(%v): %v", c.delta, err)
		}
	}
	l, _ := SmoothL1(0.5)
	h, _ := Huber(2)
	var z Loss
	for _, c := range []struct {
		l    Loss
		want string
	}{{l, "SmoothL1Loss(beta=0.5)"}, {h, "HuberLoss(delta=2)"}, {z, "SmoothL1Loss(beta=1)"}} {
		if c.l.String() != c.want {
			t.Errorf("String = %q, want %q", c.l.String(), c.want)
		}
	}
	// The zero Loss computes exactly what SmoothL1(1) computes.
	one, _ := SmoothL1(1)
	x, y := []float64{0.3, 4, -2}, []float64{0, 1, 1}
	if Sum(z, x, y) != Sum(one, x, y) {
		t.Error("zero Loss differs from SmoothL1(1)")
	}
}

func TestReductions(t *testing.T) {
	for s, want := range map[string]Reduction{"mean": ReductionMean, "sum": ReductionSum, "none": ReductionNone, "elementwise_mean": ReductionMean} {
		r, err := ParseReduction(s)
		if err != nil || r != want {
			t.Errorf("ParseReduction(%q) = %v, %v", s, r, err)
		}
		if s != "elementwise_mean" && r.String() != s {
			t.Errorf("String = %q, want %q", r.String(), s)
		}
	}
	for _, bad := range []string{"", "Mean", "avg", "batchmean"} {
		_, err := ParseReduction(bad)
		if err == nil || !strings.Contains(err.Error(), `"mean", "sum", "none"`) || !strings.HasPrefix(err.Error(), "smoothl1: ") {
			t.Errorf("ParseReduction(%q) error %v", bad, err)
		}
	}
	if Reduction(7).String() != "Reduction(7)" {
		t.Error(Reduction(7).String())
	}
	tr, fa := true, false
	for _, c := range []struct {
		sa, re *bool
		want   Reduction
	}{{nil, nil, ReductionMean}, {&tr, nil, ReductionMean}, {&fa, nil, ReductionSum}, {nil, &fa, ReductionNone},
		{&fa, &fa, ReductionNone}, {&tr, &fa, ReductionNone}, {&fa, &tr, ReductionSum}, {&tr, &tr, ReductionMean}, {nil, &tr, ReductionMean}} {
		if got := LegacyReduction(c.sa, c.re); got != c.want {
			t.Errorf("LegacyReduction(%v, %v) = %v, want %v", c.sa, c.re, got, c.want)
		}
	}
}

func TestMisuse(t *testing.T) {
	var l Loss
	a3, a4, a2 := make([]float32, 3), make([]float32, 4), make([]float32, 2)
	mustPanic(t, []string{"Sum", "len(x) = 3", "len(y) = 4"}, func() { Sum(l, a3, a4) })
	mustPanic(t, []string{"Mean", "3", "4"}, func() { Mean(l, a3, a4) })
	mustPanic(t, []string{"Elementwise", "len(dst) = 2", "len(x) = 3"}, func() { Elementwise(l, a2, a3, a3) })
	mustPanic(t, []string{"Grad", "2", "3"}, func() { Grad(l, a2, a3, a3, 1) })
	mustPanic(t, []string{"GradElementwise", "len(gradOut) = 2", "len(x) = 3"}, func() { GradElementwise(l, a3, a3, a3, a2) })
	mustPanic(t, []string{"SumAndGrad", "len(x) = 4", "len(y) = 3"}, func() { SumAndGrad(l, a4, a4, a3, 1) })
	mustPanic(t, []string{"MeanAndGrad", "len(dst) = 2"}, func() { MeanAndGrad(l, a2, a3, a3, 1) })
	mustPanic(t, []string{"Reduce", "invalid reduction 9"}, func() { Reduce(l, Reduction(9), a3, a3, a3) })
	mustPanic(t, []string{"Reduce", "len(dst) = 0"}, func() { Reduce(l, ReductionNone, nil, a3, a3) })
	// A longer dst is fine: only the first len(x) elements are written.
	long := []float32{9, 9, 9, 9}
	Elementwise(l, long, a3, a3)
	if long[3] != 9 || long[0] != 0 {
		t.Errorf("Elementwise with long dst: %v", long)
	}
}

func TestEmpty(t *testing.T) {
	var l Loss
	var e32 []float32
	var e64 []float64
	if s := Sum(l, e32, e32); s != 0 {
		t.Errorf("Sum of nothing = %v", s)
	}
	if m := Mean(l, e64, e64); !math.IsNaN(m) {
		t.Errorf("Mean of nothing = %v", m)
	}
	if m := MeanAndGrad(l, e32, e32, e32, 1); !math.IsNaN(float64(m)) {
		t.Errorf("MeanAndGrad of nothing = %v", m)
	}
	Elementwise(l, nil, e64, e64)
	GradElementwise(l, nil, e64, e64, e64)
}

// TestInPlace checks dst == x and dst == y against out-of-place results.
func TestInPlace(t *testing.T) {
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			for _, l := range testLosses() {
				for _, n := range []int{1, 7, 8, 9, 33, 100} {
					x, y := randomInputs[float64](newRand(n), n, l.Param(), true)
					g, _ := randomInputs[float64](newRand(n+1), n, 1, false)
					type op func(dst, x, y []float64)
					for name, f := range map[string]op{
						"Elementwise":     func(d, x, y []float64) { Elementwise(l, d, x, y) },
						"Grad":            func(d, x, y []float64) { Grad(l, d, x, y, 0.75) },
						"GradElementwise": func(d, x, y []float64) { GradElementwise(l, d, x, y, g) },
						"SumAndGrad":      func(d, x, y []float64) { SumAndGrad(l, d, x, y, 3) },
					} {
						want := make([]float64, n)
						f(want, x, y)
						checkInPlaceOp(t, name+" "+l.String(), x, y, want, f)
					}
				}
			}
		})
	}
}

// TestNoAllocs checks that no operation allocates, on every implementation.
func TestNoAllocs(t *testing.T) {
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			l, _ := Huber(0.7)
			inf, _ := SmoothL1(math.Inf(1)) // the degenerate scalar path
			for _, l := range []Loss{l, {}, inf} {
				x32, y32, d32 := make([]float32, 100), make([]float32, 100), make([]float32, 100)
				x64, y64, d64 := make([]float64, 100), make([]float64, 100), make([]float64, 100)
				for name, f := range map[string]func(){
					"f32": func() { everyOp(l, d32, x32, y32) },
					"f64": func() { everyOp(l, d64, x64, y64) },
				} {
					if a := testing.AllocsPerRun(20, f); a != 0 {
						t.Errorf("%s %s: %v allocations per run", l, name, a)
					}
				}
			}
		})
	}
}

// everyOp calls every operation once.
func everyOp[T Float](l Loss, d, x, y []T) {
	Elementwise(l, d, x, y)
	Sum(l, x, y)
	Mean(l, x, y)
	Reduce(l, ReductionSum, nil, x, y)
	Reduce(l, ReductionNone, d, x, y)
	Grad(l, d, x, y, 2)
	GradElementwise(l, d, x, y, y)
	SumAndGrad(l, d, x, y, 1)
	MeanAndGrad(l, d, x, y, 1)
	rowOps(l, d, x, y)
}

// rowOps runs RowSums, RowMeans and RowGrad (y's first elements the upstream
// gradients) on the whole rows of 1, 3, 4 and 1000 columns in x and y, into d.
func rowOps[T Float](l Loss, d, x, y []T) {
	for _, cols := range []int{1, 3, 4, 1000} {
		n := len(x) / cols * cols
		RowSums(l, d[:n/cols], x[:n], y[:n], cols)
		RowMeans(l, d[:n/cols], x[:n], y[:n], cols)
		RowGrad(l, d[:n], x[:n], y[:n], y[:n/cols], cols)
	}
}

func TestImplementations(t *testing.T) {
	defer SetImplementation("")
	names := Implementations()
	if names[len(names)-1] != "generic" {
		t.Fatalf("Implementations() = %v: generic must be last", names)
	}
	if Implementation() != names[0] && SetImplementation("") == nil && Implementation() != names[0] {
		t.Errorf("automatic choice %s, want the fastest usable %s", Implementation(), names[0])
	}
	for _, n := range names {
		if err := SetImplementation(n); err != nil || Implementation() != n {
			t.Errorf("SetImplementation(%q): %v, now %s", n, err, Implementation())
		}
	}
	err := SetImplementation("sse9")
	if err == nil || !strings.HasPrefix(err.Error(), "smoothl1: ") || !strings.Contains(err.Error(), `"sse9"`) {
		t.Errorf("unknown implementation: %v", err)
	}
	for _, n := range []string{"avx2", "avx512"} {
		usable := false
		for _, u := range names {
			usable = usable || u == n
		}
		if err := SetImplementation(n); usable != (err == nil) {
			t.Errorf("SetImplementation(%q) = %v, usable %v", n, err, usable)
		}
	}
}
