"""The multi-period plan solved exactly in the space of investments, by row generation.

With one technique per product, every feasible plan can be replaced by the least gross
output that delivers its net output (the Leontief inverse L = (I − A)⁻¹ is non-negative,
so (I − A)x ≥ d implies x ≥ L d, and capacity and labour are upper limits with
non-negative coefficients):

    xₜ = L(λtₜ + Bk zₜ) = λx̂ₜ + G zₜ,   x̂ₜ = L tₜ,   G = L Bk   (n × n, dense).

The LP of `multiperiod` then lives in (λ, z) alone (v = Lᵀl the labour values):

    max λ  s.t.  λ v·tₜ + (Bkᵀv)·zₜ ≤ Lₜ                                   labour, year t
                 λ x̂ₜⱼ + (G zₜ)ⱼ − Σₛ₍ₛ<ₜ₎ (1 − δ)^(t−1−s) zₛⱼ ≤ (1 − δ)ᵗ K₀ⱼ   capacity j, year t
                 z ≥ 0,  z_{T−1} = 0 (capacity after the horizon is worth nothing),  λ ≤ U,

U = the first year's bound at z = 0 (investment only adds to the use of labour and capacity,
so U bounds every plan). G is dense, but only the capacity rows that bind are needed:
HiGHS solves a master LP over a growing set of capacity rows; after each solve the whole
plan is computed by sparse Leontief solves and every violated capacity row is added. Dense
rows the master leaves far from binding (`_purgeable`: no dual, room in the plan even grown
to the upper bound) are deleted, each row at most once, so the loop cannot cycle; at
n = 10⁴ this keeps ~1,000 dense rows in the master instead of ~1,800. Investment zₛⱼ pays
only through capacity rows of product j in later years, so its column enters with them (a
column without such rows has only costs, and 0 is optimal for it), or when its reduced
cost at the master's duals is negative (`_priced`: the master may hold a row without every
column of its product). When no row is violated and no column prices in, the master's
solution is feasible for the whole LP and its duals for the whole dual: it is optimal. The
loop stops earlier when the certificate below is already within `gap`.

A seed (`Seed`, from a loose first-order solve of the one LP: `multiperiod.first_order_seed`)
starts the master with the rows that solve found binding and the investments it used.
Without one, the rows of years before the last enter at most ROW_BATCH a year per round;
at n = 10⁴ that took many rounds of masters with thousands of dense rows. A seeded master
that adds at most VERTEX_AT rows and columns in a round is nearly complete: it goes to a
vertex (crossover) once and is re-solved from its basis by the dual simplex from then on.

The answer is certified independently of the master, in closed form:
- lower: the largest λ that the returned investments z allow (every capacity and labour
  row checked on the exact plan), which is the λ returned; z is the best of every round's
  investments and their repair (`_repaired`: each year's overloaded capacity bought by
  investing a year earlier), so a master that lacks a few rows still certifies most of λ;
- upper: the master's duals (w per hour, r per unit of capacity) made dual-feasible for
  every investment column (raising wₜ where a column's reduced cost is positive; with
  unlimited labour, reduced costs within DUAL_TOL relative are accepted as HiGHS's own
  tolerance, anything larger falls back to U), giving
  λ ≤ (Σ wₜLₜ + Σ rₜⱼ(1 − δ)ᵗK₀ⱼ) / (Σ wₜ v·tₜ + Σ rₜ·x̂ₜ)  (weak duality), and λ ≤ U;
  the least over the rounds.
gap = (upper − lower) / upper.

How the master is solved: HiGHS's interior point without crossover, so each answer is
central on the optimal face (investment spread over years and products); a vertex instead
concentrates investment and overloads many more capacity rows outside the master (at
n = 10³: 53 rows of years before the last needed instead of 435). The interior point is
HiPO (Cholesky on the normal equations; package highspy-extras). λ is split into copies
λ_b ≥ λ of LAM_BLOCK rows each: as one column in every row it made the normal equations
dense (6,000² at n = 10⁴, 7e10 flops per iteration; split: 9e8). Masters run at ROUND_TOL
while rows are being found, and once more at `tol` when none is violated. Rows are divided
by their use at λ = U (by their limit when that use is negligible) so that HiGHS's
tolerances cost λ no more than about that. When no row is violated and the certified gap is
still above the target gap, one crossover gives a vertex and exact duals and the dual simplex
(warm) ends the loop.

Numerics that the certificate depends on: each investment column is measured in units of
its product's output or capacity (`zscale`), so a scaled entry of G is the share of its row
that a typical investment takes; entries below DROP = 1e-12 (HiGHS's least
`small_matrix_value`; its default 1e-9 silently dropped entries that summed to ~1e-6 of a
row at n = 3,000) are left out. Masters run at primal/dual tolerance 1e-10: at 1e-9 the
reduced costs of cheap investments were off by 5e-5 relative, and the repair of w (per
hour, times millions of hours) loosened the bound by 1e-6. HiGHS's `time_limit` counts the
instance's run clock over all rounds, so each round's limit is that clock plus the seconds
left (it was the seconds left alone: once the rounds had used more than the rest, a solve
stopped at once and the loop fell back to the scaled salvage).

Cost per round: one Leontief solve per year for the plan, one transposed solve per new
capacity row (its row of G = Lᵀeⱼ, then Bkᵀ), and the master LP, whose dense part is
|rows of year t| × |products with rows after t| for t < T − 1: capacity rows of products
upstream of many others in years before the last. Those rows are what limits the method:
each of them is dense in the normal equations, so a master with ~1,500 of them (n = 10⁴)
factors at ~1.5e10 flops per interior-point iteration and takes 50–100 s under HiPO
(docs/plan.md gives the figures).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from cybersyn.plan.leontief import Leontief
from cybersyn.plan.lp import INF

log = logging.getLogger(__name__)

FEAS_TOL = 1e-9      # relative violation of a capacity row that counts as violated
ROW_BATCH = 100      # most capacity rows of years before the last added per round
SEED_BATCH = 0       # the same in the first round (plan at λ = U, no investment)
DUAL_TOL = 1e-9      # reduced cost (relative) left unrepaired when no labour row can repair it
DROP = 1e-12         # scaled entries below this are left out (HiGHS's least small_matrix_value)
MAX_ROUNDS = 200
MASTER_SOLVER = "hipo"  # interior point without crossover ("hipo", "ipx"), or "simplex"
SALVAGE_ROUNDS = 5   # last solved masters whose investments the salvage scales
ROUND_TOL = 1e-7     # interior point tolerance while rows are still being found
LAM_BLOCK = 64       # capacity rows per copy of λ in the master (no dense column)
VERTEX_AT = 1000     # a seeded master that adds at most this many rows and columns goes
                     # to a vertex (crossover) and on by warm dual simplex
PURGE_DUAL = 1e-6    # a dense row leaves the master with a dual below this share of the largest
PURGE_SLACK = 1e-3   # and this much room (share of its use at λ = U) in the master's plan
GAP_TARGET = 1e-9    # certified relative gap at which the loop stops (default `gap`)
REPAIR_MARGIN = 1e-12  # share of a row's limit left free when `_repaired` invests for it
LEONTIEF_TOL = 1e-13  # relative residual of the iterative Leontief solves (plan, x̂, rows of G)


@dataclass(frozen=True)
class DynamicLp:
    """The data of the T-year LP: A (n, n) CSR, labour coefficients l (n,), targets tt (T, n),
    capital Bk (n, n) CSR, first-year capacity K0 (n,) (inf = unlimited, no investment),
    keep = 1 − depreciation, labour available (T,) (inf = unlimited)."""

    A: sp.csr_matrix
    l: np.ndarray  # noqa: E741
    tt: np.ndarray
    Bk: sp.csr_matrix
    K0: np.ndarray
    keep: float
    labour: np.ndarray

    @property
    def T(self) -> int:
        return int(self.tt.shape[0])

    @property
    def n(self) -> int:
        return int(self.A.shape[0])

    def capacity(self, z: np.ndarray) -> np.ndarray:
        """K (T, n): Kₜ = keep·Kₜ₋₁ + zₜ₋₁ from K₀."""
        K = np.empty((self.T, self.n))
        K[0] = self.K0
        for t in range(1, self.T):
            K[t] = self.keep * K[t - 1] + z[t - 1]
        return K


@dataclass(frozen=True)
class RowGenSolution:
    """lam; x, z (T, n) gross outputs and investments; w (T,) labour duals (λ per hour);
    r (T, n) capacity duals (λ per unit of capacity, 0 off the master's rows); prices (T, n)
    p = w v + Lᵀr (λ per unit of net output); lower/upper the certified bounds on λ;
    rounds of the master; rows, the capacity rows it ended with."""

    lam: float
    x: np.ndarray
    z: np.ndarray
    w: np.ndarray
    r: np.ndarray
    prices: np.ndarray
    lower: float
    upper: float
    rounds: int
    rows: int

    @property
    def gap(self) -> float:
        return (self.upper - self.lower) / max(abs(self.upper), 1e-300)


@dataclass(frozen=True)
class Seed:
    """Where the master starts (`multiperiod.first_order_seed`): rows (T,) arrays of
    products whose capacity row of year t enters at once; cols (T − 1,) arrays of products
    whose investment column of year s enters at once (capped products only)."""

    rows: list[np.ndarray]
    cols: list[np.ndarray]


class _Rows:
    """Rows of G = L Bk, computed on demand (one transposed Leontief solve each), cached."""

    def __init__(self, lt: Leontief, Bk: sp.csr_matrix) -> None:
        self.lt, self.BkT = lt, sp.csr_matrix(Bk.T)
        self.index: dict[int, int] = {}
        self.data: list[np.ndarray] = []

    def get(self, products: np.ndarray) -> np.ndarray:
        n = self.BkT.shape[0]
        for j in products:
            if int(j) not in self.index:
                e = np.zeros(n)
                e[j] = 1.0
                self.index[int(j)] = len(self.data)
                self.data.append(np.asarray(self.BkT @ self.lt.solve(e, transpose=True)))
        if not len(products):
            return np.zeros((0, n))
        return np.stack([self.data[self.index[int(j)]] for j in products])


def upper_bound_at_zero(d: DynamicLp, xhat: np.ndarray, v: np.ndarray) -> float:
    """U: λ allowed by every year's labour and the first year's capacity with no investment
    (both only tighten when investing), inf if nothing limits it."""
    bounds = [np.inf]
    for t in range(d.T):
        need = float(v @ d.tt[t])
        if np.isfinite(d.labour[t]) and need > 0:
            bounds.append(d.labour[t] / need)
    cap = np.isfinite(d.K0) & (xhat[0] > 0)
    if cap.any():
        bounds.append(float(np.min(d.K0[cap] / xhat[0][cap])))
    return float(min(bounds))


def solve_by_rows(d: DynamicLp, *, tol: float = 1e-10, time_limit: float = 3600.0,
                  seed: Seed | None = None, gap: float = GAP_TARGET,
                  clock: Callable[[], float] = time.monotonic) -> RowGenSolution | None:
    """Solve the T-year LP by row generation (module docstring). None when nothing bounds λ
    in the first year (labour unlimited and no capacity used): the caller then solves the
    one big LP, which explains an unbounded plan.

    The master is solved by HiGHS's interior point without crossover: its answer is central
    on the optimal face (investment spread over years and products), which overloads far
    fewer capacity rows outside the master than a vertex does. The loop stops as soon as
    the certified relative gap is at most `gap`; if it is still above once no row is
    violated and no column prices in, one crossover gives a vertex and exact duals, and the
    dual simplex (warm) finishes. Past `time_limit` seconds the best plan found so far
    is returned with its certified bounds (the best of the last masters' investments, each
    scaled per year, `_best_scaled`; the plan without investment if that is better).

    Investment columns enter when a row of a later year of their product enters, and when
    their reduced cost at the master's duals is negative (`_priced`); `seed` (rows and
    columns from a first-order solve of the one LP) starts the master near the optimal
    set of rows instead of growing it ROW_BATCH rows a year per round."""
    T, n = d.T, d.n
    lt = Leontief(d.A, tol=LEONTIEF_TOL)
    xhat = np.stack([lt.solve(d.tt[t]) for t in range(T)])
    v = lt.solve(d.l, transpose=True)
    U = upper_bound_at_zero(d, xhat, v)
    if not np.isfinite(U):
        return None
    capped = np.isfinite(d.K0)
    master = _Master(d, xhat, v, U, _Rows(lt, d.Bk), tol)
    if seed is not None:
        for s in range(T - 1):
            master.add_cols(s, np.unique(seed.cols[s][capped[seed.cols[s]]]))
        master.add_rows([np.unique(a[capped[a]]) for a in seed.rows])
    z = np.zeros((T, n))
    x = U * xhat
    w, r = np.zeros(T), np.zeros((T, n))
    rc = _reduced_costs(lt, d, v, w, r)   # at w = r = 0 (no solve); read once solved
    lam = upper = U
    lower, best = 0.0, z   # the best certified λ and its investments
    empty = np.zeros(0, np.int64)
    deadline = clock() + time_limit   # seconds on `clock` (the caller's, injectable)
    solved = polished = False
    rounds = 0
    tried: deque[tuple[float, np.ndarray]] = deque(maxlen=SALVAGE_ROUNDS)   # last (λ, z)
    purged = np.zeros((T, n), bool)   # rows purged once are never purged again (no cycling)
    while rounds < MAX_ROUNDS:
        rows = (_violated(d, x, z, capped, master.rows_of,
                          SEED_BATCH if rounds == 0 else ROW_BATCH, U * xhat)
                if solved or seed is None else [empty] * T)   # a seed: solve it first
        cols = (_priced(d, rc, master.cols_of, ROUND_TOL if master.loose else DUAL_TOL)
                if solved else [empty] * (T - 1))
        if solved and not any(a.size for a in rows) and not any(a.size for a in cols):
            if master.loose:   # rows found at ROUND_TOL: re-solve to the full tolerance
                master.tighten()
            elif polished or master.vertex:
                break
            else:   # every row and column is in, yet the certificate is above `gap`
                master.polish()
                polished = True
        added = sum(a.size for a in rows) + sum(a.size for a in cols)
        if solved and added and not master.vertex:   # rows far from binding leave
            leave = [a[~purged[t][a]] for t, a in enumerate(
                _purgeable(d, x, z, r, master.rows_of, U * xhat, upper / max(lam, 1e-300)))]
            for t, a in enumerate(leave):
                purged[t][a] = True
            log.info("purge rows %s", [a.size for a in leave])
            master.purge(leave)
        if seed is not None and solved and not master.vertex and 0 < added <= VERTEX_AT:
            master.polish()   # a seeded master that is nearly complete: warm simplex from here
            polished = True
        for s in range(T - 1):   # investments that rows of later years or prices call for
            later = np.unique(np.concatenate([rows[t] for t in range(s + 1, T)] + [cols[s]]))
            master.add_cols(s, np.setdiff1d(later, master.cols_of[s], assume_unique=True))
        master.add_rows(rows)
        rounds += 1
        out = master.solve(deadline - clock())
        if out is None:   # out of time: keep the last solved round
            master.rows_left = True
            break
        lam, z = out
        tried.append((lam, z))
        w, r = master.duals()
        x = _plan(lt, d, xhat, lam, z)
        rc = _reduced_costs(lt, d, v, w, r)   # once a round: the pricing and the bound
        solved = True
        upper = min(upper, _upper(d, xhat, v, U, w, r, rc)[1])
        low, z_low = _certified(lt, d, xhat, lam, z, x)
        if low > lower:
            lower, best = low, z_low
        log.info("round %d: %.1f s left, rows %s, cols %s, λ %.10f, lower %.10f, upper %.10f",
                 rounds, deadline - clock(), [a.size for a in master.rows_of],
                 [a.size for a in master.cols_of[:T - 1]], lam, low, upper)
        if upper - lower <= gap * upper:
            break   # certified: the rows and columns still out cannot matter more
        if clock() > deadline:
            master.rows_left = True
            break
    z = best
    if not solved or (rounds and (master.rows_left or lower < (1 - 1e-6) * lam)):
        for lam_i, z_i in tried:   # out of time: salvage
            low, z_a = _best_scaled(lt, d, xhat, lam_i, z_i,
                                    _lower(d, xhat, lam_i, z_i, _plan(lt, d, xhat, lam_i, z_i)))
            if low > lower:
                lower, z = low, z_a
        if not solved:
            lower, z = _best_scaled(lt, d, xhat, lam, z, lower)
    x = _plan(lt, d, xhat, lower, z)
    prices = _upper(d, xhat, v, U, w, r, rc)[0] if solved else np.zeros((T, n))
    return RowGenSolution(lower, x, z, w, r, prices, lower, upper, rounds,
                          int(sum(a.size for a in master.rows_of)))


def _certified(lt: Leontief, d: DynamicLp, xhat: np.ndarray, lam: float, z: np.ndarray,
               x: np.ndarray) -> tuple[float, np.ndarray]:
    """(λ', z'): the better of the master's investments z (plan x at λ) and `_repaired`
    ones, each with the largest λ' it allows on the exact plan (`_lower`)."""
    low = _lower(d, xhat, lam, z, x)
    if low >= lam:
        return low, z
    z_r = _repaired(lt, d, xhat, lam, z)
    low_r = _lower(d, xhat, lam, z_r, _plan(lt, d, xhat, lam, z_r))
    return (low_r, z_r) if low_r > low else (low, z)


