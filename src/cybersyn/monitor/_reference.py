"""A plain per-series Python implementation of the multi-process filter (no numpy, no JIT).

The same equations as `_kernel.py` (see its docstring), written the obvious way, one series
at a time, with the standard library's `math.log1p`, `math.exp` and `math.sqrt`. It is
(1) the per-series Python peer of `bench/monitor.py` and (2) an independent cross-check of
the vectorised kernel in the tests (whose exp/log1p are its own polynomial versions).

A state is a `RefState`; `from_record` / `to_record` convert one 256-byte `STATE_DTYPE`
record. `step` returns the 15 outputs in the kernel's `OUT_*` column order.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import numpy as np


def _f32(x: float) -> float:
    """x rounded to float32 (the record stores the previous error as float32)."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


@dataclass
class RefState:
    """One series: m[i] = [level, slope], C[i] = [c00, c01, c11] (units of V), p[i]."""

    m: list[list[float]] = field(default_factory=lambda: [[0.0, 0.0] for _ in range(4)])
    C: list[list[float]] = field(default_factory=lambda: [[0.0, 0.0, 0.0] for _ in range(4)])
    p: list[float] = field(default_factory=lambda: [0.0] * 4)
    n: float = 0.0
    d: float = 0.0
    t_last: float = 0.0
    prev_error: float = 0.0
    count: int = 0


def from_record(rec: np.void) -> RefState:
    """A `RefState` from one `STATE_DTYPE` record."""
    return RefState(m=[[float(rec["m"][i, 0]), float(rec["m"][i, 1])] for i in range(4)],
                    C=[[float(rec["C"][i, 0, 0]), float(rec["C"][i, 0, 1]),
                        float(rec["C"][i, 1, 1])] for i in range(4)],
                    p=[float(x) for x in rec["p"]], n=float(rec["n"]), d=float(rec["d"]),
                    t_last=float(rec["t_last"]), prev_error=float(rec["prev_error"]),
                    count=int(rec["count"]))


def to_record(s: RefState, rec: np.void) -> None:
    """Write `s` into one `STATE_DTYPE` record (in place)."""
    for i in range(4):
        rec["m"][i] = s.m[i]
        rec["C"][i] = [[s.C[i][0], s.C[i][1]], [s.C[i][1], s.C[i][2]]]
    rec["p"] = s.p
    rec["n"], rec["d"], rec["t_last"] = s.n, s.d, s.t_last
    rec["prev_error"], rec["count"] = s.prev_error, s.count


def step(s: RefState, y: float, t: float, prm: list[float]) -> list[float]:
    """Advance one series by one observation in place; the 15 outputs (NaN if y is NaN).

    prm is `FilterParams.as_array()` as a list (layout in `_kernel.py`)."""
    pri = prm[23:27]
    lv, sv, ov = prm[4:8], prm[8:12], prm[12:16]
    disc, learn = prm[16], prm[17] > 0.0
    if math.isnan(y):
        return [math.nan] * 15
    if s.count == 0:
        s0 = prm[19] * abs(y) if y != 0.0 else 1.0
        s.m = [[y, 0.0] for _ in range(4)]
        s.C = [[prm[20], 0.0, prm[21]] for _ in range(4)]
        s.p = list(pri)
        s.n, s.d, s.t_last, s.prev_error, s.count = prm[18], prm[18] * s0 * s0, t, 0.0, 1
        return [y, s0 * s0 * (prm[20] + 1.0), y, 0.0, *pri, *pri, 0.0, 0.0, 0.0]
    dt = max(t - s.t_last, 0.0)
    S = s.d / s.n
    n1 = disc * s.n + 1.0 if learn else s.n
    h = 0.5 * (s.n + 1.0)
    fc = sum(s.p[i] * (s.m[i][0] + dt * s.m[i][1]) for i in range(4))
    fv = 0.0
    br = []  # (i, j, m0, m1, c00, c01, c11, dd, log-likelihood, prior weight)
    for i in range(4):
        (m0, m1), (c00, c01, c11) = s.m[i], s.C[i]
        a0 = m0 + dt * m1
        e = y - a0
        p00 = c00 + 2.0 * dt * c01 + dt * dt * c11
        p01 = c01 + dt * c11
        for j in range(4):
            ws = dt * sv[j]
            r00, r01, r11 = p00 + dt * lv[j] + ws, p01 + ws, c11 + ws
            q = r00 + ov[j]
            g0, g1 = r00 / q, r01 / q
            dd = disc * s.d + e * e / q if learn else s.d
            ll = -h * math.log1p(e * e / (S * s.n * q))
            br.append((i, j, a0 + g0 * e, m1 + g1 * e, r00 - g0 * r00, r01 - g0 * r01,
                       r11 - g1 * r01, dd, ll, pri[j] * s.p[i] / math.sqrt(q)))
        fv += s.p[i] * (S * (p00 + dt * (lv[0] + sv[0]) + ov[0]) + (a0 - fc) ** 2)
    mx = max((b[8] for b in br if b[9] > 0.0), default=-math.inf)
    w = [b[9] * math.exp(b[8] - mx) if b[9] > 0.0 else 0.0 for b in br]
    tot = sum(w)
    w = [x / tot for x in w]
    p_prev = [sum(w[4 * i : 4 * i + 4]) for i in range(4)]
    S1 = 1.0 / sum(w[b] * n1 / br[b][7] for b in range(16)) if learn else S
    new_m, new_C, new_p = [], [], []
    for j in range(4):
        pj = sum(w[4 * i + j] for i in range(4))
        ok = pj > 1e-300
        wj = [w[4 * i + j] / pj if ok else s.p[i] for i in range(4)]
        bj = [br[4 * i + j] for i in range(4)]
        m0 = sum(wj[i] * bj[i][2] for i in range(4))
        m1 = sum(wj[i] * bj[i][3] for i in range(4))
        sc = [bj[i][7] / (n1 * S1) if learn else 1.0 for i in range(4)]
        x0 = [b[2] - m0 for b in bj]
        x1 = [b[3] - m1 for b in bj]
        new_C.append([sum(wj[i] * (bj[i][4 + c] * sc[i] + u[i] * v[i] / S1) for i in range(4))
                      for c, (u, v) in enumerate(((x0, x0), (x0, x1), (x1, x1)))])
        new_m.append([m0, m1])
        new_p.append(pj)
    lev = sum(new_p[j] * new_m[j][0] for j in range(4))
    slo = sum(new_p[j] * new_m[j][1] for j in range(4))
    if learn:
        S1 = max(S1, (prm[22] * abs(lev)) ** 2, 1e-300)
        s.n, s.d = n1, n1 * S1
    s.m, s.C, s.p, s.t_last = new_m, new_C, new_p, t
    s.count = min(s.count + 1, 2147483647)
    prev = s.prev_error
    s.prev_error = _f32(y - fc)
    return [fc, fv, lev, slo, *new_p, *p_prev, 1.0 - new_p[0], y - fc, prev]
