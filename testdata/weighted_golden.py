#!/usr/bin/python3
"""Writes testdata/weighted-golden.json.gz (through gzip): golden vectors of the weighted and per-row
reductions (issue 15), with exact results computed here in rational arithmetic
(fractions.Fraction, correctly rounded to float32/float64 by this script's own
rounding) and PyTorch 1.13's results for the same inputs:

    (loss(x, y, reduction='none') * w).sum()              -> torch_sum
    (loss(x, y, reduction='none') * w).sum() / w.sum()    -> torch_mean
    loss(x, y, reduction='none').view(rows, cols).sum(1)  -> torch_rows
    ... .mean(1)                                          -> torch_row_means
    d/dx (loss * w).sum()                                 -> torch_grad

Values are IEEE-754 bit patterns in hex (big-endian), as in torch-golden.json.gz.
Run: /usr/bin/python3 testdata/weighted_golden.py | gzip -n -9 > testdata/weighted-golden.json.gz
It shares no code with the Go package or its Go reference.
"""
import json
import math
import random
import struct
from fractions import Fraction

import numpy as np
import torch


def hexf(v, dtype):
    if dtype == "float32":
        return struct.pack(">f", float(v)).hex()
    return struct.pack(">d", float(v)).hex()


def round_to(q, dtype):
    """Rounds the rational q to the nearest float of dtype, ties to even."""
    if q == 0:
        return 0.0
    mant, emin, emax = (24, -126, 127) if dtype == "float32" else (53, -1022, 1023)
    sign = -1 if q < 0 else 1
    a = abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    # now 2^e <= a < 2^(e+1)
    e = max(e, emin)  # subnormals keep the exponent of the least normal
    scale = Fraction(2) ** (mant - 1 - e)
    m = a * scale
    n = m.numerator // m.denominator
    r = m - n
    if r > Fraction(1, 2) or (r == Fraction(1, 2) and n % 2 == 1):
        n += 1
    v = Fraction(n) / scale
    if v >= Fraction(2) ** (emax + 1):
        return sign * math.inf
    f = float(v)  # exact: v has at most mant significant bits
    if dtype == "float32":
        f = float(np.float32(f))
        assert Fraction(f) == v
    return sign * f


def exact_loss(kind, beta, x, y):
    z = abs(Fraction(x) - Fraction(y))
    b = Fraction(beta)
    if kind == "huber":
        return z * z / 2 if z < b else b * (z - b / 2)
    if beta == 0:
        return z
    return z * z / (2 * b) if z < b else z - b / 2


def exact_deriv(kind, beta, x, y):
    d = Fraction(x) - Fraction(y)
    z = abs(d)
    b = Fraction(beta)
    s = (d > 0) - (d < 0)
    if kind == "huber":
        return d if z < b else b * s
    if beta == 0:
        return Fraction(s)
    return d / b if z < b else Fraction(s)


def torch_loss(kind, beta, xt, yt):
    if kind == "huber":
        return torch.nn.functional.huber_loss(xt, yt, reduction="none", delta=beta)
    return torch.nn.functional.smooth_l1_loss(xt, yt, reduction="none", beta=beta)


def weights(r, kind, n):
    if kind == "mask":
        return [float(r.randint(0, 1)) for _ in range(n)]
    if kind == "uniform":
        return [r.random() for _ in range(n)]
    if kind == "wide":
        return [r.random() * 2.0 ** r.randint(-15, 15) for _ in range(n)]
    return [r.gauss(0, 1) * 2.0 ** r.randint(-5, 5) for _ in range(n)]