def _repaired(lt: Leontief, d: DynamicLp, xhat: np.ndarray, lam: float, z: np.ndarray
              ) -> np.ndarray:
    """z (T, n) with every capacity row of years 1.. that the plan at λ overloads given more
    capacity by investing the shortfall (and REPAIR_MARGIN of the row's limit) one year
    earlier: a master that lacks a few rows leaves them overloaded by a little, and `_lower`
    alone would cut λ for it by the overload over the row's use at λ (often most of λ when
    the product is mostly used for investment). Years are done from the last back, each
    taking the extra goods of the investments made for the year after it (one Leontief
    solve a year); overloads left in year 0 (K₀ is given) and labour are `_lower`'s."""
    z = z.copy()
    capped = np.isfinite(d.K0)
    for t in range(d.T - 1, 0, -1):
        x = lam * xhat[t]
        if z[t].any():
            x = x + lt.solve(np.asarray(d.Bk @ z[t]))
        K = d.capacity(z)[t]
        over = np.zeros(d.n)
        over[capped] = x[capped] - K[capped]
        margin = REPAIR_MARGIN * np.abs(np.where(capped, K, 0.0))
        z[t - 1] += np.where(over > margin, over + margin, 0.0)
    return z


def _best_scaled(lt: Leontief, d: DynamicLp, xhat: np.ndarray, lam: float, z: np.ndarray,
                 lower: float) -> tuple[float, np.ndarray]:
    """When the loop stopped with rows still overloaded: the best certified λ among the
    investments αₛzₛ, one scale αₛ in [0, 1] per year (0: the plan without investment). The
    plan is linear in (λ, α), xₜ = λx̂ₜ + αₜ L Bk zₜ, so every capacity and labour row of
    every year is a row of an LP in T columns (HiGHS); its answer is checked on the exact
    plan (`_lower`) and kept only if better than `lower`, the λ that z itself allows."""
    T = d.T
    gz = np.stack([lt.solve(np.asarray(d.Bk @ z[t])) if z[t].any() else np.zeros(d.n)
                   for t in range(T)])
    alpha = _scales_lp(d, xhat, z, gz)
    if alpha is None:
        return lower, z
    za = alpha[:, None] * z
    low = _lower(d, xhat, lam, za, _plan(lt, d, xhat, lam, za))
    return (low, za) if low > lower else (lower, z)


