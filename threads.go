package smoothl1

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gokernels/smoothl1/generated"
)

// This file runs large calls on several goroutines. A call is cut into tasks, each an
// aligned run of a power-of-two number of chunks of the chunk grid (kernels.go), and
// the last run shorter; the calling goroutine and helpers from a fixed pool take the
// tasks in turn. A task of a kernel with accumulators reduces its chunks to their
// subtree of the canonical tree (mergeTree), and the caller combines the tasks'
// subtrees in the same tree; the elementwise kernels write their share of dst. The
// tasks change with the number of threads, the tree does not, so neither do the bits.

// parallelMin is the shortest input that a call runs on several goroutines (when
// Threads() > 1); shorter ones run on the calling goroutine, at the cost of one
// comparison. Chosen by measurement (BenchmarkParallelMin, 2 vCPUs of an AMD EPYC
// Zen 4 VM, threads 2 against 1, inputs in cache): at 2^17 two goroutines were 5-14%
// slower for float32 (waking a helper on a VM costs tens of microseconds), at 2^18
// from 6% slower to 19% faster, at 2^19 8-36% faster on every operation and type.
// Tests lower it.
var parallelMin = 1 << 18

// tasksPerThread is about how many tasks a call is cut into per goroutine, so that a
// goroutine that starts late or runs slow (the machine is shared) takes fewer.
const tasksPerThread = 4

// threadSetting is the SetThreads value: 0 for automatic.
var threadSetting atomic.Int64

func init() {
	if env := os.Getenv("SMOOTHL1_THREADS"); env != "" {
		n, err := strconv.Atoi(env)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "smoothl1: SMOOTHL1_THREADS=%q is not a number of threads (0 for automatic, or at least 1); using automatic\n", env)
		} else {
			threadSetting.Store(int64(n))
		}
	}
}

// SetThreads sets how many goroutines a call may use: at most n for n >= 1, and for
// n == 0 (the default) runtime.GOMAXPROCS(0), read at each call. It returns the
// previous setting, 0 for automatic. It panics if n is negative. The environment
// variable SMOOTHL1_THREADS sets it at start-up (a value that is not a number >= 0 is
// reported on standard error and ignored).
//
// Calls on inputs of at least 2^18 elements (RowSums, RowMeans and RowGrad: in runs of whole rows, see rows.go) use the threads: the calling goroutine
// and up to n-1 helper goroutines of a pool kept for the life of the process, which
// holds the most helpers any call has asked for (so at most the largest setting
// used, or GOMAXPROCS, minus one), parked while idle. Shorter inputs, and the scalar
// path of degenerate parameters (SmoothL1 with beta = +Inf, or a subnormal beta on
// float64 data), run on the calling goroutine alone.
//
// The number of threads changes the speed, never the results: every operation
// returns the same bits for every setting (see the package documentation). It is
// safe for concurrent use; calls already running keep the setting they started with.
func SetThreads(n int) (previous int) {
	if n < 0 {
		panic(fmt.Sprintf("smoothl1: SetThreads: the number of threads must be at least 0 (0 for automatic), got %d", n))
	}
	return int(threadSetting.Swap(int64(n)))
}

