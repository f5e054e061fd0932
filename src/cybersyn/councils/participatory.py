"""Participatory iterative planning (Albert & Hahnel), as a pure function over arrays.

Albert, M. & Hahnel, R. (1991) *The Political Economy of Participatory Economics*,
Princeton UP, ch. 5 ("the iterative procedure"); Hahnel, R. (2005) *Economic Justice and
Democracy*, ch. 9. Each round:

1. the planning office (the iteration facilitation board) publishes indicative prices p,
   shape (n,), in labour hours per unit; round 1 uses the labour values v = v A + l;
2. enterprise councils answer with the output x_j they can make, shape (n,), rising with
   their social benefit-to-cost ratio r_j = p_j / (p A + l)_j and never above capacity:
   x_j = min(cap_j, x0_j r_j^supply_elasticity); the inputs they need are A x;
3. district councils answer with what their households ask for, shape (k, n):
   D_k = share_k d (v / p)^demand_elasticity (d: the published final-demand target);
4. the facilitation step raises the price of every product in excess demand
   z = A x + sum_k D_k - x and lowers it where supply exceeds demand:
   p <- p exp(step clip(z / s, -1, 1)), s = max(x, A x + sum_k D_k).

From round `cap_from` on, no council's proposal may move more than `move_cap` (a share)
from its previous one (Hahnel 2005 ch. 9: proposals must converge, not jump). Rounds repeat
until max |z / s| <= tolerance or `max_rounds`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cybersyn.economy.model import IOSystem


@dataclass(frozen=True)
class ParticipatoryParams:
    """tolerance: largest relative excess demand |z|/s accepted (0.01 = 1 %).
    max_rounds: rounds before the office stops. step: facilitation step on log prices.
    supply_elasticity, demand_elasticity: councils' responses to prices (dimensionless).
    first_offer: enterprises' first output as a share of capacity (at r = 1).
    move_cap, cap_from: from round cap_from on, a proposal moves at most move_cap a round."""

    tolerance: float = 0.01
    max_rounds: int = 60
    step: float = 0.6
    supply_elasticity: float = 1.0
    demand_elasticity: float = 0.5
    first_offer: float = 0.9
    move_cap: float = 0.10
    cap_from: int = 3

    def __post_init__(self) -> None:
        checks = [
            (0 < self.tolerance < 1, "tolerance in (0, 1)"),
            (1 <= self.max_rounds <= 10_000, "max_rounds in 1..10000"),
            (0 < self.step <= 2, "step in (0, 2]"),
            (self.supply_elasticity >= 0, "supply_elasticity >= 0"),
            (self.demand_elasticity >= 0, "demand_elasticity >= 0"),
            (0 < self.first_offer <= 1, "first_offer in (0, 1]"),
            (0 < self.move_cap <= 1, "move_cap in (0, 1]"),
            (self.cap_from >= 2, "cap_from >= 2"),
        ]
        for ok, what in checks:
            if not ok:
                raise ValueError(f"Expected {what}.")


@dataclass(frozen=True)
class Round:
    """One round. prices, outputs, household_demand, excess: shape (n,); outputs in product
    units per year, prices in labour hours per unit; max_excess: max |z / s| (a share)."""

    number: int
    prices: np.ndarray
    outputs: np.ndarray
    household_demand: np.ndarray
    excess: np.ndarray
    max_excess: float
    labour_hours: float


@dataclass(frozen=True)
class ParticipatoryResult:
    rounds: tuple[Round, ...]
    converged: bool
    labour_values: np.ndarray

    @property
    def final(self) -> Round:
        return self.rounds[-1]


DIRECT_MAX_N = 2000


def solve_leontief(A: sp.spmatrix, b: np.ndarray) -> np.ndarray:
    """x of shape (n,) solving (I - A) x = b. A direct sparse LU up to DIRECT_MAX_N
    products; beyond, GMRES (Saad & Schultz 1986), since LU of a random sparse A fills in
    (10^4 products: 25 million nonzeros, minutes), with LU as the fallback."""
    n = A.shape[0]
    M = (sp.identity(n, format="csc") - sp.csc_matrix(A)).tocsc()
    if n > DIRECT_MAX_N:
        x, info = spla.gmres(M, b, rtol=1e-12, atol=0.0, restart=50, maxiter=200)
        if info == 0:
            return np.asarray(x, dtype=float)
    return np.asarray(spla.spsolve(M, b), dtype=float).reshape(n)


def labour_values(io: IOSystem) -> np.ndarray:
    """v of shape (n,) solving v = v A + l (hours per unit): (I - A)^T v = l."""
    return solve_leontief(io.A.T, io.labour)


def gross_output(io: IOSystem, final: np.ndarray) -> np.ndarray:
    """x of shape (n,) solving x = A x + final."""
    return solve_leontief(io.A, final)


def _first_offer(io: IOSystem, params: ParticipatoryParams) -> np.ndarray:
    gross = gross_output(io, io.final_demand)
    cap = io.capacity
    return np.where(np.isfinite(cap), params.first_offer * cap, gross)


def _enterprise_offer(io: IOSystem, p: np.ndarray, x0: np.ndarray,
                      params: ParticipatoryParams) -> np.ndarray:
    cost = io.A.T @ p + io.labour
    ratio = np.divide(p, cost, out=np.ones_like(p), where=cost > 0)
    return np.asarray(np.minimum(io.capacity, x0 * ratio**params.supply_elasticity))


def _household_ask(io: IOSystem, p: np.ndarray, v: np.ndarray, shares: np.ndarray,
                   params: ParticipatoryParams) -> np.ndarray:
    rel = np.divide(v, p, out=np.ones_like(p), where=p > 0)
    per_unit = io.final_demand * rel**params.demand_elasticity
    return np.asarray(shares[:, None] * per_unit[None, :])


def _cap(new: np.ndarray, old: np.ndarray, cap: float) -> np.ndarray:
    return np.asarray(np.clip(new, old * (1 - cap), old * (1 + cap)))


def run_rounds(io: IOSystem, district_shares: np.ndarray | None = None,
               params: ParticipatoryParams | None = None) -> ParticipatoryResult:
    """Run the iterative procedure on `io`. district_shares: shape (k,), each district's
    share of households (sums to 1; default one district)."""
    params = params or ParticipatoryParams()
    shares = np.ones(1) if district_shares is None else np.asarray(district_shares, float)
    if shares.ndim != 1 or np.any(shares < 0) or not np.isclose(shares.sum(), 1.0):
        raise ValueError("Expected district_shares of shape (k,), non-negative, summing to 1.")
    v = labour_values(io)
    p, x0 = v.copy(), _first_offer(io, params)
    rounds: list[Round] = []
    x_prev = D_prev = None
    for t in range(1, params.max_rounds + 1):
        x = _enterprise_offer(io, p, x0, params)
        D = _household_ask(io, p, v, shares, params)
        if x_prev is not None and D_prev is not None and t >= params.cap_from:
            x, D = _cap(x, x_prev, params.move_cap), _cap(D, D_prev, params.move_cap)
        demand = io.A @ x + D.sum(axis=0)
        z = demand - x
        scale = np.maximum(np.maximum(x, demand), 1e-12)
        rel = z / scale
        worst = float(np.abs(rel).max()) if rel.size else 0.0
        rounds.append(Round(t, p.copy(), x, D.sum(axis=0), z, worst, float(io.labour @ x)))
        if worst <= params.tolerance:
            return ParticipatoryResult(tuple(rounds), True, v)
        p = p * np.exp(params.step * np.clip(rel, -1.0, 1.0))
        x_prev, D_prev = x, D
    return ParticipatoryResult(tuple(rounds), False, v)
