"""Cockshott's harmony plan: maximise Σ wᵢ H(sᵢ), sᵢ = (netᵢ − tᵢ)/tᵢ, with
H(s) = s − s²/2 for s < 0 and ln(1 + s) for s ≥ 0 (under-fulfilment hurts more than
over-fulfilment pleases). W. P. Cockshott, "Application of artificial intelligence techniques
to economic planning", Future Computing Systems 2(4), 1990; Cockshott & Cottrell,
*Towards a New Socialism*, 1993, ch. 6.

Our balancing (one technique per product) is by prices: labour costs μ per hour, capacity
of product j κⱼ per unit, resource r ρᵣ per unit; the price of one unit of net output is its
full cost p = (I − A)⁻ᵀ(μl + κ + Rᵀρ) (prices propagate through the inputs, like labour
values); given p every product's best net output is closed form (H′(sᵢ) = pᵢtᵢ/wᵢ). The
prices are the minimiser of the Lagrangian dual, found by L-BFGS-B, and every price vector
gives an upper bound on the best harmony, so each plan comes with a certified gap
(harmony_dual.py). Each price update costs two sparse solves, O(nnz). The plan is repaired
into feasibility and is never worse than the proportional (Kantorovich) plan; if the gap is
still above the target, a projected-gradient polish (harmony_pg.py) may improve it.
For checking, `harmony_lp` solves the same problem as an LP with H replaced by its tangents
(an outer approximation, so its optimum bounds the true optimum from above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cybersyn.errors import InvalidInput
from cybersyn.plan.harmony_dual import DualParams, DualResult, dual_bound, dual_plan
from cybersyn.plan.harmony_objective import S_MAX as S_MAX
from cybersyn.plan.harmony_objective import H as H
from cybersyn.plan.harmony_objective import best_response as best_response
from cybersyn.plan.harmony_objective import dH as dH
from cybersyn.plan.harmony_objective import harmony_value as harmony_value
from cybersyn.plan.harmony_pg import PgParams, pg_polish
from cybersyn.plan.kantorovich import kantorovich_plan
from cybersyn.plan.lp import solve_lp
from cybersyn.plan.problem import Binding, PlanProblem, PlanResult


@dataclass(frozen=True)
class HarmonyParams:
    """rounds: most price updates (L-BFGS-B iterations on the dual, each about 1.2
    evaluations of two sparse solves); gap: stop when the certified gap (bound − value) ≤
    gap · max(|bound|, Σwᵢ/1000) (see harmony_dual.DualParams); memory: L-BFGS corrections kept;
    solve_tol: relative residual of the Leontief solves; s_max: largest over-fulfilment
    considered (sᵢ ≤ s_max); polish: largest number of projected-gradient steps on the gross
    outputs when the gap is still above `gap` (0: none; see harmony_pg); tangents: points
    sₖ where H is linearised for the LP."""

    rounds: int = 400
    gap: float = 1e-4
    memory: int = 20
    solve_tol: float = 1e-10
    s_max: float = S_MAX
    polish: int = 300
    tangents: tuple[float, ...] = (*np.linspace(-0.99, 0.6, 60).tolist(),
                                   *np.linspace(0.65, S_MAX, 40).tolist())

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ValueError("Expected rounds >= 1.")
        _ = self.dual  # DualParams validates gap, memory and solve_tol
        if not self.s_max > 0:
            raise ValueError("Expected s_max > 0.")
        if self.polish < 0:
            raise ValueError("Expected polish >= 0.")
        if len(self.tangents) < 2 or min(self.tangents) <= -1:
            raise ValueError("Expected at least two tangent points, all > -1.")

    @property
    def dual(self) -> DualParams:
        """The dual method's parameters (rounds = its iterations)."""
        return DualParams(self.rounds, self.gap, self.memory, self.solve_tol)