def _scales_lp(d: DynamicLp, xhat: np.ndarray, z: np.ndarray, gz: np.ndarray
               ) -> np.ndarray | None:
    """α (T,) maximising λ over the rows λx̂ₜⱼ + αₜ(L Bk zₜ)ⱼ − Σₛ₍ₛ<ₜ₎ keep^(t−1−s) αₛzₛⱼ
    ≤ keepᵗK₀ⱼ and λ v·tₜ + αₜ l·(L Bk zₜ) ≤ Lₜ, with gz (T, n) = L Bk z; None if HiGHS fails.
    Rows are divided by their limit (by 1 when it is 0)."""
    T = d.T
    cap = np.flatnonzero(np.isfinite(d.K0))
    blocks, his = [], []
    for t in range(T):
        M = np.zeros((cap.size, T + 1))
        M[:, 0] = xhat[t][cap]
        M[:, 1 + t] = gz[t][cap]
        for s in range(t):
            M[:, 1 + s] -= d.keep ** (t - 1 - s) * z[s][cap]
        blocks.append(M)
        his.append(d.keep ** t * d.K0[cap])
        if np.isfinite(d.labour[t]):
            row = np.zeros((1, T + 1))
            row[0, 0] = float(d.l @ xhat[t])
            row[0, 1 + t] = float(d.l @ gz[t])
            blocks.append(row)
            his.append(np.array([d.labour[t]]))
    hi = np.concatenate(his)
    div = np.where(hi > 0, hi, 1.0)
    M = sp.csr_matrix(np.concatenate(blocks) / div[:, None])
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addVars(T + 1, np.zeros(T + 1), np.concatenate([[INF], np.ones(T)]))
    h.changeColCost(0, 1.0)
    h.addRows(M.shape[0], np.full(M.shape[0], -INF), hi / div, M.nnz,
              M.indptr[:-1].astype(np.int32), M.indices.astype(np.int32), M.data)
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return None
    alpha: np.ndarray = np.clip(np.asarray(h.getSolution().col_value)[1:], 0.0, 1.0)
    return alpha


