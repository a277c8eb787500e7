// Command bench measures every smoothl1 operation on every implementation usable on
// this machine, against the naive Go loop and a streaming roofline, and writes a
// Markdown report, plots (SVG and PNG) and, with -json, all figures.
//
//	go run -C bench .            # the full sweep, about two minutes
//	go run -C bench . -quick     # about twenty seconds
//	go run -C bench . -ops Sum,Grad -types float32 -n 4096,16777216 -impls avx512,naive,roofline
//	go run -C bench . -torch -ops Sum,MeanAndGrad  # PyTorch as a peer too (torch.go)
//
// With cgo, the plain C loop built by gcc is a peer too, as the implementations
// gcc and gcc-fastmath (peers.go, package cpeer).
//
//	go run -C bench . -ops Sum,Elementwise,SumAndGrad -n 16777216 -threads 1,2
//
// Lengths from 2^20 are also measured on 1 to GOMAXPROCS goroutines (-threads), in a
// section of their own with a plot of GB/s against threads; the main sweep runs on one.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/cpu"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/gokernels/smoothl1"
	"github.com/gokernels/smoothl1/internal/reference"
)

// result is one measured point.
type result struct {
	Op        string  `json:"op"`
	Impl      string  `json:"impl"`
	Dtype     string  `json:"dtype"`
	N         int     `json:"n"`
	NsPerOp   float64 `json:"ns_per_op"`
	NsPerElem float64 `json:"ns_per_element"`
	GBps      float64 `json:"gb_per_s"`
	Threads   int     `json:"threads"` // goroutines (smoothl1.SetThreads); the main sweep runs with 1
	// RoofMedian is the median over the rounds of the roofline's time in a round
	// divided by this one's in the same round (pairedMedian), 0 without a roofline.
	RoofMedian float64 `json:"roofline_share_median,omitempty"`
	// OneMedian (threads section) is the same paired median of the time on one
	// goroutine divided by this one's: the speed-up over threads = 1.
	OneMedian float64 `json:"speedup_median,omitempty"`
}

// pairedMedian returns the median over rounds of base[r]/t[r]: the ratio of two
// measurements taken moments apart in the same round, so that the memory bandwidth
// or clock of that moment, which this shared machine changes from one second to
// the next, reaches both alike. Beside the best of each (which may come from
// different moments), it is the other way to read a ratio on a noisy machine.
func pairedMedian(base, t []float64) float64 {
	rs := make([]float64, len(t))
	for r := range t {
		rs[r] = base[r] / t[r]
	}
	slices.Sort(rs)
	if len(rs)%2 == 1 {
		return rs[len(rs)/2]
	}
	return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
}

