package main

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"unsafe"

	"github.com/gokernels/smoothl1"
	"github.com/gokernels/smoothl1/bench/cpeer"
)

// Peers: other programs' loops, measured like the implementations, on the same
// inputs, under their own names.
//
// The C peer (package cpeer, only with cgo) is the plain C loop built by the
// system C compiler at -O3 -march=native, as "gcc", and the same with fast-math,
// as "gcc-fastmath". It covers cpeer.Ops; the report leaves it out of the other
// operations. One cgo call costs 30-50 ns, as much as the whole loop of a short
// input, so one call runs the loop over a batch of 2^15 to 2^16 elements (a
// power of two windows; one window from 2^16 elements on): the
// windows the Go implementations would get next (the same pseudo-random windows
// of the ring up to windowMax elements, the ring's sets in order above), taken
// from a precomputed list of offsets. A run of the peer is then a batch of
// operations, and its time is divided by their number.
//
// PyTorch ("torch") runs in a subprocess, torch_peer.py, which runs a batch of
// calls per request: see torch.go.

// peerImpls returns the peers this build can measure.
func peerImpls() []string {
	var out []string
	if cpeer.Available {
		for _, fast := range []bool{false, true} {
			if name := cpeer.Name(fast); name != "" {
				out = append(out, name)
			}
		}
	}
	return out
}

// isPeer reports whether impl is one of another program's loops.
func isPeer(impl string) bool {
	return impl == implTorch || slices.Contains(peerImpls(), impl)
}

// peerMachine writes what the peers' figures depend on.
func peerMachine(w *strings.Builder) {
	if names := peerImpls(); len(names) > 0 {
		fmt.Fprintf(w, "- C peer: %s, the plain C loop (sum accumulated in the element type, in element order) built with -O3 -march=native: %s\n",
			cpeer.Compiler(), strings.Join(names, " as is, ")+" with fast-math (#pragma GCC optimize)")
	} else {
		fmt.Fprintf(w, "- C peer: not in this build (it needs cgo and a C compiler)\n")
	}
}

// pointN prepares an operation on one implementation or peer like point, and
// returns a function that runs it ops times. It returns a nil function if a peer
// lacks the operation.
func pointN[T smoothl1.Float](op, impl string, n int) (run func(), ops int, err error) {
	if !isPeer(impl) {
		run, err = point[T](op, impl, n)
		return run, 1, err
	}
	if impl == implTorch {
		var z T
		return torchPoint(op, fmt.Sprintf("%T", z), n)
	}
	fast := impl != cpeer.Name(false)
	kernel := cpeer.Kernel[T](op, fast)
	if kernel == nil {
		return nil, 0, nil
	}
	r, cur := inputs[T](n)
	all := r.all
	// A batch of 2^15 to 2^16 elements, a power of two windows.
	batch := 1 << (bits.Len(uint(max(1, (1<<16)/n))) - 1)
	pool := 1 << 15 // pseudo-random windows: more than a predictor can learn
	if n > windowMax {
		pool = len(r.sets) * batch // the sets in order, a whole number of times
	}
	var z T
	offs := make([]int64, pool)
	for i := range offs {
		s := cur()
		offs[i] = int64((uintptr(unsafe.Pointer(unsafe.SliceData(s.x))) - uintptr(unsafe.Pointer(unsafe.SliceData(all.x)))) / unsafe.Sizeof(z))
	}
	windows := cpeer.NewWindows(offs, n, len(all.x))
	next := 0
	return func() {
		sinkF += kernel(all.dst, all.x, all.y, windows.Slice(next, next+batch), 1, 0.5)
		next += batch
		if next == pool {
			next = 0
		}
	}, batch, nil
}

// peersOf returns the peers among impls with a result for op.
func peersOf(rs []result, op string, impls []string) []string {
	var out []string
	for _, impl := range impls {
		if isPeer(impl) && slices.ContainsFunc(rs, func(r result) bool { return r.Op == op && r.Impl == impl }) {
			out = append(out, impl)
		}
	}
	return out
}

// peerHeader returns the table's header cells of the peers' ratio columns: how
// many times faster than the peer each row runs.
func peerHeader(peers []string) string {
	var b strings.Builder
	for _, p := range peers {
		fmt.Fprintf(&b, " x %s |", p)
	}
	return b.String()
}

// peerHas reports whether a peer of this process has the operation.
func peerHas(impl, op string) bool {
	if impl == implTorch {
		return false
	}
	return slices.Contains(cpeer.Ops, op)
}
