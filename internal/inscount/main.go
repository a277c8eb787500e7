// Command inscount reports the arm64 instructions that each smoothl1 operation
// executes per element, under qemu-aarch64, for the neon and generic
// implementations: a measure of the NEON kernels' speed where there is no arm64
// hardware (it ignores latencies, memory and the width of the core).
//
//	go run ./internal/inscount                 # every operation, float32 and float64, n = 4096
//	go run ./internal/inscount -n 1000 -ops Sum,Grad -types float64
//
// It builds itself for arm64 and runs that binary once per operation, type and
// implementation under qemu-aarch64 -d in_asm,exec,nochain, which logs every
// translation block when it is translated (with its instructions) and every time
// it is executed. The child calls the operation once (warm-up), then calls a marker
// function, runs the operation -reps times, and calls the marker again; the parent
// sums the instructions of the blocks that the child's thread executed between the
// two markers and divides by reps * n. GOGC=off keeps the collector out of that
// window, GODEBUG=asyncpreemptoff=1 the preemption signals (their handler would run
// on the measured thread). The log goes through a pipe, never to disk.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/gokernels/smoothl1"
)

var allOps = []string{"Elementwise", "Sum", "Mean", "Grad", "GradElementwise", "SumAndGrad", "MeanAndGrad",
	"WeightedSum", "WeightedMean", "WeightedSumAndGrad", "WeightedMeanAndGrad", "RowSums", "RowMeans", "RowGrad", "RowSums4", "RowMeans4", "RowSums3", "RowMeans3", "RowSums2", "RowMeans2", "RowSums1", "RowMeans1"}

// cols is the row length of the per-row operations (n/cols rows; RowSums4 and
// RowMeans4: rows of 4, RowSums3 and RowMeans3: rows of 3 (the whole rows of the n
// elements), RowSums2 and RowMeans2: rows of 2, RowSums1 and RowMeans1: rows of 1,
// the row kernels); the weighted operations take g as their weights.
const cols = 64

// Targets: neon at most this fraction of generic's instructions per element.
var targets = map[string]float64{"float64": 0.40, "float32": 0.35}

// opTargets overrides targets for an operation and type whose generic path is not
// the portable kernel of the same family: float32 rows of 4 (and 3) columns take the
// per-row Go path on generic (faster there than the portable RowSums4 kernel,
// rows_short.go), which NEON took too before its RowSums4 (RowSums3) kernel; NEON
// runs 0.39 (0.35) of its instructions.
var opTargets = map[string]float64{"RowSums4 float32": 0.45, "RowMeans4 float32": 0.45,
	"RowSums3 float32": 0.45, "RowMeans3 float32": 0.45}

// target returns the target of operation op on type typ, if it has one.
func target(op, typ string) (float64, bool) {
	if t, ok := opTargets[op+" "+typ]; ok {
		return t, true
	}
	t, ok := targets[typ]
	return t, ok
}

func main() {
	child := flag.String("child", "", "internal: run op,type under measurement")
	n := flag.Int("n", 4096, "elements per call")
	reps := flag.Int("reps", 4, "calls between the markers")
	opsF := flag.String("ops", strings.Join(allOps, ","), "operations")
	typesF := flag.String("types", "float32,float64", "element types")
	implsF := flag.String("impls", "neon,generic", "implementations (the first is compared against the last)")
	flag.Parse()
	if *child != "" {
		op, typ, _ := strings.Cut(*child, ",")
		runChild(op, typ, *n, *reps)
		return
	}
	if _, err := exec.LookPath("qemu-aarch64"); err != nil {
		fail("qemu-aarch64 not found (Debian: qemu-user)")
	}
	dir, err := os.MkdirTemp("", "inscount-")
	check(err)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "inscount-arm64")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/inscount")
	cmd.Env = append(os.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fail(fmt.Sprintf("building for arm64 (run from the repository root): %v\n%s", err, out))
	}
	impls := strings.Split(*implsF, ",")
	ver, _ := exec.Command("qemu-aarch64", "--version").Output()
	v, _, _ := strings.Cut(string(ver), "\n")
	fmt.Printf("arm64 instructions executed per element under %s, n = %d, SmoothL1(1), %d calls, %s\n", v, *n, *reps, runtime.Version())
	fmt.Printf("(the weighted operations: weights in [0, 1); the per-row operations: rows of %d elements)\n\n", cols)
	head := "| operation | type |"
	sep := "| --- | --- |"
	for _, im := range impls {
		head += " " + im + " |"
		sep += " ---: |"
	}
	if len(impls) > 1 {
		head += fmt.Sprintf(" %s / %s | target |", impls[0], impls[len(impls)-1])
		sep += " ---: | --- |"
	}
	fmt.Println(head)
	fmt.Println(sep)
	missed := 0
	for _, typ := range strings.Split(*typesF, ",") {
		for _, op := range strings.Split(*opsF, ",") {
			row := fmt.Sprintf("| %s | %s |", op, typ)
			var per []float64
			for _, im := range impls {
				c := measure(dir, bin, op, typ, im, *n, *reps)
				per = append(per, c)
				row += fmt.Sprintf(" %.2f |", c)
			}
			if len(per) > 1 {
				r := per[0] / per[len(per)-1]
				ok := "ok"
				t, has := target(op, typ)
				if has && r > t {
					ok = "MISSED"
					missed++
				}
				row += fmt.Sprintf(" %.3f | <= %.2f %s |", r, t, ok)
			}
			fmt.Println(row)
		}
	}
	if missed > 0 {
		fmt.Printf("\n%d operations miss their target\n", missed)
		os.Exit(1)
	}
}