func main() {
	opsF := flag.String("ops", strings.Join(allOps, ","), "operations")
	typesF := flag.String("types", "float32,float64", "element types")
	nF := flag.String("n", "", "lengths (default 16,256,4096,65536,1048576,16777216; -quick: 256,4096,1048576)")
	implsF := flag.String("impls", "", "implementations and baselines (default: naive, roofline and every usable implementation)")
	per := flag.Duration("time", 0, "time per point (default 100ms; -quick: 15ms)")
	out := flag.String("out", "bench-out", "output folder for the report and plots")
	quick := flag.Bool("quick", false, "a short sweep: fewer lengths, less time per point")
	jsonF := flag.String("json", "", "also write every figure to this JSON file")
	threadsF := flag.String("threads", "", "thread counts of the threads section, for lengths from 2^20 (default 1 to GOMAXPROCS; \"1\" leaves the section out)")
	flag.Parse()
	threads, err := parseThreads(*threadsF)
	if err != nil {
		fatalf("%v", err)
	}

	lengths := allLengths
	if *quick {
		lengths = []int{256, 4096, 1 << 20}
	}
	if *torchF && !*quick {
		lengths = torchLengths // torch.go
	}
	if *nF != "" {
		lengths = nil
		for _, s := range strings.Split(*nF, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n <= 0 {
				fatalf("bad length %q", s)
			}
			lengths = append(lengths, n)
		}
	}
	if *per == 0 {
		*per = 100 * time.Millisecond
		if *quick {
			*per = 15 * time.Millisecond
		}
	}
	ops := split(*opsF)
	for _, op := range ops {
		if !slices.Contains(allOps, op) {
			fatalf("unknown operation %q (known: %s)", op, strings.Join(allOps, ", "))
		}
	}
	types := split(*typesF)
	impls := implsFor()
	if *implsF != "" {
		impls = split(*implsF)
	}

	var report strings.Builder
	machine(&report)
	peerMachine(&report)
	if startTorch(&report); torch != nil && !slices.Contains(impls, implTorch) { // torch.go
		impls = append(impls, implTorch)
	}
	fmt.Print(report.String())

	// Refuse to report an implementation that disagrees with the scalar reference.
	var good []string
	for _, impl := range impls {
		if impl == implNaive || impl == implRoofline || isPeer(impl) {
			good = append(good, impl)
			continue
		}
		if err := verify(impl); err != nil {
			msg := fmt.Sprintf("NOT REPORTED: %s disagrees with the scalar reference: %v\n", impl, err)
			fmt.Print(msg)
			report.WriteString("\n" + msg)
			continue
		}
		good = append(good, impl)
	}
	fmt.Printf("checked against the exact scalar reference: %s\n\n", strings.Join(good, ", "))

	var results []result
	total := len(types) * len(lengths) * len(ops)
	k := 0
	for _, dtype := range types {
		for _, n := range lengths {
			for _, op := range ops {
				k++
				fmt.Fprintf(os.Stderr, "\r[%d/%d] %-16s %-8s n=%-9d", k, total, op, dtype, n)
				rs, err := measure(op, good, dtype, n, *per)
				if err != nil {
					fatalf("%s %s: %v", op, dtype, err)
				}
				results = append(results, rs...)
			}
		}
	}
	// The threads section: the lengths from threadsMinN, on every thread count.
	var large []int
	for _, n := range lengths {
		if n >= threadsMinN {
			large = append(large, n)
		}
	}
	var threadResults []result
	if len(threads) > 1 || (len(threads) == 1 && threads[0] != 1) {
		total, k = len(types)*len(large)*len(ops), 0
		for _, dtype := range types {
			for _, n := range large {
				for _, op := range ops {
					k++
					fmt.Fprintf(os.Stderr, "\r[threads %d/%d] %-16s %-8s n=%-9d", k, total, op, dtype, n)
					rs, err := measureThreads(op, good, dtype, n, *per, threads)
					if err != nil {
						fatalf("%s %s: %v", op, dtype, err)
					}
					threadResults = append(threadResults, rs...)
				}
			}
		}
	}
	setImpl("")
	fmt.Fprintln(os.Stderr)
	stopTorch()

	tables(&report, results, ops, types, lengths, good)
	if len(threadResults) > 0 {
		threadsTable(&report, threadResults)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fatalf("%v", err)
	}
	fmt.Print(report.String()[strings.Index(report.String(), "\n## "):])
	plots := plotAll(*out, results, ops, types, good)
	if len(threadResults) > 0 {
		plots += plotThreads(*out, threadResults, ops, types, large)
	}
	if err := os.WriteFile(filepath.Join(*out, "report.md"), []byte(report.String()), 0o644); err != nil {
		fatalf("%v", err)
	}
	if *jsonF != "" {
		b, _ := json.MarshalIndent(append(results, threadResults...), "", " ")
		if err := os.WriteFile(*jsonF, b, 0o644); err != nil {
			fatalf("%v", err)
		}
	}
	fmt.Printf("\nwrote %s/report.md and %d plots (SVG and PNG) to %s\n", *out, plots, *out)
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", a...)
	os.Exit(1)
}

