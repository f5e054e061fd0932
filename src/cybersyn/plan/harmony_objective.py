"""Cockshott's harmony objective and its convex conjugate (shared by the harmony solvers).

With sᵢ = yᵢ/tᵢ − 1 the fulfilment of target tᵢ by net output yᵢ (product units),
H(s) = s − s²/2 for s < 0 and ln(1 + s) for s ≥ 0, capped at s_max (over-fulfilment beyond
s_max brings nothing more). W. P. Cockshott, "Application of artificial intelligence
techniques to economic planning", Future Computing Systems 2(4), 1990.

`conjugate` is the per-product term of the Lagrangian dual: for a price pᵢ ≥ 0 (objective
units per product unit) the best net output maximises wᵢ H(yᵢ/tᵢ − 1) − pᵢyᵢ over yᵢ ≥ 0,
and with r = pᵢtᵢ/wᵢ the answer is closed form:
    r ≥ 2: y = 0 (s = −1), value −1.5 w;
    1 ≤ r < 2: s = 1 − r, value w (r²/2 − 2r + 1/2);
    1/(1 + s_max) ≤ r < 1: s = 1/r − 1, value −w (ln r + 1);
    r < 1/(1 + s_max): s = s_max, value w ln(1 + s_max) − p t (1 + s_max).
"""

from __future__ import annotations

import numpy as np

from cybersyn.plan.problem import PlanProblem

S_MAX = 4.0


def H(s: np.ndarray) -> np.ndarray:
    """Cockshott's harmony function, elementwise; s of any shape, s > -1 where s ≥ 0 used."""
    s = np.asarray(s, dtype=float)
    return np.asarray(np.where(s < 0, s - 0.5 * s * s, np.log1p(np.maximum(s, 0.0))))


def dH(s: np.ndarray) -> np.ndarray:
    """H′(s), elementwise: 1 − s below 0, 1/(1 + s) above (continuous at 0)."""
    s = np.asarray(s, dtype=float)
    return np.where(s < 0, 1.0 - s, 1.0 / (1.0 + np.maximum(s, 0.0)))


def harmony_value(problem: PlanProblem, net: np.ndarray, s_max: float = S_MAX) -> float:
    """Σ wᵢ H(min(sᵢ, s_max)) over products with a positive target (over-fulfilment beyond
    s_max brings nothing more)."""
    t, w = problem.targets, problem.weights
    assert w is not None
    on = t > 0
    return float(w[on] @ H(np.minimum(net[on] / t[on] - 1.0, s_max)))


def best_response(p: np.ndarray, t: np.ndarray, w: np.ndarray, s_max: float) -> np.ndarray:
    """Net outputs y (n,) maximising wᵢ H(yᵢ/tᵢ − 1) − pᵢ yᵢ over yᵢ ≥ 0; 0 if tᵢ = 0."""
    return conjugate(p, t, w, s_max)[1]


def conjugate(p: np.ndarray, t: np.ndarray, w: np.ndarray,
              s_max: float) -> tuple[float, np.ndarray]:
    """(Σᵢ supᵧ≥₀ [wᵢ H(min(y/tᵢ − 1, s_max)) − pᵢ y], the maximisers y (n,)) for prices
    p ≥ 0 (n,) (negative entries are read as 0); products with tᵢ = 0 or wᵢ = 0 add 0 and
    get y = 0. The sum is convex and decreasing in p, with gradient −y."""
    on = (t > 0) & (w > 0)
    pp = np.maximum(p[on], 0.0)
    tt, ww = t[on], w[on]
    r = pp * tt / ww
    floor = 1.0 / (1.0 + s_max)
    s = np.where(r >= 2.0, -1.0,
                 np.where(r >= 1.0, 1.0 - r,
                          np.where(r >= floor, 1.0 / np.maximum(r, floor) - 1.0, s_max)))
    h = np.where(s < 0, s - 0.5 * s * s, np.log1p(np.maximum(s, 0.0)))
    yo = tt * (1.0 + s)
    y = np.zeros_like(t, dtype=float)
    y[on] = yo
    return float(ww @ h - pp @ yo), y
