"""Synthetic economies for tests and benchmarks, generated from a seed.

Each product uses 10–20 inputs (uniform), chosen with a power-law preference (a product of
rank r is picked with weight r^−α, α = 1.1), so a few products (energy, transport) feed
almost everything, as in real tables. Column sums are drawn in [0.5, 0.9], which bounds the
spectral radius by 0.9 (and ρ ≥ min column sum = 0.5 for a non-negative matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class SyntheticEconomy:
    """A (n, n) CSR; labour, final_demand, capacity (n,)."""

    A: sp.csr_matrix
    labour: np.ndarray
    final_demand: np.ndarray
    capacity: np.ndarray


def random_economy(n: int, *, seed: int = 0, inputs: tuple[int, int] = (10, 20),
                   alpha: float = 1.1, colsum: tuple[float, float] = (0.5, 0.9),
                   capacity_slack: float = 1.3) -> SyntheticEconomy:
    """A random productive economy of n products (see module docstring)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(inputs[0], inputs[1] + 1, size=n)
    cols = np.repeat(np.arange(n, dtype=np.int64), k)
    weights = np.arange(1, n + 1, dtype=float) ** -alpha
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    rows = np.searchsorted(cdf, rng.random(cols.size))
    rows = rng.permutation(n)[np.minimum(rows, n - 1)]
    vals = rng.random(cols.size) + 0.05
    A = sp.csc_matrix((vals, (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    sums = np.asarray(A.sum(axis=0)).ravel()
    target = rng.uniform(*colsum, size=n)
    A = sp.csr_matrix(A @ sp.diags(target / sums))
    labour = rng.lognormal(0.0, 1.0, n)
    demand = rng.lognormal(3.0, 1.0, n)
    from cybersyn.plan.leontief import leontief_output

    x = leontief_output(A, demand)
    capacity = x * capacity_slack * rng.uniform(0.8, 1.2, n)
    return SyntheticEconomy(A, labour, demand, capacity)


def harmony_economy(n: int, *, seed: int = 0, tight_share: float = 0.25,
                    tight: tuple[float, float] = (0.92, 1.0),
                    loose: tuple[float, float] = (1.1, 2.5)) -> SyntheticEconomy:
    """A random economy (as `random_economy`) whose capacities make the harmony plan differ
    from the proportional one: a share `tight_share` of products (drawn at random) gets
    capacity U(tight) × x̂ᵢ, the rest U(loose) × x̂ᵢ, where x̂ = (I − A)⁻¹ final_demand. With
    labour at 0.9 × l·x̂ (the bench's choice) the proportional plan λx̂ is labour-bound
    (λ = 0.9 < 0.92), and a harmony plan that shifts labour towards products that are
    cheap per unit of target runs into the tight capacities: labour and capacities bind
    together. Same seed, same economy."""
    eco = random_economy(n, seed=seed, capacity_slack=1.0)
    rng = np.random.default_rng([seed, 1])
    from cybersyn.plan.leontief import leontief_output

    xhat = leontief_output(eco.A, eco.final_demand)
    is_tight = rng.random(n) < tight_share
    slack = np.where(is_tight, rng.uniform(*tight, size=n), rng.uniform(*loose, size=n))
    return SyntheticEconomy(eco.A, eco.labour, eco.final_demand, xhat * slack)
