package main

import (
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The PyTorch peer: torch_peer.py, run as a subprocess by the report with -torch.

// implTorch names PyTorch's smooth_l1_loss in the report.
const implTorch = "torch"

//go:embed torch_peer.py
var torchScript []byte

var (
	torchF  = flag.Bool("torch", false, "also measure PyTorch's smooth_l1_loss (torch_peer.py, one thread) before and after the sweep, best of both; lengths default to 1024..2^24")
	pythonF = flag.String("python", "", "the Python with torch for -torch (default /usr/bin/python3 if present, else python3)")
)

// torchLengths are the lengths of a -torch sweep without -n.
var torchLengths = []int{1024, 4096, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24}

// torchOps are the operations torch_peer.py measures.
var torchOps = []string{"Elementwise", "Sum", "Mean", "SumAndGrad", "MeanAndGrad"}

// torchOut is what torch_peer.py prints.
type torchOut struct {
	Torch   string `json:"torch"`
	Threads int    `json:"threads"`
	Results []struct {
		Op      string  `json:"op"`
		Dtype   string  `json:"dtype"`
		N       int     `json:"n"`
		NsPerOp float64 `json:"ns_per_op"`
	} `json:"results"`
}

// torchPeer runs torch_peer.py several times between the Go measurements and
// keeps the best time of each point: PyTorch cannot run in the report's process,
// so alternating processes is the nearest to interleaving.
type torchPeer struct {
	python, script string
	args           []string
	best           map[string]float64 // by op/dtype/n
	err            error
}

// startTorch returns nil without -torch; otherwise it runs the first pass and
// writes a line on it (or on why it was skipped) to w.
func startTorch(w *strings.Builder, ops, types []string, lengths []int, per time.Duration) *torchPeer {
	if !*torchF {
		return nil
	}
	var tops []string
	for _, op := range ops {
		if slices.Contains(torchOps, op) {
			tops = append(tops, op)
		}
	}
	t := &torchPeer{best: map[string]float64{}}
	defer func() {
		if t.err != nil {
			fmt.Fprintf(w, "- PyTorch peer: skipped: %v\n", t.err)
		}
	}()
	if len(tops) == 0 {
		t.err = fmt.Errorf("none of the operations %s is one of PyTorch's (%s)", strings.Join(ops, ", "), strings.Join(torchOps, ", "))
		return t
	}
	t.python = *pythonF
	if t.python == "" {
		t.python = "python3"
		if _, err := os.Stat("/usr/bin/python3"); err == nil {
			t.python = "/usr/bin/python3"
		}
	}
	f, err := os.CreateTemp("", "torch_peer*.py")
	if err != nil {
		t.err = err
		return t
	}
	t.script = f.Name()
	_, err = f.Write(torchScript)
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		t.err = err
		return t
	}
	ns := make([]string, len(lengths))
	for i, n := range lengths {
		ns[i] = strconv.Itoa(n)
	}
	t.args = []string{t.script, "--ops", strings.Join(tops, ","), "--dtypes", strings.Join(types, ","),
		"--n", strings.Join(ns, ","), "--time", strconv.FormatFloat(per.Seconds(), 'g', -1, 64)}
	out := t.pass()
	if t.err == nil {
		fmt.Fprintf(w, "- PyTorch peer: torch %s (%s), %d thread, torch.nn.functional.smooth_l1_loss(beta=1) on the CPU, timed from Python (call overhead included) in a subprocess before and after the Go measurements, best of both\n",
			out.Torch, t.python, out.Threads)
	}
	return t
}

// pass runs the script once and keeps the best times.
func (t *torchPeer) pass() torchOut {
	var out torchOut
	if t.err != nil {
		return out
	}
	fmt.Fprintf(os.Stderr, "running %s %s\n", t.python, strings.Join(t.args, " "))
	cmd := exec.Command(t.python, t.args...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		t.err = fmt.Errorf("%s %s: %v", t.python, filepath.Base(t.script), err)
		return out
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.err = fmt.Errorf("torch_peer.py output: %v", err)
		return out
	}
	for _, r := range out.Results {
		k := fmt.Sprintf("%s/%s/%d", r.Op, r.Dtype, r.N)
		if v, ok := t.best[k]; !ok || r.NsPerOp < v {
			t.best[k] = r.NsPerOp
		}
	}
	return out
}

// finish runs the second pass and returns PyTorch's results, or none if it was
// skipped or failed (and says so on stderr and in w).
func (t *torchPeer) finish(w *strings.Builder) []result {
	if t == nil {
		return nil
	}
	t.pass()
	if t.script != "" {
		os.Remove(t.script)
	}
	if t.err != nil {
		fmt.Fprintf(os.Stderr, "bench: PyTorch peer skipped: %v\n", t.err)
		fmt.Fprintf(w, "\nPyTorch peer skipped: %v\n", t.err)
		return nil
	}
	var rs []result
	for k, ns := range t.best {
		f := strings.Split(k, "/")
		n, _ := strconv.Atoi(f[2])
		size := 4
		if f[1] == "float64" {
			size = 8
		}
		rs = append(rs, result{Op: f[0], Impl: implTorch, Dtype: f[1], N: n, NsPerOp: ns, NsPerElem: ns / float64(n),
			GBps: float64(bytesMoved(f[0], n, size)) / ns})
	}
	return rs
}
