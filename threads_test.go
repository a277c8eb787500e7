package smoothl1

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gokernels/smoothl1/generated"
)

// withThreads runs f with SetThreads(n) and parallelMin lowered to min (0: as is).
func withThreads(n, min int, f func()) {
	prev := SetThreads(n)
	prevMin := parallelMin
	if min > 0 {
		parallelMin = min
	}
	defer func() { SetThreads(prev); parallelMin = prevMin }()
	f()
}

// threadCounts are the thread settings the tests compare with threads = 1.
var threadCounts = []int{2, 3, 7, 16}

// boundaryInputs returns inputs of length n for the thread tests: random values at
// several scales, and, per variant, special values on and next to the chunk
// boundaries (where the threads' shares meet too): +Inf, a float32 overflow of
// x - y (PyTorch gives +Inf), NaN. Variant "finite" has none, so that its sums are
// finite and show every bit.
func boundaryInputs[T Float](n int, variant string, seed int) (x, y, g []T) {
	r := newRand(seed)
	x, y, g = make([]T, n), make([]T, n), make([]T, n)
	for i := range x {
		x[i] = T(r.NormFloat64() * math.Ldexp(1, r.IntN(21)-10))
		y[i] = T(r.NormFloat64() * math.Ldexp(1, r.IntN(21)-10))
		g[i] = T(r.NormFloat64())
	}
	for c := chunkLen; c <= n; c += chunkLen {
		for _, i := range []int{c - 1, c} {
			if i >= n {
				continue
			}
			switch variant {
			case "inf":
				x[i] = T(math.Inf(1))
			case "ovf32":
				x[i], y[i] = T(math.MaxFloat32), T(-math.MaxFloat32)
			case "nan":
				y[i] = T(math.NaN())
			}
		}
	}
	return x, y, g
}

// TestThreadsSameBits runs every operation with threads = 2, 3, 7, 16 (on the
// parallel path from any length) and requires the bits of threads = 1, on every
// implementation, both types, at lengths around the chunk size and (not in -short)
// at 2^24 + 3, with special values on the chunk boundaries.
func TestThreadsSameBits(t *testing.T) {
	lengths := []int{chunkLen - 1, chunkLen, chunkLen + 1, 3*chunkLen + 5}
	if !testing.Short() {
		lengths = append(lengths, 1<<24+3)
	} else {
		lengths = []int{chunkLen, 3*chunkLen + 5} // one chunk, and a ragged four
	}
	if raceEnabled {
		lengths = []int{chunkLen + 1, 3*chunkLen + 5}
	}
	testThreadsSameBits[float32](t, lengths)
	testThreadsSameBits[float64](t, lengths)
}

func testThreadsSameBits[T Float](t *testing.T, lengths []int) {
	losses := []Loss{{}, mustLoss(t, "huber", 0.5), mustLoss(t, "huber", math.Inf(1))}
	if raceEnabled {
		losses = losses[:1]
	}
	auto := Implementation()
	for _, in := range eachImpl(t) {
		t.Run("impl="+in.name, func(t *testing.T) {
			for _, n := range lengths {
				if n > 1<<20 && in.name != auto {
					// The split into threads is the same code for every implementation:
					// the longest input runs on the automatic one (the others agree
					// with it bit for bit at every length: TestImplementationsAgree).
					continue
				}
				variants := []string{"finite", "inf", "ovf32", "nan"}
				if testing.Short() {
					variants = []string{"finite", "ovf32"}
				}
				if n > 1<<20 || raceEnabled {
					variants = []string{"finite"}
				}
				for _, v := range variants {
					x, y, g := boundaryInputs[T](n, v, n)
					for _, l := range losses {
						if (n > 1<<20 || testing.Short()) && l.IsHuber() && math.IsInf(l.Param(), 1) || n > 1<<20 && l.IsHuber() {
							continue
						}
						var want results[T]
						withThreads(1, 0, func() { want = runAll(t, l, x, y, g, 0.75, 0) })
						if !sameBits(want.sum, want.sumF) || !sameBits(want.mean, want.meanF) {
							t.Fatalf("%T %s n=%d %s: fused sums differ: %v %v, %v %v", T(0), l, n, v, want.sum, want.sumF, want.mean, want.meanF)
						}
						if v == "finite" && (math.IsInf(float64(want.sum), 0) || want.sum != want.sum) {
							t.Fatalf("%T %s n=%d: the finite variant sums to %v", T(0), l, n, want.sum)
						}
						for _, th := range threadCounts {
							var got results[T]
							withThreads(th, 1, func() { got = runAll(t, l, x, y, g, 0.75, 0) })
							if d := diffResults(want, got); d != "" {
								t.Fatalf("%T %s n=%d %s: threads=%d differs from threads=1: %s", T(0), l, n, v, th, d)
							}
						}
					}
				}
			}
		})
	}
}

