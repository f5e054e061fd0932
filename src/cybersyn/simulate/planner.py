"""Re-planning mid-run: recompute output and final-demand targets for the capacity left.

`fallback_plan` is a linear program solved with HiGHS through scipy (Huangfu & Hall 2018):

    maximise  v · y'        (labour value of final goods delivered)
    s.t.      x ≥ (1 - s) ∘ (A x + y'),   0 ≤ x ≤ capacity left,   0 ≤ y' ≤ y

so scarce capacity goes to the final uses worth the most, and no producer is asked for
more than it can make. Above `LP_LIMIT` products the proportional cut θ·(x*, y) with
θ = min(1, min_j cap_j / x*_j) is used instead.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from cybersyn.simulate.core import Planner
from cybersyn.simulate.model import SimEconomy

LP_LIMIT = 5000


def plan_solver() -> Planner:
    """The re-planning function used by the `replan` policy: `fallback_plan`.

    The plan package's `harmony_plan` was tried here (targets (1 - s) ∘ y, capacity left,
    labour limit at the steady state): on chile-1972 with milk capacity halved it planned
    zero milk and zero fuel and over-fulfilled other goods, which is not a re-plan a
    planning office would issue, so the LP below is used until that is reconciled.
    """
    return fallback_plan


def proportional_plan(eco: SimEconomy, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale the steady plan down until every product fits its capacity (shapes (n,))."""
    x = eco.steady_output
    ratio = np.divide(capacity, x, out=np.full(eco.n, np.inf), where=x > 0)
    theta = min(1.0, float(ratio.min(initial=np.inf)))
    return theta * x, theta * eco.final_demand


def fallback_plan(eco: SimEconomy, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The LP above; returns (gross output, final demand), units/day, shapes (n,)."""
    n = eco.n
    if n > LP_LIMIT:
        return proportional_plan(eco, capacity)
    keep = sp.diags(1.0 - eco.import_share)
    # (1-s)∘(A x) - x + (1-s)∘y' ≤ 0
    A_ub = sp.hstack([keep @ eco.A - sp.identity(n), keep]).tocsr()
    bounds = [(0.0, float(c) if np.isfinite(c) else None) for c in capacity] + [
        (0.0, float(y)) for y in eco.final_demand]
    value = np.maximum(eco.value, 1e-9)
    c = np.concatenate([1e-6 * value, -value])  # a little cost on x: no idle output
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(n), bounds=bounds, method="highs")
    if res.status != 0:
        return proportional_plan(eco, capacity)
    x, y = res.x[:n], res.x[n:]
    return np.maximum(x, 0.0), np.maximum(y, 0.0)