// Threads returns the number of goroutines a large call would use now: the
// SetThreads setting, or runtime.GOMAXPROCS(0) if it is automatic.
func Threads() int {
	if n := threadSetting.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// opKind is the kernel of a call.
type opKind uint8

const (
	opElem32 opKind = iota
	opGrad32
	opGradElem32
	opSum32
	opSumGrad32
	opElem64
	opGrad64
	opGradElem64
	opSum64
	opSumGrad64
	// The per-row sums of short rows (rows_short.go): n counts rows, not elements,
	// and a span is a run of whole rows, so that the grid cuts no row.
	opRows32
	opRows64
	// RowGrad (rows.go): n counts rows, a span is a run of whole rows, and g holds
	// the rows' upstream gradients.
	opRowGrad32
	opRowGrad64
	// The weighted sums (weighted.go): their lanes fill the first 8 (float32: s) or
	// 16 (float64: h and l) elements of lanes, the rest zero, so that merge32 and
	// merge64 merge them as the Sum kernels' lanes.
	opWSum32
	opWSumGrad32
	opWeightSum32
	opWSum64
	opWSumGrad64
	opWeightSum64
)

// hasAcc reports whether the kernel has lane accumulators.
func (op opKind) hasAcc() bool {
	return op == opSum32 || op == opSumGrad32 || op == opSum64 || op == opSumGrad64 || op >= opWSum32
}

// is32 reports whether the kernel's data is float32 (its lanes merge with merge32).
func (op opKind) is32() bool {
	return op <= opSumGrad32 || (op >= opWSum32 && op <= opWeightSum32)
}

// call is one large call of a kernel: everything a goroutine needs to run a part.
type call struct {
	op                 opKind
	impl               int
	n                  int
	p                  generated.Params
	d32, x32, y32, g32 []float32
	d64, x64, y64, g64 []float64
	w32                []float32 // the weights of the weighted sums
	w64                []float64
	cols               int  // opRows32, opRows64, opRowGrad32, opRowGrad64: the columns of a row
	mean               bool // opRows32, opRows64: RowMeans
}

// span runs an elementwise kernel (no accumulators) on the elements lo..hi-1 (the
// per-row sums: on the rows lo..hi-1).
func (c *call) span(lo, hi int) {
	switch c.op {
	case opElem32:
		generated.ElementwiseF32Impl(c.impl, &c.p, c.d32[lo:hi], c.x32[lo:hi], c.y32[lo:hi])
	case opGrad32:
		generated.GradF32Impl(c.impl, &c.p, c.d32[lo:hi], c.x32[lo:hi], c.y32[lo:hi])
	case opGradElem32:
		generated.GradElementwiseF32Impl(c.impl, &c.p, c.d32[lo:hi], c.x32[lo:hi], c.y32[lo:hi], c.g32[lo:hi])
	case opElem64:
		generated.ElementwiseF64Impl(c.impl, &c.p, c.d64[lo:hi], c.x64[lo:hi], c.y64[lo:hi])
	case opGrad64:
		generated.GradF64Impl(c.impl, &c.p, c.d64[lo:hi], c.x64[lo:hi], c.y64[lo:hi])
	case opGradElem64:
		generated.GradElementwiseF64Impl(c.impl, &c.p, c.d64[lo:hi], c.x64[lo:hi], c.y64[lo:hi], c.g64[lo:hi])
	case opRows32:
		rowsShort32(c.impl, &c.p, c.d32[lo:hi], c.x32[lo*c.cols:hi*c.cols], c.y32[lo*c.cols:hi*c.cols], c.cols, c.mean)
	case opRows64:
		rowsShort64(c.impl, &c.p, c.d64[lo:hi], c.x64[lo*c.cols:hi*c.cols], c.y64[lo*c.cols:hi*c.cols], c.cols, c.mean)
	case opRowGrad32:
		e0, e1 := lo*c.cols, hi*c.cols
		rowGradSpan(c.impl, &c.p, c.d32[e0:e1], c.x32[e0:e1], c.y32[e0:e1], c.g32[lo:hi], c.cols)
	case opRowGrad64:
		e0, e1 := lo*c.cols, hi*c.cols
		rowGradSpan(c.impl, &c.p, c.d64[e0:e1], c.x64[e0:e1], c.y64[e0:e1], c.g64[lo:hi], c.cols)
	default:
		panic("smoothl1: internal error: span of a kernel with accumulators")
	}
}

// chunk runs a kernel with accumulators on chunk k of the chunk grid: one kernel call.
func (c *call) chunk(k int) (acc lanes) {
	lo := k * chunkLen
	hi := min(lo+chunkLen, c.n)
	switch c.op {
	case opSum32:
		generated.SumF32Impl(c.impl, &c.p, c.x32[lo:hi], c.y32[lo:hi], (*acc32)(acc[:]))
	case opSumGrad32:
		generated.SumAndGradF32Impl(c.impl, &c.p, c.d32[lo:hi], c.x32[lo:hi], c.y32[lo:hi], (*acc32g)(acc[:]))
	case opSum64:
		generated.SumF64Impl(c.impl, &c.p, c.x64[lo:hi], c.y64[lo:hi], &acc)
	case opSumGrad64:
		generated.SumAndGradF64Impl(c.impl, &c.p, c.d64[lo:hi], c.x64[lo:hi], c.y64[lo:hi], &acc)
	case opWSum32:
		generated.WeightedSumF32Impl(c.impl, &c.p, c.x32[lo:hi], c.y32[lo:hi], c.w32[lo:hi], (*[generated.Lanes]float64)(acc[:]))
	case opWSumGrad32:
		generated.WeightedSumAndGradF32Impl(c.impl, &c.p, c.d32[lo:hi], c.x32[lo:hi], c.y32[lo:hi], c.w32[lo:hi], (*[generated.Lanes]float64)(acc[:]))
	case opWeightSum32:
		generated.WeightSumF32Impl(c.impl, &c.p, c.w32[lo:hi], (*[generated.Lanes]float64)(acc[:]))
	case opWSum64:
		generated.WeightedSumF64Impl(c.impl, &c.p, c.x64[lo:hi], c.y64[lo:hi], c.w64[lo:hi], (*[2 * generated.Lanes]float64)(acc[:]))
	case opWSumGrad64:
		generated.WeightedSumAndGradF64Impl(c.impl, &c.p, c.d64[lo:hi], c.x64[lo:hi], c.y64[lo:hi], c.w64[lo:hi], (*[2 * generated.Lanes]float64)(acc[:]))
	case opWeightSum64:
		generated.WeightSumF64Impl(c.impl, &c.p, c.w64[lo:hi], (*[2 * generated.Lanes]float64)(acc[:]))
	default:
		panic("smoothl1: internal error: chunk of an elementwise kernel")
	}
	return acc
}

// merge is the merge of the kernel's accumulator layout.
func (c *call) merge() func(a, b lanes) lanes {
	if c.op.is32() {
		return merge32
	}
	return merge64
}

// cols1 is the number of elements per unit of the call: the columns of a row for
// the per-row operations, else 1.
func (c *call) cols1() int { return max(1, c.cols) }

// grain is the length of a chunk of the call, in its units: chunkLen elements, or
// for the per-row operations (whose units are rows) the whole rows of about chunkLen
// elements, at least one.
func (c *call) grain() int { return max(1, chunkLen/c.cols1()) }

// chunks returns the number of chunks of the call (at least 1): for a kernel with
// accumulators those of the grid; the elementwise kernels and the per-row sums
// share out runs of them to the threads.
func (c *call) chunks() int { return max(1, (c.n+c.grain()-1)/c.grain()) }

// run runs the call, on several goroutines if it is long enough and Threads() > 1,
// and returns the combined accumulators of a kernel with accumulators.
func run(c *call) (acc lanes) {
	if c.n*c.cols1() >= parallelMin {
		if t := Threads(); t > 1 {
			return runParallel(c, t)
		}
	}
	if !c.op.hasAcc() {
		c.span(0, c.n)
		return acc
	}
	return mergeTree(0, c.chunks(), c.chunk, c.merge())
}

// job is a call in progress on several goroutines: the call, cut into tasks that
// the caller and its helpers take in turn.
type job struct {
	call
	runLen  int            // chunks per task: a power of two
	tasks   int            // tasks: runs of runLen chunks, the last one shorter
	next    atomic.Int64   // the next task to take
	helpers sync.WaitGroup // the helpers working on the job
	res     []lanes        // the subtree of each task (kernels with accumulators)
}

// freeJobs holds jobs for reuse; only callers take and return them.
var freeJobs = make(chan *job, 64)

// The helper pool: it grows to the most helpers a call has asked for (Threads() - 1 at
// most) and never shrinks. An idle helper parks on its own channel and is listed in
// idle; a call hands its job to idle helpers only, so a helper that is still busy
// elsewhere never delays it.
var pool struct {
	sync.Mutex
	idle []*helper
	size int
}

type helper struct{ jobs chan *job } // buffered: a send to an idle helper never blocks

func (h *helper) loop() {
	for j := range h.jobs {
		j.work()
		wg := &j.helpers
		pool.Lock()
		pool.idle = append(pool.idle, h) // within capacity: see dispatch
		pool.Unlock()
		wg.Done() // the last use of j: the caller may reuse it from here on
	}
}

// dispatch hands j to up to n idle helpers, starting helpers while the pool has
// fewer than max, and returns how many took it.
func dispatch(j *job, n, max int) (sent int) {
	pool.Lock()
	defer pool.Unlock()
	for sent < n {
		var h *helper
		if k := len(pool.idle); k > 0 {
			h = pool.idle[k-1]
			pool.idle = pool.idle[:k-1]
		} else if pool.size < max {
			h = &helper{jobs: make(chan *job, 1)}
			pool.size++
			if cap(pool.idle) < pool.size {
				pool.idle = slices.Grow(pool.idle, pool.size-len(pool.idle))
			}
			go h.loop()
		} else {
			break
		}
		j.helpers.Add(1)
		h.jobs <- j
		sent++
	}
	return sent
}

// runParallel runs c on up to t goroutines, the caller among them.
func runParallel(c *call, t int) (acc lanes) {
	chunks := c.chunks()
	// Runs of a power-of-two number of chunks, about tasksPerThread per goroutine.
	runLen := 1
	for chunks >= 2*runLen*tasksPerThread*t {
		runLen *= 2
	}
	tasks := (chunks + runLen - 1) / runLen
	var j *job
	select {
	case j = <-freeJobs:
	default:
		j = new(job)
	}
	j.call, j.runLen, j.tasks = *c, runLen, tasks
	if c.op.hasAcc() && cap(j.res) < tasks {
		j.res = make([]lanes, tasks)
	}
	j.res = j.res[:cap(j.res)]
	j.next.Store(0)
	dispatch(j, min(t, tasks)-1, t-1)
	j.work()
	j.helpers.Wait()
	if c.op.hasAcc() {
		acc = mergeTree(0, tasks, func(i int) lanes { return j.res[i] }, j.merge())
	}
	j.call = call{} // keep no reference to the caller's slices
	select {
	case freeJobs <- j:
	default:
	}
	return acc
}

// work takes tasks until none is left.
func (j *job) work() {
	for {
		t := int(j.next.Add(1)) - 1
		if t >= j.tasks {
			return
		}
		lo := t * j.runLen
		hi := min(lo+j.runLen, j.chunks())
		if j.op.hasAcc() {
			j.res[t] = mergeTree(lo, hi, j.chunk, j.merge())
		} else {
			g := j.grain()
			j.span(lo*g, min(hi*g, j.n))
		}
	}
}