// refChunkSum returns the accumulators of Sum on x, y in the chunked order (and, for
// float32 data, SumAndGrad's largest z in [16:24]), evaluated independently of
// mergeTree, merge32 and merge64: each chunk by one call of the portable generic
// kernel, and the chunks combined by a binary counter (a stack of the subtrees of
// complete power-of-two runs, carried like the digits of the chunk count, then folded
// from the right), with its own lane arithmetic.
func refChunkSum[T Float](p *generated.Params, x, y []T) (acc [24]float64) {
	type entry struct {
		acc  [24]float64
		size int
	}
	merge := func(a, b [24]float64) [24]float64 {
		var r [24]float64
		for i := 0; i < 8; i++ {
			if isF32[T]() {
				r[i] = a[i] + b[i]
				r[8+i] = a[8+i] + b[8+i]
				r[16+i] = math.Max(a[16+i], b[16+i])
				continue
			}
			s := a[i] + b[i]
			bb := s - a[i]
			e := (a[i] - (s - bb)) + (b[i] - bb)
			r[i] = s
			r[8+i] = a[8+i] + b[8+i] + e
			r[16+i] = a[16+i] + b[16+i]
		}
		return r
	}
	var stack []entry
	for lo := 0; lo < len(x) || lo == 0; lo += chunkLen {
		hi := min(lo+chunkLen, len(x))
		var a [24]float64
		if isF32[T]() {
			generated.SumF32(p, f32(x[lo:hi]), f32(y[lo:hi]), (*[16]float64)(a[:16]))
			var g [24]float64
			generated.SumAndGradF32(p, make([]float32, hi-lo), f32(x[lo:hi]), f32(y[lo:hi]), &g)
			copy(a[16:], g[16:])
		} else {
			generated.SumF64(p, f64(x[lo:hi]), f64(y[lo:hi]), &a)
		}
		e := entry{a, 1}
		for len(stack) > 0 && stack[len(stack)-1].size == e.size {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			e = entry{merge(top.acc, e.acc), 2 * e.size}
		}
		stack = append(stack, e)
	}
	acc = stack[len(stack)-1].acc
	for i := len(stack) - 2; i >= 0; i-- {
		acc = merge(stack[i].acc, acc)
	}
	return acc
}

// TestChunkedOrderReference holds Sum, Mean, SumAndGrad and MeanAndGrad with
// threads = 1 (and threads = 3) to refChunkSum, bit for bit, at chunk counts 1 to 9
// and 37 (every shape of the tree up to 8, and a ragged one), with the finishing
// code of the one-chunk path.
func TestChunkedOrderReference(t *testing.T) {
	testChunkedOrderReference[float32](t)
	testChunkedOrderReference[float64](t)
}

func testChunkedOrderReference[T Float](t *testing.T) {
	var lengths []int
	for k := 1; k <= 9; k++ {
		lengths = append(lengths, k*chunkLen-3, k*chunkLen)
	}
	lengths = append(lengths, 37*chunkLen+11)
	if testing.Short() {
		lengths = []int{chunkLen, chunkLen + 1, 2*chunkLen + 8, 3*chunkLen + 5, 5*chunkLen - 3, 7*chunkLen + 100}
	}
	if raceEnabled {
		lengths = []int{chunkLen + 1, 3*chunkLen + 5}
	}
	for _, l := range []Loss{{}, mustLoss(t, "huber", 1.7), mustLoss(t, "smooth_l1", 0.3)} {
		for _, n := range lengths {
			x, y, _ := boundaryInputs[T](n, "finite", n+1)
			if n%2 == 1 {
				// a float32 overflow in the last chunk: the m lanes must carry it
				x[n-1], y[n-1] = T(math.MaxFloat32), T(-math.MaxFloat32)
			}
			pp, _ := setupGrad(l, isF32[T](), 1, 0)
			acc := refChunkSum(&pp, x, y)
			var wantSum, wantMean T
			if isF32[T]() {
				ovf := func() bool { return overflows32(&pp, f32(x), f32(y)) }
				wantSum = T(float32(finish32(&pp, acc[:16], false, n, ovf)))
				wantMean = T(float32(finish32(&pp, acc[:16], true, n, ovf)))
			} else {
				wantSum, wantMean = T(finish64(&pp, &acc, false, n)), T(finish64(&pp, &acc, true, n))
			}
			for _, th := range []int{1, 3} {
				withThreads(th, 1, func() {
					d := make([]T, n)
					got := []T{Sum(l, x, y), Mean(l, x, y), SumAndGrad(l, d, x, y, 1), MeanAndGrad(l, d, x, y, 1)}
					for k, w := range []T{wantSum, wantMean, wantSum, wantMean} {
						if !sameBits(got[k], w) {
							t.Fatalf("%T %s n=%d threads=%d: result %d is %v, the chunked order gives %v", T(0), l, n, th, k, got[k], w)
						}
					}
				})
			}
		}
	}
}

