package main

import (
	"bufio"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The PyTorch peer: torch_peer.py --serve, a subprocess that the report (with
// -torch) asks to prepare each point and run it, as one more implementation in
// its interleaved rounds.

// implTorch names PyTorch's smooth_l1_loss in the report.
const implTorch = "torch"

//go:embed torch_peer.py
var torchScript []byte

var (
	torchF  = flag.Bool("torch", false, "also measure PyTorch's smooth_l1_loss (torch_peer.py, one thread) as a peer; lengths default to 1024..2^24")
	pythonF = flag.String("python", "", "the Python with torch for -torch (default /usr/bin/python3 if present, else python3)")
)

// torchLengths are the lengths of a -torch sweep without -n.
var torchLengths = []int{1024, 4096, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24}

// torchOps are the operations torch_peer.py measures.
var torchOps = []string{"Elementwise", "Sum", "Mean", "SumAndGrad", "MeanAndGrad"}

// torchRequest is how long one request to the subprocess runs: long enough that
// the pipe's round trip (tens of microseconds) stays below 1% of the time the
// report reads on its own clock.
const torchRequest = 5 * time.Millisecond

// torchPeer is the running torch_peer.py --serve.
type torchPeer struct {
	python, script string
	cmd            *exec.Cmd
	in             io.WriteCloser
	out            *bufio.Reader
}

// torch is the running PyTorch peer, or nil.
var torch *torchPeer

// startTorch starts the PyTorch peer if -torch is set and writes a line on it (or
// on why it was skipped) to w.
func startTorch(w *strings.Builder) {
	if !*torchF {
		return
	}
	t := &torchPeer{python: *pythonF}
	if t.python == "" {
		t.python = "python3"
		if _, err := os.Stat("/usr/bin/python3"); err == nil {
			t.python = "/usr/bin/python3"
		}
	}
	ready, err := t.start()
	if err != nil {
		t.stop()
		fmt.Fprintf(w, "- PyTorch peer: skipped: %v\n", err)
		fmt.Fprintf(os.Stderr, "bench: PyTorch peer skipped: %v\n", err)
		return
	}
	torch = t
	f := strings.Fields(ready)
	fmt.Fprintf(w, "- PyTorch peer: torch %s (%s), %s thread, torch.nn.functional.smooth_l1_loss(beta=1) on the CPU, "+
		"called from Python in a subprocess (call overhead included: what a PyTorch user pays), each request %v of calls, in the report's interleaved rounds\n",
		f[1], t.python, f[2], torchRequest)
}

func (t *torchPeer) start() (string, error) {
	f, err := os.CreateTemp("", "torch_peer*.py")
	if err != nil {
		return "", err
	}
	t.script = f.Name()
	_, err = f.Write(torchScript)
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return "", err
	}
	t.cmd = exec.Command(t.python, t.script, "--serve")
	t.cmd.Stderr = os.Stderr
	if t.in, err = t.cmd.StdinPipe(); err != nil {
		return "", err
	}
	stdout, err := t.cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	t.out = bufio.NewReader(stdout)
	if err := t.cmd.Start(); err != nil {
		t.cmd = nil
		return "", err
	}
	ready, err := t.reply("ready")
	if err != nil || len(strings.Fields(ready)) != 3 {
		return "", fmt.Errorf("%s %s --serve: %q, %v (is torch installed for it?)", t.python, t.script, ready, err)
	}
	return ready, nil
}

// reply reads the subprocess's next line, which must start with want.
func (t *torchPeer) reply(want string) (string, error) {
	line, err := t.out.ReadString('\n')
	line = strings.TrimSpace(line)
	if err != nil {
		return line, fmt.Errorf("torch_peer.py: %v", err)
	}
	if f := strings.Fields(line); len(f) == 0 || f[0] != want {
		return line, fmt.Errorf("torch_peer.py: %s", line)
	}
	return line, nil
}

// request sends one line and returns the reply, which must start with want.
func (t *torchPeer) request(line, want string) (string, error) {
	if _, err := io.WriteString(t.in, line+"\n"); err != nil {
		return "", fmt.Errorf("torch_peer.py: %v", err)
	}
	return t.reply(want)
}

// stop ends the subprocess and removes the script's copy.
func (t *torchPeer) stop() {
	if t.cmd != nil {
		io.WriteString(t.in, "quit\n")
		t.in.Close()
		t.cmd.Wait()
		t.cmd = nil
	}
	if t.script != "" {
		os.Remove(t.script)
		t.script = ""
	}
}

// stopTorch ends the PyTorch peer, if any.
func stopTorch() {
	if torch != nil {
		torch.stop()
		torch = nil
	}
}

// torchPoint prepares a point in the subprocess and returns a function that runs
// ops calls of it, or nil if there is no PyTorch peer or it lacks the operation.
func torchPoint(op, dtype string, n int) (run func(), ops int, err error) {
	if torch == nil || !slices.Contains(torchOps, op) {
		return nil, 0, nil
	}
	ok, err := torch.request(fmt.Sprintf("prepare %s %s %d %g", op, dtype, n, torchRequest.Seconds()), "ok")
	if err != nil {
		return nil, 0, err
	}
	ops, err = strconv.Atoi(strings.Fields(ok)[1])
	if err != nil || ops < 1 {
		return nil, 0, fmt.Errorf("torch_peer.py: %q", ok)
	}
	return func() {
		if _, err := torch.request("run", "done"); err != nil {
			stopTorch()
			fatalf("%v", err)
		}
	}, ops, nil
}