def _purgeable(d: DynamicLp, x: np.ndarray, z: np.ndarray, r: np.ndarray,
               rows_of: list[np.ndarray], use: np.ndarray, grow: float) -> list[np.ndarray]:
    """Per year, the master's capacity rows that are far from binding: of years before the
    last (the dense ones), with a dual r (T, n) below PURGE_DUAL of the largest and the
    plan x (T, n), grown by `grow` (the upper bound over the master's λ, ≥ 1: a master that
    lacks columns stops short, and its rows would bind nearer the optimum), at least
    PURGE_SLACK of the row's use at λ = U (`use`) below the limit."""
    K = d.capacity(z)
    rmax = max(float(r.max(initial=0.0)), 1e-300)
    out = []
    for t in range(d.T):
        js = rows_of[t]
        if t == d.T - 1 or not js.size:
            out.append(js[:0])
            continue
        scale = np.maximum(np.minimum(np.maximum(K[t][js], 1.0), use[t][js]), 1e-300)
        slack = (K[t][js] - max(grow, 1.0) * x[t][js]) / scale
        out.append(js[(r[t][js] < PURGE_DUAL * rmax) & (slack > PURGE_SLACK)])
    return out


def _violated(d: DynamicLp, x: np.ndarray, z: np.ndarray, capped: np.ndarray,
              have: list[np.ndarray], batch: int, use: np.ndarray) -> list[np.ndarray]:
    """Per year, the capacity rows not in the master that the plan x exceeds by more than
    FEAS_TOL of the row's use at λ = U, `use` (T, n), or of its limit if smaller (for years
    before the last, whose rows have dense parts, the `batch` worst)."""
    K = d.capacity(z)
    out = []
    for t in range(d.T):
        # relative to the row's use at λ = U: an excess costs λ about that share
        scale = np.maximum(np.minimum(np.maximum(K[t], 1.0), use[t]), 1e-300)
        excess = np.zeros(d.n)
        excess[capped] = (x[t][capped] - K[t][capped]) / scale[capped]
        excess[have[t]] = 0.0
        over = np.flatnonzero(excess > FEAS_TOL)
        if t < d.T - 1 and over.size > batch:
            over = over[np.argsort(-excess[over])[:batch]]
        out.append(np.sort(over))
    return out