def harmony_plan(problem: PlanProblem, params: HarmonyParams | None = None, *,
                 method: str = "auto") -> PlanResult:
    """Solve the harmony plan. method: "auto"/"iterative" (ours: dual prices, needs one
    technique per product) or "lp" (the tangent LP through HiGHS, any technology). With
    "iterative", `gap` is the certified gap (bound − value)/|bound| and
    `harmony_certificate(result)` recomputes the bound from the result's prices."""
    params = params or HarmonyParams()
    if not np.any(problem.targets > 0):
        raise InvalidInput("every target is zero: give at least one positive target")
    problem.check_productive()
    if method == "lp" or (method == "auto" and not problem.square):
        return harmony_lp(problem, params)
    if method not in ("auto", "iterative"):
        raise InvalidInput(f"method must be 'auto', 'iterative' or 'lp', got {method!r}")
    if not problem.square:
        raise InvalidInput("the harmony iteration needs one technique per product; use 'lp'")
    return _balance(problem, params)


def _balance(p: PlanProblem, params: HarmonyParams) -> PlanResult:
    assert p.capacity is not None and p.resources is not None and p.resource_limits is not None
    if not np.isfinite(p.labour_available) and not np.isfinite(p.capacity).any() \
            and not np.isfinite(p.resource_limits).any():
        raise InvalidInput("the plan is unbounded: nothing limits production (give a labour "
                           "limit, capacities or scarce resources)")
    prop = kantorovich_plan(p)
    dual = dual_plan(p, prop.x, params.s_max, params.dual)
    x, value = dual.x, dual.value
    assert p.weights is not None
    floor = 1e-3 * float(p.weights.sum())
    note = (f"dual prices: {dual.iterations} updates, {dual.evaluations} evaluations; "
            f"bound {dual.bound:.10g}")
    if params.polish and dual.gap(floor) > params.gap \
            and not np.isfinite(p.resource_limits).any() and prop.lam > 0:
        xp, steps = pg_polish(p, x, prop.x / prop.lam, params.s_max, PgParams(params.polish))
        gain = harmony_value(p, p.net_output(xp), params.s_max) - value
        if gain > 0:
            x, value = xp, value + gain
            note += f"; projected gradient {steps} steps, +{gain:.4g}"
    gap = (dual.bound - value) / max(abs(dual.bound), 1e-300)
    return _result(p, x, dual, f"{note}; certified gap {gap:.3g}", gap)


def _result(p: PlanProblem, x: np.ndarray, dual: DualResult, note: str,
            gap: float) -> PlanResult:
    """The plan x (m,) with the prices of the lowest dual bound (μ, κ, ρ: objective units
    per hour / per unit of capacity / per unit of resource)."""
    net = p.net_output(x)
    t = p.targets
    lam = float((net[t > 0] / t[t > 0]).min())
    mu, kappa, rho = dual.labour_price, dual.capacity_prices, dual.resource_prices
    return PlanResult(p, x, net, "harmony", harmony_value(p, net), lam, dual.prices, mu,
                      kappa, rho, _harmony_binding(p, x, mu, kappa, rho),
                      f"harmony balancing ({note})", gap=gap)


def _harmony_binding(p: PlanProblem, x: np.ndarray, mu: float, pi: np.ndarray,
                     rho: np.ndarray) -> tuple[Binding, ...]:
    assert p.capacity is not None and p.resource_limits is not None
    out: list[Binding] = []
    if mu > 0:
        out.append(Binding("labour", "labour", float(p.labour_available), mu))
    for j in np.flatnonzero(pi > 0)[np.argsort(-pi[pi > 0])][:50]:
        out.append(Binding("capacity", p.activity_names[j], float(p.capacity[j]),
                           float(pi[j]), p.product_names[j]))
    for r in np.flatnonzero(rho > 0):
        out.append(Binding("resource", p.resource_names[r], float(p.resource_limits[r]),
                           float(rho[r])))
    return tuple(out)


