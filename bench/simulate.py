"""Benchmark of the daily dynamic IO simulator (cybersyn.simulate) on random sparse economies.

Each case: n products with ~8 inputs each, 44 districts, a 26-day transport strike with
the full response (requisition, reroute, rationing), `days` days, products not recorded.
Peer measured in the same run: one static sparse Leontief solve (I - A) x = y on the same
economy (scipy GMRES to 1e-12), i.e. the cost of the plan's steady state.

    python bench/simulate.py [--json] [--full]     (--full adds 10^5 products × 365 days)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from rich.console import Console

from cybersyn.economy import IOSystem
from cybersyn.simulate import Policy, Shock, SimParams, build, simulate

err = Console(stderr=True)


def random_economy(n: int, per_column: int = 8, seed: int = 0) -> IOSystem:
    """A productive sparse A of shape (n, n) (column sums in [0.2, 0.7])."""
    rng = np.random.default_rng(seed)
    k = min(per_column, n - 1)
    rows = rng.integers(0, n, n * k)
    cols = np.repeat(np.arange(n), k)
    A = sp.csc_matrix((rng.uniform(0.1, 1.0, n * k), (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    A = A @ sp.diags(rng.uniform(0.2, 0.7, n) / np.maximum(A.sum(axis=0).A1, 1e-12))
    y = rng.uniform(10.0, 1000.0, n) * 365
    return IOSystem(tuple(f"p{i}" for i in range(n)), sp.csr_matrix(A), rng.uniform(1, 9, n),
                    np.full(n, np.inf), y)


def case(n: int, days: int) -> dict[str, object]:
    t0 = time.perf_counter()
    io = random_economy(n)
    rng = np.random.default_rng(1)
    eco = build(io, district_weight=rng.uniform(1, 5, 44), affluence=rng.uniform(0, 1, 44),
                essential=rng.uniform(size=n) < 0.2, spoilage=0.05)
    setup = time.perf_counter() - t0
    strike = (Shock("transport_cut", 60, 26, 0.55), Shock("absenteeism", 60, 26, 0.12))
    response = (Policy("requisition", 62, 24, 0.35), Policy("reroute", 62, 24, 0.15),
                Policy("rationing", 60, 40))
    tracemalloc.start()
    t0 = time.perf_counter()
    res = simulate(eco, SimParams(demand_noise=0.02), days, shocks=strike, policies=response,
                   seed=1, record_products=False)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    M = (sp.identity(n, format="csc") - sp.csc_matrix(io.A)).tocsr()
    t0 = time.perf_counter()
    spla.gmres(M, io.final_demand, rtol=1e-12, atol=0.0, restart=50, maxiter=1000)
    peer = time.perf_counter() - t0
    return {"case": f"random n={n} days={days}", "n_products": n, "nnz": int(io.A.nnz),
            "days": days, "seconds": round(seconds, 3), "peak_mb": round(peak, 1),
            "ms_per_day": round(1000 * seconds / days, 2), "setup_seconds": round(setup, 3),
            "max_stock_flow_imbalance": res.max_imbalance,
            "peer": "scipy gmres (I-A)x=y to 1e-12, one static Leontief solve",
            "peer_seconds": round(peer, 3), "target_seconds": 10.0 if n == 10_000 else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="one JSON line per case")
    ap.add_argument("--full", action="store_true", help="add 10^5 products × 365 days")
    args = ap.parse_args()
    cases = [(1_000, 365), (10_000, 365)] + ([(100_000, 365)] if args.full else [])
    for n, days in cases:
        with err.status(f"simulating {n} products × {days} days"):
            row = case(n, days)
        print(json.dumps(row) if args.json else
              f"{row['case']}: {row['seconds']} s, peak {row['peak_mb']} MB "
              f"(peer {row['peer_seconds']} s)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