def round_time_limit(run_time: float, seconds: float) -> float:
    """HiGHS's `time_limit` for a round (s): its limit bounds the instance's run clock,
    which accumulates over all the rounds' solves, so it is the clock used so far
    (`run_time`, s) plus the round's own `seconds` (at least 1 s)."""
    return run_time + max(float(seconds), 1.0)


class _Master:
    """The restricted LP in HiGHS, grown in place (rows and columns are only added, so each
    re-solve starts from the last basis). Column 0 is λ (in the labour rows); then, in the
    order they enter, investments z_{s,j} and copies λ_b of λ, each in the capacity rows of
    its block and in its row λ − λ_b ≤ 0; rows: labour of each year (finite ones), then
    capacity rows (t, i) and λ's rows in the order they enter."""

    def __init__(self, d: DynamicLp, xhat: np.ndarray, v: np.ndarray, U: float,
                 rows: _Rows, tol: float) -> None:
        self.d, self.xhat, self.G, self.U, self.tol = d, xhat, rows, U, tol
        self.BkTv = np.asarray(d.Bk.T @ v)
        # the unit of investment z_{s,j} in the master: about product j's output or
        # capacity, so that a scaled entry is the share of its row the investment takes
        zs = np.maximum(U * xhat.max(axis=0), np.where(np.isfinite(d.K0), d.K0, 0.0))
        self.zscale = np.where(zs > 0, zs, 1.0)
        T = d.T
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")
        # keep the small entries of G's rows: HiGHS drops |a| <= 1e-9 by default, which
        # summed over thousands of investments overloaded a row by ~1e-6 of its use
        h.setOptionValue("small_matrix_value", DROP)
        self.vertex = MASTER_SOLVER == "simplex"
        self.loose = not self.vertex and tol < ROUND_TOL   # ROUND_TOL until tighten()
        self.rows_left = False   # the loop stopped (time) with rows possibly overloaded
        if not self.vertex:
            h.setOptionValue("solver", MASTER_SOLVER)
            h.setOptionValue("run_crossover", "off")
            h.setOptionValue("ipm_optimality_tolerance", ROUND_TOL)
            if MASTER_SOLVER == "hipo":   # the normal equations, dense rows and all
                h.setOptionValue("hipo_system", "normaleq")
        for opt in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
            h.setOptionValue(opt, float(tol))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addCol(1.0, 0.0, float(U), 0, np.zeros(0, np.int32), np.zeros(0))
        self.h = h
        self.labour_row = np.full(T, -1)
        divs: list[float] = []
        nrow = 0
        for t in range(T):
            if np.isfinite(d.labour[t]):   # rows are divided by their limit (duals ~ 1)
                div = float(d.labour[t]) if d.labour[t] > 0 else 1.0
                h.addRow(-INF, float(d.labour[t]) / div, 1, np.array([0], np.int32),
                         np.array([float(v @ d.tt[t]) / div]))
                divs.append(div)
                self.labour_row[t] = nrow
                nrow += 1
        self.nrow, self.ncol = nrow, 1
        self.cscale = [np.ones(1)]   # each column's unit: z_{s,j} in units of zscale[j]
        self.div = np.array(divs)   # each row's divisor: its limit (1 when the limit is 0)
        self.lam_col, self.lam_free = 0, 0   # λ's copy taking new capacity rows, its room
        empty = np.zeros(0, np.int64)
        self.rows_of = [empty] * T   # products with a capacity row in year t (sorted)
        self.row_id = [empty] * T
        self.cols_of = [empty] * T   # products with an investment column in year s (sorted)
        self.col_id = [empty] * T

    def add_cols(self, s: int, js: np.ndarray) -> None:
        """Columns z_{s,j}: labour of year s, dense rows of year s, −(1 − δ)^(t−1−s) in the
        rows (t, j) of later years."""
        if not js.size:
            return
        d, k = self.d, js.size
        r, c, x = [], [], []
        if self.labour_row[s] >= 0:
            r.append(np.full(k, self.labour_row[s]))
            c.append(np.arange(k))
            x.append(self.BkTv[js])
        if self.rows_of[s].size:
            D = _dense_rows(self.G.get(self.rows_of[s])[:, js], self.zscale[js],
                            self.div[self.row_id[s]]).tocoo()
            r.append(self.row_id[s][D.row])
            c.append(D.col)
            x.append(D.data)
        for t in range(s + 1, d.T):
            pos = np.searchsorted(self.rows_of[t], js)
            hit = (pos < self.rows_of[t].size) & (self.rows_of[t][np.minimum(
                pos, max(self.rows_of[t].size - 1, 0))] == js) if self.rows_of[t].size \
                else np.zeros(k, bool)
            r.append(self.row_id[t][pos[hit]])
            c.append(np.flatnonzero(hit))
            x.append(np.full(int(hit.sum()), -(d.keep ** (t - 1 - s))))
        rr = np.concatenate(r) if r else np.zeros(0, np.int64)
        xx = np.concatenate(x) / self.div[rr] if r else np.zeros(0)
        M = _csc([rr], [np.concatenate(c)] if c else [np.zeros(0, np.int64)], [xx],
                 (self.nrow, k)) @ sp.diags(self.zscale[js])
        M = sp.csc_matrix(M)
        M.sort_indices()
        self.h.addCols(k, np.zeros(k), np.zeros(k), np.full(k, INF), M.nnz,
                       M.indptr[:-1].astype(np.int32), M.indices.astype(np.int32),
                       M.data.astype(float))
        self.cols_of[s], self.col_id[s] = _merge(self.cols_of[s], self.col_id[s], js,
                                                 self.ncol + np.arange(k))
        self.ncol += k
        self.cscale.append(self.zscale[js])

    def add_rows(self, new: list[np.ndarray]) -> None:
        for t, is_ in enumerate(new):
            if is_.size:
                self._add_rows(t, is_)

    def _lam_cols(self, k: int) -> np.ndarray:
        """The λ column of each of k new capacity rows (k,): copies λ_b ≥ λ (a row λ − λ_b ≤ 0
        each) of LAM_BLOCK rows at most, so that no column is dense in the normal equations
        (one λ in every row made them a dense m × m matrix: 7e10 flops per HiPO iteration at
        n = 10⁴). At an optimum λ_b = λ may be taken (x̂ ≥ 0): the LP is the same."""
        out = np.empty(k, np.int64)
        done = 0
        while done < k:
            if not self.lam_free:
                self.h.addCol(0.0, 0.0, float(self.U), 0, np.zeros(0, np.int32), np.zeros(0))
                self.h.addRow(-INF, 0.0, 2, np.array([0, self.ncol], np.int32),
                              np.array([1.0, -1.0]))
                self.lam_col, self.lam_free = self.ncol, LAM_BLOCK
                self.ncol += 1
                self.nrow += 1
                self.cscale.append(np.ones(1))
                self.div = np.append(self.div, 1.0)
            take = min(self.lam_free, k - done)
            out[done:done + take] = self.lam_col
            self.lam_free -= take
            done += take
        return out

    def _add_rows(self, t: int, is_: np.ndarray) -> None:
        """Rows (t, i): λ x̂ₜᵢ + G[i, J_t] z_t − Σₛ₍ₛ<ₜ₎ (1 − δ)^(t−1−s) z_{s,i} ≤ (1 − δ)ᵗK₀ᵢ,
        λ through its copies (`_lam_cols`)."""
        d, k = self.d, is_.size
        lam = self._lam_cols(k)
        hi = (d.keep ** t) * d.K0[is_]
        # divided by the row's use at λ = U without investment, so that HiGHS's tolerance
        # costs λ at most about that much (by the limit when that use is negligible)
        use = self.U * self.xhat[t][is_]
        div = np.where(use > 1e-6 * hi, use, np.where(hi > 0, hi, 1.0))
        r, c, x = [np.arange(k)], [lam], [self.xhat[t][is_]]
        if self.cols_of[t].size:
            D = _dense_rows(self.G.get(is_)[:, self.cols_of[t]], self.zscale[self.cols_of[t]],
                            div).tocoo()
            r.append(D.row)
            c.append(self.col_id[t][D.col])
            x.append(D.data)
        for s in range(t):
            cs = self.cols_of[s]
            if not cs.size:
                continue
            pos = np.minimum(np.searchsorted(cs, is_), cs.size - 1)
            hit = cs[pos] == is_
            r.append(np.flatnonzero(hit))
            c.append(self.col_id[s][pos[hit]])
            x.append(np.full(int(hit.sum()), -(d.keep ** (t - 1 - s))))
        rr = np.concatenate(r)
        M = sp.csr_matrix(_csc(c, [rr], [np.concatenate(x) / div[rr]], (self.ncol, k)).T
                          @ sp.diags(np.concatenate(self.cscale)))
        M.sort_indices()
        self.h.addRows(k, np.full(k, -INF), hi / div, M.nnz, M.indptr[:-1].astype(np.int32),
                       M.indices.astype(np.int32), M.data.astype(float))
        self.rows_of[t], self.row_id[t] = _merge(self.rows_of[t], self.row_id[t], is_,
                                                 self.nrow + np.arange(k))
        self.div = np.concatenate([self.div, div])
        self.nrow += k

    def purge(self, rows: list[np.ndarray]) -> None:
        """Delete the capacity rows of products rows[t] in year t (HiGHS keeps the order
        of the other rows; their ids here shift down)."""
        gone = [np.isin(self.rows_of[t], rows[t]) for t in range(self.d.T)]
        drop = np.sort(np.concatenate([self.row_id[t][g] for t, g in enumerate(gone)]))
        if not drop.size:
            return
        self.h.deleteRows(int(drop.size), drop.astype(np.int32))
        keep = np.ones(self.nrow, bool)
        keep[drop] = False
        new = np.cumsum(keep) - 1
        for t, g in enumerate(gone):
            self.rows_of[t], self.row_id[t] = self.rows_of[t][~g], new[self.row_id[t][~g]]
        self.labour_row = np.where(self.labour_row >= 0, new[np.maximum(self.labour_row, 0)],
                                   -1)
        self.div = self.div[keep]
        self.nrow = int(keep.sum())

    def tighten(self) -> None:
        """From the next solve on: the interior point to `tol` (the rows are all in)."""
        self.h.setOptionValue("ipm_optimality_tolerance", self.tol)
        self.loose = False

    def polish(self) -> None:
        """From the next solve on: crossover to a vertex, then the dual simplex (warm)."""
        self.h.setOptionValue("run_crossover", "on")
        self.vertex = True

    def solve(self, seconds: float) -> tuple[float, np.ndarray] | None:
        """(λ, z (T, n)) of the master, None if HiGHS ran out of time or failed (the
        master is always feasible, λ = 0 and z = 0, and bounded by U: any other status is
        the solver's, and the caller keeps what it has certified)."""
        self.h.setOptionValue("time_limit", round_time_limit(self.h.getRunTime(), seconds))
        self.h.run()
        status = self.h.modelStatusToString(self.h.getModelStatus())
        if status != "Optimal":
            if status != "Time limit reached":
                log.warning("a master stopped with HiGHS status %r: keeping the best "
                            "certified plan so far", status)
            return None
        if self.vertex:
            self.h.setOptionValue("solver", "simplex")
        col = np.asarray(self.h.getSolution().col_value)
        z = np.zeros((self.d.T, self.d.n))
        for s in range(self.d.T):
            z[s, self.cols_of[s]] = np.maximum(col[self.col_id[s]], 0.0) * \
                self.zscale[self.cols_of[s]]
        return float(col[0]), z

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """w (T,), r (T, n): gains in λ per hour and per unit of capacity (≥ 0)."""
        dual = np.asarray(self.h.getSolution().row_dual) / self.div
        T = self.d.T
        w = np.array([max(float(dual[self.labour_row[t]]), 0.0) if self.labour_row[t] >= 0
                      else 0.0 for t in range(T)])
        r = np.zeros((T, self.d.n))
        for t in range(T):
            r[t, self.rows_of[t]] = np.maximum(dual[self.row_id[t]], 0.0)
        return w, r