def harmony_lp(problem: PlanProblem, params: HarmonyParams | None = None, *,
               solver: str = "choose") -> PlanResult:
    """The tangent-LP version of the harmony plan (HiGHS). `gap` holds the relative
    distance between the LP bound and the true harmony of the LP's own plan."""
    params = params or HarmonyParams()
    p = problem
    assert p.capacity is not None and p.resources is not None and p.resource_limits is not None
    M, lo, hi, c, col_lo, col_hi, rows = _tangent_lp(p, np.array(params.tangents), params.s_max)
    sol = solve_lp(c, M, lo, hi, col_lo, col_hi, solver=solver, what="the harmony plan")
    m = p.m
    x = np.maximum(sol.x[:m], 0.0)
    net = p.net_output(x)
    value = harmony_value(p, net, params.s_max)
    bound = sol.objective
    labour_price = float(sol.row_dual[rows["labour"]]) if rows["labour"] >= 0 else 0.0
    cap_prices = np.where(np.isfinite(p.capacity), np.maximum(sol.col_dual[:m], 0.0), 0.0)
    prices = np.maximum(sol.row_dual[: p.n], 0.0)
    k0 = rows["resources"]
    res_prices = sol.row_dual[k0:k0 + p.resources.shape[0]]
    binding = [Binding("labour", "labour", float(p.labour_available), labour_price)] \
        if labour_price > 1e-12 else []
    binding += [Binding("capacity", p.activity_names[j], float(p.capacity[j]),
                        float(cap_prices[j])) for j in np.flatnonzero(cap_prices > 1e-12)]
    lam = float((net[p.targets > 0] / p.targets[p.targets > 0]).min())
    return PlanResult(p, x, net, "harmony", value, lam, prices, labour_price, cap_prices,
                      np.asarray(res_prices), tuple(binding), f"tangent LP ({sol.status})",
                      gap=(bound - value) / max(abs(bound), 1e-300))


def harmony_certificate(result: PlanResult, s_max: float = S_MAX) -> float:
    """An upper bound on the best harmony of result.problem from the result's own prices
    (p, μ, ρ), by the Lagrangian dual (harmony_dual.dual_bound): O(nnz), valid for any
    prices, tight when they are the optimal ones."""
    return dual_bound(result.problem, result.prices, result.labour_price,
                      result.resource_prices, s_max)


def harmony_upper_bound(problem: PlanProblem, params: HarmonyParams | None = None) -> float:
    """The tangent LP's optimum, an upper bound on the best harmony (for measuring gaps)."""
    params = params or HarmonyParams()
    M, lo, hi, c, col_lo, col_hi, _ = _tangent_lp(problem, np.array(params.tangents), params.s_max)
    return solve_lp(c, M, lo, hi, col_lo, col_hi, what="the harmony plan").objective


LpParts = tuple[sp.csc_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                dict[str, int]]


def _tangent_lp(p: PlanProblem, s_k: np.ndarray, s_max: float) -> LpParts:
    """Columns [x (m), y (n), h (n_on)]; rows: y − (B − A)x = 0 (n), labour, resources,
    tangents h_i − H′(s_k) y_i / t_i ≤ H(s_k) − H′(s_k)(1 + s_k) for each k."""
    assert p.resources is not None and p.resource_limits is not None and p.capacity is not None
    n, m = p.n, p.m
    on = np.flatnonzero(p.targets > 0)
    z = len(on)
    blocks = [[-p.net_matrix(), sp.identity(n), None]]
    lo, hi = [np.zeros(n)], [np.zeros(n)]
    rows = {"labour": -1, "resources": n}
    if np.isfinite(p.labour_available):
        blocks.append([sp.csr_matrix(p.labour.reshape(1, -1)), None, None])
        lo.append(np.array([-np.inf]))
        hi.append(np.array([p.labour_available]))
        rows["labour"], rows["resources"] = n, n + 1
    k = p.resources.shape[0]
    if k:
        blocks.append([p.resources, None, None])
        lo.append(np.full(k, -np.inf))
        hi.append(p.resource_limits)
    slopes = dH(s_k)
    for sk, dk in zip(s_k, slopes, strict=True):
        Y = sp.csr_matrix((-dk / p.targets[on], (np.arange(z), on)), shape=(z, n))
        blocks.append([None, Y, sp.identity(z)])
        lo.append(np.full(z, -np.inf))
        hi.append(np.full(z, float(H(sk)) - dk * (1.0 + sk)))
    blocks[0][2] = sp.csr_matrix((n, z))
    M = sp.bmat(blocks, format="csc")
    assert p.weights is not None
    c = np.concatenate([np.zeros(m + n), p.weights[on]])
    col_lo = np.concatenate([np.zeros(m + n), np.full(z, -np.inf)])
    col_hi = np.concatenate([p.capacity, np.full(n, np.inf), np.full(z, float(H(np.array(s_max))))])
    return M, np.concatenate(lo), np.concatenate(hi), c, col_lo, col_hi, rows
