"""A multi-period (five-year) plan over a dynamic input-output model, as one LP.

Leontief's dynamic model (Leontief, "Dynamic analysis", in *Studies in the Structure of the
American Economy*, 1953; Miller & Blair 2009, §13.1): output in year t is limited by
capacity Kₜ; investment zₜ (units of new capacity) takes goods Bk zₜ this year and adds
capacity next year, while capacity depreciates at rate δ:

    Kₜ₊₁ = (1 − δ) Kₜ + zₜ,   xₜ ≤ Kₜ,
    (I − A) xₜ − Bk zₜ ≥ λ tₜ,   l·xₜ ≤ L (1 + g)ᵗ,   xₜ, zₜ ≥ 0,   max λ.

Capacity is measured in product units per year; Bk[i, j] is units of product i needed to
add one unit of yearly capacity for product j. Products with unlimited capacity need no
investment. One λ for all years: every year's targets are met in the same proportion.

Two ways to solve it, the same LP:
- "rows" (default): the LP in the space of investments only, xₜ = (I − A)⁻¹(λtₜ + Bk zₜ),
  grown row by row and column by column in HiGHS (interior point HiPO masters), every
  answer certified by a primal bound and a dual bound computed with sparse Leontief solves
  (`multiperiod_rows`); from SEED_MIN_N products on, the master starts from the rows and
  columns that a loose first-order solve of the one LP (HiGHS PDLP) finds binding and used
  (`first_order_seed`), instead of growing them round by round;
- "lp": one HiGHS LP over all years with xₜ, zₜ and λ as columns (`_build`), kept as the
  reference the tests compare with and as the fallback when nothing bounds λ in year one.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from cybersyn.errors import InvalidInput
from cybersyn.plan.lp import _model, solve_lp
from cybersyn.plan.multiperiod_rows import (
    GAP_TARGET,
    DynamicLp,
    RowGenSolution,
    Seed,
    solve_by_rows,
)
from cybersyn.plan.problem import Binding, PlanProblem

SEED_MIN_N = 5_000   # products from which the rows method starts from a first-order seed
SEED_SHARE = 0.3     # share of the time limit the first-order solve may take
SEED_SOLVER = "pdlp"  # HiGHS's first-order solver for the seed
SEED_KKT = 1e-4      # its KKT tolerance: enough to tell binding rows and used investments
SEED_REL = 1e-9      # a dual (an investment) counts above this share of the largest


@dataclass(frozen=True)
class MultiPeriodParams:
    """periods: years planned; labour_growth: yearly growth of labour available;
    target_growth: yearly growth of targets when one year's targets are given;
    depreciation: share of capacity lost per year; capital_ratio: units of capital goods per
    unit of yearly capacity when no capital matrix is given."""

    periods: int = 5
    labour_growth: float = 0.02
    target_growth: float = 0.05
    depreciation: float = 0.05
    capital_ratio: float = 2.0

    def __post_init__(self) -> None:
        if not 1 <= self.periods <= 50:
            raise ValueError("Expected periods in 1..50.")
        if not -0.5 < self.labour_growth < 1:
            raise ValueError("Expected labour_growth in (-0.5, 1).")
        if not -0.5 < self.target_growth < 1:
            raise ValueError("Expected target_growth in (-0.5, 1).")
        if not 0 <= self.depreciation < 1:
            raise ValueError("Expected depreciation in [0, 1).")
        if not self.capital_ratio > 0:
            raise ValueError("Expected capital_ratio > 0.")


@dataclass(frozen=True)
class MultiPeriodResult:
    """x, investment, capacity, net, targets : (T, n); labour_used (T,); lam; prices (T, n)
    shadow prices of products per year (λ per unit); binding: per-year binding limits;
    gap: certified relative optimality gap of λ (the "rows" method: (upper − λ)/upper from
    a dual bound; the "lp" method: 0, HiGHS reported "Optimal" to its tolerances)."""

    problem: PlanProblem
    x: np.ndarray
    investment: np.ndarray
    capacity: np.ndarray
    net: np.ndarray
    targets: np.ndarray
    labour_used: np.ndarray
    labour_available: np.ndarray
    lam: float
    prices: np.ndarray
    binding: tuple[tuple[Binding, ...], ...]
    method: str
    objective: str = "multi-period"
    gap: float = 0.0

    @property
    def periods(self) -> int:
        return int(self.x.shape[0])

    @property
    def value(self) -> float:
        return self.lam


def default_capital(A: sp.csr_matrix, ratio: float) -> sp.csr_matrix:
    """Bk of shape (n, n): capital goods in the proportions of each product's current
    inputs, `ratio` units in all per unit of yearly capacity."""
    sums = np.asarray(A.sum(axis=0)).ravel()
    scale = np.divide(ratio, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.csr_matrix(A @ sp.diags(scale))


def multi_period_plan(problem: PlanProblem, params: MultiPeriodParams | None = None, *,
                      targets: np.ndarray | None = None, capital: sp.spmatrix | None = None,
                      solver: str = "ipm", method: str = "rows",
                      time_limit: float = 3600.0, seed: bool | None = None,
                      gap: float = GAP_TARGET) -> MultiPeriodResult:
    """Solve the T-year plan. problem.capacity is year-1 capacity, problem.targets year-1
    targets (grown by target_growth) unless `targets` (T, n) is given.

    method "rows" (default): row generation in the space of investments (module docstring),
    certified gap in `result.gap`; "lp": the one big LP through HiGHS with `solver` (its
    interior point by default: simplex took > 6 min at n = 1,000 × 5 years, IPM 31 s).
    time_limit: seconds for HiGHS; past it "rows" returns its best certified plan and "lp"
    raises InvalidInput. seed: start "rows" from `first_order_seed` (None: from SEED_MIN_N
    products on). gap: the certified relative gap of λ at which "rows" stops."""
    if method not in ("rows", "lp"):
        raise InvalidInput(f"method must be 'rows' or 'lp', got {method!r}")
    if not 0.0 <= gap < 1.0:
        raise InvalidInput(f"gap must be a relative gap in [0, 1), got {gap!r}")
    if not time_limit > 0:
        raise InvalidInput(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    params = params or MultiPeriodParams()
    p = problem
    if not p.square:
        raise InvalidInput("the multi-period plan needs one technique per product")
    p.check_productive()
    T, n = params.periods, p.n
    tt = _targets(p, params, targets)
    Bk = sp.csr_matrix(default_capital(p.A, params.capital_ratio) if capital is None
                       else capital, dtype=float)
    if Bk.shape != (n, n):
        raise InvalidInput(f"capital matrix has shape {Bk.shape}, expected ({n}, {n})")
    labour = p.labour_available * (1 + params.labour_growth) ** np.arange(T)
    if method == "rows":
        assert p.capacity is not None
        dyn = DynamicLp(p.A, p.labour, tt, Bk, p.capacity, 1.0 - params.depreciation, labour)
        start, used = None, 0.0
        if seed or (seed is None and n >= SEED_MIN_N):
            start, used = first_order_seed(p, params, tt, Bk, labour, SEED_SHARE * time_limit)
        rs = solve_by_rows(dyn, time_limit=max(time_limit - used, 1.0), seed=start, gap=gap)
        if rs is not None:
            return _rows_result(p, dyn, rs)
    M, lo, hi, col_hi, capped = _build(p, params, tt, Bk, labour)
    c = np.zeros(2 * T * n + 1)
    c[-1] = 1.0
    sol = solve_lp(c, M, lo, hi, np.zeros(c.size), col_hi, solver=solver,
                   time_limit=time_limit, what="the multi-period plan")
    return _result(p, params, sol, tt, labour, capped, Bk)


def first_order_seed(p: PlanProblem, params: MultiPeriodParams, tt: np.ndarray,
                     Bk: sp.csr_matrix, labour: np.ndarray, seconds: float
                     ) -> tuple[Seed | None, float]:
    """(seed, seconds used): the one LP (`_build`) solved loosely by HiGHS's first-order
    PDLP (KKT tolerance SEED_KKT, at most `seconds`); the seed holds the capacity rows whose
    dual is above SEED_REL of the largest and the investments above SEED_REL of the largest.
    At n = 10⁴ this finds the rows that bind at the optimum in about 80 s, where growing
    them 100 a year per round took many rounds of masters with thousands of dense rows.
    None when PDLP leaves no primal and dual solution."""
    T, n = params.periods, p.n
    M, lo, hi, col_hi, capped = _build(p, params, tt, Bk, labour)
    if not capped.size:
        return None, 0.0
    c = np.zeros(M.shape[1])
    c[-1] = 1.0
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", SEED_SOLVER)
    h.setOptionValue("kkt_tolerance", SEED_KKT)
    h.setOptionValue("time_limit", max(float(seconds), 1.0))
    h.passModel(_model(c, M, lo, hi, np.zeros(c.size), col_hi, True))
    h.run()
    used = float(h.getRunTime())
    sol = h.getSolution()
    if not (sol.value_valid and sol.dual_valid):
        return None, used
    # |dual|: λ per unit of capacity (PDLP's postsolved duals of these ≤ rows came out ≤ 0,
    # the simplex's ≥ 0, for the same maximisation)
    col, dual = np.asarray(sol.col_value), np.abs(np.asarray(sol.row_dual))
    per = _rows_per_year(n, labour, capped)
    r = np.stack([dual[(t + 1) * per - capped.size:(t + 1) * per] for t in range(T)])
    z = np.maximum(col[T * n:2 * T * n].reshape(T, n), 0.0)
    rows = [capped[r[t] > SEED_REL * max(float(r.max()), 1e-300)] for t in range(T)]
    cols = [np.flatnonzero(z[s] > SEED_REL * max(float(z.max()), 1e-300))
            for s in range(T - 1)]
    return Seed(rows, cols), used


def _rows_result(p: PlanProblem, d: DynamicLp, rs: RowGenSolution) -> MultiPeriodResult:
    K = d.capacity(rs.z)
    net = rs.x - (p.A @ rs.x.T).T - (d.Bk @ rs.z.T).T
    binding = []
    for t in range(d.T):
        out = []
        if rs.w[t] > 1e-12:
            out.append(Binding("labour", "labour", float(d.labour[t]), float(rs.w[t])))
        for j in np.flatnonzero(rs.r[t] > 1e-12):
            out.append(Binding("capacity", p.activity_names[j], float(K[t, j]),
                               float(rs.r[t, j]), p.product_names[j]))
        out.sort(key=lambda b: -b.shadow_price)
        binding.append(tuple(out))
    method = (f"HiGHS row generation over {d.T} periods ({rs.rounds} rounds, {rs.rows} "
              f"capacity rows; certified gap {rs.gap:.1e})")
    return MultiPeriodResult(p, rs.x, rs.z, K, net, d.tt, rs.x @ p.labour, d.labour, rs.lam,
                             rs.prices, tuple(binding), method, gap=max(rs.gap, 0.0))


def max_violation(r: MultiPeriodResult) -> float:
    """The plan's largest relative violation of any limit: negative output, output beyond
    the year's capacity, labour beyond the year's labour, final use below λ·targets (each
    relative to the limit, or to 1 when the limit is below 1). 0 for an exactly feasible plan."""
    worst = float(np.max(-r.x / np.maximum(np.abs(r.x).max(initial=0.0), 1.0), initial=0.0))
    capped = np.isfinite(r.capacity)
    over = (r.x - r.capacity)[capped] / np.maximum(r.capacity[capped], 1.0)
    worst = max(worst, float(over.max(initial=0.0)))
    fin = np.isfinite(r.labour_available)
    lab = (r.labour_used - r.labour_available)[fin] / np.maximum(r.labour_available[fin], 1.0)
    worst = max(worst, float(lab.max(initial=0.0)))
    want = r.lam * r.targets
    short = (want - r.net) / np.maximum(want, 1.0)
    return max(worst, float(short.max(initial=0.0)))


def _targets(p: PlanProblem, params: MultiPeriodParams, targets: np.ndarray | None
             ) -> np.ndarray:
    T = params.periods
    if targets is None:
        growth = (1 + params.target_growth) ** np.arange(T)[:, None]
        grown: np.ndarray = p.targets[None, :] * growth
        return grown
    tt = np.asarray(targets, dtype=float)
    if tt.shape != (T, p.n) or not np.all(np.isfinite(tt)) or tt.min() < 0:
        raise InvalidInput(f"targets must be finite, >= 0, of shape ({T}, {p.n})")
    if not np.any(tt > 0):
        raise InvalidInput("every target is zero: give at least one positive target")
    return tt


def _rows_per_year(n: int, labour: np.ndarray, capped: np.ndarray) -> int:
    """Rows of one year in `_build`'s LP: balance (n), labour (if finite), capacity."""
    return n + int(np.isfinite(labour[0])) + int(capped.size)