def _csc(r: list[np.ndarray], c: list[np.ndarray], x: list[np.ndarray],
         shape: tuple[int, int]) -> sp.csc_matrix:
    M = sp.csc_matrix((np.concatenate(x), (np.concatenate(r), np.concatenate(c))),
                      shape=shape)
    M.sort_indices()
    return M


def _merge(keys: np.ndarray, ids: np.ndarray, new_keys: np.ndarray, new_ids: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    k = np.concatenate([keys, new_keys])
    i = np.concatenate([ids, new_ids])
    order = np.argsort(k, kind="stable")
    return k[order], i[order]


def _dense_rows(G: np.ndarray, zscale: np.ndarray, div: np.ndarray) -> sp.csr_matrix:
    """G (k, m) as sparse, leaving out entries whose share of their row at an investment of
    zscale (m,) is below DROP of the row's divisor div (k,) (its use at λ = U): a row's
    largest entry is no measure, one product with a large capital need can dwarf entries
    that, summed over thousands of investments, carry ~1e-6 of the row."""
    big = np.abs(G) * zscale[None, :] > DROP * div[:, None]
    return sp.csr_matrix(np.where(big, G, 0.0))


def _plan(lt: Leontief, d: DynamicLp, xhat: np.ndarray, lam: float, z: np.ndarray
          ) -> np.ndarray:
    """x (T, n) = λx̂ₜ + L Bk zₜ, the least gross output for the plan."""
    x = lam * xhat
    for t in range(d.T):
        if z[t].any():
            x[t] += lt.solve(np.asarray(d.Bk @ z[t]))
    return np.maximum(x, 0.0)


def _lower(d: DynamicLp, xhat: np.ndarray, lam: float, z: np.ndarray, x: np.ndarray) -> float:
    """The largest λ' ≤ λ feasible with investments z, from the exact plan x at λ."""
    K = d.capacity(z)
    best = lam
    for t in range(d.T):
        rest = x[t] - lam * xhat[t]          # use of capacity by investment, ≥ 0
        cap = np.isfinite(K[t]) & (xhat[t] > 0)
        if cap.any():
            best = min(best, float(np.min((K[t][cap] - rest[cap]) / xhat[t][cap])))
        if np.isfinite(d.labour[t]):
            need = float(d.l @ xhat[t])
            if need > 0:
                best = min(best, (d.labour[t] - float(d.l @ rest)) / need)
    return max(best, 0.0)


def _reduced_costs(lt: Leontief, d: DynamicLp, v: np.ndarray, w: np.ndarray, r: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Of every investment column z_{s,j} at duals w (T,), r (T, n): Lᵀrₜ (T, n); the cost
    Bkᵀ(wₛv + Lᵀrₛ) and the worth Σᵤ₍ᵤ>ₛ₎ (1 − δ)^(u−1−s) rᵤ, both (T − 1, n), in λ per
    unit of new capacity; the reduced cost is cost − worth."""
    T = d.T
    lr = np.stack([lt.solve(r[t], transpose=True) if r[t].any() else np.zeros(d.n)
                   for t in range(T)])
    cost = np.array([d.Bk.T @ (w[t] * v + lr[t]) for t in range(T - 1)])
    worth = np.array([sum((d.keep ** (u - 1 - t) * r[u] for u in range(t + 1, T)),
                          np.zeros(d.n)) for t in range(T - 1)])
    return lr, cost.reshape(T - 1, d.n), worth.reshape(T - 1, d.n)


def _priced(d: DynamicLp, rc: tuple[np.ndarray, np.ndarray, np.ndarray],
            have: list[np.ndarray], rel: float) -> list[np.ndarray]:
    """Per year s < T − 1, the capped products not in `have[s]` whose investment column has
    a reduced cost below −rel of its cost or worth at the master's duals: the columns that
    would raise λ if they entered (rel: the master's own tolerance; rc: `_reduced_costs`)."""
    _, cost, worth = rc
    red = cost - worth
    bad = np.isfinite(d.K0)[None, :] & (red < -rel * np.maximum(cost, worth))
    return [np.setdiff1d(np.flatnonzero(bad[s]), have[s]) for s in range(d.T - 1)]


def _upper(d: DynamicLp, xhat: np.ndarray, v: np.ndarray, U: float, w: np.ndarray,
           r: np.ndarray, rc: tuple[np.ndarray, np.ndarray, np.ndarray]
           ) -> tuple[np.ndarray, float]:
    """Prices p (T, n) = w v + Lᵀr and the weak-duality bound on λ (module docstring),
    after raising wₜ to make every investment column dual-feasible; rc: `_reduced_costs` at
    (w, r)."""
    T = d.T
    w = w.copy()
    capped = np.isfinite(d.K0)
    BkTv = d.Bk.T @ v
    lr, costs, worths = rc
    for t in range(T - 1):
        cost, later = costs[t], worths[t]
        red = cost - later
        short = capped & (red < 0)
        if np.isfinite(d.labour[t]) and short.any() and np.all(BkTv[short] > 0):
            w[t] += float(np.max(-red[short] / BkTv[short]))   # exact repair
        elif np.any(short & (red < -DUAL_TOL * np.maximum(cost, later))):
            return w[:, None] * v + lr, U
    prices = w[:, None] * v + lr
    fin = np.isfinite(d.labour)
    num = float(np.sum(w[fin] * d.labour[fin]))
    den = float(np.sum(w * (d.tt @ v)))
    for t in range(T):
        on = r[t] > 0
        num += float(np.sum(r[t][on] * d.keep ** t * d.K0[on]))
        den += float(r[t] @ xhat[t])
    return prices, (min(U, num / den) if den > 0 else U)