// machine writes what the figures depend on.
func machine(w *strings.Builder) {
	model := runtime.GOARCH
	emu := false
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(l[strings.Index(l, ":")+1:])
				break
			}
		}
		emu = emulated(string(b))
	}
	goamd64 := "v1"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOAMD64" {
				goamd64 = s.Value
			}
		}
	}
	if v := os.Getenv("GOAMD64"); v != "" {
		goamd64 = v
	}
	fmt.Fprintf(w, "# smoothl1 benchmark report\n\n")
	if emu {
		const note = "EMULATED: this %s binary runs under a user-mode emulator (e.g. qemu-%s) on a host of another architecture, whose CPU is the one named below: the timings in this report mean nothing about any real %s CPU. Count executed instructions instead: go run ./internal/inscount (arm64).\n"
		fmt.Fprintf(os.Stderr, "bench: "+note, runtime.GOARCH, emuName(), runtime.GOARCH)
		fmt.Fprintf(w, "- **"+strings.TrimSuffix(note, "\n")+"**\n", runtime.GOARCH, emuName(), runtime.GOARCH)
	}
	fmt.Fprintf(w, "- CPU: %s (%d logical CPUs), %s/%s\n", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	if runtime.GOARCH == "amd64" {
		fmt.Fprintf(w, "- features: AVX2=%v FMA=%v AVX512F=%v AVX512VL=%v AVX512DQ=%v AVX512BW=%v\n",
			cpu.X86.HasAVX2, cpu.X86.HasFMA, cpu.X86.HasAVX512F, cpu.X86.HasAVX512VL, cpu.X86.HasAVX512DQ, cpu.X86.HasAVX512BW)
	}
	fmt.Fprintf(w, "- Go: %s, GOAMD64=%s\n", runtime.Version(), goamd64)
	fmt.Fprintf(w, "- dispatch chose %s: the first usable of %s (avx512 needs AVX-512 F+VL, avx2 needs AVX2+FMA, neon needs ASIMD)\n",
		smoothl1.Implementation(), strings.Join(smoothl1.Implementations(), ", "))
	if note := prefetchNote(); note != "" {
		fmt.Fprintf(w, "- the avx512 kernels' software prefetching (loop copy): %s; impl avx512/prefetch=on|off forces it\n", note)
	}
	fmt.Fprintf(w, "- inputs: x, y ~ N(0,1), SmoothL1Loss(beta=1); each point cycles through several input sets so that no branch predictor learns them\n\n")
}

// emulated reports whether this binary runs under a user-mode emulator such as
// qemu-aarch64 on an x86 host: /proc/cpuinfo then describes the host, whose
// architecture is not the binary's (x86 lists a vendor_id, arm64 a CPU implementer).
func emulated(cpuinfo string) bool {
	x86 := strings.Contains(cpuinfo, "vendor_id")
	arm := strings.Contains(cpuinfo, "CPU implementer")
	switch runtime.GOARCH {
	case "amd64", "386":
		return arm && !x86
	case "arm64", "arm":
		return x86 && !arm
	}
	return false
}

// emuName is the qemu user-mode emulator of this architecture.
func emuName() string {
	if runtime.GOARCH == "arm64" {
		return "aarch64"
	}
	if runtime.GOARCH == "amd64" {
		return "x86_64"
	}
	return runtime.GOARCH
}

// roundsF overrides the number of rounds of a point: on a busy machine, more
// rounds give the best of them more chances to fall in a quiet moment.
var roundsF = flag.Int("rounds", 0, "rounds per point of the main sweep, each implementation once per round (default 5; 9 from 2^20 elements; the Threads section always takes 9)")

