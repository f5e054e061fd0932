"""The harmony plan by its Lagrangian dual: prices that certify how close a plan is to the best.

Problem (one technique per product, A (n, n) productive): maximise Σ wᵢ H(yᵢ/tᵢ − 1) over
net outputs y ≥ 0 and gross outputs 0 ≤ x ≤ cap with (I − A)x ≥ y, l·x ≤ L, Rx ≤ r.
Price the balance rows with p ≥ 0 (objective units per product unit), labour with μ ≥ 0
(per hour) and resources with ρ ≥ 0. For ANY such prices

    g(p, μ, ρ) = Σᵢ sup_{yᵢ≥0} [wᵢ H(yᵢ/tᵢ − 1) − pᵢyᵢ] + μL + ρ·r
                 + Σⱼ capⱼ max(0, ((B − A)ᵀp)ⱼ − μlⱼ − (Rᵀρ)ⱼ)

is an upper bound on the harmony of every feasible plan (weak duality; the first sum is
closed form, see harmony_objective.conjugate), and its minimum equals the optimum (the
problem is concave with linear constraints, so there is no duality gap). `dual_bound`
evaluates g in O(nnz) — one product with Aᵀ — so any plan at any scale gets a certificate:
certified gap = (g − value)/|g|.

`dual_plan` minimises g. Capacity prices κ ≥ 0 (per unit of capacity) parametrise the
prices as p = (I − A)⁻ᵀ(μl + κ + Rᵀρ) (cost prices: every product's price is the cost of its
inputs, labour and scarce capacity), which makes each product's reduced profit exactly κⱼ, so

    g(μ, κ, ρ) = Σᵢ φᵢ(pᵢ) + μL + κ·cap + ρ·r,   ∂g/∂κ = cap − x,  ∂g/∂μ = L − l·x,

with y = y(p) the best net outputs and x = (I − A)⁻¹y: two sparse Leontief solves per
evaluation, and the gradient is the slack of every limit. g is convex and continuously
differentiable in (μ, κ, ρ); it is minimised by L-BFGS-B (Byrd, Lu, Nocedal & Zhu, SIAM J.
Sci. Comput. 16(5), 1995) on variables scaled by the square root of an estimate of the
Hessian's diagonal (Hutchinson's estimator with 16 random probes, one loose solve each;
without it L-BFGS-B needed 4-5x the iterations: a hub's capacity price moves every price a
little, a final good's only its own). This is Cockshott's balancing by prices with the
price update done by a quasi-Newton method. After every iteration the
current gross outputs are repaired into a feasible plan (`recover_plan`) and the best
plan and the lowest bound so far are kept; the run stops when the certified gap is small.

Solves use BiCGSTAB (van der Vorst, SIAM J. Sci. Stat. Comput. 13(2), 1992) warm-started
from the previous evaluation, with inner products by `np.einsum` rather than BLAS (threaded
BLAS dots were 8x slower on the shared 2-core machine), and SuperLU for n ≤ 2,000.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.optimize as so
import scipy.sparse as sp

from cybersyn.errors import InvalidInput
from cybersyn.plan._blas import blas_threads
from cybersyn.plan.harmony_objective import S_MAX, conjugate, harmony_value
from cybersyn.plan.leontief import DIRECT_MAX_N, Leontief, solve_leontief
from cybersyn.plan.problem import PlanProblem


@dataclass(frozen=True)
class DualParams:
    """iterations: most L-BFGS-B iterations in all (each about 1.2 evaluations, each
    evaluation two Leontief solves); gap: stop when bound − value ≤ gap · max(|bound|,
    Σwᵢ/1000) (the certified relative gap; Σwᵢ/1000 guards bounds near 0 — the harmony per
    unit of weight lies in [−1.5, ln(1 + s_max)]); memory: L-BFGS corrections kept;
    solve_tol: relative residual of the inner Leontief solves."""

    iterations: int = 400
    gap: float = 1e-4
    memory: int = 20
    solve_tol: float = 1e-10

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise ValueError("Expected iterations >= 1.")
        if not 0 < self.gap < 1:
            raise ValueError("Expected gap in (0, 1).")
        if self.memory < 1:
            raise ValueError("Expected memory >= 1.")
        if not 0 < self.solve_tol < 1e-3:
            raise ValueError("Expected solve_tol in (0, 1e-3).")


@dataclass
class DualResult:
    """x (n,) the best feasible plan found and its harmony `value`; `bound` the lowest dual
    bound seen (≥ the optimum); prices (n,) p, labour_price μ, capacity_prices κ (n,),
    resource_prices ρ (k,) at the lowest bound; evaluations of g; iterations of L-BFGS-B;
    history: (evaluations so far, value, bound) after each iteration."""

    x: np.ndarray
    value: float
    bound: float
    prices: np.ndarray
    labour_price: float
    capacity_prices: np.ndarray
    resource_prices: np.ndarray
    evaluations: int = 0
    iterations: int = 0
    history: list[tuple[int, float, float]] = field(default_factory=list)

    def gap(self, floor: float = 0.0) -> float:
        """(bound − value) / max(|bound|, floor): the certified relative gap."""
        return (self.bound - self.value) / max(abs(self.bound), floor, 1e-300)


def dual_bound(problem: PlanProblem, prices: np.ndarray, labour_price: float = 0.0,
               resource_prices: np.ndarray | None = None, s_max: float = S_MAX) -> float:
    """g(p, μ, ρ) of the module docstring: an upper bound on the harmony of every feasible
    plan, for any prices p (n,) ≥ 0, μ ≥ 0, ρ (k,) ≥ 0 (negative entries are read as 0).
    Where an activity without capacity limit would still earn a positive reduced profit, μ
    is raised until it does not (the bound stays valid; it is +inf if that is impossible).
    Cost: one product with (B − A)ᵀ, O(nnz)."""
    assert problem.capacity is not None and problem.resources is not None
    assert problem.resource_limits is not None and problem.weights is not None
    p = np.maximum(np.asarray(prices, dtype=float), 0.0)
    mu = max(float(labour_price), 0.0)
    k = problem.resources.shape[0]
    rho = np.zeros(k) if resource_prices is None or k == 0 \
        else np.maximum(np.asarray(resource_prices, dtype=float), 0.0)
    lim = problem.resource_limits
    rho = np.where(np.isfinite(lim), rho, 0.0)
    gross = np.asarray(problem.net_matrix().T @ p) if problem.B is not None \
        else np.asarray(p - problem.A.T @ p)
    if k:
        gross = gross - problem.resources.T @ rho
    cap = problem.capacity
    free = ~np.isfinite(cap)
    profit = gross - mu * problem.labour
    if np.any(profit[free] > 0):
        if not np.isfinite(problem.labour_available):
            return math.inf
        bad = free & (profit > 0)
        if np.any(problem.labour[bad] <= 0):
            return math.inf
        mu = max(mu, float((gross[bad] / problem.labour[bad]).max()))
        profit = gross - mu * problem.labour
    phi, _ = conjugate(p, problem.targets, problem.weights, s_max)
    capped = ~free
    total = phi + float(cap[capped] @ np.maximum(profit[capped], 0.0)) + float(rho[rho > 0]
                                                                               @ lim[rho > 0])
    if mu > 0:
        total += mu * float(problem.labour_available)
    return float(total)


class _Solves(Protocol):
    def solve(self, b: np.ndarray, *, transpose: bool = False,
              x0: np.ndarray | None = None) -> np.ndarray: ...


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.einsum("i,i->", a, b))


class KrylovLeontief:
    """(I − A)x = b or (I − A)ᵀx = b for A (n, n), by BiCGSTAB from a guess x0, with
    BLAS-free inner products; relative residual (2-norm) ≤ tol. Falls back to
    `solve_leontief` (scipy's Krylov methods, then the power series) on a breakdown."""

    def __init__(self, A: sp.spmatrix, tol: float) -> None:
        self.A = sp.csr_matrix(A)
        self.K, self.KT = self.A, sp.csr_matrix(self.A.T)
        self.tol = tol

    def solve(self, b: np.ndarray, *, transpose: bool = False,
              x0: np.ndarray | None = None, maxiter: int = 1000,
              tol: float | None = None) -> np.ndarray:
        K = self.KT if transpose else self.K
        bn = math.sqrt(_dot(b, b))
        if bn == 0.0:
            return np.zeros_like(b)
        tol = self.tol if tol is None else tol
        goal = tol * bn
        x = (b + K @ b) if x0 is None else np.array(x0, dtype=float)
        r = b - (x - K @ x)
        if math.sqrt(_dot(r, r)) <= goal:
            return x
        rhat = r.copy()
        rho = alpha = omega = 1.0
        v = np.zeros_like(b)
        d = np.zeros_like(b)
        for _ in range(maxiter):
            rho1 = _dot(rhat, r)
            if rho1 == 0.0 or omega == 0.0:
                break
            d = r + (rho1 / rho) * (alpha / omega) * (d - omega * v)
            v = d - K @ d
            den = _dot(rhat, v)
            if den == 0.0:
                break
            alpha = rho1 / den
            s = r - alpha * v
            if math.sqrt(_dot(s, s)) <= goal:
                return np.asarray(x + alpha * d)
            t = s - K @ s
            tt = _dot(t, t)
            omega = _dot(t, s) / tt if tt > 0 else 0.0
            x = x + alpha * d + omega * s
            r = s - omega * t
            if math.sqrt(_dot(r, r)) <= goal:
                return np.asarray(x)
            rho = rho1
        return solve_leontief(self.A, b, transpose=transpose, method="iterative", tol=tol)


def _solve(lu: _Solves, b: np.ndarray, tol: float) -> np.ndarray:
    """A forward solve to relative residual `tol` (direct solvers are exact anyway)."""
    if isinstance(lu, KrylovLeontief):
        return lu.solve(b, tol=tol)
    return lu.solve(b)


def leontief_solver(A: sp.spmatrix, tol: float) -> _Solves:
    """SuperLU for n ≤ DIRECT_MAX_N, warm-started BiCGSTAB above."""
    if A.shape[0] <= DIRECT_MAX_N:
        return Leontief(A, method="direct", tol=tol)
    return KrylovLeontief(A, tol)


def _ration(p: PlanProblem, x: np.ndarray, AT: sp.csr_matrix,
            rounds: int = 5) -> np.ndarray:
    """Cut every activity that uses a product whose net output is negative, in proportion
    (each by the tightest share x_j / (Ax)_j over its short inputs), until no net output is
    negative or `rounds` passes are done (what is left short is small; the caller mixes it
    away). x (n,) ≥ 0; AT (n, n) is Aᵀ as CSR (row i: the inputs of activity i)."""
    starts = AT.indptr[:-1]
    has = np.diff(AT.indptr) > 0
    for _ in range(rounds):
        use = p.A @ x
        short = x < use
        if not short.any():
            break
        c = np.ones(p.n)
        c[short] = x[short] / use[short] * (1.0 - 1e-9)
        f = np.ones(p.m)
        if AT.nnz:
            f[has] = np.minimum.reduceat(c[AT.indices], starts[has])
        x = x * np.minimum(f, 1.0)
    return x


def _clip_where_safe(p: PlanProblem, x: np.ndarray) -> np.ndarray:
    """Cut to capacity the products whose own net output stays ≥ 0 after the cut (which
    also frees inputs for every other product), then shrink everything uniformly until the
    remaining capacities hold; net output keeps its sign. x (n,) ≥ 0 with net output ≥ 0."""
    assert p.capacity is not None
    y = p.net_output(x)
    over = x - p.capacity
    safe = (over > 0) & (y >= over)
    out = np.where(safe, p.capacity, x)
    bad = out > p.capacity
    if bad.any():
        out = out * float(np.min(p.capacity[bad] / out[bad]))
    return np.asarray(out)


def _within_labour(p: PlanProblem, x: np.ndarray) -> np.ndarray:
    """x shrunk uniformly so that labour and resource limits hold."""
    assert p.resources is not None and p.resource_limits is not None
    f = 1.0
    hours = _dot(p.labour, x)
    if np.isfinite(p.labour_available) and hours > p.labour_available:
        f = float(p.labour_available) / hours
    if p.resources.shape[0]:
        use = p.resources @ x
        over = np.isfinite(p.resource_limits) & (use > p.resource_limits)
        if over.any():
            f = min(f, float((p.resource_limits[over] / use[over]).min()))
    return np.asarray(x * f)


def recover_plan(p: PlanProblem, x: np.ndarray, fallback: np.ndarray,
                 AT: sp.csr_matrix | None = None, s_max: float = S_MAX) -> np.ndarray:
    """A feasible plan near gross outputs x (n,) of a square problem (x = (I − A)⁻¹y with
    y ≥ 0, up to the solve's accuracy), the better (in harmony) of two repairs:
    (a) cut x to [0, capacity], ration the users of products whose net output turned
    negative (`_ration`), mix what is still short with the feasible `fallback` plan (net
    output is linear in x); (b) `_clip_where_safe`. Both then shrink uniformly so labour and
    resources hold."""
    assert p.capacity is not None
    from cybersyn.plan.harmony_pg import _mix_nonnegative

    cut = _ration(p, np.clip(x, 0.0, p.capacity), sp.csr_matrix(p.A.T) if AT is None else AT)
    a = _within_labour(p, _mix_nonnegative(p, fallback, cut))
    b = _within_labour(p, _mix_nonnegative(p, fallback, _clip_where_safe(p, np.maximum(x, 0.0))))
    va = harmony_value(p, p.net_output(a), s_max)
    vb = harmony_value(p, p.net_output(b), s_max)
    return a if va >= vb else b


@dataclass
class _State:
    """The last evaluation of g (kept to warm-start the next solves and to recover plans)."""

    p: np.ndarray
    x: np.ndarray
    mu: float = 0.0
    kappa: np.ndarray = field(default_factory=lambda: np.zeros(0))
    rho: np.ndarray = field(default_factory=lambda: np.zeros(0))
    evaluations: int = 0


class _Dual:
    """g and its gradient in scaled variables z = [labour?, capacities (finite), resources
    (finite)]; see the module docstring."""

    def __init__(self, p: PlanProblem, s_max: float, tol: float) -> None:
        assert p.capacity is not None and p.resources is not None
        assert p.resource_limits is not None and p.weights is not None
        self.p, self.s_max = p, s_max
        self.lu = leontief_solver(p.A, tol)
        self.has_labour = bool(np.isfinite(p.labour_available))
        self.cap_idx = np.flatnonzero(np.isfinite(p.capacity))
        self.res_idx = np.flatnonzero(np.isfinite(p.resource_limits))
        self.R = sp.csr_matrix(p.resources[self.res_idx])
        labour = [float(p.labour_available)] if self.has_labour else []
        self.limits = np.concatenate([labour, p.capacity[self.cap_idx],
                                      p.resource_limits[self.res_idx]])
        self.scale = self._curvature_scale()
        self.state = _State(np.zeros(p.n), np.zeros(p.n))

    def _curvature_scale(self, probes: int = 16, tol: float = 1e-3) -> np.ndarray:
        """√ of the diagonal of g's Hessian in (μ, κ, ρ) with every product's curvature
        taken as tᵢ²/wᵢ (the value of φᵢ″ while sᵢ < 0): diag(Gᵀ(I − A)⁻¹ D (I − A)⁻ᵀ Gᵀ)
        for the limit rows G = [l; capacities; R], estimated as the mean square of
        G(I − A)⁻¹D^½ζ over `probes` Rademacher vectors ζ (Hutchinson's estimator; fixed seed),
        solved to `tol`. Variables z = √h·(μ, κ, ρ) then have unit curvature, which L-BFGS-B
        needs: a hub's capacity price moves every product's price a little, a final good's
        only its own, so their curvatures differ by orders of magnitude."""
        p = self.p
        assert p.weights is not None
        on = (p.targets > 0) & (p.weights > 0)
        root = np.zeros(p.n)
        root[on] = p.targets[on] / np.sqrt(p.weights[on])
        rng = np.random.default_rng(0)
        h = np.zeros(self.limits.size)
        for _ in range(probes):
            x = _solve(self.lu, rng.choice([-1.0, 1.0], p.n) * root, tol)
            use = [_dot(p.labour, x)] if self.has_labour else []
            h += np.concatenate([use, x[self.cap_idx], self.R @ x]) ** 2
        scale = np.sqrt(h / probes)
        positive = scale[scale > 0]
        floor = 1e-8 * float(np.median(positive)) if positive.size else 1.0
        return np.maximum(scale, floor)

    def split(self, z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        u = z / self.scale
        mu = float(u[0]) if self.has_labour else 0.0
        k0 = int(self.has_labour)
        return mu, u[k0:k0 + self.cap_idx.size], u[k0 + self.cap_idx.size:]

    def __call__(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        p, st = self.p, self.state
        mu, kappa, rho = self.split(z)
        q = mu * p.labour
        q[self.cap_idx] += kappa
        if self.res_idx.size:
            q += self.R.T @ rho
        first = st.evaluations == 0
        prices = self.lu.solve(q, transpose=True, x0=None if first else st.p)
        assert p.weights is not None
        phi, y = conjugate(prices, p.targets, p.weights, self.s_max)
        x = self.lu.solve(y, x0=None if first else st.x)
        self.state = _State(prices, x, mu, kappa, rho, st.evaluations + 1)
        use = [_dot(p.labour, x)] if self.has_labour else []
        slack = self.limits - np.concatenate([use, x[self.cap_idx], self.R @ x])
        return phi + float(self.limits @ (z / self.scale)), slack / self.scale


def dual_plan(p: PlanProblem, start: np.ndarray, s_max: float = S_MAX,
              params: DualParams | None = None) -> DualResult:
    """Minimise the dual g for a square problem and recover a feasible plan from it.

    start (n,): a feasible plan (the proportional plan), the fallback of the repair; the
    result's plan is never worse.
    The first labour price solves v·y(μv) = L by bisection (v the labour values).
    OpenBLAS runs single-threaded meanwhile (`_blas.blas_threads`)."""
    params = params or DualParams()
    with blas_threads(1):
        return _dual_plan(p, start, s_max, params)


def _dual_plan(p: PlanProblem, start: np.ndarray, s_max: float,
               params: DualParams) -> DualResult:
    if not p.square:
        raise InvalidInput("the dual harmony method needs one technique per product")
    dual = _Dual(p, s_max, params.solve_tol)
    if dual.limits.size == 0:
        raise InvalidInput("the plan is unbounded: nothing limits production (give a labour "
                           "limit, capacities or scarce resources)")
    AT = sp.csr_matrix(p.A.T)
    ref = harmony_value(p, p.net_output(start), s_max)
    assert p.weights is not None
    floor = 1e-3 * float(p.weights.sum())
    z = np.zeros(dual.limits.size)
    if dual.has_labour:
        z[0] = _first_labour_price(p, dual.lu, s_max) * dual.scale[0]
    best = DualResult(start.copy(), ref, math.inf, np.zeros(p.n), 0.0, np.zeros(p.m),
                      np.zeros(p.resources.shape[0] if p.resources is not None else 0))

    def check() -> bool:
        """Record the bound and the repaired plan of the last evaluation; True to stop."""
        st = dual.state
        bound = dual_bound(p, st.p, st.mu, _full(st.rho, dual.res_idx, best.resource_prices),
                           s_max)
        if bound < best.bound:
            best.bound, best.prices, best.labour_price = bound, st.p.copy(), st.mu
            best.capacity_prices = _full(st.kappa, dual.cap_idx, np.zeros(p.m))
            best.resource_prices = _full(st.rho, dual.res_idx, best.resource_prices)
        x = recover_plan(p, st.x, start, AT, s_max)
        value = harmony_value(p, p.net_output(x), s_max)
        if value > best.value:
            best.value, best.x = value, x
        best.iterations += 1
        best.evaluations = st.evaluations
        best.history.append((st.evaluations, best.value, best.bound))
        return best.gap(floor) <= params.gap or best.iterations >= params.iterations

    def callback(_: object) -> None:
        if check():
            raise StopIteration

    dual(z)
    check()
    bounds = so.Bounds(np.zeros(z.size), np.full(z.size, np.inf))
    while best.gap(floor) > params.gap and best.iterations < params.iterations:
        before = best.iterations
        res = so.minimize(dual, z, jac=True, method="L-BFGS-B", bounds=bounds,
                          callback=callback,
                          options={"maxiter": params.iterations, "maxcor": params.memory,
                                   "ftol": 0.0, "gtol": 0.0,
                                   "maxfun": 3 * params.iterations})
        z = np.asarray(res.x)
        if best.iterations - before < 2:
            break  # a restart made no progress: the line search cannot improve g further
    best.evaluations = dual.state.evaluations
    return best


def _full(part: np.ndarray, idx: np.ndarray, like: np.ndarray) -> np.ndarray:
    out = np.zeros_like(like, dtype=float)
    out[idx] = part
    return out


def _first_labour_price(p: PlanProblem, lu: _Solves, s_max: float) -> float:
    """Smallest μ ≥ 0 with v·y(μv) ≤ L, v = (I − A)⁻ᵀl the labour values (bisection in μ)."""
    w = p.weights
    assert w is not None
    v = np.maximum(lu.solve(p.labour, transpose=True), 0.0)
    budget = float(p.labour_available)

    def used(mu: float) -> float:
        return _dot(v, conjugate(mu * v, p.targets, w, s_max)[1])

    if used(0.0) <= budget:
        return 0.0
    lo, hi = 0.0, float(w.sum()) / max(float(v @ p.targets), 1e-300)
    while used(hi) > budget:
        hi *= 4.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if used(mid) <= budget else (mid, hi)
    return hi