// TestOneChunkKeepsBits checks that an input of at most C elements is one kernel
// call, as before the chunk grid: Sum equals the single-call lanes finished.
func TestOneChunkKeepsBits(t *testing.T) {
	x, y, _ := boundaryInputs[float64](chunkLen, "finite", 3)
	l := Loss{}
	p, _ := setup(l, false)
	var acc lanes
	generated.SumF64(p, x, y, &acc)
	if got, want := Sum(l, x, y), finish64(p, &acc, false, len(x)); got != want {
		t.Fatalf("Sum of C elements = %v, one kernel call gives %v", got, want)
	}
}

// allOps runs every operation once on x, y, g (for the allocation and goroutine
// tests).
func allOps[T Float](l Loss, d, x, y, g []T) {
	Elementwise(l, d, x, y)
	Sum(l, x, y)
	Mean(l, x, y)
	Reduce(l, ReductionSum, d, x, y)
	Grad(l, d, x, y, 2)
	GradElementwise(l, d, x, y, g)
	SumAndGrad(l, d, x, y, 2)
	MeanAndGrad(l, d, x, y, 2)
	rowOps(l, d, x, y)
}

// TestThreadsNoAllocs requires zero allocations per call at 2^20 elements with
// threads = 2 (the parallel path), every operation and both types.
func TestThreadsNoAllocs(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Log("GOMAXPROCS < 2: the helper may never run, the count still must be 0")
	}
	n, min, runs := 1<<20, 0, 20
	if testing.Short() { // (under qemu the long form takes minutes)
		n, min, runs = 4*chunkLen+3, chunkLen, 5 // the parallel path all the same
	}
	x32, y32, g32 := boundaryInputs[float32](n, "finite", 1)
	x64, y64, g64 := boundaryInputs[float64](n, "finite", 1)
	d32, d64 := make([]float32, n), make([]float64, n)
	l := mustLoss(t, "huber", 0.5)
	withThreads(2, min, func() {
		if a := testing.AllocsPerRun(runs, func() { allOps(l, d32, x32, y32, g32) }); a != 0 {
			t.Errorf("float32: %v allocations per run of all operations at n = %d with threads = 2", a, n)
		}
		if a := testing.AllocsPerRun(runs, func() { allOps(l, d64, x64, y64, g64) }); a != 0 {
			t.Errorf("float64: %v allocations per run of all operations at n = %d with threads = 2", a, n)
		}
	})
}

// TestThreadsGoroutines checks that the helper pool is fixed: after calls with up
// to 7 threads, many more calls (and concurrent callers) leave the goroutine count
// where it was.
func TestThreadsGoroutines(t *testing.T) {
	n := 4*chunkLen + 3
	x, y, g := boundaryInputs[float64](n, "finite", 2)
	d := make([]float64, n)
	l := Loss{}
	withThreads(7, 1, func() { allOps(l, d, x, y, g) })
	runtime.Gosched()
	before := runtime.NumGoroutine()
	pool.Lock()
	sizeBefore := pool.size
	pool.Unlock()
	calls := 20
	if testing.Short() { // (under qemu the long form takes half a minute)
		calls = 3
	}
	for _, th := range []int{2, 3, 7, 1, 0} {
		withThreads(th, 1, func() {
			for range calls {
				allOps(l, d, x, y, g)
			}
		})
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after the calls, %d before: the pool grew", after, before)
	}
	pool.Lock()
	h := pool.size
	pool.Unlock()
	if h > max(sizeBefore, 6) {
		t.Errorf("%d helpers after calls with at most 7 threads (%d before)", h, sizeBefore)
	}
}