// measure times one point: the best of three batches of at least per/3 each.
func measure(op string, impls []string, dtype string, n int, per time.Duration) ([]result, error) {
	size := 4
	if dtype == "float64" {
		size = 8
	}
	runs := make([]func(), len(impls))
	ops := make([]int, len(impls)) // operations per run (peers.go)
	for i, impl := range impls {
		var err error
		switch dtype {
		case "float32":
			runs[i], ops[i], err = pointN[float32](op, impl, n)
		case "float64":
			runs[i], ops[i], err = pointN[float64](op, impl, n)
		default:
			return nil, fmt.Errorf("unknown type %q", dtype)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", impl, err)
		}
	}
	// point forces the implementation process-wide; force it again before each batch.
	// The main sweep runs on one goroutine; the threads section measures the others.
	defer smoothl1.SetThreads(smoothl1.SetThreads(1))
	use := func(impl string) {
		if impl != implNaive && impl != implRoofline && !isPeer(impl) {
			setImpl(impl)
		}
	}
	// Size each implementation's batch to a sixth of the time per point, reading the
	// clock per batch, never per call.
	batches := make([]int, len(impls))
	for i, run := range runs {
		if run == nil {
			continue // a peer without the operation
		}
		use(impls[i])
		run() // warm up
		batch := 1
		for {
			start := time.Now()
			for j := 0; j < batch; j++ {
				run()
			}
			if time.Since(start) >= per/6 || batch >= 1<<30 {
				break
			}
			batch *= 2
		}
		batches[i] = batch
	}
	// Then take the best of five rounds (nine from 2^20 elements on, where memory
	// bandwidth, shared with other machines, varies most), the implementations
	// interleaved within each round and each round starting with the next one, so
	// that a change in the machine's memory bandwidth or clock during the point
	// reaches every implementation and the roofline alike, and their ratios
	// compare like with like.
	best := make([]float64, len(impls))
	times := make([][]float64, len(impls)) // per round, for pairedMedian
	for i := range best {
		best[i] = math.Inf(1)
	}
	rounds := 5
	if n >= 1<<20 {
		rounds = 9
	}
	if *roundsF > 0 {
		rounds = *roundsF
	}
	for round := 0; round < rounds; round++ {
		for j := range runs {
			i := (j + round) % len(runs)
			run := runs[i]
			if run == nil {
				continue
			}
			use(impls[i])
			batch := batches[i]
			start := time.Now()
			for j := 0; j < batch; j++ {
				run()
			}
			t := float64(time.Since(start).Nanoseconds()) / float64(batch*ops[i])
			best[i] = min(best[i], t)
			times[i] = append(times[i], t)
		}
	}
	roof := slices.Index(impls, implRoofline)
	var rs []result
	for i, impl := range impls {
		if runs[i] == nil {
			continue
		}
		r := result{Op: op, Impl: impl, Dtype: dtype, N: n, Threads: 1, NsPerOp: best[i], NsPerElem: best[i] / float64(n),
			GBps: float64(bytesMoved(op, n, size)) / best[i]}
		if roof >= 0 && runs[roof] != nil {
			r.RoofMedian = pairedMedian(times[roof], times[i])
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// verify checks an implementation against the exact scalar reference on a small
// input: Sum within 1 ulp, Elementwise and Grad within 2 ulp.
func verify(impl string) error {
	if err := setImpl(impl); err != nil {
		return err
	}
	defer setImpl("")
	sl, _ := smoothl1.SmoothL1(1)
	hu, _ := smoothl1.Huber(0.5)
	for _, l := range []smoothl1.Loss{sl, hu} {
		if err := verifyT[float32](l); err != nil {
			return err
		}
		if err := verifyT[float64](l); err != nil {
			return err
		}
	}
	return nil
}

func verifyT[T smoothl1.Float](l smoothl1.Loss) error {
	r := rand.New(rand.NewPCG(3, 4))
	n := 1003
	x, y, d, g := make([]T, n), make([]T, n), make([]T, n), make([]T, n)
	for i := range x {
		x[i], y[i] = T(r.NormFloat64()*2), T(r.NormFloat64())
	}
	ref, ok := reference.New(l.IsHuber(), float64(T(l.Param())))
	if !ok {
		return fmt.Errorf("no exact reference for %s", l)
	}
	sum := new(big.Rat)
	smoothl1.Elementwise(l, d, x, y)
	smoothl1.Grad(l, g, x, y, 1)
	for i := range x {
		xr, yr := new(big.Rat).SetFloat64(float64(x[i])), new(big.Rat).SetFloat64(float64(y[i]))
		v, gr := ref.Loss(xr, yr), ref.Deriv(xr, yr)
		sum.Add(sum, v)
		if u := ulpsTo(d[i], v); u > 2 {
			return fmt.Errorf("%T %s Elementwise[%d] = %v: %v ulp from exact", T(0), l, i, d[i], u)
		}
		if u := ulpsTo(g[i], gr); u > 2 {
			return fmt.Errorf("%T %s Grad[%d] = %v: %v ulp from exact", T(0), l, i, g[i], u)
		}
	}
	if u := ulpsTo(smoothl1.Sum(l, x, y), sum); u > 1 {
		return fmt.Errorf("%T %s Sum: %v ulp from exact", T(0), l, u)
	}
	return nil
}

// ulpsTo returns the distance of got from the exact value rounded to T, in ulps of T.
func ulpsTo[T smoothl1.Float](got T, exact *big.Rat) float64 {
	var want, step float64
	if _, ok := any(got).(float32); ok {
		w, _ := exact.Float32()
		want, step = float64(w), float64(math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1)))-float32(math.Abs(float64(w))))
	} else {
		w, _ := exact.Float64()
		want, step = w, math.Nextafter(math.Abs(w), math.Inf(1))-math.Abs(w)
	}
	return math.Round(math.Abs(float64(got)-want) / step)
}

