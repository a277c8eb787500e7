#!/usr/bin/env python3
"""PyTorch peer of the smoothl1 benchmarks.

Times torch.nn.functional.smooth_l1_loss (beta=1, PyTorch's default) on one
thread, on the CPU, and prints JSON: a list of {"op", "dtype", "n", "ns_per_op",
"ns_per_element"}, the best of several rounds per point. Operations, named as
the Go benchmarks name theirs:

  Elementwise  forward, reduction='none' (allocates the output, as PyTorch does)
  Sum, Mean    forward, reduction='sum' / 'mean'
  SumAndGrad,  forward and backward (loss.backward(), then x.grad = None),
  MeanAndGrad  reduction='sum' / 'mean'; x requires grad, y does not

Each point cycles through a ring of input sets of the size the Go benchmarks
use (x, y ~ N(0,1)), so that small inputs are not the same few cache lines
every call. The time includes Python's call overhead: it is what a PyTorch
user pays. Rounds are interleaved: every round measures every point once, so
that a change in the machine's speed reaches all points alike.

  /usr/bin/python3 bench/torch_peer.py --n 4096,1048576 --ops Sum --time 0.1

With --serve it runs the points the Go report (go run -C bench . -torch) asks
for, in the report's own rounds: see serve.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F

OPS = ["Elementwise", "Sum", "Mean", "SumAndGrad", "MeanAndGrad"]
LENGTHS = [1024, 4096, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24]
RING_BYTES = 512 << 10  # as bench/suite.go


def ring_sets(n, size):
    """The number of input sets of n elements, as ring() in bench/suite.go."""
    k = RING_BYTES // (4 * n * size)
    return max(min(256, max(1, (8 << 20) // n)), min(k, 4096))


def make_point(op, dtype, n, gen):
    size = 4 if dtype == torch.float32 else 8
    sets = []
    for _ in range(ring_sets(n, size)):
        x = torch.randn(n, generator=gen, dtype=torch.float64).to(dtype)
        y = torch.randn(n, generator=gen, dtype=torch.float64).to(dtype)
        if op.endswith("AndGrad"):
            x.requires_grad_(True)
        sets.append((x, y))
    reduction = {"Elementwise": "none", "Sum": "sum", "Mean": "mean",
                 "SumAndGrad": "sum", "MeanAndGrad": "mean"}[op]
    state = {"i": 0}

    if op.endswith("AndGrad"):
        def run(count):
            i = state["i"]
            for _ in range(count):
                x, y = sets[i]
                F.smooth_l1_loss(x, y, reduction=reduction).backward()
                x.grad = None
                i += 1
                if i == len(sets):
                    i = 0
            state["i"] = i
    else:
        def run(count):
            i = state["i"]
            with torch.no_grad():
                for _ in range(count):
                    x, y = sets[i]
                    F.smooth_l1_loss(x, y, reduction=reduction)
                    i += 1
                    if i == len(sets):
                        i = 0
            state["i"] = i
    return run


def calibrate(run, seconds):
    """Returns the count of calls that takes at least seconds."""
    run(1)  # warm up
    count = 1
    while True:
        t0 = time.perf_counter_ns()
        run(count)
        if time.perf_counter_ns() - t0 >= seconds * 1e9 or count >= 1 << 30:
            return count
        count *= 2


DTYPES = {"float32": torch.float32, "float64": torch.float64}


def serve(gen):
    """Serves the Go report (bench/torch.go) over stdin and stdout, one line each:

      prepare OP DTYPE N SECONDS  ->  ok COUNT    (COUNT calls take >= SECONDS)
      run                         ->  done NS     (COUNT calls; NS as timed here)
      quit

    so that the report times PyTorch in its own interleaved rounds, between its
    Go implementations, like any other implementation."""
    print("ready", torch.__version__, torch.get_num_threads(), flush=True)
    run, count = None, 0
    for line in sys.stdin:
        f = line.split()
        try:
            if not f:
                continue
            if f[0] == "quit":
                return
            if f[0] == "prepare":
                op, dtype, n, seconds = f[1], DTYPES[f[2]], int(f[3]), float(f[4])
                if op not in OPS:
                    raise ValueError("unknown operation %r" % op)
                run = None  # free the last point's data first
                run = make_point(op, dtype, n, gen)
                count = calibrate(run, seconds)
                print("ok", count, flush=True)
            elif f[0] == "run":
                t0 = time.perf_counter_ns()
                run(count)
                print("done", time.perf_counter_ns() - t0, flush=True)
            else:
                raise ValueError("unknown request %r" % f[0])
        except Exception as e:  # report, keep serving
            print("error", repr(e).replace("\n", " "), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--n", default=",".join(map(str, LENGTHS)))
    ap.add_argument("--time", type=float, default=0.1, help="seconds per point")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--serve", action="store_true", help="serve the Go report (see serve)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(7)
    if args.serve:
        serve(gen)
        return
    ops = [o for o in args.ops.split(",") if o]
    for o in ops:
        if o not in OPS:
            sys.exit("torch_peer.py: unknown operation %r (known: %s)" % (o, ", ".join(OPS)))

    results = []
    for dname in args.dtypes.split(","):
        dtype = DTYPES[dname]
        for n in (int(s) for s in args.n.split(",")):
            # Build the points of one type and length at a time, to bound memory.
            points = []
            for op in ops:
                run = make_point(op, dtype, n, gen)
                # a batch of at least a sixth of the time per point
                points.append([op, run, calibrate(run, args.time / 6), float("inf")])
            for r in range(args.rounds):
                for j in range(len(points)):
                    p = points[(j + r) % len(points)]
                    t0 = time.perf_counter_ns()
                    p[1](p[2])
                    p[3] = min(p[3], (time.perf_counter_ns() - t0) / p[2])
            for op, _, _, best in points:
                results.append({"op": op, "dtype": dname, "n": n,
                                "ns_per_op": best, "ns_per_element": best / n})
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(),
               "results": results}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