// TestThreadsConcurrentCallers runs calls from several goroutines at once, with
// threads = 3 (run it with -race), each checking its results against threads = 1.
func TestThreadsConcurrentCallers(t *testing.T) {
	n := 3*chunkLen + 5
	l := mustLoss(t, "huber", 2)
	type in struct {
		x, y, g []float32
		want    results[float32]
	}
	ins := make([]in, 4)
	for k := range ins {
		x, y, g := boundaryInputs[float32](n, "finite", 10+k)
		ins[k] = in{x: x, y: y, g: g}
		withThreads(1, 0, func() { ins[k].want = runAll(t, l, x, y, g, 0.5, 0) })
	}
	withThreads(3, 1, func() {
		var wg sync.WaitGroup
		errs := make(chan string, len(ins)*3)
		for k := range ins {
			for rep := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got := runAll(t, l, ins[k].x, ins[k].y, ins[k].g, 0.5, rep)
					if d := diffResults(ins[k].want, got); d != "" {
						errs <- fmt.Sprintf("input %d: %s", k, d)
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})
}

// TestSetThreads checks the setting: the previous value, automatic, and the panic.
func TestSetThreads(t *testing.T) {
	prev := SetThreads(5)
	defer SetThreads(prev)
	if got := Threads(); got != 5 {
		t.Errorf("Threads() = %d after SetThreads(5)", got)
	}
	if got := SetThreads(0); got != 5 {
		t.Errorf("SetThreads(0) returned %d, want 5", got)
	}
	if got, want := Threads(), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("automatic: Threads() = %d, GOMAXPROCS = %d", got, want)
	}
	defer func() {
		msg := fmt.Sprint(recover())
		if !strings.HasPrefix(msg, "smoothl1: ") || !strings.Contains(msg, "-3") {
			t.Errorf("SetThreads(-3) panicked with %q", msg)
		}
		if Threads() != runtime.GOMAXPROCS(0) {
			t.Error("SetThreads(-3) changed the setting")
		}
	}()
	SetThreads(-3)
	t.Error("SetThreads(-3) did not panic")
}

// TestThreadsEnvironment runs this test binary again with SMOOTHL1_THREADS set.
func TestThreadsEnvironment(t *testing.T) {
	if os.Getenv("SMOOTHL1_CHILD") != "" {
		fmt.Printf("threads=%d setting=%d\n", Threads(), threadSetting.Load())
		return
	}
	if testing.Short() {
		t.Skip("spawns the test binary (which fails under qemu-user)")
	}
	for _, c := range []struct{ env, want, stderr string }{
		{"3", "threads=3 setting=3", ""},
		{"0", fmt.Sprintf("threads=%d setting=0", runtime.GOMAXPROCS(0)), ""},
		{"-2", fmt.Sprintf("threads=%d setting=0", runtime.GOMAXPROCS(0)), `SMOOTHL1_THREADS="-2"`},
		{"many", fmt.Sprintf("threads=%d setting=0", runtime.GOMAXPROCS(0)), `SMOOTHL1_THREADS="many"`},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestThreadsEnvironment$", "-test.v")
		cmd.Env = append(os.Environ(), "SMOOTHL1_CHILD=1", "SMOOTHL1_THREADS="+c.env)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("SMOOTHL1_THREADS=%s: %v, stderr %q", c.env, err, stderr.String())
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("SMOOTHL1_THREADS=%s: output %q, want %q", c.env, out, c.want)
		}
		if c.stderr == "" && stderr.Len() != 0 || c.stderr != "" && !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("SMOOTHL1_THREADS=%s: stderr %q", c.env, stderr.String())
		}
	}
}

// TestChunkedLanes compares the raw combined lanes of the Sum and SumGrad kernels
// (before finishing, where the rounding to T would hide a changed order of the
// merges) with refChunkSum, bit for bit, for every implementation and threads = 1,
// 2, 3, 7 and 16, at chunk counts 1 to 9 and 37.
func TestChunkedLanes(t *testing.T) {
	testChunkedLanes[float32](t)
	testChunkedLanes[float64](t)
}

