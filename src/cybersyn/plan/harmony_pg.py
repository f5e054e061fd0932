"""Harmony balancing on the gross outputs: a spectral projected-gradient ascent.

Cockshott's balancing adjusts each product's gross output by the harmony gradient of its net
output (Cockshott, "Application of artificial intelligence techniques to economic planning",
1990). Here that step is made exact and safe: with net output y = (I − A)x and
f(x) = Σ wᵢ H(yᵢ/tᵢ − 1), the gradient is ∇f = (I − A)ᵀ (w ∘ H′(s) / t), one sparse product
with Aᵀ. Each step moves along the gradient and projects back onto the feasible box
0 ≤ x ≤ capacity intersected with the labour half-space l·x ≤ L (an O(n) bisection on one
multiplier), with Barzilai–Borwein step lengths and the non-monotone line search of the
spectral projected gradient (Birgin, Martínez & Raydan, SIAM J. Optim. 10(4), 2000).
Gross outputs are scaled by the proportional plan's x̂ = (I − A)⁻¹ t so that every variable
is of order one. Every iterate is feasible for capacity and labour, so starting from the
proportional plan the result can only be better; net outputs that turn negative are
penalised and repaired at the end by mixing with the starting plan (y is linear in x).
Cost per step: about three sparse products with A, so O(nnz) per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from cybersyn.plan.problem import PlanProblem

Objective = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class PgParams:
    """iterations: largest number of projected-gradient steps in all; tol: stop when the
    unit-step projected gradient is below tol (max norm, a KKT point), or when the best value
    of the last 5·memory steps beats the earlier best by less than `stall` relatively;
    memory: non-monotone line-search window; rho: augmented-Lagrangian penalty on negative
    net output (times the median weight)."""

    iterations: int = 300
    tol: float = 1e-7
    memory: int = 10
    stall: float = 1e-9
    rho: float = 10.0

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise ValueError("Expected iterations >= 1.")
        if not 0 < self.tol < 1:
            raise ValueError("Expected tol in (0, 1).")
        if not 0 <= self.stall < 1:
            raise ValueError("Expected stall in [0, 1).")
        if not self.rho > 0:
            raise ValueError("Expected rho > 0.")
        if self.memory < 1:
            raise ValueError("Expected memory >= 1.")


def _project(v: np.ndarray, ub: np.ndarray, a: np.ndarray, b: float) -> np.ndarray:
    """Euclidean projection of v onto {0 ≤ u ≤ ub, a·u ≤ b} (a ≥ 0), shapes (m,)."""
    u = np.clip(v, 0.0, ub)
    if not np.isfinite(b) or float(a @ u) <= b:
        return np.asarray(u)
    lo, hi = 0.0, 1.0
    while float(a @ np.clip(v - hi * a, 0.0, ub)) > b:
        hi *= 2.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if float(a @ np.clip(v - mid * a, 0.0, ub)) > b:
            lo = mid
        else:
            hi = mid
    return np.asarray(np.clip(v - hi * a, 0.0, ub))


def _objective(p: PlanProblem, xhat: np.ndarray, s_max: float, rho: float,
               nu: np.ndarray) -> Objective:
    """f(u) and its gradient in scaled outputs u (x = x̂ ∘ u); also returns the net output.
    The constraints cᵢ = yᵢ/scaleᵢ ≥ 0 (net output not negative; scale tᵢ, or x̂ᵢ for products
    without a target) enter through the augmented Lagrangian term
    −Σ (max(0, νᵢ − ρcᵢ)² − νᵢ²) / 2ρ (Nocedal & Wright, *Numerical Optimization*, 2006,
    §17.4); nu has shape (n,)."""
    t, w = p.targets, p.weights
    assert w is not None
    on = t > 0
    scale = np.where(on, np.maximum(t, 1e-300), np.maximum(xhat, 1e-12))

    def f(u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        x = xhat * u
        y = p.net_output(x)
        c = y / scale
        val = np.zeros_like(y)
        d = np.zeros_like(y)
        so = np.minimum(c[on] - 1.0, s_max)
        neg = so < 0
        val[on] = w[on] * np.where(neg, so - 0.5 * so * so, np.log1p(np.maximum(so, 0.0)))
        up = np.where(c[on] - 1.0 < s_max, 1.0 / (1.0 + np.maximum(so, 0.0)), 0.0)
        d[on] = w[on] * np.where(neg, 1.0 - so, up)
        z = np.maximum(nu - rho * c, 0.0)
        val -= (z * z - nu * nu) / (2.0 * rho)
        d += z
        g = d / scale
        grad = xhat * (g - p.A.T @ g) if p.B is None else xhat * (p.B.T @ g - p.A.T @ g)
        return float(val.sum()), np.asarray(grad), y

    return f


def _steps(p: PlanProblem, xhat: np.ndarray, u: np.ndarray, f: Objective,
           params: PgParams) -> tuple[np.ndarray, int]:
    assert p.capacity is not None
    ub = np.where(xhat > 0, p.capacity / np.maximum(xhat, 1e-300), 0.0)
    a = p.labour * xhat
    b = float(p.labour_available)
    val, g, _ = f(u)
    history = [val]
    alpha = 1.0 / max(float(np.abs(g).max()), 1e-300)
    k = failures = 0
    for k in range(1, params.iterations + 1):
        d = _project(u + alpha * g, ub, a, b) - u
        if float(np.abs(d).max()) < params.tol * max(alpha, 1.0) and \
                float(np.abs(_project(u + g, ub, a, b) - u).max()) < params.tol:
            break  # the unit-step projected gradient vanishes: a KKT point
        ref, slope, lam = max(history[-params.memory:]), float(g @ d), 1.0
        while True:
            un = u + lam * d
            vn, gn, _ = f(un)
            if vn >= ref + 1e-4 * lam * slope:
                break
            lam *= 0.5
            if lam < 1e-8:
                break
        if lam < 1e-8:  # no ascent at this step length: restart with a much shorter one
            failures += 1
            if failures > 3:
                return u, k
            alpha *= 1e-6
            continue
        failures = 0
        sv, yv = un - u, gn - g
        sy = float(sv @ yv)
        alpha = float(sv @ sv) / -sy if sy < 0 else 1e3 * alpha
        alpha = min(max(alpha, 1e-30), 1e12)
        u, g = un, gn
        history.append(vn)
        window = 5 * params.memory
        if len(history) > window and max(history[-window:]) - max(history[:-window]) \
                <= params.stall * max(abs(vn), 1e-300):
            break  # the best value gained too little over the last `window` steps
    return u, k


def pg_polish(p: PlanProblem, x0: np.ndarray, xhat: np.ndarray, s_max: float,
              params: PgParams | None = None) -> tuple[np.ndarray, int]:
    """Improve a feasible square plan x0 (m,) by projected-gradient ascent on the harmony of
    its net output; x̂ (m,) scales the variables. Returns (feasible plan, steps taken).
    Needs one technique per product and no scarce-resource rows (capacity and labour only)."""
    params = params or PgParams()
    xhat = np.maximum(xhat, 1e-12 * max(float(xhat.max(initial=0.0)), 1.0))
    u, total = x0 / xhat, 0
    w = p.weights
    assert w is not None
    on = p.targets > 0
    scale = np.where(on, np.maximum(p.targets, 1e-300), xhat)
    rho = params.rho * (float(np.median(w[on])) if on.any() else 1.0)
    nu = np.zeros(p.n)
    while total < params.iterations:
        budget = replace(params, iterations=params.iterations - total)
        u, k = _steps(p, xhat, u, _objective(p, xhat, s_max, rho, nu), budget)
        total += k
        c = p.net_output(xhat * u) / scale
        nu = np.maximum(nu - rho * c, 0.0)
        if float(c.min(initial=0.0)) > -params.tol:
            break
    assert p.capacity is not None
    x = np.minimum(xhat * u, p.capacity)  # rounding of x̂ ∘ u may pass a capacity by an ulp
    return _mix_nonnegative(p, x0, _fill_deficits(p, x)), total


def _fill_deficits(p: PlanProblem, x: np.ndarray, rounds: int = 50) -> np.ndarray:
    """Raise the gross output of products whose net output is negative by their deficit
    (which draws a little more of their inputs, so repeat; the deficits shrink like the
    powers of A), then shrink uniformly if labour is exceeded. Returns x unchanged if a
    capacity would be broken."""
    assert p.capacity is not None
    if not p.square:
        return x
    y = p.net_output(x)
    out = x.copy()
    for _ in range(rounds):
        need = np.maximum(-y, 0.0)
        if not need.any():
            break
        out += need
        y = p.net_output(out)
    hours = float(p.labour @ out)
    if hours > p.labour_available:  # shrink uniformly: net output keeps its sign
        out *= float(p.labour_available) / hours
    over = out > p.capacity
    if np.any(out[over] > p.capacity[over] * (1 + 1e-12)):
        return x
    return np.asarray(np.minimum(out, p.capacity))


def _mix_nonnegative(p: PlanProblem, x0: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The point θx + (1 − θ)x0 with the largest θ ∈ [0, 1] whose net output is ≥ 0
    (x0's net output is ≥ 0; net output is linear in x, so θ has a closed form)."""
    y1, y0 = p.net_output(x), p.net_output(x0)
    bad = y1 < 0
    if not bad.any():
        return x
    theta = float(np.min(y0[bad] / np.maximum(y0[bad] - y1[bad], 1e-300)))
    theta = min(max(theta * (1 - 1e-12), 0.0), 1.0)
    return theta * x + (1 - theta) * x0