def case(r, name, kind, beta, dtype, x, y, w, cols):
    npt = np.float32 if dtype == "float32" else np.float64
    tt = torch.float32 if dtype == "float32" else torch.float64
    x = [float(npt(v)) for v in x]
    y = [float(npt(v)) for v in y]
    w = [float(npt(v)) for v in w]
    bt = float(npt(beta))  # beta converted to the element type
    n = len(x)
    out = {"name": name, "loss": kind, "dtype": dtype, "beta": hexf(beta, "float64"),
           "x": [hexf(v, dtype) for v in x], "y": [hexf(v, dtype) for v in y],
           "w": [hexf(v, dtype) for v in w], "cols": cols}
    xt = torch.tensor(x, dtype=tt, requires_grad=True)
    yt = torch.tensor(y, dtype=tt)
    wt = torch.tensor(w, dtype=tt)
    lt = torch_loss(kind, beta, xt, yt)
    st = (lt * wt).sum()
    st.backward()
    out["torch_sum"] = hexf(st.item(), dtype)
    out["torch_mean"] = hexf(((lt * wt).sum() / wt.sum()).item(), dtype)
    out["torch_grad"] = [hexf(v, dtype) for v in xt.grad.tolist()]
    rows = n // cols
    lr = lt.detach()[: rows * cols].view(rows, cols)
    out["torch_rows"] = [hexf(v, dtype) for v in lr.sum(1).tolist()]
    out["torch_row_means"] = [hexf(v, dtype) for v in lr.mean(1).tolist()]
    finite = all(math.isfinite(v) for v in x + y + w)
    if finite:
        ls = [exact_loss(kind, bt, a, b) for a, b in zip(x, y)]
        s = sum((l * Fraction(c) for l, c in zip(ls, w)), Fraction(0))
        ws = sum((Fraction(c) for c in w), Fraction(0))
        out["exact_sum"] = hexf(round_to(s, dtype), dtype)
        out["exact_mean"] = hexf(round_to(s / ws, dtype), dtype) if ws != 0 else None
        out["exact_grad"] = [hexf(round_to(exact_deriv(kind, bt, a, b) * Fraction(c), dtype), dtype)
                             for a, b, c in zip(x, y, w)]
        rs = [sum(ls[i * cols:(i + 1) * cols], Fraction(0)) for i in range(rows)]
        out["exact_rows"] = [hexf(round_to(v, dtype), dtype) for v in rs]
        out["exact_row_means"] = [hexf(round_to(v / cols, dtype), dtype) for v in rs]
    return out


def main():
    r = random.Random(15)
    cases = []
    losses = [("smooth_l1", 1.0), ("smooth_l1", 0.3), ("smooth_l1", 0.0), ("huber", 1.0), ("huber", 1.7)]
    for dtype in ("float32", "float64"):
        for kind, beta in losses:
            for wk in ("mask", "uniform", "wide", "signed"):
                for n, cols in ((1, 1), (7, 7), (8, 4), (9, 3), (33, 11), (100, 4)):
                    wide = wk == "wide"
                    x = [r.gauss(0, 1) * (2.0 ** r.randint(-10, 10) if wide else 1) for _ in range(n)]
                    y = [r.gauss(0, 1) * (2.0 ** r.randint(-10, 10) if wide else 1) for _ in range(n)]
                    w = weights(r, wk, n)
                    cases.append(case(r, f"{wk}-{n}", kind, beta, dtype, x, y, w, cols))
            # Special values: a masked NaN prediction and a masked infinite loss (NaN,
            # as 0*NaN and 0*Inf), an infinite loss with a positive weight (+Inf).
            nan, inf = float("nan"), float("inf")
            cases.append(case(r, "masked-nan", kind, beta, dtype, [nan, 1, 2, 0.5], [0, 0, 0, 0], [0, 1, 1, 1], 2))
            cases.append(case(r, "masked-inf", kind, beta, dtype, [inf, 1, 2, 0.5], [0, 0, 0, 0], [0, 1, 1, 1], 2))
            cases.append(case(r, "inf-loss", kind, beta, dtype, [inf, 1, 2, 0.5], [0, 0, 0, 0], [1, 1, 1, 1], 4))
    json.dump({"generator": "testdata/weighted_golden.py", "torch": torch.__version__, "cases": cases},
              __import__("sys").stdout, indent=None, separators=(",", ":"))


if __name__ == "__main__":
    main()
