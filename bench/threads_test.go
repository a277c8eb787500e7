package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gokernels/smoothl1"
)

// benchThreads returns the thread counts a benchmark of impl at n elements runs:
// 1 to GOMAXPROCS from threadsMinN elements (the naive loop and the peers: 1 only),
// else 1.
func benchThreads(impl string, n int) []int {
	if n < threadsMinN || impl == implNaive || isPeer(impl) {
		return []int{1}
	}
	ts, _ := parseThreads("")
	return ts
}

// benchRunner returns the runner of one benchmark, with smoothl1.SetThreads(t) in
// force while it runs (t = 0: automatic), the operations it does per run (a peer's
// run is a batch, peers.go) and the element size.
func benchRunner(op, impl, dtype string, n, t int) (run func(), ops, size int, err error) {
	size = 4
	if dtype == "float64" {
		size = 8
	}
	if impl == implRoofline && t > 1 {
		if dtype == "float32" {
			return rooflineRunner[float32](op, n, t), 1, size, nil
		}
		return rooflineRunner[float64](op, n, t), 1, size, nil
	}
	var f func()
	if dtype == "float32" {
		f, ops, err = pointN[float32](op, impl, n)
	} else {
		f, ops, err = pointN[float64](op, impl, n)
	}
	if err != nil || f == nil {
		return f, ops, size, err
	}
	return func() {
		prev := smoothl1.SetThreads(t)
		f()
		smoothl1.SetThreads(prev)
	}, ops, size, nil
}

// BenchmarkSmallThreads compares automatic threads with threads = 1 on short inputs,
// where a call must stay on the calling goroutine at no extra cost:
//
//	go test -run - -bench SmallThreads -count 6 | tee small.txt
//	benchstat -col /threads small.txt
func BenchmarkSmallThreads(b *testing.B) {
	defer smoothl1.SetImplementation("")
	impl := smoothl1.Implementations()[0]
	for _, op := range allOps {
		for _, dtype := range []string{"float32", "float64"} {
			for _, n := range []int{16, 256, 4096, 65536} {
				for _, t := range []int{1, 0} {
					name := fmt.Sprint(t)
					if t == 0 {
						name = "auto"
					}
					b.Run(fmt.Sprintf("op=%s/dtype=%s/n=%d/threads=%s", op, dtype, n, name), func(b *testing.B) {
						run, _, size, err := benchRunner(op, impl, dtype, n, t)
						if err != nil {
							b.Fatal(err)
						}
						b.SetBytes(bytesMoved(op, n, size))
						for b.Loop() {
							run()
						}
					})
				}
			}
		}
	}
}

// TestParseThreads checks the -threads flag.
func TestParseThreads(t *testing.T) {
	ts, err := parseThreads("")
	if err != nil || len(ts) != runtime.GOMAXPROCS(0) || ts[0] != 1 {
		t.Errorf(`parseThreads("") = %v, %v`, ts, err)
	}
	if ts, err := parseThreads("1,4"); err != nil || fmt.Sprint(ts) != "[1 4]" {
		t.Errorf(`parseThreads("1,4") = %v, %v`, ts, err)
	}
	for _, bad := range []string{"0", "-1", "two"} {
		if _, err := parseThreads(bad); err == nil {
			t.Errorf("parseThreads(%q) accepted", bad)
		}
	}
}

// TestRooflineParallel checks that the roofline on several goroutines writes what
// it does on one.
func TestRooflineParallel(t *testing.T) {
	// An even count (the roofline moves whole 8-byte words), and for RowSums whole
	// rows of 4 (16 bytes), which it writes a quarter of.
	for _, c := range []struct {
		op string
		n  int
	}{{"Elementwise", 3<<12 + 6}, {"RowSums", 3<<12 + 4}} {
		s := ring[float32](c.n).sets[0]
		want := make([]float32, c.n)
		clear(s.dst)
		rooflineParallel(c.op, &s, 1)
		copy(want, s.dst)
		clear(s.dst)
		rooflineParallel(c.op, &s, 3)
		for i := range want {
			if math.Float32bits(s.dst[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: dst[%d] = %v with 3 goroutines, %v with 1", c.op, i, s.dst[i], want[i])
			}
		}
	}
}

// TestRooflineTraffic checks that the roofline of every operation moves the bytes
// traffic counts, on one goroutine and on several: it reads g where the operation
// has a third input (what it returns or writes changes with g), and writes dst
// exactly where the operation writes: all of it, or its first n/outDiv elements
// (RowSums), and nothing after them.
func TestRooflineTraffic(t *testing.T) {
	n := 3<<12 + 4 // a whole number of rows, and a tail after the last 128 bytes
	for _, op := range allOps {
		reads, writes := traffic(op)
		out := n / outDiv(op) // the elements the operation writes
		for _, gs := range []int{1, 3} {
			s := ring[float64](n).sets[0]
			for i := range s.dst {
				s.dst[i] = -1
			}
			sum := rooflineParallel(op, &s, gs)
			for i, v := range s.dst {
				if wrote, want := v != -1, writes == 1 && i < out; wrote != want {
					t.Fatalf("%s on %d goroutines: wrote dst[%d] of %d: %v, want %v", op, gs, i, n, wrote, want)
				}
			}
			last := math.Float64bits(s.dst[out-1]) // (XORed bits: possibly a NaN)
			s.g[n-1] = -s.g[n-1]                   // the last share's g
			changed := rooflineParallel(op, &s, gs) != sum || math.Float64bits(s.dst[out-1]) != last
			if changed != (reads == 3) {
				t.Errorf("%s on %d goroutines: reads g: %v, want %v", op, gs, changed, reads == 3)
			}
		}
	}
}

// TestPlotThreads checks that the threads plot is written.
func TestPlotThreads(t *testing.T) {
	var rs []result
	for _, impl := range []string{smoothl1.Implementations()[0], implRoofline} {
		for th := 1; th <= 2; th++ {
			rs = append(rs, result{Op: "Sum", Impl: impl, Dtype: "float32", N: 1 << 24, Threads: th, GBps: float64(10 * th)})
		}
	}
	dir := t.TempDir()
	if n := plotThreads(dir, rs, []string{"Sum"}, []string{"float32"}, []int{1 << 24}); n != 1 {
		t.Fatalf("%d plots, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "threads-float32-n16777216.png")); err != nil {
		t.Fatal(err)
	}
}