func testChunkedLanes[T Float](t *testing.T) {
	lengths := []int{chunkLen - 1, chunkLen, chunkLen + 1, 3*chunkLen + 5}
	for k := 2; k <= 9; k++ {
		if !testing.Short() || k == 5 || k == 8 {
			lengths = append(lengths, k*chunkLen-3)
		}
	}
	if !testing.Short() {
		lengths = append(lengths, 37*chunkLen+11)
	}
	if raceEnabled {
		lengths = []int{chunkLen + 1, 3*chunkLen + 5, 5*chunkLen - 3}
	}
	l := mustLoss(t, "huber", 1.7)
	for _, n := range lengths {
		x, y, _ := boundaryInputs[T](n, "finite", n+2)
		d := make([]T, n)
		p, _ := setupGrad(l, isF32[T](), 1, 0)
		want := refChunkSum(&p, x, y)
		for _, in := range eachImpl(t) {
			for _, th := range append([]int{1}, threadCounts...) {
				withThreads(th, 1, func() {
					var sum, sumGrad lanes
					if isF32[T]() {
						sum = run(&call{op: opSum32, impl: in.id, n: n, p: p, x32: f32(x), y32: f32(y)})
						sumGrad = run(&call{op: opSumGrad32, impl: in.id, n: n, p: p, d32: f32(d), x32: f32(x), y32: f32(y)})
					} else {
						sum = run(&call{op: opSum64, impl: in.id, n: n, p: p, x64: f64(x), y64: f64(y)})
						sumGrad = run(&call{op: opSumGrad64, impl: in.id, n: n, p: p, d64: f64(d), x64: f64(x), y64: f64(y)})
					}
					for i := range want {
						if isF32[T]() && i >= 16 {
							sum[i] = want[i] // the float32 Sum keeps no m lanes
						}
						if math.Float64bits(sum[i]) != math.Float64bits(want[i]) || math.Float64bits(sumGrad[i]) != math.Float64bits(want[i]) {
							t.Fatalf("%T %s n=%d threads=%d: lane %d is %v (SumGrad %v), the chunked order gives %v", T(0), in.name, n, th, i, sum[i], sumGrad[i], want[i])
						}
					}
				})
			}
		}
	}
}

// TestThreadsInPlace checks dst == x and dst == y on the parallel path (threads = 3)
// against out-of-place results with threads = 1: each goroutine reads its chunks
// before it writes them, and the sums are of the inputs as they were.
func TestThreadsInPlace(t *testing.T) {
	n := 3*chunkLen + 5
	l := mustLoss(t, "huber", 0.5)
	x, y, g := boundaryInputs[float64](n, "finite", 4)
	var wantSum float64
	type op func(dst, x, y []float64)
	ops := map[string]op{
		"Elementwise":     func(d, x, y []float64) { Elementwise(l, d, x, y) },
		"Grad":            func(d, x, y []float64) { Grad(l, d, x, y, 0.75) },
		"GradElementwise": func(d, x, y []float64) { GradElementwise(l, d, x, y, g) },
		"SumAndGrad": func(d, x, y []float64) {
			if s := SumAndGrad(l, d, x, y, 3); s != wantSum {
				t.Errorf("SumAndGrad in place: sum %v, want %v", s, wantSum)
			}
		},
	}
	for name, f := range ops {
		want := make([]float64, n)
		withThreads(1, 0, func() {
			wantSum = Sum(l, x, y)
			f(want, x, y)
		})
		withThreads(3, 1, func() { checkInPlaceOp(t, name, x, y, want, f) })
	}
}

// BenchmarkParallelMin measures where the parallel path starts to pay: every
// operation and type around parallelMin, on one goroutine and on two (parallelMin
// lowered for the run). On a quiet machine:
//
//	go test -run - -bench ParallelMin -count 6 | tee pm.txt
//	benchstat -col /threads pm.txt
func BenchmarkParallelMin(b *testing.B) {
	for _, dtype := range []string{"float32", "float64"} {
		for _, n := range []int{1 << 17, 3 << 16, 1 << 18, 1 << 19} {
			for _, op := range []string{"Elementwise", "Sum", "Grad", "GradElementwise", "SumAndGrad"} {
				for _, th := range []int{1, 2} {
					b.Run(fmt.Sprintf("op=%s/dtype=%s/n=%d/threads=%d", op, dtype, n, th), func(b *testing.B) {
						var f func()
						if dtype == "float32" {
							f = benchOpFunc[float32](op, n)
							b.SetBytes(int64(4 * n * 2))
						} else {
							f = benchOpFunc[float64](op, n)
							b.SetBytes(int64(8 * n * 2))
						}
						withThreads(th, 1, func() {
							for b.Loop() {
								f()
							}
						})
					})
				}
			}
		}
	}
}

func benchOpFunc[T Float](op string, n int) func() {
	x, y, g := boundaryInputs[T](n, "finite", 1)
	d := make([]T, n)
	l := Loss{}
	switch op {
	case "Elementwise":
		return func() { Elementwise(l, d, x, y) }
	case "Sum":
		return func() { Sum(l, x, y) }
	case "Grad":
		return func() { Grad(l, d, x, y, 2) }
	case "GradElementwise":
		return func() { GradElementwise(l, d, x, y, g) }
	}
	return func() { SumAndGrad(l, d, x, y, 2) }
}