def _build(p: PlanProblem, params: MultiPeriodParams, tt: np.ndarray, Bk: sp.csr_matrix,
           labour: np.ndarray) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray, np.ndarray,
                                        np.ndarray]:
    """Columns: x_0..x_{T-1}, z_0..z_{T-1} (n each), λ. Rows per year: balance (n),
    labour (1, if finite), capacity (one per capped product)."""
    T, n = params.periods, p.n
    assert p.capacity is not None
    capped = np.flatnonzero(np.isfinite(p.capacity))
    keep = 1.0 - params.depreciation
    I_n = sp.identity(n, format="csr")
    S = sp.csr_matrix((np.ones(capped.size), (np.arange(capped.size), capped)),
                      shape=(capped.size, n))
    rows, lo, hi = [], [], []
    zero = sp.csr_matrix((n, n))
    for t in range(T):
        blocks_x = [I_n - p.A if s == t else zero for s in range(T)]
        blocks_z = [-Bk if s == t else zero for s in range(T)]
        rows.append(sp.hstack([*blocks_x, *blocks_z, sp.csr_matrix(-tt[t].reshape(-1, 1))]))
        lo.append(np.zeros(n))
        hi.append(np.full(n, np.inf))
        if np.isfinite(labour[t]):
            lab = sp.csr_matrix(p.labour.reshape(1, -1))
            zr = sp.csr_matrix((1, n))
            rows.append(sp.hstack([*(lab if s == t else zr for s in range(T)),
                                   *(zr for _ in range(T)), sp.csr_matrix((1, 1))]))
            lo.append(np.array([-np.inf]))
            hi.append(np.array([labour[t]]))
        if capped.size:
            zc = sp.csr_matrix((capped.size, n))
            cx = [S if s == t else zc for s in range(T)]
            cz = [-(keep ** (t - 1 - s)) * S if s < t else zc for s in range(T)]
            rows.append(sp.hstack([*cx, *cz, sp.csr_matrix((capped.size, 1))]))
            lo.append(np.full(capped.size, -np.inf))
            hi.append(p.capacity[capped] * keep ** t)
    z_hi = np.where(np.isfinite(p.capacity), np.inf, 0.0)
    col_hi = np.concatenate([np.full(T * n, np.inf), np.tile(z_hi, T), [np.inf]])
    return sp.vstack(rows).tocsc(), np.concatenate(lo), np.concatenate(hi), col_hi, capped