// tables writes one Markdown table per operation.
func tables(w *strings.Builder, rs []result, ops, types []string, lengths []int, impls []string) {
	find := func(op, impl, dtype string, n int) *result {
		for i := range rs {
			if r := &rs[i]; r.Op == op && r.Impl == impl && r.Dtype == dtype && r.N == n {
				return r
			}
		}
		return nil
	}
	for _, op := range ops {
		peers := peersOf(rs, op, impls) // a column "x peer" each (peers.go)
		fmt.Fprintf(w, "\n## %s\n\n", op)
		fmt.Fprintf(w, "| dtype | n | impl | ns/element | GB/s | %% of roofline | paired | x naive | x generic |%s\n", peerHeader(peers))
		fmt.Fprintf(w, "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |%s\n", strings.Repeat(" ---: |", len(peers)))
		for _, dtype := range types {
			for _, n := range lengths {
				roof, naive, gen := find(op, implRoofline, dtype, n), find(op, implNaive, dtype, n), find(op, "generic", dtype, n)
				for _, impl := range impls {
					r := find(op, impl, dtype, n)
					if r == nil {
						continue
					}
					ratio := func(base *result) string {
						if base == nil {
							return "-"
						}
						return fmt.Sprintf("%.2f", base.NsPerOp/r.NsPerOp)
					}
					pct, paired := "-", "-"
					if roof != nil {
						pct = fmt.Sprintf("%.0f%%", 100*r.GBps/roof.GBps)
					}
					if r.RoofMedian > 0 {
						paired = fmt.Sprintf("%.0f%%", 100*r.RoofMedian)
					}
					var cols strings.Builder
					for _, p := range peers {
						fmt.Fprintf(&cols, " %s |", ratio(find(op, p, dtype, n)))
					}
					fmt.Fprintf(w, "| %s | %d | %s | %.3f | %.1f | %s | %s | %s | %s |%s\n", dtype, n, impl, r.NsPerElem, r.GBps, pct, paired, ratio(naive), ratio(gen), cols.String())
				}
			}
		}
	}
}

// plotAll writes GB/s against length, one line per implementation, per operation
// and type, as SVG and PNG. It returns the number of plots.
func plotAll(dir string, rs []result, ops, types, impls []string) int {
	count := 0
	for _, op := range ops {
		for _, dtype := range types {
			p := plot.New()
			p.Title.Text = fmt.Sprintf("smoothl1 %s, %s", op, dtype)
			p.X.Label.Text = "n (elements)"
			p.Y.Label.Text = "GB/s"
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
			p.Legend.Top = true
			var lines []any
			for _, impl := range impls {
				var pts plotter.XYs
				for _, r := range rs {
					if r.Op == op && r.Dtype == dtype && r.Impl == impl {
						pts = append(pts, plotter.XY{X: float64(r.N), Y: r.GBps})
					}
				}
				if len(pts) > 0 {
					lines = append(lines, impl, pts)
				}
			}
			if len(lines) == 0 {
				continue
			}
			if err := plotutil.AddLinePoints(p, lines...); err != nil {
				fatalf("plot: %v", err)
			}
			for _, ext := range []string{"svg", "png"} {
				name := filepath.Join(dir, fmt.Sprintf("%s-%s.%s", strings.ToLower(op), dtype, ext))
				if err := p.Save(7*vg.Inch, 4.5*vg.Inch, name); err != nil {
					fatalf("plot: %v", err)
				}
			}
			count++
		}
	}
	return count
}