// measure runs the child under qemu and returns the instructions per element.
func measure(dir, bin, op, typ, impl string, n, reps int) float64 {
	fifo := filepath.Join(dir, "log")
	os.Remove(fifo)
	check(syscall.Mkfifo(fifo, 0o600))
	cmd := exec.Command("qemu-aarch64", "-d", "in_asm,exec,nochain", "-D", fifo, bin,
		"-child", op+","+typ, "-n", strconv.Itoa(n), "-reps", strconv.Itoa(reps))
	cmd.Env = append(os.Environ(), "SMOOTHL1_IMPL="+impl, "GOGC=off", "GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1")
	cmd.Stderr = os.Stderr
	var out strings.Builder
	cmd.Stdout = &out
	check(cmd.Start())
	f, err := os.Open(fifo)
	check(err)
	count, err := count(f)
	f.Close()
	check(err)
	if err := cmd.Wait(); err != nil {
		fail(fmt.Sprintf("%s %s %s: %v\n%s", op, typ, impl, err, out.String()))
	}
	if got := strings.TrimSpace(out.String()); got != "impl="+impl {
		fail(fmt.Sprintf("%s %s: asked for %s, the child ran %q", op, typ, impl, got))
	}
	return float64(count) / float64(reps*n)
}

// count reads a qemu -d in_asm,exec,nochain log and returns the guest instructions
// executed by the marker's thread between the first and second execution of the
// marker function's first block.
func count(f *os.File) (int64, error) {
	sc := bufio.NewScanner(bufio.NewReaderSize(f, 1<<20))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	size := map[uint64]int64{} // block start -> instructions
	var cur uint64             // the block being listed by in_asm
	inBlock := false
	marks := 0
	cpu := ""
	var total int64
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "IN:"):
			inBlock, cur = true, 0
		case inBlock && strings.HasPrefix(line, "0x"):
			addr, _, _ := strings.Cut(line, ":")
			a, err := strconv.ParseUint(addr[2:], 16, 64)
			if err != nil {
				return 0, fmt.Errorf("bad in_asm line %q", line)
			}
			if cur == 0 {
				cur = a
				size[cur] = 0
			}
			size[cur]++
		case strings.HasPrefix(line, "Trace "):
			inBlock = false
			// Trace <cpu>: <host> [<cs_base>/<pc>/<flags>/<cflags>] <symbol>
			c, rest, _ := strings.Cut(strings.TrimPrefix(line, "Trace "), ":")
			_, rest, _ = strings.Cut(rest, "[")
			fields := strings.Split(rest, "/")
			if len(fields) < 2 {
				return 0, fmt.Errorf("bad exec line %q", line)
			}
			pc, err := strconv.ParseUint(fields[1], 16, 64)
			if err != nil {
				return 0, fmt.Errorf("bad exec line %q", line)
			}
			if strings.HasSuffix(line, "main.marker") {
				if marks == 0 || c == cpu {
					marks++
					cpu = c
				}
				if marks == 2 {
					// Drain the rest, so that qemu can finish writing.
					for sc.Scan() {
					}
					return total, sc.Err()
				}
				continue
			}
			if marks == 1 && c == cpu {
				s, ok := size[pc]
				if !ok {
					return 0, fmt.Errorf("block at %#x executed before it was listed", pc)
				}
				total += s
			}
		default:
			if line == "" {
				inBlock = false
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("found %d markers in the log, want 2", marks)
}

