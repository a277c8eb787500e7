package main

import (
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/gokernels/smoothl1"
)

// The threads dimension of the report: large inputs measured with 1 to GOMAXPROCS
// goroutines (smoothl1.SetThreads), against a streaming roofline that runs on as many
// goroutines over the same bytes. The main sweep runs with threads = 1.

// threadsMinN is the shortest length the threads section measures.
const threadsMinN = 1 << 20

// parseThreads parses the -threads flag: a list of thread counts, or "" for 1 to
// GOMAXPROCS.
func parseThreads(s string) ([]int, error) {
	if s == "" {
		var ts []int
		for t := 1; t <= runtime.GOMAXPROCS(0); t++ {
			ts = append(ts, t)
		}
		return ts, nil
	}
	var ts []int
	for _, f := range split(s) {
		t, err := strconv.Atoi(f)
		if err != nil || t < 1 {
			return nil, fmt.Errorf("bad thread count %q", f)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// rooflineParallel moves the bytes of op on set s with t goroutines, each streaming
// its own contiguous share (at multiples of 4 KiB), as the roofline of point does
// with one, and returns the checksum of what it read.
func rooflineParallel[T smoothl1.Float](op string, s *set[T], t int) (sum uint64) {
	var mu sync.Mutex
	sinkPart := func(v uint64) {
		mu.Lock()
		sum ^= v
		mu.Unlock()
	}
	asm := smoothl1.Implementations()[0] != "generic" // as point's roofline
	x, y, g, dst := bytes(s.x), bytes(s.y), bytes(s.g), bytes(s.dst)
	part := func(lo, hi int) {
		cut := func(b []byte, div int) []byte { // a set may lack g or dst (op does not move them)
			if b == nil {
				return nil
			}
			return b[lo/div : hi/div]
		}
		sinkPart(rooflineMove(asm, op, cut(dst, outDiv(op)), x[lo:hi], y[lo:hi], cut(g, 1)))
	}
	n := len(x)
	share := (n/t + 4095) &^ 4095
	var wg sync.WaitGroup
	for lo := share; lo < n; lo += share {
		wg.Add(1)
		go func(lo int) {
			defer wg.Done()
			part(lo, min(lo+share, n))
		}(lo)
	}
	part(0, min(share, n))
	wg.Wait()
	return sum
}

// threadRunner is one line of the threads section: an implementation (or the
// roofline) at a number of goroutines.
type threadRunner struct {
	impl    string
	threads int
	run     func()
}

// measureThreads times op on every implementation and the roofline, at every thread
// count, interleaved as measure does, and returns the results with Threads set.
func measureThreads(op string, impls []string, dtype string, n int, per time.Duration, threads []int) ([]result, error) {
	size := 4
	if dtype == "float64" {
		size = 8
	}
	var runners []threadRunner
	for _, impl := range impls {
		if impl == implNaive || isPeer(impl) {
			continue
		}
		for _, t := range threads {
			var run func()
			var err error
			if impl == implRoofline {
				if dtype == "float32" {
					run = rooflineRunner[float32](op, n, t)
				} else {
					run = rooflineRunner[float64](op, n, t)
				}
			} else if dtype == "float32" {
				run, err = point[float32](op, impl, n)
			} else {
				run, err = point[float64](op, impl, n)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %v", impl, err)
			}
			runners = append(runners, threadRunner{impl, t, run})
		}
	}
	defer smoothl1.SetThreads(smoothl1.SetThreads(0))
	use := func(r threadRunner) {
		if r.impl != implRoofline {
			setImpl(r.impl)
			smoothl1.SetThreads(r.threads)
		}
	}
	batches := make([]int, len(runners))
	for i, r := range runners {
		use(r)
		r.run()
		batch := 1
		for {
			start := time.Now()
			for j := 0; j < batch; j++ {
				r.run()
			}
			if time.Since(start) >= per/6 || batch >= 1<<30 {
				break
			}
			batch *= 2
		}
		batches[i] = batch
	}
	best := make([]float64, len(runners))
	times := make([][]float64, len(runners)) // per round, for pairedMedian
	for i := range best {
		best[i] = math.Inf(1)
	}
	for round := 0; round < 9; round++ {
		for j := range runners {
			i := (j + round) % len(runners)
			use(runners[i])
			start := time.Now()
			for k := 0; k < batches[i]; k++ {
				runners[i].run()
			}
			t := float64(time.Since(start).Nanoseconds()) / float64(batches[i])
			best[i] = min(best[i], t)
			times[i] = append(times[i], t)
		}
	}
	rs := make([]result, len(runners))
	for i, r := range runners {
		rs[i] = result{Op: op, Impl: r.impl, Dtype: dtype, N: n, Threads: r.threads, NsPerOp: best[i],
			NsPerElem: best[i] / float64(n), GBps: float64(bytesMoved(op, n, size)) / best[i]}
		for k, q := range runners {
			if q.impl == implRoofline && q.threads == r.threads {
				rs[i].RoofMedian = pairedMedian(times[k], times[i])
			}
			if q.impl == r.impl && q.threads == 1 {
				rs[i].OneMedian = pairedMedian(times[k], times[i])
			}
		}
	}
	return rs, nil
}

// rooflineRunner returns the roofline of op at n elements on t goroutines, cycling
// through the input sets as point does.
func rooflineRunner[T smoothl1.Float](op string, n, t int) func() {
	sets := ring[T](n).sets
	next := 0
	var sink uint64
	return func() {
		sink ^= rooflineParallel(op, &sets[next], t)
		runtime.KeepAlive(sink) // the checksum is used: the reads cannot be dropped
		next = (next + 1) % len(sets)
	}
}

// threadsTable writes the threads section: for each operation, type and length, every
// implementation at every thread count, its speed-up over threads = 1 and its share
// of the roofline at the same thread count.
func threadsTable(w *strings.Builder, rs []result) {
	find := func(op, impl, dtype string, n, t int) *result {
		for i := range rs {
			if r := &rs[i]; r.Op == op && r.Impl == impl && r.Dtype == dtype && r.N == n && r.Threads == t {
				return r
			}
		}
		return nil
	}
	fmt.Fprintf(w, "\n## Threads\n\n")
	fmt.Fprintf(w, "Large inputs on 1 to %d goroutines (smoothl1.SetThreads); the roofline streams the same bytes on as many goroutines. Every thread count returns the same bits.\n\n", runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "The best round of each gives ns/element, GB/s, x threads=1 and %% of roofline; the paired columns give the median over the rounds of the same ratios taken within one round (pairedMedian).\n\n")
	fmt.Fprintf(w, "| op | dtype | n | impl | threads | ns/element | GB/s | x threads=1 | paired | %% of roofline | paired |\n")
	fmt.Fprintf(w, "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rs {
		one := find(r.Op, r.Impl, r.Dtype, r.N, 1)
		roof := find(r.Op, implRoofline, r.Dtype, r.N, r.Threads)
		speed, pct, speedM, pctM := "-", "-", "-", "-"
		if one != nil {
			speed = fmt.Sprintf("%.2f", one.NsPerOp/r.NsPerOp)
		}
		if roof != nil {
			pct = fmt.Sprintf("%.0f%%", 100*r.GBps/roof.GBps)
		}
		if r.OneMedian > 0 {
			speedM = fmt.Sprintf("%.2f", r.OneMedian)
		}
		if r.RoofMedian > 0 {
			pctM = fmt.Sprintf("%.0f%%", 100*r.RoofMedian)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %d | %.3f | %.1f | %s | %s | %s | %s |\n", r.Op, r.Dtype, r.N, r.Impl, r.Threads, r.NsPerElem, r.GBps, speed, speedM, pct, pctM)
	}
}

// plotThreads writes GB/s against threads, per type and length: one line per
// operation on the implementation dispatch chose, and the roofline of each kind of
// traffic. It returns the number of plots.
func plotThreads(dir string, rs []result, ops, types []string, lengths []int) int {
	auto := smoothl1.Implementations()[0]
	count := 0
	for _, dtype := range types {
		for _, n := range lengths {
			p := plot.New()
			p.Title.Text = fmt.Sprintf("smoothl1 %s, n = %d, %s: GB/s against threads", auto, n, dtype)
			p.X.Label.Text = "threads"
			p.Y.Label.Text = "GB/s"
			p.Legend.Top = true
			p.Legend.Left = true
			var lines []any
			roofs := map[string]bool{}
			for _, op := range ops {
				for _, impl := range []string{auto, implRoofline} {
					name := op
					if impl == implRoofline {
						r, wr := traffic(op)
						name = fmt.Sprintf("roofline %dR+%dW", r, wr)
						if d := outDiv(op); d > 1 && wr > 0 {
							name = fmt.Sprintf("roofline %dR+W/%d", r, d)
						}
						if roofs[name] {
							continue
						}
						roofs[name] = true
					}
					var pts plotter.XYs
					for _, r := range rs {
						if r.Op == op && r.Impl == impl && r.Dtype == dtype && r.N == n {
							pts = append(pts, plotter.XY{X: float64(r.Threads), Y: r.GBps})
						}
					}
					if len(pts) > 0 {
						lines = append(lines, name, pts)
					}
				}
			}
			if len(lines) == 0 {
				continue
			}
			if err := plotutil.AddLinePoints(p, lines...); err != nil {
				fatalf("plot: %v", err)
			}
			// Whole thread counts on the x axis, and GB/s from 0.
			var ticks []plot.Tick
			for _, r := range rs {
				if r.Dtype == dtype && r.N == n && (len(ticks) == 0 || float64(r.Threads) > ticks[len(ticks)-1].Value) {
					ticks = append(ticks, plot.Tick{Value: float64(r.Threads), Label: strconv.Itoa(r.Threads)})
				}
			}
			p.X.Tick.Marker = plot.ConstantTicks(ticks)
			p.Y.Min = 0
			for _, ext := range []string{"svg", "png"} {
				name := filepath.Join(dir, fmt.Sprintf("threads-%s-n%d.%s", dtype, n, ext))
				if err := p.Save(7*vg.Inch, 4.5*vg.Inch, name); err != nil {
					fatalf("plot: %v", err)
				}
			}
			count++
		}
	}
	return count
}
