package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gokernels/smoothl1"
	"github.com/gokernels/smoothl1/bench/cpeer"
)

// TestCPeerWindows checks that a run of the C peer is a batch of the operations
// the Go implementations would run next: the same windows (or sets), summed by
// the plain loop, and that the batch is counted.
func TestCPeerWindows(t *testing.T) {
	if !cpeer.Available {
		t.Skip("no cgo")
	}
	for _, n := range []int{16, 1000, 4096} {
		run, ops, err := pointN[float32]("Sum", cpeer.Name(false), n)
		if err != nil || run == nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if ops*n <= 1<<15 || ops*n > 1<<16 {
			t.Errorf("n=%d: a batch of %d operations, want 2^15 to 2^16 elements", n, ops)
		}
		before := sinkF
		run()
		got := sinkF - before
		_, cur := inputs[float32](n)
		want := 0.0
		for range ops {
			s := cur()
			var sum float32
			for i := range s.x {
				z := float32(math.Abs(float64(s.x[i] - s.y[i])))
				if z < 1 {
					sum += float32(0.5*z) * z
				} else {
					sum += z - 0.5
				}
			}
			want += float64(sum)
		}
		if math.Abs(got-want) > 1e-9*math.Abs(want) {
			t.Errorf("n=%d: the C peer's batch sums to %v, the Go loop over the same windows to %v", n, got, want)
		}
	}
	if run, _, _ := pointN[float64]("Grad", cpeer.Name(true), 64); run != nil {
		t.Error("the C peer measures Grad, which it lacks")
	}
}

// TestPeerMeasure runs the report's measurement with the peers, which must come
// out per operation, with a plausible time.
func TestPeerMeasure(t *testing.T) {
	peers := peerImpls()
	if len(peers) == 0 {
		t.Skip("no peers in this build")
	}
	impls := append([]string{smoothl1.Implementations()[0]}, peers...)
	rs, err := measure("Sum", impls, "float64", 4096, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(impls) {
		t.Fatalf("%d results for %d implementations", len(rs), len(impls))
	}
	for _, r := range rs {
		if r.NsPerElem < 0.005 || r.NsPerElem > 100 {
			t.Errorf("%s: %v ns/element", r.Impl, r.NsPerElem)
		}
	}
	rs, err = measure("Grad", impls, "float64", 4096, 10*time.Millisecond)
	if err != nil || len(rs) != 1 {
		t.Errorf("Grad: %d results (%v), want only %s's", len(rs), err, impls[0])
	}
}

// TestTorchPeer runs the -torch machinery on a stand-in for Python that prints
// fixed figures, different in each pass: the report must keep the best of each.
func TestTorchPeer(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "python")
	script := `#!/bin/sh
if [ -e "` + dir + `/ran" ]; then a=300; b=50; else a=100; b=70; touch "` + dir + `/ran"; fi
echo '{"torch": "test", "threads": 1, "results": [
 {"op": "Sum", "dtype": "float32", "n": 1024, "ns_per_op": '$a', "ns_per_element": 0},
 {"op": "Sum", "dtype": "float64", "n": 1024, "ns_per_op": '$b', "ns_per_element": 0}]}'
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	oldTorch, oldPython := *torchF, *pythonF
	defer func() { *torchF, *pythonF = oldTorch, oldPython }()
	*torchF, *pythonF = true, fake
	var w strings.Builder
	tp := startTorch(&w, []string{"Sum", "Grad"}, []string{"float32", "float64"}, []int{1024}, time.Millisecond)
	if !strings.Contains(w.String(), "torch test") {
		t.Errorf("report line %q", w.String())
	}
	if !strings.Contains(strings.Join(tp.args, " "), "--ops Sum --dtypes float32,float64 --n 1024") {
		t.Errorf("script arguments %q", tp.args)
	}
	rs := tp.finish(&w)
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2", len(rs))
	}
	for _, r := range rs {
		want := map[string]float64{"float32": 100, "float64": 50}[r.Dtype]
		if r.Impl != implTorch || r.Op != "Sum" || r.N != 1024 || r.NsPerOp != want || r.NsPerElem != want/1024 {
			t.Errorf("result %+v, want %v ns/op", r, want)
		}
	}
	if _, err := os.Stat(tp.script); err == nil {
		t.Error("the script's temporary copy is left behind")
	}

	*pythonF = filepath.Join(dir, "missing")
	w.Reset()
	tp = startTorch(&w, []string{"Sum"}, []string{"float32"}, []int{1024}, time.Millisecond)
	if rs := tp.finish(&w); len(rs) != 0 || !strings.Contains(w.String(), "skipped") {
		t.Errorf("without Python: %d results, report %q", len(rs), w.String())
	}
}