//go:noinline
func marker() {}

func runChild(op, typ string, n, reps int) {
	runtime.LockOSThread()
	l, err := smoothl1.SmoothL1(1)
	check(err)
	r := rand.New(rand.NewPCG(1, 2))
	x64, y64, g64 := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range x64 {
		// |x - y| on both sides of beta = 1.
		x64[i], y64[i], g64[i] = 4*r.Float64()-2, 4*r.Float64()-2, r.Float64()
	}
	var call func()
	if typ == "float32" {
		x, y, g, d := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i], g[i] = float32(x64[i]), float32(y64[i]), float32(g64[i])
		}
		call = opCall(l, op, d, x, y, g)
	} else {
		call = opCall(l, op, make([]float64, n), x64, y64, g64)
	}
	call()
	marker()
	for i := 0; i < reps; i++ {
		call()
	}
	marker()
	fmt.Fprintln(io.Discard, sink) // the results are used
	fmt.Println("impl=" + smoothl1.Implementation())
}

var sink float64

func opCall[T smoothl1.Float](l smoothl1.Loss, op string, d, x, y, g []T) func() {
	switch op {
	case "Elementwise":
		return func() { smoothl1.Elementwise(l, d, x, y) }
	case "Sum":
		return func() { sink += float64(smoothl1.Sum(l, x, y)) }
	case "Mean":
		return func() { sink += float64(smoothl1.Mean(l, x, y)) }
	case "Grad":
		return func() { smoothl1.Grad(l, d, x, y, 1) }
	case "GradElementwise":
		return func() { smoothl1.GradElementwise(l, d, x, y, g) }
	case "SumAndGrad":
		return func() { sink += float64(smoothl1.SumAndGrad(l, d, x, y, 1)) }
	case "MeanAndGrad":
		return func() { sink += float64(smoothl1.MeanAndGrad(l, d, x, y, 1)) }
	case "WeightedSum":
		return func() { sink += float64(smoothl1.WeightedSum(l, x, y, g)) }
	case "WeightedMean":
		return func() { sink += float64(smoothl1.WeightedMean(l, x, y, g)) }
	case "WeightedSumAndGrad":
		return func() { sink += float64(smoothl1.WeightedSumAndGrad(l, d, x, y, g, 1)) }
	case "WeightedMeanAndGrad":
		return func() { sink += float64(smoothl1.WeightedMeanAndGrad(l, d, x, y, g, 1)) }
	case "RowSums":
		return func() { smoothl1.RowSums(l, d[:len(x)/cols], x, y, cols) }
	case "RowMeans":
		return func() { smoothl1.RowMeans(l, d[:len(x)/cols], x, y, cols) }
	case "RowGrad":
		return func() { smoothl1.RowGrad(l, d, x, y, g[:len(x)/cols], cols) }
	case "RowSums4":
		return func() { smoothl1.RowSums(l, d[:len(x)/4], x, y, 4) }
	case "RowMeans4":
		return func() { smoothl1.RowMeans(l, d[:len(x)/4], x, y, 4) }
	case "RowSums3":
		m := len(x) / 3
		return func() { smoothl1.RowSums(l, d[:m], x[:3*m], y[:3*m], 3) }
	case "RowMeans3":
		m := len(x) / 3
		return func() { smoothl1.RowMeans(l, d[:m], x[:3*m], y[:3*m], 3) }
	case "RowSums2":
		return func() { smoothl1.RowSums(l, d[:len(x)/2], x, y, 2) }
	case "RowMeans2":
		return func() { smoothl1.RowMeans(l, d[:len(x)/2], x, y, 2) }
	case "RowSums1":
		return func() { smoothl1.RowSums(l, d, x, y, 1) }
	case "RowMeans1":
		return func() { smoothl1.RowMeans(l, d, x, y, 1) }
	}
	fail("unknown operation " + op)
	return nil
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "inscount:", msg)
	os.Exit(2)
}
