"""A synthetic input-output system of any size, for tests and benchmarks.

Each product uses `inputs_per_product` others with value shares summing to at most 0.7 per
column (so A is productive: its column sums bound the spectral radius below 1); capacity
exceeds the gross output the final-demand targets need by 5-30 %.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cybersyn.councils.participatory import solve_leontief
from cybersyn.economy.model import IOSystem


def synthetic_io(n: int, seed: int = 0, inputs_per_product: int = 8) -> IOSystem:
    """An IOSystem of n products; the same seed gives the same system."""
    rng = np.random.default_rng(seed)
    k = min(inputs_per_product, max(n - 1, 0))
    rows = np.concatenate([rng.choice(n, size=k, replace=False) for _ in range(n)]) \
        if k else np.zeros(0, int)
    cols = np.repeat(np.arange(n), k)
    shares = rng.uniform(0.2, 1.0, n * k)
    col_total = np.bincount(cols, weights=shares, minlength=n)
    budget = rng.uniform(0.3, 0.7, n)
    vals = shares * (budget / np.maximum(col_total, 1e-12))[cols]
    keep = rows != cols
    A = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n))
    labour = rng.uniform(0.5, 5.0, n)
    demand = rng.uniform(50.0, 500.0, n)
    gross = solve_leontief(A, demand)
    capacity = gross * rng.uniform(1.05, 1.3, n)
    codes = tuple(f"p{i:05d}" for i in range(n))
    return IOSystem(codes, A, labour, capacity, demand)