def _result(p: PlanProblem, params: MultiPeriodParams, sol: object, tt: np.ndarray,
            labour: np.ndarray, capped: np.ndarray, Bk: sp.csr_matrix) -> MultiPeriodResult:
    T, n = params.periods, p.n
    xs = np.maximum(sol.x[: T * n].reshape(T, n), 0.0)  # type: ignore[attr-defined]
    zs = np.maximum(sol.x[T * n: 2 * T * n].reshape(T, n), 0.0)  # type: ignore[attr-defined]
    lam = float(sol.x[-1])  # type: ignore[attr-defined]
    assert p.capacity is not None
    keep = 1.0 - params.depreciation
    K = np.empty((T, n))
    K[0] = p.capacity
    for t in range(1, T):
        K[t] = keep * K[t - 1] + zs[t - 1]
    net = xs - (p.A @ xs.T).T - (Bk @ zs.T).T
    duals = sol.row_dual  # type: ignore[attr-defined]
    per = _rows_per_year(n, labour, capped)
    prices = np.stack([np.maximum(-duals[t * per: t * per + n], 0.0) for t in range(T)])
    binding = tuple(_year_binding(p, duals[t * per + n: (t + 1) * per], labour[t], capped, K[t])
                    for t in range(T))
    return MultiPeriodResult(p, xs, zs, K, net, tt, xs @ p.labour, labour, lam, prices,
                             binding, f"HiGHS LP over {T} periods ({sol.status})")  # type: ignore[attr-defined]


def _year_binding(p: PlanProblem, duals: np.ndarray, labour: float, capped: np.ndarray,
                  K: np.ndarray) -> tuple[Binding, ...]:
    out: list[Binding] = []
    k = 0
    if np.isfinite(labour):
        if duals[0] > 1e-12:
            out.append(Binding("labour", "labour", float(labour), float(duals[0])))
        k = 1
    for r, j in enumerate(capped):
        d = float(duals[k + r])
        if d > 1e-12:
            out.append(Binding("capacity", p.activity_names[j], float(K[j]), d,
                               p.product_names[j]))
    return tuple(out)
