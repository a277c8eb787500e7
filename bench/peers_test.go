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

// TestTorchPeer runs the -torch machinery on a stand-in for torch_peer.py
// --serve that answers every request: the report must measure it like an
// implementation, a batch of calls per run, only for PyTorch's operations.
func TestTorchPeer(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "python")
	script := `#!/bin/sh
echo "ready test 1"
while read cmd rest; do
  case $cmd in
    prepare) echo "$rest" >> "` + dir + `/log"; echo "ok 3";;
    run) echo "done 100";;
    quit) exit 0;;
  esac
done
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	oldTorch, oldPython := *torchF, *pythonF
	defer func() { *torchF, *pythonF = oldTorch, oldPython; stopTorch() }()
	*torchF, *pythonF = true, fake
	var w strings.Builder
	startTorch(&w)
	if torch == nil || !strings.Contains(w.String(), "torch test") {
		t.Fatalf("no PyTorch peer; report line %q", w.String())
	}
	script2 := torch.script
	rs, err := measure("Sum", []string{implTorch}, "float32", 1024, 3*time.Millisecond)
	if err != nil || len(rs) != 1 || rs[0].Impl != implTorch || rs[0].N != 1024 {
		t.Fatalf("measure: %+v, %v", rs, err)
	}
	if rs, err := measure("Grad", []string{implTorch}, "float32", 1024, 3*time.Millisecond); err != nil || len(rs) != 0 {
		t.Errorf("Grad: %+v, %v; PyTorch has no Grad", rs, err)
	}
	run, ops, err := pointN[float64]("MeanAndGrad", implTorch, 4096)
	if err != nil || run == nil || ops != 3 {
		t.Fatalf("pointN: ops %d, %v", ops, err)
	}
	run()
	stopTorch()
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	if want := "Sum float32 1024 0.005\nMeanAndGrad float64 4096 0.005\n"; string(log) != want {
		t.Errorf("requests %q, want %q", log, want)
	}
	if _, err := os.Stat(script2); err == nil {
		t.Error("the script's temporary copy is left behind")
	}

	*pythonF = filepath.Join(dir, "missing")
	w.Reset()
	if startTorch(&w); torch != nil || !strings.Contains(w.String(), "skipped") {
		t.Errorf("without Python: peer %v, report %q", torch, w.String())
	}
}
