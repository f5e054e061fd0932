"""Speed of the monitor's filter: series-updates per second for N series x 50 steps.

Peers measured in the same run: (1) the same filter as plain per-series Python
(`cybersyn.monitor._reference`: standard-library math, one series at a time) on a subset;
its outputs on that subset are also compared with ours (`max_rel_diff_vs_python`, the
largest relative difference of forecast, level and regime probabilities); (2) statsmodels'
UnobservedComponents (local linear trend, Kalman filter only, fixed parameters, one series
at a time) on a subset.

Besides wall-clock updates/s (and the speedup over each peer, wall-clock over wall-clock,
measured minutes apart, so load changes it) each line gives the CPU seconds of this process
(summed over threads), updates per CPU-second and the 1-minute load average, because the
machine is shared: when other work holds the cores, wall-clock figures fall and the CPU
figure tells what the kernel itself costs (for the Python peer also per CPU-second, and
`speedup_per_cpu_s` = ours per CPU-second over the peer's). The wall-clock figure is the
one the target is about; on a quiet machine it approaches updates_per_cpu_s x threads.

    python bench/monitor.py [--json] [--sizes 1000,100000,1000000] [--steps 50]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numba as nb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cybersyn.monitor import FilterParams, MultiProcessFilter, new_state
from cybersyn.monitor import _kernel as K
from cybersyn.monitor import _reference as R
from cybersyn.monitor.filter import PARALLEL_FROM


def data(n: int, steps: int, seed: int = 0) -> np.ndarray:
    """(steps, n): random walks around 100 with noise; a step of 8 in a tenth of them."""
    rng = np.random.default_rng(seed)
    y = 100.0 + rng.normal(0, 1, (steps, n)).cumsum(axis=0) * 0.2 + rng.normal(0, 1, (steps, n))
    y[steps // 2 :, : n // 10] += 8.0
    return y


def ours(n: int, steps: int) -> dict[str, float]:
    """Wall and CPU seconds of `steps` updates of n series (compiled first, untimed)."""
    f = MultiProcessFilter()
    y = data(n, steps)
    w = min(n, 2 * PARALLEL_FROM)
    f.update(new_state(w), y[0, :w], 0.0)  # compile / load the kernel this size uses
    state = new_state(n)
    out = np.empty((n, K.N_OUT))
    t0, c0 = time.perf_counter(), time.process_time()
    for k in range(steps):
        f.update(state, y[k], float(k), out=out)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall_s": wall, "cpu_s": cpu, "bytes_per_series": state.nbytes // n}


def python_peer(n: int = 300, steps: int = 20) -> tuple[float, float, float]:
    """(updates/s and updates per CPU-second of the plain per-series Python filter, max
    relative difference of our outputs from its outputs on the same n series)."""
    y = data(n, steps, seed=1)
    prm = [float(x) for x in FilterParams().as_array()]
    states = [R.RefState() for _ in range(n)]
    ref = np.empty((steps, n, K.N_OUT))
    t0, c0 = time.perf_counter(), time.process_time()
    for k in range(steps):
        for j in range(n):  # one series at a time
            ref[k, j] = R.step(states[j], float(y[k, j]), float(k), prm)
    ups = n * steps / (time.perf_counter() - t0)
    upc = n * steps / (time.process_time() - c0)
    f = MultiProcessFilter()
    s = new_state(n)
    got = np.stack([f.update(s, y[k], float(k)).raw.copy() for k in range(steps)])
    cols = [K.OUT_FORECAST, K.OUT_LEVEL, *range(K.OUT_P, K.OUT_P + 4)]
    a, b = got[:, :, cols], ref[:, :, cols]
    diff = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
    return ups, upc, diff


def statsmodels_peer(n: int = 20, steps: int = 50) -> float:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    y = data(n, steps)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for j in range(n):
            mod = UnobservedComponents(y[:, j], level="local linear trend")
            mod.filter([1.0, 0.04, 1e-4])
    return n * steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    py, py_cpu, diff = python_peer()
    sm = statsmodels_peer()
    for n in (int(x) for x in args.sizes.split(",")):
        load = os.getloadavg()[0]
        r = ours(n, args.steps)
        ups = n * args.steps / r["wall_s"]
        for peer, pups in (("python-per-series", py), ("statsmodels-UC-llt", sm)):
            line = {"case": f"N={n}", "n_series": n, "steps": args.steps,
                    "updates_per_s": round(ups), "bytes_per_series": r["bytes_per_series"],
                    "wall_s": round(r["wall_s"], 3), "cpu_s": round(r["cpu_s"], 3),
                    "updates_per_cpu_s": round(n * args.steps / r["cpu_s"]),
                    "threads": nb.get_num_threads() if n >= PARALLEL_FROM else 1,
                    "loadavg_1min": round(max(load, os.getloadavg()[0]), 1), "peer": peer,
                    "peer_updates_per_s": round(pups, 1), "speedup": round(ups / pups, 1)}
            if peer == "python-per-series":
                upc = n * args.steps / r["cpu_s"]
                line.update(peer_updates_per_cpu_s=round(py_cpu, 1),
                            speedup_per_cpu_s=round(upc / py_cpu, 1),
                            max_rel_diff_vs_python=float(f"{diff:.2g}"))
            print(json.dumps(line) if args.json else line, flush=True)


if __name__ == "__main__":
    main()
