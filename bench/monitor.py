"""Speed of the monitor's filter: series-updates per second for N series x 50 steps.

Peers measured in the same run: (1) the same filter run as plain per-series Python (the
numba kernel's own source executed with NUMBA_DISABLE_JIT=1, in a subprocess, on a
subset); (2) statsmodels' UnobservedComponents (local linear trend, Kalman filter only,
fixed parameters, one series at a time) on a subset.

Besides wall-clock updates/s each line gives updates per CPU-second of this process
(`updates_per_cpu_s`, summed over threads) and the 1-minute load average, because the
machine is shared: when other work holds the cores, wall-clock figures fall and the CPU
figure tells what the kernel itself costs.

    python bench/monitor.py [--json] [--sizes 1000,100000,1000000] [--steps 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numba as nb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cybersyn.monitor import MultiProcessFilter, new_state
from cybersyn.monitor import _kernel as K
from cybersyn.monitor.filter import PARALLEL_FROM


def data(n: int, steps: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = 100.0 + rng.normal(0, 1, (steps, n)).cumsum(axis=0) * 0.2 + rng.normal(0, 1, (steps, n))
    y[steps // 2 :, : n // 10] += 8.0
    return y


def ours(n: int, steps: int) -> tuple[float, int]:
    """(updates per second, state bytes per series); a warm-up step compiles first."""
    f = MultiProcessFilter()
    y = data(n, steps)
    f.update(new_state(min(n, 30_000)), y[0, : min(n, 30_000)], 0.0)
    state = new_state(n)
    out = np.empty((n, K.N_OUT))
    t0, c0 = time.perf_counter(), time.process_time()
    for k in range(steps):
        f.update(state, y[k], float(k), out=out)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return n * steps / wall, state.nbytes // n, cpu


def python_peer(n: int = 100, steps: int = 20) -> float:
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, __file__, "--peer-child", str(n), str(steps)],
                         env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def peer_child(n: int, steps: int) -> None:
    from cybersyn.monitor.params import FilterParams

    y = data(n, steps)
    prm = FilterParams().as_array()
    s = new_state(n)
    out = np.empty((n, K.N_OUT))
    t0 = time.perf_counter()
    for k in range(steps):
        for j in range(n):  # one series at a time
            sl = slice(j, j + 1)
            K.step_serial(y[k, sl], np.array([float(k)]), prm, *K.views(s[sl]), out[sl])
    print(n * steps / (time.perf_counter() - t0))


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
    ap.add_argument("--peer-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer_child:
        peer_child(*args.peer_child)
        return
    py = python_peer()
    sm = statsmodels_peer()
    for n in (int(x) for x in args.sizes.split(",")):
        ups, bps, cpu = ours(n, args.steps)
        for peer, pups in (("python-per-series", py), ("statsmodels-UC-llt", sm)):
            line = {"case": f"N={n}", "n_series": n, "steps": args.steps,
                    "updates_per_s": round(ups), "bytes_per_series": bps,
                    "updates_per_cpu_s": round(n * args.steps / cpu),
                    "threads": nb.get_num_threads() if n >= PARALLEL_FROM else 1,
                    "loadavg_1min": round(os.getloadavg()[0], 1), "peer": peer,
                    "peer_updates_per_s": round(pups, 1), "speedup": round(ups / pups, 1)}
            print(json.dumps(line) if args.json else line, flush=True)


if __name__ == "__main__":
    main()
